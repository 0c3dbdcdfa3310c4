//! The plugins of the default profile, with upstream's formulas, and a registry
//! that builds them by their upstream names from upstream-shaped plugin args.

use super::framework::{
    default_normalize, CycleState, FilterPlugin, NodeInfo, PodInfo, ScorePlugin, Snapshot,
    MAX_NODE_SCORE,
};
use crate::api::taint::{tolerated, Taint, TaintEffect, Toleration};

mod args;
mod common;
#[cfg(test)]
mod conv_tests;
mod image_locality;
mod inter_pod_affinity;
mod node_affinity;
mod node_name;
mod node_ports;
mod noderesources;
mod pod_topology_spread;
#[cfg(test)]
pub(crate) mod testutil;
pub mod volume_binding;

pub use args::{
    default_weight, filter_plugin, filter_plugin_with_args, score_plugin, FILTER_PLUGINS,
    KNOWN as SCORE_PLUGINS_AND_FILTERS, SCORE_PLUGINS,
};
pub use common::{LABEL_HOSTNAME, LABEL_ZONE};
pub use image_locality::{normalize_image_name, ImageLocality};
pub use inter_pod_affinity::InterPodAffinity;
pub use node_affinity::NodeAffinity;
pub use node_name::NodeName;
pub use node_ports::NodePorts;
pub use noderesources::{
    broken_linear, default_resources, BalancedAllocation, FitStrategy, NodeResourcesFitScore,
};
pub use pod_topology_spread::{system_default_constraints, PodTopologySpread};

fn unschedulable_taint() -> Taint {
    Taint::new(
        "node.kubernetes.io/unschedulable",
        "",
        TaintEffect::NoSchedule,
    )
}

/// NodeUnschedulable: a cordoned node takes only pods that tolerate
/// `node.kubernetes.io/unschedulable:NoSchedule`.
pub struct NodeUnschedulable;

impl FilterPlugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        _state: &CycleState,
    ) -> Result<(), Vec<String>> {
        if !node.unschedulable {
            return Ok(());
        }
        let t = unschedulable_taint();
        if tolerated(pod.tolerations, &t) {
            Ok(())
        } else {
            Err(vec!["node(s) were unschedulable".into()])
        }
    }
    fn accepts(&self, pod: &PodInfo, node: &NodeInfo, _state: &CycleState) -> bool {
        !node.unschedulable || tolerated(pod.tolerations, &unschedulable_taint())
    }
    fn skip_filter(&self, pod: &PodInfo, _state: &CycleState) -> bool {
        // a pod tolerating the cordon taint passes on every node
        tolerated(pod.tolerations, &unschedulable_taint())
    }
}

/// TaintToleration: filter on untolerated NoSchedule/NoExecute taints; score by the
/// number of untolerated PreferNoSchedule taints (fewer is better).
pub struct TaintToleration;

impl FilterPlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        _state: &CycleState,
    ) -> Result<(), Vec<String>> {
        match untolerated_taint(pod, node) {
            None => Ok(()),
            Some(t) => Err(vec![format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key, t.value
            )]),
        }
    }
    fn accepts(&self, pod: &PodInfo, node: &NodeInfo, _state: &CycleState) -> bool {
        untolerated_taint(pod, node).is_none()
    }
}

/// The node's first NoSchedule or NoExecute taint that the pod does not tolerate.
fn untolerated_taint<'a>(pod: &PodInfo, node: &'a NodeInfo) -> Option<&'a Taint> {
    node.taints.iter().find(|t| {
        matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute)
            && !tolerated(pod.tolerations, t)
    })
}

