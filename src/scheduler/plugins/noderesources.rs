//! NodeResourcesFit scoring strategies and NodeResourcesBalancedAllocation, with
//! configurable resources as upstream's `scoringStrategy.resources`.

use crate::api::pod::PodRequests;
use crate::scheduler::framework::{
    CycleState, NodeInfo, PodInfo, ScorePlugin, Snapshot, MAX_NODE_SCORE,
};

/// Upstream `config.MaxCustomPriorityScore`: shape scores run 0..=10.
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;
const MAX_UTILIZATION: i64 = 100;

/// `defaultResourceSpec`: cpu and memory, weight 1 each.
pub fn default_resources() -> Vec<(String, i64)> {
    vec![("cpu".into(), 1), ("memory".into(), 1)]
}

/// How NodeResourcesFit scores (its `scoringStrategy.type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FitStrategy {
    LeastAllocated,
    MostAllocated,
    /// Piecewise-linear in utilization: `shape` is (utilization 0-100, score 0-10)
    /// with strictly increasing utilizations.
    RequestedToCapacityRatio {
        shape: Vec<(i64, i64)>,
    },
}

/// NodeResourcesFit score: a per-resource score, then the weighted mean.
/// `resources` is (name, weight); empty means cpu:1, memory:1.
///
/// "Requested" is what the node's pods request plus the incoming pod. CPU and
/// memory use the non-zero-defaulted requests (100m / 200Mi per container that sets
/// none); `ephemeral-storage` and extended resources use real requests, and an
/// extended resource the pod does not request is skipped, as upstream. Resources
/// with allocatable 0 are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeResourcesFitScore {
    pub strategy: FitStrategy,
    pub resources: Vec<(String, i64)>,
}

impl Default for NodeResourcesFitScore {
    fn default() -> Self {
        NodeResourcesFitScore {
            strategy: FitStrategy::LeastAllocated,
            resources: default_resources(),
        }
    }
}

impl NodeResourcesFitScore {
    pub fn new(strategy: FitStrategy, resources: Vec<(String, i64)>) -> Self {
        NodeResourcesFitScore {
            strategy,
            resources,
        }
    }
}

/// A resource name resolved once per cycle, so per-node scoring does not compare
/// strings for cpu and memory.
#[derive(Debug, Clone, Copy)]
enum Res<'a> {
    Cpu,
    Memory,
    Other(&'a str),
}

fn resolve(name: &str) -> Res<'_> {
    match name {
        "cpu" => Res::Cpu,
        "memory" => Res::Memory,
        other => Res::Other(other),
    }
}

/// The pod's request for one resource: non-zero-defaulted for cpu/memory when
/// `nonzero`, real otherwise.
fn pod_request(r: &PodRequests, name: &str, nonzero: bool) -> i64 {
    pod_request_res(r, resolve(name), nonzero)
}

fn pod_request_res(r: &PodRequests, res: Res, nonzero: bool) -> i64 {
    match res {
        Res::Cpu if nonzero => r.nonzero_cpu_millis,
        Res::Cpu => r.cpu_millis,
        Res::Memory if nonzero => r.nonzero_memory,
        Res::Memory => r.memory,
        Res::Other(name) => r.other.get(name).copied().unwrap_or(0),
    }
}

/// `calculateResourceAllocatableRequest`: (allocatable, requested incl. the pod),
/// or (0, 0) to skip the resource.
fn alloc_and_request(node: &NodeInfo, res: Res, pod_req: i64, nonzero: bool) -> (i64, i64) {
    match res {
        Res::Cpu if nonzero => (node.allocatable_cpu, node.nonzero_cpu + pod_req),
        Res::Cpu => (node.allocatable_cpu, node.requested_cpu + pod_req),
        Res::Memory if nonzero => (node.allocatable_memory, node.nonzero_memory + pod_req),
        Res::Memory => (node.allocatable_memory, node.requested_memory + pod_req),
        Res::Other(name) => {
            // extended (scalar) resources the pod does not request are bypassed
            if pod_req == 0 && name != "ephemeral-storage" {
                return (0, 0);
            }
            match node.allocatable_other.get(name) {
                Some(&a) => (
                    a,
                    node.requested_other.get(name).copied().unwrap_or(0) + pod_req,
                ),
                None => (0, 0),
            }
        }
    }
}

