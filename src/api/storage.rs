//! Storage: `storage.k8s.io/v1` StorageClass, `v1` PersistentVolume and
//! PersistentVolumeClaim, with the fields the PV controller, the scheduler's
//! volume plugins and the attach/detach controller act on.

use super::affinity::NodeSelectorTerm;
use super::meta::ObjectMeta;
use super::selector::Labels;

/// Node label of the zone (`v1.LabelTopologyZone`).
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
/// Annotation marking the cluster's default StorageClass.
pub const ANN_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
/// Annotation the scheduler sets on a WaitForFirstConsumer claim: the node its
/// first consumer goes to (the provisioner provisions for that node's topology).
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// Annotation on a claim bound by the PV controller.
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// Annotation on a PV created by a provisioner.
pub const ANN_PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadOnlyMany,
    ReadWriteMany,
    ReadWriteOncePod,
}

impl AccessMode {
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "ReadWriteOnce" => AccessMode::ReadWriteOnce,
            "ReadOnlyMany" => AccessMode::ReadOnlyMany,
            "ReadWriteMany" => AccessMode::ReadWriteMany,
            "ReadWriteOncePod" => AccessMode::ReadWriteOncePod,
            _ => return Err(format!("Unsupported value: {s:?}: supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"")),
        })
    }
    /// kubectl's short form: RWO, ROX, RWX, RWOP.
    pub fn short(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "RWO",
            AccessMode::ReadOnlyMany => "ROX",
            AccessMode::ReadWriteMany => "RWX",
            AccessMode::ReadWriteOncePod => "RWOP",
        }
    }
}

/// `RWO,RWX`: the ACCESS MODES column.
pub fn access_modes_short(modes: &[AccessMode]) -> String {
    modes
        .iter()
        .map(|m| m.short())
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether a volume with `modes` can be attached to one node only (no
/// ReadOnlyMany / ReadWriteMany): a pod elsewhere gets a Multi-Attach error.
pub fn single_node(modes: &[AccessMode]) -> bool {
    !modes
        .iter()
        .any(|m| matches!(m, AccessMode::ReadOnlyMany | AccessMode::ReadWriteMany))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BindingMode {
    #[default]
    Immediate,
    WaitForFirstConsumer,
}

impl BindingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingMode::Immediate => "Immediate",
            BindingMode::WaitForFirstConsumer => "WaitForFirstConsumer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReclaimPolicy {
    /// The default of dynamically provisioned volumes.
    #[default]
    Delete,
    /// The default of manually created PersistentVolumes.
    Retain,
}

impl ReclaimPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReclaimPolicy::Delete => "Delete",
            ReclaimPolicy::Retain => "Retain",
        }
    }
}

/// `storage.k8s.io/v1` StorageClass.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageClass {
    pub meta: ObjectMeta,
    pub provisioner: String,
    pub binding_mode: BindingMode,
    pub reclaim_policy: ReclaimPolicy,
    /// `allowedTopologies` zones (`topology.kubernetes.io/zone`); empty: any zone.
    pub allowed_zones: Vec<String>,
}

impl StorageClass {
    /// Marked default with `storageclass.kubernetes.io/is-default-class: "true"`.
    pub fn is_default(&self) -> bool {
        self.meta
            .annotations
            .get(ANN_DEFAULT_CLASS)
            .is_some_and(|v| v == "true")
    }
    /// Whether volumes can be provisioned in `zone` (`None`: the node has no zone label).
    pub fn allows_zone(&self, zone: Option<&str>) -> bool {
        self.allowed_zones.is_empty()
            || zone.is_some_and(|z| self.allowed_zones.iter().any(|a| a == z))
    }
    /// `kubernetes.io/no-provisioner`: static volumes only.
    pub fn can_provision(&self) -> bool {
        !self.provisioner.is_empty() && self.provisioner != "kubernetes.io/no-provisioner"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PvPhase {
    #[default]
    Pending,
    Available,
    Bound,
    Released,
    Failed,
}

impl PvPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            PvPhase::Pending => "Pending",
            PvPhase::Available => "Available",
            PvPhase::Bound => "Bound",
            PvPhase::Released => "Released",
            PvPhase::Failed => "Failed",
        }
    }
}

