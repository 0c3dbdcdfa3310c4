//! The StatefulSet controller (upstream `pkg/controller/statefulset`,
//! `stateful_set_control.go`): pods with stable identities `<set>-<ordinal>`,
//! each with its own claims `<template>-<set>-<ordinal>` that outlive it.
//!
//! One sync, as upstream's `updateStatefulSet`:
//! 1. pods of the set that finished (Failed/Succeeded) are deleted, to be recreated;
//! 2. ordinals `0..replicas` are walked in order: a missing pod gets its claims
//!    (created if absent, never deleted: retention policy Retain) and then the
//!    pod. With `OrderedReady` the walk stops at the first pod created, at a
//!    terminating pod, and at a pod that is not Running and Ready — so
//!    `web-1` is never created before `web-0` is Running and Ready;
//!    `Parallel` creates every missing pod at once;
//! 3. pods with an ordinal ≥ replicas are deleted, highest first — one at a
//!    time with `OrderedReady` (after all lower pods are Running and Ready,
//!    waiting for each to be gone), all at once with `Parallel`;
//! 4. `RollingUpdate`: from the highest ordinal down to `partition`, the first
//!    pod not at the update revision is deleted (it comes back at the new one),
//!    one at a time; an unhealthy pod on the way stops the walk. Pods below the
//!    partition are (re)created at the current revision. `OnDelete` leaves
//!    replacement to whoever deletes pods.
//!
//! Revisions: upstream keeps each template in a ControllerRevision object named
//! `<set>-<hash>`; kubesim keeps the templates in the controller and the names
//! in `status.currentRevision` / `status.updateRevision` and in the pods'
//! `controller-revision-hash` label. `currentRevision` becomes the update
//! revision once every replica is updated and ready (never with a partition
//! above 0, as upstream). Not modelled: adoption of orphan pods, `maxUnavailable`
//! above 1, claim deletion policies, `ordinals.start`.

use super::workqueue::WorkQueue;
use super::ControllerId;
use crate::api::apps::{
    PodManagementPolicy, StatefulSet, StatefulSetStatus, StatefulSetUpdateStrategy,
};
use crate::api::config::{Volume, VolumeSource};
use crate::api::meta::object_ref;
use crate::api::pod::{PodPhase, PodTemplate};
use crate::api::storage::PersistentVolumeClaim;
use crate::api::{Change, Kind, ObjKey, ObjectMeta, OwnerReference, Pod, Uid};
use crate::metrics::EventType;
use crate::sim::time::SimDuration;
use crate::sim::Ctx;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const COMPONENT: &str = "statefulset-controller";
/// The pod label naming the revision a pod was made from (`apps.ControllerRevisionHashLabelKey`).
pub const REVISION_LABEL: &str = "controller-revision-hash";
/// The pod label with the pod's own name (`apps.StatefulSetPodNameLabel`).
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The pod label with the pod's ordinal (`apps.PodIndexLabel`).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// Upstream `rand.SafeEncodeString` alphabet.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The revision name of a template: `<set>-<hash>`, the hash being FNV-1a (32
/// bits) of the template, printed in decimal and safe-encoded as upstream's
/// `ComputeHash` does (the bytes hashed differ: kubesim hashes its own model).
pub fn revision_name(set: &str, template: &PodTemplate) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in format!("{template:?}").bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let enc: String = h
        .to_string()
        .bytes()
        .map(|b| SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()] as char)
        .collect();
    format!("{set}-{enc}")
}

/// The ordinal of a pod named `<set>-<n>`.
pub fn ordinal_of(set: &str, pod: &str) -> Option<i32> {
    let rest = pod.strip_prefix(set)?.strip_prefix('-')?;
    if rest.is_empty() || (rest.len() > 1 && rest.starts_with('0')) {
        return None;
    }
    rest.parse().ok()
}

/// The claim of `template` for ordinal `ord`: `<claim>-<set>-<ord>`.
pub fn claim_name(claim: &str, set: &str, ord: i32) -> String {
    format!("{claim}-{set}-{ord}")
}

fn running_and_ready(p: &Pod) -> bool {
    p.status.phase == PodPhase::Running && p.status.ready
}

#[derive(Debug, Default)]
struct Revisions {
    uid: Uid,
    templates: BTreeMap<String, PodTemplate>,
    /// The spec generation `update_rev` was computed for.
    generation: i64,
    update_rev: String,
}

pub struct StatefulSetController {
    queue: WorkQueue,
    revisions: BTreeMap<ObjKey, Revisions>,
    /// What each set last waited for (narrated once, not at every sync).
    waiting: BTreeMap<String, String>,
    /// The set's previous wait, during a sync.
    prev_wait: Option<String>,
}

