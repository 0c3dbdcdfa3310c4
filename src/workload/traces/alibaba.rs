//! Alibaba cluster-trace-v2018 (github.com/alibaba/clusterdata,
//! `cluster-trace-v2018/schema.md`). Header-less CSVs; `path` is the folder
//! holding them (`NAME.csv` or `NAME.csv.gz`), or the `batch_task` file itself.
//!
//! * `batch_task`: `task_name,instance_num,job_name,task_type,status,
//!   start_time,end_time,plan_cpu,plan_mem`. Each task becomes
//!   `instance_num` pods arriving at `start_time` (seconds), running
//!   `end_time - start_time`, requesting `plan_cpu` × 10 millicores (100 is
//!   one core) and `plan_mem` / 100 of the machine memory (normalised to
//!   [0, 100]). Only `Terminated` and `Failed` tasks ran to an end in the
//!   trace; other statuses, empty plan fields, `instance_num` 0 and
//!   `end_time` before `start_time` are skipped with that reason. Priority 0.
//!   Sampled by `job_name/task_name` (all instances together).
//! * `container_meta` (optional): `container_id,machine_id,time_stamp,app_du,
//!   status,cpu_request,cpu_limit,mem_size`. A container's first row becomes a
//!   pod arriving at `time_stamp` that runs until deleted (online services),
//!   `cpu_request` × 10 millicores, `mem_size` / 100 of the machine memory;
//!   later rows of the same container (status updates) are skipped. Sampled
//!   by `container_id`.
//! * `machine_meta` (optional): `machine_id,time_stamp,failure_domain_1,
//!   failure_domain_2,cpu_num,mem_size,status`. A machine joins, as node
//!   `m-<id>` with `cpu_num` cores and `mem_size` / 100 of the machine memory,
//!   at its first `USING` or `IDLE` row and leaves at a row with any other
//!   status (rejoining at a later in-service row).
//!
//! `batch_instance` is not read: its per-instance times would refine the
//! task times, but at 20 GB it is rarely worth it; the task table carries the
//! requests.

