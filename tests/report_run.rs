//! Run reports: `metrics.csv` from `kubesim run --out`, `kubesim report` from a
//! run folder and from a scenario, and the committed reports in `reports/`.

use kubesim::report::{html, run::RunData};
use kubesim::scenario;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shipped scenarios with a committed report in `reports/NAME/`
/// (regenerate with the commands in reports/README.md).
const REPORTED: &[&str] = &[
    "node-crash",
    "rolling-update",
    "rollout-traffic",
    "zone-outage",
];

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kubesim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn kubesim(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubesim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn committed_reports_are_up_to_date() {
    let mut stale = Vec::new();
    for name in REPORTED {
        let sc = scenario::load(Path::new(&format!("scenarios/{name}.yaml"))).unwrap();
        let files = html::files(&RunData::from_scenario(&sc));
        let dir = Path::new("reports").join(name);
        let want: BTreeSet<String> = files.iter().map(|f| f.0.clone()).collect();
        let have: BTreeSet<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if want != have {
            stale.push(format!(
                "{}: files {have:?}, expected {want:?}",
                dir.display()
            ));
            continue;
        }
        for (file, text) in &files {
            let committed = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
            if &committed != text {
                stale.push(format!("{}/{file} differs", dir.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "reports/ is stale; regenerate it with the commands in reports/README.md \
         (kubesim report scenarios/NAME.yaml --out reports/NAME):\n{}",
        stale.join("\n")
    );
}

#[test]
fn run_writes_metrics_csv_and_report_reads_the_folder() {
    let dir = temp("report-run");
    let d = dir.to_str().unwrap();
    kubesim(&["run", "scenarios/rollout-traffic.yaml", "--out", d, "-q"]);
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("time_ms,metric,object,value\n"));
    for metric in [
        "pods_by_phase",
        "pending_queue",
        "node_cpu_allocated",
        "node_memory_allocated",
        "node_pods",
        "deployment_desired",
        "deployment_updated",
        "deployment_available",
        "replicaset_replicas",
        "service_requests_per_s",
        "service_success_ratio",
        "service_latency_mean_ms",
        "scheduling_latency_pods",
    ] {
        assert!(
            csv.contains(&format!(",{metric},")),
            "{metric} in metrics.csv"
        );
    }
    // sorted by time
    let times: Vec<u64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));

    let out = kubesim(&["report", d]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("report.html"));
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // self-contained: no script, no style sheet or image fetched
    assert!(!page.contains("<script"));
    assert!(!page.contains("<link"));
    assert!(!page.contains("src="));
    for chart in [
        "Pods by phase",
        "Pending queue",
        "Scheduling latency",
        "Node allocation",
        "Rollout of Deployment default/probed",
        "Request success ratio per Service",
        "Request latency per Service",
    ] {
        assert!(page.contains(&format!("<h3>{chart}</h3>")), "{chart}");
    }
    assert!(page.matches("<svg").count() >= 7);
    assert!(page.contains("SetImage"), "the timeline action is marked");
    assert!(!page.contains("wall_ms"), "no wall-clock figures");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("![Pods by phase](pods-by-phase.svg)"));
    assert!(dir.join("pods-by-phase.svg").exists());

    // the same report as from the scenario run in memory
    let sc = scenario::load(Path::new("scenarios/rollout-traffic.yaml")).unwrap();
    for (file, text) in html::files(&RunData::from_scenario(&sc)) {
        let from_dir = std::fs::read_to_string(dir.join(&file)).unwrap();
        assert!(
            from_dir == text,
            "{file} differs between folder and scenario"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn metrics_sampling_leaves_the_event_log_unchanged() {
    use kubesim::metrics::Recorder;
    let sc = scenario::load(Path::new("scenarios/node-crash.yaml")).unwrap();
    let mut plain = kubesim::Simulation::new(&sc, Recorder::in_memory());
    plain.run();
    let mut sampled = kubesim::Simulation::new(&sc, Recorder::in_memory());
    sampled.keep_timeseries();
    sampled.run();
    assert_eq!(plain.recorder().records(), sampled.recorder().records());
    let rows = kubesim::metrics::timeseries::run_rows(&sampled);
    assert!(rows
        .iter()
        .any(|r| r.metric == "node_ready" && r.value == 0.0));
}