impl StatefulSetController {
    pub fn new(sync_delay: SimDuration) -> Self {
        StatefulSetController {
            queue: WorkQueue::new(ControllerId::StatefulSet, sync_delay),
            revisions: BTreeMap::new(),
            waiting: BTreeMap::new(),
            prev_wait: None,
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::StatefulSet => self.queue.add(ctx, change.key.clone()),
            Kind::Pod => self.queue.add_owner(ctx, change, Kind::StatefulSet),
            _ => {}
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.queue.take(key, ctx.now) {
            self.sync(ctx, key);
        }
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        let Some(set) = ctx.api.get::<StatefulSet>(key) else {
            self.revisions.remove(key);
            return;
        };
        if set.meta.deletion_timestamp.is_some() {
            return;
        }
        let set = set.clone();
        let now = ctx.now;
        let object = object_ref(Kind::StatefulSet, key);
        let name = set.meta.name.clone();
        let monotonic = set.pod_management_policy == PodManagementPolicy::OrderedReady;

        let revs = self.revisions.entry(key.clone()).or_default();
        if revs.uid != set.meta.uid {
            *revs = Revisions {
                uid: set.meta.uid,
                ..Default::default()
            };
        }
        // the hash is computed once per spec generation, not at every sync
        if revs.generation != set.meta.generation || revs.update_rev.is_empty() {
            revs.generation = set.meta.generation;
            revs.update_rev = revision_name(&name, &set.template);
        }
        let update_rev = revs.update_rev.clone();
        revs.templates
            .entry(update_rev.clone())
            .or_insert_with(|| set.template.clone());
        let current_rev = if set.status.current_revision.is_empty()
            || !revs.templates.contains_key(&set.status.current_revision)
        {
            update_rev.clone()
        } else {
            set.status.current_revision.clone()
        };
        let current_template = revs.templates[&current_rev].clone();

        // The set's pods, by ordinal.
        let mut by_ord: BTreeMap<i32, Pod> = BTreeMap::new();
        for k in ctx.api.dependents_of(set.meta.uid, Kind::Pod) {
            let Some(p) = ctx.api.get::<Pod>(k) else {
                continue;
            };
            if p.meta
                .controller_ref()
                .is_none_or(|o| o.uid != set.meta.uid)
            {
                continue;
            }
            if let Some(ord) = ordinal_of(&name, &p.meta.name) {
                by_ord.insert(ord, p.clone());
            }
        }
        let revision_of = |p: &Pod| {
            p.meta
                .labels
                .get(REVISION_LABEL)
                .cloned()
                .unwrap_or_default()
        };

        // Status from what this sync observed.
        let in_range: Vec<&Pod> = by_ord
            .iter()
            .filter(|(o, p)| **o < set.replicas && !p.is_terminating())
            .map(|(_, p)| p)
            .collect();
        let mut status = StatefulSetStatus {
            replicas: in_range.len() as i32,
            ready_replicas: in_range.iter().filter(|p| running_and_ready(p)).count() as i32,
            available_replicas: in_range
                .iter()
                .filter(|p| running_and_ready(p) && p.is_available(set.min_ready, now))
                .count() as i32,
            current_replicas: in_range
                .iter()
                .filter(|p| revision_of(p) == current_rev)
                .count() as i32,
            updated_replicas: in_range
                .iter()
                .filter(|p| revision_of(p) == update_rev)
                .count() as i32,
            current_revision: current_rev.clone(),
            update_revision: update_rev.clone(),
            observed_generation: set.meta.generation,
        };

        // Pods below the partition are (re)created at the current revision;
        // with OnDelete every new pod gets the update revision (upstream
        // `newVersionedStatefulSetPod`).
        let partition = match set.update_strategy {
            StatefulSetUpdateStrategy::RollingUpdate { partition } => partition,
            StatefulSetUpdateStrategy::OnDelete => 0,
        };
        let healthy = |p: &Pod| running_and_ready(p) && p.is_available(set.min_ready, now);

        self.prev_wait = self.waiting.remove(&object);
        'act: {
            // 1. finished pods go, to be recreated
            for (ord, p) in &by_ord {
                if p.status.phase.is_terminal() && !p.is_terminating() {
                    self.delete_pod(ctx, &object, &name, p);
                    if monotonic && *ord < set.replicas {
                        break 'act;
                    }
                }
            }
            // 2. create and wait, in ordinal order
            for ord in 0..set.replicas {
                match by_ord.get(&ord) {
                    None => {
                        let template = if ord < partition && current_rev != update_rev {
                            (&current_template, &current_rev)
                        } else {
                            (&set.template, &update_rev)
                        };
                        let created =
                            self.create_pod(ctx, &object, &set, ord, template.0, template.1);
                        if monotonic || !created {
                            break 'act;
                        }
                    }
                    Some(p) if p.is_terminating() || p.status.phase.is_terminal() => {
                        if monotonic {
                            self.waiting(ctx, &object, &p.meta.name, "to terminate");
                            break 'act;
                        }
                    }
                    Some(p) if !healthy(p) => {
                        if monotonic {
                            self.waiting(ctx, &object, &p.meta.name, "to be Running and Ready");
                            break 'act;
                        }
                    }
                    Some(_) => {}
                }
            }
            // 3. scale down, highest ordinal first
            let condemned: Vec<&Pod> = by_ord
                .iter()
                .rev()
                .filter(|(o, _)| **o >= set.replicas)
                .map(|(_, p)| p)
                .collect();
            for p in condemned {
                if p.is_terminating() {
                    if monotonic {
                        self.waiting(ctx, &object, &p.meta.name, "to terminate");
                        break 'act;
                    }
                    continue;
                }
                self.delete_pod(ctx, &object, &name, p);
                if monotonic {
                    break 'act;
                }
            }
            // 4. rolling update, highest ordinal first, down to the partition
            if matches!(
                set.update_strategy,
                StatefulSetUpdateStrategy::RollingUpdate { .. }
            ) {
                for ord in (partition.max(0)..set.replicas).rev() {
                    let Some(p) = by_ord.get(&ord) else {
                        break 'act;
                    };
                    if revision_of(p) != update_rev && !p.is_terminating() {
                        ctx.decision(
                            COMPONENT,
                            "RollingUpdate",
                            object.clone(),
                            (
                                format!("pod {} at revision {}", p.meta.name, revision_of(p)),
                                format!("update revision {update_rev} for ordinals {partition}..{}", set.replicas),
                                format!("delete {}", p.meta.name),
                            ),
                            format!(
                                "Pod {} is not at the update revision {update_rev}: delete it so it is recreated from the new template (highest ordinal first, partition {partition})",
                                p.meta.name
                            ),
                        );
                        self.delete_pod(ctx, &object, &name, p);
                        break 'act;
                    }
                    if !healthy(p) {
                        break 'act;
                    }
                }
            }
        }

        // currentRevision catches up once every replica is updated and ready.
        if status.updated_replicas == set.replicas
            && status.ready_replicas == set.replicas
            && status.replicas == set.replicas
        {
            status.current_revision = update_rev.clone();
            status.current_replicas = status.updated_replicas;
        }
        if status != set.status {
            let _ = ctx
                .api
                .update_status::<StatefulSet>(key, |s| s.status = status);
        }
        // forget templates no pod uses any more, but the current and update ones
        let used: Vec<String> = by_ord.values().map(revision_of).collect();
        if let Some(revs) = self.revisions.get_mut(key) {
            let cur = set.status.current_revision.clone();
            revs.templates.retain(|r, _| {
                *r == update_rev || *r == current_rev || *r == cur || used.contains(r)
            });
        }
        // Ready pods not yet available for minReadySeconds: look again then.
        let next = by_ord
            .values()
            .filter(|p| running_and_ready(p) && !p.is_available(set.min_ready, now))
            .filter_map(|p| p.status.ready_since.map(|t| t + set.min_ready))
            .min();
        if let Some(t) = next {
            self.queue.add_after(ctx, key.clone(), t.since(now));
        }
    }

