//! The ReplicaSet controller: keeps `replicas` active pods stamped from the template.
//!
//! The same controller runs ReplicationControllers (`v1`), as upstream's
//! `pkg/controller/replication` does: one instance per kind, the object read
//! as a ReplicaSet, pods owned by and events narrated for the real kind.

use super::workqueue::WorkQueue;
use super::{generate_name, ControllerId};
use crate::api::meta::object_ref;
use crate::api::pod::PodPhase;
use crate::api::{
    ApiError, ApiServer, Change, Kind, ObjKey, ObjectMeta, OwnerReference, Pod, ReplicaSet,
    ReplicationController, Uid,
};
use crate::metrics::EventType;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::Ctx;
use std::cmp::Ordering;
use std::collections::BTreeMap;

pub const COMPONENT: &str = "replicaset-controller";
/// The component narrating ReplicationController syncs.
pub const RC_COMPONENT: &str = "replication-controller";
/// Most pods created or deleted in one sync (`BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;
/// The first slow-start batch (`SlowStartInitialBatchSize`).
pub const SLOW_START_INITIAL_BATCH_SIZE: usize = 1;

/// Upstream `slowStartBatch`: call `f` `count` times in batches of 1, 2, 4, …,
/// stopping after a batch with an error, so that a failing call (a terminating
/// namespace, a quota) costs a few requests instead of `count`. Every call of a
/// batch is made. Returns the successes and the first error.
pub fn slow_start_batch<E>(
    count: usize,
    initial: usize,
    mut f: impl FnMut() -> Result<(), E>,
) -> (usize, Option<E>) {
    let mut remaining = count;
    let mut successes = 0;
    let mut batch = remaining.min(initial);
    while batch > 0 {
        let mut first_err = None;
        for _ in 0..batch {
            match f() {
                Ok(()) => successes += 1,
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        if first_err.is_some() {
            return (successes, first_err);
        }
        remaining -= batch;
        batch = (2 * batch).min(remaining);
    }
    (successes, None)
}

/// What [`claim_pods`] found and did.
#[derive(Debug, Default)]
pub struct Claimed {
    /// The active pods the ReplicaSet controls after the claim, in name order.
    /// Keys, not copies: a sync reads them back from the store (cloning every
    /// pod of every set on every sync was the biggest cost of large runs).
    pub pods: Vec<ObjKey>,
    pub adopted: Vec<String>,
    pub released: Vec<String>,
}

/// Upstream `ClaimPods` (PodControllerRefManager) over the active pods of the
/// ReplicaSet's namespace: keep its own pods that match the selector, release
/// (drop the ownerReference of) its own pods that no longer match, and adopt
/// matching pods that have no controller. A ReplicaSet being deleted neither
/// adopts nor releases.
pub fn claim_pods(api: &mut ApiServer, rs: &ReplicaSet) -> Claimed {
    claim_pods_as(api, rs, Kind::ReplicaSet)
}

/// The pods of one set that its last sync found matching the set's selector,
/// each as (uid, resourceVersion), in key order. A pod with the same uid and
/// resourceVersion has not been written since, so its labels still match; any
/// write (a relabel included) renews the resourceVersion and the pod is
/// matched again. Matching every pod's labels on every sync was the biggest
/// part of a big cluster's ReplicaSet syncs.
#[derive(Debug, Default)]
pub struct SelectorMemo {
    /// The selector the entries were matched against.
    selector: crate::api::selector::LabelSelector,
    pods: Vec<(Uid, u64)>,
    /// The previous sync's entries while a sync reads them (kept for its
    /// allocation).
    known: Vec<(Uid, u64)>,
}

impl SelectorMemo {
    /// Begin a sync of `rs`: the entries still valid for its selector move to
    /// `known`, and `pods` is emptied for the sync to record afresh.
    fn start(&mut self, rs: &ReplicaSet) -> Vec<(Uid, u64)> {
        std::mem::swap(&mut self.pods, &mut self.known);
        self.pods.clear();
        if self.selector != rs.selector {
            self.selector = rs.selector.clone();
            self.known.clear();
        }
        std::mem::take(&mut self.known)
    }

    /// End a sync: hand back the buffer [`SelectorMemo::start`] lent.
    fn finish(&mut self, known: Vec<(Uid, u64)>) {
        self.known = known;
    }
}

/// The pods [`claim_pods`] would return, read without writing, when the claim
/// has nothing to adopt or release (the usual case); `None` when it has. A
/// sync then reads each pod once, not once to claim and once more to count.
///
/// With a `memo`, a pod the set's last sync found matching, and not written
/// since, is not matched against the selector again.
pub fn claimed_view<'a>(
    api: &'a ApiServer,
    rs: &ReplicaSet,
    memo: Option<&mut SelectorMemo>,
) -> Option<Vec<&'a Pod>> {
    let Some(m) = memo else {
        return claimed_walk(api, rs, &[], None);
    };
    let known = m.start(rs);
    let view = claimed_walk(api, rs, &known, Some(&mut m.pods));
    m.finish(known);
    view
}

