//! The scheduler's volume plugins: VolumeRestrictions, VolumeBinding and
//! VolumeZone, with upstream's reasons.
//!
//! Upstream these plugins read PersistentVolumeClaims, PersistentVolumes and
//! StorageClasses from informer listers, not from the node snapshot. kubesim does
//! the same: the simulation (and `explain-schedule`) installs a read-only
//! [`VolumeView`] of those objects for the duration of a scheduling cycle with
//! [`with_view`]; PreFilter copies it into the cycle state. Without a view
//! installed (a plugin used outside a simulation), claims count as missing.
//!
//! Simplification: the pod is bound to its node before a WaitForFirstConsumer
//! claim is provisioned or bound (upstream's PreBind waits for that); the PV
//! controller then provisions for the pod's node, and the kubelet holds the pod
//! in `ContainerCreating` until the volume is bound and attached.

use crate::api::storage::{
    AccessMode, BindingMode, PersistentVolume, PersistentVolumeClaim, PvPhase, StorageClass,
    LABEL_ZONE,
};
use crate::api::store::Store;
use crate::api::ObjKey;
use crate::scheduler::framework::{CycleState, FilterPlugin, NodeInfo, PodInfo, Snapshot};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Claims, volumes and classes as the scheduler's listers see them.
#[derive(Debug, Clone, Default)]
pub struct VolumeView {
    pub claims: BTreeMap<ObjKey, PersistentVolumeClaim>,
    pub volumes: BTreeMap<String, PersistentVolume>,
    pub classes: BTreeMap<String, StorageClass>,
}

impl VolumeView {
    pub fn from_store(store: &Store) -> Self {
        VolumeView {
            claims: store
                .persistent_volume_claims
                .values()
                .map(|c| (c.meta.key(), c.clone()))
                .collect(),
            volumes: store
                .persistent_volumes
                .values()
                .map(|v| (v.meta.name.clone(), v.clone()))
                .collect(),
            classes: store
                .storage_classes
                .values()
                .map(|c| (c.meta.name.clone(), c.clone()))
                .collect(),
        }
    }
}

thread_local! {
    static VIEW: RefCell<Option<Arc<VolumeView>>> = const { RefCell::new(None) };
}

/// Run `f` with `view` as what the volume plugins see; the previous view is
/// restored afterwards.
pub fn with_view<R>(view: Arc<VolumeView>, f: impl FnOnce() -> R) -> R {
    let prev = VIEW.with(|v| v.borrow_mut().replace(view));
    let r = f();
    VIEW.with(|v| *v.borrow_mut() = prev);
    r
}

fn current_view() -> Arc<VolumeView> {
    VIEW.with(|v| v.borrow().clone()).unwrap_or_default()
}

const KEY: &str = "VolumeBinding";

/// What PreFilter found out about the pod's claims.
struct VolState {
    /// Volumes of bound claims.
    bound: Vec<PersistentVolume>,
    /// Unbound WaitForFirstConsumer claims, with their class.
    delayed: Vec<(PersistentVolumeClaim, Option<StorageClass>)>,
    view: Arc<VolumeView>,
}

/// Upstream's reasons (`volumebinding`, `volumezone`).
pub const ERR_BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";
pub const ERR_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
pub const ERR_ZONE_CONFLICT: &str = "node(s) had no available volume zone";
pub const ERR_PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
pub const ERR_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";
pub const ERR_RWOP_CONFLICT: &str =
    "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

/// The state computed once per pod, shared by VolumeBinding and VolumeZone.
fn prepare(pod: &PodInfo, state: &mut CycleState) -> Result<(), String> {
    if state.get::<VolState>(KEY).is_some() {
        return Ok(());
    }
    let view = current_view();
    let mut bound = Vec::new();
    let mut delayed = Vec::new();
    let mut missing_pv = false;
    for name in pod.spec.claims() {
        let key = ObjKey::new(pod.namespace, name);
        let Some(c) = view.claims.get(&key) else {
            return Err(format!("persistentvolumeclaim {name:?} not found"));
        };
        if c.meta.deletion_timestamp.is_some() {
            return Err(format!("persistentvolumeclaim {name:?} is being deleted"));
        }
        if let Some(v) = c.volume_name.as_deref() {
            if c.phase == crate::api::storage::ClaimPhase::Bound {
                match view.volumes.get(v) {
                    Some(pv) => bound.push(pv.clone()),
                    None => missing_pv = true,
                }
                continue;
            }
        }
        let class = view.classes.get(c.class()).cloned();
        let mode = match (&class, c.class()) {
            (Some(sc), _) => sc.binding_mode,
            (None, "") => BindingMode::Immediate,
            (None, n) => return Err(format!("storageclass.storage.k8s.io {n:?} not found")),
        };
        if mode == BindingMode::Immediate {
            return Err(ERR_UNBOUND_IMMEDIATE.into());
        }
        delayed.push((c.clone(), class));
    }
    if missing_pv {
        return Err(ERR_PV_NOT_EXIST.into());
    }
    state.insert(
        KEY,
        VolState {
            bound,
            delayed,
            view,
        },
    );
    Ok(())
}

/// VolumeBinding: bound claims' volumes must be reachable from the node; unbound
/// WaitForFirstConsumer claims need an available volume that fits the node, or a
/// class that can provision in the node's zone.
pub struct VolumeBinding;

