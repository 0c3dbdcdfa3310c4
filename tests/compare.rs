//! `kubesim compare`: fairness (common random numbers) and independence from the
//! thread count.

use kubesim::api::Pod;
use kubesim::metrics::Recorder;
use kubesim::scheduler::policies::Registry;
use kubesim::{compare, scenario, Simulation};
use std::collections::BTreeMap;
use std::path::Path;

fn load() -> scenario::Scenario {
    let mut sc = scenario::load(Path::new("scenarios/compare-binpacking.yaml")).unwrap();
    // a shorter run keeps the test quick; the workload's shape is unchanged
    sc.until = kubesim::sim::time::SimDuration::from_secs(20 * 60);
    sc
}

/// (arrival time, pod name) → (cpu, memory, run-for) for every generated pod.
type Seen = BTreeMap<(u64, String), (i64, i64, Option<String>)>;

fn workload_seen(policy: &str, seed: u64) -> Seen {
    let mut sc = load();
    sc.seed = seed;
    sc.settings.profiles[0].1 = policy.to_string();
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let arrivals: BTreeMap<String, u64> = sim
        .recorder()
        .records()
        .iter()
        .filter(|r| r.component == "workload")
        .map(|r| (r.object.rsplit('/').next().unwrap().to_string(), r.time_ms))
        .collect();
    assert!(
        arrivals.len() > 100,
        "the workload generated pods: {}",
        arrivals.len()
    );
    sim.api()
        .list::<Pod>()
        .filter_map(|p| {
            let t = *arrivals.get(&p.meta.name)?;
            let r = p.spec.requests();
            let run_for = p.meta.annotations.get("kubesim.io/run-for").cloned();
            Some(((t, p.meta.name.clone()), (r.cpu_millis, r.memory, run_for)))
        })
        .collect()
}

#[test]
fn two_policies_under_one_seed_see_identical_pod_arrivals_and_sizes() {
    let a = workload_seen("most-allocated", 3);
    let b = workload_seen("least-allocated", 3);
    assert_eq!(a.len(), b.len());
    assert_eq!(
        a, b,
        "same arrivals, names, sizes and run times under both policies"
    );
    let c = workload_seen("most-allocated", 4);
    assert_ne!(a, c, "another seed gives another workload");
}

#[test]
fn policies_really_differ_on_the_shipped_comparison() {
    let sc = load();
    let c = compare::compare(
        &sc,
        &["least-allocated".into(), "most-allocated".into()],
        &[1, 2, 3],
        &Registry::builtin(),
        Some(2),
    )
    .unwrap();
    let nodes = |p: &str| c.per_policy[p]["nodes_used_mean"].mean;
    assert!(
        nodes("most-allocated") + 2.0 < nodes("least-allocated"),
        "bin-packing keeps fewer nodes busy: {} vs {}",
        nodes("most-allocated"),
        nodes("least-allocated")
    );
    let d = &c.paired_vs_first["most-allocated"]["nodes_used_mean"];
    assert!(
        d.mean + d.ci95 < 0.0,
        "the paired difference is significant: {d:?}"
    );
}

#[test]
fn one_thread_and_two_threads_give_the_same_comparison() {
    let sc = load();
    let policies: Vec<String> = vec!["default".into(), "most-allocated".into(), "random".into()];
    let run = |threads| {
        let c = compare::compare(
            &sc,
            &policies,
            &[1, 2, 3, 4],
            &Registry::builtin(),
            Some(threads),
        )
        .unwrap();
        (
            serde_json::to_string(&c).unwrap(),
            compare::csv(&c),
            compare::table(&c),
        )
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn the_grid_runner_gives_the_same_comparison_as_compare() {
    use kubesim::sweep::{outcome, Outcome, Plan, Shard};
    let mut sc = load();
    sc.until = kubesim::sim::time::SimDuration::from_secs(5 * 60);
    let policies: Vec<String> = vec!["most-allocated".into(), "default".into()];
    let seeds = [2, 1, 5];
    let direct = compare::compare(&sc, &policies, &seeds, &Registry::builtin(), Some(2)).unwrap();
    let plan = Plan::for_compare(sc, "text", &policies, &seeds, None);
    assert_eq!(plan.desc.len(), 6);
    let runs = plan
        .run(Shard::WHOLE, &Registry::builtin(), Some(1))
        .unwrap();
    let Outcome::Compare(c) = outcome(&plan.desc, runs).unwrap() else {
        panic!("a compare grid gives a comparison")
    };
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        serde_json::to_string(&direct).unwrap()
    );
    // shards of the grid run exactly its points, in grid order
    let mut all = Vec::new();
    for k in 1..=4 {
        all.extend(
            plan.run(Shard { index: k, count: 4 }, &Registry::builtin(), Some(2))
                .unwrap(),
        );
    }
    all.sort_by_key(|r| r.index);
    assert_eq!(
        all.iter().map(|r| r.index).collect::<Vec<_>>(),
        (0..6).collect::<Vec<_>>()
    );
    assert_eq!(
        all.iter().map(|r| r.result.clone()).collect::<Vec<_>>(),
        c.runs
    );
}
