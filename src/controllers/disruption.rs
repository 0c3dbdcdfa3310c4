//! The disruption controller (`pkg/controller/disruption`) and the eviction
//! API (`pods/eviction`, `pkg/registry/core/pod/storage/eviction.go`).
//!
//! The controller keeps each PodDisruptionBudget's status: `expectedPods`
//! (the scale of the pods' controllers; the number of pods for an integer
//! `minAvailable`), `desiredHealthy`, `currentHealthy` (Ready and not being
//! deleted) and `disruptionsAllowed = max(0, currentHealthy − desiredHealthy)`.
//! An eviction checks the budget that covers the pod and takes one disruption
//! from it in the same write as the pod's graceful deletion, so two evictions
//! in a row cannot both spend the last allowed disruption; the controller then
//! recomputes the status from the pods. Only evictions honour budgets: the
//! node-lifecycle controller's taint evictions and plain deletes do not, as
//! upstream.

use super::workqueue::WorkQueue;
use super::ControllerId;
use crate::api::policy::{PdbStatus, PodDisruptionBudget};
use crate::api::workload::IntOrPercent;
use crate::api::{
    ApiError, ApiServer, Change, Deployment, Kind, ObjKey, Pod, PodPhase, ReplicaSet,
};
use crate::metrics::EventType;
use crate::sim::time::SimDuration;
use crate::sim::Ctx;

pub const COMPONENT: &str = "disruption-controller";

/// The eviction API's answer when a budget allows no more disruptions (HTTP 429).
pub const VIOLATES_BUDGET: &str =
    "Cannot evict pod as it would violate the pod's disruption budget.";

/// Why an eviction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvictionError {
    /// 404: no such pod.
    #[error("pods {0:?} not found")]
    NotFound(String),
    /// 429 TooManyRequests: retry later; the cause says which budget.
    #[error("{VIOLATES_BUDGET}")]
    TooManyRequests { cause: String },
    /// 500: more than one budget covers the pod.
    #[error("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")]
    MultipleBudgets,
}

/// The budgets in the pod's namespace whose selector matches it.
pub fn budgets_for<'a>(api: &'a ApiServer, pod: &Pod) -> Vec<&'a PodDisruptionBudget> {
    api.list::<PodDisruptionBudget>()
        .filter(|b| {
            b.meta.namespace == pod.meta.namespace
                && !b.selector.is_empty()
                && b.selector.matches(&pod.meta.labels)
        })
        .collect()
}

/// `POST pods/NAME/eviction`: delete the pod gracefully if its budget allows.
/// A finished, pending or already terminating pod is deleted without a check,
/// as upstream (`canIgnorePDB`); a pod that is not Ready may go while the
/// budget is met (`unhealthyPodEvictionPolicy: IfHealthyBudget`) without
/// spending a disruption.
pub fn evict(api: &mut ApiServer, key: &ObjKey) -> Result<(), EvictionError> {
    let Some(pod) = api.get::<Pod>(key) else {
        return Err(EvictionError::NotFound(key.name.clone()));
    };
    if pod.is_terminating() {
        return Ok(());
    }
    let ignore = pod.status.phase.is_terminal() || pod.status.phase == PodPhase::Pending;
    let budgets: Vec<(ObjKey, PdbStatus, String)> = budgets_for(api, pod)
        .into_iter()
        .map(|b| (b.meta.key(), b.status.clone(), b.meta.name.clone()))
        .collect();
    let ready = pod.status.ready;
    if !ignore {
        match budgets.as_slice() {
            [] => {}
            [_, _, ..] => return Err(EvictionError::MultipleBudgets),
            [(bkey, st, name)] => {
                if !st.observed {
                    return Err(EvictionError::TooManyRequests {
                        cause: format!(
                            "The disruption budget {name} is still being processed by the server."
                        ),
                    });
                }
                let unhealthy_ok =
                    !ready && st.current_healthy >= st.desired_healthy && st.desired_healthy > 0;
                if !unhealthy_ok {
                    if st.disruptions_allowed <= 0 {
                        return Err(EvictionError::TooManyRequests {
                            cause: format!(
                                "The disruption budget {name} needs {} healthy pods and has {} currently",
                                st.desired_healthy, st.current_healthy
                            ),
                        });
                    }
                    let _ = api.update_status::<PodDisruptionBudget>(bkey, |b| {
                        b.status.disruptions_allowed -= 1
                    });
                }
            }
        }
    }
    api.delete::<Pod>(key)
        .map_err(|e: ApiError| EvictionError::NotFound(e.to_string()))
}

