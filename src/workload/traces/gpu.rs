//! Alibaba cluster-trace-gpu-v2020 (github.com/alibaba/clusterdata,
//! `cluster-trace-gpu-v2020`). Header-less CSVs; `path` is the folder holding
//! them (`NAME.csv` or `NAME.csv.gz`), or the `pai_task_table` file itself.
//!
//! * `pai_task_table`: `job_name,task_name,inst_num,status,start_time,
//!   end_time,plan_cpu,plan_mem,plan_gpu,gpu_type`. Each task becomes
//!   `inst_num` pods arriving at `start_time` (seconds), running `end_time -
//!   start_time`, requesting `plan_cpu` × 10 millicores (600 is 6 cores) and
//!   `plan_mem` GiB (the trace says GB). `plan_gpu` and `gpu_type` are not
//!   simulated (no GPU resource on pods). Only `Terminated` and `Failed` tasks
//!   ran to an end; other statuses, empty fields, `inst_num` 0 and `end_time`
//!   before `start_time` are skipped. Priority 0. Sampled by
//!   `job_name/task_name`. `pai_instance_table` is not read.
//! * `pai_machine_spec` (optional): `machine,gpu_type,cap_cpu,cap_mem,cap_gpu`:
//!   each machine is a node `<machine>` present from time 0 with `cap_cpu`
//!   cores and `cap_mem` GiB.

use super::{
    csv_fields, main_table, node_name, num, table_files, Converted, Lines, MachineChange,
    MachineEvent, Options, Task, TraceError,
};
use std::collections::BTreeSet;
use std::path::Path;

pub const PAI_TASK_TABLE: &[&str] = &[
    "job_name",
    "task_name",
    "inst_num",
    "status",
    "start_time",
    "end_time",
    "plan_cpu",
    "plan_mem",
    "plan_gpu",
    "gpu_type",
];
pub const PAI_MACHINE_SPEC: &[&str] = &["machine", "gpu_type", "cap_cpu", "cap_mem", "cap_gpu"];

const GIB: f64 = 1_073_741_824.0;

pub fn read(path: &Path, opts: &Options) -> Result<Converted, TraceError> {
    let mut c = Converted::default();
    let mut jobs = BTreeSet::new();
    let mut seq = 0u64;
    for file in main_table(path, "pai_task_table")? {
        let mut lines = Lines::open(&file)?;
        while lines.advance()? {
            let row = lines.row();
            if row.trim().is_empty() {
                continue;
            }
            let f = csv_fields(&lines, row, PAI_TASK_TABLE)?;
            let n = |i| num(&lines, PAI_TASK_TABLE, &f, i);
            let (instances, start, end, cpu, mem) = (n(2)?, n(4)?, n(5)?, n(6)?, n(7)?);
            let status = f[3];
            let (Some(start), Some(end), Some(cpu), Some(mem)) = (start, end, cpu, mem) else {
                c.skipped.add(
                    if status != "Terminated" && status != "Failed" {
                        format!("pai_task_table status {status} (did not run to an end)")
                    } else {
                        "pai_task_table start_time, end_time, plan_cpu or plan_mem empty".into()
                    },
                    1,
                );
                continue;
            };
            let reason = if status != "Terminated" && status != "Failed" {
                Some(format!(
                    "pai_task_table status {status} (did not run to an end)"
                ))
            } else if instances.is_none_or(|i| i < 1.0) {
                Some("pai_task_table inst_num 0".to_string())
            } else if end < start {
                Some("pai_task_table end_time before start_time".to_string())
            } else {
                None
            };
            if let Some(r) = reason {
                c.skipped.add(r, 1);
                continue;
            }
            let instances = instances.unwrap_or(0.0) as u64;
            if instances > super::alibaba::MAX_INSTANCES {
                return Err(lines.error(format!(
                    "inst_num {instances} is more than {}",
                    super::alibaba::MAX_INSTANCES
                )));
            }
            let ms = |s: f64| (s.max(0.0) * 1000.0).round() as u64;
            let Some(t) = opts.place(ms(start)) else {
                c.not_selected += instances;
                continue;
            };
            if !opts.keep(&format!("{}/{}", f[0], f[1])) {
                c.not_selected += instances;
                continue;
            }
            jobs.insert(f[0].to_string());
            let run = opts.scale(ms(end) - ms(start));
            for _ in 0..instances {
                c.tasks.push(Task {
                    time_ms: t,
                    cpu_millis: (cpu * 10.0).round() as i64,
                    memory: (mem * GIB).round() as i64,
                    run_ms: Some(run),
                    priority: 0,
                    index: seq,
                });
                seq += 1;
            }
        }
    }
    c.jobs = jobs.len() as u64;
    if path.is_dir() {
        for file in table_files(path, "pai_machine_spec")? {
            let mut lines = Lines::open(&file)?;
            while lines.advance()? {
                let row = lines.row();
                if row.trim().is_empty() {
                    continue;
                }
                let f = csv_fields(&lines, row, PAI_MACHINE_SPEC)?;
                let n = |i| num(&lines, PAI_MACHINE_SPEC, &f, i);
                let (Some(cpu), Some(mem)) = (n(2)?, n(3)?) else {
                    c.skipped
                        .add("pai_machine_spec cap_cpu or cap_mem empty", 1);
                    continue;
                };
                c.machines.push(MachineEvent {
                    time_ms: 0,
                    node: node_name("", f[0]),
                    change: MachineChange::Add {
                        cpu_millis: (cpu * 1000.0).round() as i64,
                        memory: (mem * GIB).round() as i64,
                    },
                });
            }
        }
    }
    Ok(c)
}
