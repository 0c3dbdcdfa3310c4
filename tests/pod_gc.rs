//! The pod GC's sweep of finished pods (`--terminated-pod-gc-threshold`).

mod common;

use kubesim::api::{Pod, PodPhase};

fn finished_pods(threshold: &str) -> (usize, usize, Vec<String>) {
    let yaml = format!(
        r#"
name: pod-gc
until: 30m
cluster:
  nodePools: [{{name: n, count: 2, capacity: {{cpu: "8", memory: 32Gi, pods: 110}}}}]
  controllerManager: {{terminatedPodGcThreshold: {threshold}}}
objects:
  - apiVersion: batch/v1
    kind: Job
    metadata: {{name: work}}
    spec:
      completions: 12
      parallelism: 3
      template:
        metadata: {{annotations: {{kubesim.io/run-for: 1m}}}}
        spec:
          restartPolicy: Never
          containers: [{{name: w, image: w:1, resources: {{requests: {{cpu: 100m}}}}}}]
"#
    );
    let (sim, recs) = common::run_scenario(&format!("pod-gc-{threshold}"), &yaml);
    let left = sim
        .api()
        .list::<Pod>()
        .filter(|p| p.status.phase == PodPhase::Succeeded)
        .count();
    let swept = recs
        .iter()
        .filter(|r| r.reason == "PodGC")
        .map(|r| r.message.clone())
        .collect();
    let completed = sim.summary().jobs["default/work"].succeeded as usize;
    (left, completed, swept)
}

#[test]
fn finished_pods_beyond_the_threshold_are_deleted_oldest_first() {
    let (left, completed, swept) = finished_pods("5");
    assert_eq!(completed, 12, "the Job still completes");
    assert_eq!(left, 5, "{swept:?}");
    assert!(swept[0].contains("over the threshold of 5"), "{swept:?}");
    // 0 keeps them all, as upstream
    let (left, _, swept) = finished_pods("0");
    assert_eq!(left, 12);
    assert!(swept.is_empty());
}