/// `spec.claimRef` of a PersistentVolume.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimRef {
    pub namespace: String,
    pub name: String,
    /// The uid of the bound claim (`None` in a manifest that pre-binds by name).
    pub uid: Option<super::meta::Uid>,
}

/// `v1.PersistentVolume`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersistentVolume {
    pub meta: ObjectMeta,
    /// `spec.capacity.storage`, in bytes.
    pub capacity: i64,
    pub access_modes: Vec<AccessMode>,
    /// `spec.storageClassName` ("" for none).
    pub storage_class: String,
    /// `spec.nodeAffinity.required.nodeSelectorTerms` (ORed); empty: any node.
    pub node_affinity: Vec<NodeSelectorTerm>,
    pub claim_ref: Option<ClaimRef>,
    pub reclaim_policy: ReclaimPolicy,
    /// `status.phase`.
    pub phase: PvPhase,
    /// The nodes the volume is attached to (kubesim keeps here what upstream keeps in
    /// VolumeAttachment objects and `node.status.volumesAttached`).
    pub attached: Vec<String>,
}

impl PersistentVolume {
    /// Whether the volume's node affinity admits a node with these labels.
    pub fn fits_node(&self, node: &str, labels: &Labels) -> bool {
        self.node_affinity.is_empty() || self.node_affinity.iter().any(|t| t.matches(node, labels))
    }
    /// The zone label of the volume, if it is zonal.
    pub fn zone(&self) -> Option<&str> {
        self.meta.labels.get(LABEL_ZONE).map(String::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClaimPhase {
    #[default]
    Pending,
    Bound,
    Lost,
}

impl ClaimPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimPhase::Pending => "Pending",
            ClaimPhase::Bound => "Bound",
            ClaimPhase::Lost => "Lost",
        }
    }
}

/// `v1.PersistentVolumeClaim`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersistentVolumeClaim {
    pub meta: ObjectMeta,
    /// `spec.storageClassName`: `None` (unset: the default class at admission),
    /// `Some("")` (no class: static volumes without a class only).
    pub storage_class: Option<String>,
    pub access_modes: Vec<AccessMode>,
    /// `spec.resources.requests.storage`, in bytes.
    pub request: i64,
    /// `spec.volumeName`: the bound (or wanted) volume.
    pub volume_name: Option<String>,
    /// `status.phase`.
    pub phase: ClaimPhase,
    /// `status.capacity.storage` once bound.
    pub capacity: Option<i64>,
}

impl PersistentVolumeClaim {
    pub fn class(&self) -> &str {
        self.storage_class.as_deref().unwrap_or("")
    }
    pub fn selected_node(&self) -> Option<&str> {
        self.meta
            .annotations
            .get(ANN_SELECTED_NODE)
            .map(String::as_str)
    }
    /// Whether a volume satisfies this claim: same class, all access modes, enough space.
    pub fn matches(&self, pv: &PersistentVolume) -> bool {
        pv.storage_class == self.class()
            && pv.capacity >= self.request
            && self
                .access_modes
                .iter()
                .all(|m| pv.access_modes.contains(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_match_class_modes_and_size() {
        let pv = PersistentVolume {
            capacity: 10 << 30,
            access_modes: vec![AccessMode::ReadWriteOnce],
            storage_class: "fast".into(),
            ..Default::default()
        };
        let mut c = PersistentVolumeClaim {
            storage_class: Some("fast".into()),
            access_modes: vec![AccessMode::ReadWriteOnce],
            request: 5 << 30,
            ..Default::default()
        };
        assert!(c.matches(&pv));
        c.request = 11 << 30;
        assert!(!c.matches(&pv));
        c.request = 1;
        c.access_modes.push(AccessMode::ReadWriteMany);
        assert!(!c.matches(&pv));
        assert!(single_node(&pv.access_modes));
        assert_eq!(access_modes_short(&c.access_modes), "RWO,RWX");
    }
}
