//! The API server and its store (the etcd state).
//!
//! Every write goes through here: it assigns uids and a strictly increasing
//! `resourceVersion`, runs admission, keeps the owner → dependents index, and
//! queues a [`Change`] that the simulation delivers to watching components after
//! the watch delay. Components never call each other; they only write here.

use super::apps::{DaemonSet, ReplicationController, StatefulSet};
use super::autoscaling::{HorizontalPodAutoscaler, VerticalPodAutoscaler};
use super::config::{ConfigMap, Secret};
use super::ingress::{Ingress, IngressClass};
use super::job::{CronJob, Job};
use super::meta::{Kind, ObjKey, ObjectMeta, Uid, FINALIZER_FOREGROUND, FINALIZER_ORPHAN};
use super::node::Node;
use super::pod::Pod;
use super::pod::PodSpec;
use super::policy::PodDisruptionBudget;
use super::scheduling::{PriorityClass, SYSTEM_CLASSES};
use super::service::{Namespace, Service};
use super::storage::{PersistentVolume, PersistentVolumeClaim, StorageClass};
use super::table::Table;
use super::taint::{TaintEffect, Toleration, TolerationOperator};
use super::totals::{PodTotals, Tally};
use super::workload::{Deployment, ReplicaSet};
use crate::sim::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Added,
    Modified,
    Deleted,
}

/// A watch notification. It carries keys, not objects: a component reacting to
/// it reads the current state (level-triggered), as a real controller does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    pub key: ObjKey,
    pub uid: Uid,
    pub op: Op,
    /// For pods: the node it is bound to (routes the change to that node's kubelet).
    pub node: Option<String>,
    /// The controlling owner (kind and name, same namespace), if any.
    pub owner: Option<(Kind, String)>,
}

/// The watch notification for a write of `obj`.
fn change_of<T: Object>(obj: &T, op: Op) -> Change {
    let m = obj.meta();
    Change {
        kind: T::KIND,
        key: m.key(),
        uid: m.uid,
        op,
        node: obj.bound_node().map(str::to_string),
        owner: m.controller_ref().map(|o| (o.kind, o.name.clone())),
    }
}

/// How a delete treats the object's dependents (`metav1.DeletionPropagation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Remove the owner now; the garbage collector deletes the dependents afterwards.
    #[default]
    Background,
    /// Keep the owner (deletionTimestamp + `foregroundDeletion` finalizer) until
    /// the garbage collector has deleted the dependents that block it.
    Foreground,
    /// Keep the owner (deletionTimestamp + `orphan` finalizer) until the garbage
    /// collector has removed the dependents' ownerReferences to it; they live on.
    Orphan,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The object does not exist.
    #[error("{kind} {key} not found")]
    NotFound { kind: Kind, key: ObjKey },
    /// An object of that kind and name exists already.
    #[error("{kind} {key} already exists")]
    AlreadyExists { kind: Kind, key: ObjKey },
    /// NamespaceLifecycle admission: the namespace does not exist or is terminating.
    #[error("namespace {0:?} not found (create the Namespace first)")]
    NamespaceNotFound(String),
    /// Rejected by validation.
    #[error("{0}")]
    Invalid(String),
}

/// A stored kind: how to reach its metadata and its table in the store.
pub trait Object: Clone {
    const KIND: Kind;
    fn meta(&self) -> &ObjectMeta;
    fn meta_mut(&mut self) -> &mut ObjectMeta;
    fn table(s: &Store) -> &Table<Self>;
    fn table_mut(s: &mut Store) -> &mut Table<Self>;
    /// The node a pod is bound to; `None` for other kinds.
    fn bound_node(&self) -> Option<&str> {
        None
    }
    /// What a pod adds to the API server's [`PodTotals`]; `None` for other kinds.
    fn tally(&self) -> Option<Tally> {
        None
    }
    /// Mutating and validating admission on create (only pods have any).
    fn admit(&mut self, _adm: &mut Admission, _store: &Store) -> Result<(), ApiError> {
        Ok(())
    }
}

/// Admission plugins' state.
#[derive(Debug, Default)]
pub struct Admission {
    /// Pod admission (Priority, DefaultTolerationSeconds): pod specs already resolved, keyed by the address of the
    /// template's spec (kept alive here, so an address is never reused). Pods stamped
    /// from one template then share one resolved spec instead of one copy each.
    /// Only shared specs are cached (a pod with a spec of its own, such as a
    /// trace's, is resolved in place), and templates nobody else holds any more
    /// are dropped as the cache grows, so a long run does not accumulate specs.
    resolved: BTreeMap<usize, (Arc<PodSpec>, Arc<PodSpec>)>,
    /// Cache size after the last prune of `resolved`.
    resolved_kept: usize,
    /// The next service IP to try (offset in the service CIDR).
    next_ip: u32,
    /// `--service-cluster-ip-range`.
    pub service_cidr: super::service::ServiceCidr,
    /// The next node port to try.
    next_node_port: i32,
}

/// Taint keys the node-lifecycle controller sets (`node.kubernetes.io/...`).
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// DefaultTolerationSeconds admission: `--default-not-ready-toleration-seconds`
/// and `--default-unreachable-toleration-seconds` (both 300).
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// The Priority admission plugin's verdict: `priorityClassName` → `priority` and
/// `preemptionPolicy`; no class name → the globalDefault class, if any.
/// `Ok(None)`: nothing to change.
#[allow(clippy::type_complexity)]
fn priority_for(pod: &Pod, store: &Store) -> Result<Option<(i32, bool, Option<String>)>, ApiError> {
    let class = match &pod.spec.priority_class_name {
        Some(name) => {
            let system = SYSTEM_CLASSES.iter().find(|(n, _)| n == name);
            match (
                store.priority_classes.get(&ObjKey::cluster(name.clone())),
                system,
            ) {
                (Some(pc), _) => Some((pc.value, pc.never_preempt, None)),
                (None, Some((_, v))) => Some((*v, false, None)),
                (None, None) => {
                    return Err(ApiError::Invalid(format!(
                        "pods {:?} is forbidden: no PriorityClass with name {name} was found",
                        pod.meta.name
                    )))
                }
            }
        }
        None => store
            .priority_classes
            .values()
            .filter(|pc| pc.global_default)
            .max_by_key(|pc| pc.value)
            .map(|pc| (pc.value, pc.never_preempt, Some(pc.meta.name.clone()))),
    };
    let Some((value, never, default_name)) = class else {
        return Ok(None);
    };
    let s = &pod.spec;
    if s.priority == value
        && s.never_preempt == never
        && (default_name.is_none() || s.priority_class_name == default_name)
    {
        return Ok(None);
    }
    Ok(Some((value, never, default_name)))
}

/// The DefaultTolerationSeconds admission plugin's verdict: which of the
/// `not-ready` and `unreachable` NoExecute tolerations (300 s) the pod lacks. As
/// upstream, a toleration with that key (or an empty key) and effect NoExecute
/// (or no effect) counts as having it.
fn missing_default_tolerations(spec: &PodSpec) -> (bool, bool) {
    let has = |key: &str| {
        spec.tolerations.iter().any(|t| {
            (t.key == key || t.key.is_empty())
                && matches!(t.effect, None | Some(TaintEffect::NoExecute))
        })
    };
    (!has(TAINT_NOT_READY), !has(TAINT_UNREACHABLE))
}