    fn waiting(&mut self, ctx: &mut Ctx, object: &str, pod: &str, what: &str) {
        let key = format!("{pod} {what}");
        let again = self.prev_wait.as_ref() == Some(&key);
        self.waiting.insert(object.to_string(), key);
        if again {
            return;
        }
        ctx.decision(
            COMPONENT,
            "OrderedReady",
            object.to_string(),
            (
                format!("pod {pod} not ready"),
                "pods created, updated and deleted one at a time, in order".into(),
                "wait".into(),
            ),
            format!(
                "StatefulSet is waiting for Pod {pod} {what} (podManagementPolicy OrderedReady)"
            ),
        );
    }

    fn delete_pod(&mut self, ctx: &mut Ctx, object: &str, set: &str, p: &Pod) {
        let pk = p.meta.key();
        match ctx.api.delete::<Pod>(&pk) {
            Ok(()) => ctx.event(
                COMPONENT,
                EventType::Normal,
                "SuccessfulDelete",
                object.to_string(),
                format!("delete Pod {} in StatefulSet {set} successful", pk.name),
            ),
            Err(e) => ctx.event(
                COMPONENT,
                EventType::Warning,
                "FailedDelete",
                object.to_string(),
                format!(
                    "delete Pod {} in StatefulSet {set} failed error: {e}",
                    pk.name
                ),
            ),
        }
    }