/// The status a budget should have given the pods and controllers now.
pub fn compute_status(api: &ApiServer, b: &PodDisruptionBudget) -> Result<PdbStatus, String> {
    let pods: Vec<&Pod> = api
        .list::<Pod>()
        .filter(|p| p.meta.namespace == b.meta.namespace && b.selector.matches(&p.meta.labels))
        .collect();
    let current_healthy = pods
        .iter()
        .filter(|p| !p.is_terminating() && p.status.ready)
        .count() as i32;
    let (expected, desired) = match (b.min_available, b.max_unavailable) {
        (Some(IntOrPercent::Int(n)), _) => (pods.len() as i32, n),
        (Some(pct @ IntOrPercent::Percent(_)), _) => {
            let e = expected_scale(api, &pods)?;
            (e, pct.scaled(e, true))
        }
        (None, Some(mu)) => {
            let e = expected_scale(api, &pods)?;
            (e, (e - mu.scaled(e, true)).max(0))
        }
        (None, None) => (pods.len() as i32, 0),
    };
    Ok(PdbStatus {
        current_healthy,
        desired_healthy: desired,
        disruptions_allowed: (current_healthy - desired).max(0),
        expected_pods: expected,
        observed: true,
    })
}

/// `getExpectedScale`: the sum of the scales of the pods' controllers, each
/// counted once (a ReplicaSet of a Deployment counts as the Deployment).
fn expected_scale(api: &ApiServer, pods: &[&Pod]) -> Result<i32, String> {
    let mut seen = std::collections::BTreeMap::new();
    for p in pods {
        let Some(o) = p.meta.controller_ref() else {
            return Err(format!("found no controllers for pod {:?}", p.meta.name));
        };
        let ns = &p.meta.namespace;
        let scale = match o.kind {
            Kind::ReplicaSet => {
                let rs = api
                    .get::<ReplicaSet>(&ObjKey::new(ns.clone(), o.name.clone()))
                    .ok_or_else(|| format!("found no controllers for pod {:?}", p.meta.name))?;
                match rs.meta.controller_ref() {
                    Some(d) if d.kind == Kind::Deployment => {
                        let dk = ObjKey::new(ns.clone(), d.name.clone());
                        let dep = api.get::<Deployment>(&dk).ok_or_else(|| {
                            format!("found no controllers for pod {:?}", p.meta.name)
                        })?;
                        ((Kind::Deployment, dk), dep.replicas)
                    }
                    _ => ((Kind::ReplicaSet, rs.meta.key()), rs.replicas),
                }
            }
            Kind::Job => {
                let k = ObjKey::new(ns.clone(), o.name.clone());
                let par = api
                    .get::<crate::api::Job>(&k)
                    .map(|j| j.parallelism)
                    .unwrap_or(0);
                ((Kind::Job, k), par)
            }
            _ => return Err(format!("found no controllers for pod {:?}", p.meta.name)),
        };
        seen.insert(scale.0, scale.1);
    }
    Ok(seen.values().sum())
}

/// Keeps budgets' status current.
pub struct DisruptionController {
    queue: WorkQueue,
}

impl DisruptionController {
    pub fn new(sync_delay: SimDuration) -> Self {
        DisruptionController {
            queue: WorkQueue::new(ControllerId::Disruption, sync_delay),
        }
    }

