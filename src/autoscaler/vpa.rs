//! The Vertical Pod Autoscaler (kubernetes/autoscaler `vertical-pod-autoscaler`):
//! a recommender that turns observed usage into per-container request
//! recommendations, an updater that evicts pods whose requests are far from
//! them (`updateMode: Auto` / `Recreate`), and an admission step that gives new
//! pods the recommended requests.
//!
//! Approximation (documented in the README): upstream keeps decaying
//! histograms (CPU: usage samples, half-life 24 h; memory: the peak of each
//! 24 h window). kubesim keeps every metrics-server sample of the target's pods
//! without decay and takes nearest-rank percentiles of them: target = p90,
//! lower bound = p50, upper bound = p95, each × (1 + 15% safety margin) and at
//! least 25m CPU / 250Mi memory (the recommender's pod minimums), split over a
//! pod's containers in proportion to their requests.

use crate::api::autoscaling::{ContainerRecommendation, UpdateMode, VerticalPodAutoscaler};
use crate::api::{ApiServer, Deployment, Kind, ObjKey, Pod, PodSpec, ReplicaSet};
use crate::autoscaler::metrics::MetricsServer;
use crate::metrics::EventType;
use crate::sim::Ctx;
use std::collections::BTreeMap;

pub const COMPONENT: &str = "vpa-recommender";
pub const UPDATER: &str = "vpa-updater";
/// `--recommendation-margin-fraction`.
pub const SAFETY_MARGIN: f64 = 0.15;
/// `--pod-recommendation-min-cpu-millicores`, `--pod-recommendation-min-memory-mb`.
pub const MIN_CPU_MILLIS: i64 = 25;
pub const MIN_MEMORY: i64 = 250 * 1024 * 1024;
/// The updater's `--eviction-tolerance` and `--min-replicas`.
pub const EVICTION_TOLERANCE: f64 = 0.5;
pub const MIN_REPLICAS: usize = 2;
/// The updater's `--updater-interval`.
pub const UPDATER_INTERVAL: crate::sim::time::SimDuration =
    crate::sim::time::SimDuration::from_secs(60);

/// Nearest-rank percentile of sorted `v` (`p` in 0..=1).
pub fn percentile(v: &[i64], p: f64) -> i64 {
    if v.is_empty() {
        return 0;
    }
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// (lower, target, upper) from usage samples of one resource, per pod.
pub fn bounds(samples: &mut [i64], min: i64) -> (i64, i64, i64) {
    samples.sort_unstable();
    let f =
        |p: f64| ((percentile(samples, p) as f64 * (1.0 + SAFETY_MARGIN)).ceil() as i64).max(min);
    (f(0.5), f(0.9), f(0.95))
}

/// The pods a VPA's target controls.
fn target_pods<'a>(api: &'a ApiServer, v: &VerticalPodAutoscaler) -> Vec<&'a Pod> {
    let sel = match v.target_kind {
        Kind::Deployment => api
            .get::<Deployment>(&ObjKey::new(
                v.meta.namespace.clone(),
                v.target_name.clone(),
            ))
            .map(|d| d.selector.clone()),
        _ => api
            .get::<ReplicaSet>(&ObjKey::new(
                v.meta.namespace.clone(),
                v.target_name.clone(),
            ))
            .map(|r| r.selector.clone()),
    };
    let Some(sel) = sel else { return Vec::new() };
    api.list::<Pod>()
        .filter(|p| p.meta.namespace == v.meta.namespace && sel.matches(&p.meta.labels))
        .collect()
}

/// Split a pod-level amount over containers in proportion to their requests.
fn split(spec: &PodSpec, total: i64, cpu: bool) -> Vec<(String, i64)> {
    let reqs: Vec<i64> = spec
        .containers
        .iter()
        .map(|c| {
            if cpu {
                c.requests.cpu()
            } else {
                c.requests.mem()
            }
        })
        .collect();
    let sum: i64 = reqs.iter().sum();
    let n = spec.containers.len().max(1) as i64;
    spec.containers
        .iter()
        .zip(reqs)
        .map(|(c, r)| {
            let share = if sum > 0 {
                (total as i128 * r as i128 / sum as i128) as i64
            } else {
                total / n
            };
            (c.name.clone(), share)
        })
        .collect()
}

#[derive(Debug, Default)]
pub struct Vpa {
    /// Per VPA: (cpu millis, memory bytes) samples of its pods.
    samples: BTreeMap<ObjKey, (Vec<i64>, Vec<i64>)>,
    /// Pods evicted by the updater, for the summary.
    pub evictions: u64,
    /// Whether the updater's loop runs (it starts with the first VPA).
    pub running: bool,
}

