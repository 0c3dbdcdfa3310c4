//! Node failures through the library API: kubelet heartbeats, the node-lifecycle
//! controller (NodeNotReady, the unreachable taint), taint-based eviction after
//! the DefaultTolerationSeconds (300 s), replacements elsewhere, and recovery.

mod common;

use kubesim::api::node::ConditionStatus;
use kubesim::api::{Deployment, Node, ObjKey, Pod};
use kubesim::metrics::recorder::Record;
use kubesim::metrics::Recorder;
use kubesim::{scenario, Simulation};
use std::collections::BTreeSet;

const CRASH_MS: u64 = 600_000;
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

fn run(path: &std::path::Path) -> (Simulation, Vec<Record>) {
    let sc = scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let recs = sim.recorder().records().to_vec();
    (sim, recs)
}

fn with_reason<'a>(recs: &'a [Record], reason: &str) -> Vec<&'a Record> {
    recs.iter().filter(|r| r.reason == reason).collect()
}

/// Pods bound to `node` just before the crash, from the Scheduled events.
fn pods_scheduled_to(recs: &[Record], node: &str, before_ms: u64) -> BTreeSet<String> {
    recs.iter()
        .filter(|r| r.reason == "Scheduled" && r.time_ms < before_ms)
        .filter(|r| r.message.ends_with(&format!(" to {node}")))
        .map(|r| r.object.clone())
        .collect()
}

fn deployment_available(sim: &Simulation, name: &str) -> (i32, i32) {
    let d = sim
        .api()
        .get::<Deployment>(&ObjKey::new("default", name))
        .expect("deployment exists");
    (d.status.available_replicas, d.replicas)
}

#[test]
fn crashed_node_goes_not_ready_and_its_pods_are_evicted_after_300s_and_replaced() {
    let (sim, recs) = run(&common::scenario("node-crash.yaml"));
    let crashed = "pool-a-1";
    let victims = pods_scheduled_to(&recs, crashed, CRASH_MS);
    assert_eq!(victims.len(), 2, "two of the six pods ran on {crashed}");

    // NodeNotReady: grace 50 s after the last heartbeat (≤ 10 s before the crash),
    // seen at the next 5 s monitor period.
    let nr = with_reason(&recs, "NodeNotReady");
    assert_eq!(nr.len(), 1, "{nr:?}");
    assert_eq!(nr[0].object, format!("Node/{crashed}"));
    assert_eq!(nr[0].component, "node-lifecycle-controller");
    assert_eq!(
        nr[0].message,
        format!("Node {crashed} status is now: NodeNotReady")
    );
    let not_ready_delay = nr[0].time_ms - CRASH_MS;
    assert!(
        (40_000..=60_000).contains(&not_ready_delay),
        "NodeNotReady {not_ready_delay} ms after the crash"
    );
    eprintln!("NodeNotReady {not_ready_delay} ms after the crash");

    // TaintManagerEviction of exactly the crashed node's pods, 300 s after the taint
    // (added with NodeNotReady).
    let ev = with_reason(&recs, "TaintManagerEviction");
    let evicted: BTreeSet<String> = ev.iter().map(|r| r.object.clone()).collect();
    assert_eq!(
        evicted, victims,
        "the pods on {crashed} are evicted, no others"
    );
    for r in &ev {
        let d = r.time_ms - nr[0].time_ms;
        assert!(
            (290_000..=310_000).contains(&d),
            "eviction {d} ms after the taint: {r:?}"
        );
        let pod = r.object.trim_start_matches("Pod/");
        assert_eq!(r.message, format!("Marking for deletion Pod {pod}"));
        eprintln!("TaintManagerEviction of {pod} {d} ms after the taint");
    }
    let evicted_at = ev.iter().map(|r| r.time_ms).max().unwrap();

    // Replacements: created after the eviction, scheduled to the other nodes, Running.
    let replacements: Vec<&Record> = recs
        .iter()
        .filter(|r| r.reason == "Scheduled" && r.time_ms >= evicted_at)
        .collect();
    assert_eq!(replacements.len(), 2, "{replacements:?}");
    for r in &replacements {
        assert!(
            !r.message.ends_with(&format!(" to {crashed}")),
            "a replacement went to the dead node: {r:?}"
        );
        let key = r.object.trim_start_matches("Pod/default/");
        let p = sim
            .api()
            .get::<Pod>(&ObjKey::new("default", key))
            .expect("replacement exists");
        assert!(p.status.ready, "{key} is Running and Ready");
    }
    // The evicted pods are gone from the API (force-deleted: their kubelet is dead).
    for v in &victims {
        let key = v.trim_start_matches("Pod/default/");
        assert!(sim.api().get::<Pod>(&ObjKey::new("default", key)).is_none());
    }
    assert_eq!(sim.api().list::<Pod>().count(), 6);
    assert_eq!(deployment_available(&sim, "web"), (6, 6));

    // The node stays NotReady and tainted (it never came back).
    let n = sim.api().get::<Node>(&ObjKey::cluster(crashed)).unwrap();
    assert_eq!(n.status.ready, ConditionStatus::Unknown);
    assert!(n.taints.iter().any(|t| t.key == UNREACHABLE));
    // and the run still ended once nothing was left to happen
    assert!(!sim.has_pending_events(), "the run ends idle");
    assert!(sim.now() < sim.until());
}

