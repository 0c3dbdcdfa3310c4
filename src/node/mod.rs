//! The node agents: the kubelet (with its container runtime) on every node.

pub mod behavior;
pub mod kubelet;
