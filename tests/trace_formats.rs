//! Production trace readers (Alibaba v2018, Google 2019, Alibaba GPU 2020 and
//! the kubesim CSV) on the samples in tests/data/traces: exact conversions,
//! skipped rows with reasons, the `workload.trace` scenario hook, bad input
//! and `kubesim trace-stats`.

mod common;

use kubesim::api::{ObjKey, Pod};
use kubesim::metrics::Recorder;
use kubesim::scenario::Action;
use kubesim::workload::traces::{self, Format, MachineChange, MachineEvent, Options, Window};
use kubesim::{scenario, Simulation};
use std::collections::BTreeMap;
use std::path::PathBuf;

const GIB: i64 = 1 << 30;

fn data(p: &str) -> PathBuf {
    common::repo_root().join("tests/data/traces").join(p)
}

/// (arrival ms, cpu millis, memory bytes, run ms, priority) of each pod.
fn pods(c: &traces::Converted) -> Vec<(u64, i64, i64, Option<u64>, i32)> {
    c.tasks
        .iter()
        .map(|t| (t.time_ms, t.cpu_millis, t.memory, t.run_ms, t.priority))
        .collect()
}

fn skipped(c: &traces::Converted) -> Vec<(&str, u64)> {
    c.skipped.0.iter().map(|(r, n)| (r.as_str(), *n)).collect()
}

fn add(t: u64, node: &str, cpu: i64, mem: i64) -> MachineEvent {
    MachineEvent {
        time_ms: t,
        node: node.into(),
        change: MachineChange::Add {
            cpu_millis: cpu,
            memory: mem,
        },
    }
}

#[test]
fn alibaba_v2018_rows_become_pods_and_machines() {
    let f = Format::AlibabaV2018;
    let c = traces::read(f, &data("alibaba-v2018"), &Options::new(f)).unwrap();
    let p = pods(&c);
    assert_eq!(p.len(), 36);
    // plan_mem is a percentage of the 512Gi machine: 0.20 → 1.024 GiB
    let mem_020 = (0.2f64 / 100.0 * (512 * GIB) as f64).round() as i64;
    assert_eq!(mem_020, 1_099_511_628);
    assert_eq!(
        &p[..5],
        &[
            // j_1 M1: 2 instances at 30s, 310s, plan_cpu 100 = 1 core
            (30_000, 1000, mem_020, Some(310_000), 0),
            (30_000, 1000, mem_020, Some(310_000), 0),
            // j_1 R2_1: 430s..490s, plan_mem 0.39
            (430_000, 1000, 2_144_047_674, Some(60_000), 0),
            // container c_1 (container_meta): 600s, cpu_request 400, runs until deleted
            (600_000, 4000, 8_246_337_208, None, 0),
            // j_2 M1: 3 instances
            (730_000, 1500, 2_199_023_256, Some(320_000), 0),
        ]
    );
    // the Failed task ran 780s..900s with plan_cpu 200
    assert!(p.contains(&(780_000, 2000, 6_487_118_604, Some(120_000), 0)));
    assert_eq!(
        p.last(),
        Some(&(6_730_000, 1000, 2_144_047_674, Some(60_000), 0))
    );
    assert_eq!(
        p.iter().filter(|t| t.3.is_none()).count(),
        5,
        "5 containers"
    );
    assert_eq!(
        skipped(&c),
        [
            ("batch_task end_time before start_time", 1),
            ("batch_task instance_num 0", 1),
            ("batch_task plan_cpu or plan_mem empty", 1),
            ("batch_task status Cancelled (did not run to an end)", 1),
            ("batch_task status Running (did not run to an end)", 1),
            ("batch_task status Waiting (did not run to an end)", 1),
            ("container_meta later row of a container (status update)", 5),
            (
                "container_meta time_stamp, cpu_request or mem_size empty",
                1
            ),
            ("machine_meta row that changes nothing (same status)", 1),
            ("machine_meta time_stamp, cpu_num or mem_size empty", 1),
        ]
    );
    let mut want: Vec<MachineEvent> = (1..=6)
        .map(|i| add(0, &format!("m-{i}"), 96_000, 512 * GIB))
        .collect();
    want.push(add(1_800_000, "m-7", 64_000, 256 * GIB));
    want.push(MachineEvent {
        time_ms: 3_600_000,
        node: "m-3".into(),
        change: MachineChange::Remove,
    });
    want.push(add(5_400_000, "m-3", 96_000, 512 * GIB));
    assert_eq!(c.machines, want);
    assert_eq!(c.jobs, 12, "10 jobs and 2 app_du groups");
}