/// Pod admission: Priority, then DefaultTolerationSeconds. Both mutate the spec;
/// pods stamped from one template share one admitted spec (the `Admission`
/// cache), so neither clones a spec per pod.
fn admit_pod(pod: &mut Pod, adm: &mut Admission, store: &Store) -> Result<(), ApiError> {
    let priority = priority_for(pod, store)?;
    let (not_ready, unreachable) = missing_default_tolerations(&pod.spec);
    if priority.is_none() && !not_ready && !unreachable {
        return Ok(());
    }
    let addr = Arc::as_ptr(&pod.spec) as usize;
    if let Some((_, resolved)) = adm.resolved.get(&addr) {
        pod.spec = resolved.clone();
        return Ok(());
    }
    // a spec only this pod holds: no template to share the result with
    let shared = Arc::strong_count(&pod.spec) > 1;
    let original = shared.then(|| pod.spec.clone());
    let spec = Arc::make_mut(&mut pod.spec);
    if let Some((value, never, default_name)) = priority {
        spec.priority = value;
        spec.never_preempt = never;
        if default_name.is_some() {
            spec.priority_class_name = default_name;
        }
    }
    for (missing, key) in [
        (not_ready, TAINT_NOT_READY),
        (unreachable, TAINT_UNREACHABLE),
    ] {
        if missing {
            spec.tolerations.push(Toleration {
                key: key.to_string(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: Some(TaintEffect::NoExecute),
                toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
            });
        }
    }
    if let Some(original) = original {
        if adm.resolved.len() >= 2 * adm.resolved_kept + 64 {
            // the cache alone holds these templates: their address can never
            // come back while the entry lives, and no pod will ask again
            adm.resolved.retain(|_, (o, _)| Arc::strong_count(o) > 1);
            adm.resolved_kept = adm.resolved.len();
        }
        adm.resolved.insert(addr, (original, pod.spec.clone()));
    }
    Ok(())
}

macro_rules! object_impl {
    ($t:ty, $kind:expr, $field:ident) => {
        object_impl!(
            $t,
            $kind,
            $field,
            |_o: &mut $t, _a: &mut Admission, _s: &Store| Ok(())
        );
    };
    ($t:ty, $kind:expr, $field:ident, $admit:expr) => {
        impl Object for $t {
            fn admit(&mut self, adm: &mut Admission, store: &Store) -> Result<(), ApiError> {
                $admit(self, adm, store)
            }
            const KIND: Kind = $kind;
            fn meta(&self) -> &ObjectMeta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.meta
            }
            fn table(s: &Store) -> &Table<Self> {
                &s.$field
            }
            fn table_mut(s: &mut Store) -> &mut Table<Self> {
                &mut s.$field
            }
        }
    };
}

object_impl!(Namespace, Kind::Namespace, namespaces);
object_impl!(Node, Kind::Node, nodes);
object_impl!(ReplicaSet, Kind::ReplicaSet, replicasets);
object_impl!(Deployment, Kind::Deployment, deployments);
object_impl!(Service, Kind::Service, services, admit_service);
object_impl!(PriorityClass, Kind::PriorityClass, priority_classes);
object_impl!(Job, Kind::Job, jobs);
object_impl!(StatefulSet, Kind::StatefulSet, statefulsets);
object_impl!(DaemonSet, Kind::DaemonSet, daemonsets);
object_impl!(
    ReplicationController,
    Kind::ReplicationController,
    replication_controllers
);
object_impl!(CronJob, Kind::CronJob, cronjobs);
object_impl!(ConfigMap, Kind::ConfigMap, config_maps);
object_impl!(Secret, Kind::Secret, secrets);
object_impl!(StorageClass, Kind::StorageClass, storage_classes);
object_impl!(Ingress, Kind::Ingress, ingresses);
object_impl!(IngressClass, Kind::IngressClass, ingress_classes);
object_impl!(PersistentVolume, Kind::PersistentVolume, persistent_volumes);
object_impl!(
    PodDisruptionBudget,
    Kind::PodDisruptionBudget,
    pod_disruption_budgets
);
object_impl!(
    HorizontalPodAutoscaler,
    Kind::HorizontalPodAutoscaler,
    horizontal_pod_autoscalers
);
object_impl!(
    VerticalPodAutoscaler,
    Kind::VerticalPodAutoscaler,
    vertical_pod_autoscalers
);
object_impl!(
    PersistentVolumeClaim,
    Kind::PersistentVolumeClaim,
    persistent_volume_claims,
    admit_claim
);

/// The DefaultStorageClass admission plugin: a claim that names no class gets the
/// default StorageClass (the newest one if several are marked default). The
/// StorageObjectInUseProtection plugin adds the `kubernetes.io/pvc-protection`
/// finalizer, so a claim in use outlives its deletion until no pod uses it.
fn admit_claim(
    pvc: &mut PersistentVolumeClaim,
    _adm: &mut Admission,
    store: &Store,
) -> Result<(), ApiError> {
    if pvc.storage_class.is_none() {
        if let Some(sc) = store
            .storage_classes
            .values()
            .filter(|c| c.is_default())
            .max_by_key(|c| (c.meta.creation_timestamp, c.meta.name.clone()))
        {
            pvc.storage_class = Some(sc.meta.name.clone());
        }
    }
    const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
    if !pvc.meta.has_finalizer(PVC_PROTECTION) {
        pvc.meta.finalizers.push(PVC_PROTECTION.into());
    }
    Ok(())
}

impl Object for Pod {
    const KIND: Kind = Kind::Pod;
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
    fn table(s: &Store) -> &Table<Self> {
        &s.pods
    }
    fn table_mut(s: &mut Store) -> &mut Table<Self> {
        &mut s.pods
    }
    fn bound_node(&self) -> Option<&str> {
        self.node_name.as_deref()
    }
    fn tally(&self) -> Option<Tally> {
        Some(Tally::of(self))
    }
    fn admit(&mut self, adm: &mut Admission, store: &Store) -> Result<(), ApiError> {
        admit_pod(self, adm, store)?;
        // the VPA admission controller (a webhook upstream)
        crate::autoscaler::vpa::admit(self, store);
        Ok(())
    }
}

