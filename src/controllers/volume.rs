//! The volume controllers of kube-controller-manager, and the provisioner:
//!
//! - **PV controller** (`pkg/controller/volume/persistentvolume`): binds each
//!   pending claim to the smallest available volume that matches it (class,
//!   access modes, size; for a WaitForFirstConsumer claim also the node its first
//!   consumer went to), or has its class's provisioner create one (after the
//!   provisioning latency; a WaitForFirstConsumer volume in the zone of the
//!   consumer's node). When a claim goes, its volume is `Released` (reclaim policy
//!   Retain) or deleted (Delete).
//! - **PVC protection**: a claim in use by a pod is only removed once no pod uses it.
//! - **attach/detach controller** (`pkg/controller/volume/attachdetach`): attaches a
//!   bound volume to the nodes of the pods that use it, after the attach latency,
//!   and detaches it from nodes no pod uses it on. A ReadWriteOnce volume is on one
//!   node at a time: a pod elsewhere gets `FailedAttachVolume` (`Multi-Attach
//!   error`) and waits until the volume is detached.
//!
//! Level-triggered: every notification about a claim, volume, class or pod queues
//! one resync of all volumes; timers for provisioning and attach/detach queue
//! the resync that completes them. Simplified: attachments are kept on the
//! PersistentVolume (`status.attached`) instead of VolumeAttachment objects.

use super::workqueue::WorkQueue;
use super::ControllerId;
use crate::api::affinity::{NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm};
use crate::api::meta::{object_ref, Uid};
use crate::api::storage::{
    single_node, BindingMode, ClaimPhase, ClaimRef, PersistentVolume, PersistentVolumeClaim,
    PvPhase, ReclaimPolicy, StorageClass, ANN_BIND_COMPLETED, ANN_PROVISIONED_BY,
    ANN_SELECTED_NODE, LABEL_ZONE,
};
use crate::api::{Change, Kind, Node, ObjKey, ObjectMeta, Pod};
use crate::metrics::EventType;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::Ctx;
use std::collections::{BTreeMap, BTreeSet};

pub const COMPONENT: &str = "persistentvolume-controller";
pub const ATTACH_COMPONENT: &str = "attachdetach-controller";
/// The finalizer that keeps a claim in use from going (`kubernetes.io/pvc-protection`).
pub const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";

/// Latencies of the simulated storage back end (scenario `cluster.storage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSettings {
    /// Claim → provisioned volume (`provisioningDelay`, default 5 s).
    pub provisioning: SimDuration,
    /// Attach of a volume to a node (`attachDelay`, default 2 s).
    pub attach: SimDuration,
    /// Detach of a volume from a node (`detachDelay`, default 2 s).
    pub detach: SimDuration,
}

impl Default for VolumeSettings {
    fn default() -> Self {
        VolumeSettings {
            provisioning: SimDuration::from_secs(5),
            attach: SimDuration::from_secs(2),
            detach: SimDuration::from_secs(2),
        }
    }
}

/// One provisioning under way.
#[derive(Debug, Clone)]
struct Provisioning {
    claim_uid: Uid,
    due: SimTime,
    zone: Option<String>,
}

pub struct VolumeController {
    queue: WorkQueue,
    settings: VolumeSettings,
    provisioning: BTreeMap<ObjKey, Provisioning>,
    /// (volume, node) → (due, attach?) of attach/detach operations under way.
    ops: BTreeMap<(String, String), (SimTime, bool)>,
    /// Events said once: (uid of the object, what).
    said: BTreeSet<(Uid, String)>,
    /// The pods known (from watch notifications) to use claims: the only pods
    /// a sync looks at, so pods without volumes cost nothing.
    users: BTreeSet<ObjKey>,
}

/// The one work-queue key: the controller resyncs all volumes at once.
fn all() -> ObjKey {
    ObjKey::default()
}

/// A pod that uses a volume.
#[derive(Debug, Clone)]
struct User {
    node: String,
    pod: ObjKey,
    uid: Uid,
}

