//! The ReplicaSet controller: keeps `replicas` active pods stamped from the template.

use super::workqueue::WorkQueue;
use super::{generate_name, ControllerId};
use crate::api::meta::object_ref;
use crate::api::pod::PodPhase;
use crate::api::{Change, Kind, ObjKey, ObjectMeta, OwnerReference, Pod, ReplicaSet};
use crate::metrics::EventType;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::Ctx;
use std::cmp::Ordering;
use std::collections::BTreeMap;

pub const COMPONENT: &str = "replicaset-controller";
/// Most pods created or deleted in one sync (`BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;

pub struct ReplicaSetController {
    rng: SimRng,
    queue: WorkQueue,
}

impl ReplicaSetController {
    pub fn new(seed: u64, sync_delay: SimDuration) -> Self {
        ReplicaSetController {
            rng: rng::stream(seed, COMPONENT),
            queue: WorkQueue::new(ControllerId::ReplicaSet, sync_delay),
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::ReplicaSet => self.queue.add(ctx, change.key.clone()),
            Kind::Pod => {
                if let Some((Kind::ReplicaSet, owner)) = &change.owner {
                    self.queue.add(
                        ctx,
                        ObjKey::new(change.key.namespace.clone(), owner.clone()),
                    );
                }
            }
            _ => {}
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.queue.take(key, ctx.now) {
            self.sync(ctx, key);
        }
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        let Some(rs) = ctx.api.get::<ReplicaSet>(key) else {
            return;
        };
        if rs.meta.deletion_timestamp.is_some() {
            return;
        }
        let rs = rs.clone();
        let now = ctx.now;
        let pods: Vec<Pod> = ctx
            .api
            .dependents_of(rs.meta.uid, Kind::Pod)
            .filter_map(|k| ctx.api.get::<Pod>(k))
            .filter(|p| {
                p.meta
                    .controller_ref()
                    .is_some_and(|o| o.uid == rs.meta.uid)
            })
            .filter(|p| p.is_active())
            .cloned()
            .collect();
        let object = object_ref(Kind::ReplicaSet, key);
        let diff = pods.len() as i64 - rs.replicas as i64;
        if diff != 0 {
            let ready = pods.iter().filter(|p| p.status.ready).count();
            let n = (diff.unsigned_abs() as usize).min(BURST_REPLICAS);
            let (verb, why) = if diff < 0 {
                ("create", "fewer active pods than replicas")
            } else {
                ("delete", "more active pods than replicas; the least valuable go first (unassigned, pending, not ready, newest)")
            };
            ctx.decision(
                COMPONENT,
                "Reconcile",
                object.clone(),
                (
                    format!("{} active pods ({ready} ready)", pods.len()),
                    format!("{} replicas", rs.replicas),
                    format!("{verb} {n} pods"),
                ),
                format!(
                    "{verb} {n} pods because there are {why} (at most {BURST_REPLICAS} per sync)"
                ),
            );
        }
        if diff < 0 {
            let n = ((-diff) as usize).min(BURST_REPLICAS);
            for _ in 0..n {
                let pod = self.new_pod(ctx, &rs);
                let name = pod.meta.name.clone();
                match ctx.api.create(pod) {
                    Ok(_) => ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "SuccessfulCreate",
                        object.clone(),
                        format!("Created pod: {name}"),
                    ),
                    Err(e) => {
                        ctx.event(
                            COMPONENT,
                            EventType::Warning,
                            "FailedCreate",
                            object.clone(),
                            format!("Error creating: {e}"),
                        );
                        break;
                    }
                }
            }
        } else if diff > 0 {
            let n = (diff as usize).min(BURST_REPLICAS);
            let mut victims: Vec<&Pod> = pods.iter().collect();
            rank_for_deletion(&mut victims, now);
            for p in victims.into_iter().take(n) {
                let pk = p.meta.key();
                if ctx.api.delete::<Pod>(&pk).is_ok() {
                    ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "SuccessfulDelete",
                        object.clone(),
                        format!("Deleted pod: {}", pk.name),
                    );
                }
            }
        }