/// [`claimed_view`]'s walk over the set's pods: `known` is what the memo
/// remembers, `record` where the pods found matching now are written.
fn claimed_walk<'a>(
    api: &'a ApiServer,
    rs: &ReplicaSet,
    known: &[(Uid, u64)],
    mut record: Option<&mut Vec<(Uid, u64)>>,
) -> Option<Vec<&'a Pod>> {
    let uid = rs.meta.uid;
    let deleting = rs.meta.deletion_timestamp.is_some();
    let mut pods = Vec::with_capacity(rs.replicas.max(0) as usize);
    let mut at = 0; // where the memo's next pod is expected
    for (_, p) in api.dependent_objects::<Pod>(uid) {
        if !p.is_active() || p.meta.controller_ref().is_none_or(|o| o.uid != uid) {
            continue;
        }
        let seen = (p.meta.uid, p.meta.resource_version);
        let remembered = match known.get(at..) {
            Some([first, ..]) if first.0 == seen.0 => {
                at += 1;
                *first == seen
            }
            // the memo's pod here is gone: this one may be the next
            Some([_, second, ..]) if second.0 == seen.0 => {
                at += 2;
                *second == seen
            }
            _ => false,
        };
        debug_assert!(
            !remembered || rs.selector.matches(&p.meta.labels),
            "a remembered selector match for {} is stale",
            p.meta.name
        );
        if remembered || rs.selector.matches(&p.meta.labels) {
            pods.push(p);
            if let Some(r) = record.as_deref_mut() {
                r.push(seen);
            }
        } else if !deleting {
            return None; // to be released
        }
    }
    if !deleting && !rs.selector.is_empty() {
        let adoptable = api
            .without_controller(Kind::Pod, &rs.meta.namespace)
            .any(|k| {
                api.get::<Pod>(k)
                    .is_some_and(|p| p.is_active() && rs.selector.matches(&p.meta.labels))
            });
        if adoptable {
            return None;
        }
    }
    // dependents come in key order, and a set's pods share its namespace
    debug_assert!(pods.is_sorted_by(|a, b| a.meta.name <= b.meta.name));
    Some(pods)
}