impl VolumeController {
    pub fn new(sync_delay: SimDuration, settings: VolumeSettings) -> Self {
        VolumeController {
            queue: WorkQueue::new(ControllerId::Volume, sync_delay),
            settings,
            provisioning: BTreeMap::new(),
            ops: BTreeMap::new(),
            said: BTreeSet::new(),
            users: BTreeSet::new(),
        }
    }

    /// Whether `pod` is one of the pods known to use claims (watch routing).
    pub fn tracks(&self, pod: &ObjKey) -> bool {
        self.users.contains(pod)
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::PersistentVolumeClaim | Kind::PersistentVolume | Kind::StorageClass => {
                self.queue.add(ctx, all())
            }
            Kind::Pod => {
                let uses = ctx
                    .api
                    .get::<Pod>(&change.key)
                    .is_some_and(|p| p.spec.claims().next().is_some());
                let known = if uses {
                    !self.users.insert(change.key.clone())
                } else {
                    self.users.remove(&change.key)
                };
                if uses || known {
                    self.queue.add(ctx, all());
                }
            }
            _ => {}
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.queue.take(key, ctx.now) {
            self.sync(ctx);
        }
    }

    /// Say `msg` once per object uid and topic.
    fn once(&mut self, uid: Uid, topic: &str) -> bool {
        self.said.insert((uid, topic.to_string()))
    }

    fn sync(&mut self, ctx: &mut Ctx) {
        self.reconcile_volumes(ctx);
        self.reconcile_claims(ctx);
        self.attach_detach(ctx);
        // timers: come back when the next operation is due
        let next = self
            .provisioning
            .values()
            .map(|p| p.due)
            .chain(self.ops.values().map(|(t, _)| *t))
            .min();
        if let Some(t) = next {
            let d = if t > ctx.now {
                t - ctx.now
            } else {
                SimDuration::ZERO
            };
            self.queue.add_after(ctx, all(), d);
        }
    }

    /// Volumes: new ones become Available; a volume whose claim is gone is
    /// Released (Retain) or deleted (Delete).
    fn reconcile_volumes(&mut self, ctx: &mut Ctx) {
        let pvs: Vec<PersistentVolume> = ctx.api.list::<PersistentVolume>().cloned().collect();
        for pv in pvs {
            let key = pv.meta.key();
            let object = object_ref(Kind::PersistentVolume, &key);
            let claim_gone = pv.claim_ref.as_ref().is_some_and(|r| {
                r.uid.is_some_and(|u| {
                    ctx.api
                        .get::<PersistentVolumeClaim>(&ObjKey::new(&r.namespace, &r.name))
                        .is_none_or(|c| c.meta.uid != u)
                })
            });
            if claim_gone {
                let r = pv.claim_ref.clone().expect("checked");
                let claim = format!("{}/{}", r.namespace, r.name);
                if pv.phase != PvPhase::Released {
                    let _ = ctx
                        .api
                        .update_status::<PersistentVolume>(&key, |v| v.phase = PvPhase::Released);
                    if pv.reclaim_policy == ReclaimPolicy::Retain {
                        ctx.decision(
                            COMPONENT,
                            "VolumeReleased",
                            object.clone(),
                            (
                                format!("volume {} was bound to claim {claim}, which is gone", key.name),
                                "reclaim policy Retain: keep the volume and its data for an administrator".into(),
                                "set phase Released".into(),
                            ),
                            format!("Volume {} released: claim {claim} deleted; reclaim policy Retain keeps it (phase Released, not reused)", key.name),
                        );
                    }
                }
                // Delete: once the volume is detached everywhere
                let busy = !pv.attached.is_empty() || self.ops.keys().any(|(v, _)| *v == key.name);
                if pv.reclaim_policy == ReclaimPolicy::Delete && !busy {
                    let _ = ctx.api.delete::<PersistentVolume>(&key);
                    ctx.decision(
                        COMPONENT,
                        "VolumeDeleted",
                        object,
                        (
                            format!("volume {} was bound to claim {claim}, which is gone; it is attached nowhere", key.name),
                            "reclaim policy Delete: the volume goes with its claim".into(),
                            "delete the volume".into(),
                        ),
                        format!("Volume {} deleted: claim {claim} deleted; reclaim policy Delete", key.name),
                    );
                }
                continue;
            }
            if pv.phase == PvPhase::Pending && pv.claim_ref.as_ref().is_none_or(|r| r.uid.is_none())
            {
                let _ = ctx
                    .api
                    .update_status::<PersistentVolume>(&key, |v| v.phase = PvPhase::Available);
            }
        }
    }

