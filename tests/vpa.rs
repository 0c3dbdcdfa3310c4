//! VerticalPodAutoscaler: recommendations from known usage, and the updater.

mod common;
use common::*;

fn yaml(mode: &str, usage: &str) -> String {
    format!(
        r#"
name: vpa
until: 10m
cluster:
  nodePools:
    - {{name: n, count: 1, capacity: {{cpu: "16", memory: 64Gi}}}}
usage:
  - selector: {{matchLabels: {{app: web}}}}
    memory: 300Mi
{usage}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web}}
    spec:
      replicas: 2
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers: [{{name: app, image: web:1, resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}}}]
  - apiVersion: autoscaling.k8s.io/v1
    kind: VerticalPodAutoscaler
    metadata: {{name: web}}
    spec:
      targetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}
      updatePolicy: {{updateMode: {mode}}}
"#
    )
}

/// 300Mi × 1.15 = 361,758,720 bytes.
const MEM: i64 = 361_758_720;

/// Off: recommend only. Scrapes every 60 s from 60 s to 600 s, two pods each:
/// 100m before 4m (60, 120, 180 s: 6 samples), 200m before 8m (240..420 s:
/// 8), 400m after (480, 540, 600 s: 6). Nearest-rank of the 20 samples: p50
/// (rank 10) 200m, p90 (rank 18) and p95 (rank 19) 400m; × 1.15: lower 230m,
/// target and upper 460m.
#[test]
fn off_mode_recommends_from_the_usage_percentiles() {
    let usage = "    cpu: 100m\n    steps: [{at: 4m, cpu: 200m}, {at: 8m, cpu: 400m}]";
    let (sim, recs) = run_scenario("vpa_off", &yaml("\"Off\"", usage));
    let v = sim
        .api()
        .list::<kubesim::api::autoscaling::VerticalPodAutoscaler>()
        .next()
        .unwrap();
    assert_eq!(v.recommendations.len(), 1);
    let r = &v.recommendations[0];
    assert_eq!(r.container, "app");
    assert_eq!(
        (r.lower, r.target, r.upper),
        ((230, MEM), (460, MEM), (460, MEM))
    );
    assert!(recs.iter().all(|r| r.reason != "EvictedByVPA"));
    // Off never touches the pods
    assert!(sim
        .api()
        .list::<kubesim::api::Pod>()
        .all(|p| p.spec.containers[0].requests.cpu_millis == Some(100)));
}

/// Auto: at 60 s the first recommendation is 400m × 1.15 = 460m; both pods
/// ask 100m (below the lower bound). The updater (every 60 s, after the
/// scrape due at the same moment) evicts at most half of the 2 replicas per
/// loop: one at 60 s, the other at 120 s; replacements are admitted with the
/// target requests and stay.
#[test]
fn auto_mode_evicts_and_admission_applies_the_target() {
    let (sim, recs) = run_scenario("vpa_auto", &yaml("Auto", "    cpu: 400m"));
    let evicted: Vec<u64> = recs
        .iter()
        .filter(|r| r.reason == "EvictedByVPA")
        .map(|r| r.time_ms)
        .collect();
    assert_eq!(evicted, vec![60_000, 120_000]);
    let pods: Vec<_> = sim
        .api()
        .list::<kubesim::api::Pod>()
        .filter(|p| p.is_active())
        .collect();
    assert_eq!(pods.len(), 2);
    for p in pods {
        let c = &p.spec.containers[0].requests;
        assert_eq!((c.cpu_millis, c.memory), (Some(460), Some(MEM)));
    }
}
