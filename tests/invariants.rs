//! The invariant checker: every shipped scenario keeps every invariant after
//! every event, the checker catches states that break one, and the CLI stops a
//! run on a violation with a command that reproduces it.

mod common;

use kubesim::api::node::ConditionStatus;
use kubesim::api::{Node, ObjKey, Pod};
use kubesim::invariants::{run_checked, Checker};
use kubesim::metrics::Recorder;
use kubesim::sim::time::SimTime;
use kubesim::{scenario, Simulation};

#[test]
fn every_shipped_scenario_keeps_every_invariant() {
    let mut total = 0;
    for path in common::shipped_scenarios() {
        let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut sim = Simulation::new(&sc, Recorder::discard());
        let mut c = Checker::new();
        if let Err(v) = run_checked(&mut sim, &mut c) {
            panic!("{}: {v}", path.display());
        }
        assert!(c.checked > 10, "{}", path.display());
        // the stepwise run is the same run as a plain one
        let mut plain = Simulation::new(&sc, Recorder::discard());
        plain.run();
        assert_eq!(plain.events_processed(), sim.events_processed());
        assert_eq!(plain.now(), sim.now(), "{}", path.display());
        total += c.checked;
    }
    eprintln!("{total} events checked");
}

fn web_basic_at(ms: u64) -> Simulation {
    let sc = scenario::load(&common::scenario("web-basic.yaml")).unwrap();
    let mut sim = Simulation::new(&sc, Recorder::discard());
    sim.run_until(SimTime::from_millis(ms));
    sim
}

#[test]
fn the_checker_catches_a_ready_pod_on_a_lost_node() {
    let mut sim = web_basic_at(120_000);
    let mut c = Checker::new();
    c.check(&sim, "setup").expect("a healthy cluster");
    let pod = sim
        .api()
        .list::<Pod>()
        .find(|p| p.status.ready)
        .expect("a Ready pod")
        .clone();
    let node = pod.node_name.clone().unwrap();
    sim.api_mut()
        .update_status::<Node>(&ObjKey::cluster(node.clone()), |n| {
            n.status.ready = ConditionStatus::Unknown
        })
        .unwrap();
    let v = c.check(&sim, "tampered").unwrap_err();
    assert_eq!(v.rule, "ready-on-lost-node");
    assert!(v.detail.contains(&node), "{v}");
    assert!(v.to_string().contains("tampered"), "{v}");
}

#[test]
fn the_checker_catches_a_pod_moving_between_nodes_and_overcommit() {
    let mut sim = web_basic_at(120_000);
    let mut c = Checker::new();
    c.check(&sim, "setup").unwrap();
    let pod = sim.api().list::<Pod>().next().unwrap().clone();
    let other = sim
        .api()
        .list::<Node>()
        .map(|n| n.meta.name.clone())
        .find(|n| Some(n) != pod.node_name.as_ref())
        .unwrap();
    let key = pod.meta.key();
    sim.api_mut()
        .update_status::<Pod>(&key, |p| p.node_name = Some(other.clone()))
        .unwrap();
    let v = c.check(&sim, "moved").unwrap_err();
    assert_eq!(v.rule, "pod-one-node", "{v}");

    // a node whose allocatable shrinks below what is bound there
    let mut sim = web_basic_at(120_000);
    let mut c = Checker::new();
    let node = sim
        .api()
        .list::<Pod>()
        .find_map(|p| p.node_name.clone())
        .unwrap();
    sim.api_mut()
        .update_status::<Node>(&ObjKey::cluster(node), |n| {
            n.status.allocatable.cpu_millis = 1
        })
        .unwrap();
    let v = c.check(&sim, "shrunk").unwrap_err();
    assert_eq!(v.rule, "node-overcommit", "{v}");
}

#[test]
fn a_pod_given_a_full_node_by_name_is_rejected_by_the_kubelet() {
    let dir = common::TempDir::new("outofcpu");
    let p = dir.write(
        "s.yaml",
        r#"
name: outofcpu
until: 5m
cluster:
  nodePools:
    - {name: n, count: 1, capacity: {cpu: "1", memory: 1Gi, pods: 110}}
objects:
  - apiVersion: v1
    kind: Pod
    metadata: {name: a}
    spec:
      nodeName: n-0
      containers: [{name: c, image: nginx:1.25, resources: {requests: {cpu: 800m}}}]
  - apiVersion: v1
    kind: Pod
    metadata: {name: b}
    spec:
      nodeName: n-0
      containers: [{name: c, image: nginx:1.25, resources: {requests: {cpu: 800m}}}]
"#,
    );
    let sc = scenario::load(&p).unwrap();
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    run_checked(&mut sim, &mut Checker::new()).expect("no overcommit");
    let phase = |n: &str| {
        sim.api()
            .get::<Pod>(&ObjKey::new("default", n))
            .unwrap()
            .status
            .phase
    };
    assert_eq!(phase("a").as_str(), "Running");
    assert_eq!(phase("b").as_str(), "Failed");
    let r = sim
        .recorder()
        .records()
        .iter()
        .find(|r| r.reason == "OutOfcpu")
        .expect("an OutOfcpu event");
    assert_eq!(
        r.message,
        "Node didn't have enough resource: cpu, requested: 800, used: 800, capacity: 1000"
    );
}

#[test]
fn cli_stops_on_a_violation_free_run_and_reports_the_count() {
    let r = common::kubesim(["run", "scenarios/node-crash.yaml", "--check-invariants"]);
    r.assert_success();
    assert!(
        r.stdout.contains("invariants: held after each of"),
        "{}",
        r.describe()
    );
}

#[test]
fn cli_check_determinism_passes_on_a_shipped_scenario() {
    let r = common::kubesim(["run", "scenarios/zone-outage.yaml", "--check-determinism"]);
    r.assert_success();
    assert!(
        r.stdout.starts_with("deterministic: two runs"),
        "{}",
        r.describe()
    );
}

#[test]
fn every_shipped_scenario_is_deterministic_within_one_process() {
    use kubesim::determinism::{check, Verdict};
    for path in common::shipped_scenarios() {
        let sc = scenario::load(&path).unwrap();
        match check(&sc) {
            Verdict::Same { records, .. } => assert!(records > 0, "{}", path.display()),
            other => panic!("{}: {other:?}", path.display()),
        }
    }
}

/// Ctrl-C: the run stops at the next event, writes its outputs and marks them
/// incomplete.
#[cfg(unix)]
#[test]
fn an_interrupted_run_marks_its_outputs_incomplete() {
    let dir = common::TempDir::new("interrupt");
    let out = dir.join("out");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args([
            "run",
            "scenarios/chaos.yaml",
            "--until",
            "3000d",
            "-q",
            "--out",
        ])
        .arg(&out)
        .current_dir(common::repo_root())
        .spawn()
        .expect("start kubesim");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let res = child.wait_with_output().expect("wait");
    assert_eq!(res.status.code(), Some(130), "{res:?}");
    let s = common::read_json(&out.join("summary.json"));
    assert_eq!(s["sim"]["complete"], false);
    assert_eq!(s["sim"]["stopped"], "interrupted");
    assert!(out.join("events.jsonl").exists());
}