impl Vpa {
    /// After a scrape: record samples and refresh every VPA's recommendation.
    pub fn recommend(&mut self, ctx: &mut Ctx, metrics: &MetricsServer) {
        let vpas: Vec<VerticalPodAutoscaler> =
            ctx.api.list::<VerticalPodAutoscaler>().cloned().collect();
        for v in vpas {
            let key = v.meta.key();
            let pods = target_pods(ctx.api, &v);
            let Some(template) = pods.first().map(|p| p.spec.clone()) else {
                continue;
            };
            let s = self.samples.entry(key.clone()).or_default();
            for p in &pods {
                if let Some(m) = metrics.pod(&p.meta.key()) {
                    s.0.push(m.cpu_millis);
                    s.1.push(m.memory);
                }
            }
            if s.0.is_empty() {
                continue;
            }
            let (cl, ct, cu) = bounds(&mut s.0.clone(), MIN_CPU_MILLIS);
            let (ml, mt, mu) = bounds(&mut s.1.clone(), MIN_MEMORY);
            let mut recs = Vec::new();
            let parts = |x: i64, cpu: bool| split(&template, x, cpu);
            let (cl, ct, cu) = (parts(cl, true), parts(ct, true), parts(cu, true));
            let (ml, mt, mu) = (parts(ml, false), parts(mt, false), parts(mu, false));
            for i in 0..template.containers.len() {
                recs.push(ContainerRecommendation {
                    container: cl[i].0.clone(),
                    lower: (cl[i].1, ml[i].1),
                    target: (ct[i].1, mt[i].1),
                    upper: (cu[i].1, mu[i].1),
                });
            }
            if recs != v.recommendations {
                let first = recs.first().cloned();
                let _ = ctx
                    .api
                    .update_status::<VerticalPodAutoscaler>(&key, |o| o.recommendations = recs);
                if let Some(r) = first {
                    ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "RecommendationUpdated",
                        crate::api::meta::object_ref(Kind::VerticalPodAutoscaler, &key),
                        format!(
                            "container {}: target cpu {}m memory {}, bounds [{}m, {}m] / [{}, {}] from {} samples",
                            r.container, r.target.0, r.target.1, r.lower.0, r.upper.0, r.lower.1, r.upper.1, s.0.len()
                        ),
                    );
                }
            }
        }
    }

    /// The updater's loop: evict pods whose requests are outside the bounds.
    pub fn update(&mut self, ctx: &mut Ctx) {
        let vpas: Vec<VerticalPodAutoscaler> =
            ctx.api.list::<VerticalPodAutoscaler>().cloned().collect();
        for v in vpas {
            if !matches!(v.update_mode, UpdateMode::Auto | UpdateMode::Recreate)
                || v.recommendations.is_empty()
            {
                continue;
            }
            let live: Vec<(ObjKey, bool)> = target_pods(ctx.api, &v)
                .into_iter()
                .filter(|p| p.is_active())
                .map(|p| {
                    let outside = p.spec.containers.iter().any(|c| {
                        v.recommendations
                            .iter()
                            .find(|r| r.container == c.name)
                            .is_some_and(|r| {
                                let (cpu, mem) = (c.requests.cpu(), c.requests.mem());
                                cpu < r.lower.0
                                    || cpu > r.upper.0
                                    || mem < r.lower.1
                                    || mem > r.upper.1
                            })
                    });
                    (p.meta.key(), outside)
                })
                .collect();
            if live.len() < MIN_REPLICAS {
                continue;
            }
            let budget = ((live.len() as f64 * EVICTION_TOLERANCE) as usize).max(1);
            for (k, _) in live.iter().filter(|(_, o)| *o).take(budget) {
                if crate::controllers::disruption::evict(ctx.api, k).is_ok() {
                    self.evictions += 1;
                    ctx.event(
                        UPDATER,
                        EventType::Normal,
                        "EvictedByVPA",
                        crate::api::meta::object_ref(Kind::Pod, k),
                        "Pod was evicted by VPA Updater to apply resource recommendation.".into(),
                    );
                }
            }
        }
    }
}

/// Admission (the VPA admission controller): a new pod whose controller a VPA
/// targets in a mode other than Off gets the recommended requests.
pub fn admit(pod: &mut Pod, api_store: &crate::api::store::Store) {
    if api_store.vertical_pod_autoscalers.is_empty() {
        return;
    }
    let Some(o) = pod.meta.controller_ref() else {
        return;
    };
    if o.kind != Kind::ReplicaSet {
        return;
    }
    let ns = pod.meta.namespace.clone();
    let Some(rs) = api_store
        .replicasets
        .get(&ObjKey::new(ns.clone(), o.name.clone()))
    else {
        return;
    };
    let (kind, name) = match rs.meta.controller_ref() {
        Some(d) if d.kind == Kind::Deployment => (Kind::Deployment, d.name.clone()),
        _ => (Kind::ReplicaSet, rs.meta.name.clone()),
    };
    let Some(v) = api_store.vertical_pod_autoscalers.values().find(|v| {
        v.meta.namespace == ns
            && v.target_kind == kind
            && v.target_name == name
            && v.update_mode != UpdateMode::Off
    }) else {
        return;
    };
    if v.recommendations.is_empty() {
        return;
    }
    let spec = std::sync::Arc::make_mut(&mut pod.spec);
    for c in &mut spec.containers {
        if let Some(r) = v.recommendations.iter().find(|r| r.container == c.name) {
            c.requests.cpu_millis = Some(r.target.0);
            c.requests.memory = Some(r.target.1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_margin_follow_the_documented_rule() {
        // 10 samples 100m..1000m: p50 = 500, p90 = 900, p95 = 1000 (nearest rank)
        let mut v: Vec<i64> = (1..=10).map(|i| i * 100).collect();
        assert_eq!(bounds(&mut v, 25), (575, 1035, 1150));
        // small usage is lifted to the minimum
        assert_eq!(bounds(&mut [5, 5], 25), (25, 25, 25));
    }
}
