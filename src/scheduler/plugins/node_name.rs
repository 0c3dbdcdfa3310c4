//! NodeName: a pod that names a node (`spec.nodeName`) fits only that node.

use crate::scheduler::framework::{CycleState, FilterPlugin, NodeInfo, PodInfo};

/// Upstream's `ErrReason`.
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

/// NodeName filter: rejects every node but the one the pod names, if it names one.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeName;

impl NodeName {
    pub fn new() -> Self {
        NodeName
    }
}

impl FilterPlugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }
    fn filter(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        _state: &CycleState,
    ) -> Result<(), Vec<String>> {
        match pod.node_name {
            Some(n) if !n.is_empty() && n != node.name => Err(vec![ERR_REASON.into()]),
            _ => Ok(()),
        }
    }
    fn skip_filter(&self, pod: &PodInfo, _state: &CycleState) -> bool {
        pod.node_name.is_none_or(str::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::plugins::testutil::{node, pod};

    #[test]
    fn only_the_named_node_fits() {
        let mut p = pod("p", &[]);
        let n1 = node("n1", &[]);
        let n2 = node("n2", &[]);
        let st = CycleState::default();
        assert!(NodeName.filter(&PodInfo::new(&p), &n1, &st).is_ok());
        assert!(NodeName.filter(&PodInfo::new(&p), &n2, &st).is_ok());
        p.node_name = Some("n1".into());
        assert!(NodeName.filter(&PodInfo::new(&p), &n1, &st).is_ok());
        assert_eq!(
            NodeName.filter(&PodInfo::new(&p), &n2, &st).unwrap_err(),
            vec![ERR_REASON]
        );
    }
}
