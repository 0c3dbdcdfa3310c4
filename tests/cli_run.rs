//! `kubesim run` on the shipped scenarios: output files, final state, determinism.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Run `kubesim run SCENARIO --out OUT EXTRA...`, asserting exit 0.
fn run_to(scenario: &Path, out: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<std::ffi::OsString> =
        vec!["run".into(), scenario.into(), "--out".into(), out.into()];
    args.extend(extra.iter().map(|a| a.into()));
    let r = kubesim(args);
    r.assert_success();
    r
}

fn as_u64(v: &Value, what: &str) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("{what} should be a non-negative integer, got {v}"))
}

/// The `timeline:` entries of a scenario file as key → value maps (flat entries only).
fn timeline_entries(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut entries: Vec<BTreeMap<String, String>> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') && !line.starts_with('-') {
            inside = line.starts_with("timeline:");
            continue;
        }
        if !inside {
            continue;
        }
        let (new_entry, kv) = match trimmed.strip_prefix("- ") {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if new_entry {
            entries.push(BTreeMap::new());
        }
        if let (Some((k, v)), Some(e)) = (kv.split_once(':'), entries.last_mut()) {
            e.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    entries
}

/// `15m`, `1h30m`, `30s`, `250ms` → milliseconds.
fn duration_ms(s: &str) -> u64 {
    let mut total = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .expect("a unit after the number");
        let n: u64 = rest[..end].parse().expect("a number");
        rest = &rest[end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        total += n * match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => panic!("unknown unit {unit:?} in {s:?}"),
        };
    }
    total
}

#[test]
fn every_shipped_scenario_exits_zero_and_writes_events_and_summary() {
    let scenarios = shipped_scenarios();
    assert!(!scenarios.is_empty(), "no scenarios/*.yaml found");
    let tmp = TempDir::new("every_shipped_scenario_exits_zero");
    for sc in &scenarios {
        let out = tmp.join(&sc.file_stem().unwrap().to_string_lossy());
        let r = run_to(sc, &out, &["--quiet"]);
        assert!(
            out.join("events.jsonl").is_file(),
            "no events.jsonl\n{}",
            r.describe()
        );
        assert!(
            out.join("summary.json").is_file(),
            "no summary.json\n{}",
            r.describe()
        );
    }
}

#[test]
fn event_log_lines_are_json_records_with_required_keys_in_time_order() {
    let tmp = TempDir::new("event_log_lines_are_json_records");
    for sc in shipped_scenarios() {
        let out = tmp.join(&sc.file_stem().unwrap().to_string_lossy());
        run_to(&sc, &out, &["--quiet"]);
        let events = read_events(&out.join("events.jsonl"));
        assert!(!events.is_empty(), "{}: empty event log", sc.display());
        let mut last = 0u64;
        for (i, e) in events.iter().enumerate() {
            let at = format!("{}: events.jsonl line {}: {e}", sc.display(), i + 1);
            assert!(e.is_object(), "{at}: not a JSON object");
            let t = e
                .get("time_ms")
                .unwrap_or_else(|| panic!("{at}: no time_ms"));
            let t = t
                .as_u64()
                .unwrap_or_else(|| panic!("{at}: time_ms is not a non-negative integer"));
            for key in ["component", "type", "reason", "object", "message"] {
                let v = e.get(key).unwrap_or_else(|| panic!("{at}: no {key}"));
                assert!(v.is_string(), "{at}: {key} is not a string");
            }
            assert!(t >= last, "{at}: time_ms {t} goes back from {last}");
            last = t;
        }
    }
}

#[test]
fn summary_json_has_the_documented_keys() {
    let tmp = TempDir::new("summary_json_has_the_documented_keys");
    for sc in shipped_scenarios() {
        let out = tmp.join(&sc.file_stem().unwrap().to_string_lossy());
        run_to(&sc, &out, &["--quiet"]);
        let s = read_json(&out.join("summary.json"));
        for key in [
            "pods.created",
            "pods.running",
            "pods.pending",
            "pods.succeeded",
            "pods.failed",
            "scheduling.attempts",
            "scheduling.bound",
            "scheduling.failed",
            "sim.events",
            "sim.virtual_time_ms",
            "sim.wall_ms",
        ] {
            let v = json_at(&s, key)
                .unwrap_or_else(|| panic!("{}: summary.json has no {key}:\n{s:#}", sc.display()));
            as_u64(v, &format!("{}: summary {key}", sc.display()));
        }
        assert!(
            s.get("deployments").is_some_and(Value::is_object),
            "{}: no deployments map",
            sc.display()
        );
    }
}

