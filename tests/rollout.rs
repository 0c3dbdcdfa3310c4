//! Rollouts driven by the timeline's kubectl verbs (set-image, rollout-undo,
//! rollout-pause/resume, drain) and the Deployment controller's revision history,
//! progress deadline and rolling-update bounds, through the library API.

use kubesim::api::{Deployment, Node, ObjKey, Pod, ReplicaSet};
use kubesim::controllers::deployment::revision;
use kubesim::metrics::Recorder;
use kubesim::sim::time::{SimDuration, SimTime};
use kubesim::{scenario, Simulation};
use proptest::prelude::*;
use std::path::PathBuf;

fn write_scenario(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kubesim-rollout-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("s.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

/// A scenario: 3 nodes, Deployment `web` (4 replicas, nginx:1.25) with `extra`
/// spec lines, then `timeline` entries.
fn scenario_text(extra: &str, timeline: &str) -> String {
    format!(
        r#"
name: rollout
until: 30m
cluster:
  nodePools:
    - {{name: n, count: 3, capacity: {{cpu: "4", memory: 8Gi}}}}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web}}
    spec:
      replicas: 4
      selector: {{matchLabels: {{app: web}}}}
{extra}      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          terminationGracePeriodSeconds: 5
          containers: [{{name: c, image: "nginx:1.25", resources: {{requests: {{cpu: 100m}}}}}}]
timeline:
{timeline}"#
    )
}

fn run(name: &str, text: &str) -> Simulation {
    let path = write_scenario(name, text);
    let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
    sim
}

fn live_pods(sim: &Simulation) -> Vec<&Pod> {
    sim.api()
        .list::<Pod>()
        .filter(|p| p.is_active() && p.meta.labels.get("app").map(String::as_str) == Some("web"))
        .collect()
}

fn images(sim: &Simulation) -> Vec<String> {
    live_pods(sim)
        .iter()
        .map(|p| p.spec.containers[0].image.clone())
        .collect()
}

fn sets(sim: &Simulation) -> Vec<(i64, String, i32)> {
    let mut v: Vec<(i64, String, i32)> = sim
        .api()
        .list::<ReplicaSet>()
        .map(|r| {
            (
                revision(r),
                r.template.spec.containers[0].image.clone(),
                r.replicas,
            )
        })
        .collect();
    v.sort();
    v
}

fn messages(sim: &Simulation, reason: &str) -> Vec<(u64, String, String)> {
    sim.recorder()
        .records()
        .iter()
        .filter(|r| r.reason == reason)
        .map(|r| (r.time_ms, format!("{:?}", r.event_type), r.message.clone()))
        .collect()
}

#[test]
fn set_image_rolls_out_until_every_pod_runs_the_new_image() {
    let sim = run(
        "set-image",
        &scenario_text(
            "",
            "  - {at: 2m, action: set-image, target: deployment/web, container: c, image: \"nginx:1.26\"}\n",
        ),
    );
    let imgs = images(&sim);
    assert_eq!(imgs.len(), 4);
    assert!(imgs.iter().all(|i| i == "nginx:1.26"), "{imgs:?}");
    assert_eq!(
        sets(&sim),
        vec![(1, "nginx:1.25".into(), 0), (2, "nginx:1.26".into(), 4)]
    );
    let m = messages(&sim, "SetImage");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].2, "deployment.apps/web image updated");
    assert!(!messages(&sim, "ScalingReplicaSet").is_empty());
}

