//! The Deployment controller: owns one ReplicaSet per pod template and moves
//! replicas from old to new with the upstream rolling-update arithmetic
//! (pkg/controller/deployment/rolling.go, util/deployment_util.go).

use super::workqueue::WorkQueue;
use super::ControllerId;
use crate::api::meta::object_ref;
use crate::api::pod::PodTemplate;
use crate::api::workload::{DeploymentStatus, DeploymentStrategy};
use crate::api::{
    ApiServer, Change, Deployment, Kind, ObjKey, ObjectMeta, OwnerReference, Pod, ReplicaSet,
};
use crate::metrics::EventType;
use crate::sim::time::SimDuration;
use crate::sim::Ctx;
use std::hash::{Hash, Hasher};

pub const COMPONENT: &str = "deployment-controller";
/// The label that ties a ReplicaSet and its pods to one template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The revision annotation on ReplicaSets and Deployments.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The Deployment's `spec.replicas` when the ReplicaSet was last scaled by it: a
/// different value now means the Deployment was scaled (`isScalingEvent`).
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// `spec.replicas + maxSurge` at that time: the base of proportional scaling.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

fn int_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.meta.annotations.get(key).and_then(|v| v.parse().ok())
}

/// `SetReplicasAnnotations`: whether anything changed.
fn set_replicas_annotations(meta: &mut ObjectMeta, desired: i32, max: i32) -> bool {
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if meta.annotations.get(k) != Some(&v) {
            meta.annotations.insert(k.to_string(), v);
            changed = true;
        }
    }
    changed
}

/// Oldest first, ties by name (`ReplicaSetsByCreationTimestamp`).
fn older(a: &ReplicaSet, b: &ReplicaSet) -> std::cmp::Ordering {
    a.meta
        .creation_timestamp
        .cmp(&b.meta.creation_timestamp)
        .then(a.meta.name.cmp(&b.meta.name))
}

/// `getReplicaSetFraction`: how many replicas `rs` gains (or loses) when the
/// Deployment's maximum goes from the one annotated on `rs` to the current one,
/// rounded half away from zero as Go's `math.Round`.
fn replica_set_fraction(rs: &ReplicaSet, d: &Deployment) -> i32 {
    if d.replicas == 0 {
        return -rs.replicas;
    }
    let max_now = (d.replicas + d.max_surge()) as i64;
    let before = int_annotation(rs, MAX_REPLICAS).unwrap_or(d.status.replicas) as i64;
    if before <= 0 {
        return 0;
    }
    let num = rs.replicas as i64 * max_now;
    let size = (2 * num + before) / (2 * before);
    (size - rs.replicas as i64) as i32
}

/// `GetProportion`: `rs`'s share of `to_add`, never past what is left to add.
fn proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if rs.replicas == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = replica_set_fraction(rs, d);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// The proportional branch of upstream `scale()` (pkg/controller/deployment/sync.go):
/// the replicas added to (or removed from) a Deployment with several active
/// ReplicaSets are spread in proportion to their sizes, largest first (newer
/// first on ties when scaling up, older first when scaling down), and what
/// rounding leaves over goes to the first. Returns the new sizes in that order.
pub fn proportional_sizes<'a>(
    d: &Deployment,
    active: &[&'a ReplicaSet],
) -> Vec<(&'a ReplicaSet, i32)> {
    let current: i32 = active.iter().map(|r| r.replicas).sum();
    let allowed = if d.replicas > 0 {
        d.replicas + d.max_surge()
    } else {
        0
    };
    let to_add = allowed - current;
    let mut sets: Vec<&ReplicaSet> = active.to_vec();
    match to_add.cmp(&0) {
        std::cmp::Ordering::Greater => {
            sets.sort_by(|a, b| b.replicas.cmp(&a.replicas).then(older(b, a)))
        }
        std::cmp::Ordering::Less => {
            sets.sort_by(|a, b| b.replicas.cmp(&a.replicas).then(older(a, b)))
        }
        std::cmp::Ordering::Equal => {}
    }
    let mut added = 0;
    let mut out: Vec<(&ReplicaSet, i32)> = sets
        .iter()
        .map(|rs| {
            let p = proportion(rs, d, to_add, added);
            added += p;
            (*rs, rs.replicas + p)
        })
        .collect();
    if let Some(first) = out.first_mut() {
        if to_add != 0 {
            first.1 = (first.1 + to_add - added).max(0);
        }
    }
    out
}

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

