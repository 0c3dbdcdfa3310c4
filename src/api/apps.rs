//! The other `apps/v1` workloads — StatefulSets and DaemonSets — and the legacy
//! `v1` ReplicationController (a ReplicaSet with an equality selector).

use super::meta::ObjectMeta;
use super::pod::PodTemplate;
use super::selector::LabelSelector;
use super::storage::PersistentVolumeClaim;
use super::workload::{IntOrPercent, ReplicaSetStatus};
use crate::sim::time::SimDuration;

/// `spec.podManagementPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PodManagementPolicy {
    /// One pod at a time, in ordinal order; each waits for its predecessor to be
    /// Running and Ready (and scale-down waits for the higher one to be gone).
    #[default]
    OrderedReady,
    /// All pods created and deleted at once.
    Parallel,
}

/// `spec.updateStrategy` of a StatefulSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatefulSetUpdateStrategy {
    /// Replace pods from the highest ordinal down to `partition`, one at a time
    /// (`maxUnavailable` 1), each after its successor is Running and Ready.
    RollingUpdate { partition: i32 },
    /// Pods get the new template only when someone deletes them.
    OnDelete,
}

impl Default for StatefulSetUpdateStrategy {
    fn default() -> Self {
        StatefulSetUpdateStrategy::RollingUpdate { partition: 0 }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatefulSetStatus {
    pub replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    /// Pods at `current_revision`.
    pub current_replicas: i32,
    /// Pods at `update_revision`.
    pub updated_replicas: i32,
    pub current_revision: String,
    pub update_revision: String,
    pub observed_generation: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatefulSet {
    pub meta: ObjectMeta,
    pub replicas: i32,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    /// `spec.serviceName`: the headless Service giving pods their DNS names
    /// (accepted; kubesim does not model DNS).
    pub service_name: String,
    pub pod_management_policy: PodManagementPolicy,
    pub update_strategy: StatefulSetUpdateStrategy,
    /// `spec.volumeClaimTemplates`: one claim `<template>-<set>-<ordinal>` per pod,
    /// created before the pod and kept when the pod goes (retention policy Retain).
    pub volume_claim_templates: Vec<PersistentVolumeClaim>,
    pub min_ready: SimDuration,
    pub revision_history_limit: i32,
    pub status: StatefulSetStatus,
}

/// `spec.updateStrategy` of a DaemonSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaemonSetUpdateStrategy {
    /// Defaults: maxUnavailable 1, maxSurge 0.
    RollingUpdate {
        max_unavailable: IntOrPercent,
        max_surge: IntOrPercent,
    },
    OnDelete,
}

impl Default for DaemonSetUpdateStrategy {
    fn default() -> Self {
        DaemonSetUpdateStrategy::RollingUpdate {
            max_unavailable: IntOrPercent::Int(1),
            max_surge: IntOrPercent::Int(0),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonSetStatus {
    /// Nodes that should run the daemon pod.
    pub desired_number_scheduled: i32,
    /// Nodes that run at least one daemon pod and should.
    pub current_number_scheduled: i32,
    /// Nodes that run a daemon pod and should not.
    pub number_misscheduled: i32,
    pub number_ready: i32,
    pub number_available: i32,
    pub updated_number_scheduled: i32,
    pub observed_generation: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DaemonSet {
    pub meta: ObjectMeta,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    pub update_strategy: DaemonSetUpdateStrategy,
    pub min_ready: SimDuration,
    pub revision_history_limit: i32,
    pub status: DaemonSetStatus,
}

/// `v1` ReplicationController: the ReplicaSet controller runs it (upstream
/// `pkg/controller/replication` wraps the ReplicaSet controller the same way).
/// The selector is a plain label map, stored as `matchLabels`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationController {
    pub meta: ObjectMeta,
    pub replicas: i32,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    pub min_ready: SimDuration,
    pub status: ReplicaSetStatus,
}