#[test]
fn rollout_undo_restores_the_previous_template_under_a_new_revision() {
    let sim = run(
        "undo",
        &scenario_text(
            "",
            "  - {at: 2m, action: set-image, target: deployment/web, container: c, image: \"nginx:1.26\"}
  - {at: 5m, action: rollout-undo, target: deployment/web}
  - {at: 8m, action: rollout-undo, target: deployment/web, toRevision: 9}
",
        ),
    );
    let imgs = images(&sim);
    assert_eq!(imgs.len(), 4);
    assert!(imgs.iter().all(|i| i == "nginx:1.25"), "{imgs:?}");
    // the rolled-back ReplicaSet is reused and gets revision 3, as upstream
    assert_eq!(
        sets(&sim),
        vec![(2, "nginx:1.26".into(), 0), (3, "nginx:1.25".into(), 4)]
    );
    let m = messages(&sim, "DeploymentRollback");
    assert_eq!(m.len(), 2, "{m:?}");
    assert_eq!(m[0].1, "Normal");
    assert_eq!(m[0].2, "Rolled back deployment \"web\" to revision 1");
    assert_eq!(m[1].1, "Warning");
    assert!(
        m[1].2.contains("unable to find specified revision 9"),
        "{m:?}"
    );
    let d = sim
        .api()
        .get::<Deployment>(&ObjKey::new("default", "web"))
        .unwrap();
    assert_eq!(d.template.spec.containers[0].image, "nginx:1.25");
}

