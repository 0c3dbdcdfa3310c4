//! PodDisruptionBudgets (`policy/v1`): how many of a set of pods voluntary
//! disruptions (evictions) must leave healthy.

use super::meta::ObjectMeta;
use super::selector::LabelSelector;
use super::workload::IntOrPercent;

/// What the disruption controller last computed (`status`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PdbStatus {
    /// Matching pods that are Ready and not being deleted.
    pub current_healthy: i32,
    /// How many must stay healthy.
    pub desired_healthy: i32,
    /// `currentHealthy − desiredHealthy`, floored at 0; each eviction takes one.
    pub disruptions_allowed: i32,
    /// Pods counted: the scale of their controllers (or the pods, for an integer minAvailable).
    pub expected_pods: i32,
    /// The status describes the current spec (`observedGeneration == generation`).
    pub observed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodDisruptionBudget {
    pub meta: ObjectMeta,
    pub selector: LabelSelector,
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
    pub status: PdbStatus,
}

impl IntOrPercent {
    /// `"2"` or `"50%"`, as kubectl prints it.
    pub fn display(self) -> String {
        match self {
            IntOrPercent::Int(v) => v.to_string(),
            IntOrPercent::Percent(p) => format!("{p}%"),
        }
    }
}