    fn reconcile_claims(&mut self, ctx: &mut Ctx) {
        let claims: Vec<PersistentVolumeClaim> =
            ctx.api.list::<PersistentVolumeClaim>().cloned().collect();
        for c in claims {
            let key = c.meta.key();
            let object = object_ref(Kind::PersistentVolumeClaim, &key);
            if c.meta.deletion_timestamp.is_some() {
                self.protect(ctx, &c);
                continue;
            }
            if c.phase == ClaimPhase::Bound {
                let ok = c.volume_name.as_ref().is_some_and(|v| {
                    ctx.api
                        .get::<PersistentVolume>(&ObjKey::cluster(v.clone()))
                        .is_some_and(|pv| {
                            pv.claim_ref
                                .as_ref()
                                .is_some_and(|r| r.uid == Some(c.meta.uid))
                        })
                });
                if !ok {
                    let _ = ctx.api.update_status::<PersistentVolumeClaim>(&key, |x| {
                        x.phase = ClaimPhase::Lost
                    });
                    ctx.event(
                        COMPONENT,
                        EventType::Warning,
                        "ClaimLost",
                        object,
                        "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
                            .into(),
                    );
                }
                continue;
            }
            if c.phase == ClaimPhase::Lost {
                continue;
            }
            self.bind_or_provision(ctx, c);
        }
    }

    /// PVC protection: a deleted claim goes once no pod uses it.
    fn protect(&mut self, ctx: &mut Ctx, c: &PersistentVolumeClaim) {
        if !c.meta.has_finalizer(PVC_PROTECTION) {
            return;
        }
        let key = c.meta.key();
        let users = pods_using(ctx, &self.users, &key);
        if users.is_empty() {
            let _ = ctx.api.update_status::<PersistentVolumeClaim>(&key, |x| {
                x.meta.finalizers.retain(|f| f != PVC_PROTECTION)
            });
        } else if self.once(c.meta.uid, "protect") {
            let names: Vec<String> = users.iter().map(|u| u.pod.name.clone()).collect();
            ctx.decision(
                "pvc-protection-controller",
                "ClaimInUse",
                object_ref(Kind::PersistentVolumeClaim, &key),
                (
                    format!("claim deleted while pod(s) {} use it", names.join(", ")),
                    "a claim in use is not removed".into(),
                    format!("keep the {PVC_PROTECTION} finalizer until no pod uses it"),
                ),
                format!(
                    "Claim {key} is Terminating: still used by pod(s) {}",
                    names.join(", ")
                ),
            );
        }
    }