    /// A budget changed, or a pod (any pod in a namespace that has budgets; a
    /// deleted pod no longer has labels to match), or a Deployment / ReplicaSet
    /// whose scale counts.
    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        if change.kind == Kind::PodDisruptionBudget {
            if change.op != crate::api::Op::Deleted {
                self.queue.add(ctx, change.key.clone());
            }
            return;
        }
        let ns = &change.key.namespace;
        let keys: Vec<ObjKey> = ctx
            .api
            .list::<PodDisruptionBudget>()
            .filter(|b| &b.meta.namespace == ns)
            .map(|b| b.meta.key())
            .collect();
        for k in keys {
            self.queue.add(ctx, k);
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if !self.queue.take(key, ctx.now) {
            return;
        }
        let Some(b) = ctx.api.get::<PodDisruptionBudget>(key) else {
            return;
        };
        let status = match compute_status(ctx.api, b) {
            Ok(s) => s,
            Err(m) => {
                // upstream's fail-safe: no disruptions while the scale is unknown
                let st = PdbStatus {
                    observed: true,
                    ..b.status.clone()
                };
                let st = PdbStatus {
                    disruptions_allowed: 0,
                    ..st
                };
                if st != b.status {
                    ctx.event(
                        COMPONENT,
                        EventType::Warning,
                        "NoControllers",
                        crate::api::meta::object_ref(Kind::PodDisruptionBudget, key),
                        m,
                    );
                    let _ = ctx
                        .api
                        .update_status::<PodDisruptionBudget>(key, |b| b.status = st);
                }
                return;
            }
        };
        if status != b.status {
            let _ = ctx
                .api
                .update_status::<PodDisruptionBudget>(key, |b| b.status = status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::meta::ObjectMeta;
    use crate::api::selector::LabelSelector;

    fn pdb(min: Option<IntOrPercent>, max: Option<IntOrPercent>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            meta: ObjectMeta::new("default", "b"),
            selector: LabelSelector::from_labels([("app".to_string(), "web".to_string())].into()),
            min_available: min,
            max_unavailable: max,
            status: PdbStatus::default(),
        }
    }

    fn pod(name: &str, ready: bool) -> Pod {
        let mut meta = ObjectMeta::new("default", name);
        meta.labels.insert("app".into(), "web".into());
        Pod {
            meta,
            spec: Default::default(),
            node_name: Some("n".into()),
            status: crate::api::pod::PodStatus {
                phase: PodPhase::Running,
                ready,
                ..Default::default()
            },
        }
    }

    fn api_with(pods: &[(&str, bool)], b: PodDisruptionBudget) -> ApiServer {
        let mut api = ApiServer::new();
        for (n, r) in pods {
            api.create(pod(n, *r)).unwrap();
        }
        api.create(b).unwrap();
        api
    }

    #[test]
    fn integer_min_available_counts_the_pods() {
        let api = api_with(
            &[("a", true), ("b", true), ("c", false)],
            pdb(Some(IntOrPercent::Int(2)), None),
        );
        let b = api.list::<PodDisruptionBudget>().next().unwrap();
        let s = compute_status(&api, b).unwrap();
        assert_eq!(
            (
                s.expected_pods,
                s.desired_healthy,
                s.current_healthy,
                s.disruptions_allowed
            ),
            (3, 2, 2, 0)
        );
    }

    #[test]
    fn percentages_need_a_controller() {
        let api = api_with(&[("a", true)], pdb(None, Some(IntOrPercent::Percent(50))));
        let b = api.list::<PodDisruptionBudget>().next().unwrap();
        assert!(compute_status(&api, b)
            .unwrap_err()
            .contains("found no controllers"));
    }

    #[test]
    fn eviction_spends_one_disruption_then_is_refused() {
        let mut b = pdb(Some(IntOrPercent::Int(1)), None);
        b.status = PdbStatus {
            current_healthy: 2,
            desired_healthy: 1,
            disruptions_allowed: 1,
            expected_pods: 2,
            observed: true,
        };
        let mut api = api_with(&[("a", true), ("b", true)], b);
        evict(&mut api, &ObjKey::new("default", "a")).unwrap();
        let err = evict(&mut api, &ObjKey::new("default", "b")).unwrap_err();
        assert_eq!(err.to_string(), VIOLATES_BUDGET);
        assert_eq!(
            err,
            EvictionError::TooManyRequests {
                cause: "The disruption budget b needs 1 healthy pods and has 2 currently".into()
            }
        );
    }

    #[test]
    fn an_unprocessed_budget_refuses_evictions() {
        let mut api = api_with(&[("a", true)], pdb(Some(IntOrPercent::Int(0)), None));
        let err = evict(&mut api, &ObjKey::new("default", "a")).unwrap_err();
        assert!(
            matches!(err, EvictionError::TooManyRequests { ref cause } if cause.contains("still being processed"))
        );
    }
}