#[test]
fn pause_freezes_a_rollout_and_resume_finishes_it() {
    // maxSurge 1, maxUnavailable 0 and 15 s container starts: one pod at a time
    let text = scenario_text(
        "      strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n",
        "  - {at: 2m, action: set-image, target: deployment/web, container: c, image: \"nginx:1.26\"}
  - {at: 150s, action: rollout-pause, target: deployment/web}
  - {at: 10m, action: rollout-resume, target: deployment/web}
",
    )
    .replace("cluster:\n", "cluster:\n  kubelet: {containerStart: 15s}\n");
    let path = write_scenario("pause", &text);
    let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(SimTime::from_millis(5 * 60_000));
    let mid = sets(&sim);
    assert_eq!(mid.len(), 2, "{mid:?}");
    assert!(mid[0].2 > 0 && mid[1].2 > 0, "frozen mid-way: {mid:?}");
    let imgs = images(&sim);
    assert!(imgs.iter().any(|i| i == "nginx:1.25") && imgs.iter().any(|i| i == "nginx:1.26"));
    sim.run_until(SimTime::from_millis(9 * 60_000));
    assert_eq!(sets(&sim), mid, "nothing moves while paused");
    let scaled = messages(&sim, "ScalingReplicaSet");
    assert!(scaled.iter().all(|(t, ..)| *t < 5 * 60_000), "{scaled:?}");
    sim.run();
    let imgs = images(&sim);
    assert_eq!(imgs.len(), 4);
    assert!(imgs.iter().all(|i| i == "nginx:1.26"), "{imgs:?}");
    assert_eq!(sets(&sim)[0].2, 0);
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

#[test]
fn scaling_a_paused_deployment_scales_its_current_replicaset() {
    let sim = run(
        "paused-scale",
        &scenario_text(
            "",
            "  - {at: 2m, action: rollout-pause, target: deployment/web}
  - {at: 3m, action: scale, target: deployment/web, replicas: 6}
  - {at: 4m, action: set-image, target: deployment/web, container: c, image: \"nginx:1.26\"}
",
        ),
    );
    assert_eq!(
        sets(&sim),
        vec![(1, "nginx:1.25".into(), 6)],
        "no rollout while paused"
    );
    assert_eq!(images(&sim).len(), 6);
}

#[test]
fn revision_history_limit_one_keeps_at_most_two_replicasets() {
    let sim = run(
        "history",
        &scenario_text(
            "      revisionHistoryLimit: 1\n",
            "  - {at: 2m, action: set-image, target: deployment/web, container: c, image: \"nginx:1.26\"}
  - {at: 5m, action: set-image, target: deployment/web, container: c, image: \"nginx:1.27\"}
  - {at: 8m, action: set-image, target: deployment/web, container: c, image: \"nginx:1.28\"}
",
        ),
    );
    assert_eq!(
        sets(&sim),
        vec![(3, "nginx:1.27".into(), 0), (4, "nginx:1.28".into(), 4)]
    );
    assert!(images(&sim).iter().all(|i| i == "nginx:1.28"));
}

#[test]
fn progress_deadline_exceeded_when_new_pods_fit_nowhere() {
    let sim = run(
        "deadline",
        &scenario_text(
            "      progressDeadlineSeconds: 60\n",
            r#"  - at: 2m
    action: apply
    object:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        replicas: 4
        progressDeadlineSeconds: 60
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            terminationGracePeriodSeconds: 5
            containers: [{name: c, image: "nginx:1.26", resources: {requests: {cpu: "64"}}}]
"#,
        ),
    );
    let ex = messages(&sim, "ProgressDeadlineExceeded");
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert_eq!(ex[0].1, "Warning");
    let d = sim
        .api()
        .get::<Deployment>(&ObjKey::new("default", "web"))
        .unwrap();
    let new_rs = sim
        .api()
        .list::<ReplicaSet>()
        .find(|r| r.template.spec.containers[0].image == "nginx:1.26")
        .unwrap();
    assert_eq!(
        ex[0].2,
        format!(
            "ReplicaSet {:?} has timed out progressing.",
            new_rs.meta.name
        )
    );
    assert!(!d.status.progressing);
    let last = d.status.last_progress.expect("a deadline was running");
    // exactly progressDeadlineSeconds after the last progress (sync delay 0 here)
    assert_eq!(ex[0].0, (last + SimDuration::from_secs(60)).as_millis());
    // progress stopped soon after the last scaling step (old pods stopping)
    let last_scale = messages(&sim, "ScalingReplicaSet").last().unwrap().0;
    assert!(last.as_millis() >= last_scale && last.as_millis() <= last_scale + 10_000);
    assert!(
        live_pods(&sim).iter().any(|p| p.node_name.is_none()),
        "new pods stay Pending"
    );
}

#[test]
fn drain_evicts_controller_pods_and_refuses_a_bare_pod() {
    let text = scenario_text("", "  - {at: 2m, action: drain, target: node/n-0}\n").replace(
        "timeline:\n",
        r#"  - apiVersion: v1
    kind: Pod
    metadata: {name: bare}
    spec:
      nodeSelector: {kubernetes.io/hostname: n-0}
      containers: [{name: c, image: "busybox:1.36", resources: {requests: {cpu: 100m}}}]
timeline:
"#,
    );
    let path = write_scenario("drain", &text);
    let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(SimTime::from_millis(110_000));
    let on_n0 = live_pods(&sim)
        .iter()
        .filter(|p| p.node_name.as_deref() == Some("n-0"))
        .count();
    assert!(on_n0 > 0, "web pods on n-0 before the drain");
    sim.run();
    let node = sim.api().get::<Node>(&ObjKey::cluster("n-0")).unwrap();
    assert!(node.unschedulable, "drain cordons");
    let web = live_pods(&sim);
    assert_eq!(web.len(), 4);
    assert!(web
        .iter()
        .all(|p| p.node_name.as_deref().is_some_and(|n| n != "n-0")));
    let bare = sim
        .api()
        .get::<Pod>(&ObjKey::new("default", "bare"))
        .unwrap();
    assert!(
        bare.is_active() && bare.node_name.as_deref() == Some("n-0"),
        "the bare pod stays"
    );
    assert_eq!(messages(&sim, "Evict").len(), on_n0);
    let drain = messages(&sim, "Drain");
    assert!(
        drain.iter().any(|(_, ty, m)| ty == "Warning"
            && m.contains("default/bare")
            && m.contains("--force")),
        "{drain:?}"
    );
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

#[test]
fn bad_timeline_verbs_are_load_errors_with_positions() {
    let text = scenario_text(
        "",
        "  - {at: 1m, action: set-imag, target: deployment/web}
  - {at: 1m, action: rollout-pause, target: deployment/web, image: x}
  - {at: 1m, action: set-image, target: deployment/wbe, container: c, image: x}
  - {at: 1m, action: taint, target: node/n-0, taints: [{key: k, effect: NoSchedul}]}
",
    );
    let path = write_scenario("bad", &text);
    let e = scenario::load(&path).unwrap_err().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let line_of = |s: &str| lines.iter().position(|l| l.contains(s)).unwrap() + 1;
    assert!(
        e.contains(&format!("s.yaml:{}:", line_of("set-imag,"))),
        "{e}"
    );
    assert!(e.contains("did you mean \"set-image\""), "{e}");
    assert!(
        e.contains(&format!("s.yaml:{}:", line_of("rollout-pause"))),
        "{e}"
    );
    assert!(
        e.contains("`image` does not apply to action rollout-pause"),
        "{e}"
    );
    assert!(e.contains("did you mean \"web\""), "{e}");
    assert!(
        e.contains(&format!("s.yaml:{}:", line_of("NoSchedul}"))),
        "{e}"
    );
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 30, ..ProptestConfig::default() })]

    /// At every event of a set-image rollout: available ≥ replicas − maxUnavailable
    /// and live pods (not terminating, scheduled or not) ≤ replicas + maxSurge.
    #[test]
    fn rolling_update_respects_surge_and_unavailability_at_every_event(
        replicas in 1i32..=10,
        surge in prop_oneof![(0i32..=3).prop_map(|v| v.to_string()), (0i32..=100).prop_map(|p| format!("{p}%"))],
        unavail in prop_oneof![(0i32..=3).prop_map(|v| v.to_string()), (0i32..=100).prop_map(|p| format!("{p}%"))],
        nodes in 1u32..=3,
    ) {
        prop_assume!(!(surge.starts_with('0') && unavail.starts_with('0')));
        let q = |s: &String| if s.ends_with('%') { format!("\"{s}\"") } else { s.clone() };
        let text = format!(
            r#"
name: prop
until: 20m
cluster:
  nodePools:
    - {{name: n, count: {nodes}, capacity: {{cpu: "8", memory: 16Gi}}}}
behaviors:
  - {{selector: {{matchLabels: {{app: web}}}}, startup: {{uniform: [1s, 8s]}}}}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web}}
    spec:
      replicas: {replicas}
      strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: {}, maxUnavailable: {}}}}}
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          terminationGracePeriodSeconds: 3
          containers: [{{name: c, image: "nginx:1.25", resources: {{requests: {{cpu: 100m}}}}}}]
