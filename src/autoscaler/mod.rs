//! Autoscaling beside the controllers: the metrics pipeline (metrics server and
//! the pods' declared resource use) that the HorizontalPodAutoscaler reads,
//! and the Cluster Autoscaler that adds and removes nodes.

pub mod cluster;
pub mod metrics;
pub mod vpa;

use crate::api::ObjKey;
use crate::sim::time::SimDuration;

/// Timers of the autoscaling components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoscaleEvent {
    /// The metrics server scrapes every kubelet.
    Scrape,
    /// The HPA controller's periodic sync of one HorizontalPodAutoscaler.
    Hpa(ObjKey),
    /// The Cluster Autoscaler's scan (every `scanInterval`).
    Scan,
    /// Node group `group`'s new nodes (by name) have booted and register.
    Join(usize, Vec<String>),
    /// The VPA updater's loop (every minute).
    VpaUpdate,
}

/// `--horizontal-pod-autoscaler-*` flags of kube-controller-manager and the
/// metrics server's resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `--horizontal-pod-autoscaler-sync-period` (15 s).
    pub hpa_sync_period: SimDuration,
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub hpa_tolerance: f64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5 min).
    pub hpa_downscale_stabilization: SimDuration,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min).
    pub hpa_cpu_initialization_period: SimDuration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
    pub hpa_initial_readiness_delay: SimDuration,
    /// metrics-server `--metric-resolution`: how often it scrapes (60 s here, as asked;
    /// upstream metrics-server defaults to 15 s).
    pub scrape_interval: SimDuration,
    /// What the pods use (`usage:`).
    pub usage: Vec<metrics::UsageModel>,
    /// The Cluster Autoscaler (`cluster.autoscaler`), if any.
    pub cluster_autoscaler: Option<cluster::CaSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hpa_sync_period: SimDuration::from_secs(15),
            hpa_tolerance: 0.1,
            hpa_downscale_stabilization: SimDuration::from_secs(300),
            hpa_cpu_initialization_period: SimDuration::from_secs(300),
            hpa_initial_readiness_delay: SimDuration::from_secs(30),
            scrape_interval: SimDuration::from_secs(60),
            usage: Vec::new(),
            cluster_autoscaler: None,
        }
    }
}

/// One registration of a node: its group, when it registered and when it went.
type Span = (
    Option<String>,
    crate::sim::time::SimTime,
    Option<crate::sim::time::SimTime>,
);

/// When each node registered and went away: node-hours and, through the node
/// group's price, cost.
#[derive(Debug, Clone, Default)]
pub struct NodeClock {
    /// node → its registrations: (node group, registered at, deleted at)
    spans: std::collections::BTreeMap<String, Vec<Span>>,
}

impl NodeClock {
    pub fn observe(
        &mut self,
        api: &crate::api::ApiServer,
        c: &crate::api::Change,
        now: crate::sim::time::SimTime,
    ) {
        let spans = self.spans.entry(c.key.name.clone()).or_default();
        match c.op {
            crate::api::Op::Added => {
                let group = api
                    .get::<crate::api::Node>(&c.key)
                    .and_then(|n| n.meta.labels.get(cluster::GROUP_LABEL).cloned());
                spans.push((group, now, None));
            }
            crate::api::Op::Deleted => {
                if let Some(last) = spans.last_mut().filter(|s| s.2.is_none()) {
                    last.2 = Some(now);
                }
            }
            crate::api::Op::Modified => {}
        }
    }

    /// Node-hours per node group (`""` for nodes outside groups) up to `end`.
    pub fn hours(&self, end: crate::sim::time::SimTime) -> std::collections::BTreeMap<String, f64> {
        let mut out = std::collections::BTreeMap::new();
        for spans in self.spans.values() {
            for (g, from, to) in spans {
                let to = to.unwrap_or(end).max(*from);
                *out.entry(g.clone().unwrap_or_default()).or_default() +=
                    to.since(*from).as_secs_f64() / 3600.0;
            }
        }
        out
    }
}
