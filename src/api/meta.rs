//! Object metadata shared by every kind, as in `metav1.ObjectMeta`.

use crate::api::selector::Labels;
use crate::sim::time::SimTime;
use std::collections::BTreeMap;
use std::fmt;

/// A unique id. Kubernetes uses random UUIDs; kubesim counts, so that runs are
/// reproducible, and prints the count in UUID shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Uid(pub u64);

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00000000-0000-4000-8000-{:012x}", self.0)
    }
}

/// The kinds kubesim simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    Node,
    Pod,
    ReplicaSet,
    Deployment,
    Service,
    PriorityClass,
    Job,
    ConfigMap,
    Secret,
    StorageClass,
    PersistentVolume,
    PersistentVolumeClaim,
    Ingress,
    IngressClass,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
    VerticalPodAutoscaler,
    StatefulSet,
    DaemonSet,
    ReplicationController,
    CronJob,
}

impl Kind {
    pub const ALL: [Kind; 22] = [
        Kind::Namespace,
        Kind::Node,
        Kind::Pod,
        Kind::ReplicaSet,
        Kind::Deployment,
        Kind::Service,
        Kind::PriorityClass,
        Kind::Job,
        Kind::ConfigMap,
        Kind::Secret,
        Kind::StorageClass,
        Kind::PersistentVolume,
        Kind::PersistentVolumeClaim,
        Kind::Ingress,
        Kind::IngressClass,
        Kind::PodDisruptionBudget,
        Kind::HorizontalPodAutoscaler,
        Kind::VerticalPodAutoscaler,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::ReplicationController,
        Kind::CronJob,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
            Kind::Pod => "Pod",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Deployment => "Deployment",
            Kind::Service => "Service",
            Kind::PriorityClass => "PriorityClass",
            Kind::Job => "Job",
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
            Kind::StorageClass => "StorageClass",
            Kind::PersistentVolume => "PersistentVolume",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::Ingress => "Ingress",
            Kind::IngressClass => "IngressClass",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::VerticalPodAutoscaler => "VerticalPodAutoscaler",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::ReplicationController => "ReplicationController",
            Kind::CronJob => "CronJob",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Kind::ReplicaSet | Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => "apps/v1",
            Kind::PriorityClass => "scheduling.k8s.io/v1",
            Kind::Job | Kind::CronJob => "batch/v1",
            Kind::StorageClass => "storage.k8s.io/v1",
            Kind::Ingress | Kind::IngressClass => "networking.k8s.io/v1",
            Kind::PodDisruptionBudget => "policy/v1",
            Kind::HorizontalPodAutoscaler => "autoscaling/v2",
            Kind::VerticalPodAutoscaler => "autoscaling.k8s.io/v1",
            _ => "v1",
        }
    }

    /// Cluster-scoped kinds live outside namespaces.
    pub fn namespaced(self) -> bool {
        !matches!(
            self,
            Kind::Namespace
                | Kind::Node
                | Kind::PriorityClass
                | Kind::StorageClass
                | Kind::PersistentVolume
                | Kind::IngressClass
        )
    }

    /// Parse a kind the way kubectl does: `deployment`, `deployments`, `deploy`, `Deployment`.
    pub fn from_kubectl(s: &str) -> Option<Kind> {
        Some(match s.to_ascii_lowercase().as_str() {
            "namespace" | "namespaces" | "ns" => Kind::Namespace,
            "node" | "nodes" | "no" => Kind::Node,
            "pod" | "pods" | "po" => Kind::Pod,
            "replicaset" | "replicasets" | "rs" => Kind::ReplicaSet,
            "deployment" | "deployments" | "deploy" => Kind::Deployment,
            "service" | "services" | "svc" => Kind::Service,
            "priorityclass" | "priorityclasses" | "pc" => Kind::PriorityClass,
            "job" | "jobs" => Kind::Job,
            "configmap" | "configmaps" | "cm" => Kind::ConfigMap,
            "secret" | "secrets" => Kind::Secret,
            "storageclass" | "storageclasses" | "sc" => Kind::StorageClass,
            "persistentvolume" | "persistentvolumes" | "pv" => Kind::PersistentVolume,
            "persistentvolumeclaim" | "persistentvolumeclaims" | "pvc" => {
                Kind::PersistentVolumeClaim
            }
            "ingress" | "ingresses" | "ing" => Kind::Ingress,
            "ingressclass" | "ingressclasses" => Kind::IngressClass,
            "poddisruptionbudget" | "poddisruptionbudgets" | "pdb" => Kind::PodDisruptionBudget,
            "horizontalpodautoscaler" | "horizontalpodautoscalers" | "hpa" => {
                Kind::HorizontalPodAutoscaler
            }
            "verticalpodautoscaler" | "verticalpodautoscalers" | "vpa" => {
                Kind::VerticalPodAutoscaler
            }
            "statefulset" | "statefulsets" | "sts" => Kind::StatefulSet,
            "daemonset" | "daemonsets" | "ds" => Kind::DaemonSet,
            "replicationcontroller" | "replicationcontrollers" | "rc" => {
                Kind::ReplicationController
            }
            "cronjob" | "cronjobs" | "cj" => Kind::CronJob,
            _ => return None,
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `namespace/name` (namespace empty for cluster-scoped objects). Ordered, so maps
/// keyed by it iterate deterministically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ObjKey {
    pub namespace: String,
    pub name: String,
}

impl ObjKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ObjKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
    pub fn cluster(name: impl Into<String>) -> Self {
        ObjKey::new("", name)
    }
}

impl fmt::Display for ObjKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

/// A reference from a dependent to its owner, as `metav1.OwnerReference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerReference {
    pub kind: Kind,
    pub name: String,
    pub uid: Uid,
    /// The managing controller (at most one owner has this set).
    pub controller: bool,
    /// Whether a foreground deletion of the owner waits for this dependent to go.
    pub block_owner_deletion: bool,
}