    fn bind_or_provision(&mut self, ctx: &mut Ctx, c: PersistentVolumeClaim) {
        let key = c.meta.key();
        let object = object_ref(Kind::PersistentVolumeClaim, &key);
        // a claim that names its volume binds to that one only
        if let Some(v) = c.volume_name.clone() {
            let pv = ctx
                .api
                .get::<PersistentVolume>(&ObjKey::cluster(v.clone()))
                .cloned();
            match pv {
                Some(pv)
                    if pv.phase == PvPhase::Available
                        && pv
                            .claim_ref
                            .as_ref()
                            .is_none_or(|r| r.namespace == key.namespace && r.name == key.name)
                        && c.matches(&pv) =>
                {
                    self.bind(
                        ctx,
                        &c,
                        &pv,
                        "the claim names this volume (spec.volumeName)",
                    );
                }
                _ => {
                    if self.once(c.meta.uid, "volumeName") {
                        ctx.event(
                            COMPONENT,
                            EventType::Warning,
                            "FailedBinding",
                            object,
                            format!("volume {v:?} requested by the claim is not available or does not match it"),
                        );
                    }
                }
            }
            return;
        }
        let class = ctx
            .api
            .get::<StorageClass>(&ObjKey::cluster(c.class()))
            .cloned();
        let mode = class
            .as_ref()
            .map_or(BindingMode::Immediate, |s| s.binding_mode);
        let mut selected = c.selected_node().map(str::to_string);
        if mode == BindingMode::WaitForFirstConsumer && selected.is_none() {
            let consumer = pods_using(ctx, &self.users, &key).into_iter().next();
            match consumer {
                Some(u) => {
                    // what the scheduler's VolumeBinding PreBind writes
                    let node = u.node.clone();
                    let _ = ctx.api.update::<PersistentVolumeClaim>(&key, |x| {
                        x.meta
                            .annotations
                            .insert(ANN_SELECTED_NODE.into(), node.clone());
                    });
                    ctx.decision(
                        COMPONENT,
                        "SelectedNode",
                        object.clone(),
                        (
                            format!("WaitForFirstConsumer claim; its first consumer {} was scheduled to {node}", u.pod),
                            "bind or provision for the consumer's node".into(),
                            format!("annotate {ANN_SELECTED_NODE}={node}"),
                        ),
                        format!("Claim {key}: first consumer {} is on node {node}; binding for that node", u.pod.name),
                    );
                    selected = Some(node);
                }
                None => {
                    if self.once(c.meta.uid, "wffc") {
                        ctx.event(
                            COMPONENT,
                            EventType::Normal,
                            "WaitForFirstConsumer",
                            object,
                            "waiting for first consumer to be created before binding".into(),
                        );
                    }
                    return;
                }
            }
        }
        let node_labels = selected.as_ref().and_then(|n| {
            ctx.api
                .get::<Node>(&ObjKey::cluster(n.clone()))
                .map(|n| n.meta.labels.clone())
        });
        // static binding: the smallest available volume that matches
        let best = ctx
            .api
            .list::<PersistentVolume>()
            .filter(|pv| {
                pv.phase == PvPhase::Available
                    && pv.claim_ref.as_ref().is_none_or(|r| {
                        r.uid.is_none() && r.namespace == key.namespace && r.name == key.name
                    })
                    && c.matches(pv)
                    && match (&selected, &node_labels) {
                        (Some(n), Some(l)) => pv.fits_node(n, l),
                        (Some(_), None) => false,
                        _ => true,
                    }
            })
            .min_by_key(|pv| (pv.capacity, pv.meta.name.clone()))
            .cloned();
        if let Some(pv) = best {
            self.bind(
                ctx,
                &c,
                &pv,
                "the smallest available volume with the claim's class and access modes and enough capacity",
            );
            return;
        }
        let Some(sc) = class.filter(|s| s.can_provision()) else {
            if self.once(c.meta.uid, "nobinding") {
                let msg = match c.class() {
                    "" => "no persistent volumes available for this claim and no storage class is set".to_string(),
                    n if ctx.api.get::<StorageClass>(&ObjKey::cluster(n)).is_none() => {
                        format!("storageclass.storage.k8s.io {n:?} not found")
                    }
                    n => format!("no persistent volumes available for this claim and storage class {n:?} does not provision"),
                };
                ctx.event(COMPONENT, EventType::Warning, "FailedBinding", object, msg);
            }
            return;
        };
        self.provision(ctx, &c, &sc, selected.as_deref(), node_labels.as_ref());
    }