#[test]
fn google_2019_instances_become_pods_and_machines() {
    let f = Format::Google2019;
    let c = traces::read(f, &data("google-2019"), &Options::new(f)).unwrap();
    // normalised units × the 64-core / 256Gi machine; µs → ms
    assert_eq!(
        pods(&c),
        [
            // 1003/0: existed at the trace start (time 0, enum names), cpus 0.25, memory 0.125
            (0, 16_000, 32 * GIB, Some(7_200_000), 360),
            // 1001/0..2: SUBMIT 600s, SCHEDULE 601s, FINISH 1801s
            (600_000, 4000, 8 * GIB, Some(1_200_000), 200),
            (600_000, 4000, 8 * GIB, Some(1_200_000), 200),
            (600_000, 4000, 8 * GIB, Some(1_200_000), 200),
            // 1002/0: SCHEDULE 1805.5s, EVICT 2405.5s
            (1_800_000, 8000, 16 * GIB, Some(600_000), 0),
            // 1002/1: scheduled, never ends in the trace
            (1_800_000, 8000, 16 * GIB, None, 0),
            // 1006/0..1: FAIL 90s after SCHEDULE; cpus 0.03, memory 0.01
            (9_000_000, 1920, 2_748_779_069, Some(90_000), 100),
            (9_000_000, 1920, 2_748_779_069, Some(90_000), 100),
        ]
    );
    assert_eq!(
        skipped(&c),
        [
            ("instance never SCHEDULEd (killed or still pending)", 1),
            ("instance without a SUBMIT event", 1),
            ("instance without a resource_request", 1),
            ("instance_events alloc set instance (a reservation)", 2),
            ("instance_events time at the end of the trace", 1),
            ("machine_events ADD without a capacity", 1),
            ("machine_events UPDATE (capacity change, not simulated)", 1),
        ]
    );
    // machine_events is gzip-compressed
    assert_eq!(
        c.machines,
        [
            add(0, "m-101", 32_000, 128 * GIB),
            add(0, "m-102", 32_000, 128 * GIB),
            add(0, "m-103", 32_000, 128 * GIB),
            add(0, "m-104", 32_000, 128 * GIB),
            add(0, "m-105", 64_000, 256 * GIB),
            MachineEvent {
                time_ms: 3_600_000,
                node: "m-103".into(),
                change: MachineChange::Remove
            },
            add(5_400_000, "m-106", 16_000, 64 * GIB),
        ]
    );
    assert_eq!(c.jobs, 4);
}

#[test]
fn alibaba_gpu_2020_tasks_and_machine_specs() {
    let f = Format::AlibabaGpu2020;
    let c = traces::read(f, &data("alibaba-gpu-2020"), &Options::new(f)).unwrap();
    let p = pods(&c);
    assert_eq!(p.len(), 13);
    // plan_cpu 600 = 6 cores, plan_mem 29.296875 GB (as GiB)
    assert_eq!(p[0], (1_000_000, 6000, 31_457_280_000, Some(600_000), 0));
    assert_eq!(p[2], (2_000_000, 6000, 31_457_280_000, Some(1_200_000), 0));
    // the Failed task: 9500s..9800s, 12 cores
    assert_eq!(p[12], (9_500_000, 12_000, 62_921_270_886, Some(300_000), 0));
    assert_eq!(
        skipped(&c),
        [
            (
                "pai_task_table start_time, end_time, plan_cpu or plan_mem empty",
                1
            ),
            ("pai_task_table status Running (did not run to an end)", 1),
            ("pai_task_table status Waiting (did not run to an end)", 1),
        ]
    );
    assert_eq!(c.machines.len(), 4);
    assert_eq!(c.machines[0], add(0, "m1", 96_000, 512 * GIB));
}

#[test]
fn kubesim_format_reads_gzip_the_same() {
    let f = Format::Kubesim;
    let plain = traces::read(f, &data("kubesim/pods.csv"), &Options::new(f)).unwrap();
    let gz = traces::read(f, &data("kubesim/pods.csv.gz"), &Options::new(f)).unwrap();
    assert_eq!(plain, gz);
    assert_eq!(plain.tasks.len(), 24);
    assert_eq!(
        pods(&plain)[1],
        (300_000, 500, 1024 << 20, Some(360_000), 1)
    );
}

