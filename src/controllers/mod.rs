//! The controllers of kube-controller-manager, one file each.
//!
//! Each controller is level-triggered: a watch notification only enqueues an
//! object key; a later sync reads the current state and acts on the difference
//! between desired and observed (DESIGN.md, principle 2).

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod gc;
pub mod hpa;
pub mod job;
pub mod node_lifecycle;
pub mod pod_gc;
pub mod replicaset;
pub mod statefulset;
pub mod volume;
pub mod workqueue;

/// Which controller a queued sync belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ControllerId {
    ReplicaSet,
    Deployment,
    Job,
    Endpoints,
    Volume,
    Disruption,
    ReplicationController,
    StatefulSet,
    DaemonSet,
    CronJob,
}

/// Upstream's `generateName` suffix alphabet (no vowels, no look-alikes).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `generateName`: base (cut to 58 characters) + 5 random characters.
pub fn generate_name(base: &str, rng: &mut crate::sim::rng::SimRng) -> String {
    use rand::RngExt;
    let mut s: String = base.chars().take(58).collect();
    for _ in 0..5 {
        s.push(NAME_ALPHABET[rng.random_range(0..NAME_ALPHABET.len())] as char);
    }
    s
}