/// The scored resources with the pod's request for each: (resource, weight, request).
fn resolved<'a>(
    resources: &'a [(String, i64)],
    pod: &PodInfo,
    nonzero: bool,
) -> Vec<(Res<'a>, i64, i64)> {
    resources_or_default(resources)
        .map(|(name, w)| {
            let r = resolve(name);
            (r, w, pod_request_res(&pod.requests, r, nonzero))
        })
        .collect()
}

/// The pod's (weight, request) for cpu and for memory when the resolved
/// resources are exactly those two, in that order: every default profile.
/// Scoring hundreds of nodes a cycle then runs straight-line arithmetic
/// instead of matching each resource by kind through a call per node (the two
/// resource scores were 18% of the trace replay; the general loop spent most of
/// it waiting on one node's chain before starting the next).
fn cpu_and_memory(r: &[(Res, i64, i64)]) -> Option<[(i64, i64); 2]> {
    match *r {
        [(Res::Cpu, wc, rc), (Res::Memory, wm, rm)] => Some([(wc, rc), (wm, rm)]),
        _ => None,
    }
}

/// [`NodeResourcesFitScore::score_resolved`]'s loop over cpu then memory,
/// with `one` (requested, capacity) the strategy's score of a resource.
#[inline(always)]
fn cpu_memory_score(
    [(wc, rc), (wm, rm)]: [(i64, i64); 2],
    node: &NodeInfo,
    one: impl Fn(i64, i64) -> i64,
) -> i64 {
    let (mut total, mut weights) = (0i64, 0i64);
    if node.allocatable_cpu != 0 {
        total += one(node.nonzero_cpu + rc, node.allocatable_cpu) * wc;
        weights += wc;
    }
    if node.allocatable_memory != 0 {
        total += one(node.nonzero_memory + rm, node.allocatable_memory) * wm;
        weights += wm;
    }
    if weights == 0 {
        return 0;
    }
    total / weights
}

/// `leastRequestedScore`.
#[inline]
pub fn least_allocated(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// `mostRequestedScore`.
#[inline]
pub fn most_allocated(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

/// `helper.BuildBrokenLinearFunction`: flat outside the end points, linear (integer
/// division) between them.
pub fn broken_linear(shape: &[(i64, i64)], p: i64) -> i64 {
    broken_linear_scaled(shape, 1, p)
}

/// [`broken_linear`] over `shape` with every score multiplied by `k` first.
fn broken_linear_scaled(shape: &[(i64, i64)], k: i64, p: i64) -> i64 {
    for (i, &(u, s)) in shape.iter().enumerate() {
        if p <= u {
            if i == 0 {
                return s * k;
            }
            let (pu, ps) = shape[i - 1];
            return ps * k + (s * k - ps * k) * (p - pu) / (u - pu);
        }
    }
    shape.last().map_or(0, |&(_, s)| s * k)
}

/// `scaledUtilization`: requested × 100 / capacity, clamped to [0, 100], exact.
fn utilization(requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 || requested <= 0 {
        return 0;
    }
    if requested >= capacity {
        return MAX_UTILIZATION;
    }
    (requested as i128 * MAX_UTILIZATION as i128 / capacity as i128) as i64
}

/// RequestedToCapacityRatio score of one resource: shape scores (0-10) are scaled
/// to 0-100 before interpolating, as upstream.
pub fn rtcr_resource(shape: &[(i64, i64)], requested: i64, capacity: i64) -> i64 {
    let k = MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE;
    if capacity == 0 || requested > capacity {
        return broken_linear_scaled(shape, k, MAX_UTILIZATION);
    }
    broken_linear_scaled(shape, k, utilization(requested, capacity))
}

fn resources_or_default(r: &[(String, i64)]) -> impl Iterator<Item = (&str, i64)> {
    const DEFAULT: [(&str, i64); 2] = [("cpu", 1), ("memory", 1)];
    let custom = r.iter().map(|(n, w)| (n.as_str(), *w));
    let default = DEFAULT.iter().copied();
    if r.is_empty() {
        either(None, Some(default))
    } else {
        either(Some(custom), None)
    }
}

fn either<A: Iterator<Item = T>, B: Iterator<Item = T>, T>(
    a: Option<A>,
    b: Option<B>,
) -> impl Iterator<Item = T> {
    a.into_iter().flatten().chain(b.into_iter().flatten())
}

impl NodeResourcesFitScore {
    fn score_resolved(&self, resources: &[(Res, i64, i64)], node: &NodeInfo) -> i64 {
        let (mut total, mut weights) = (0i64, 0i64);
        for &(res, w, req) in resources {
            let (cap, req) = alloc_and_request(node, res, req, true);
            if cap == 0 {
                continue;
            }
            match &self.strategy {
                FitStrategy::LeastAllocated => {
                    total += least_allocated(req, cap) * w;
                    weights += w;
                }
                FitStrategy::MostAllocated => {
                    total += most_allocated(req, cap) * w;
                    weights += w;
                }
                FitStrategy::RequestedToCapacityRatio { shape } => {
                    let s = rtcr_resource(shape, req, cap);
                    if s > 0 {
                        total += s * w;
                        weights += w;
                    }
                }
            }
        }
        if weights == 0 {
            return 0;
        }
        match self.strategy {
            // math.Round(nodeScore / weightSum), both non-negative
            FitStrategy::RequestedToCapacityRatio { .. } => (2 * total + weights) / (2 * weights),
            _ => total / weights,
        }
    }
}

impl ScorePlugin for NodeResourcesFitScore {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }
    fn node_local(&self) -> bool {
        true
    }
    fn score(&self, pod: &PodInfo, node: &NodeInfo, _state: &CycleState) -> i64 {
        self.score_resolved(&resolved(&self.resources, pod, true), node)
    }
    fn score_all(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        feasible: &[usize],
        _state: &CycleState,
        out: &mut Vec<i64>,
    ) {
        let r = resolved(&self.resources, pod, true);
        let nodes = feasible.iter().map(|&i| &snap.nodes[i]);
        // (each arm passes the strategy's function itself, so it inlines)
        match (cpu_and_memory(&r), &self.strategy) {
            (Some(cm), FitStrategy::LeastAllocated) => {
                out.extend(nodes.map(|n| cpu_memory_score(cm, n, least_allocated)))
            }
            (Some(cm), FitStrategy::MostAllocated) => {
                out.extend(nodes.map(|n| cpu_memory_score(cm, n, most_allocated)))
            }
            _ => out.extend(nodes.map(|n| self.score_resolved(&r, n))),
        }
    }
}

/// NodeResourcesBalancedAllocation: favour nodes whose resource fractions stay
/// close to each other. Uses real requests (no defaulting); 1 − std of the
/// fractions (|f0 − f1| / 2 for two, population std for three or more) × 100,
/// truncated. Skipped for a pod that requests none of the resources (upstream's
/// best-effort skip). `resources` empty means cpu and memory; weights are ignored,
/// as upstream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BalancedAllocation {
    pub resources: Vec<(String, i64)>,
}