#[test]
fn summary_record_count_matches_event_log_lines() {
    let tmp = TempDir::new("summary_record_count_matches");
    for sc in shipped_scenarios() {
        let out = tmp.join(&sc.file_stem().unwrap().to_string_lossy());
        run_to(&sc, &out, &["--quiet"]);
        let lines = read_events(&out.join("events.jsonl")).len() as u64;
        let s = read_json(&out.join("summary.json"));
        if let Some(records) = json_at(&s, "sim.records") {
            assert_eq!(
                as_u64(records, "sim.records"),
                lines,
                "{}: sim.records vs events.jsonl lines",
                sc.display()
            );
        }
    }
}

#[test]
fn no_partial_files_are_left_in_the_output_folder() {
    let tmp = TempDir::new("no_partial_files_are_left");
    for sc in shipped_scenarios() {
        let out = tmp.join(&sc.file_stem().unwrap().to_string_lossy());
        run_to(&sc, &out, &["--quiet"]);
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert!(
            !names.iter().any(|n| n.ends_with(".partial")),
            "{}: partial files left behind: {names:?}",
            sc.display()
        );
        // traffic.csv only for scenarios with a `traffic:` section
        let has_traffic = std::fs::read_to_string(&sc)
            .unwrap()
            .lines()
            .any(|l| l.starts_with("traffic:"));
        let want: &[&str] = if has_traffic {
            &["events.jsonl", "metrics.csv", "summary.json", "traffic.csv"]
        } else {
            &["events.jsonl", "metrics.csv", "summary.json"]
        };
        assert_eq!(names, want, "{}: unexpected files", sc.display());
    }
}

#[test]
fn web_basic_timeline_scales_to_8_and_cordons_pool_a_2_at_15m() {
    // The web-basic assertions below assume this timeline; fail loudly if it changes.
    let text = std::fs::read_to_string(scenario("web-basic.yaml")).unwrap();
    let tl = timeline_entries(&text);
    let get = |e: &BTreeMap<String, String>, k: &str| e.get(k).cloned().unwrap_or_default();
    let cordons: Vec<_> = tl.iter().filter(|e| get(e, "action") == "cordon").collect();
    assert_eq!(
        cordons.len(),
        1,
        "expected exactly one cordon in web-basic: {tl:?}"
    );
    assert_eq!(get(cordons[0], "target"), "node/pool-a-2", "{tl:?}");
    assert_eq!(duration_ms(&get(cordons[0], "at")), 900_000, "{tl:?}");
    assert!(
        !tl.iter().any(|e| get(e, "action") == "uncordon"),
        "web-basic now uncordons: {tl:?}"
    );
    let last_scale = tl
        .iter()
        .filter(|e| get(e, "action") == "scale" && get(e, "target") == "deployment/web")
        .max_by_key(|e| duration_ms(&get(e, "at")))
        .expect("web-basic scales deployment/web");
    assert_eq!(get(last_scale, "replicas"), "8", "{tl:?}");
    assert!(duration_ms(&get(last_scale, "at")) >= 900_000, "{tl:?}");
}

#[test]
fn web_basic_ends_with_all_8_deployment_pods_running() {
    let tmp = TempDir::new("web_basic_ends_with_all_8");
    let out = tmp.join("out");
    run_to(&scenario("web-basic.yaml"), &out, &["--quiet"]);
    let s = read_json(&out.join("summary.json"));
    let web = s["deployments"]
        .get("default/web")
        .unwrap_or_else(|| panic!("no default/web in summary:\n{s:#}"));
    assert_eq!(web["desired"], 8, "{s:#}");
    assert_eq!(web["available"], 8, "{s:#}");
    assert_eq!(s["pods"]["running"], 8, "{s:#}");
    assert_eq!(s["pods"]["pending"], 0, "{s:#}");
    assert_eq!(s["pods"]["failed"], 0, "{s:#}");
}

