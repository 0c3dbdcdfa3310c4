//! Test helpers: pods, nodes and a tiny cluster to run plugins against.

use crate::api::pod::{Container, PodSpec, PodStatus, PullPolicy};
use crate::api::resources::ResourceList;
use crate::api::selector::Labels;
use crate::api::{ObjectMeta, Pod};
use crate::scheduler::framework::{
    ClusterIndex, CycleState, FilterPlugin, NodeInfo, PodInfo, PodSummary, ScorePlugin, Snapshot,
};
use std::collections::BTreeMap;
use std::sync::Arc;

pub fn labels(kv: &[(&str, &str)]) -> Labels {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A pod in `default` with one container (`image`), no requests.
pub fn pod(name: &str, l: &[(&str, &str)]) -> Pod {
    pod_in("default", name, l)
}

pub fn pod_in(ns: &str, name: &str, l: &[(&str, &str)]) -> Pod {
    let mut meta = ObjectMeta::new(ns, name);
    meta.labels = labels(l);
    Pod {
        meta,
        spec: Arc::new(PodSpec {
            containers: vec![container("c", "image")],
            ..Default::default()
        }),
        node_name: None,
        status: PodStatus::default(),
    }
}

pub fn container(name: &str, image: &str) -> Container {
    Container {
        name: name.into(),
        image: image.into(),
        image_pull_policy: PullPolicy::IfNotPresent,
        requests: ResourceList::default(),
        limits: ResourceList::default(),
        ports: Vec::new(),
    }
}

/// Edit a pod's spec in place.
pub fn with_spec(mut p: Pod, f: impl FnOnce(&mut PodSpec)) -> Pod {
    f(Arc::make_mut(&mut p.spec));
    p
}

/// A present node with the hostname label (as `conv_node` adds) and room for anything.
pub fn node(name: &str, l: &[(&str, &str)]) -> NodeInfo {
    let mut labels = labels(l);
    labels
        .entry("kubernetes.io/hostname".into())
        .or_insert_with(|| name.into());
    NodeInfo {
        name: name.into(),
        labels,
        allocatable_cpu: 100_000,
        allocatable_memory: 1 << 40,
        allocatable_pods: 1000,
        present: true,
        ..Default::default()
    }
}

pub fn place(n: &mut NodeInfo, p: &Pod) {
    let mut p = p.clone();
    p.node_name = Some(n.name.clone());
    n.add_pod(PodSummary::of(&p));
}

/// What a [`Snapshot`] borrows.
#[derive(Default)]
pub struct Cluster {
    pub nodes: Vec<NodeInfo>,
    pub image_nodes: BTreeMap<String, usize>,
    pub ns_labels: BTreeMap<String, Labels>,
}

impl Cluster {
    pub fn new(nodes: Vec<NodeInfo>) -> Self {
        let mut image_nodes = BTreeMap::new();
        for n in nodes.iter().filter(|n| n.present) {
            for img in n.images.keys() {
                *image_nodes.entry(img.clone()).or_default() += 1;
            }
        }
        Cluster {
            nodes,
            image_nodes,
            ns_labels: BTreeMap::new(),
        }
    }

    pub fn snap(&self) -> Snapshot<'_> {
        Snapshot {
            nodes: &self.nodes,
            image_nodes: &self.image_nodes,
            node_count: self.nodes.iter().filter(|n| n.present).count(),
            namespace_labels: &self.ns_labels,
            nominated: &[],
            // built afresh, as tests edit `nodes` freely (test-only leak)
            index: Box::leak(Box::new(ClusterIndex::build(&self.nodes))),
        }
    }

    /// PreFilter, then Filter on every node: `Ok(())` or the first reason.
    pub fn filter(&self, plugin: &dyn FilterPlugin, p: &Pod) -> Vec<Result<(), String>> {
        let info = PodInfo::new(p);
        let mut st = CycleState::default();
        if let Err(e) = plugin.pre_filter(&info, &self.snap(), &mut st) {
            return self.nodes.iter().map(|_| Err(e.clone())).collect();
        }
        self.nodes
            .iter()
            .map(|n| plugin.filter(&info, n, &st).map_err(|r| r.join("; ")))
            .collect()
    }

    /// PreScore over every node as feasible, Score, NormalizeScore:
    /// `None` if PreScore skipped, else (raw, normalized).
    pub fn score(&self, plugin: &dyn ScorePlugin, p: &Pod) -> Option<(Vec<i64>, Vec<i64>)> {
        self.score_on(plugin, p, &(0..self.nodes.len()).collect::<Vec<_>>())
    }

    pub fn score_on(
        &self,
        plugin: &dyn ScorePlugin,
        p: &Pod,
        feasible: &[usize],
    ) -> Option<(Vec<i64>, Vec<i64>)> {
        let info = PodInfo::new(p);
        let mut st = CycleState::default();
        if !plugin.pre_score(&info, &self.snap(), feasible, &mut st) {
            return None;
        }
        let raw: Vec<i64> = feasible
            .iter()
            .map(|&i| plugin.score(&info, &self.nodes[i], &st))
            .collect();
        // the batch form the scheduler uses must agree with per-node Score
        let mut all = Vec::new();
        plugin.score_all(&info, &self.snap(), feasible, &st, &mut all);
        assert_eq!(all, raw, "score_all differs from score");
        let mut norm = raw.clone();
        plugin.normalize(&mut norm, &st);
        // a plugin that says its scores are all the same must be right
        assert!(
            !plugin.uniform(&st) || norm.windows(2).all(|w| w[0] == w[1]),
            "{} said its scores were uniform: {norm:?}",
            plugin.name()
        );
        Some((raw, norm))
    }
}
