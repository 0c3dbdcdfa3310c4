//! Object lifecycles through the library API: cascading deletion, graceful pod
//! termination, and the API server's invariants.

use kubesim::api::{Deployment, Pod, ReplicaSet};
use kubesim::metrics::Recorder;
use kubesim::{scenario, Simulation};
use std::path::PathBuf;

fn write_scenario(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kubesim-lifecycle-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("s.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

const WEB: &str = r#"
name: lifecycle
until: 20m
cluster:
  nodePools:
    - {name: n, count: 2, capacity: {cpu: "4", memory: 8Gi}}
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
          terminationGracePeriodSeconds: 30
          containers: [{name: c, image: "nginx:1.25", resources: {requests: {cpu: 100m}}}]
timeline:
  - {at: 5m, action: delete, target: deployment/web}
"#;

#[test]
fn deleting_a_deployment_cascades_to_its_replicaset_and_pods() {
    let path = write_scenario("cascade", WEB);
    let sc = scenario::load(&path).unwrap();
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(kubesim::sim::time::SimTime::from_millis(4 * 60_000));
    assert_eq!(
        sim.api().list::<Pod>().count(),
        4,
        "4 pods before the delete"
    );
    assert_eq!(sim.api().list::<ReplicaSet>().count(), 1);
    sim.run();
    assert_eq!(sim.api().list::<Deployment>().count(), 0);
    assert_eq!(
        sim.api().list::<ReplicaSet>().count(),
        0,
        "the ReplicaSet is garbage-collected"
    );
    assert_eq!(
        sim.api().list::<Pod>().count(),
        0,
        "the pods are garbage-collected and stopped"
    );
    let recs = sim.recorder().records();
    let gc = recs
        .iter()
        .filter(|r| r.reason == "GarbageCollected")
        .count();
    assert_eq!(gc, 1 + 4, "one ReplicaSet and four pods collected: {gc}");
    let killing = recs.iter().filter(|r| r.reason == "Killing").count();
    assert_eq!(killing, 4, "each running pod's container is stopped");
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

#[test]
fn graceful_deletion_keeps_a_pod_terminating_until_its_containers_stop() {
    let path = write_scenario("graceful", WEB);
    let sc = scenario::load(&path).unwrap();
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    // The delete is at 5m; GC deletes pods one watch delay later; pods stop 1s after that.
    sim.run_until(kubesim::sim::time::SimTime::from_millis(5 * 60_000 + 500));
    let terminating = sim
        .api()
        .list::<Pod>()
        .filter(|p| p.is_terminating())
        .count();
    assert_eq!(terminating, 4, "pods are Terminating, not gone");
    sim.run_until(kubesim::sim::time::SimTime::from_millis(5 * 60_000 + 3_000));
    assert_eq!(
        sim.api().list::<Pod>().count(),
        0,
        "gone once the kubelet has stopped them"
    );
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

#[test]
fn resource_versions_are_unique_and_increase() {
    let path = write_scenario("rv", WEB);
    let sc = scenario::load(&path).unwrap();
    let mut sim = Simulation::new(&sc, Recorder::discard());
    let mut last = sim.api().resource_version();
    for step in 1..=40 {
        sim.run_until(kubesim::sim::time::SimTime::from_millis(step * 15_000));
        let rv = sim.api().resource_version();
        assert!(rv >= last);
        last = rv;
    }
    let mut rvs: Vec<u64> = sim
        .api()
        .list::<Pod>()
        .map(|p| p.meta.resource_version)
        .collect();
    rvs.extend(
        sim.api()
            .list::<kubesim::api::Node>()
            .map(|n| n.meta.resource_version),
    );
    let n = rvs.len();
    rvs.sort();
    rvs.dedup();
    assert_eq!(rvs.len(), n, "no two objects share a resourceVersion");
    assert!(rvs.iter().all(|v| *v <= last));
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}
