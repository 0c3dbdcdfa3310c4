//! The swarm: random scenarios (cluster shapes, Deployments, policies, kubectl
//! actions, faults that all heal) with the invariant checker after every event
//! and a liveness check at the end. CI runs `KUBESIM_SWARM` scenarios (default
//! 200) from seed `KUBESIM_SWARM_START` (default 1); `kubesim swarm --count
//! 5000` runs thousands.

use kubesim::swarm;

#[test]
fn swarm_of_random_scenarios_keeps_invariants_and_heals() {
    let count: u64 = std::env::var("KUBESIM_SWARM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let start: u64 = std::env::var("KUBESIM_SWARM_START")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut events = 0;
    let mut failures = Vec::new();
    for seed in start..start + count {
        match swarm::run_one(seed) {
            Ok(o) => events += o.events,
            Err(f) => {
                let path = std::env::temp_dir().join(format!("kubesim-swarm-{seed}.yaml"));
                let _ = std::fs::write(&path, &f.yaml);
                failures.push(format!(
                    "seed {seed}: {}\n  scenario written to {}; reproduce: kubesim run {} --check-invariants\n  or: kubesim swarm --start {seed} --count 1",
                    f.message,
                    path.display(),
                    path.display()
                ));
            }
        }
    }
    eprintln!("swarm: {count} scenarios, {events} events checked");
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        events > count * 100,
        "the scenarios do something ({events} events)"
    );
}
