//! The Deployment controller: owns one ReplicaSet per pod template and moves
//! replicas from old to new with the upstream rolling-update arithmetic
//! (pkg/controller/deployment/rolling.go, util/deployment_util.go).

use super::workqueue::WorkQueue;
use super::ControllerId;
use crate::api::meta::object_ref;
use crate::api::pod::PodTemplate;
use crate::api::workload::{DeploymentStatus, DeploymentStrategy};
use crate::api::{Change, Deployment, Kind, ObjKey, ObjectMeta, OwnerReference, Pod, ReplicaSet};
use crate::metrics::EventType;
use crate::sim::time::SimDuration;
use crate::sim::Ctx;
use std::hash::{Hash, Hasher};

pub const COMPONENT: &str = "deployment-controller";
/// The label that ties a ReplicaSet and its pods to one template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The revision annotation on ReplicaSets and Deployments.
pub const REVISION: &str = "deployment.kubernetes.io/revision";

pub struct DeploymentController {
    queue: WorkQueue,
    /// What this sync observed and wants, for the decision records of its actions.
    narrative: (String, String),
    /// Whether this sync created or scaled a ReplicaSet (progress).
    acted: bool,
}

/// FNV-1a as a `Hasher`, with integers written little-endian and `usize` as 64 bits,
/// so a template hashes the same on every platform.
struct StableHasher(u64);

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u16(&mut self, i: u16) {
        self.write(&i.to_le_bytes())
    }
    fn write_u32(&mut self, i: u32) {
        self.write(&i.to_le_bytes())
    }
    fn write_u64(&mut self, i: u64) {
        self.write(&i.to_le_bytes())
    }
    fn write_u128(&mut self, i: u128) {
        self.write(&i.to_le_bytes())
    }
    fn write_usize(&mut self, i: usize) {
        self.write(&(i as u64).to_le_bytes())
    }
}