#[test]
fn window_sample_and_time_scale() {
    let f = Format::AlibabaV2018;
    let mut o = Options::new(f);
    o.window = Window::parse("1h..1h30m").unwrap();
    o.time_scale = 2.0;
    let c = traces::read(f, &data("alibaba-v2018"), &o).unwrap();
    // arrivals in [3600s, 5400s), shifted to 0, then ×2 (run times too)
    assert_eq!(
        pods(&c).iter().map(|p| (p.0, p.3)).collect::<Vec<_>>(),
        [
            (660_000, Some(120_000)),   // j_6 R2_1 at 3930s, 60s
            (1_260_000, Some(740_000)), // j_7 M1 at 4230s, 370s
            (1_260_000, Some(740_000)),
            (2_060_000, Some(120_000)), // j_7 R2_1 at 4630s
            (2_660_000, Some(760_000)), // j_8 M1 at 4930s, 3 instances
            (2_660_000, Some(760_000)),
            (2_660_000, Some(760_000)),
            (3_460_000, Some(120_000)), // j_8 R2_1 at 5330s
        ]
    );
    assert_eq!(c.not_selected, 28);
    // the sample is a hash of the task id: deterministic, and nested
    let sample = |s: f64| {
        let mut o = Options::new(f);
        o.sample = s;
        traces::read(f, &data("alibaba-v2018"), &o).unwrap().tasks
    };
    let (a, b) = (sample(0.3), sample(0.6));
    assert_eq!(a, sample(0.3));
    assert!(!a.is_empty() && a.len() < b.len() && b.len() < 36);
    let key = |t: &traces::Task| (t.time_ms, t.cpu_millis, t.memory, t.run_ms);
    for t in &a {
        assert!(b.iter().any(|u| key(u) == key(t)), "0.3 ⊆ 0.6");
    }
    // bad windows
    for w in ["2h", "3h..1h", "1x..2h"] {
        let e = Window::parse(w).unwrap_err();
        assert!(e.contains("expected START..END"), "{e}");
    }
}

fn scenario_with(dir: &common::TempDir, workload: &str, cluster: &str) -> PathBuf {
    dir.write(
        "s.yaml",
        &format!("name: t\nuntil: 3h\n{cluster}workload:\n  trace: {workload}\n"),
    )
}

#[test]
fn the_scenario_hook_builds_the_cluster_from_machines() {
    let dir = common::TempDir::new("hook-alibaba");
    let path = data("alibaba-v2018");
    let p = scenario_with(
        &dir,
        &format!("{{format: alibaba-v2018, path: {}}}", path.display()),
        "",
    );
    let sc = scenario::load(&p).unwrap_or_else(|e| panic!("{e}"));
    // m-1..m-6 at the start; m-7 joins, m-3 leaves and comes back
    let nodes: Vec<String> = sc
        .objects
        .iter()
        .filter(|o| o.kind() == kubesim::api::Kind::Node)
        .map(|o| o.meta().name.clone())
        .collect();
    assert_eq!(nodes, ["m-1", "m-2", "m-3", "m-4", "m-5", "m-6"]);
    let tl: Vec<(u64, String)> = sc
        .timeline
        .iter()
        .map(|a| {
            let what = match &a.action {
                Action::NodeAdd { nodes, .. } => format!("add {}", nodes[0].meta.name),
                Action::NodeRemove(n) => format!("remove {n}"),
                other => format!("{other:?}"),
            };
            (a.at.as_millis(), what)
        })
        .collect();
    assert_eq!(
        tl,
        [
            (1_800_000, "add m-7".to_string()),
            (3_600_000, "remove m-3".to_string()),
            (5_400_000, "add m-3".to_string()),
        ]
    );
    assert!(
        sc.warnings
            .iter()
            .any(|w| w.contains("14 rows skipped") && w.contains("1 batch_task instance_num 0")),
        "{:?}",
        sc.warnings
    );
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    assert_eq!(sim.summary().pods.created, 36);
    let first = sim
        .api()
        .get::<Pod>(&ObjKey::new("default", "trace-00003"))
        .cloned()
        .expect("the container pod runs until deleted");
    assert_eq!(first.spec.requests().cpu_millis, 4000);
}

#[test]
fn the_scenario_hook_streams_a_kubesim_trace_with_a_window() {
    let dir = common::TempDir::new("hook-kubesim");
    let path = data("kubesim/pods.csv.gz");
    let p = scenario_with(
        &dir,
        &format!(
            "{{format: kubesim, path: {}, window: 30m..1h, timeScale: 0.5, name: w}}",
            path.display()
        ),
        "cluster:\n  nodePools: [{name: n, count: 2, capacity: {cpu: \"8\", memory: 32Gi}}]\n",
    );
    let sc = scenario::load(&p).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run();
    let created: Vec<(u64, String)> = sim
        .recorder()
        .records()
        .iter()
        .filter(|r| r.component == "workload")
        .map(|r| (r.time_ms, r.object.clone()))
        .collect();
    // lines 6..11 (1800s..3300s), shifted to 0 and halved; names keep the line index
    let want: Vec<(u64, String)> = (6..12)
        .map(|i| ((i - 6) * 150_000, format!("Pod/default/w-{i:05}")))
        .collect();
    assert_eq!(created, want);
}

