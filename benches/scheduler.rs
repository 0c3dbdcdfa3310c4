//! Scheduler throughput in the shape of upstream scheduler_perf `SchedulingBasic`:
//! 5,000 nodes, then 10,000 or 50,000 identical pods scheduled one after another
//! (filter, score, select, assume). The event loop is not involved: this measures
//! the scheduling algorithm, pods per second on one core. Like the running
//! scheduler, it keeps node-local verdicts from one pod to the next
//! (`scheduler::verdicts`).

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use kubesim::api::node::{ConditionStatus, NodeResources, NodeStatus};
use kubesim::api::pod::{Container, PodSpec, PullPolicy};
use kubesim::api::resources::ResourceList;
use kubesim::api::{Node, ObjectMeta, Pod};
use kubesim::scheduler::decide_with;
use kubesim::scheduler::framework::{ClusterIndex, NodeInfo, PodInfo, PodSummary, Snapshot};
use kubesim::scheduler::policies::Registry;
use kubesim::scheduler::verdicts::VerdictCache;
use kubesim::sim::rng;
use std::collections::BTreeMap;
use std::sync::Arc;

fn nodes(n: usize) -> Vec<NodeInfo> {
    (0..n)
        .map(|i| {
            let name = format!("node-{i}");
            let mut meta = ObjectMeta::new("", &name);
            meta.labels
                .insert("kubernetes.io/hostname".into(), name.clone());
            meta.labels.insert(
                "topology.kubernetes.io/zone".into(),
                format!("zone-{}", i % 3),
            );
            let r = NodeResources {
                cpu_millis: 4000,
                memory: 32 << 30,
                pods: 110,
                other: BTreeMap::new(),
            };
            NodeInfo::from_node(&Node {
                meta,
                unschedulable: false,
                taints: Vec::new(),
                status: NodeStatus {
                    capacity: r.clone(),
                    allocatable: r,
                    ready: ConditionStatus::True,
                    ..Default::default()
                },
            })
        })
        .collect()
}

fn pod(i: usize, spec: &Arc<PodSpec>) -> Pod {
    let mut meta = ObjectMeta::new("default", &format!("pod-{i}"));
    meta.labels.insert("app".into(), "bench".into());
    Pod {
        meta,
        spec: spec.clone(),
        node_name: None,
        status: Default::default(),
    }
}

fn schedule_all(policy: &str, base: &[NodeInfo], pods: usize) -> usize {
    let registry = Registry::builtin();
    let profile = registry.build(policy, "default-scheduler").unwrap();
    let spec = Arc::new(PodSpec {
        containers: vec![Container {
            name: "c".into(),
            image: "registry.example/app:1".into(),
            image_pull_policy: PullPolicy::IfNotPresent,
            requests: ResourceList {
                cpu_millis: Some(10),
                memory: Some(64 << 20),
                ..Default::default()
            },
            limits: ResourceList::default(),
            ports: Vec::new(),
        }],
        ..Default::default()
    });
    let mut nodes = base.to_vec();
    let mut index = ClusterIndex::build(&nodes);
    let images = BTreeMap::new();
    let ns = BTreeMap::new();
    let mut r = rng::stream(1, "scheduler");
    let mut start = 0;
    let mut bound = 0;
    // kept across pods, as the running scheduler keeps it
    let mut cache = VerdictCache::default();
    for i in 0..pods {
        let p = pod(i, &spec);
        let chosen = {
            let snap = Snapshot {
                nodes: &nodes,
                image_nodes: &images,
                node_count: nodes.len(),
                namespace_labels: &ns,
                nominated: &[],
                index: &index,
            };
            decide_with(
                &profile,
                &PodInfo::new(&p),
                &snap,
                &mut start,
                &mut r,
                Some(&mut cache),
            )
        };
        if let Ok(idx) = chosen {
            let summary = PodSummary::of(&p);
            index.add_pod(idx, &summary);
            nodes[idx].add_pod(summary);
            bound += 1;
        }
    }
    bound
}

fn throughput(c: &mut Criterion) {
    let base = nodes(5000);
    let mut g = c.benchmark_group("scheduler_5000_nodes");
    g.sample_size(10);
    for policy in ["default", "least-allocated"] {
        for pods in [10_000usize, 50_000] {
            g.throughput(Throughput::Elements(pods as u64));
            g.bench_with_input(BenchmarkId::new(policy, pods), &pods, |b, &n| {
                b.iter(|| assert_eq!(schedule_all(policy, &base, n), n))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, throughput);

/// `KUBESIM_SCHED_ONCE=policy:pods` runs that case once, outside criterion, and
/// prints the wall time; run it under `perf stat` for the CPU time, which a
/// shared, busy machine disturbs far less than wall time.
fn main() {
    if let Ok(case) = std::env::var("KUBESIM_SCHED_ONCE") {
        let (policy, pods) = case.split_once(':').expect("policy:pods");
        let pods: usize = pods.parse().expect("pods");
        let base = nodes(5000);
        let t = std::time::Instant::now();
        assert_eq!(schedule_all(policy, &base, pods), pods);
        let s = t.elapsed().as_secs_f64();
        println!(
            "{policy}/{pods}: {s:.3} s wall, {:.0} pods/s",
            pods as f64 / s
        );
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