impl OwnerReference {
    /// `metav1.NewControllerRef`: controller and blockOwnerDeletion both set, as
    /// every built-in controller writes them.
    pub fn controller_of(kind: Kind, owner: &ObjectMeta) -> Self {
        OwnerReference {
            kind,
            name: owner.name.clone(),
            uid: owner.uid,
            controller: true,
            block_owner_deletion: true,
        }
    }
}

/// The finalizer of a foreground deletion: the garbage collector removes it once
/// no dependent blocks the owner (`metav1.FinalizerDeleteDependents`).
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";
/// The finalizer of an orphaning deletion: the garbage collector removes it once
/// the dependents' ownerReferences are gone (`metav1.FinalizerOrphanDependents`).
pub const FINALIZER_ORPHAN: &str = "orphan";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub name: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub uid: Uid,
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub owner_references: Vec<OwnerReference>,
    pub creation_timestamp: SimTime,
    /// Set by the API server on every write; strictly increasing across the store.
    pub resource_version: u64,
    /// Incremented on every spec change (not status), as `metadata.generation`.
    pub generation: i64,
    /// Set when graceful deletion has begun.
    pub deletion_timestamp: Option<SimTime>,
    /// Keys that must all be removed before a deleted object leaves the store.
    pub finalizers: Vec<String>,
}

impl ObjectMeta {
    pub fn new(namespace: &str, name: &str) -> Self {
        ObjectMeta {
            name: name.to_string(),
            namespace: namespace.to_string(),
            ..Default::default()
        }
    }
    pub fn key(&self) -> ObjKey {
        ObjKey::new(self.namespace.clone(), self.name.clone())
    }
    /// The owner with `controller: true`, if any.
    pub fn controller_ref(&self) -> Option<&OwnerReference> {
        self.owner_references.iter().find(|o| o.controller)
    }
    pub fn has_finalizer(&self, f: &str) -> bool {
        self.finalizers.iter().any(|x| x == f)
    }
    /// Deleted with the foreground or orphan policy and not yet finalized by the
    /// garbage collector.
    pub fn gc_finalizing(&self) -> bool {
        self.deletion_timestamp.is_some()
            && (self.has_finalizer(FINALIZER_FOREGROUND) || self.has_finalizer(FINALIZER_ORPHAN))
    }
}

/// `Kind/namespace/name`, the `object` field of every record.
pub fn object_ref(kind: Kind, key: &ObjKey) -> String {
    if key.namespace.is_empty() {
        format!("{}/{}", kind, key.name)
    } else {
        format!("{}/{}/{}", kind, key.namespace, key.name)
    }
}

/// Validate a DNS-1123 subdomain (object names): lower-case alphanumerics, `-` and `.`,
/// starting and ending alphanumeric, at most 253 characters.
pub fn validate_dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 253 {
        return Err(format!("{s:?} is longer than 253 characters"));
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !s.chars().all(ok_char) || !s.starts_with(alnum) || !s.ends_with(alnum) {
        return Err(format!(
            "{s:?} is not a valid name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

/// Validate a DNS-1123 label (namespaces, Service names): like a subdomain without dots, at most 63.
pub fn validate_dns1123_label(s: &str) -> Result<(), String> {
    validate_dns1123_subdomain(s)?;
    if s.contains('.') || s.len() > 63 {
        return Err(format!(
            "{s:?} is not a valid DNS-1123 label: at most 63 lower case alphanumeric characters or '-', starting and ending with an alphanumeric character"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dns1123() {
        assert!(validate_dns1123_subdomain("web-1.example").is_ok());
        assert!(validate_dns1123_subdomain("Web").is_err());
        assert!(validate_dns1123_subdomain("-web").is_err());
        assert!(validate_dns1123_label("a.b").is_err());
        assert!(validate_dns1123_label(&"a".repeat(64)).is_err());
    }

    #[test]
    fn kubectl_kind_aliases() {
        assert_eq!(Kind::from_kubectl("deploy"), Some(Kind::Deployment));
        assert_eq!(Kind::from_kubectl("RS"), Some(Kind::ReplicaSet));
        assert_eq!(Kind::from_kubectl("cj"), Some(Kind::CronJob));
        assert_eq!(Kind::from_kubectl("sts"), Some(Kind::StatefulSet));
        assert_eq!(Kind::from_kubectl("cronjobz"), None);
    }

    #[test]
    fn uid_prints_as_uuid() {
        assert_eq!(Uid(42).to_string(), "00000000-0000-4000-8000-00000000002a");
    }
}