/// [`claim_pods`] for a controller of `kind` (ReplicaSet or ReplicationController).
pub fn claim_pods_as(api: &mut ApiServer, rs: &ReplicaSet, kind: Kind) -> Claimed {
    let uid = rs.meta.uid;
    let deleting = rs.meta.deletion_timestamp.is_some();
    let mut out = Claimed::default();
    let owned: Vec<ObjKey> = api.dependents_of(uid, Kind::Pod).cloned().collect();
    for key in owned {
        let Some(p) = api.get::<Pod>(&key) else {
            continue;
        };
        if !p.is_active() || p.meta.controller_ref().is_none_or(|o| o.uid != uid) {
            continue;
        }
        if rs.selector.matches(&p.meta.labels) {
            out.pods.push(key);
        } else if !deleting
            && api
                .update_meta(Kind::Pod, &key, |m| {
                    m.owner_references.retain(|o| o.uid != uid)
                })
                .is_ok()
        {
            out.released.push(key.name);
        }
    }
    if !deleting && !rs.selector.is_empty() {
        let orphans: Vec<ObjKey> = api
            .without_controller(Kind::Pod, &rs.meta.namespace)
            .filter(|k| {
                api.get::<Pod>(k)
                    .is_some_and(|p| p.is_active() && rs.selector.matches(&p.meta.labels))
            })
            .cloned()
            .collect();
        for key in orphans {
            let adopt = |m: &mut ObjectMeta| {
                m.owner_references
                    .push(OwnerReference::controller_of(kind, &rs.meta))
            };
            if api.update_meta(Kind::Pod, &key, adopt).is_ok() {
                out.adopted.push(key.name.clone());
                out.pods.push(key);
            }
        }
    }
    out.pods.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The ReplicaSets of `namespace` whose selector matches `labels`, in key order
/// (upstream `GetPodReplicaSets`, for a pod without a controller).
pub fn matching_sets<'a>(
    api: &'a ApiServer,
    namespace: &'a str,
    labels: &'a crate::api::selector::Labels,
) -> impl Iterator<Item = &'a ReplicaSet> + 'a {
    api.store()
        .replicasets
        .range(ObjKey::new(namespace, "")..)
        .take_while(move |(k, _)| k.namespace == namespace)
        .map(|(_, rs)| rs)
        .filter(move |rs| !rs.selector.is_empty() && rs.selector.matches(labels))
}

/// What a sync reads from its pods: (count, ready, available, the pods to
/// delete first if there are too many, when the next pod becomes available).
fn observe(
    pods: &[&Pod],
    rs: &ReplicaSet,
    now: SimTime,
) -> (usize, usize, usize, Vec<ObjKey>, Option<SimTime>) {
    let ready = pods.iter().filter(|p| p.status.ready).count();
    let available = pods
        .iter()
        .filter(|p| p.is_available(rs.min_ready, now))
        .count();
    let surplus = pods.len().saturating_sub(rs.replicas.max(0) as usize);
    let victims: Vec<ObjKey> = if surplus > 0 {
        let mut ranked = pods.to_vec();
        rank_for_deletion(&mut ranked, now);
        ranked
            .into_iter()
            .take(surplus.min(BURST_REPLICAS))
            .map(|p| p.meta.key())
            .collect()
    } else {
        Vec::new()
    };
    // pods that are ready but not yet available for minReadySeconds
    let next = pods
        .iter()
        .filter(|p| p.status.ready && !p.is_available(rs.min_ready, now))
        .filter_map(|p| p.status.ready_since.map(|t| t + rs.min_ready))
        .min();
    (pods.len(), ready, available, victims, next)
}

/// The status a sync writes: its (active, ready, available) pod counts and
/// the generation of the set it observed.
fn observed_status(
    (count, ready, available): (usize, usize, usize),
    rs: &ReplicaSet,
) -> crate::api::workload::ReplicaSetStatus {
    crate::api::workload::ReplicaSetStatus {
        replicas: count as i32,
        ready_replicas: ready as i32,
        available_replicas: available as i32,
        observed_generation: rs.meta.generation,
    }
}

/// The ReplicationControllers of `namespace` whose selector matches `labels`.
fn matching_rcs<'a>(
    api: &'a ApiServer,
    namespace: &'a str,
    labels: &'a crate::api::selector::Labels,
) -> impl Iterator<Item = &'a ReplicationController> + 'a {
    api.store()
        .replication_controllers
        .range(ObjKey::new(namespace, "")..)
        .take_while(move |(k, _)| k.namespace == namespace)
        .map(|(_, rc)| rc)
        .filter(move |rc| !rc.selector.is_empty() && rc.selector.matches(labels))
}

