//! The garbage collector: deletes dependents whose owners are gone (background
//! propagation) and finishes foreground and orphan deletions, whose owners wait
//! in the store with a finalizer until their dependents are dealt with.

use crate::api::meta::{object_ref, FINALIZER_FOREGROUND, FINALIZER_ORPHAN};
use crate::api::store::Propagation;
use crate::api::{ApiServer, Change, Kind, ObjKey, Op, Uid};
use crate::metrics::EventType;
use crate::sim::Ctx;

pub const COMPONENT: &str = "garbage-collector";
/// The reason of every event the collector records.
pub const REASON: &str = "GarbageCollected";

#[derive(Debug, Default)]
pub struct GarbageCollector {
    pub deleted: u64,
}

/// One action of the collector, for its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcAction {
    pub kind: Kind,
    pub key: ObjKey,
    /// Whether the object was deleted (counted in `GarbageCollector::deleted`).
    pub deleted: bool,
    pub message: String,
}

fn owner_key(dependent: &ObjKey, kind: Kind, name: &str) -> ObjKey {
    if kind.namespaced() {
        ObjKey::new(dependent.namespace.clone(), name)
    } else {
        ObjKey::cluster(name)
    }
}

/// Whether every owner named by the dependent is gone.
fn orphaned(api: &ApiServer, kind: Kind, key: &ObjKey) -> Option<String> {
    let meta = api.meta_of(kind, key)?;
    if meta.deletion_timestamp.is_some() || meta.owner_references.is_empty() {
        return None;
    }
    let alive = meta
        .owner_references
        .iter()
        .any(|o| api.exists_uid(o.kind, &owner_key(key, o.kind, &o.name), o.uid));
    if alive {
        None
    } else {
        let o = &meta.owner_references[0];
        Some(format!("{} {}", o.kind, o.name))
    }
}

/// Whether the garbage collector must hear about `change`: an owner with
/// dependents was deleted; an owner deleted with the foreground or orphan policy
/// was written; or something was deleted while such an owner waits (it may have
/// been the last dependent blocking it).
pub fn wants(change: &Change, api: &ApiServer) -> bool {
    match change.op {
        Op::Deleted => api.finalizing_count() > 0 || !api.all_dependents(change.uid).is_empty(),
        Op::Modified => api.is_finalizing(change.uid),
        Op::Added => false,
    }
}

/// React to a notification about the object with uid `uid`: collect its
/// dependents if it is gone, then make progress on every pending foreground and
/// orphan deletion (level-triggered: the store says what is left to do).
pub fn collect(api: &mut ApiServer, uid: Uid) -> Vec<GcAction> {
    let mut out = Vec::new();
    for (kind, key) in api.all_dependents(uid) {
        if let Some(owner_desc) = orphaned(api, kind, &key) {
            if api.delete_kind(kind, &key).is_ok() {
                out.push(GcAction {
                    kind,
                    key: key.clone(),
                    deleted: true,
                    message: format!(
                        "Deleting {kind} {key}: its owner {owner_desc} is gone (background propagation)"
                    ),
                });
            }
        }
    }
    for (ouid, okind, okey) in api.finalizing() {
        let Some(meta) = api.meta_of(okind, &okey) else {
            continue;
        };
        if meta.uid != ouid {
            continue;
        }
        if meta.has_finalizer(FINALIZER_ORPHAN) {
            orphan_dependents(api, okind, &okey, ouid, &mut out);
        } else if meta.has_finalizer(FINALIZER_FOREGROUND) {
            delete_dependents(api, okind, &okey, ouid, &mut out);
        }
    }
    out
}

/// `processDeletingDependentsItem` and `attemptToDeleteItem` for an owner in
/// foreground deletion: dependents with another live owner only lose the
/// reference; the others are deleted (foreground again if they have dependents
/// of their own). The owner goes once no dependent with blockOwnerDeletion is left.
fn delete_dependents(
    api: &mut ApiServer,
    okind: Kind,
    okey: &ObjKey,
    ouid: Uid,
    out: &mut Vec<GcAction>,
) {
    for (kind, key) in api.all_dependents(ouid) {
        let Some(meta) = api.meta_of(kind, &key) else {
            continue;
        };
        if meta.deletion_timestamp.is_some() {
            continue;
        }
        // solid owners: alive and not themselves waiting for their dependents
        let solid = meta.owner_references.iter().any(|o| {
            let k = owner_key(&key, o.kind, &o.name);
            o.uid != ouid
                && api.exists_uid(o.kind, &k, o.uid)
                && !api
                    .meta_of(o.kind, &k)
                    .is_some_and(|m| m.has_finalizer(FINALIZER_FOREGROUND))
        });
        if solid {
            if api
                .update_meta(kind, &key, |m| m.owner_references.retain(|o| o.uid != ouid))
                .is_ok()
            {
                out.push(GcAction {
                    kind,
                    key: key.clone(),
                    deleted: false,
                    message: format!(
                        "Removed the ownerReference of {kind} {key} to {okind} {}: it has other owners (foreground propagation)",
                        okey.name
                    ),
                });
            }
            continue;
        }
        let policy = if api.all_dependents(meta.uid).is_empty() {
            Propagation::Background
        } else {
            Propagation::Foreground
        };
        if api.delete_with(kind, &key, policy).is_ok() {
            out.push(GcAction {
                kind,
                key: key.clone(),
                deleted: true,
                message: format!(
                    "Deleting {kind} {key}: its owner {okind} {} is being deleted (foreground propagation)",
                    okey.name
                ),
            });
        }
    }
    let blocking = api.all_dependents(ouid).into_iter().any(|(kind, key)| {
        api.meta_of(kind, &key).is_some_and(|m| {
            m.owner_references
                .iter()
                .any(|o| o.uid == ouid && o.block_owner_deletion)
        })
    });
    if !blocking
        && api
            .update_meta(okind, okey, |m| {
                m.finalizers.retain(|f| f != FINALIZER_FOREGROUND)
            })
            .is_ok()
    {
        out.push(GcAction {
            kind: okind,
            key: okey.clone(),
            deleted: true,
            message: format!(
                "Deleting {okind} {okey}: no dependent blocks it any more (foreground propagation)"
            ),
        });
    }
}