        // Status, from what was observed at the start of this sync.
        let ready = pods.iter().filter(|p| p.status.ready).count() as i32;
        let available = pods
            .iter()
            .filter(|p| p.is_available(rs.min_ready, now))
            .count() as i32;
        let status = crate::api::workload::ReplicaSetStatus {
            replicas: pods.len() as i32,
            ready_replicas: ready,
            available_replicas: available,
            observed_generation: rs.meta.generation,
        };
        if status != rs.status {
            let _ = ctx
                .api
                .update_status::<ReplicaSet>(key, |r| r.status = status);
        }
        // Pods that are ready but not yet available for minReadySeconds: look again then.
        let next = pods
            .iter()
            .filter(|p| p.status.ready && !p.is_available(rs.min_ready, now))
            .filter_map(|p| p.status.ready_since.map(|t| t + rs.min_ready))
            .min();
        if let Some(t) = next {
            self.queue.add_after(ctx, key.clone(), t.since(now));
        }
    }

    fn new_pod(&mut self, ctx: &Ctx, rs: &ReplicaSet) -> Pod {
        let mut name = generate_name(&format!("{}-", rs.meta.name), &mut self.rng);
        while ctx
            .api
            .get::<Pod>(&ObjKey::new(rs.meta.namespace.clone(), name.clone()))
            .is_some()
        {
            name = generate_name(&format!("{}-", rs.meta.name), &mut self.rng);
        }
        let mut meta = ObjectMeta::new(&rs.meta.namespace, &name);
        meta.labels = rs.template.labels.clone();
        meta.annotations = rs.template.annotations.clone();
        meta.owner_references.push(OwnerReference {
            kind: Kind::ReplicaSet,
            name: rs.meta.name.clone(),
            uid: rs.meta.uid,
            controller: true,
        });
        Pod {
            meta,
            spec: rs.template.spec.clone(),
            node_name: None,
            status: Default::default(),
        }
    }
}

fn phase_rank(p: PodPhase) -> u8 {
    match p {
        PodPhase::Pending => 0,
        PodPhase::Unknown => 1,
        PodPhase::Running => 2,
        _ => 3,
    }
}

const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// Sort `pods` so the ones to delete first come first (`ActivePodsWithRanks`):
/// unassigned before assigned; Pending < Unknown < Running; not ready before ready;
/// lower pod-deletion-cost; more pods of this set on the same node; more recently
/// ready; more restarts; newer. Ties by name, so the order is total.
pub fn rank_for_deletion(pods: &mut [&Pod], _now: SimTime) {
    let mut per_node: BTreeMap<&str, usize> = BTreeMap::new();
    for p in pods.iter() {
        if let Some(n) = p.node_name.as_deref() {
            *per_node.entry(n).or_default() += 1;
        }
    }
    let colocated = |p: &Pod| p.node_name.as_deref().map(|n| per_node[n]).unwrap_or(0);
    let cost = |p: &Pod| -> i64 {
        p.meta
            .annotations
            .get(DELETION_COST)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    pods.sort_by(|a, b| {
        let by = |o: Ordering| o;
        by(a.node_name.is_some().cmp(&b.node_name.is_some()))
            .then(phase_rank(a.status.phase).cmp(&phase_rank(b.status.phase)))
            .then(a.status.ready.cmp(&b.status.ready))
            .then(cost(a).cmp(&cost(b)))
            .then(colocated(b).cmp(&colocated(a)))
            .then(match (a.status.ready_since, b.status.ready_since) {
                (Some(x), Some(y)) if a.status.ready && b.status.ready => y.cmp(&x),
                _ => Ordering::Equal,
            })
            .then(b.status.restart_count.cmp(&a.status.restart_count))
            .then(b.meta.creation_timestamp.cmp(&a.meta.creation_timestamp))
            .then(a.meta.name.cmp(&b.meta.name))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::{PodSpec, PodStatus};
    use std::sync::Arc;

    fn pod(name: &str, node: Option<&str>, phase: PodPhase, ready: bool, created: u64) -> Pod {
        let mut meta = ObjectMeta::new("default", name);
        meta.creation_timestamp = SimTime::from_millis(created);
        Pod {
            meta,
            spec: Arc::new(PodSpec::default()),
            node_name: node.map(str::to_string),
            status: PodStatus {
                phase,
                ready,
                ready_since: ready.then_some(SimTime::from_millis(created)),
                ..Default::default()
            },
        }
    }

    #[test]
    fn scale_down_prefers_unassigned_pending_unready_newest() {
        let a = pod("running-old", Some("n1"), PodPhase::Running, true, 0);
        let b = pod("running-new", Some("n2"), PodPhase::Running, true, 10);
        let c = pod("pending-bound", Some("n3"), PodPhase::Pending, false, 0);
        let d = pod("unassigned", None, PodPhase::Pending, false, 0);
        let e = pod("running-unready", Some("n4"), PodPhase::Running, false, 0);
        let mut v = vec![&a, &b, &c, &d, &e];
        rank_for_deletion(&mut v, SimTime::ZERO);
        let names: Vec<&str> = v.iter().map(|p| p.meta.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "unassigned",
                "pending-bound",
                "running-unready",
                "running-new",
                "running-old"
            ]
        );
    }

    #[test]
    fn scale_down_prefers_crowded_nodes() {
        let a = pod("alone", Some("n1"), PodPhase::Running, true, 0);
        let b = pod("crowd-1", Some("n2"), PodPhase::Running, true, 0);
        let c = pod("crowd-2", Some("n2"), PodPhase::Running, true, 0);
        let mut v = vec![&a, &b, &c];
        rank_for_deletion(&mut v, SimTime::ZERO);
        assert_eq!(v[2].meta.name, "alone");
    }
}