/// The API server's allocators for a new Service: a ClusterIP from the service
/// CIDR (a requested one must be free and inside it), and NodePorts for
/// NodePort and LoadBalancer Services (a requested one must be free:
/// `provided port is already allocated`).
fn admit_service(svc: &mut Service, adm: &mut Admission, store: &Store) -> Result<(), ApiError> {
    use super::service::{format_ip, parse_ip, ServiceType, NODE_PORT_RANGE};
    let cidr = adm.service_cidr;
    let (base, size) = (cidr.base, cidr.size);
    let used_ips: std::collections::BTreeSet<&str> = store
        .services
        .values()
        .filter_map(|s| s.cluster_ip.as_deref())
        .collect();
    let used_ports: std::collections::BTreeSet<i32> = store
        .services
        .values()
        .flat_map(|s| s.ports.iter().filter_map(|p| p.node_port))
        .collect();
    if svc.service_type != ServiceType::ExternalName {
        match svc.cluster_ip.as_deref() {
            Some("None") => {}
            Some(ip) if !ip.is_empty() => {
                let inside = parse_ip(ip).is_some_and(|x| {
                    (u64::from(base)..u64::from(base) + u64::from(size)).contains(&u64::from(x))
                });
                if !inside {
                    return Err(ApiError::Invalid(format!(
                        "Service {:?} is invalid: spec.clusterIPs: Invalid value: {ip:?}: failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {cidr}",
                        svc.meta.name
                    )));
                }
                if used_ips.contains(ip) {
                    return Err(ApiError::Invalid(format!(
                        "Service {:?} is invalid: spec.clusterIPs: Invalid value: {ip:?}: failed to allocate IP {ip}: provided IP is already allocated",
                        svc.meta.name
                    )));
                }
            }
            _ => {
                let mut found = None;
                // the first addresses are kept for the `kubernetes` Service and DNS
                let first = 10.min(size / 4);
                for _ in 0..size {
                    let off = first + adm.next_ip % (size - first);
                    adm.next_ip = adm.next_ip.wrapping_add(1);
                    let ip = format_ip(base + off);
                    if !used_ips.contains(ip.as_str()) {
                        found = Some(ip);
                        break;
                    }
                }
                svc.cluster_ip = Some(found.ok_or_else(|| {
                    ApiError::Invalid(
                        "Internal error: failed to allocate a serviceIP: range is full".into(),
                    )
                })?);
            }
        }
    }
    if matches!(
        svc.service_type,
        ServiceType::NodePort | ServiceType::LoadBalancer
    ) {
        let mut taken: std::collections::BTreeSet<i32> = used_ports;
        for i in 0..svc.ports.len() {
            match svc.ports[i].node_port {
                Some(np) => {
                    if !taken.insert(np) {
                        return Err(ApiError::Invalid(format!(
                            "Service {:?} is invalid: spec.ports[{i}].nodePort: Invalid value: {np}: provided port is already allocated",
                            svc.meta.name
                        )));
                    }
                }
                None => {
                    let size = NODE_PORT_RANGE.end() - NODE_PORT_RANGE.start() + 1;
                    let mut got = None;
                    for _ in 0..size {
                        let np = NODE_PORT_RANGE.start() + adm.next_node_port.rem_euclid(size);
                        adm.next_node_port = adm.next_node_port.wrapping_add(1);
                        if taken.insert(np) {
                            got = Some(np);
                            break;
                        }
                    }
                    svc.ports[i].node_port = Some(got.ok_or_else(|| {
                        ApiError::Invalid(
                            "Internal error: failed to allocate a nodePort: range is full".into(),
                        )
                    })?);
                }
            }
        }
    }
    Ok(())
}

/// The objects, one ordered table per kind.
#[derive(Debug, Default)]
pub struct Store {
    pub namespaces: Table<Namespace>,
    pub nodes: Table<Node>,
    pub pods: Table<Pod>,
    pub replicasets: Table<ReplicaSet>,
    pub deployments: Table<Deployment>,
    pub services: Table<Service>,
    pub priority_classes: Table<PriorityClass>,
    pub jobs: Table<Job>,
    pub config_maps: Table<ConfigMap>,
    pub secrets: Table<Secret>,
    pub storage_classes: Table<StorageClass>,
    pub persistent_volumes: Table<PersistentVolume>,
    pub persistent_volume_claims: Table<PersistentVolumeClaim>,
    pub ingresses: Table<Ingress>,
    pub ingress_classes: Table<IngressClass>,
    pub pod_disruption_budgets: Table<PodDisruptionBudget>,
    pub horizontal_pod_autoscalers: Table<HorizontalPodAutoscaler>,
    pub vertical_pod_autoscalers: Table<VerticalPodAutoscaler>,
    pub statefulsets: Table<StatefulSet>,
    pub daemonsets: Table<DaemonSet>,
    pub replication_controllers: Table<ReplicationController>,
    pub cronjobs: Table<CronJob>,
}

/// Counters the summary reports.
#[derive(Debug, Clone, Default)]
pub struct ApiStats {
    pub writes: u64,
    pub pods_created: u64,
    /// Pods that reached Succeeded, and when the last one did (makespan).
    pub pods_succeeded: u64,
    pub last_success: Option<SimTime>,
}

/// The API server.
#[derive(Debug)]
pub struct ApiServer {
    store: Store,
    resource_version: u64,
    next_uid: u64,
    now: SimTime,
    changes: Vec<Change>,
    /// owner uid → dependents, for cascading deletion and "pods of this
    /// ReplicaSet", each with its store slot so that a controller reading all
    /// its pods on every sync does not hash their keys again.
    dependents: BTreeMap<Uid, BTreeMap<(Kind, ObjKey), u32>>,
    /// Objects with no controller ownerReference: candidates for adoption, found
    /// without scanning every pod of a namespace.
    controllerless: BTreeSet<(Kind, ObjKey)>,
    /// Objects waiting for the garbage collector (foreground or orphan deletion),
    /// so that it finds them by uid.
    finalizing: BTreeMap<Uid, (Kind, ObjKey)>,
    /// node name → the pods bound to it (upstream's `spec.nodeName` field
    /// index), so that per-node work (the taint manager, MarkPodsNotReady) does
    /// not scan every pod of the cluster. Hash sets: every bind and delete
    /// writes here, while only node failures and returning kubelets read
    /// ([`Self::pods_on`] sorts; the taint manager sorts what it collects);
    /// ordered sets spent 2% of a 5,000-node run comparing pod keys.
    pods_by_node: crate::api::table::LookupMap<String, crate::api::table::LookupSet<ObjKey>>,
    /// Pods being deleted (with a deletionTimestamp), so that the pod GC of
    /// lost nodes looks at a handful of pods, not at every pod of a dark zone.
    terminating_pods: BTreeSet<ObjKey>,
    /// Pods per phase and requests per node, kept up to date on every pod write.
    totals: PodTotals,
    /// Bumped by every change to a Node: a write, or its lease starting or
    /// stopping renewals. Periodic node checks skip work when it has not moved.
    node_epoch: u64,
    admission: Admission,
    pub stats: ApiStats,
}

impl Default for ApiServer {
    fn default() -> Self {
        Self::new()
    }
}

/// Namespaces every cluster starts with.
pub const INITIAL_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

impl ApiServer {
    /// `--service-cluster-ip-range`, before any Service is created.
    pub fn set_service_cidr(&mut self, cidr: super::service::ServiceCidr) {
        self.admission.service_cidr = cidr;
    }

    pub fn new() -> Self {
        let mut api = ApiServer {
            store: Store::default(),
            resource_version: 0,
            next_uid: 1,
            now: SimTime::ZERO,
            changes: Vec::new(),
            dependents: BTreeMap::new(),
            pods_by_node: crate::api::table::lookup_map(),
            terminating_pods: BTreeSet::new(),
            totals: PodTotals::default(),
            node_epoch: 0,
            controllerless: BTreeSet::new(),
            finalizing: BTreeMap::new(),
            admission: Admission::default(),
            stats: ApiStats::default(),
        };
        for ns in INITIAL_NAMESPACES {
            let _ = api.create(Namespace {
                meta: ObjectMeta::new("", ns),
            });
        }
        api.changes.clear();
        api
    }

    /// The simulation sets the clock before each handler runs.
    pub fn set_now(&mut self, now: SimTime) {
        self.now = now;
    }
    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Whether writes since the last drain queued watch notifications.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Drain the queued watch notifications.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    pub fn get<T: Object>(&self, key: &ObjKey) -> Option<&T> {
        T::table(&self.store).get(key)
    }

    /// The store slot of the object of kind `T` with this key (see
    /// [`super::table::Table::slot_of`]); read it back with [`Self::get_at`].
    pub fn slot_of<T: Object>(&self, key: &ObjKey) -> Option<u32> {
        T::table(&self.store).slot_of(key)
    }

    /// The object of kind `T` now in `slot`: the one whose slot it was if it
    /// still exists, or a later object (compare uids to tell).
    pub fn get_at<T: Object>(&self, slot: u32) -> Option<&T> {
        T::table(&self.store).at(slot)
    }