impl ScorePlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }
    fn node_local(&self) -> bool {
        true
    }
    fn pre_score(
        &self,
        _pod: &PodInfo,
        snap: &Snapshot,
        _feasible: &[usize],
        state: &mut CycleState,
    ) -> bool {
        state.insert(
            TAINT_SCORE_KEY,
            UniformTaints(snap.index.nodes_preferring_no_schedule == 0),
        );
        true
    }
    /// No node has a PreferNoSchedule taint: every raw score is 0, and
    /// every normalized one 100.
    fn uniform(&self, state: &CycleState) -> bool {
        state
            .get::<UniformTaints>(TAINT_SCORE_KEY)
            .is_some_and(|u| u.0)
    }
    fn score(&self, pod: &PodInfo, node: &NodeInfo, _state: &CycleState) -> i64 {
        untolerated_prefer_no_schedule(&prefer_tolerations(pod), node)
    }
    fn score_all(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        feasible: &[usize],
        _state: &CycleState,
        out: &mut Vec<i64>,
    ) {
        let prefer = prefer_tolerations(pod);
        out.extend(
            feasible
                .iter()
                .map(|&i| untolerated_prefer_no_schedule(&prefer, &snap.nodes[i])),
        );
    }
    fn normalize(&self, scores: &mut [i64], _state: &CycleState) {
        default_normalize(MAX_NODE_SCORE, true, scores);
    }
}

const TAINT_SCORE_KEY: &str = "TaintToleration/score";

/// TaintToleration's PreScore: whether no present node has a PreferNoSchedule taint.
struct UniformTaints(bool);

/// The pod's tolerations that count for scoring: no effect or PreferNoSchedule.
fn prefer_tolerations<'a>(pod: &PodInfo<'a>) -> Vec<&'a Toleration> {
    pod.tolerations
        .iter()
        .filter(|t| t.effect.is_none() || t.effect == Some(TaintEffect::PreferNoSchedule))
        .collect()
}

/// TaintToleration's raw score: the node's PreferNoSchedule taints not tolerated.
fn untolerated_prefer_no_schedule(prefer: &[&Toleration], node: &NodeInfo) -> i64 {
    node.taints
        .iter()
        .filter(|t| {
            t.effect == TaintEffect::PreferNoSchedule && !prefer.iter().any(|tol| tol.tolerates(t))
        })
        .count() as i64
}

/// NodeResourcesFit filter: the pod's requests must fit the node's free allocatable.
pub struct NodeResourcesFit;

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        _state: &CycleState,
    ) -> Result<(), Vec<String>> {
        let why: Vec<String> = shortfalls(pod, node)
            .map(|s| match s {
                Shortfall::Pods => "Too many pods".to_string(),
                Shortfall::Resource(name) => format!("Insufficient {name}"),
            })
            .collect();
        if why.is_empty() {
            Ok(())
        } else {
            Err(why)
        }
    }
    fn accepts(&self, pod: &PodInfo, node: &NodeInfo, _state: &CycleState) -> bool {
        shortfalls(pod, node).next().is_none()
    }
}

/// What a node lacks for a pod, in NodeResourcesFit's order of reasons.
enum Shortfall<'a> {
    Pods,
    Resource(&'a str),
}

/// The node's shortfalls for the pod: the pod count, then cpu, memory and
/// extended resources, each only where the pod requests some.
fn shortfalls<'a>(pod: &'a PodInfo, node: &'a NodeInfo) -> impl Iterator<Item = Shortfall<'a>> {
    let r = &pod.requests;
    let pods = (node.pod_count + 1 > node.allocatable_pods).then_some(Shortfall::Pods);
    let cpu = (r.cpu_millis > 0 && r.cpu_millis > node.allocatable_cpu - node.requested_cpu)
        .then_some(Shortfall::Resource("cpu"));
    let memory = (r.memory > 0 && r.memory > node.allocatable_memory - node.requested_memory)
        .then_some(Shortfall::Resource("memory"));
    let other = r.other.iter().filter_map(|(name, want)| {
        let alloc = node.allocatable_other.get(name).copied().unwrap_or(0);
        let used = node.requested_other.get(name).copied().unwrap_or(0);
        (*want > 0 && *want > alloc - used).then_some(Shortfall::Resource(name.as_str()))
    });
    pods.into_iter().chain(cpu).chain(memory).chain(other)
}

#[cfg(test)]
mod tests {
    //! Golden cases from upstream's unit tests (K8S-FACTS §1).
    use super::*;
    use crate::api::pod::{Container, PodSpec, PodStatus, PullPolicy};
    use crate::api::resources::ResourceList;
    use crate::api::{ObjectMeta, Pod};
    use std::sync::Arc;

