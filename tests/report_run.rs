//! Run reports: `metrics.csv` from `kubesim run --out`, `kubesim report` from a
//! run folder and from a scenario, and the committed reports in `reports/`:
//! one per shipped scenario, regenerated here and compared byte for byte.

mod common;

use kubesim::report::{html, run::RunData};
use kubesim::scenario;
use kubesim::scheduler::policies::Registry;
use kubesim::sweep::{self, Plan, Shard};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Shipped scenarios whose report is a `kubesim compare` report: (scenario,
/// `--schedulers`, `--seeds`). reports/regenerate.sh runs the same command.
const COMPARED: &[(&str, &str, u64)] = &[(
    "compare-binpacking",
    "least-allocated,most-allocated,default",
    10,
)];

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

fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// What differs between the files a report should have and `reports/NAME/`.
fn differences(name: &str, files: &[(String, Vec<u8>)]) -> Vec<String> {
    let dir = Path::new("reports").join(name);
    let want: BTreeSet<String> = files.iter().map(|f| f.0.clone()).collect();
    let have = file_names(&dir);
    if want != have {
        return vec![format!(
            "{}: files {have:?}, expected {want:?}",
            dir.display()
        )];
    }
    files
        .iter()
        .filter(|(file, bytes)| std::fs::read(dir.join(file)).unwrap_or_default() != *bytes)
        .map(|(file, _)| format!("{}/{file} differs", dir.display()))
        .collect()
}

/// The files `kubesim compare SCENARIO --schedulers P --seeds N --out DIR`
/// writes, made through the library the same way.
fn compare_files(name: &str, policies: &str, seeds: u64) -> Vec<(String, Vec<u8>)> {
    let path = PathBuf::from(format!("scenarios/{name}.yaml"));
    let sc = scenario::load(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let policies: Vec<String> = policies.split(',').map(str::to_string).collect();
    let seeds: Vec<u64> = (1..=seeds).collect();
    let plan = Plan::for_compare(sc, &text, &policies, &seeds, None);
    let runs = plan.run(Shard::WHOLE, &Registry::builtin(), None).unwrap();
    let outcome = sweep::outcome(&plan.desc, runs).unwrap();
    let dir = temp(&format!("compare-report-{name}"));
    let written = outcome.write(&dir).unwrap();
    let files = written
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    files
}

/// Every shipped scenario has its report in `reports/NAME/`, exactly as the
/// code produces it now (runs are deterministic), and `reports/` holds
/// nothing else but its README and the script that regenerates it.
#[test]
fn committed_reports_are_up_to_date() {
    let names: Vec<String> = common::shipped_scenarios()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut stale: Vec<String> = names
        .par_iter()
        .flat_map_iter(|name| {
            let files = match COMPARED.iter().find(|c| c.0 == name) {
                Some((_, policies, seeds)) => compare_files(name, policies, *seeds),
                None => {
                    let sc = scenario::load(Path::new(&format!("scenarios/{name}.yaml"))).unwrap();
                    html::files(&RunData::from_scenario(&sc))
                        .into_iter()
                        .map(|(f, t)| (f, t.into_bytes()))
                        .collect()
                }
            };
            differences(name, &files)
        })
        .collect();
    let mut expected: BTreeSet<String> = names.iter().cloned().collect();
    expected.insert("README.md".into());
    expected.insert("regenerate.sh".into());
    let extra: Vec<String> = file_names(Path::new("reports"))
        .difference(&expected)
        .cloned()
        .collect();
    if !extra.is_empty() {
        stale.push(format!(
            "reports/ has {extra:?}, which no shipped scenario makes"
        ));
    }
    assert!(
        stale.is_empty(),
        "reports/ is stale; regenerate it with reports/regenerate.sh \
         (see reports/README.md):\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_regeneration_script_runs_the_compared_scenarios_as_the_test_does() {
    let script = std::fs::read_to_string("reports/regenerate.sh").unwrap();
    for (name, policies, seeds) in COMPARED {
        let cmd = format!(
            "compare scenarios/{name}.yaml --schedulers {policies} --seeds {seeds} --out reports/{name}"
        );
        assert!(
            script.contains(&cmd),
            "reports/regenerate.sh runs `kubesim {cmd}`"
        );
    }
    assert!(script.contains("report \"$f\" --out \"reports/$name\""));
}

/// Committed reports stay small enough for a repository: no report folder
/// over 1.5 MB, and every HTML page under 1 MB.
#[test]
fn committed_reports_are_small() {
    let mut total = 0u64;
    for entry in std::fs::read_dir("reports").unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let mut size = 0;
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap();
            let len = f.metadata().unwrap().len();
            if f.file_name() == "report.html" {
                assert!(len < 1_000_000, "{}: {len} bytes", f.path().display());
            }
            size += len;
        }
        assert!(size < 1_500_000, "{}: {size} bytes", dir.display());
        total += size;
    }
    eprintln!("reports/: {total} bytes");
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
