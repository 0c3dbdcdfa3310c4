//! Trace-driven workloads: pods replayed from a CSV file through the library
//! API, and bad traces named by file and line.

mod common;

use kubesim::api::{ObjKey, Pod};
use kubesim::metrics::Recorder;
use kubesim::{scenario, Simulation};

const SCENARIO: &str = r#"
name: t
until: 2h
cluster:
  nodePools: [{name: n, count: 2, capacity: {cpu: "8", memory: 32Gi, pods: 110}}]
workload:
  traces: [{name: tr, file: pods.csv}]
"#;

#[test]
fn a_trace_is_replayed_pod_by_pod() {
    let dir = common::TempDir::new("trace-ok");
    dir.write(
        "pods.csv",
        "# a comment\narrival,cpu,memory,duration,priority,labels\n0s,1,1Gi,10m,,team=a\n90.5,500m,512Mi,,5,\n2m,2,2Gi,1m,0,app=x;team=b\n",
    );
    let p = dir.write("s.yaml", SCENARIO);
    let sc = scenario::load(&p).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let recs = sim.recorder().records();
    let created: Vec<(u64, &str)> = recs
        .iter()
        .filter(|r| r.component == "workload")
        .map(|r| (r.time_ms, r.object.as_str()))
        .collect();
    assert_eq!(
        created,
        [
            (0, "Pod/default/tr-00000"),
            (90_500, "Pod/default/tr-00001"),
            (120_000, "Pod/default/tr-00002")
        ]
    );
    let pod = |n: &str| sim.api().get::<Pod>(&ObjKey::new("default", n)).cloned();
    // the run-forever pod is still there, with its requests and priority
    let p1 = pod("tr-00001").expect("runs until deleted");
    assert_eq!(p1.spec.requests().cpu_millis, 500);
    assert_eq!(p1.spec.priority, 5);
    // the finite ones finished
    assert_eq!(sim.summary().pods.succeeded, 2);
}

#[test]
fn a_bad_trace_is_named_by_file_and_line() {
    let cases = [
        (
            "0s,1,1Gi,1m\n10s,1,1Gi,1m\n5s,1,1Gi,1m\n",
            3,
            "sorted by arrival",
        ),
        ("0s,1,1Gi,1m\n1s,lots,1Gi,1m\n", 2, "cpu"),
        ("0s,1,1Gi\n", 1, "at least 4 fields"),
        ("0s,1,1Gi,1m,0,team\n", 1, "key=value"),
    ];
    for (i, (csv, line, want)) in cases.iter().enumerate() {
        let dir = common::TempDir::new(&format!("trace-bad-{i}"));
        let t = dir.write("pods.csv", csv);
        let p = dir.write("s.yaml", SCENARIO);
        let err = scenario::load(&p).expect_err("refused").to_string();
        assert!(err.contains(want), "case {i}: {err}");
        assert!(
            err.contains(&format!("{}:{line}:", t.display())),
            "case {i} names the trace line {line}: {err}"
        );
    }
    let dir = common::TempDir::new("trace-missing");
    let p = dir.write("s.yaml", SCENARIO);
    let err = scenario::load(&p).expect_err("refused").to_string();
    assert!(err.contains("cannot read the trace"), "{err}");
    assert!(
        err.contains("s.yaml:"),
        "points at the scenario entry: {err}"
    );
}