    fn provision(
        &mut self,
        ctx: &mut Ctx,
        c: &PersistentVolumeClaim,
        sc: &StorageClass,
        node: Option<&str>,
        node_labels: Option<&crate::api::selector::Labels>,
    ) {
        let key = c.meta.key();
        let object = object_ref(Kind::PersistentVolumeClaim, &key);
        let now = ctx.now;
        if let Some(p) = self.provisioning.get(&key).cloned() {
            if p.claim_uid == c.meta.uid {
                if p.due <= now {
                    self.provisioning.remove(&key);
                    self.create_volume(ctx, c, sc, p.zone);
                }
                return;
            }
        }
        let zone = match node {
            Some(_) => node_labels.and_then(|l| l.get(LABEL_ZONE)).cloned(),
            None => {
                // Immediate: any zone the class allows, else any zone with nodes
                let mut zones = sc.allowed_zones.clone();
                if zones.is_empty() {
                    zones = ctx
                        .api
                        .list::<Node>()
                        .filter_map(|n| n.meta.labels.get(LABEL_ZONE).cloned())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect();
                }
                (!zones.is_empty()).then(|| zones[(c.meta.uid.0 as usize) % zones.len()].clone())
            }
        };
        if !sc.allows_zone(zone.as_deref()) {
            if self.once(c.meta.uid, "zone") {
                ctx.event(
                    &sc.provisioner,
                    EventType::Warning,
                    "ProvisioningFailed",
                    object,
                    format!(
                        "failed to provision volume with StorageClass {:?}: zone {:?} of node {:?} is not in allowedTopologies [{}]",
                        sc.meta.name,
                        zone.unwrap_or_default(),
                        node.unwrap_or(""),
                        sc.allowed_zones.join(", ")
                    ),
                );
            }
            return;
        }
        let due = now + self.settings.provisioning;
        self.provisioning.insert(
            key.clone(),
            Provisioning {
                claim_uid: c.meta.uid,
                due,
                zone: zone.clone(),
            },
        );
        ctx.event(
            COMPONENT,
            EventType::Normal,
            "ExternalProvisioning",
            object.clone(),
            format!("Waiting for a volume to be created either by the external provisioner {:?} or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", sc.provisioner),
        );
        ctx.decision(
            &sc.provisioner,
            "Provisioning",
            object,
            (
                format!(
                    "claim {key} Pending: no available volume matches ({} of class {})",
                    crate::api::quantity::format_bytes(c.request),
                    sc.meta.name
                ),
                "a volume for the claim".into(),
                format!(
                    "provision {} in {} (ready in {})",
                    crate::api::quantity::format_bytes(c.request),
                    match (&zone, node) {
                        (Some(z), Some(n)) => format!("zone {z}, the zone of node {n}"),
                        (Some(z), None) => format!("zone {z}"),
                        (None, _) => "no particular zone".into(),
                    },
                    self.settings.provisioning
                ),
            ),
            format!(
                "External provisioner is provisioning volume for claim {:?}",
                key.to_string()
            ),
        );
    }

    fn create_volume(
        &mut self,
        ctx: &mut Ctx,
        c: &PersistentVolumeClaim,
        sc: &StorageClass,
        zone: Option<String>,
    ) {
        let name = format!("pvc-{}", c.meta.uid);
        let mut meta = ObjectMeta::new("", &name);
        meta.annotations
            .insert(ANN_PROVISIONED_BY.into(), sc.provisioner.clone());
        let mut node_affinity = Vec::new();
        if let Some(z) = &zone {
            meta.labels.insert(LABEL_ZONE.into(), z.clone());
            node_affinity.push(NodeSelectorTerm {
                match_expressions: vec![NodeSelectorRequirement {
                    key: LABEL_ZONE.into(),
                    operator: NodeSelectorOperator::In,
                    values: vec![z.clone()],
                }],
                match_fields: Vec::new(),
            });
        }
        let pv = PersistentVolume {
            meta,
            capacity: c.request,
            access_modes: c.access_modes.clone(),
            storage_class: sc.meta.name.clone(),
            node_affinity,
            claim_ref: Some(ClaimRef {
                namespace: c.meta.namespace.clone(),
                name: c.meta.name.clone(),
                uid: None,
            }),
            reclaim_policy: sc.reclaim_policy,
            phase: PvPhase::Available,
            attached: Vec::new(),
        };
        let object = object_ref(Kind::PersistentVolumeClaim, &c.meta.key());
        match ctx.api.create(pv) {
            Ok(pv) => {
                let pv = pv.clone();
                ctx.event(
                    &sc.provisioner,
                    EventType::Normal,
                    "ProvisioningSucceeded",
                    object,
                    format!(
                        "Successfully provisioned volume {name}{}",
                        zone.map(|z| format!(" in zone {z}")).unwrap_or_default()
                    ),
                );
                self.bind(ctx, c, &pv, "the volume provisioned for this claim");
            }
            Err(e) => ctx.event(
                &sc.provisioner,
                EventType::Warning,
                "ProvisioningFailed",
                object,
                format!(
                    "failed to provision volume with StorageClass {:?}: {e}",
                    sc.meta.name
                ),
            ),
        }
    }