/// A ReplicationController seen as the ReplicaSet it is run as.
pub fn rc_as_replicaset(rc: &ReplicationController) -> ReplicaSet {
    ReplicaSet {
        meta: rc.meta.clone(),
        replicas: rc.replicas,
        selector: rc.selector.clone(),
        template: rc.template.clone(),
        min_ready: rc.min_ready,
        status: rc.status.clone(),
    }
}

pub struct ReplicaSetController {
    rng: SimRng,
    queue: WorkQueue,
    /// ReplicaSet or ReplicationController.
    kind: Kind,
    component: &'static str,
    /// Per set (by uid): its pods found matching at its last sync.
    memos: crate::api::table::LookupMap<Uid, SelectorMemo>,
}

impl ReplicaSetController {
    pub fn new(seed: u64, sync_delay: SimDuration) -> Self {
        ReplicaSetController {
            rng: rng::stream(seed, COMPONENT),
            queue: WorkQueue::new(ControllerId::ReplicaSet, sync_delay),
            kind: Kind::ReplicaSet,
            component: COMPONENT,
            memos: crate::api::table::lookup_map(),
        }
    }

    /// The ReplicationController manager: the same controller for `v1` RCs.
    pub fn replication(seed: u64, sync_delay: SimDuration) -> Self {
        ReplicaSetController {
            rng: rng::stream(seed, RC_COMPONENT),
            queue: WorkQueue::new(ControllerId::ReplicationController, sync_delay),
            kind: Kind::ReplicationController,
            component: RC_COMPONENT,
            memos: crate::api::table::lookup_map(),
        }
    }