/// `ComputeHash` in upstream's shape: a 32-bit hash of the template, its decimal
/// digits mapped through the `SafeEncodeString` alphabet.
pub fn template_hash(t: &PodTemplate) -> String {
    let mut h = StableHasher(0xcbf2_9ce4_8422_2325);
    t.hash(&mut h);
    let v = (h.finish() ^ (h.finish() >> 32)) as u32;
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    v.to_string()
        .bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// Whether `rs` was stamped from `t` (upstream's `EqualIgnoreHash`).
fn same_template(rs: &ReplicaSet, t: &PodTemplate) -> bool {
    let mut labels = rs.template.labels.clone();
    labels.remove(POD_TEMPLATE_HASH);
    labels == t.labels && rs.template.spec == t.spec && rs.template.annotations == t.annotations
}

pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.meta
        .annotations
        .get(REVISION)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Observed and desired state of a Deployment, in words, for the trace.
fn narrate(d: &Deployment, new: Option<&ReplicaSet>, old: &[ReplicaSet]) -> (String, String) {
    let (old_pods, old_avail): (i32, i32) = old.iter().fold((0, 0), |(a, b), r| {
        (a + r.replicas, b + r.status.available_replicas)
    });
    let observed = match new {
        Some(n) => format!(
            "new ReplicaSet {} has {} replicas ({} available); old ReplicaSets have {old_pods} ({old_avail} available)",
            n.meta.name, n.replicas, n.status.available_replicas
        ),
        None => format!("no ReplicaSet for the current template; old ReplicaSets have {old_pods} replicas ({old_avail} available)"),
    };
    let desired = match d.strategy {
        DeploymentStrategy::Recreate => format!("{} replicas of the current template, old pods gone first (Recreate)", d.replicas),
        DeploymentStrategy::RollingUpdate { .. } => format!(
            "{} replicas of the current template; at most {} pods (maxSurge {}), at least {} available (maxUnavailable {})",
            d.replicas,
            d.replicas + d.max_surge(),
            d.max_surge(),
            d.replicas - d.max_unavailable(),
            d.max_unavailable()
        ),
    };
    (observed, desired)
}

impl DeploymentController {
    pub fn new(sync_delay: SimDuration) -> Self {
        DeploymentController {
            queue: WorkQueue::new(ControllerId::Deployment, sync_delay),
            narrative: Default::default(),
            acted: false,
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::Deployment => self.queue.add(ctx, change.key.clone()),
            Kind::ReplicaSet => {
                if let Some((Kind::Deployment, owner)) = &change.owner {
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

    fn owned_sets(ctx: &Ctx, d: &Deployment) -> Vec<ReplicaSet> {
        let mut v: Vec<ReplicaSet> = ctx
            .api
            .dependents_of(d.meta.uid, Kind::ReplicaSet)
            .filter_map(|k| ctx.api.get::<ReplicaSet>(k))
            .filter(|rs| {
                rs.meta
                    .controller_ref()
                    .is_some_and(|o| o.uid == d.meta.uid)
            })
            .cloned()
            .collect();
        // oldest first, as upstream's ReplicaSetsByCreationTimestamp
        v.sort_by(|a, b| {
            a.meta
                .creation_timestamp
                .cmp(&b.meta.creation_timestamp)
                .then(a.meta.name.cmp(&b.meta.name))
        });
        v
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        let Some(d) = ctx.api.get::<Deployment>(key) else {
            return;
        };
        if d.meta.deletion_timestamp.is_some() {
            return;
        }
        let d = d.clone();
        let sets = Self::owned_sets(ctx, &d);
        let (new, old): (Vec<ReplicaSet>, Vec<ReplicaSet>) = sets
            .into_iter()
            .partition(|rs| same_template(rs, &d.template));
        let mut new = new.into_iter().next();
        let mut old = old;
        self.acted = false;
        // getAllReplicaSetsAndSyncRevision: the new ReplicaSet carries the highest
        // revision (a rollback gives the old template's ReplicaSet a new one)
        if let Some(n) = new.as_mut() {
            let max_old = old.iter().map(revision).max().unwrap_or(0);
            if revision(n) <= max_old {
                let rev = (max_old + 1).to_string();
                if ctx
                    .api
                    .update_status::<ReplicaSet>(&n.meta.key(), |r| {
                        r.meta.annotations.insert(REVISION.into(), rev.clone());
                    })
                    .is_ok()
                {
                    n.meta.annotations.insert(REVISION.into(), rev);
                }
            }
        }
        self.narrative = narrate(&d, new.as_ref(), &old);

        if d.paused {
            // upstream `sync`: a paused Deployment still scales (its only active
            // ReplicaSet) and cleans up its history, but does not roll out
            let mut active: Vec<&mut ReplicaSet> = new
                .iter_mut()
                .chain(old.iter_mut())
                .filter(|r| r.replicas > 0)
                .collect();
            match active.len() {
                0 => {
                    if let Some(n) = new.as_mut() {
                        self.scale(ctx, &d, n, d.replicas);
                    }
                }
                1 => {
                    let rs = active.pop().expect("one");
                    self.scale(ctx, &d, rs, d.replicas);
                }
                _ => {} // simplified: no proportional scaling of several active sets
            }
            self.cleanup(ctx, &d, &old);
            self.update_status(ctx, &d, new.as_ref(), &old);
            return;
        }

        match d.strategy {
            DeploymentStrategy::Recreate => {
                for rs in old.iter_mut().filter(|rs| rs.replicas > 0) {
                    self.scale(ctx, &d, rs, 0);
                }
                let old_pods_left = old.iter().any(|rs| {
                    ctx.api
                        .dependents_of(rs.meta.uid, Kind::Pod)
                        .any(|k| ctx.api.get::<Pod>(k).is_some())
                });
                let target = if old_pods_left { 0 } else { d.replicas };
                match new.as_mut() {
                    None => new = self.create_new_set(ctx, &d, &old, target),
                    Some(rs) if !old_pods_left && rs.replicas != d.replicas => {
                        self.scale(ctx, &d, rs, d.replicas)
                    }
                    Some(_) => {}
                }
            }
            DeploymentStrategy::RollingUpdate { .. } => {
                // NewRSNewReplicas
                // Old sets count with the pods they still have until their
                // ReplicaSet controller has caught up with a scale-down (upstream
                // counts spec only and can briefly exceed maxSurge in pods).
                let all_spec: i32 = old
                    .iter()
                    .map(|r| r.replicas.max(r.status.replicas))
                    .sum::<i32>()
                    + new.as_ref().map_or(0, |r| r.replicas);
                let cur_new = new.as_ref().map_or(0, |r| r.replicas);
                let target_new = if cur_new > d.replicas {
                    d.replicas
                } else if old.iter().all(|r| r.replicas == 0) {
                    // no rollout in progress: follow the desired count directly
                    d.replicas
                } else {
                    let max_total = d.replicas + d.max_surge();
                    if all_spec >= max_total {
                        cur_new
                    } else {
                        cur_new + (max_total - all_spec).min(d.replicas - cur_new)
                    }
                };
                match new.as_mut() {
                    None => new = self.create_new_set(ctx, &d, &old, target_new),
                    Some(rs) if rs.replicas != target_new => self.scale(ctx, &d, rs, target_new),
                    Some(_) => {}
                }
                if let Some(n) = new.as_ref() {
                    self.reconcile_old(ctx, &d, n, &mut old);
                }
            }
        }
        if new.is_some() && old.iter().all(|r| r.replicas == 0) {
            self.cleanup(ctx, &d, &old);
        }
        self.update_status(ctx, &d, new.as_ref(), &old);
    }

    /// cleanupDeployment: delete the oldest old ReplicaSets (by revision) beyond
    /// `revisionHistoryLimit`, only those with no replicas.
    fn cleanup(&mut self, ctx: &mut Ctx, d: &Deployment, old: &[ReplicaSet]) {
        let mut alive: Vec<&ReplicaSet> = old
            .iter()
            .filter(|r| r.meta.deletion_timestamp.is_none())
            .collect();
        let diff = alive.len() as i64 - d.revision_history_limit.max(0) as i64;
        if diff <= 0 {
            return;
        }
        alive.sort_by_key(|r| (revision(r), r.meta.name.clone()));
        for rs in alive.into_iter().take(diff as usize) {
            if rs.status.replicas != 0 || rs.replicas != 0 {
                continue;
            }
            let _ = ctx.api.delete::<ReplicaSet>(&rs.meta.key());
        }
    }

    /// reconcileOldReplicaSets: first remove unhealthy old replicas, then scale old
    /// sets down as far as availability allows (minAvailable = replicas − maxUnavailable).
    fn reconcile_old(
        &mut self,
        ctx: &mut Ctx,
        d: &Deployment,
        new: &ReplicaSet,
        old: &mut [ReplicaSet],
    ) {
        let old_count: i32 = old.iter().map(|r| r.replicas).sum();
        if old_count == 0 {
            return;
        }
        let all_count = old_count + new.replicas;
        let min_available = d.replicas - d.max_unavailable();
        let new_unavailable = new.replicas - new.status.available_replicas;
        let max_scaled_down = all_count - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return;
        }
        // cleanupUnhealthyReplicas
        let mut cleaned = 0;
        for rs in old.iter_mut() {
            if cleaned >= max_scaled_down {
                break;
            }
            let avail = rs.status.available_replicas.min(rs.replicas);
            if rs.replicas == 0 || rs.replicas == avail {
                continue;
            }
            let n = (max_scaled_down - cleaned).min(rs.replicas - avail);
            let to = rs.replicas - n;
            self.scale(ctx, d, rs, to);
            cleaned += n;
        }
        // scaleDownOldReplicaSetsForRollingUpdate
        // an old set just scaled down keeps at most `replicas` of its available
        // pods (its controller deletes unavailable ones first): count no more
        let available: i32 = old
            .iter()
            .map(|r| r.status.available_replicas.min(r.replicas))
            .sum::<i32>()
            + new.status.available_replicas;
        if available <= min_available {
            return;
        }
        let total = available - min_available;
        let mut done = 0;
        for rs in old.iter_mut() {
            if done >= total {
                break;
            }
            if rs.replicas == 0 {
                continue;
            }
            let n = rs.replicas.min(total - done);
            let to = rs.replicas - n;
            self.scale(ctx, d, rs, to);
            done += n;
        }
    }

    fn create_new_set(
        &mut self,
        ctx: &mut Ctx,
        d: &Deployment,
        old: &[ReplicaSet],
        replicas: i32,
    ) -> Option<ReplicaSet> {
        let hash = template_hash(&d.template);
        let name = format!("{}-{}", d.meta.name, hash);
        let mut template = d.template.clone();
        template
            .labels
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = d.selector.clone();
        selector.match_labels.insert(POD_TEMPLATE_HASH.into(), hash);
        let mut meta = ObjectMeta::new(&d.meta.namespace, &name);
        meta.labels = template.labels.clone();
        let rev = old.iter().map(revision).max().unwrap_or(0) + 1;
        meta.annotations.insert(REVISION.into(), rev.to_string());
        meta.owner_references.push(OwnerReference {
            kind: Kind::Deployment,
            name: d.meta.name.clone(),
            uid: d.meta.uid,
            controller: true,
        });
        let rs = ReplicaSet {
            meta,
            replicas,
            selector,
            template,
            min_ready: d.min_ready,
            status: Default::default(),
        };
        let object = object_ref(Kind::Deployment, &d.meta.key());
        match ctx.api.create(rs) {
            Ok(rs) => {
                let rs = rs.clone();
                self.acted = true;
                if replicas > 0 {
                    let (observed, desired) = self.narrative.clone();
                    ctx.decision(
                        COMPONENT,
                        "ScalingReplicaSet",
                        object,
                        (
                            observed,
                            desired,
                            format!("create ReplicaSet {name} with {replicas} replicas"),
                        ),
                        format!("Scaled up replica set {name} from 0 to {replicas}"),
                    );
                }
                Some(rs)
            }
            Err(e) => {
                ctx.event(
                    COMPONENT,
                    EventType::Warning,
                    "FailedCreate",
                    object,
                    format!("Failed to create new replica set {name:?}: {e}"),
                );
                None
            }
        }
    }

    fn scale(&mut self, ctx: &mut Ctx, d: &Deployment, rs: &mut ReplicaSet, to: i32) {
        let from = rs.replicas;
        if from == to {
            return;
        }
        if ctx
            .api
            .update::<ReplicaSet>(&rs.meta.key(), |r| r.replicas = to)
            .is_ok()
        {
            rs.replicas = to;
            self.acted = true;
            let dir = if to > from { "up" } else { "down" };
            let (observed, desired) = self.narrative.clone();
            ctx.decision(
                COMPONENT,
                "ScalingReplicaSet",
                object_ref(Kind::Deployment, &d.meta.key()),
                (
                    observed,
                    desired,
                    format!("scale {} from {from} to {to}", rs.meta.name),
                ),
                format!(
                    "Scaled {dir} replica set {} from {from} to {to}",
                    rs.meta.name
                ),
            );
        }
    }

    fn update_status(
        &mut self,
        ctx: &mut Ctx,
        d: &Deployment,
        new: Option<&ReplicaSet>,
        old: &[ReplicaSet],
    ) {
        let all = old.iter().chain(new);
        let mut s = DeploymentStatus {
            observed_generation: d.meta.generation,
            updated_replicas: new.map_or(0, |r| r.status.replicas),
            ..Default::default()
        };
        for rs in all {
            s.replicas += rs.status.replicas;
            s.ready_replicas += rs.status.ready_replicas;
            s.available_replicas += rs.status.available_replicas;
        }
        // syncRolloutStatus: the Progressing condition and progressDeadlineSeconds
        let now = ctx.now;
        let prev = &d.status;
        let complete = new.is_some()
            && s.updated_replicas == d.replicas
            && s.replicas == d.replicas
            && s.available_replicas == d.replicas;
        let progressed = self.acted
            || s.updated_replicas > prev.updated_replicas
            || s.ready_replicas > prev.ready_replicas
            || s.available_replicas > prev.available_replicas
            || s.replicas - s.updated_replicas < prev.replicas - prev.updated_replicas;
        s.progressing = prev.progressing;
        s.last_progress = prev.last_progress;
        if d.paused {
            // DeploymentPaused: no deadline while paused; resuming restarts the clock
            s.last_progress = None;
        } else if progressed || s.last_progress.is_none() || (complete && !prev.progressing) {
            s.progressing = true;
            s.last_progress = Some(now);
        }
        if !d.paused && !complete {
            if let Some(last) = s.last_progress {
                let deadline = last + d.progress_deadline;
                if now >= deadline {
                    if s.progressing {
                        s.progressing = false;
                        let name = new.map_or_else(|| d.meta.name.clone(), |r| r.meta.name.clone());
                        ctx.event(
                            COMPONENT,
                            EventType::Warning,
                            "ProgressDeadlineExceeded",
                            object_ref(Kind::Deployment, &d.meta.key()),
                            format!("ReplicaSet {name:?} has timed out progressing."),
                        );
                    }
                } else if s.progressing {
                    // requeueStuckDeployment: look again when the deadline passes
                    self.queue.add_after(ctx, d.meta.key(), deadline.since(now));
                }
            }
        }
        if s != d.status {
            let _ = ctx
                .api
                .update_status::<Deployment>(&d.meta.key(), |x| x.status = s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::PodSpec;
    use std::sync::Arc;

    #[test]
    fn template_hash_is_stable_and_template_sensitive() {
        let mut t = PodTemplate::default();
        t.labels.insert("app".into(), "web".into());
        let h1 = template_hash(&t);
        assert_eq!(h1, template_hash(&t.clone()));
        assert!(h1
            .chars()
            .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        let mut t2 = t.clone();
        t2.spec = Arc::new(PodSpec {
            priority: 5,
            ..PodSpec::default()
        });
        assert_ne!(h1, template_hash(&t2));
    }
}