#[test]
fn bad_hooks_are_named() {
    let dir = common::TempDir::new("hook-bad");
    let ali = data("alibaba-v2018");
    let cases = [
        (
            format!("{{format: borg, path: {}}}", ali.display()),
            "unknown trace format \"borg\"",
        ),
        (
            format!(
                "{{format: alibaba-v2018, path: {}, window: 2h}}",
                ali.display()
            ),
            "expected START..END",
        ),
        (
            format!(
                "{{format: alibaba-v2018, path: {}, sample: 0}}",
                ali.display()
            ),
            "fraction in (0, 1]",
        ),
        (
            "{format: google-2019, path: nowhere}".to_string(),
            "cannot read the trace",
        ),
    ];
    for (i, (hook, want)) in cases.iter().enumerate() {
        let p = scenario_with(&dir, hook, "");
        let err = scenario::load(&p).expect_err("refused").to_string();
        assert!(err.contains(want), "case {i}: {err}");
        assert!(
            err.contains("s.yaml:"),
            "case {i} points at the scenario: {err}"
        );
    }
}

#[test]
fn malformed_rows_are_errors_with_file_and_line() {
    let dir = common::TempDir::new("trace-malformed");
    let a = dir.write(
        "batch_task.csv",
        "M1,1,j_1,1,Terminated,10,20,100,0.5\nM2,1,j_1,1,Terminated,10\n",
    );
    let e = traces::read(
        Format::AlibabaV2018,
        &a,
        &Options::new(Format::AlibabaV2018),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        format!(
            "{}:2: expected 9 columns (task_name,instance_num,job_name,task_type,status,start_time,end_time,plan_cpu,plan_mem), found 6",
            a.display()
        )
    );
    let b = dir.write("b.csv", "M1,1,j_1,1,Terminated,ten,20,100,0.5\n");
    let e = traces::read(
        Format::AlibabaV2018,
        &b,
        &Options::new(Format::AlibabaV2018),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.ends_with(":1: start_time: \"ten\" is not a number"),
        "{e}"
    );
    let g = dir.write(
        "instance_events.json",
        "{\"time\":\"0\",\"type\":0,\"collection_id\":\"1\",\"instance_index\":0}\n{\"time\": oops}\n",
    );
    let e = traces::read(Format::Google2019, &g, &Options::new(Format::Google2019))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{}:2: not a JSON object", g.display())),
        "{e}"
    );
    // through a scenario, the trace file and line are named
    let s = scenario_with(
        &dir,
        &format!("{{format: alibaba-v2018, path: {}}}", a.display()),
        "",
    );
    let err = scenario::load(&s).expect_err("refused").to_string();
    assert!(err.contains(&format!("{}:2:", a.display())), "{err}");
}

#[test]
fn trace_stats_prints_a_table_and_json() {
    let ali = data("alibaba-v2018");
    let r = common::kubesim([
        "trace-stats".as_ref(),
        ali.as_os_str(),
        "--format".as_ref(),
        "alibaba-v2018".as_ref(),
    ]);
    r.assert_success();
    for want in [
        "Tasks:      36",
        "ARRIVALS BY HOUR",
        "cpu (cores)",
        "SKIPPED      14",
    ] {
        assert!(r.stdout.contains(want), "{want}: {}", r.stdout);
    }
    assert!(
        r.stderr.contains("warning: 14 rows skipped"),
        "{}",
        r.stderr
    );
    let r = common::kubesim([
        "trace-stats".as_ref(),
        data("google-2019").as_os_str(),
        "--format".as_ref(),
        "google-2019".as_ref(),
        "--window".as_ref(),
        "..1h".as_ref(),
        "-o".as_ref(),
        "json".as_ref(),
    ]);
    r.assert_success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["tasks"], 6);
    assert_eq!(v["not_selected"], 2);
    assert_eq!(v["arrivals_per_hour"]["0"], 6);
    assert_eq!(v["priorities"]["200"], 3);
    assert_eq!(v["machines"]["remove_events"], 1);
    let skipped: BTreeMap<String, u64> = serde_json::from_value(v["skipped"].clone()).unwrap();
    assert_eq!(
        skipped["instance_events alloc set instance (a reservation)"],
        2
    );
    let r = common::kubesim(["trace-stats", "x", "--format", "borg"]);
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("unknown trace format"), "{}", r.stderr);
}