timeline:
  - {{at: 2m, action: set-image, target: deployment/web, container: c, image: "nginx:1.26"}}
"#,
            q(&surge), q(&unavail)
        );
        let path = write_scenario(&format!("prop-{replicas}-{}-{}-{nodes}", surge.replace('%', "p"), unavail.replace('%', "p")), &text);
        let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
        let mut sim = Simulation::new(&sc, Recorder::discard());
        sim.run_until(SimTime::from_millis(2 * 60_000 - 1));
        let key = ObjKey::new("default", "web");
        let d = sim.api().get::<Deployment>(&key).unwrap().clone();
        let (max_surge, max_unavail) = (d.max_surge(), d.max_unavailable());
        let count = |sim: &Simulation| {
            let now = sim.now();
            let pods = live_pods(sim);
            let avail = pods.iter().filter(|p| p.is_available(SimDuration::ZERO, now)).count() as i32;
            (avail, pods.len() as i32)
        };
        prop_assert_eq!(count(&sim).0, replicas, "fully available before the rollout");
        let mut steps = 0;
        while sim.step() {
            steps += 1;
            let (avail, total) = count(&sim);
            prop_assert!(avail >= replicas - max_unavail,
                "at {:?}: {} available < {} - {}", sim.now(), avail, replicas, max_unavail);
            prop_assert!(total <= replicas + max_surge,
                "at {:?}: {} pods > {} + {}", sim.now(), total, replicas, max_surge);
        }
        prop_assert!(steps > 0);
        let imgs = images(&sim);
        prop_assert_eq!(imgs.len() as i32, replicas);
        prop_assert!(imgs.iter().all(|i| i == "nginx:1.26"));
    }
}