#[test]
fn web_basic_schedules_no_pod_onto_cordoned_node_after_cordon() {
    let tmp = TempDir::new("web_basic_schedules_no_pod_onto_cordoned");
    let out = tmp.join("out");
    run_to(&scenario("web-basic.yaml"), &out, &["--quiet"]);
    let events = read_events(&out.join("events.jsonl"));
    let text = |e: &Value, k: &str| e[k].as_str().unwrap_or_default().to_string();
    // the log itself shows the cordon at 15m
    let cordon = events
        .iter()
        .find(|e| text(e, "object") == "Node/pool-a-2" && text(e, "message").contains("cordon"))
        .unwrap_or_else(|| panic!("no cordon record for Node/pool-a-2 in the event log"));
    assert_eq!(cordon["time_ms"], 900_000, "cordon record: {cordon}");
    let after: Vec<&Value> = events
        .iter()
        .filter(|e| text(e, "reason") == "Scheduled" && as_u64(&e["time_ms"], "time_ms") >= 900_000)
        .collect();
    assert!(
        !after.is_empty(),
        "no pod was scheduled after the cordon; the check would be vacuous"
    );
    for e in &after {
        assert!(
            !e.to_string().contains("pool-a-2"),
            "pod scheduled onto cordoned pool-a-2: {e}"
        );
    }
}

#[test]
fn guestbook_every_deployment_is_available_at_the_end() {
    let tmp = TempDir::new("guestbook_every_deployment_is_available");
    let out = tmp.join("out");
    run_to(&scenario("guestbook.yaml"), &out, &["--quiet"]);
    let s = read_json(&out.join("summary.json"));
    let deps = s["deployments"].as_object().expect("deployments map");
    let mut names: Vec<&str> = deps.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "default/frontend",
            "default/redis-follower",
            "default/redis-leader"
        ],
        "{s:#}"
    );
    for (name, d) in deps {
        assert_eq!(
            d["available"], d["desired"],
            "{name} not fully available: {s:#}"
        );
    }
    // the timeline scales frontend down to 1 at 20m
    assert_eq!(deps["default/frontend"]["desired"], 1, "{s:#}");
}

#[test]
fn guestbook_warns_about_fields_not_simulated_on_stderr() {
    let tmp = TempDir::new("guestbook_warns_about_fields");
    let r = run_to(&scenario("guestbook.yaml"), &tmp.join("out"), &[]);
    let warnings: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert!(
        !warnings.is_empty(),
        "no warnings on stderr\n{}",
        r.describe()
    );
    assert!(
        warnings.iter().any(|w| w.contains("env[].name")),
        "no warning names the unsimulated field env[].name\n{}",
        r.describe()
    );
    assert!(
        warnings.iter().any(|w| w.contains("frontend.yaml")),
        "warnings do not name the manifest file\n{}",
        r.describe()
    );
}

#[test]
fn quiet_run_prints_nothing() {
    let tmp = TempDir::new("quiet_run_prints_nothing");
    let r = run_to(&scenario("guestbook.yaml"), &tmp.join("out"), &["--quiet"]);
    assert_eq!(r.stdout, "", "{}", r.describe());
    assert_eq!(r.stderr, "", "{}", r.describe());
}

#[test]
fn same_seed_gives_byte_identical_event_log() {
    let tmp = TempDir::new("same_seed_gives_byte_identical");
    for sc in shipped_scenarios() {
        let stem = sc.file_stem().unwrap().to_string_lossy().into_owned();
        let a = tmp.join(&format!("{stem}-a"));
        let b = tmp.join(&format!("{stem}-b"));
        run_to(&sc, &a, &["--quiet"]);
        run_to(&sc, &b, &["--quiet"]);
        let ea = std::fs::read(a.join("events.jsonl")).unwrap();
        let eb = std::fs::read(b.join("events.jsonl")).unwrap();
        assert!(
            ea == eb,
            "{}: two runs with the same seed differ",
            sc.display()
        );
    }
}

#[test]
fn same_seed_gives_identical_summary_apart_from_wall_time() {
    let tmp = TempDir::new("same_seed_gives_identical_summary");
    for sc in shipped_scenarios() {
        let stem = sc.file_stem().unwrap().to_string_lossy().into_owned();
        let mut summaries = Vec::new();
        for run in ["a", "b"] {
            let out = tmp.join(&format!("{stem}-{run}"));
            run_to(&sc, &out, &["--quiet"]);
            let mut s = read_json(&out.join("summary.json"));
            s["sim"]
                .as_object_mut()
                .expect("sim object")
                .remove("wall_ms");
            summaries.push(s);
        }
        assert_eq!(
            summaries[0],
            summaries[1],
            "{}: summaries differ",
            sc.display()
        );
    }
}

