//! PriorityClass admission and DefaultPreemption, on the shipped scenario and
//! variants of it.

use kubesim::api::Pod;
use kubesim::metrics::{Record, Recorder};
use kubesim::{scenario, Simulation};
use std::path::{Path, PathBuf};

fn run(sc: &scenario::Scenario) -> Simulation {
    let mut sim = Simulation::new(sc, Recorder::in_memory());
    sim.run();
    sim
}

fn with(reason: &str, sim: &Simulation) -> Vec<Record> {
    sim.recorder()
        .records()
        .iter()
        .filter(|r| r.reason == reason)
        .cloned()
        .collect()
}

/// The shipped scenario with `from` replaced by `to` in its text.
fn variant(name: &str, from: &str, to: &str) -> (scenario::Scenario, PathBuf) {
    let text = std::fs::read_to_string("scenarios/priority-preemption.yaml").unwrap();
    assert!(text.contains(from), "the scenario still has {from:?}");
    let dir = std::env::temp_dir().join(format!("kubesim-preempt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("s.yaml");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    (scenario::load(&p).unwrap(), dir)
}

#[test]
fn high_priority_pods_preempt_distinct_victims_and_bind_after_they_stop() {
    let sc = scenario::load(Path::new("scenarios/priority-preemption.yaml")).unwrap();
    let sim = run(&sc);
    let preempted = with("Preempted", &sim);
    assert_eq!(preempted.len(), 2, "{preempted:#?}");
    assert_ne!(
        preempted[0].object, preempted[1].object,
        "two different victims"
    );
    assert!(preempted.iter().all(|r| r.time_ms >= 300_000));
    let bound: Vec<Record> = with("Scheduled", &sim)
        .into_iter()
        .filter(|r| r.object.contains("critical-"))
        .collect();
    assert_eq!(bound.len(), 2);
    let last_preempt = preempted.iter().map(|r| r.time_ms).max().unwrap();
    for b in &bound {
        // the victims take podStop (20s) to terminate before their room is free
        assert!(
            b.time_ms >= last_preempt + 20_000,
            "bound at {} before the victims stopped",
            b.time_ms
        );
    }
    let s = sim.summary();
    assert_eq!(s.scheduling.preemptions, 2);
    assert_eq!(s.deployments["default/critical"].available, 2);
    assert_eq!(
        s.pods.unscheduled, 2,
        "the evicted batch pods' replacements wait"
    );
}

#[test]
fn priority_admission_resolves_class_names_and_the_global_default() {
    let sc = scenario::load(Path::new("scenarios/priority-preemption.yaml")).unwrap();
    let sim = run(&sc);
    for p in sim.api().list::<Pod>() {
        let want = if p.meta.name.starts_with("critical-") {
            1000
        } else {
            100
        };
        assert_eq!(p.spec.priority, want, "{}", p.meta.name);
    }
}

#[test]
fn an_unknown_priority_class_is_rejected_at_admission() {
    let (sc, dir) = variant(
        "unknown",
        "priorityClassName: high",
        "priorityClassName: hihg",
    );
    let sim = run(&sc);
    let failed = with("FailedCreate", &sim);
    assert!(
        failed.iter().any(|r| r
            .message
            .contains("no PriorityClass with name hihg was found")),
        "{failed:#?}"
    );
    assert!(with("Preempted", &sim).is_empty());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn preemption_policy_never_waits_instead_of_preempting() {
    let (sc, dir) = variant(
        "never",
        "    value: 1000\n",
        "    value: 1000\n    preemptionPolicy: Never\n",
    );
    let sim = run(&sc);
    assert!(with("Preempted", &sim).is_empty());
    assert_eq!(sim.summary().deployments["default/critical"].available, 0);
    std::fs::remove_dir_all(dir).ok();
}