    pub fn list<'a, T: Object + 'a>(&'a self) -> impl Iterator<Item = &'a T> {
        T::table(&self.store).values()
    }

    /// Objects of kind `kind` that name `owner` in their ownerReferences, in key order.
    pub fn dependents_of(&self, owner: Uid, kind: Kind) -> impl Iterator<Item = &ObjKey> {
        self.dependents.get(&owner).into_iter().flat_map(move |s| {
            s.keys()
                .filter(move |(k, _)| *k == kind)
                .map(|(_, key)| key)
        })
    }

    /// The objects of kind `T` that name `owner` in their ownerReferences, with
    /// their keys, in key order: [`Self::dependents_of`] read through the
    /// slots the index keeps, without a lookup by key for each.
    pub fn dependent_objects<'a, T: Object + 'a>(
        &'a self,
        owner: Uid,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a T)> + 'a {
        let table = T::table(&self.store);
        self.dependents.get(&owner).into_iter().flat_map(move |s| {
            s.iter()
                .filter(|((k, _), _)| *k == T::KIND)
                .filter_map(move |((_, key), &slot)| {
                    let obj = table.at(slot);
                    debug_assert!(
                        obj.is_some_and(|o| o.meta().key() == *key),
                        "the dependents index holds a stale slot for {key}"
                    );
                    Some((key, obj?))
                })
        })
    }

    /// All dependents of `owner`, any kind.
    pub fn all_dependents(&self, owner: Uid) -> Vec<(Kind, ObjKey)> {
        self.dependents
            .get(&owner)
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Keys of the objects of `kind` in `namespace` that have no controller, in key order.
    pub fn without_controller<'a>(
        &'a self,
        kind: Kind,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a ObjKey> + 'a {
        self.controllerless
            .range((kind, ObjKey::new(namespace, ""))..)
            .take_while(move |(k, key)| *k == kind && key.namespace == namespace)
            .map(|(_, key)| key)
    }

    /// Objects being deleted with the foreground or orphan policy whose
    /// finalizer the garbage collector has yet to remove, by uid.
    pub fn finalizing(&self) -> Vec<(Uid, Kind, ObjKey)> {
        self.finalizing
            .iter()
            .map(|(u, (k, key))| (*u, *k, key.clone()))
            .collect()
    }

    /// How many objects wait for the garbage collector (cheap, for watch routing).
    pub fn finalizing_count(&self) -> usize {
        self.finalizing.len()
    }

    /// Whether the object with this uid waits for the garbage collector.
    pub fn is_finalizing(&self, uid: Uid) -> bool {
        self.finalizing.contains_key(&uid)
    }

    /// The metadata of any object, by kind.
    pub fn meta_of(&self, kind: Kind, key: &ObjKey) -> Option<&ObjectMeta> {
        match kind {
            Kind::Namespace => self.store.namespaces.get(key).map(|o| &o.meta),
            Kind::Node => self.store.nodes.get(key).map(|o| &o.meta),
            Kind::Pod => self.store.pods.get(key).map(|o| &o.meta),
            Kind::ReplicaSet => self.store.replicasets.get(key).map(|o| &o.meta),
            Kind::Deployment => self.store.deployments.get(key).map(|o| &o.meta),
            Kind::Service => self.store.services.get(key).map(|o| &o.meta),
            Kind::PriorityClass => self.store.priority_classes.get(key).map(|o| &o.meta),
            Kind::Job => self.store.jobs.get(key).map(|o| &o.meta),
            Kind::ConfigMap => self.store.config_maps.get(key).map(|o| &o.meta),
            Kind::Secret => self.store.secrets.get(key).map(|o| &o.meta),
            Kind::StorageClass => self.store.storage_classes.get(key).map(|o| &o.meta),
            Kind::PersistentVolume => self.store.persistent_volumes.get(key).map(|o| &o.meta),
            Kind::PersistentVolumeClaim => self
                .store
                .persistent_volume_claims
                .get(key)
                .map(|o| &o.meta),
            Kind::Ingress => self.store.ingresses.get(key).map(|o| &o.meta),
            Kind::IngressClass => self.store.ingress_classes.get(key).map(|o| &o.meta),
            Kind::PodDisruptionBudget => {
                self.store.pod_disruption_budgets.get(key).map(|o| &o.meta)
            }
            Kind::HorizontalPodAutoscaler => self
                .store
                .horizontal_pod_autoscalers
                .get(key)
                .map(|o| &o.meta),
            Kind::VerticalPodAutoscaler => self
                .store
                .vertical_pod_autoscalers
                .get(key)
                .map(|o| &o.meta),
            Kind::StatefulSet => self.store.statefulsets.get(key).map(|o| &o.meta),
            Kind::DaemonSet => self.store.daemonsets.get(key).map(|o| &o.meta),
            Kind::ReplicationController => {
                self.store.replication_controllers.get(key).map(|o| &o.meta)
            }
            Kind::CronJob => self.store.cronjobs.get(key).map(|o| &o.meta),
        }
    }

    /// Whether an object with this uid still exists (ownerReference resolution).
    pub fn exists_uid(&self, kind: Kind, key: &ObjKey, uid: Uid) -> bool {
        self.meta_of(kind, key).is_some_and(|m| m.uid == uid)
    }

    fn next_rv(&mut self) -> u64 {
        self.resource_version += 1;
        self.stats.writes += 1;
        self.resource_version
    }

    fn emit<T: Object>(&mut self, obj: &T, op: Op) {
        self.changes.push(change_of(obj, op));
    }

    /// File a pod under (or take it off) the node it is bound to.
    fn index_node(&mut self, node: &str, pod: &ObjKey, add: bool) {
        if add {
            match self.pods_by_node.get_mut(node) {
                Some(s) => {
                    s.insert(pod.clone());
                }
                None => {
                    let mut s = crate::api::table::lookup_set();
                    s.insert(pod.clone());
                    self.pods_by_node.insert(node.to_owned(), s);
                }
            }
        } else if let Some(s) = self.pods_by_node.get_mut(node) {
            s.remove(pod);
            if s.is_empty() {
                self.pods_by_node.remove(node);
            }
        }
    }

    /// Moves with every change to any Node (see the field): equal values mean
    /// no node changed in between.
    pub fn node_epoch(&self) -> u64 {
        self.node_epoch
    }

    /// Moves whenever an object of kind `T` is created or removed, never on
    /// updates: equal values mean the same keys exist (see [`Table::membership`]).
    pub fn membership<T: Object>(&self) -> u64 {
        T::table(&self.store).membership()
    }

    /// How many objects of a kind are stored.
    pub fn count<T: Object>(&self) -> usize {
        T::table(&self.store).len()
    }

    /// Pods per phase and the requests per node and of pending pods, as of now.
    pub fn pod_totals(&self) -> &PodTotals {
        &self.totals
    }

    /// Keys of the pods being deleted (with a deletionTimestamp), in key order.
    pub fn terminating_pods(&self) -> impl Iterator<Item = &ObjKey> {
        self.terminating_pods.iter()
    }