    fn pod(containers: &[(i64, i64)]) -> Pod {
        Pod {
            meta: ObjectMeta::new("default", "p"),
            spec: Arc::new(PodSpec {
                containers: containers
                    .iter()
                    .map(|&(cpu, mem)| Container {
                        name: "c".into(),
                        image: "i:1".into(),
                        image_pull_policy: PullPolicy::IfNotPresent,
                        requests: ResourceList {
                            cpu_millis: Some(cpu),
                            memory: Some(mem),
                            ..Default::default()
                        },
                        limits: ResourceList::default(),
                        ports: Vec::new(),
                    })
                    .collect(),
                ..Default::default()
            }),
            node_name: None,
            status: PodStatus::default(),
        }
    }

    fn node(cpu: i64, mem: i64, pods: &[&[(i64, i64)]]) -> NodeInfo {
        let mut n = NodeInfo {
            name: "n".into(),
            allocatable_cpu: cpu,
            allocatable_memory: mem,
            allocatable_pods: 110,
            present: true,
            ..Default::default()
        };
        for p in pods {
            n.add_pod(super::super::framework::PodSummary::of(&pod(p)));
        }
        n
    }

    fn score(plugin: &dyn ScorePlugin, incoming: &Pod, n: &NodeInfo) -> i64 {
        plugin.score(&PodInfo::new(incoming), n, &CycleState::default())
    }

    #[test]
    fn least_allocated_golden() {
        let p = NodeResourcesFitScore::default();
        let incoming = pod(&[(1000, 2000), (2000, 3000)]);
        assert_eq!(score(&p, &incoming, &node(4000, 10000, &[])), 37);
        assert_eq!(score(&p, &incoming, &node(6000, 10000, &[])), 50);

        let empty = pod(&[]);
        let n1 = node(10000, 20000, &[&[(3000, 0)], &[(3000, 0)]]);
        let n2 = node(10000, 20000, &[&[(3000, 0)], &[(3000, 5000)]]);
        assert_eq!(score(&p, &empty, &n1), 70);
        assert_eq!(score(&p, &empty, &n2), 57);

        let n1 = node(10000, 20000, &[&[(3000, 0)]]);
        let n2 = node(10000, 20000, &[&[(3000, 5000)]]);
        assert_eq!(score(&p, &incoming, &n1), 57);
        assert_eq!(score(&p, &incoming, &n2), 45);
    }

    #[test]
    fn most_allocated_golden() {
        let p = NodeResourcesFitScore {
            strategy: FitStrategy::MostAllocated,
            ..Default::default()
        };
        let incoming = pod(&[(1000, 2000), (2000, 3000)]);
        assert_eq!(score(&p, &incoming, &node(4000, 10000, &[])), 62);
        assert_eq!(score(&p, &incoming, &node(6000, 10000, &[])), 50);
        let empty = pod(&[]);
        let n1 = node(10000, 20000, &[&[(3000, 0)], &[(3000, 0)]]);
        let n2 = node(10000, 20000, &[&[(3000, 0)], &[(3000, 5000)]]);
        assert_eq!(score(&p, &empty, &n1), 30);
        assert_eq!(score(&p, &empty, &n2), 42);
    }

    #[test]
    fn balanced_allocation_golden() {
        let p = BalancedAllocation::default();
        let incoming = pod(&[(1000, 2000), (2000, 3000)]);
        assert_eq!(score(&p, &incoming, &node(4000, 10000, &[])), 87);
        assert_eq!(score(&p, &incoming, &node(6000, 10000, &[])), 100);
        let n1 = node(10000, 20000, &[&[(1000, 0), (2000, 0)]]);
        let n2 = node(10000, 20000, &[&[(1000, 2000), (2000, 3000)]]);
        assert_eq!(score(&p, &incoming, &n1), 82);
        assert_eq!(score(&p, &incoming, &n2), 95);
    }

    #[test]
    fn fit_filter_names_each_insufficient_resource() {
        let n = node(1000, 1000, &[&[(800, 900)]]);
        let big = pod(&[(500, 500)]);
        let err = NodeResourcesFit
            .filter(&PodInfo::new(&big), &n, &CycleState::default())
            .unwrap_err();
        assert_eq!(err, vec!["Insufficient cpu", "Insufficient memory"]);
        let small = pod(&[(100, 100)]);
        assert!(NodeResourcesFit
            .filter(&PodInfo::new(&small), &n, &CycleState::default())
            .is_ok());
    }

