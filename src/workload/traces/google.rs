//! Google cluster-usage traces v3, ClusterData2019 (github.com/google/cluster-data,
//! `clusterdata_trace_format_v3.proto`), as exported from BigQuery to JSON
//! lines: one object per line, 64-bit integers as numbers or strings, enums as
//! numbers or names. `path` is a folder of `instance_events*` and
//! `machine_events*` files (`.json` or `.json.gz`, shards in name order) or an
//! `instance_events` file itself.
//!
//! * `instance_events` (`time` µs, `type`, `collection_id`, `instance_index`,
//!   `collection_type`, `priority`, `resource_request {cpus, memory}`): one
//!   pod per instance (`collection_id`, `instance_index`), arriving at its
//!   SUBMIT (0), running from its first SCHEDULE (3) to its first EVICT, FAIL,
//!   FINISH, KILL or LOST (4–8) after that, or until deleted when none
//!   follows. Requests are the first non-empty `resource_request`, in
//!   normalised units: `cpus` × the machine's CPU, `memory` × its memory
//!   (`machine:` in the scenario; the trace scales both so that the largest
//!   machine is 1.0). `priority` (0–450) is the pod priority. Alloc set
//!   instances (`collection_type` 1, reservations), rows at the end-of-trace
//!   time (2^63-1), instances without a SUBMIT, never SCHEDULEd or without a
//!   request are skipped. Sampled by `collection_id/instance_index`.
//! * `machine_events` (`time`, `machine_id`, `type`: ADD 1, REMOVE 2, UPDATE 3,
//!   `capacity {cpus, memory}`): ADD joins node `m-<id>` with `capacity` ×
//!   the machine size, REMOVE removes it; UPDATE (capacity changes) is skipped.

use super::{
    main_table, node_name, table_files, Converted, Lines, MachineChange, MachineEvent, Options,
    Task, TraceError,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const END_OF_TRACE: i64 = i64::MAX;

fn int(lines: &Lines, v: &Value, key: &str) -> Result<Option<i64>, TraceError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| u.min(i64::MAX as u64) as i64))
            .map(Some)
            .ok_or_else(|| lines.error(format!("{key}: {n} is not an integer"))),
        Some(Value::String(s)) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| lines.error(format!("{key}: {s:?} is not an integer"))),
        Some(other) => Err(lines.error(format!("{key}: {other} is not an integer"))),
    }
}