    /// Claims first (upstream `createPersistentVolumeClaims`), then the pod.
    fn create_pod(
        &mut self,
        ctx: &mut Ctx,
        object: &str,
        set: &StatefulSet,
        ord: i32,
        template: &PodTemplate,
        revision: &str,
    ) -> bool {
        let name = format!("{}-{ord}", set.meta.name);
        let ns = set.meta.namespace.clone();
        let mut spec = (*template.spec).clone();
        for t in &set.volume_claim_templates {
            let claim = claim_name(&t.meta.name, &set.meta.name, ord);
            let ck = ObjKey::new(ns.clone(), claim.clone());
            if ctx.api.get::<PersistentVolumeClaim>(&ck).is_none() {
                let mut pvc = t.clone();
                pvc.meta = ObjectMeta::new(&ns, &claim);
                pvc.meta.labels = t.meta.labels.clone();
                pvc.meta.annotations = t.meta.annotations.clone();
                for (k, v) in &set.selector.match_labels {
                    pvc.meta.labels.insert(k.clone(), v.clone());
                }
                match ctx.api.create(pvc) {
                    Ok(_) => ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "SuccessfulCreate",
                        object.to_string(),
                        format!(
                            "create Claim {claim} Pod {name} in StatefulSet {} success",
                            set.meta.name
                        ),
                    ),
                    Err(e) => {
                        ctx.event(
                            COMPONENT,
                            EventType::Warning,
                            "FailedCreate",
                            object.to_string(),
                            format!(
                                "create Claim {claim} for Pod {name} in StatefulSet {} failed error: {e}",
                                set.meta.name
                            ),
                        );
                        return false;
                    }
                }
            }
            let vol = Volume {
                name: t.meta.name.clone(),
                source: VolumeSource::Claim {
                    claim_name: claim,
                    read_only: false,
                },
            };
            match spec.volumes.iter_mut().find(|v| v.name == t.meta.name) {
                Some(v) => *v = vol,
                None => spec.volumes.push(vol),
            }
        }
        let mut meta = ObjectMeta::new(&ns, &name);
        meta.labels = template.labels.clone();
        meta.labels.insert(POD_NAME_LABEL.into(), name.clone());
        meta.labels
            .insert(REVISION_LABEL.into(), revision.to_string());
        meta.labels.insert(POD_INDEX_LABEL.into(), ord.to_string());
        meta.annotations = template.annotations.clone();
        meta.owner_references
            .push(OwnerReference::controller_of(Kind::StatefulSet, &set.meta));
        let pod = Pod {
            meta,
            spec: Arc::new(spec),
            node_name: None,
            status: Default::default(),
        };
        match ctx.api.create(pod) {
            Ok(_) => {
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "SuccessfulCreate",
                    object.to_string(),
                    format!(
                        "create Pod {name} in StatefulSet {} successful",
                        set.meta.name
                    ),
                );
                true
            }
            Err(e) => {
                ctx.event(
                    COMPONENT,
                    EventType::Warning,
                    "FailedCreate",
                    object.to_string(),
                    format!(
                        "create Pod {name} in StatefulSet {} failed error: {e}",
                        set.meta.name
                    ),
                );
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_parse_only_canonical_numbers() {
        assert_eq!(ordinal_of("web", "web-0"), Some(0));
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "web-01"), None);
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "webb-1"), None);
        assert_eq!(ordinal_of("web", "web-"), None);
    }

    #[test]
    fn claims_are_named_template_set_ordinal() {
        assert_eq!(claim_name("data", "web", 1), "data-web-1");
    }

    #[test]
    fn revision_names_follow_the_template() {
        let a = PodTemplate::default();
        let mut b = PodTemplate::default();
        b.labels.insert("v".into(), "2".into());
        let (ra, rb) = (revision_name("web", &a), revision_name("web", &b));
        assert!(ra.starts_with("web-") && ra.len() > 5);
        assert_ne!(ra, rb);
        assert_eq!(ra, revision_name("web", &a.clone()));
        assert!(ra[4..].bytes().all(|c| SAFE_ALPHABET.contains(&c)));
    }
}
