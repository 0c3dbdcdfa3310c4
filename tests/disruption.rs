//! PodDisruptionBudgets, the eviction API and `kubectl drain`.

mod common;
use common::*;

/// scenarios/pdb-drain.yaml: 2 replicas on worker-0, minAvailable 1, drain at 5m.
///
/// The first eviction goes at once (2 healthy, 1 needed). The second is refused
/// until the replacement is Ready: created by the ReplicaSet 50 ms after the
/// eviction (watch delay), scheduled 50 ms + 1 ms later on worker-1, seen by
/// its kubelet 50 ms after that (300.151 s), image pulled in 2 s, container
/// started 1 s later (303.151 s); the readiness probe's first run is after
/// initialDelaySeconds 20 (323.151 s); kubectl retries every 5 s from 300 s, so
/// the retries at 305, 310, 315 and 320 s are refused and 325 s succeeds.
#[test]
fn drain_waits_for_the_budget_and_retries_every_five_seconds() {
    let sc = kubesim::scenario::load(&scenario("pdb-drain.yaml")).unwrap();
    let mut sim = kubesim::Simulation::new(&sc, kubesim::metrics::Recorder::in_memory());
    sim.run();
    let recs = sim.recorder().records();
    let times = |reason: &str| -> Vec<u64> {
        recs.iter()
            .filter(|r| r.component == "kubectl" && r.reason == reason)
            .map(|r| r.time_ms)
            .collect()
    };
    assert_eq!(times("Evict"), vec![300_000, 325_000]);
    assert_eq!(
        times("EvictionBlocked"),
        vec![300_000, 305_000, 310_000, 315_000, 320_000]
    );
    let blocked = recs.iter().find(|r| r.reason == "EvictionBlocked").unwrap();
    assert!(
        blocked.message.ends_with(
            "(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."
        ),
        "{}",
        blocked.message
    );
    let drained: Vec<_> = recs
        .iter()
        .filter(|r| r.reason == "Drain" && r.message == "node/worker-0 drained")
        .collect();
    assert_eq!(drained.len(), 1);
    assert!(drained[0].time_ms > 325_000);
    // the second pod went only once the replacement was Ready
    let ready = sim
        .api()
        .list::<kubesim::api::Pod>()
        .filter(|p| p.node_name.as_deref() == Some("worker-1") && p.status.ready)
        .count();
    assert_eq!(ready, 2);
}

/// With `timeout`, a drain that a budget blocks for good gives up.
#[test]
fn a_blocked_drain_gives_up_at_its_timeout() {
    let yaml = r#"
name: drain-timeout
until: 3m
cluster:
  nodePools:
    - {name: worker, count: 1, capacity: {cpu: "2", memory: 8Gi}}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: nginx:1.25, resources: {requests: {cpu: 100m}}}]
  - apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: web}
    spec:
      maxUnavailable: 0
      selector: {matchLabels: {app: web}}
timeline:
  - {at: 1m, action: drain, target: node/worker-0, timeout: 12s}
"#;
    let (_sim, recs) = run_scenario("drain_timeout", yaml);
    let blocked: Vec<u64> = recs
        .iter()
        .filter(|r| r.reason == "EvictionBlocked")
        .map(|r| r.time_ms)
        .collect();
    // both pods refused at 60 s, 65 s and 70 s; the deadline is 72 s
    assert_eq!(
        blocked,
        vec![60_000, 60_000, 65_000, 65_000, 70_000, 70_000]
    );
    let gave_up = recs
        .iter()
        .find(|r| r.reason == "Drain" && r.event_type == kubesim::metrics::EventType::Warning)
        .expect("a timeout error");
    assert_eq!(gave_up.time_ms, 72_000);
    assert!(
        gave_up.message.contains("global timeout reached: 12s"),
        "{}",
        gave_up.message
    );
}

/// `kubectl get pdb` columns and the status the disruption controller keeps:
/// maxUnavailable 25% of a 4-replica Deployment → desiredHealthy 3 (25% of 4
/// rounds up to 1 unavailable), 1 disruption allowed.
#[test]
fn get_pdb_shows_the_computed_status() {
    let yaml = r#"
name: pdb-status
until: 1m
cluster:
  nodePools:
    - {name: worker, count: 2, capacity: {cpu: "4", memory: 8Gi}}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 4
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: nginx:1.25}]
  - apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: web}
    spec:
      maxUnavailable: 25%
      selector: {matchLabels: {app: web}}
"#;
    let (sim, _) = run_scenario("pdb_status", yaml);
    let b = sim
        .api()
        .list::<kubesim::api::PodDisruptionBudget>()
        .next()
        .unwrap();
    assert_eq!(
        (
            b.status.expected_pods,
            b.status.desired_healthy,
            b.status.current_healthy,
            b.status.disruptions_allowed
        ),
        (4, 3, 4, 1)
    );
    let dir = TempDir::new("pdb_status_get");
    let path = dir.write("s.yaml", yaml);
    let out = kubesim(["get", "pdb", "--at", "50s", path.to_str().unwrap()]);
    out.assert_success();
    assert!(out.stdout.contains("MIN AVAILABLE"), "{}", out.stdout);
    let row = out.stdout.lines().find(|l| l.starts_with("web")).unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[..4], &["web", "N/A", "25%", "1"]);
}