fn float(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `type` as a number, or by name.
fn event_type(lines: &Lines, v: &Value, names: &[&str]) -> Result<i64, TraceError> {
    if let Some(Value::String(s)) = v.get("type") {
        if let Some(i) = names.iter().position(|n| n == s) {
            return Ok(i as i64);
        }
    }
    int(lines, v, "type")?.ok_or_else(|| lines.error("no `type`"))
}

const INSTANCE_TYPES: &[&str] = &[
    "SUBMIT",
    "QUEUE",
    "ENABLE",
    "SCHEDULE",
    "EVICT",
    "FAIL",
    "FINISH",
    "KILL",
    "LOST",
    "UPDATE_PENDING",
    "UPDATE_RUNNING",
];
const MACHINE_TYPES: &[&str] = &["EVENT_TYPE_UNKNOWN", "ADD", "REMOVE", "UPDATE"];

#[derive(Default)]
struct Instance {
    submit: Option<u64>,
    schedule: Option<u64>,
    /// Terminal event times, to pick the first after the SCHEDULE.
    ends: Vec<u64>,
    request: Option<(f64, f64)>,
    priority: i32,
    /// File order of the first row, for ties.
    seq: u64,
}

fn each_row(
    file: &Path,
    mut f: impl FnMut(&Lines, &Value) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    let mut lines = Lines::open(file)?;
    loop {
        if !lines.advance()? {
            return Ok(());
        }
        let row = lines.row();
        if row.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(row)
            .map_err(|e| lines.error(format!("not a JSON object: {e}")))?;
        if !v.is_object() {
            return Err(lines.error("expected a JSON object per line"));
        }
        f(&lines, &v)?;
    }
}

pub fn read(path: &Path, opts: &Options) -> Result<Converted, TraceError> {
    let mut c = Converted::default();
    let mut instances: BTreeMap<(i64, i64), Instance> = BTreeMap::new();
    let mut seq = 0u64;
    for file in main_table(path, "instance_events")? {
        each_row(&file, |lines, v| {
            let t = event_type(lines, v, INSTANCE_TYPES)?;
            let time = int(lines, v, "time")?.ok_or_else(|| lines.error("no `time`"))?;
            if int(lines, v, "collection_type")? == Some(1) {
                c.skipped
                    .add("instance_events alloc set instance (a reservation)", 1);
                return Ok(());
            }
            if time == END_OF_TRACE {
                c.skipped
                    .add("instance_events time at the end of the trace", 1);
                return Ok(());
            }
            if time < 0 {
                return Err(lines.error(format!("time: {time} is negative")));
            }
            let id =
                int(lines, v, "collection_id")?.ok_or_else(|| lines.error("no `collection_id`"))?;
            let index = int(lines, v, "instance_index")?
                .ok_or_else(|| lines.error("no `instance_index`"))?;
            let ms = time as u64 / 1000;
            let e = instances.entry((id, index)).or_insert_with(|| {
                seq += 1;
                Instance {
                    seq,
                    ..Default::default()
                }
            });
            if e.request.is_none() {
                if let Some(r) = v.get("resource_request") {
                    let (cpu, mem) = (float(r.get("cpus")), float(r.get("memory")));
                    if cpu.is_some() || mem.is_some() {
                        e.request = Some((cpu.unwrap_or(0.0), mem.unwrap_or(0.0)));
                    }
                }
            }
            if let Some(p) = int(lines, v, "priority")? {
                e.priority = p.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
            }
            match t {
                0 => e.submit = Some(e.submit.map_or(ms, |s| s.min(ms))),
                3 => e.schedule = Some(e.schedule.map_or(ms, |s| s.min(ms))),
                4..=8 => e.ends.push(ms),
                1 | 2 | 9 | 10 => {}
                _ => {
                    return Err(
                        lines.error(format!("type: {t} is not an instance event type (0-10)"))
                    )
                }
            }
            Ok(())
        })?;
    }
    let mut jobs = BTreeSet::new();
    for ((id, index), e) in instances {
        let Some(submit) = e.submit else {
            c.skipped.add("instance without a SUBMIT event", 1);
            continue;
        };
        let Some(schedule) = e.schedule else {
            c.skipped
                .add("instance never SCHEDULEd (killed or still pending)", 1);
            continue;
        };
        let Some((cpus, mem)) = e.request else {
            c.skipped.add("instance without a resource_request", 1);
            continue;
        };
        let Some(t) = opts.place(submit) else {
            c.not_selected += 1;
            continue;
        };
        if !opts.keep(&format!("{id}/{index}")) {
            c.not_selected += 1;
            continue;
        }
        jobs.insert(id);
        let end = e.ends.iter().copied().filter(|&x| x >= schedule).min();
        c.tasks.push(Task {
            time_ms: t,
            cpu_millis: (cpus * opts.machine_cpu_millis as f64).round() as i64,
            memory: (mem * opts.machine_memory as f64).round() as i64,
            run_ms: end.map(|x| opts.scale(x - schedule)),
            priority: e.priority,
            index: e.seq,
        });
    }
    c.jobs = jobs.len() as u64;
    if path.is_dir() {
        for file in table_files(path, "machine_events")? {
            each_row(&file, |lines, v| {
                let t = event_type(lines, v, MACHINE_TYPES)?;
                let time = int(lines, v, "time")?.ok_or_else(|| lines.error("no `time`"))?;
                let id =
                    int(lines, v, "machine_id")?.ok_or_else(|| lines.error("no `machine_id`"))?;
                if time == END_OF_TRACE || time < 0 {
                    c.skipped.add("machine_events time outside the trace", 1);
                    return Ok(());
                }
                let change = match t {
                    1 => {
                        let cap = v.get("capacity");
                        let (Some(cpus), Some(mem)) = (
                            float(cap.and_then(|c| c.get("cpus"))),
                            float(cap.and_then(|c| c.get("memory"))),
                        ) else {
                            c.skipped.add("machine_events ADD without a capacity", 1);
                            return Ok(());
                        };
                        MachineChange::Add {
                            cpu_millis: (cpus * opts.machine_cpu_millis as f64).round() as i64,
                            memory: (mem * opts.machine_memory as f64).round() as i64,
                        }
                    }
                    2 => MachineChange::Remove,
                    3 => {
                        c.skipped
                            .add("machine_events UPDATE (capacity change, not simulated)", 1);
                        return Ok(());
                    }
                    _ => {
                        return Err(lines.error(format!(
                            "type: {t} is not ADD (1), REMOVE (2) or UPDATE (3)"
                        )))
                    }
                };
                c.machines.push(MachineEvent {
                    time_ms: time as u64 / 1000,
                    node: node_name("m-", &id.to_string()),
                    change,
                });
                Ok(())
            })?;
        }
    }
    Ok(c)
}
