//! The scheduling framework: filter and score plugins grouped in a profile, as in
//! kube-scheduler. A plugin sees a read-only view of one pod and one node and
//! never touches the store, so a policy is just a list of plugins and weights.

use crate::api::pod::PodRequests;
use crate::api::selector::Labels;
use crate::api::taint::{Taint, Toleration};
use crate::api::Pod;

/// Highest score a plugin may give a node (`framework.MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;

/// The scheduler's cached view of a node: what is allocatable and what is already requested.
#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    pub name: String,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable_cpu: i64,
    pub allocatable_memory: i64,
    pub allocatable_pods: i64,
    /// Sum of the real requests of pods assigned here.
    pub requested_cpu: i64,
    pub requested_memory: i64,
    /// Sum with non-zero defaulting (for scoring).
    pub nonzero_cpu: i64,
    pub nonzero_memory: i64,
    pub pod_count: i64,
    /// Allocatable and requested amounts of other resources (extended resources, ...).
    pub allocatable_other: std::collections::BTreeMap<String, i64>,
    pub requested_other: std::collections::BTreeMap<String, i64>,
    /// False once the Node object is gone (indices stay stable).
    pub present: bool,
}

impl NodeInfo {
    pub fn add_pod(&mut self, r: &PodRequests) {
        self.requested_cpu += r.cpu_millis;
        self.requested_memory += r.memory;
        self.nonzero_cpu += r.nonzero_cpu_millis;
        self.nonzero_memory += r.nonzero_memory;
        self.pod_count += 1;
        for (k, v) in &r.other {
            *self.requested_other.entry(k.clone()).or_default() += v;
        }
    }
    pub fn remove_pod(&mut self, r: &PodRequests) {
        self.requested_cpu -= r.cpu_millis;
        self.requested_memory -= r.memory;
        self.nonzero_cpu -= r.nonzero_cpu_millis;
        self.nonzero_memory -= r.nonzero_memory;
        self.pod_count -= 1;
        for (k, v) in &r.other {
            *self.requested_other.entry(k.clone()).or_default() -= v;
        }
    }
}

/// What the plugins need to know about the pod being scheduled.
#[derive(Debug, Clone)]
pub struct PodInfo<'a> {
    pub pod: &'a Pod,
    pub requests: PodRequests,
    pub node_selector: &'a Labels,
    pub tolerations: &'a [Toleration],
}

impl<'a> PodInfo<'a> {
    pub fn new(pod: &'a Pod) -> Self {
        PodInfo {
            pod,
            requests: pod.spec.requests(),
            node_selector: &pod.spec.node_selector,
            tolerations: &pod.spec.tolerations,
        }
    }
}

/// A Filter plugin: can this node run the pod? `Err` carries the reasons, worded
/// as kube-scheduler words them, because they end up in FailedScheduling events.
pub trait FilterPlugin: Send + Sync {
    fn name(&self) -> &'static str;
    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>>;
}

/// A Score plugin: how much does this node suit the pod, in [0, 100] after normalization.
pub trait ScorePlugin: Send + Sync {
    fn name(&self) -> &'static str;
    /// Whether the plugin scores this pod at all (PreScore's `Skip`).
    fn applies(&self, _pod: &PodInfo) -> bool {
        true
    }
    fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64;
    /// NormalizeScore over all feasible nodes; the default leaves raw scores as they are.
    fn normalize(&self, _scores: &mut [i64]) {}
}

/// `DefaultNormalizeScore`: scale to [0, max]; `reverse` makes high raw scores low.
pub fn default_normalize(max: i64, reverse: bool, scores: &mut [i64]) {
    let max_count = scores.iter().copied().max().unwrap_or(0);
    if max_count == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max);
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut v = max * *s / max_count;
        if reverse {
            v = max - v;
        }
        *s = v;
    }
}

/// A named set of plugins with score weights (a KubeSchedulerConfiguration profile).
pub struct Profile {
    pub name: String,
    pub filters: Vec<Box<dyn FilterPlugin>>,
    pub scores: Vec<(Box<dyn ScorePlugin>, i64)>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field(
                "filters",
                &self.filters.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .field(
                "scores",
                &self
                    .scores
                    .iter()
                    .map(|(p, w)| (p.name(), *w))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_normalize_matches_upstream() {
        let mut s = vec![10, 5, 0];
        default_normalize(100, false, &mut s);
        assert_eq!(s, vec![100, 50, 0]);
        let mut s = vec![2, 1, 0];
        default_normalize(100, true, &mut s);
        assert_eq!(s, vec![0, 50, 100]);
        let mut s = vec![0, 0];
        default_normalize(100, true, &mut s);
        assert_eq!(s, vec![100, 100]);
        let mut s = vec![0, 0];
        default_normalize(100, false, &mut s);
        assert_eq!(s, vec![0, 0]);
    }
}