/// `orphanDependents`: remove the owner's references from every dependent, then
/// the owner's `orphan` finalizer (which lets the API server remove it).
fn orphan_dependents(
    api: &mut ApiServer,
    okind: Kind,
    okey: &ObjKey,
    ouid: Uid,
    out: &mut Vec<GcAction>,
) {
    for (kind, key) in api.all_dependents(ouid) {
        if api
            .update_meta(kind, &key, |m| m.owner_references.retain(|o| o.uid != ouid))
            .is_ok()
        {
            out.push(GcAction {
                kind,
                key: key.clone(),
                deleted: false,
                message: format!(
                    "Orphaned {kind} {key}: removed its ownerReference to {okind} {} (orphan propagation)",
                    okey.name
                ),
            });
        }
    }
    if api
        .update_meta(okind, okey, |m| {
            m.finalizers.retain(|f| f != FINALIZER_ORPHAN)
        })
        .is_ok()
    {
        out.push(GcAction {
            kind: okind,
            key: okey.clone(),
            deleted: true,
            message: format!(
                "Deleting {okind} {okey}: its dependents are orphaned (orphan propagation)"
            ),
        });
    }
}

impl GarbageCollector {
    /// A notification about the object with uid `uid` (see [`wants`]); the name
    /// is the simulation's hook.
    pub fn on_owner_deleted(&mut self, ctx: &mut Ctx, uid: Uid) {
        for a in collect(ctx.api, uid) {
            if a.deleted {
                self.deleted += 1;
            }
            ctx.event(
                COMPONENT,
                EventType::Normal,
                REASON,
                object_ref(a.kind, &a.key),
                a.message,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::{PodSpec, PodStatus};
    use crate::api::selector::LabelSelector;
    use crate::api::{ObjectMeta, OwnerReference, Pod, PodTemplate, ReplicaSet};
    use std::sync::Arc;

    fn rs(api: &mut ApiServer, name: &str) -> Uid {
        api.create(ReplicaSet {
            meta: ObjectMeta::new("default", name),
            replicas: 1,
            selector: LabelSelector::default(),
            template: PodTemplate::default(),
            min_ready: Default::default(),
            status: Default::default(),
        })
        .unwrap()
        .meta
        .uid
    }

    fn pod(api: &mut ApiServer, name: &str, owners: &[(&str, Uid, bool)]) {
        let mut meta = ObjectMeta::new("default", name);
        for (o, uid, block) in owners {
            meta.owner_references.push(OwnerReference {
                kind: Kind::ReplicaSet,
                name: o.to_string(),
                uid: *uid,
                controller: *block,
                block_owner_deletion: *block,
            });
        }
        api.create(Pod {
            meta,
            spec: Arc::new(PodSpec::default()),
            node_name: None,
            status: PodStatus::default(),
        })
        .unwrap();
    }

    /// Deliver watch notifications to the collector, as the simulation does,
    /// until nothing more happens.
    fn settle(api: &mut ApiServer) -> Vec<GcAction> {
        let mut all = Vec::new();
        for _ in 0..20 {
            let changes = api.take_changes();
            if changes.is_empty() {
                break;
            }
            for c in changes {
                if wants(&c, api) {
                    all.extend(collect(api, c.uid));
                }
            }
        }
        all
    }

    fn pod_names(api: &ApiServer) -> Vec<String> {
        api.list::<Pod>().map(|p| p.meta.name.clone()).collect()
    }

    #[test]
    fn background_deletes_dependents_after_the_owner() {
        let mut api = ApiServer::new();
        let u = rs(&mut api, "rs");
        pod(&mut api, "a", &[("rs", u, true)]);
        api.delete_with(
            Kind::ReplicaSet,
            &ObjKey::new("default", "rs"),
            Propagation::Background,
        )
        .unwrap();
        assert!(api
            .get::<ReplicaSet>(&ObjKey::new("default", "rs"))
            .is_none());
        assert_eq!(
            pod_names(&api),
            ["a"],
            "the dependent outlives the owner at first"
        );
        settle(&mut api);
        assert!(pod_names(&api).is_empty());
    }

    #[test]
    fn foreground_keeps_the_owner_until_its_dependents_are_gone() {
        let mut api = ApiServer::new();
        let u = rs(&mut api, "rs");
        pod(&mut api, "a", &[("rs", u, true)]);
        let key = ObjKey::new("default", "rs");
        api.delete_with(Kind::ReplicaSet, &key, Propagation::Foreground)
            .unwrap();
        let owner = api.get::<ReplicaSet>(&key).unwrap();
        assert!(owner.meta.deletion_timestamp.is_some());
        assert_eq!(owner.meta.finalizers, [FINALIZER_FOREGROUND]);
        assert!(api.is_finalizing(u));
        let acts = settle(&mut api);
        assert!(pod_names(&api).is_empty());
        assert!(
            api.get::<ReplicaSet>(&key).is_none(),
            "removed once no dependent blocks it"
        );
        assert!(api.finalizing().is_empty());
        // the dependent went before the owner
        assert_eq!(acts[0].kind, Kind::Pod);
        assert_eq!(acts.last().unwrap().kind, Kind::ReplicaSet);
    }

    #[test]
    fn foreground_waits_for_a_terminating_blocking_dependent() {
        let mut api = ApiServer::new();
        let u = rs(&mut api, "rs");
        pod(&mut api, "bound", &[("rs", u, true)]);
        // a bound pod terminates gracefully (no node object needed here)
        api.update_status::<Pod>(&ObjKey::new("default", "bound"), |p| {
            p.node_name = Some("n1".into())
        })
        .unwrap();
        let key = ObjKey::new("default", "rs");
        api.delete_with(Kind::ReplicaSet, &key, Propagation::Foreground)
            .unwrap();
        settle(&mut api);
        let p = api.get::<Pod>(&ObjKey::new("default", "bound")).unwrap();
        assert!(p.is_terminating());
        assert!(
            api.get::<ReplicaSet>(&key).is_some(),
            "blocked by the terminating pod"
        );
        // the kubelet's final removal unblocks the owner
        api.remove::<Pod>(&ObjKey::new("default", "bound")).unwrap();
        settle(&mut api);
        assert!(api.get::<ReplicaSet>(&key).is_none());
    }

    #[test]
    fn foreground_does_not_wait_for_non_blocking_dependents_nor_delete_shared_ones() {
        let mut api = ApiServer::new();
        let u = rs(&mut api, "rs");
        let other = rs(&mut api, "other");
        pod(
            &mut api,
            "shared",
            &[("rs", u, false), ("other", other, false)],
        );
        let key = ObjKey::new("default", "rs");
        api.delete_with(Kind::ReplicaSet, &key, Propagation::Foreground)
            .unwrap();
        settle(&mut api);
        assert!(api.get::<ReplicaSet>(&key).is_none());
        let p = api.get::<Pod>(&ObjKey::new("default", "shared")).unwrap();
        assert_eq!(p.meta.owner_references.len(), 1, "only the reference goes");
        assert_eq!(p.meta.owner_references[0].uid, other);
        assert_eq!(api.dependents_of(u, Kind::Pod).count(), 0);
    }

    #[test]
    fn orphan_removes_references_and_keeps_dependents() {
        let mut api = ApiServer::new();
        let u = rs(&mut api, "rs");
        pod(&mut api, "a", &[("rs", u, true)]);
        let key = ObjKey::new("default", "rs");
        api.delete_with(Kind::ReplicaSet, &key, Propagation::Orphan)
            .unwrap();
        assert_eq!(
            api.get::<ReplicaSet>(&key).unwrap().meta.finalizers,
            [FINALIZER_ORPHAN]
        );
        settle(&mut api);
        assert!(api.get::<ReplicaSet>(&key).is_none());
        let p = api.get::<Pod>(&ObjKey::new("default", "a")).unwrap();
        assert!(p.meta.owner_references.is_empty());
        assert_eq!(api.dependents_of(u, Kind::Pod).count(), 0);
        assert_eq!(api.without_controller(Kind::Pod, "default").count(), 1);
    }

    #[test]
    fn wants_a_modified_finalizing_owner_but_not_other_writes() {
        let mut api = ApiServer::new();
        let u = rs(&mut api, "rs");
        let c = api.take_changes();
        assert!(!wants(&c[0], &api), "an Added owner");
        let key = ObjKey::new("default", "rs");
        api.update::<ReplicaSet>(&key, |r| r.replicas = 2).unwrap();
        let c = api.take_changes();
        assert!(!wants(&c[0], &api), "a plain update");
        api.delete_with(Kind::ReplicaSet, &key, Propagation::Orphan)
            .unwrap();
        let c = api.take_changes();
        assert_eq!((c[0].op, c[0].uid), (Op::Modified, u));
        assert!(wants(&c[0], &api));
    }
}
