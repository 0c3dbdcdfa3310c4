//! A scheduler snapshot built straight from the API store, for looking at the
//! cluster from outside the running scheduler (`kubesim explain-schedule`).

use super::framework::{ClusterIndex, NodeInfo, PodSummary, Snapshot};
use crate::api::selector::Labels;
use crate::api::{ApiServer, Namespace, Node, Pod};
use std::collections::BTreeMap;

/// The owned data behind a [`Snapshot`].
#[derive(Debug, Default)]
pub struct OwnedSnapshot {
    pub nodes: Vec<NodeInfo>,
    pub image_nodes: BTreeMap<String, usize>,
    pub namespace_labels: BTreeMap<String, Labels>,
    pub index: ClusterIndex,
}

impl OwnedSnapshot {
    /// Every node (in name order) with the bound, unfinished pods on it.
    pub fn from_store(api: &ApiServer) -> Self {
        let mut s = OwnedSnapshot::default();
        let mut index = BTreeMap::new();
        for n in api.list::<Node>() {
            index.insert(n.meta.name.clone(), s.nodes.len());
            s.nodes.push(NodeInfo::from_node(n));
            for img in n.status.images.keys() {
                *s.image_nodes.entry(img.clone()).or_default() += 1;
            }
        }
        for p in api.list::<Pod>() {
            if p.status.phase.is_terminal() {
                continue;
            }
            if let Some(&i) = p.node_name.as_ref().and_then(|n| index.get(n)) {
                s.nodes[i].add_pod(PodSummary::of(p));
            }
        }
        for ns in api.list::<Namespace>() {
            s.namespace_labels
                .insert(ns.meta.name.clone(), ns.meta.labels.clone());
        }
        s.index = ClusterIndex::build(&s.nodes);
        s
    }

    pub fn view(&self) -> Snapshot<'_> {
        Snapshot {
            nodes: &self.nodes,
            image_nodes: &self.image_nodes,
            node_count: self.nodes.iter().filter(|n| n.present).count(),
            namespace_labels: &self.namespace_labels,
            nominated: &[],
            index: &self.index,
        }
    }
}