    fn get_set(&self, api: &ApiServer, key: &ObjKey) -> Option<ReplicaSet> {
        match self.kind {
            Kind::ReplicationController => {
                api.get::<ReplicationController>(key).map(rc_as_replicaset)
            }
            _ => api.get::<ReplicaSet>(key).cloned(),
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            k if k == self.kind => {
                if change.op == crate::api::store::Op::Deleted {
                    self.memos.remove(&change.uid);
                }
                self.queue.add(ctx, change.key.clone())
            }
            Kind::Pod => match &change.owner {
                Some((k, owner)) if *k == self.kind => self.queue.add(
                    ctx,
                    ObjKey::new(change.key.namespace.clone(), owner.clone()),
                ),
                // an ownerless pod: every ReplicaSet that may adopt it
                None => {
                    let Some(p) = ctx.api.get::<Pod>(&change.key) else {
                        return;
                    };
                    if !p.is_active() {
                        return;
                    }
                    let keys: Vec<ObjKey> = if self.kind == Kind::ReplicaSet {
                        matching_sets(ctx.api, &change.key.namespace, &p.meta.labels)
                            .map(|rs| rs.meta.key())
                            .collect()
                    } else {
                        matching_rcs(ctx.api, &change.key.namespace, &p.meta.labels)
                            .map(|rc| rc.meta.key())
                            .collect()
                    };
                    for k in keys {
                        self.queue.add(ctx, k);
                    }
                }
                Some(_) => {}
            },
            _ => {}
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.queue.take(key, ctx.now) {
            self.sync(ctx, key);
        }
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.kind == Kind::ReplicaSet && self.sync_steady(ctx, key) {
            return;
        }
        let Some(rs) = self.get_set(ctx.api, key) else {
            return;
        };
        if rs.meta.deletion_timestamp.is_some() {
            return;
        }
        let now = ctx.now;
        let component = self.component;
        let object = object_ref(self.kind, key);
        // Everything this sync needs from its pods, read once from the store
        // before any write (the status is of what was observed at the start).
        let memo = self.memos.entry(rs.meta.uid).or_default();
        let observed = claimed_view(ctx.api, &rs, Some(memo)).map(|pods| observe(&pods, &rs, now));
        let (claimed, observed) = match observed {
            Some(o) => (Claimed::default(), o),
            None => {
                let claimed = claim_pods_as(ctx.api, &rs, self.kind);
                let pods: Vec<&Pod> = claimed
                    .pods
                    .iter()
                    .filter_map(|k| ctx.api.get::<Pod>(k))
                    .collect();
                let o = observe(&pods, &rs, now);
                (claimed, o)
            }
        };
        if !claimed.adopted.is_empty() || !claimed.released.is_empty() {
            ctx.decision(
                component,
                "ClaimPods",
                object.clone(),
                (
                    format!(
                        "pods matching selector {} without a controller: {:?}; own pods that no longer match: {:?}",
                        rs.selector.to_string_k8s(),
                        claimed.adopted,
                        claimed.released
                    ),
                    "the ReplicaSet controls exactly the active pods its selector matches".into(),
                    format!(
                        "adopt {} pods, release {}",
                        claimed.adopted.len(),
                        claimed.released.len()
                    ),
                ),
                format!(
                    "Adopted {} pods, released {} pods",
                    claimed.adopted.len(),
                    claimed.released.len()
                ),
            );
        }
        let (count, ready, available, victims, next) = observed;
        let diff = count as i64 - rs.replicas as i64;
        if diff != 0 {
            let n = (diff.unsigned_abs() as usize).min(BURST_REPLICAS);
            let (verb, why) = if diff < 0 {
                ("create", "fewer active pods than replicas")
            } else {
                ("delete", "more active pods than replicas; the least valuable go first (unassigned, pending, not ready, newest)")
            };
            ctx.decision(
                component,
                "Reconcile",
                object.clone(),
                (
                    format!("{count} active pods ({ready} ready)"),
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
            let (created, err) = slow_start_batch(n, SLOW_START_INITIAL_BATCH_SIZE, || {
                let pod = self.new_pod(ctx, &rs);
                let name = pod.meta.name.clone();
                match ctx.api.create(pod) {
                    Ok(_) => {
                        ctx.event_with(component, EventType::Normal, "SuccessfulCreate", || {
                            (object.clone(), format!("Created pod: {name}"))
                        });
                        Ok(())
                    }
                    Err(e) => {
                        ctx.event(
                            component,
                            EventType::Warning,
                            "FailedCreate",
                            object.clone(),
                            format!("Error creating: {e}"),
                        );
                        Err(e)
                    }
                }
            });
            if let Some(e) = err {
                Self::narrate_slow_start_failure(ctx, component, &object, n, created, &e);
            }
        } else {
            for pk in victims {
                if ctx.api.delete::<Pod>(&pk).is_ok() {
                    ctx.event(
                        component,
                        EventType::Normal,
                        "SuccessfulDelete",
                        object.clone(),
                        format!("Deleted pod: {}", pk.name),
                    );
                }
            }
        }

        // Status, from what was observed at the start of this sync.
        let status = observed_status((count, ready, available), &rs);
        let changed = (status != rs.status).then_some(status);
        self.settle(ctx, key, changed, next);
    }

    /// The end of every sync: write the status if it changed, and look again
    /// when ready pods become available (minReadySeconds).
    fn settle(
        &mut self,
        ctx: &mut Ctx,
        key: &ObjKey,
        changed: Option<crate::api::workload::ReplicaSetStatus>,
        next: Option<SimTime>,
    ) {
        if let Some(status) = changed {
            let _ = match self.kind {
                Kind::ReplicationController => ctx
                    .api
                    .update_status::<ReplicationController>(key, |r| r.status = status),
                _ => ctx
                    .api
                    .update_status::<ReplicaSet>(key, |r| r.status = status),
            };
        }
        if let Some(t) = next {
            self.queue.add_after(ctx, key.clone(), t.since(ctx.now));
        }
    }

    /// The usual sync of a ReplicaSet, read in place instead of copied: no pod
    /// to adopt or release and as many active pods as replicas, so the status
    /// is the only write. Returns `false`, having written nothing, when the
    /// full [`Self::sync`] has more to do. (Most syncs are a pod of a settled
    /// set changing phase or readiness; copying the set was 4% of a run.)
    fn sync_steady(&mut self, ctx: &mut Ctx, key: &ObjKey) -> bool {
        let now = ctx.now;
        let Some(rs) = ctx.api.get::<ReplicaSet>(key) else {
            return false;
        };
        if rs.meta.deletion_timestamp.is_some() {
            return false;
        }
        let memo = self.memos.entry(rs.meta.uid).or_default();
        let Some(pods) = claimed_view(ctx.api, rs, Some(memo)) else {
            return false;
        };
        let (count, ready, available, victims, next) = observe(&pods, rs, now);
        if count as i64 != rs.replicas as i64 {
            return false;
        }
        debug_assert!(victims.is_empty());
        let status = observed_status((count, ready, available), rs);
        let changed = (status != rs.status).then_some(status);
        self.settle(ctx, key, changed, next);
        true
    }

    /// Why fewer pods than wanted were created: slow start gave up after a batch
    /// with a failure (upstream logs "Slow-start failure. Skipping creation of pods").
    fn narrate_slow_start_failure(
        ctx: &mut Ctx,
        component: &'static str,
        object: &str,
        wanted: usize,
        created: usize,
        e: &ApiError,
    ) {
        let attempted = slow_start_attempts(wanted, SLOW_START_INITIAL_BATCH_SIZE, created);
        let skipped = wanted - attempted;
        ctx.decision(
            component,
            "SlowStartBatch",
            object.to_string(),
            (
                format!("creating pods failed: {e}"),
                format!("{wanted} more pods"),
                format!(
                    "created {created} of {wanted}; {} failed, {skipped} not attempted",
                    attempted - created
                ),
            ),
            format!(
                "Slow-start failure: created {created} of {wanted} pods, skipped creation of {skipped} after a failed batch"
            ),
        );
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
        meta.owner_references
            .push(OwnerReference::controller_of(self.kind, &rs.meta));
        Pod {
            meta,
            spec: rs.template.spec.clone(),
            node_name: None,
            status: Default::default(),
        }
    }
}

/// How many calls `slow_start_batch(count, initial, ..)` made when it stopped
/// with `successes` successes: every batch up to and including the failed one.
pub fn slow_start_attempts(count: usize, initial: usize, successes: usize) -> usize {
    let (mut remaining, mut done, mut batch) = (count, 0, count.min(initial));
    while batch > 0 {
        done += batch;
        if done > successes {
            return done;
        }
        remaining -= batch;
        batch = (2 * batch).min(remaining);
    }
    done
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
    // each pod's deletion cost and colocation, found once rather than at
    // every comparison (a map search and a parse each, some 300 times for
    // a set of 50 pods)
    let mut ranked: Vec<(i64, usize, &Pod)> = pods
        .iter()
        .map(|p| {
            let cost = p
                .meta
                .annotations
                .get(DELETION_COST)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let colocated = p.node_name.as_deref().map(|n| per_node[n]).unwrap_or(0);
            (cost, colocated, *p)
        })
        .collect();
    ranked.sort_by(|&(cost_a, colocated_a, a), &(cost_b, colocated_b, b)| {
        let by = |o: Ordering| o;
        by(a.node_name.is_some().cmp(&b.node_name.is_some()))
            .then(phase_rank(a.status.phase).cmp(&phase_rank(b.status.phase)))
            .then(a.status.ready.cmp(&b.status.ready))
            .then(cost_a.cmp(&cost_b))
            .then(colocated_b.cmp(&colocated_a))
            .then(match (a.status.ready_since, b.status.ready_since) {
                (Some(x), Some(y)) if a.status.ready && b.status.ready => y.cmp(&x),
                _ => Ordering::Equal,
            })
            .then(b.status.restart_count.cmp(&a.status.restart_count))
            .then(b.meta.creation_timestamp.cmp(&a.meta.creation_timestamp))
            .then(a.meta.name.cmp(&b.meta.name))
    });
    for (slot, (_, _, p)) in pods.iter_mut().zip(ranked) {
        *slot = p;
    }
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
    fn slow_start_batches_double_and_stop_after_a_failed_batch() {
        let mut calls = 0;
        // the 5th call fails: batches 1, 2, 4 are made (7 calls), 8 skipped
        let (ok, err) = slow_start_batch(15, 1, || {
            calls += 1;
            if calls == 5 {
                Err("boom")
            } else {
                Ok(())
            }
        });
        assert_eq!((ok, err), (6, Some("boom")));
        assert_eq!(calls, 7, "every call of the failed batch is made");
        assert_eq!(slow_start_attempts(15, 1, ok), 7);
        // no failure: all, the last batch cut to what remains (1+2+4+3)
        let mut n = 0;
        assert_eq!(
            slow_start_batch::<()>(10, 1, || {
                n += 1;
                Ok(())
            }),
            (10, None)
        );
        assert_eq!(n, 10);
        // the very first call failing stops everything
        let mut m = 0;
        let (ok, _) = slow_start_batch(500, 1, || {
            m += 1;
            Err(())
        });
        assert_eq!((ok, m), (0, 1));
        assert_eq!(slow_start_attempts(500, 1, 0), 1);
    }

    fn labels(kv: &[(&str, &str)]) -> crate::api::selector::Labels {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn api_with_rs() -> (ApiServer, ReplicaSet) {
        use crate::api::selector::LabelSelector;
        let mut api = ApiServer::new();
        api.create(crate::api::Namespace {
            meta: ObjectMeta::new("", "other"),
        })
        .unwrap();
        let rs = api
            .create(ReplicaSet {
                meta: ObjectMeta::new("default", "web"),
                replicas: 3,
                selector: LabelSelector::from_labels(labels(&[("app", "web")])),
                template: Default::default(),
                min_ready: Default::default(),
                status: Default::default(),
            })
            .unwrap()
            .clone();
        (api, rs)
    }

    fn bare(api: &mut ApiServer, ns: &str, name: &str, kv: &[(&str, &str)]) -> ObjKey {
        let mut p = pod(name, None, PodPhase::Pending, false, 0);
        p.meta.namespace = ns.into();
        p.meta.labels = labels(kv);
        api.create(p).unwrap().meta.key()
    }

    #[test]
    fn claim_adopts_matching_ownerless_active_pods_in_its_namespace() {
        let (mut api, rs) = api_with_rs();
        let a = bare(&mut api, "default", "a", &[("app", "web")]);
        bare(&mut api, "default", "b", &[("app", "db")]);
        bare(&mut api, "other", "c", &[("app", "web")]);
        let d = bare(&mut api, "default", "d", &[("app", "web")]);
        api.update_status::<Pod>(&d, |p| p.status.phase = PodPhase::Succeeded)
            .unwrap();
        let c = claim_pods(&mut api, &rs);
        assert_eq!(c.adopted, ["a"]);
        assert_eq!(c.pods.len(), 1);
        let owner = api.get::<Pod>(&a).unwrap().meta.controller_ref().cloned();
        assert_eq!(
            owner.map(|o| (o.uid, o.block_owner_deletion)),
            Some((rs.meta.uid, true))
        );
        assert_eq!(
            api.dependents_of(rs.meta.uid, Kind::Pod)
                .collect::<Vec<_>>(),
            [&a],
            "the dependents index follows the new ownerReference"
        );
        assert!(api
            .without_controller(Kind::Pod, "default")
            .all(|k| *k != a));
        // a second claim finds it as its own
        let again = claim_pods(&mut api, &rs);
        assert!(again.adopted.is_empty());
        assert_eq!(again.pods.len(), 1);
    }

    #[test]
    fn claim_releases_own_pods_whose_labels_no_longer_match() {
        let (mut api, rs) = api_with_rs();
        let a = bare(&mut api, "default", "a", &[("app", "web")]);
        claim_pods(&mut api, &rs);
        api.update::<Pod>(&a, |p| {
            p.meta.labels.insert("app".into(), "debug".into());
        })
        .unwrap();
        let c = claim_pods(&mut api, &rs);
        assert_eq!(c.released, ["a"]);
        assert!(c.pods.is_empty());
        assert!(api.get::<Pod>(&a).unwrap().meta.owner_references.is_empty());
        assert_eq!(api.dependents_of(rs.meta.uid, Kind::Pod).count(), 0);
    }

    #[test]
    fn the_selector_memo_sees_a_relabel_a_new_pod_and_a_new_selector() {
        use crate::api::selector::LabelSelector;
        let (mut api, mut rs) = api_with_rs();
        let keys: Vec<ObjKey> = ["a", "b", "c"]
            .iter()
            .map(|n| bare(&mut api, "default", n, &[("app", "web")]))
            .collect();
        claim_pods(&mut api, &rs);
        let mut memo = SelectorMemo::default();
        let names = |v: Option<Vec<&Pod>>| {
            v.map(|v| v.iter().map(|p| p.meta.name.clone()).collect::<Vec<_>>())
        };
        let first = names(claimed_view(&api, &rs, Some(&mut memo)));
        assert_eq!(
            first.as_deref(),
            Some(&["a", "b", "c"].map(String::from)[..])
        );
        assert_eq!(memo.pods.len(), 3);
        // b is relabelled: the memo's entry for it no longer holds
        api.update::<Pod>(&keys[1], |p| {
            p.meta.labels.insert("app".into(), "debug".into());
        })
        .unwrap();
        assert_eq!(claimed_view(&api, &rs, Some(&mut memo)), None);
        // a pod that matches again, and a new one, are both counted
        api.update::<Pod>(&keys[1], |p| {
            p.meta.labels.insert("app".into(), "web".into());
        })
        .unwrap();
        let d = bare(&mut api, "default", "aa", &[("app", "web")]);
        claim_pods(&mut api, &rs);
        let v = names(claimed_view(&api, &rs, Some(&mut memo)));
        assert_eq!(v.map(|v| v.len()), Some(4), "{d}");
        // the same pods under another selector are matched afresh
        rs.selector = LabelSelector::from_labels(labels(&[("app", "db")]));
        assert_eq!(claimed_view(&api, &rs, Some(&mut memo)), None);
        assert!(memo.pods.is_empty());
    }

    #[test]
    fn a_replicaset_being_deleted_neither_adopts_nor_releases() {
        let (mut api, mut rs) = api_with_rs();
        let a = bare(&mut api, "default", "a", &[("app", "web")]);
        rs.meta.deletion_timestamp = Some(SimTime::ZERO);
        let c = claim_pods(&mut api, &rs);
        assert!(c.adopted.is_empty() && c.pods.is_empty());
        assert!(api.get::<Pod>(&a).unwrap().meta.owner_references.is_empty());
    }

    #[test]
    fn pods_with_another_controller_or_terminating_are_not_adopted() {
        let (mut api, rs) = api_with_rs();
        let a = bare(&mut api, "default", "a", &[("app", "web")]);
        api.update_status::<Pod>(&a, |p| {
            p.meta.owner_references.push(OwnerReference {
                kind: Kind::ReplicaSet,
                name: "someone".into(),
                uid: crate::api::Uid(999),
                controller: true,
                block_owner_deletion: true,
            })
        })
        .unwrap();
        let b = bare(&mut api, "default", "b", &[("app", "web")]);
        api.update_status::<Pod>(&b, |p| p.meta.deletion_timestamp = Some(SimTime::ZERO))
            .unwrap();
        let c = claim_pods(&mut api, &rs);
        assert!(c.adopted.is_empty() && c.pods.is_empty());
    }

    #[test]
    fn ownerless_pods_find_the_matching_sets_of_their_namespace() {
        let (api, _) = api_with_rs();
        let web = labels(&[("app", "web"), ("tier", "x")]);
        let names: Vec<&str> = matching_sets(&api, "default", &web)
            .map(|r| r.meta.name.as_str())
            .collect();
        assert_eq!(names, ["web"]);
        assert_eq!(matching_sets(&api, "other", &web).count(), 0);
        assert_eq!(
            matching_sets(&api, "default", &labels(&[("app", "db")])).count(),
            0
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