#[test]
fn explicit_seed_equal_to_scenario_seed_changes_nothing() {
    // web-basic says `seed: 7`
    let text = std::fs::read_to_string(scenario("web-basic.yaml")).unwrap();
    assert!(
        text.lines().any(|l| l.trim() == "seed: 7"),
        "web-basic no longer has seed: 7"
    );
    let tmp = TempDir::new("explicit_seed_equal_to_scenario_seed");
    run_to(&scenario("web-basic.yaml"), &tmp.join("a"), &["--quiet"]);
    run_to(
        &scenario("web-basic.yaml"),
        &tmp.join("b"),
        &["--quiet", "--seed", "7"],
    );
    let ea = std::fs::read(tmp.join("a/events.jsonl")).unwrap();
    let eb = std::fs::read(tmp.join("b/events.jsonl")).unwrap();
    assert!(ea == eb, "--seed 7 differs from the scenario's own seed 7");
}

#[test]
fn different_seed_gives_different_event_log() {
    let tmp = TempDir::new("different_seed_gives_different");
    run_to(&scenario("web-basic.yaml"), &tmp.join("a"), &["--quiet"]);
    run_to(
        &scenario("web-basic.yaml"),
        &tmp.join("b"),
        &["--quiet", "--seed", "8"],
    );
    let ea = std::fs::read(tmp.join("a/events.jsonl")).unwrap();
    let eb = std::fs::read(tmp.join("b/events.jsonl")).unwrap();
    assert!(ea != eb, "--seed 8 gives the same event log as seed 7");
    let s = read_json(&tmp.join("b/summary.json"));
    assert_eq!(
        s["seed"], 8,
        "summary does not report the --seed value: {s:#}"
    );
    // pod names are random per seed, but the outcome is the same
    assert_eq!(s["pods"]["running"], 8, "{s:#}");
}

#[test]
fn until_5m_stops_at_or_before_300000_ms() {
    let tmp = TempDir::new("until_5m_stops");
    let out = tmp.join("out");
    run_to(
        &scenario("web-basic.yaml"),
        &out,
        &["--quiet", "--until", "5m"],
    );
    let s = read_json(&out.join("summary.json"));
    let vt = as_u64(&s["sim"]["virtual_time_ms"], "virtual_time_ms");
    assert!(vt <= 300_000, "virtual_time_ms {vt} > 300000: {s:#}");
    for e in read_events(&out.join("events.jsonl")) {
        let t = as_u64(&e["time_ms"], "time_ms");
        assert!(t <= 300_000, "event after --until 5m: {e}");
    }
    // the 10m scale never happened
    assert_eq!(s["deployments"]["default/web"]["desired"], 3, "{s:#}");
}

#[test]
fn run_without_out_prints_summary_and_writes_nothing() {
    let tmp = TempDir::new("run_without_out_prints_summary");
    let src = tmp.write(
        "src/web-basic.yaml",
        &std::fs::read_to_string(scenario("web-basic.yaml")).unwrap(),
    );
    let cwd = tmp.join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let r = kubesim_in(&cwd, [std::ffi::OsStr::new("run"), src.as_os_str()]);
    r.assert_success();
    assert!(
        r.stdout.contains("web-basic"),
        "summary does not name the scenario\n{}",
        r.describe()
    );
    assert!(
        r.stdout.contains("pods"),
        "summary does not mention pods\n{}",
        r.describe()
    );
    assert!(
        r.stdout.contains("default/web"),
        "summary does not list the Deployment\n{}",
        r.describe()
    );
    let list = |p: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert!(
        list(&cwd).is_empty(),
        "files written to the working directory: {:?}",
        list(&cwd)
    );
    assert_eq!(
        list(&tmp.join("src")),
        ["web-basic.yaml"],
        "files written next to the scenario"
    );
}

