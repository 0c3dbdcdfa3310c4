//! Nodes, as `v1.Node`.

use super::meta::ObjectMeta;
use super::taint::Taint;
use crate::sim::time::{SimDuration, SimTime};
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

/// How often a kubelet renews its node's lease (the lease renew interval,
/// `nodeStatusUpdateFrequency`: 10 s upstream).
pub const LEASE_RENEW_INTERVAL: SimDuration = SimDuration::from_secs(10);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStatus {
    pub capacity: NodeResources,
    pub allocatable: NodeResources,
    /// Condition Ready.
    pub ready: ConditionStatus,
    /// The last heartbeat posted explicitly (a kubelet start or reconnect), or
    /// the last renewal before renewals stopped. Read it through
    /// [`NodeStatus::heartbeat_at`], which adds the periodic renewals.
    pub last_heartbeat: SimTime,
    /// While the kubelet renews its lease: the instant its renewals count from
    /// (they fall at `renewing + k * LEASE_RENEW_INTERVAL`). A healthy node's
    /// renewals are a function of time, so they are computed, not simulated as
    /// an event each: at 5,000 nodes that is 43 million events a day saved.
    pub renewing: Option<SimTime>,
    /// Images present on the node (name → size in bytes), for image locality and pulls.
    pub images: BTreeMap<String, i64>,
}

impl NodeStatus {
    /// The latest heartbeat at or before `now`: the explicit one, or the last
    /// periodic renewal if the kubelet is renewing.
    pub fn heartbeat_at(&self, now: SimTime) -> SimTime {
        match self.renewing {
            Some(from) if now >= from => {
                let step = LEASE_RENEW_INTERVAL.as_millis();
                let tick = from.as_millis() + (now.as_millis() - from.as_millis()) / step * step;
                self.last_heartbeat.max(SimTime::from_millis(tick))
            }
            _ => self.last_heartbeat,
        }
    }

    /// Renewals stop at `now` (the kubelet crashed or lost the API server): the
    /// last renewal strictly before `now` becomes the last heartbeat. A renewal
    /// due at the very instant renewals stop is missed, as a timer that fires
    /// after the fault would find the kubelet gone.
    pub fn stop_renewing(&mut self, now: SimTime) {
        if self.renewing.is_some() && now.as_millis() > 0 {
            let before = SimTime::from_millis(now.as_millis() - 1);
            self.last_heartbeat = self.heartbeat_at(before);
        }
        self.renewing = None;
    }
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