#[test]
fn pods_get_the_default_toleration_seconds() {
    let (sim, _) = run(&common::scenario("node-crash.yaml"));
    for p in sim.api().list::<Pod>() {
        for key in ["node.kubernetes.io/not-ready", UNREACHABLE] {
            assert!(
                p.spec
                    .tolerations
                    .iter()
                    .any(|t| t.key == key && t.toleration_seconds == Some(300)),
                "{} lacks {key}: {:?}",
                p.meta.name,
                p.spec.tolerations
            );
        }
    }
}

const RECOVER: &str = r#"
name: recover
until: 1h
cluster:
  nodePools:
    - {name: n, count: 3, capacity: {cpu: "4", memory: 8Gi}}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 6
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: "nginx:1.25", resources: {requests: {cpu: 500m}}}]
timeline:
  - {at: 5m, action: node-crash, target: node/n-0, for: 3m}
  - {at: 5m, action: node-crash, target: node/n-2}
  - {at: 20m, action: node-recover, target: node/n-2}
"#;

#[test]
fn node_recover_brings_the_node_back_ready_and_untainted() {
    let dir = common::TempDir::new("node_recover");
    let path = dir.write("s.yaml", RECOVER);
    let (sim, recs) = run(&path);
    for node in ["n-0", "n-2"] {
        let n = sim.api().get::<Node>(&ObjKey::cluster(node)).unwrap();
        assert_eq!(n.status.ready, ConditionStatus::True, "{node}");
        assert!(n.taints.is_empty(), "{node}: {:?}", n.taints);
        let ready: Vec<&Record> = recs
            .iter()
            .filter(|r| {
                // the restarted kubelet posts its node Ready (as upstream's does)
                r.reason == "NodeReady"
                    && r.component == format!("kubelet/{node}")
                    && r.object == format!("Node/{node}")
                    && r.time_ms > 0
            })
            .collect();
        assert_eq!(ready.len(), 1, "{node}: {ready:?}");
        let nr = recs
            .iter()
            .find(|r| r.reason == "NodeNotReady" && r.object == format!("Node/{node}"))
            .expect("went NotReady first");
        assert!(nr.time_ms < ready[0].time_ms);
    }
    // n-0 came back at 8m, before any eviction (taint at ~5m45s + 300 s): its pods
    // were never evicted and run there again.
    let n0_recovered = recs
        .iter()
        .find(|r| r.reason == "NodeReady" && r.object == "Node/n-0" && r.time_ms > 0)
        .unwrap();
    assert!(
        (8 * 60_000..8 * 60_000 + 10_000).contains(&n0_recovered.time_ms),
        "{n0_recovered:?}"
    );
    let on = |node: &str| {
        sim.api()
            .list::<Pod>()
            .filter(|p| p.node_name.as_deref() == Some(node))
            .filter(|p| p.status.ready)
            .count()
    };
    let before = pods_scheduled_to(&recs, "n-0", 5 * 60_000);
    assert_eq!(before.len(), 2);
    for v in &before {
        let key = v.trim_start_matches("Pod/default/");
        let p = sim
            .api()
            .get::<Pod>(&ObjKey::new("default", key))
            .unwrap_or_else(|| panic!("{key} was not evicted"));
        assert_eq!(p.node_name.as_deref(), Some("n-0"));
        assert!(p.status.ready, "{key} runs again after the recovery");
    }
    let restarted = recs
        .iter()
        .filter(|r| r.reason == "Started" && r.component == "kubelet/n-0")
        .filter(|r| r.time_ms > 8 * 60_000 && before.contains(&r.object))
        .count();
    assert_eq!(restarted, 2, "the recovered kubelet restarts its pods");
    let evicted: Vec<&Record> = with_reason(&recs, "TaintManagerEviction");
    assert_eq!(evicted.len(), 2, "only n-2's pods are evicted: {evicted:?}");
    // n-2 came back after its pods were evicted and replaced: it has none
    assert_eq!(on("n-2"), 0);
    assert_eq!(
        on("n-0") + on("n-1"),
        6,
        "the replacements run on n-0 and n-1"
    );
    assert_eq!(deployment_available(&sim, "web"), (6, 6));
    assert!(
        !sim.has_pending_events(),
        "the run ends idle after the recovery"
    );
}

#[test]
fn node_crash_runs_are_deterministic() {
    let (_, a) = run(&common::scenario("node-crash.yaml"));
    let (_, b) = run(&common::scenario("node-crash.yaml"));
    assert_eq!(a, b);
}

const FAST: &str = r#"
name: fast
until: 1h
cluster:
  nodePools:
    - {name: n, count: 2, capacity: {cpu: "4", memory: 8Gi}}
  controllerManager: {nodeMonitorGracePeriod: 20s}
objects:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      nodeName: n-0
      tolerations:
        - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}
      containers: [{name: c, image: "nginx:1.25"}]
timeline:
  - {at: 2m, action: node-crash, target: node/n-0}
"#;

#[test]
fn grace_period_and_toleration_seconds_are_configurable() {
    let dir = common::TempDir::new("node_fast");
    let path = dir.write("s.yaml", FAST);
    let (sim, recs) = run(&path);
    let nr = with_reason(&recs, "NodeNotReady");
    assert_eq!(nr.len(), 1);
    let d = nr[0].time_ms - 120_000;
    assert!((10_000..=30_000).contains(&d), "NodeNotReady {d} ms after");
    let ev = with_reason(&recs, "TaintManagerEviction");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].object, "Pod/default/p");
    assert_eq!(ev[0].time_ms - nr[0].time_ms, 30_000, "the pod's own 30 s");
    // a bare pod has no controller to replace it; the pod GC removes it
    assert!(sim.api().get::<Pod>(&ObjKey::new("default", "p")).is_none());
}
