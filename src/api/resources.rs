//! Resource amounts in the units the scheduler counts: CPU in millicores, memory in bytes.

use std::collections::BTreeMap;

/// A pod's or node's resources. `None` means "not set", which matters: the
/// scheduler's scoring treats an unset CPU/memory request as 100m / 200Mi.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResourceList {
    pub cpu_millis: Option<i64>,
    pub memory: Option<i64>,
    /// Other resources (`pods`, `ephemeral-storage`, extended resources), in whole units.
    pub other: BTreeMap<String, i64>,
}

impl ResourceList {
    pub fn cpu(&self) -> i64 {
        self.cpu_millis.unwrap_or(0)
    }
    pub fn mem(&self) -> i64 {
        self.memory.unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.cpu_millis.is_none() && self.memory.is_none() && self.other.is_empty()
    }
}

/// Default CPU request assumed for scoring when a container sets none (pkg/scheduler/util).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Default memory request assumed for scoring when a container sets none: 200Mi.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;