/// What [`claim_replica_sets`] found and did.
#[derive(Debug, Default)]
pub struct ClaimedSets {
    /// The ReplicaSets the Deployment controls after the claim, oldest first.
    pub sets: Vec<ReplicaSet>,
    pub adopted: Vec<String>,
    pub released: Vec<String>,
}

/// Upstream `ClaimReplicaSets` (ReplicaSetControllerRefManager): keep the
/// Deployment's own ReplicaSets that its selector matches, release the ones it no
/// longer matches, adopt matching ReplicaSets without a controller (not ones
/// being deleted). A Deployment being deleted neither adopts nor releases.
pub fn claim_replica_sets(api: &mut ApiServer, d: &Deployment) -> ClaimedSets {
    let uid = d.meta.uid;
    let deleting = d.meta.deletion_timestamp.is_some();
    let owned: Vec<ObjKey> = api.dependents_of(uid, Kind::ReplicaSet).cloned().collect();
    // sized once: a ReplicaSet is large, and growing the vector moved them all
    let mut out = ClaimedSets {
        sets: Vec::with_capacity(owned.len()),
        ..Default::default()
    };
    for key in owned {
        let Some(rs) = api.get::<ReplicaSet>(&key) else {
            continue;
        };
        if rs.meta.controller_ref().is_none_or(|o| o.uid != uid) {
            continue;
        }
        if d.selector.matches(&rs.meta.labels) {
            out.sets.push(rs.clone());
        } else if !deleting
            && api
                .update_meta(Kind::ReplicaSet, &key, |m| {
                    m.owner_references.retain(|o| o.uid != uid)
                })
                .is_ok()
        {
            out.released.push(key.name);
        }
    }
    if !deleting && !d.selector.is_empty() {
        let orphans: Vec<ObjKey> = api
            .without_controller(Kind::ReplicaSet, &d.meta.namespace)
            .filter(|k| {
                api.get::<ReplicaSet>(k).is_some_and(|r| {
                    r.meta.deletion_timestamp.is_none() && d.selector.matches(&r.meta.labels)
                })
            })
            .cloned()
            .collect();
        for key in orphans {
            let adopt = |m: &mut ObjectMeta| {
                m.owner_references
                    .push(OwnerReference::controller_of(Kind::Deployment, &d.meta))
            };
            if api.update_meta(Kind::ReplicaSet, &key, adopt).is_ok() {
                if let Some(rs) = api.get::<ReplicaSet>(&key) {
                    out.sets.push(rs.clone());
                }
                out.adopted.push(key.name);
            }
        }
    }
    // oldest first, as upstream's ReplicaSetsByCreationTimestamp
    out.sets.sort_by(older);
    out
}

/// The Deployments of `namespace` whose selector matches `labels`, in key order
/// (upstream `getDeploymentsForReplicaSet`, for a ReplicaSet without a controller).
pub fn matching_deployments<'a>(
    api: &'a ApiServer,
    namespace: &'a str,
    labels: &'a crate::api::selector::Labels,
) -> impl Iterator<Item = &'a Deployment> + 'a {
    api.store()
        .deployments
        .range(ObjKey::new(namespace, "")..)
        .take_while(move |(k, _)| k.namespace == namespace)
        .map(|(_, d)| d)
        .filter(move |d| !d.selector.is_empty() && d.selector.matches(labels))
}