    fn bind(&mut self, ctx: &mut Ctx, c: &PersistentVolumeClaim, pv: &PersistentVolume, why: &str) {
        let key = c.meta.key();
        let pv_key = pv.meta.key();
        let uid = c.meta.uid;
        let r = ctx.api.update_status::<PersistentVolume>(&pv_key, |v| {
            v.claim_ref = Some(ClaimRef {
                namespace: key.namespace.clone(),
                name: key.name.clone(),
                uid: Some(uid),
            });
            v.phase = PvPhase::Bound;
        });
        if r.is_err() {
            return;
        }
        let cap = pv.capacity;
        let _ = ctx.api.update_status::<PersistentVolumeClaim>(&key, |x| {
            x.volume_name = Some(pv_key.name.clone());
            x.phase = ClaimPhase::Bound;
            x.capacity = Some(cap);
            x.meta
                .annotations
                .insert(ANN_BIND_COMPLETED.into(), "yes".into());
        });
        ctx.decision(
            COMPONENT,
            "Bound",
            object_ref(Kind::PersistentVolumeClaim, &key),
            (
                format!(
                    "claim {key} Pending: {} {} of class {:?}",
                    crate::api::storage::access_modes_short(&c.access_modes),
                    crate::api::quantity::format_bytes(c.request),
                    c.class()
                ),
                "the claim bound to a volume".into(),
                format!(
                    "bind to volume {} ({})",
                    pv_key.name,
                    crate::api::quantity::format_bytes(cap)
                ),
            ),
            format!("Claim {key} bound to volume {}: {why}", pv_key.name),
        );
    }