    #[test]
    fn fit_filter_checks_extended_resources() {
        let mut p = pod(&[(100, 100)]);
        std::sync::Arc::make_mut(&mut p.spec).containers[0]
            .requests
            .other
            .insert("nvidia.com/gpu".into(), 1);
        let mut n = node(1000, 1000, &[]);
        assert_eq!(
            NodeResourcesFit
                .filter(&PodInfo::new(&p), &n, &CycleState::default())
                .unwrap_err(),
            vec!["Insufficient nvidia.com/gpu"]
        );
        n.allocatable_other.insert("nvidia.com/gpu".into(), 1);
        assert!(NodeResourcesFit
            .filter(&PodInfo::new(&p), &n, &CycleState::default())
            .is_ok());
    }

    #[test]
    fn taint_score_counts_untolerated_prefer_no_schedule() {
        let mut n = node(1000, 1000, &[]);
        n.taints
            .push(Taint::new("a", "b", TaintEffect::PreferNoSchedule));
        n.taints
            .push(Taint::new("c", "", TaintEffect::PreferNoSchedule));
        let p = pod(&[]);
        assert_eq!(score(&TaintToleration, &p, &n), 2);
        assert!(TaintToleration
            .filter(&PodInfo::new(&p), &n, &CycleState::default())
            .is_ok());
        n.taints.push(Taint::new("d", "e", TaintEffect::NoSchedule));
        assert_eq!(
            TaintToleration
                .filter(&PodInfo::new(&p), &n, &CycleState::default())
                .unwrap_err(),
            vec!["node(s) had untolerated taint {d: e}"]
        );
    }

    /// When no node fits, each node counts once, under the reasons of its
    /// first rejecting filter (the cycle only asks `accepts` while it looks
    /// for nodes, and finds the reasons afterwards).
    #[test]
    fn a_pod_that_fits_nowhere_counts_each_nodes_first_rejection() {
        use crate::scheduler::framework::{ClusterIndex, Snapshot};
        let mut nodes: Vec<NodeInfo> = (0..5).map(|_| node(1000, 1 << 30, &[])).collect();
        for (i, n) in nodes.iter_mut().enumerate() {
            n.name = format!("n{i}");
        }
        nodes[0].unschedulable = true;
        nodes[0].allocatable_cpu = 10; // its cordon is found first
        nodes[1]
            .taints
            .push(Taint::new("dedicated", "gpu", TaintEffect::NoSchedule));
        nodes[2].allocatable_cpu = 100;
        nodes[3].allocatable_cpu = 100;
        nodes[3].allocatable_pods = 0;
        nodes[4].allocatable_cpu = 100;
        let p = pod(&[(200, 1 << 20)]);
        let profile = crate::scheduler::default_profile();
        let (images, ns) = (Default::default(), Default::default());
        let snapshot = |nodes: &'static [NodeInfo]| Snapshot {
            nodes,
            image_nodes: &images,
            node_count: nodes.len(),
            namespace_labels: &ns,
            nominated: &[],
            index: Box::leak(Box::new(ClusterIndex::build(nodes))),
        };
        let snap = snapshot(Vec::leak(nodes.clone()));
        let mut rng = crate::sim::rng::stream(1, "scheduler");
        let mut cache = crate::scheduler::verdicts::VerdictCache::default();
        let want = "0/5 nodes are available: 1 Too many pods, \
                    1 node(s) had untolerated taint {dedicated: gpu}, \
                    1 node(s) were unschedulable, 3 Insufficient cpu.";
        // twice, the second time with the spec known to the verdict cache,
        // from every start of the node rotation
        let mut decide = |snap: &Snapshot, start: usize, cached: bool| {
            let mut next = start;
            let info = PodInfo::new(&p);
            let cache = cached.then_some(&mut cache);
            crate::scheduler::decide_with(&profile, &info, snap, &mut next, &mut rng, cache)
        };
        for start in 0..5 {
            for _ in 0..2 {
                let got = decide(&snap, start, true);
                assert_eq!(got, Err(want.to_string()));
            }
        }
        // one node with room: it is chosen, whatever the others say
        nodes[4].allocatable_cpu = 1000;
        assert_eq!(decide(&snapshot(Vec::leak(nodes)), 0, false), Ok(4));
    }
}