impl BalancedAllocation {
    pub fn new(resources: Vec<(String, i64)>) -> Self {
        BalancedAllocation { resources }
    }
}

impl ScorePlugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }
    fn node_local(&self) -> bool {
        true
    }
    fn pre_score(
        &self,
        pod: &PodInfo,
        _snap: &Snapshot,
        _feasible: &[usize],
        _state: &mut CycleState,
    ) -> bool {
        resources_or_default(&self.resources)
            .any(|(n, _)| pod_request(&pod.requests, n, false) != 0)
    }
    fn score(&self, pod: &PodInfo, node: &NodeInfo, _state: &CycleState) -> i64 {
        balanced_score(&resolved(&self.resources, pod, false), node)
    }
    fn score_all(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        feasible: &[usize],
        _state: &CycleState,
        out: &mut Vec<i64>,
    ) {
        let r = resolved(&self.resources, pod, false);
        match cpu_and_memory(&r) {
            Some([(_, rc), (_, rm)]) => out.extend(
                feasible
                    .iter()
                    .map(|&i| balanced_cpu_memory(rc, rm, &snap.nodes[i])),
            ),
            None => out.extend(feasible.iter().map(|&i| balanced_score(&r, &snap.nodes[i]))),
        }
    }
}

/// [`balanced_score`] for cpu and memory ([`cpu_and_memory`]): the same
/// arithmetic in the same order, so the same scores.
#[inline]
fn balanced_cpu_memory(rc: i64, rm: i64, node: &NodeInfo) -> i64 {
    let (cc, cm) = (node.allocatable_cpu, node.allocatable_memory);
    let std = if cc != 0 && cm != 0 {
        let fc = ((node.requested_cpu + rc) as f64 / cc as f64).min(1.0);
        let fm = ((node.requested_memory + rm) as f64 / cm as f64).min(1.0);
        ((fc - fm) / 2.0).abs()
    } else {
        // one fraction or none: no spread
        0.0
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// BalancedAllocation's score of one node over the resolved resources.
fn balanced_score(resources: &[(Res, i64, i64)], node: &NodeInfo) -> i64 {
    let fraction = |res: Res, req: i64| -> Option<f64> {
        let (cap, req) = alloc_and_request(node, res, req, false);
        (cap != 0).then(|| (req as f64 / cap as f64).min(1.0))
    };
    let fractions = || {
        resources
            .iter()
            .filter_map(|&(res, _, req)| fraction(res, req))
    };
    let (mut n, mut total, mut first) = (0usize, 0f64, [0f64; 2]);
    for f in fractions() {
        if n < 2 {
            first[n] = f;
        }
        n += 1;
        total += f;
    }
    let std = match n {
        2 => ((first[0] - first[1]) / 2.0).abs(),
        n if n > 2 => {
            let mean = total / n as f64;
            let sum: f64 = fractions().map(|f| (f - mean) * (f - mean)).sum();
            (sum / n as f64).sqrt()
        }
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::plugins::testutil::*;

    proptest::proptest! {
        /// The cpu-and-memory paths give exactly the general loop's scores,
        /// over empty, full, over-committed and capacity-less nodes.
        #[test]
        fn cpu_and_memory_paths_score_as_the_general_loop(
            cpu in proptest::prop_oneof![proptest::strategy::Just(0i64), 1i64..64_000],
            memory in proptest::prop_oneof![proptest::strategy::Just(0i64), 1i64..(1 << 40)],
            (used_cpu, used_memory) in (0i64..80_000, 0i64..(1 << 41)),
            (nonzero_cpu, nonzero_memory) in (0i64..200, 0i64..(1 << 28)),
            (rc, rm) in (0i64..8_000, 0i64..(1 << 34)),
            (wc, wm) in (1i64..5, 1i64..5),
            most in proptest::bool::ANY,
        ) {
            let n = NodeInfo {
                allocatable_cpu: cpu,
                allocatable_memory: memory,
                requested_cpu: used_cpu,
                requested_memory: used_memory,
                nonzero_cpu: used_cpu + nonzero_cpu,
                nonzero_memory: used_memory + nonzero_memory,
                ..NodeInfo::default()
            };
            let r = [(Res::Cpu, wc, rc), (Res::Memory, wm, rm)];
            let two = cpu_and_memory(&r).expect("cpu then memory");
            let (strategy, one): (_, fn(i64, i64) -> i64) = if most {
                (FitStrategy::MostAllocated, most_allocated)
            } else {
                (FitStrategy::LeastAllocated, least_allocated)
            };
            let fit = NodeResourcesFitScore { strategy, resources: Vec::new() };
            proptest::prop_assert_eq!(cpu_memory_score(two, &n, one), fit.score_resolved(&r, &n));
            proptest::prop_assert_eq!(balanced_cpu_memory(rc, rm, &n), balanced_score(&r, &n));
        }
    }

    #[test]
    fn only_cpu_then_memory_takes_the_two_resource_path() {
        assert!(cpu_and_memory(&[(Res::Cpu, 1, 5), (Res::Memory, 1, 7)]).is_some());
        assert!(cpu_and_memory(&[(Res::Memory, 1, 7), (Res::Cpu, 1, 5)]).is_none());
        assert!(cpu_and_memory(&[(Res::Cpu, 1, 5)]).is_none());
        let three = [
            (Res::Cpu, 1, 5),
            (Res::Memory, 1, 7),
            (Res::Other("gpu"), 1, 1),
        ];
        assert!(cpu_and_memory(&three).is_none());
    }

    fn res_pod(containers: &[&[(&str, i64)]]) -> crate::api::Pod {
        with_spec(pod("p", &[]), |s| {
            s.containers = containers
                .iter()
                .enumerate()
                .map(|(i, reqs)| {
                    let mut c = container(&format!("c{i}"), "img");
                    for &(name, v) in reqs.iter() {
                        match name {
                            "cpu" => c.requests.cpu_millis = Some(v),
                            "memory" => c.requests.memory = Some(v),
                            _ => {
                                c.requests.other.insert(name.into(), v);
                            }
                        }
                    }
                    c
                })
                .collect();
        })
    }

    fn res_node(name: &str, alloc: &[(&str, i64)]) -> NodeInfo {
        let mut n = node(name, &[]);
        n.allocatable_cpu = 0;
        n.allocatable_memory = 0;
        for &(r, v) in alloc {
            match r {
                "cpu" => n.allocatable_cpu = v,
                "memory" => n.allocatable_memory = v,
                _ => {
                    n.allocatable_other.insert(r.into(), v);
                }
            }
        }
        n
    }

    /// requested_to_capacity_ratio_test.go TestBrokenLinearFunction.
    #[test]
    fn broken_linear_golden() {
        let f = [(10, 1), (90, 9)];
        for (p, want) in [
            (-10, 1),
            (0, 1),
            (9, 1),
            (10, 1),
            (15, 1),
            (19, 1),
            (20, 2),
            (89, 8),
            (90, 9),
            (99, 9),
            (100, 9),
            (110, 9),
        ] {
            assert_eq!(broken_linear(&f, p), want, "p={p}");
        }
        let f = [(0, 2), (40, 10), (100, 0)];
        for (p, want) in [
            (-10, 2),
            (0, 2),
            (20, 6),
            (30, 8),
            (40, 10),
            (70, 5),
            (100, 0),
            (110, 0),
        ] {
            assert_eq!(broken_linear(&f, p), want, "p={p}");
        }
        let f = [(0, 2), (40, 2), (100, 2)];
        for p in [-10, 0, 20, 30, 40, 70, 100, 110] {
            assert_eq!(broken_linear(&f, p), 2);
        }
    }

    fn rtcr(shape: &[(i64, i64)], resources: &[(&str, i64)]) -> NodeResourcesFitScore {
        NodeResourcesFitScore {
            strategy: FitStrategy::RequestedToCapacityRatio {
                shape: shape.to_vec(),
            },
            resources: resources.iter().map(|(n, w)| (n.to_string(), *w)).collect(),
        }
    }

    /// TestRequestedToCapacityRatioScoringStrategy.
    #[test]
    fn rtcr_golden_cpu_memory() {
        let p = rtcr(&[(0, 10), (100, 0)], &[("cpu", 1), ("memory", 1)]);
        // nothing requested (pods with no containers) → 100, 100
        let mut n1 = res_node("node1", &[("cpu", 4000), ("memory", 10000)]);
        let empty = with_spec(pod("e", &[]), |s| s.containers.clear());
        place(&mut n1, &empty);
        place(&mut n1, &empty);
        let n2 = res_node("node2", &[("cpu", 4000), ("memory", 10000)]);
        let c = Cluster::new(vec![n1, n2]);
        assert_eq!(c.score(&p, &empty).unwrap().0, vec![100, 100]);
        // differently sized nodes: cpu 3000/4000 → 25, mem 5000/10000 → 50 → round(37.5) = 38
        let incoming = res_pod(&[
            &[("cpu", 1000), ("memory", 2000)],
            &[("cpu", 2000), ("memory", 3000)],
        ]);
        let c = Cluster::new(vec![
            res_node("node1", &[("cpu", 4000), ("memory", 10000)]),
            res_node("node2", &[("cpu", 6000), ("memory", 10000)]),
        ]);
        assert_eq!(c.score(&p, &incoming).unwrap().0, vec![38, 50]);
        // no resources requested, pods scheduled with resources
        let mut n1 = res_node("node1", &[("cpu", 4000), ("memory", 10000)]);
        let mut n2 = res_node("node2", &[("cpu", 6000), ("memory", 10000)]);
        place(&mut n1, &res_pod(&[&[("cpu", 3000), ("memory", 5000)]]));
        place(&mut n2, &res_pod(&[&[("cpu", 3000), ("memory", 5000)]]));
        let c = Cluster::new(vec![n1, n2]);
        assert_eq!(c.score(&p, &empty).unwrap().0, vec![38, 50]);
    }

    /// TestResourceBinPackingSingleExtended / MultipleExtended.
    #[test]
    fn rtcr_golden_extended() {
        let node1 = || {
            res_node(
                "node1",
                &[
                    ("cpu", 4000),
                    ("memory", 10000 << 20),
                    ("intel.com/foo", 8),
                    ("intel.com/bar", 4),
                ],
            )
        };
        let node2 = || {
            res_node(
                "node2",
                &[
                    ("cpu", 4000),
                    ("memory", 10000 << 20),
                    ("intel.com/foo", 4),
                    ("intel.com/bar", 8),
                ],
            )
        };
        let single = rtcr(&[(0, 0), (100, 1)], &[("intel.com/foo", 1)]);
        let c = Cluster::new(vec![node1(), node2()]);
        assert_eq!(c.score(&single, &res_pod(&[&[]])).unwrap().0, vec![0, 0]);
        assert_eq!(
            c.score(&single, &res_pod(&[&[("intel.com/foo", 2)]]))
                .unwrap()
                .0,
            vec![2, 5]
        );
        let mut n2 = node2();
        place(&mut n2, &res_pod(&[&[("intel.com/foo", 2)]]));
        let c2 = Cluster::new(vec![node1(), n2]);
        assert_eq!(
            c2.score(&single, &res_pod(&[&[("intel.com/foo", 2)]]))
                .unwrap()
                .0,
            vec![2, 10]
        );
        assert_eq!(
            c.score(&single, &res_pod(&[&[("intel.com/foo", 4)]]))
                .unwrap()
                .0,
            vec![5, 10]
        );

        let multi = rtcr(
            &[(0, 0), (100, 1)],
            &[("intel.com/foo", 3), ("intel.com/bar", 5)],
        );
        // node1 foo 8 bar 4; node2 foo 4 bar 8
        let pod1 = res_pod(&[&[("intel.com/foo", 2), ("intel.com/bar", 2)]]);
        let pod2 = res_pod(&[&[("intel.com/foo", 4), ("intel.com/bar", 2)]]);
        assert_eq!(c.score(&multi, &res_pod(&[&[]])).unwrap().0, vec![0, 0]);
        assert_eq!(c.score(&multi, &pod1).unwrap().0, vec![4, 3]);
        let mut n2 = node2();
        place(&mut n2, &pod2);
        let c2 = Cluster::new(vec![node1(), n2]);
        assert_eq!(c2.score(&multi, &pod1).unwrap().0, vec![4, 7]);
        assert_eq!(c.score(&multi, &pod2).unwrap().0, vec![5, 5]);
    }

    #[test]
    fn extended_resources_in_least_and_most_allocated() {
        let res = vec![("cpu".to_string(), 1), ("nvidia.com/gpu".to_string(), 2)];
        let la = NodeResourcesFitScore::new(FitStrategy::LeastAllocated, res.clone());
        let ma = NodeResourcesFitScore::new(FitStrategy::MostAllocated, res);
        let c = Cluster::new(vec![res_node(
            "n",
            &[("cpu", 4000), ("memory", 1 << 30), ("nvidia.com/gpu", 4)],
        )]);
        // cpu 1000/4000: LA 75, MA 25; gpu 1/4: LA 75, MA 25 → weighted (75 + 150) / 3 = 75
        let p = res_pod(&[&[("cpu", 1000), ("nvidia.com/gpu", 1)]]);
        assert_eq!(c.score(&la, &p).unwrap().0, vec![75]);
        assert_eq!(c.score(&ma, &p).unwrap().0, vec![25]);
        // a pod not asking for the gpu: only cpu counts
        let p = res_pod(&[&[("cpu", 2000)]]);
        assert_eq!(c.score(&la, &p).unwrap().0, vec![50]);
    }

    #[test]
    fn balanced_allocation_three_resources_uses_population_std() {
        let b = BalancedAllocation::new(vec![
            ("cpu".into(), 1),
            ("memory".into(), 1),
            ("nvidia.com/gpu".into(), 1),
        ]);
        let c = Cluster::new(vec![res_node(
            "n",
            &[("cpu", 4000), ("memory", 1000), ("nvidia.com/gpu", 4)],
        )]);
        // fractions 0.5, 0.25, 1.0: mean 0.5833; var = (0.00694 + 0.11111 + 0.17361)/3 = 0.09722
        // std 0.31180 → trunc((1 − 0.31180) × 100) = 68
        let p = res_pod(&[&[("cpu", 2000), ("memory", 250), ("nvidia.com/gpu", 4)]]);
        assert_eq!(c.score(&b, &p).unwrap().0, vec![68]);
        // without the gpu request the gpu is skipped: |0.5 − 0.25| / 2 → 87
        let p = res_pod(&[&[("cpu", 2000), ("memory", 250)]]);
        assert_eq!(c.score(&b, &p).unwrap().0, vec![87]);
        // best-effort (explicit zeros) is skipped
        let p = res_pod(&[&[("cpu", 0), ("memory", 0)]]);
        assert_eq!(c.score(&b, &p), None);
    }
}