    /// Attach each bound volume to the nodes of the pods that use it; detach it
    /// from nodes where none does.
    fn attach_detach(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        let mut users: BTreeMap<String, Vec<User>> = BTreeMap::new();
        let mut pods: Vec<&Pod> = self
            .users
            .iter()
            .filter_map(|k| ctx.api.get::<Pod>(k))
            .filter(|p| {
                p.node_name.is_some()
                    && !p.status.phase.is_terminal()
                    && p.spec.claims().next().is_some()
            })
            .collect();
        pods.sort_by_key(|p| (p.meta.creation_timestamp, p.meta.key()));
        for p in pods {
            for claim in p.spec.claims() {
                let Some(c) = ctx
                    .api
                    .get::<PersistentVolumeClaim>(&ObjKey::new(&p.meta.namespace, claim))
                else {
                    continue;
                };
                if let (ClaimPhase::Bound, Some(v)) = (c.phase, &c.volume_name) {
                    users.entry(v.clone()).or_default().push(User {
                        node: p.node_name.clone().unwrap_or_default(),
                        pod: p.meta.key(),
                        uid: p.meta.uid,
                    });
                }
            }
        }
        let names: BTreeSet<String> = users
            .keys()
            .cloned()
            .chain(
                ctx.api
                    .list::<PersistentVolume>()
                    .filter(|v| !v.attached.is_empty())
                    .map(|v| v.meta.name.clone()),
            )
            .chain(self.ops.keys().map(|(v, _)| v.clone()))
            .collect();
        for name in names {
            let key = ObjKey::cluster(name.clone());
            let Some(pv) = ctx.api.get::<PersistentVolume>(&key).cloned() else {
                self.ops.retain(|(v, _), _| *v != name);
                continue;
            };
            let us = users.remove(&name).unwrap_or_default();
            let mut wanted: Vec<String> = Vec::new();
            for u in &us {
                if !wanted.contains(&u.node) {
                    wanted.push(u.node.clone());
                }
            }
            let mut attached = pv.attached.clone();
            // operations that are done
            let done: Vec<((String, String), bool)> = self
                .ops
                .iter()
                .filter(|((v, _), (t, _))| *v == name && *t <= now)
                .map(|(k, (_, a))| (k.clone(), *a))
                .collect();
            for ((_, node), attach) in done {
                self.ops.remove(&(name.clone(), node.clone()));
                if attach {
                    if !attached.contains(&node) {
                        attached.push(node.clone());
                    }
                    for u in us.iter().filter(|u| u.node == node) {
                        ctx.event(
                            ATTACH_COMPONENT,
                            EventType::Normal,
                            "SuccessfulAttachVolume",
                            object_ref(Kind::Pod, &u.pod),
                            format!("AttachVolume.Attach succeeded for volume {name:?}"),
                        );
                    }
                } else {
                    attached.retain(|n| *n != node);
                    ctx.decision(
                        ATTACH_COMPONENT,
                        "Detached",
                        object_ref(Kind::PersistentVolume, &key),
                        (
                            format!("volume {name} attached to {node}, where no pod uses it"),
                            "attached only where used".into(),
                            format!("detached from {node}"),
                        ),
                        format!(
                            "DetachVolume.Detach succeeded for volume {name:?} from node {node:?}"
                        ),
                    );
                }
            }
            if attached != pv.attached {
                let a = attached.clone();
                let _ = ctx
                    .api
                    .update_status::<PersistentVolume>(&key, |v| v.attached = a);
            }
            // detach where no pod uses it any more
            for node in attached.iter().filter(|n| !wanted.contains(n)) {
                let op = (name.clone(), node.clone());
                if !self.ops.contains_key(&op) {
                    self.ops.insert(op, (now + self.settings.detach, false));
                }
            }
            // attach where wanted
            let exclusive = single_node(&pv.access_modes);
            for node in &wanted {
                let op = (name.clone(), node.clone());
                if attached.contains(node) || self.ops.contains_key(&op) {
                    continue;
                }
                let elsewhere: Vec<&String> = attached
                    .iter()
                    .chain(
                        self.ops
                            .iter()
                            .filter(|((v, n), (_, a))| *v == name && *a && n != node)
                            .map(|((_, n), _)| n),
                    )
                    .filter(|n| *n != node)
                    .collect();
                if exclusive && !elsewhere.is_empty() {
                    let others: Vec<String> = us
                        .iter()
                        .filter(|u| u.node != *node)
                        .map(|u| u.pod.name.clone())
                        .collect();
                    let msg = if others.is_empty() {
                        format!("Multi-Attach error for volume {name:?} Volume is already exclusively attached to one node and can't be attached to another")
                    } else {
                        format!(
                            "Multi-Attach error for volume {name:?} Volume is already used by pod(s) {}",
                            others.join(", ")
                        )
                    };
                    for u in us.iter().filter(|u| u.node == *node) {
                        if self.once(u.uid, &format!("multi-attach {name}")) {
                            ctx.event(
                                ATTACH_COMPONENT,
                                EventType::Warning,
                                "FailedAttachVolume",
                                object_ref(Kind::Pod, &u.pod),
                                msg.clone(),
                            );
                        }
                    }
                    continue;
                }
                self.ops.insert(op, (now + self.settings.attach, true));
            }
        }
    }
}

/// The existing, unfinished pods bound to a node that use claim `key`, oldest first.
fn pods_using(ctx: &Ctx, users: &BTreeSet<ObjKey>, key: &ObjKey) -> Vec<User> {
    let mut v: Vec<(SimTime, User)> = users
        .iter()
        .filter_map(|k| ctx.api.get::<Pod>(k))
        .filter(|p| {
            p.meta.namespace == key.namespace
                && p.node_name.is_some()
                && !p.status.phase.is_terminal()
                && p.spec.claims().any(|c| c == key.name)
        })
        .map(|p| {
            (
                p.meta.creation_timestamp,
                User {
                    node: p.node_name.clone().unwrap_or_default(),
                    pod: p.meta.key(),
                    uid: p.meta.uid,
                },
            )
        })
        .collect();
    v.sort_by(|a, b| (a.0, &a.1.pod).cmp(&(b.0, &b.1.pod)));
    v.into_iter().map(|(_, u)| u).collect()
}