#[test]
fn pod_requesting_an_extended_resource_no_node_has_stays_pending() {
    // NodeResourcesFit: a request for nvidia.com/gpu cannot fit a node without that resource
    let tmp = TempDir::new("pod_requesting_an_extended_resource");
    let scen = tmp.write(
        "gpu.yaml",
        "name: gpu
until: 5m
cluster:
  nodePools:
    - name: a
      count: 1
      capacity: {cpu: \"4\", memory: 16Gi}
objects:
  - apiVersion: v1
    kind: Pod
    metadata:
      name: needs-gpu
    spec:
      containers:
        - name: c
          image: cuda
          resources:
            requests: {cpu: 100m, memory: 64Mi, nvidia.com/gpu: \"1\"}
            limits: {nvidia.com/gpu: \"1\"}
",
    );
    let out = tmp.join("out");
    run_to(&scen, &out, &["--quiet"]);
    let s = read_json(&out.join("summary.json"));
    assert_eq!(
        s["pods"]["running"], 0,
        "a GPU pod runs on a node with no GPUs: {s:#}"
    );
    assert_eq!(s["pods"]["pending"], 1, "{s:#}");
    assert_eq!(s["scheduling"]["bound"], 0, "{s:#}");
}

#[test]
fn events_switch_writes_all_some_or_no_records() {
    let tmp = TempDir::new("events_switch");
    let sc = scenario("zone-outage.yaml");
    let lines = |level: &str| -> Option<Vec<serde_json::Value>> {
        let out = tmp.join(level);
        let r = kubesim([
            "run".as_ref(),
            sc.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--events".as_ref(),
            level.as_ref(),
            "-q".as_ref(),
        ]);
        r.assert_success();
        let s = read_json(&out.join("summary.json"));
        let p = out.join("events.jsonl");
        if !p.exists() {
            assert_eq!(s["sim"]["records"], 0);
            return None;
        }
        let ev = read_events(&p);
        assert_eq!(s["sim"]["records"], ev.len() as u64);
        Some(ev)
    };
    let full = lines("full").expect("an event log");
    let summary = lines("summary").expect("an event log");
    assert!(lines("none").is_none(), "--events none writes no event log");
    assert!(!summary.is_empty() && summary.len() < full.len());
    for e in &summary {
        let c = e["component"].as_str().unwrap();
        assert!(
            e["type"] == "Warning"
                || ["kubectl", "kubeadm", "fault-injector", "chaos"].contains(&c),
            "{e}"
        );
    }
    // the summary log is the full log's subset, in the same order
    let kept: Vec<&serde_json::Value> = full
        .iter()
        .filter(|e| {
            e["type"] == "Warning"
                || ["kubectl", "kubeadm", "fault-injector", "chaos"]
                    .contains(&e["component"].as_str().unwrap())
        })
        .collect();
    assert_eq!(kept.len(), summary.len());
    assert!(kept.iter().zip(&summary).all(|(a, b)| *a == b));
}

#[test]
fn metrics_switch_writes_every_series_cluster_series_or_no_file() {
    let tmp = TempDir::new("metrics_switch");
    let sc = scenario("zone-outage.yaml");
    let rows = |level: &str| -> Option<String> {
        let out = tmp.join(level);
        // a metrics.csv left from an earlier run must not survive `none`
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("metrics.csv"), "stale").unwrap();
        let r = kubesim([
            "run".as_ref(),
            sc.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--metrics".as_ref(),
            level.as_ref(),
            "-q".as_ref(),
        ]);
        r.assert_success();
        assert!(out.join("summary.json").exists());
        assert!(!out.join("metrics.csv.spill").exists());
        std::fs::read_to_string(out.join("metrics.csv")).ok()
    };
    let full = rows("full").expect("metrics.csv");
    let cluster = rows("cluster").expect("metrics.csv");
    assert!(
        rows("none").is_none(),
        "--metrics none writes no metrics.csv"
    );
    let metric = |line: &str| line.split(',').nth(1).unwrap_or("").to_string();
    let per_object = [
        "node_cpu_allocated",
        "node_ready",
        "deployment_available",
        "replicaset_replicas",
    ];
    for m in per_object {
        assert!(full.lines().any(|l| metric(l) == m), "full has {m}");
        assert!(
            !cluster.lines().any(|l| metric(l) == m),
            "cluster has no {m}"
        );
    }
    // the cluster file is the full file without the per-object rows, in the same order
    let kept: Vec<&str> = full
        .lines()
        .filter(|l| {
            let m = metric(l);
            !(m.starts_with("node_") && m != "node_group_nodes"
                || m.starts_with("deployment_")
                || m.starts_with("replicaset_")
                || m.starts_with("hpa_"))
        })
        .collect();
    assert_eq!(kept, cluster.lines().collect::<Vec<_>>());
    assert!(cluster.lines().any(|l| metric(l) == "pods_by_phase"));
}