impl FilterPlugin for VolumeBinding {
    fn name(&self) -> &'static str {
        "VolumeBinding"
    }
    fn pre_filter(
        &self,
        pod: &PodInfo,
        _snap: &Snapshot,
        state: &mut CycleState,
    ) -> Result<(), String> {
        if pod.spec.claims().next().is_none() {
            return Ok(());
        }
        prepare(pod, state)
    }
    fn filter(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        state: &CycleState,
    ) -> Result<(), Vec<String>> {
        if pod.spec.volumes.is_empty() {
            return Ok(());
        }
        let Some(s) = state.get::<VolState>(KEY) else {
            return Ok(());
        };
        let mut reasons = Vec::new();
        if s.bound
            .iter()
            .any(|pv| !pv.fits_node(&node.name, &node.labels))
        {
            reasons.push(ERR_NODE_CONFLICT.to_string());
        }
        // each delayed claim needs its own volume (or provisioning)
        let mut taken: Vec<&str> = Vec::new();
        let mut unsatisfied = false;
        for (c, class) in &s.delayed {
            let best = s
                .view
                .volumes
                .values()
                .filter(|pv| {
                    pv.phase == PvPhase::Available
                        && pv.claim_ref.as_ref().is_none_or(|r| {
                            r.namespace == c.meta.namespace && r.name == c.meta.name
                        })
                        && c.matches(pv)
                        && pv.fits_node(&node.name, &node.labels)
                        && !taken.contains(&pv.meta.name.as_str())
                })
                .min_by_key(|pv| (pv.capacity, pv.meta.name.clone()));
            if let Some(pv) = best {
                taken.push(pv.meta.name.as_str());
                continue;
            }
            let provisions = class.as_ref().is_some_and(|sc| {
                sc.can_provision()
                    && sc.allows_zone(node.labels.get(LABEL_ZONE).map(String::as_str))
            });
            if !provisions {
                unsatisfied = true;
            }
        }
        if unsatisfied {
            reasons.push(ERR_BIND_CONFLICT.to_string());
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }
    fn skip_filter(&self, pod: &PodInfo, state: &CycleState) -> bool {
        // Filter accepts every node without claims to check
        pod.spec.volumes.is_empty() || state.get::<VolState>(KEY).is_none()
    }
}

/// VolumeZone: a bound zonal volume (`topology.kubernetes.io/zone` label) pins
/// the pod to nodes of that zone.
pub struct VolumeZone;

impl FilterPlugin for VolumeZone {
    fn name(&self) -> &'static str {
        "VolumeZone"
    }
    fn pre_filter(
        &self,
        pod: &PodInfo,
        _snap: &Snapshot,
        state: &mut CycleState,
    ) -> Result<(), String> {
        if pod.spec.claims().next().is_none() {
            return Ok(());
        }
        // VolumeBinding reports the claim problems; here they only mean "no zone"
        let _ = prepare(pod, state);
        Ok(())
    }
    fn filter(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        state: &CycleState,
    ) -> Result<(), Vec<String>> {
        if pod.spec.volumes.is_empty() {
            return Ok(());
        }
        let Some(s) = state.get::<VolState>(KEY) else {
            return Ok(());
        };
        let node_zone = node.labels.get(LABEL_ZONE);
        for pv in &s.bound {
            if let Some(z) = pv.zone() {
                // a zone label may list several zones as `a__b`
                if !node_zone.is_some_and(|nz| z.split("__").any(|x| x == nz)) {
                    return Err(vec![ERR_ZONE_CONFLICT.to_string()]);
                }
            }
        }
        Ok(())
    }
    fn skip_filter(&self, pod: &PodInfo, state: &CycleState) -> bool {
        pod.spec.volumes.is_empty() || state.get::<VolState>(KEY).is_none()
    }
}

/// VolumeRestrictions: a ReadWriteOncePod claim may be used by one pod only.
pub struct VolumeRestrictions;

impl FilterPlugin for VolumeRestrictions {
    fn name(&self) -> &'static str {
        "VolumeRestrictions"
    }
    fn pre_filter(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        _state: &mut CycleState,
    ) -> Result<(), String> {
        if pod.spec.claims().next().is_none() {
            return Ok(());
        }
        let view = current_view();
        let rwop: Vec<&str> = pod
            .spec
            .claims()
            .filter(|n| {
                view.claims
                    .get(&ObjKey::new(pod.namespace, *n))
                    .is_some_and(|c| c.access_modes.contains(&AccessMode::ReadWriteOncePod))
            })
            .collect();
        if rwop.is_empty() {
            return Ok(());
        }
        let me = pod.pod.meta.key();
        for (_, n) in snap.present() {
            for p in &n.pods {
                if p.key != me
                    && p.key.namespace == pod.namespace
                    && p.spec.claims().any(|c| rwop.contains(&c))
                {
                    return Err(ERR_RWOP_CONFLICT.into());
                }
            }
        }
        Ok(())
    }
    fn filter(
        &self,
        _pod: &PodInfo,
        _node: &NodeInfo,
        _state: &CycleState,
    ) -> Result<(), Vec<String>> {
        Ok(())
    }
    fn skip_filter(&self, _pod: &PodInfo, _state: &CycleState) -> bool {
        true // PreFilter does all the work
    }
}