    /// Keys of the pods bound to `node` in no particular order, for callers
    /// that sort what they collect from them (the taint manager sorts its
    /// evictions by pod key): [`Self::pods_on`] without its sort.
    pub fn pods_on_unordered<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a ObjKey> + 'a {
        self.pods_by_node.get(node).into_iter().flatten()
    }

    /// Keys of the pods bound to `node`, in key order (whatever their phase).
    pub fn pods_on<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a ObjKey> + 'a {
        let mut keys: Vec<&ObjKey> = self.pods_by_node.get(node).into_iter().flatten().collect();
        keys.sort_unstable();
        keys.into_iter()
    }

    /// Keep the adoption and finalization indexes in step with `m`'s metadata.
    fn index_meta(&mut self, kind: Kind, m: &ObjectMeta, present: bool) {
        let entry = (kind, m.key());
        if present && m.controller_ref().is_none() {
            self.controllerless.insert(entry);
        } else {
            self.controllerless.remove(&entry);
        }
        if present && m.gc_finalizing() {
            self.finalizing.insert(m.uid, (kind, m.key()));
        } else {
            self.finalizing.remove(&m.uid);
        }
    }

    /// Keep the owner → dependents index in step with `m`'s ownerReferences:
    /// add the object (in store slot `slot`) under each owner, or with `None`
    /// take it out.
    fn index_owners(&mut self, kind: Kind, m: &ObjectMeta, slot: Option<u32>) {
        for o in &m.owner_references {
            if let Some(slot) = slot {
                self.dependents
                    .entry(o.uid)
                    .or_default()
                    .insert((kind, m.key()), slot);
            } else if let Some(s) = self.dependents.get_mut(&o.uid) {
                s.remove(&(kind, m.key()));
                if s.is_empty() {
                    self.dependents.remove(&o.uid);
                }
            }
        }
    }

    /// Create an object. Admission: the namespace must exist (NamespaceLifecycle),
    /// the name must be free.
    pub fn create<T: Object>(&mut self, mut obj: T) -> Result<&T, ApiError> {
        let kind = T::KIND;
        if kind.namespaced() {
            let ns = &obj.meta().namespace;
            match self.store.namespaces.get(&ObjKey::cluster(ns.clone())) {
                Some(n) if n.meta.deletion_timestamp.is_none() => {}
                _ => return Err(ApiError::NamespaceNotFound(ns.clone())),
            }
        } else {
            obj.meta_mut().namespace.clear();
        }
        let key = obj.meta().key();
        if T::table(&self.store).contains_key(&key) {
            return Err(ApiError::AlreadyExists { kind, key });
        }
        obj.admit(&mut self.admission, &self.store)?;
        let uid = Uid(self.next_uid);
        self.next_uid += 1;
        let rv = self.next_rv();
        let now = self.now;
        {
            let m = obj.meta_mut();
            m.uid = uid;
            m.resource_version = rv;
            m.creation_timestamp = now;
            m.generation = 1;
            m.deletion_timestamp = None;
        }
        if kind == Kind::Pod {
            self.stats.pods_created += 1;
        }
        let meta = obj.meta().clone();
        self.index_meta(kind, &meta, true);
        if let Some(node) = obj.bound_node() {
            self.index_node(node, &key, true);
        }
        if let Some(t) = obj.tally() {
            self.totals.apply(&t, obj.bound_node(), true);
        }
        if kind == Kind::Pod && obj.meta().deletion_timestamp.is_some() {
            self.terminating_pods.insert(key.clone());
        }
        if kind == Kind::Node {
            self.node_epoch += 1;
        }
        self.emit(&obj, Op::Added);
        let slot = T::table_mut(&mut self.store).insert_slot(key, obj);
        self.index_owners(kind, &meta, Some(slot));
        Ok(T::table(&self.store)
            .at(slot)
            .expect("an object is in the slot it was just stored in"))
    }

    fn update_inner<T: Object>(
        &mut self,
        key: &ObjKey,
        spec_change: bool,
        f: impl FnOnce(&mut T),
    ) -> Result<(), ApiError> {
        let rv = self.resource_version + 1;
        let obj = T::table_mut(&mut self.store)
            .get_mut(key)
            .ok_or_else(|| ApiError::NotFound {
                kind: T::KIND,
                key: key.clone(),
            })?;
        let owners_before = obj.meta().owner_references.clone();
        let had_finalizers = !obj.meta().finalizers.is_empty();
        let was_indexed = (
            obj.meta().controller_ref().is_none(),
            obj.meta().gc_finalizing(),
        );
        let before_uid = obj.meta().uid;
        let had_node = obj.bound_node().is_some();
        let tally_before = obj.tally();
        let was_terminating = obj.meta().deletion_timestamp.is_some();
        // `spec.nodeName` is set once (binding) and never changed after; a
        // write that changes it anyway (a test of the invariant checker) is
        // noticed by the string's identity, without copying it on every write
        let node_id = |o: &T| o.bound_node().map(|s| (s.as_ptr(), s.len()));
        let node_before = node_id(obj);
        f(obj);
        let moved = had_node && node_id(obj) != node_before;
        let bound = (!had_node || moved)
            .then(|| obj.bound_node().map(str::to_owned))
            .flatten();
        let tally_after = obj.tally();
        let terminating = obj.meta().deletion_timestamp.is_some();
        if T::KIND == Kind::Pod && terminating != was_terminating {
            if terminating {
                self.terminating_pods.insert(key.clone());
            } else {
                self.terminating_pods.remove(key);
            }
        }
        if moved {
            let old = self
                .pods_by_node
                .iter()
                .find(|(_, pods)| pods.contains(key))
                .map(|(n, _)| n.clone());
            if let Some(old) = &old {
                let set = self.pods_by_node.get_mut(old).expect("found above");
                set.remove(key);
                if set.is_empty() {
                    self.pods_by_node.remove(old);
                }
            }
            if let Some(t) = tally_before {
                self.totals.apply(&t, old.as_deref(), false);
            }
            if let Some(t) = tally_after {
                self.totals.apply(&t, obj.bound_node(), true);
            }
        } else if tally_before != tally_after {
            let node = obj.bound_node();
            self.totals.replace(
                tally_before.as_ref(),
                node.filter(|_| had_node),
                tally_after.as_ref(),
                node,
            );
        }
        let m = obj.meta_mut();
        // identity is not the caller's to change
        m.uid = before_uid;
        m.resource_version = rv;
        if spec_change {
            m.generation += 1;
        }
        // Only the metadata is copied, and only when an index must follow it:
        // most writes are status writes of pods, and cloning the whole object
        // on each of them was a hot path of big runs.
        let m = obj.meta();
        let owners_moved = owners_before != m.owner_references;
        let reindex = was_indexed != (m.controller_ref().is_none(), m.gc_finalizing());
        let finalized = had_finalizers && m.finalizers.is_empty() && m.deletion_timestamp.is_some();
        let meta = (owners_moved || reindex).then(|| m.clone());
        let change = (!finalized).then(|| change_of(&*obj, Op::Modified));
        self.next_rv();
        if T::KIND == Kind::Node {
            self.node_epoch += 1;
        }
        if let Some(node) = bound {
            self.index_node(&node, key, true);
        }
        if let Some(meta) = meta {
            if owners_moved {
                let mut old = meta.clone();
                old.owner_references = owners_before;
                let slot = T::table(&self.store).slot_of(key);
                debug_assert!(slot.is_some(), "{key} was just updated in place");
                self.index_owners(T::KIND, &old, None);
                self.index_owners(T::KIND, &meta, slot);
            }
            if reindex {
                self.index_meta(T::KIND, &meta, true);
            }
        }
        match change {
            Some(c) => self.changes.push(c),
            // the last finalizer of a deleted object is gone: the API server
            // removes it, and watchers see the deletion
            None => return self.remove::<T>(key),
        }
        Ok(())
    }

    /// Change an object's spec or metadata (bumps `metadata.generation`).
    pub fn update<T: Object>(
        &mut self,
        key: &ObjKey,
        f: impl FnOnce(&mut T),
    ) -> Result<(), ApiError> {
        self.update_inner(key, true, f)
    }

    /// Change an object's status (the `/status` subresource: generation unchanged).
    pub fn update_status<T: Object>(
        &mut self,
        key: &ObjKey,
        f: impl FnOnce(&mut T),
    ) -> Result<(), ApiError> {
        self.update_inner(key, false, f)
    }

    /// Delete an object. A pod bound to a node that has not finished is deleted
    /// gracefully: it gets a deletionTimestamp and the kubelet removes it once its
    /// containers have stopped. Everything else is removed at once; dependents are
    /// left to the garbage collector.
    pub fn delete<T: Object>(&mut self, key: &ObjKey) -> Result<(), ApiError> {
        let now = self.now;
        let obj = T::table(&self.store)
            .get(key)
            .ok_or_else(|| ApiError::NotFound {
                kind: T::KIND,
                key: key.clone(),
            })?;
        if obj.meta().deletion_timestamp.is_some() {
            return Ok(());
        }
        if !obj.meta().finalizers.is_empty() {
            // finalizers hold the object until their owners remove them
            return self.update_status::<T>(key, |o| o.meta_mut().deletion_timestamp = Some(now));
        }
        if let Some(pod) = self.store.pods.get(key).filter(|_| T::KIND == Kind::Pod) {
            if pod.node_name.is_some() && !pod.status.phase.is_terminal() {
                return self.update_status::<Pod>(key, |p| p.meta.deletion_timestamp = Some(now));
            }
        }
        self.remove::<T>(key)
    }

    /// Remove an object from the store now (the kubelet's final delete of a pod
    /// whose containers have stopped, or a deletion with grace period 0).
    pub fn remove<T: Object>(&mut self, key: &ObjKey) -> Result<(), ApiError> {
        let obj = T::table_mut(&mut self.store)
            .remove(key)
            .ok_or_else(|| ApiError::NotFound {
                kind: T::KIND,
                key: key.clone(),
            })?;
        self.next_rv();
        let meta = obj.meta().clone();
        self.index_owners(T::KIND, &meta, None);
        self.index_meta(T::KIND, &meta, false);
        if let Some(node) = obj.bound_node() {
            self.index_node(node, key, false);
        }
        if let Some(t) = obj.tally() {
            self.totals.apply(&t, obj.bound_node(), false);
        }
        if T::KIND == Kind::Pod {
            self.terminating_pods.remove(key);
        }
        if T::KIND == Kind::Node {
            self.node_epoch += 1;
        }
        self.emit(&obj, Op::Deleted);
        Ok(())
    }

    /// Delete by kind, for callers that hold a `Kind` value (garbage collector, kubectl).
    pub fn delete_kind(&mut self, kind: Kind, key: &ObjKey) -> Result<(), ApiError> {
        match kind {
            Kind::Namespace => self.delete::<Namespace>(key),
            Kind::Node => self.delete::<Node>(key),
            Kind::Pod => self.delete::<Pod>(key),
            Kind::ReplicaSet => self.delete::<ReplicaSet>(key),
            Kind::Deployment => self.delete::<Deployment>(key),
            Kind::Service => self.delete::<Service>(key),
            Kind::PriorityClass => self.delete::<PriorityClass>(key),
            Kind::Job => self.delete::<Job>(key),
            Kind::ConfigMap => self.delete::<ConfigMap>(key),
            Kind::Secret => self.delete::<Secret>(key),
            Kind::StorageClass => self.delete::<StorageClass>(key),
            Kind::PersistentVolume => self.delete::<PersistentVolume>(key),
            Kind::PersistentVolumeClaim => self.delete::<PersistentVolumeClaim>(key),
            Kind::Ingress => self.delete::<Ingress>(key),
            Kind::IngressClass => self.delete::<IngressClass>(key),
            Kind::PodDisruptionBudget => self.delete::<PodDisruptionBudget>(key),
            Kind::HorizontalPodAutoscaler => self.delete::<HorizontalPodAutoscaler>(key),
            Kind::VerticalPodAutoscaler => self.delete::<VerticalPodAutoscaler>(key),
            Kind::StatefulSet => self.delete::<StatefulSet>(key),
            Kind::DaemonSet => self.delete::<DaemonSet>(key),
            Kind::ReplicationController => self.delete::<ReplicationController>(key),
            Kind::CronJob => self.delete::<CronJob>(key),
        }
    }

    /// Delete with a propagation policy, as `kubectl delete --cascade=`
    /// background|foreground|orphan. Foreground and orphan mark the object
    /// (deletionTimestamp and the policy's finalizer) and leave the rest to the
    /// garbage collector. Pods have no dependents here, so they are always
    /// deleted as by [`ApiServer::delete`].
    pub fn delete_with(
        &mut self,
        kind: Kind,
        key: &ObjKey,
        propagation: Propagation,
    ) -> Result<(), ApiError> {
        let finalizer = match propagation {
            Propagation::Foreground => FINALIZER_FOREGROUND,
            Propagation::Orphan => FINALIZER_ORPHAN,
            Propagation::Background => return self.delete_kind(kind, key),
        };
        if kind == Kind::Pod {
            return self.delete_kind(kind, key);
        }
        let meta = self.meta_of(kind, key).ok_or_else(|| ApiError::NotFound {
            kind,
            key: key.clone(),
        })?;
        if meta.deletion_timestamp.is_some() {
            return Ok(());
        }
        let now = self.now;
        self.update_meta(kind, key, |m| {
            m.deletion_timestamp = Some(now);
            if !m.has_finalizer(finalizer) {
                m.finalizers.push(finalizer.to_string());
            }
        })
    }

    /// Change any object's metadata, by kind (the garbage collector's patches of
    /// ownerReferences and finalizers). Generation is unchanged.
    pub fn update_meta(
        &mut self,
        kind: Kind,
        key: &ObjKey,
        f: impl FnOnce(&mut ObjectMeta),
    ) -> Result<(), ApiError> {
        match kind {
            Kind::Namespace => self.update_status::<Namespace>(key, |o| f(&mut o.meta)),
            Kind::Node => self.update_status::<Node>(key, |o| f(&mut o.meta)),
            Kind::Pod => self.update_status::<Pod>(key, |o| f(&mut o.meta)),
            Kind::ReplicaSet => self.update_status::<ReplicaSet>(key, |o| f(&mut o.meta)),
            Kind::Deployment => self.update_status::<Deployment>(key, |o| f(&mut o.meta)),
            Kind::Service => self.update_status::<Service>(key, |o| f(&mut o.meta)),
            Kind::PriorityClass => self.update_status::<PriorityClass>(key, |o| f(&mut o.meta)),
            Kind::Job => self.update_status::<Job>(key, |o| f(&mut o.meta)),
            Kind::ConfigMap => self.update_status::<ConfigMap>(key, |o| f(&mut o.meta)),
            Kind::Secret => self.update_status::<Secret>(key, |o| f(&mut o.meta)),
            Kind::StorageClass => self.update_status::<StorageClass>(key, |o| f(&mut o.meta)),
            Kind::PersistentVolume => {
                self.update_status::<PersistentVolume>(key, |o| f(&mut o.meta))
            }
            Kind::PersistentVolumeClaim => {
                self.update_status::<PersistentVolumeClaim>(key, |o| f(&mut o.meta))
            }
            Kind::Ingress => self.update_status::<Ingress>(key, |o| f(&mut o.meta)),
            Kind::IngressClass => self.update_status::<IngressClass>(key, |o| f(&mut o.meta)),
            Kind::PodDisruptionBudget => {
                self.update_status::<PodDisruptionBudget>(key, |o| f(&mut o.meta))
            }
            Kind::HorizontalPodAutoscaler => {
                self.update_status::<HorizontalPodAutoscaler>(key, |o| f(&mut o.meta))
            }
            Kind::VerticalPodAutoscaler => {
                self.update_status::<VerticalPodAutoscaler>(key, |o| f(&mut o.meta))
            }
            Kind::StatefulSet => self.update_status::<StatefulSet>(key, |o| f(&mut o.meta)),
            Kind::DaemonSet => self.update_status::<DaemonSet>(key, |o| f(&mut o.meta)),
            Kind::ReplicationController => {
                self.update_status::<ReplicationController>(key, |o| f(&mut o.meta))
            }
            Kind::CronJob => self.update_status::<CronJob>(key, |o| f(&mut o.meta)),
        }
    }

    /// The kubelet's heartbeat: post the node's status now, setting
    /// `status.lastHeartbeatTime`, and keep renewing the lease every
    /// [`LEASE_RENEW_INTERVAL`](super::node::LEASE_RENEW_INTERVAL) counted from
    /// `from` until [`ApiServer::stop_renewing`]. The write bumps
    /// `resourceVersion` (it is a write) but queues no watch notification: in
    /// Kubernetes the renewals go to a Lease object in `kube-node-lease` that
    /// only the node-lifecycle controller reads, and the scheduler's node
    /// informer ignores heartbeat-only status updates. The periodic renewals
    /// themselves are computed from time ([`NodeStatus::heartbeat_at`](super::node::NodeStatus::heartbeat_at)),
    /// so they cost neither events nor writes.
    pub fn heartbeat(&mut self, node: &str) -> Result<(), ApiError> {
        let now = self.now;
        self.renew_lease(&ObjKey::cluster(node), now)
    }

    /// [`ApiServer::heartbeat`] by the Node's key (the kubelet keeps it), with
    /// renewals counted from `from` (the kubelet's start).
    pub fn renew_lease(&mut self, key: &ObjKey, from: SimTime) -> Result<(), ApiError> {
        let rv = self.resource_version + 1;
        let now = self.now;
        let n = self.node_mut(key)?;
        n.status.last_heartbeat = now;
        n.status.renewing = Some(from);
        n.meta.resource_version = rv;
        self.next_rv();
        self.node_epoch += 1;
        Ok(())
    }

    /// The kubelet stops renewing (it crashed or lost the API server): its
    /// last renewal is the node's last heartbeat from now on. Not a write.
    pub fn stop_renewing(&mut self, key: &ObjKey) -> Result<(), ApiError> {
        let now = self.now;
        self.node_mut(key)?.status.stop_renewing(now);
        self.node_epoch += 1;
        Ok(())
    }

    fn node_mut(&mut self, key: &ObjKey) -> Result<&mut Node, ApiError> {
        self.store
            .nodes
            .get_mut(key)
            .ok_or_else(|| ApiError::NotFound {
                kind: Kind::Node,
                key: key.clone(),
            })
    }

    /// Bind a pod to a node (the scheduler's `pods/binding` call).
    pub fn bind(&mut self, pod: &ObjKey, node: &str) -> Result<(), ApiError> {
        if !self.store.nodes.contains_key(&ObjKey::cluster(node)) {
            return Err(ApiError::NotFound {
                kind: Kind::Node,
                key: ObjKey::cluster(node),
            });
        }
        match self.store.pods.get(pod) {
            None => Err(ApiError::NotFound {
                kind: Kind::Pod,
                key: pod.clone(),
            }),
            Some(p) if p.node_name.is_some() => Err(ApiError::Invalid(format!(
                "pod {pod} is already assigned to node {:?}",
                p.node_name.as_deref().unwrap_or("")
            ))),
            Some(_) => self.update_status::<Pod>(pod, |p| {
                p.node_name = Some(node.to_string());
                p.status.scheduled = true;
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::{PodSpec, PodStatus};
    use std::sync::Arc;

    fn pod(ns: &str, name: &str) -> Pod {
        Pod {
            meta: ObjectMeta::new(ns, name),
            spec: Arc::new(PodSpec::default()),
            node_name: None,
            status: PodStatus::default(),
        }
    }

    #[test]
    fn resource_version_strictly_increases_on_every_write() {
        let mut api = ApiServer::new();
        let mut last = api.resource_version();
        api.create(pod("default", "a")).unwrap();
        assert!(api.resource_version() > last);
        last = api.resource_version();
        api.update_status::<Pod>(&ObjKey::new("default", "a"), |p| p.status.ready = true)
            .unwrap();
        assert!(api.resource_version() > last);
        last = api.resource_version();
        api.delete::<Pod>(&ObjKey::new("default", "a")).unwrap();
        assert!(api.resource_version() > last);
    }

    #[test]
    fn heartbeat_bumps_resource_version_without_a_watch_notification() {
        use crate::api::node::NodeStatus;
        let mut api = ApiServer::new();
        api.create(Node {
            meta: ObjectMeta::new("", "n1"),
            unschedulable: false,
            taints: Vec::new(),
            status: NodeStatus::default(),
        })
        .unwrap();
        api.take_changes();
        let rv = api.resource_version();
        api.set_now(SimTime::from_millis(10_000));
        api.heartbeat("n1").unwrap();
        assert!(api.resource_version() > rv);
        assert!(!api.has_changes(), "a heartbeat wakes no watcher");
        let n = api.get::<Node>(&ObjKey::cluster("n1")).unwrap();
        assert_eq!(n.status.last_heartbeat, SimTime::from_millis(10_000));
        assert_eq!(n.meta.resource_version, api.resource_version());
        assert!(api.heartbeat("nope").is_err());
        // renewals follow every 10 s without writes, and stop with the kubelet
        let rv = api.resource_version();
        let at = |ms| SimTime::from_millis(ms);
        let status = |api: &ApiServer| {
            api.get::<Node>(&ObjKey::cluster("n1"))
                .unwrap()
                .status
                .clone()
        };
        assert_eq!(status(&api).heartbeat_at(at(19_999)), at(10_000));
        assert_eq!(status(&api).heartbeat_at(at(20_000)), at(20_000));
        assert_eq!(status(&api).heartbeat_at(at(45_000)), at(40_000));
        api.set_now(at(50_000));
        api.stop_renewing(&ObjKey::cluster("n1")).unwrap();
        // the renewal due at the very instant renewals stop is missed
        assert_eq!(status(&api).heartbeat_at(at(90_000)), at(40_000));
        assert_eq!(api.resource_version(), rv, "renewals are not writes");
        assert!(!api.has_changes());
    }

    #[test]
    fn admission_caches_only_shared_templates_and_drops_dead_ones() {
        let mut api = ApiServer::new();
        // pods with specs of their own (a trace's) leave nothing behind
        for i in 0..200 {
            api.create(pod("default", &format!("own-{i}"))).unwrap();
        }
        assert_eq!(api.admission.resolved.len(), 0);
        let p = api.get::<Pod>(&ObjKey::new("default", "own-7")).unwrap();
        assert_eq!(p.spec.tolerations.len(), 2, "still admitted");
        // templates: cached while alive, pruned once only the cache holds them
        let live = Arc::new(PodSpec::default());
        for i in 0..100 {
            let mut p = pod("default", &format!("t-{i}"));
            if i == 0 {
                p.spec = live.clone();
            } else {
                p.spec = Arc::new(PodSpec::default());
                let _template = p.spec.clone(); // held only until this pod is created
                api.create(p).unwrap();
                continue;
            }
            api.create(p).unwrap();
        }
        assert!(
            api.admission.resolved.len() < 70,
            "dead templates pruned: {}",
            api.admission.resolved.len()
        );
        assert!(api
            .admission
            .resolved
            .contains_key(&(Arc::as_ptr(&live) as usize)));
    }

    #[test]
    fn pods_get_default_toleration_seconds_once_and_share_the_admitted_spec() {
        let mut api = ApiServer::new();
        let template = Arc::new(PodSpec::default());
        for name in ["a", "b"] {
            let mut p = pod("default", name);
            p.spec = template.clone();
            api.create(p).unwrap();
        }
        let a = api.get::<Pod>(&ObjKey::new("default", "a")).unwrap();
        let b = api.get::<Pod>(&ObjKey::new("default", "b")).unwrap();
        assert!(
            Arc::ptr_eq(&a.spec, &b.spec),
            "one admitted spec per template"
        );
        let keys: Vec<(&str, Option<i64>)> = a
            .spec
            .tolerations
            .iter()
            .map(|t| (t.key.as_str(), t.toleration_seconds))
            .collect();
        assert_eq!(
            keys,
            [(TAINT_NOT_READY, Some(300)), (TAINT_UNREACHABLE, Some(300))]
        );
        // a pod that already tolerates unreachable (any NoExecute) keeps its own
        let mut p = pod("default", "c");
        Arc::make_mut(&mut p.spec).tolerations.push(Toleration {
            key: TAINT_UNREACHABLE.into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(TaintEffect::NoExecute),
            toleration_seconds: Some(30),
        });
        api.create(p).unwrap();
        let c = api.get::<Pod>(&ObjKey::new("default", "c")).unwrap();
        assert_eq!(c.spec.tolerations.len(), 2);
        assert_eq!(c.spec.tolerations[0].toleration_seconds, Some(30));
        assert_eq!(c.spec.tolerations[1].key, TAINT_NOT_READY);
    }

    #[test]
    fn namespace_must_exist_and_names_are_unique() {
        let mut api = ApiServer::new();
        assert_eq!(
            api.create(pod("nope", "a")).unwrap_err(),
            ApiError::NamespaceNotFound("nope".into())
        );
        api.create(pod("default", "a")).unwrap();
        assert!(matches!(
            api.create(pod("default", "a")),
            Err(ApiError::AlreadyExists { .. })
        ));
    }

    #[test]
    fn unbound_pod_is_removed_at_once_bound_pod_gracefully() {
        let mut api = ApiServer::new();
        api.create(pod("default", "a")).unwrap();
        api.delete::<Pod>(&ObjKey::new("default", "a")).unwrap();
        assert!(api.get::<Pod>(&ObjKey::new("default", "a")).is_none());

        let mut p = pod("default", "b");
        p.node_name = Some("n1".into());
        api.create(p).unwrap();
        api.delete::<Pod>(&ObjKey::new("default", "b")).unwrap();
        let b = api.get::<Pod>(&ObjKey::new("default", "b")).unwrap();
        assert!(b.is_terminating());
    }

    fn owned(name: &str, uid: Uid) -> Pod {
        let mut p = pod("default", name);
        p.meta
            .owner_references
            .push(crate::api::meta::OwnerReference {
                kind: Kind::ReplicaSet,
                name: "rs".into(),
                uid,
                controller: true,
                block_owner_deletion: true,
            });
        p
    }

    #[test]
    fn removing_the_last_finalizer_of_a_deleted_object_removes_it() {
        use crate::api::meta::FINALIZER_FOREGROUND;
        let mut api = ApiServer::new();
        let key = ObjKey::new("default", "a");
        api.create(pod("default", "a")).unwrap();
        api.update_status::<Pod>(&key, |p| p.meta.finalizers.push("example.com/x".into()))
            .unwrap();
        api.delete::<Pod>(&key).unwrap();
        let p = api.get::<Pod>(&key).expect("held by its finalizer");
        assert!(p.meta.deletion_timestamp.is_some());
        api.take_changes();
        api.update_status::<Pod>(&key, |p| p.meta.finalizers.clear())
            .unwrap();
        assert!(api.get::<Pod>(&key).is_none());
        let c = api.take_changes();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].op, Op::Deleted);
        // foreground: marked, indexed for the collector, not removed
        api.create(Namespace {
            meta: ObjectMeta::new("", "x"),
        })
        .unwrap();
        let ns = ObjKey::cluster("x");
        api.delete_with(Kind::Namespace, &ns, Propagation::Foreground)
            .unwrap();
        let m = api.meta_of(Kind::Namespace, &ns).unwrap();
        assert_eq!(m.finalizers, [FINALIZER_FOREGROUND]);
        let uid = m.uid;
        assert_eq!(api.finalizing(), [(uid, Kind::Namespace, ns.clone())]);
        api.update_meta(Kind::Namespace, &ns, |m| m.finalizers.clear())
            .unwrap();
        assert!(api.finalizing().is_empty());
        assert!(api.meta_of(Kind::Namespace, &ns).is_none());
    }

    #[test]
    fn delete_with_on_a_pod_is_a_plain_delete() {
        let mut api = ApiServer::new();
        api.create(pod("default", "a")).unwrap();
        api.delete_with(Kind::Pod, &ObjKey::new("default", "a"), Propagation::Orphan)
            .unwrap();
        assert!(api.get::<Pod>(&ObjKey::new("default", "a")).is_none());
        assert!(api.finalizing().is_empty());
    }

    #[test]
    fn owner_indexes_follow_owner_reference_updates() {
        let mut api = ApiServer::new();
        let key = ObjKey::new("default", "a");
        api.create(pod("default", "a")).unwrap();
        api.create(owned("b", Uid(7))).unwrap();
        let free: Vec<&ObjKey> = api.without_controller(Kind::Pod, "default").collect();
        assert_eq!(free, [&key]);
        api.update_status::<Pod>(&key, |p| {
            p.meta.owner_references = owned("a", Uid(7)).meta.owner_references
        })
        .unwrap();
        assert_eq!(api.dependents_of(Uid(7), Kind::Pod).count(), 2);
        assert_eq!(api.without_controller(Kind::Pod, "default").count(), 0);
        api.update_status::<Pod>(&key, |p| p.meta.owner_references.clear())
            .unwrap();
        assert_eq!(api.dependents_of(Uid(7), Kind::Pod).count(), 1);
        assert_eq!(api.without_controller(Kind::Pod, "default").count(), 1);
        api.delete::<Pod>(&key).unwrap();
        assert_eq!(api.without_controller(Kind::Pod, "default").count(), 0);
        api.delete::<Pod>(&ObjKey::new("default", "b")).unwrap();
        assert!(api.all_dependents(Uid(7)).is_empty());
    }

    #[test]
    fn changes_carry_owner_and_node_for_routing() {
        let mut api = ApiServer::new();
        api.take_changes();
        let mut p = pod("default", "a");
        p.node_name = Some("n1".into());
        p.meta
            .owner_references
            .push(crate::api::meta::OwnerReference {
                kind: Kind::ReplicaSet,
                name: "rs".into(),
                uid: Uid(99),
                controller: true,
                block_owner_deletion: true,
            });
        api.create(p).unwrap();
        let c = api.take_changes();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].node.as_deref(), Some("n1"));
        assert_eq!(c[0].owner, Some((Kind::ReplicaSet, "rs".into())));
        assert_eq!(api.dependents_of(Uid(99), Kind::Pod).count(), 1);
    }
}
