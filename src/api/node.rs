//! Nodes, as `v1.Node`.

use super::meta::ObjectMeta;
use super::taint::Taint;
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

/// Capacity or allocatable: CPU millicores, memory bytes, max pods, and others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeResources {
    pub cpu_millis: i64,
    pub memory: i64,
    pub pods: i64,
    pub other: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConditionStatus {
    True,
    False,
    #[default]
    Unknown,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStatus {
    pub capacity: NodeResources,
    pub allocatable: NodeResources,
    /// Condition Ready.
    pub ready: ConditionStatus,
    pub last_heartbeat: SimTime,
    /// Images present on the node (name → size in bytes), for image locality and pulls.
    pub images: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub meta: ObjectMeta,
    pub unschedulable: bool,
    pub taints: Vec<Taint>,
    pub status: NodeStatus,
}

impl Node {
    /// The STATUS column of `kubectl get nodes`.
    pub fn display_status(&self) -> String {
        let mut s = match self.status.ready {
            ConditionStatus::True => "Ready".to_string(),
            _ => "NotReady".to_string(),
        };
        if self.unschedulable {
            s.push_str(",SchedulingDisabled");
        }
        s
    }
}