/// Upstream `isScalingEvent`: an active ReplicaSet was last scaled for another
/// `spec.replicas` than the Deployment's now (only once the new set exists).
fn is_scaling_event(d: &Deployment, new: Option<&ReplicaSet>, old: &[ReplicaSet]) -> bool {
    let Some(new) = new else {
        return false;
    };
    old.iter()
        .chain(std::iter::once(new))
        .filter(|r| r.replicas > 0)
        .filter_map(|r| int_annotation(r, DESIRED_REPLICAS))
        .any(|v| v != d.replicas)
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
            Kind::ReplicaSet => match &change.owner {
                Some((Kind::Deployment, owner)) => self.queue.add(
                    ctx,
                    ObjKey::new(change.key.namespace.clone(), owner.clone()),
                ),
                // a ReplicaSet without a controller: every Deployment that may adopt it
                None => {
                    let Some(rs) = ctx.api.get::<ReplicaSet>(&change.key) else {
                        return;
                    };
                    let keys: Vec<ObjKey> =
                        matching_deployments(ctx.api, &change.key.namespace, &rs.meta.labels)
                            .map(|d| d.meta.key())
                            .collect();
                    for k in keys {
                        self.queue.add(ctx, k);
                    }
                }
                Some(_) => {}
            },
            // deletePod: a Recreate rollout waits for the last old pod to go,
            // which changes no ReplicaSet status (terminating pods already left it)
            Kind::Pod if change.op == crate::api::Op::Deleted => {
                let Some((Kind::ReplicaSet, rs)) = &change.owner else {
                    return;
                };
                let ns = &change.key.namespace;
                let Some(d) = ctx
                    .api
                    .get::<ReplicaSet>(&ObjKey::new(ns.clone(), rs.clone()))
                    .and_then(|r| r.meta.controller_ref())
                    .filter(|o| o.kind == Kind::Deployment)
                    .map(|o| ObjKey::new(ns.clone(), o.name.clone()))
                else {
                    return;
                };
                let recreate = ctx
                    .api
                    .get::<Deployment>(&d)
                    .is_some_and(|d| d.strategy == DeploymentStrategy::Recreate);
                if recreate {
                    self.queue.add(ctx, d);
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

    /// The Deployment's ReplicaSets after claiming (see [`claim_replica_sets`]),
    /// oldest first.
    fn owned_sets(ctx: &mut Ctx, d: &Deployment) -> Vec<ReplicaSet> {
        let claimed = claim_replica_sets(ctx.api, d);
        if !claimed.adopted.is_empty() || !claimed.released.is_empty() {
            ctx.decision(
                COMPONENT,
                "ClaimReplicaSets",
                object_ref(Kind::Deployment, &d.meta.key()),
                (
                    format!(
                        "ReplicaSets matching selector {} without a controller: {:?}; own ReplicaSets that no longer match: {:?}",
                        d.selector.to_string_k8s(),
                        claimed.adopted,
                        claimed.released
                    ),
                    "the Deployment controls exactly the ReplicaSets its selector matches".into(),
                    format!(
                        "adopt {} ReplicaSets, release {}",
                        claimed.adopted.len(),
                        claimed.released.len()
                    ),
                ),
                format!(
                    "Adopted {} ReplicaSets, released {} ReplicaSets",
                    claimed.adopted.len(),
                    claimed.released.len()
                ),
            );
        }
        claimed.sets
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
            // upstream `sync`: a paused Deployment still scales and cleans up its
            // history, but does not roll out
            self.scale_deployment(ctx, &d, new.as_mut(), &mut old);
            self.cleanup(ctx, &d, &old);
            self.update_status(ctx, &d, new.as_ref(), &old);
            return;
        }
        if is_scaling_event(&d, new.as_ref(), &old) {
            self.scale_deployment(ctx, &d, new.as_mut(), &mut old);
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

    /// Upstream `scale()`: one active ReplicaSet (or none: the newest) takes the
    /// whole count; a saturated new ReplicaSet leaves the old ones at 0; otherwise,
    /// in a rolling update, the change is spread proportionally.
    fn scale_deployment(
        &mut self,
        ctx: &mut Ctx,
        d: &Deployment,
        mut new: Option<&mut ReplicaSet>,
        old: &mut [ReplicaSet],
    ) {
        let active_new = new.as_ref().is_some_and(|r| r.replicas > 0);
        let active_old: Vec<usize> = (0..old.len()).filter(|&i| old[i].replicas > 0).collect();
        match (active_new, active_old.len()) {
            (false, 0) => {
                // FindActiveOrLatest: the new set, else the newest old one
                let latest = match new.as_deref_mut() {
                    Some(n) => Some(n),
                    None => old.iter_mut().max_by(|a, b| older(a, b)),
                };
                if let Some(rs) = latest {
                    self.scale(ctx, d, rs, d.replicas);
                }
                return;
            }
            (true, 0) => {
                let rs = new.expect("active new set");
                self.scale(ctx, d, rs, d.replicas);
                return;
            }
            (false, 1) => {
                self.scale(ctx, d, &mut old[active_old[0]], d.replicas);
                return;
            }
            _ => {}
        }
        if let Some(n) = new.as_deref() {
            let saturated = n.replicas == d.replicas
                && int_annotation(n, DESIRED_REPLICAS) == Some(d.replicas)
                && n.status.available_replicas == d.replicas;
            if saturated {
                for i in active_old {
                    self.scale(ctx, d, &mut old[i], 0);
                }
                return;
            }
        }
        if !matches!(d.strategy, DeploymentStrategy::RollingUpdate { .. }) {
            return;
        }
        let mut active: Vec<&ReplicaSet> = active_old.iter().map(|&i| &old[i]).collect();
        if let Some(n) = new.as_deref().filter(|n| n.replicas > 0) {
            active.push(n);
        }
        let plan: Vec<(ObjKey, i32)> = proportional_sizes(d, &active)
            .into_iter()
            .map(|(rs, to)| (rs.meta.key(), to))
            .collect();
        for (key, to) in plan {
            let rs = match new.as_deref_mut() {
                Some(n) if n.meta.key() == key => n,
                _ => match old.iter_mut().find(|r| r.meta.key() == key) {
                    Some(r) => r,
                    None => continue,
                },
            };
            // scaleReplicaSet: the annotations are brought up to date even when
            // the size stays
            self.scale_rs(ctx, d, rs, to, true);
        }
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
        set_replicas_annotations(&mut meta, d.replicas, d.replicas + d.max_surge());
        meta.owner_references
            .push(OwnerReference::controller_of(Kind::Deployment, &d.meta));
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

    /// `scaleReplicaSetAndRecordEvent`: nothing to do at the same size.
    fn scale(&mut self, ctx: &mut Ctx, d: &Deployment, rs: &mut ReplicaSet, to: i32) {
        self.scale_rs(ctx, d, rs, to, false)
    }

    /// `scaleReplicaSet`: set the size and the replicas annotations; an event
    /// only when the size changes.
    fn scale_rs(
        &mut self,
        ctx: &mut Ctx,
        d: &Deployment,
        rs: &mut ReplicaSet,
        to: i32,
        annotate_same_size: bool,
    ) {
        let from = rs.replicas;
        let (desired, max) = (d.replicas, d.replicas + d.max_surge());
        if from == to {
            let mut meta = rs.meta.clone();
            if annotate_same_size
                && set_replicas_annotations(&mut meta, desired, max)
                && ctx
                    .api
                    .update::<ReplicaSet>(&rs.meta.key(), |r| {
                        set_replicas_annotations(&mut r.meta, desired, max);
                    })
                    .is_ok()
            {
                rs.meta.annotations = meta.annotations;
            }
            return;
        }
        if ctx
            .api
            .update::<ReplicaSet>(&rs.meta.key(), |r| {
                r.replicas = to;
                set_replicas_annotations(&mut r.meta, desired, max);
            })
            .is_ok()
        {
            rs.replicas = to;
            set_replicas_annotations(&mut rs.meta, desired, max);
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
        s.new_rs_available = prev.new_rs_available;
        if d.paused {
            // DeploymentPaused: no deadline while paused; resuming restarts the clock
            s.last_progress = None;
        } else if complete {
            // NewReplicaSetAvailable
            if !prev.new_rs_available || !prev.progressing || s.last_progress.is_none() {
                s.last_progress = Some(now);
            }
            s.progressing = true;
            s.new_rs_available = true;
        } else if progressed || s.last_progress.is_none() {
            // ReplicaSetUpdated
            s.progressing = true;
            s.new_rs_available = false;
            s.last_progress = Some(now);
        }
        if !d.paused && !complete && !s.new_rs_available {
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

    use crate::api::workload::IntOrPercent;
    use crate::sim::time::SimTime;

    /// upstream sync_test.go's `newDeployment`: maxSurge 0, maxUnavailable 0.
    fn deployment(replicas: i32, max_surge: i32) -> Deployment {
        Deployment {
            meta: ObjectMeta::new("default", "foo"),
            replicas,
            selector: Default::default(),
            template: Default::default(),
            strategy: DeploymentStrategy::RollingUpdate {
                max_surge: IntOrPercent::Int(max_surge),
                max_unavailable: IntOrPercent::Int(0),
            },
            min_ready: Default::default(),
            revision_history_limit: 10,
            progress_deadline: Default::default(),
            paused: false,
            status: Default::default(),
        }
    }

    /// A ReplicaSet last scaled by a Deployment of `old_replicas` (the
    /// annotations upstream's TestScale puts on them); older sets were made earlier.
    fn rs(name: &str, replicas: i32, created_h: u64, old: &Deployment) -> ReplicaSet {
        let mut meta = ObjectMeta::new("default", name);
        meta.creation_timestamp = SimTime::from_millis(created_h * 3_600_000);
        set_replicas_annotations(&mut meta, old.replicas, old.replicas + old.max_surge());
        ReplicaSet {
            meta,
            replicas,
            selector: Default::default(),
            template: Default::default(),
            min_ready: Default::default(),
            status: Default::default(),
        }
    }

    /// Sizes after proportional scaling from `from` to `to` replicas of a new set
    /// and old sets (newest first), returned as (new, old...).
    fn scale_case(from: i32, to: i32, new: i32, old: &[i32]) -> (i32, Vec<i32>) {
        let before = deployment(from, 0);
        let d = deployment(to, 0);
        let n = rs("new", new, 3, &before);
        let olds: Vec<ReplicaSet> = old
            .iter()
            .enumerate()
            .map(|(i, r)| rs(&format!("old{i}"), *r, 2 - i as u64, &before))
            .collect();
        let mut active: Vec<&ReplicaSet> = olds.iter().collect();
        active.push(&n);
        let out = proportional_sizes(&d, &active);
        let size = |name: &str| out.iter().find(|(r, _)| r.meta.name == name).unwrap().1;
        (
            size("new"),
            (0..old.len()).map(|i| size(&format!("old{i}"))).collect(),
        )
    }

    #[test]
    fn proportional_scaling_matches_upstream_test_scale() {
        // pkg/controller/deployment/sync_test.go TestScale
        assert_eq!(scale_case(5, 10, 2, &[3]), (4, vec![6]), "5 -> 10");
        assert_eq!(scale_case(5, 3, 2, &[3]), (1, vec![2]), "5 -> 3");
        assert_eq!(scale_case(9, 4, 8, &[1]), (4, vec![0]), "9 -> 4");
        assert_eq!(scale_case(7, 10, 2, &[3, 2]), (3, vec![4, 3]), "7 -> 10");
        assert_eq!(scale_case(13, 8, 2, &[8, 3]), (1, vec![5, 2]), "13 -> 8");
        // leftovers go to the largest set; on ties the newest when scaling up
        assert_eq!(scale_case(3, 4, 1, &[1, 1]), (2, vec![1, 1]), "3 -> 4");
        // ... and the oldest when scaling down
        assert_eq!(scale_case(3, 2, 1, &[1, 1]), (1, vec![1, 0]), "3 -> 2");
        // to zero: every set gives all it has
        assert_eq!(scale_case(6, 0, 3, &[3]), (0, vec![0]), "6 -> 0");
    }

    #[test]
    fn proportional_scaling_counts_max_surge() {
        // 10 replicas with maxSurge 3 (max 13) mid-rollout: new 3, old 10 -> 20 replicas
        // with maxSurge 3: allowed 23, +10 spread 13:3 as round(10*23/13)=18, round(3*23/13)=5
        let before = deployment(10, 3);
        let d = deployment(20, 3);
        let n = rs("new", 3, 3, &before);
        let o = rs("old", 10, 2, &before);
        let out = proportional_sizes(&d, &[&o, &n]);
        let sizes: Vec<(&str, i32)> = out
            .iter()
            .map(|(r, v)| (r.meta.name.as_str(), *v))
            .collect();
        assert_eq!(sizes, [("old", 18), ("new", 5)]);
    }

    #[test]
    fn scaling_event_needs_a_new_set_and_a_stale_desired_annotation() {
        let before = deployment(5, 0);
        let d = deployment(10, 0);
        let n = rs("new", 2, 3, &before);
        let o = rs("old", 3, 2, &before);
        assert!(is_scaling_event(&d, Some(&n), std::slice::from_ref(&o)));
        assert!(!is_scaling_event(&d, None, std::slice::from_ref(&o)));
        assert!(!is_scaling_event(
            &before,
            Some(&n),
            std::slice::from_ref(&o)
        ));
        let mut inactive = o.clone();
        inactive.replicas = 0;
        let mut fresh = n.clone();
        set_replicas_annotations(&mut fresh.meta, 10, 10);
        assert!(
            !is_scaling_event(&d, Some(&fresh), &[inactive]),
            "inactive sets do not count"
        );
    }

    #[test]
    fn claim_adopts_ownerless_matching_sets_and_releases_mismatched_ones() {
        use crate::api::selector::LabelSelector;
        let mut api = ApiServer::new();
        let app = |v: &str| -> crate::api::selector::Labels {
            [("app".to_string(), v.to_string())].into_iter().collect()
        };
        let mut d = deployment(3, 0);
        d.selector = LabelSelector::from_labels(app("web"));
        let d = api.create(d).unwrap().clone();
        for (name, label, h) in [("a", "web", 2), ("b", "db", 1), ("c", "web", 1)] {
            let mut r = rs(name, 1, h, &d);
            r.meta.labels = app(label);
            api.create(r).unwrap();
        }
        let c = claim_replica_sets(&mut api, &d);
        assert_eq!(c.adopted, ["a", "c"]);
        let names: Vec<&str> = c.sets.iter().map(|r| r.meta.name.as_str()).collect();
        assert_eq!(names, ["a", "c"], "all created at once: by name");
        assert_eq!(api.dependents_of(d.meta.uid, Kind::ReplicaSet).count(), 2);
        let a = ObjKey::new("default", "a");
        api.update::<ReplicaSet>(&a, |r| r.meta.labels = app("db"))
            .unwrap();
        let c = claim_replica_sets(&mut api, &d);
        assert_eq!(c.released, ["a"]);
        assert_eq!(c.sets.len(), 1);
        assert!(api
            .get::<ReplicaSet>(&a)
            .unwrap()
            .meta
            .owner_references
            .is_empty());
        // a Deployment being deleted neither adopts nor releases
        let mut gone = d.clone();
        gone.meta.deletion_timestamp = Some(SimTime::ZERO);
        let c = claim_replica_sets(&mut api, &gone);
        assert!(c.adopted.is_empty() && c.released.is_empty());
        let web = app("web");
        let names: Vec<&str> = matching_deployments(&api, "default", &web)
            .map(|d| d.meta.name.as_str())
            .collect();
        assert_eq!(names, ["foo"]);
    }

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
