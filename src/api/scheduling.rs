//! PriorityClass (`scheduling.k8s.io/v1`): named pod priorities, resolved into
//! `spec.priority` by the Priority admission plugin.

use super::meta::ObjectMeta;

/// The two classes every cluster has (pkg/apis/scheduling/types.go).
pub const SYSTEM_CLASSES: [(&str, i32); 2] = [
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];

/// Highest value a user-defined class may have (HighestUserDefinablePriority).
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct PriorityClass {
    pub meta: ObjectMeta,
    pub value: i32,
    /// The class of pods that name none (at most one class may set it).
    pub global_default: bool,
    /// `preemptionPolicy: Never`: pods of this class wait instead of preempting.
    pub never_preempt: bool,
}