use super::{
    csv_fields, main_table, node_name, num, table_files, Converted, Lines, MachineChange,
    MachineEvent, Options, Task, TraceError,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub const BATCH_TASK: &[&str] = &[
    "task_name",
    "instance_num",
    "job_name",
    "task_type",
    "status",
    "start_time",
    "end_time",
    "plan_cpu",
    "plan_mem",
];
pub const CONTAINER_META: &[&str] = &[
    "container_id",
    "machine_id",
    "time_stamp",
    "app_du",
    "status",
    "cpu_request",
    "cpu_limit",
    "mem_size",
];
pub const MACHINE_META: &[&str] = &[
    "machine_id",
    "time_stamp",
    "failure_domain_1",
    "failure_domain_2",
    "cpu_num",
    "mem_size",
    "status",
];

/// Pods one task may expand to, so a corrupt `instance_num` cannot ask for billions.
pub const MAX_INSTANCES: u64 = 100_000;

fn secs_ms(s: f64) -> u64 {
    (s.max(0.0) * 1000.0).round() as u64
}

pub fn read(path: &Path, opts: &Options) -> Result<Converted, TraceError> {
    let mut c = Converted::default();
    let mut jobs = BTreeSet::new();
    let mut seq = 0u64;
    let tasks = if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        let t = table_files(path, "batch_task")?;
        if t.is_empty() && table_files(path, "container_meta")?.is_empty() {
            // names the missing main table
            main_table(path, "batch_task")?;
        }
        t
    };
    for file in &tasks {
        let mut lines = Lines::open(file)?;
        while lines.advance()? {
            let row = lines.row();
            if row.trim().is_empty() {
                continue;
            }
            let f = csv_fields(&lines, row, BATCH_TASK)?;
            let n = |i| num(&lines, BATCH_TASK, &f, i);
            let (instances, start, end, cpu, mem) = (n(1)?, n(5)?, n(6)?, n(7)?, n(8)?);
            let status = f[4];
            let reason = if status != "Terminated" && status != "Failed" {
                Some(format!(
                    "batch_task status {status} (did not run to an end)"
                ))
            } else if cpu.is_none() || mem.is_none() {
                Some("batch_task plan_cpu or plan_mem empty".into())
            } else if start.is_none() || end.is_none() {
                Some("batch_task start_time or end_time empty".into())
            } else if instances.is_none_or(|i| i < 1.0) {
                Some("batch_task instance_num 0".into())
            } else if end < start {
                Some("batch_task end_time before start_time".into())
            } else {
                None
            };
            let instances = instances.unwrap_or(0.0) as u64;
            if let Some(r) = reason {
                c.skipped.add(r, 1);
                continue;
            }
            if instances > MAX_INSTANCES {
                return Err(lines.error(format!(
                    "instance_num {instances} is more than {MAX_INSTANCES}"
                )));
            }
            let (start, end) = (start.unwrap_or(0.0), end.unwrap_or(0.0));
            let Some(t) = opts.place(secs_ms(start)) else {
                c.not_selected += instances;
                continue;
            };
            if !opts.keep(&format!("{}/{}", f[2], f[0])) {
                c.not_selected += instances;
                continue;
            }
            jobs.insert(f[2].to_string());
            let run = opts.scale(secs_ms(end) - secs_ms(start));
            for _ in 0..instances {
                c.tasks.push(Task {
                    time_ms: t,
                    cpu_millis: (cpu.unwrap_or(0.0) * 10.0).round() as i64,
                    memory: (mem.unwrap_or(0.0) / 100.0 * opts.machine_memory as f64).round()
                        as i64,
                    run_ms: Some(run),
                    priority: 0,
                    index: seq,
                });
                seq += 1;
            }
        }
    }
    if path.is_dir() {
        let mut seen = BTreeSet::new();
        for file in table_files(path, "container_meta")? {
            let mut lines = Lines::open(&file)?;
            while lines.advance()? {
                let row = lines.row();
                if row.trim().is_empty() {
                    continue;
                }
                let f = csv_fields(&lines, row, CONTAINER_META)?;
                let n = |i| num(&lines, CONTAINER_META, &f, i);
                let (ts, cpu, mem) = (n(2)?, n(5)?, n(7)?);
                if !seen.insert(f[0].to_string()) {
                    c.skipped
                        .add("container_meta later row of a container (status update)", 1);
                    continue;
                }
                let (Some(ts), Some(cpu), Some(mem)) = (ts, cpu, mem) else {
                    c.skipped.add(
                        "container_meta time_stamp, cpu_request or mem_size empty",
                        1,
                    );
                    continue;
                };
                let Some(t) = opts.place(secs_ms(ts)) else {
                    c.not_selected += 1;
                    continue;
                };
                if !opts.keep(f[0]) {
                    c.not_selected += 1;
                    continue;
                }
                jobs.insert(format!("app_du/{}", f[3]));
                c.tasks.push(Task {
                    time_ms: t,
                    cpu_millis: (cpu * 10.0).round() as i64,
                    memory: (mem / 100.0 * opts.machine_memory as f64).round() as i64,
                    run_ms: None,
                    priority: 0,
                    index: seq,
                });
                seq += 1;
            }
        }
        let mut up: BTreeMap<String, bool> = BTreeMap::new();
        for file in table_files(path, "machine_meta")? {
            let mut lines = Lines::open(&file)?;
            while lines.advance()? {
                let row = lines.row();
                if row.trim().is_empty() {
                    continue;
                }
                let f = csv_fields(&lines, row, MACHINE_META)?;
                let n = |i| num(&lines, MACHINE_META, &f, i);
                let (ts, cpus, mem) = (n(1)?, n(4)?, n(5)?);
                let (Some(ts), Some(cpus), Some(mem)) = (ts, cpus, mem) else {
                    c.skipped
                        .add("machine_meta time_stamp, cpu_num or mem_size empty", 1);
                    continue;
                };
                let node = node_name("", f[0]);
                let in_service = f[6] == "USING" || f[6] == "IDLE";
                let was = up.insert(node.clone(), in_service).unwrap_or(false);
                let change = match (was, in_service) {
                    (false, true) => MachineChange::Add {
                        cpu_millis: (cpus * 1000.0).round() as i64,
                        memory: (mem / 100.0 * opts.machine_memory as f64).round() as i64,
                    },
                    (true, false) => MachineChange::Remove,
                    _ => {
                        c.skipped
                            .add("machine_meta row that changes nothing (same status)", 1);
                        continue;
                    }
                };
                c.machines.push(MachineEvent {
                    time_ms: secs_ms(ts),
                    node,
                    change,
                });
            }
        }
    }
    c.jobs = jobs.len() as u64;
    Ok(c)
}
