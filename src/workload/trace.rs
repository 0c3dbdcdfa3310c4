//! Trace-driven workloads: pods replayed from a CSV file, streamed line by
//! line (never loaded whole), in the scenario's `workload.traces`.
//!
//! Format: one pod per line, `#` starts a comment, an optional header line
//! starting with `arrival`:
//!
//! ```text
//! arrival,cpu,memory,duration,priority,labels
//! 0s,1,2Gi,30m,0,app=batch;team=a
//! 90.5,500m,512Mi,,,
//! ```
//!
//! `arrival` and `duration` are durations (`90s`, `1h2m`) or seconds (`90.5`,
//! rounded to the millisecond); an empty `duration` runs until deleted. `cpu`
//! and `memory` are Kubernetes quantities. `priority` (default 0) and `labels`
//! (`k=v;k=v`) are optional. Arrivals must not go back in time.
//!
//! The same file may be gzip-compressed. `workload.trace` (format `kubesim`)
//! reads it too, with a window, a sample and a time scale applied as it
//! streams; the other formats of `workload.trace` are converted at load time
//! (see [`super::traces`]) and replayed from their converted records.

use super::Arrival;
use crate::api::quantity::{parse_cpu_millis, parse_value};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// One `workload.traces` entry (or the `workload.trace` hook), checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceSpec {
    /// Pod names are `<name>-<line index:05>`.
    pub name: String,
    pub file: PathBuf,
    pub namespace: String,
    /// Window, sample and time scale for a streamed kubesim trace (None: all of it).
    pub options: Option<super::traces::Options>,
    /// Pods converted at load time from a production trace: replayed instead of `file`.
    pub tasks: Option<std::sync::Arc<Vec<super::traces::Task>>>,
}

fn time_of(s: &str) -> Result<SimDuration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        if !secs.is_finite() || !(0.0..=1e12).contains(&secs) {
            return Err(format!("{s:?} is not a time in seconds"));
        }
        return Ok(SimDuration::from_millis((secs * 1000.0).round() as u64));
    }
    SimDuration::parse(s).map_err(|e| e.to_string())
}

/// One parsed line: arrival, CPU (milli), memory (bytes), run time, priority, labels.
type Line = (
    SimTime,
    i64,
    i64,
    Option<SimDuration>,
    i32,
    BTreeMap<String, String>,
);

/// Parse one data line (the caller adds the line number to messages).
pub(crate) fn parse_line(line: &str, last: SimTime) -> Result<Line, String> {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    if f.len() < 4 {
        return Err(format!(
            "expected at least 4 fields (arrival,cpu,memory,duration), found {}",
            f.len()
        ));
    }
    if f.len() > 6 {
        return Err(format!(
            "expected at most 6 fields (arrival,cpu,memory,duration,priority,labels), found {}",
            f.len()
        ));
    }
    let at = SimTime::ZERO + time_of(f[0]).map_err(|e| format!("arrival: {e}"))?;
    if at < last {
        return Err(format!(
            "arrival {} is before the previous line's ({}): a trace must be sorted by arrival",
            at.as_millis(),
            last.as_millis()
        ));
    }
    let cpu = parse_cpu_millis(f[1]).map_err(|e| format!("cpu: {e}"))?;
    let mem = parse_value(f[2]).map_err(|e| format!("memory: {e}"))?;
    if cpu < 0 || mem < 0 {
        return Err("cpu and memory must not be negative".into());
    }
    let dur = if f[3].is_empty() {
        None
    } else {
        Some(time_of(f[3]).map_err(|e| format!("duration: {e}"))?)
    };
    let prio = match f.get(4) {
        None | Some(&"") => 0,
        Some(p) => p
            .parse()
            .map_err(|_| format!("priority {p:?} is not an integer"))?,
    };
    let mut labels = BTreeMap::new();
    if let Some(l) = f.get(5).filter(|l| !l.is_empty()) {
        for kv in l.split(';') {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("label {kv:?} should be key=value"))?;
            crate::api::selector::validate_label_key(k).map_err(|e| e.to_string())?;
            crate::api::selector::validate_label_value(v).map_err(|e| e.to_string())?;
            labels.insert(k.to_string(), v.to_string());
        }
    }
    Ok((at, cpu, mem, dur, prio, labels))
}

pub(crate) fn is_data(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#') && !t.starts_with("arrival")
}

/// Read the whole trace once to check it, without keeping it: the first
/// problem as (1-based line, message), and the number of pods.
pub fn check(path: &Path, max_pods: u64) -> Result<u64, (usize, String)> {
    let f = super::traces::open(path).map_err(|e| (0, e.message))?;
    let mut last = SimTime::ZERO;
    let mut n = 0u64;
    for (i, line) in f.lines().enumerate() {
        let line = line.map_err(|e| (i + 1, format!("cannot read the trace: {e}")))?;
        if !is_data(&line) {
            continue;
        }
        let (at, ..) = parse_line(&line, last).map_err(|m| (i + 1, m))?;
        last = at;
        n += 1;
        if n > max_pods {
            return Err((
                i + 1,
                format!("more than {max_pods} pods in one trace (limits.maxReplicas)"),
            ));
        }
    }
    Ok(n)
}

/// The trace's pods in order, read as they are needed.
pub struct TraceReader {
    spec: TraceSpec,
    lines: Option<std::io::Lines<Box<dyn BufRead + Send>>>,
    last: SimTime,
    index: u64,
    /// Next converted task (when `spec.tasks` is set).
    next_task: usize,
}

impl TraceReader {
    pub fn new(spec: &TraceSpec) -> Self {
        TraceReader {
            lines: if spec.tasks.is_some() {
                None
            } else {
                super::traces::open(&spec.file).ok().map(BufRead::lines)
            },
            spec: spec.clone(),
            last: SimTime::ZERO,
            index: 0,
            next_task: 0,
        }
    }

    fn arrival(&self, index: u64, time: SimTime, cpu: i64, mem: i64) -> Arrival {
        Arrival {
            time,
            name: format!("{}-{index:05}", self.spec.name),
            namespace: self.spec.namespace.clone(),
            cpu_millis: cpu,
            memory: mem,
            run_for: None,
            priority: 0,
            labels: BTreeMap::new(),
            image: "registry.k8s.io/pause:3.10".into(),
            index,
        }
    }
}

impl Iterator for TraceReader {
    type Item = Arrival;
    fn next(&mut self) -> Option<Arrival> {
        if let Some(tasks) = &self.spec.tasks {
            let t = *tasks.get(self.next_task)?;
            self.next_task += 1;
            let mut a = self.arrival(
                t.index,
                SimTime::from_millis(t.time_ms),
                t.cpu_millis,
                t.memory,
            );
            a.run_for = t.run_ms.map(SimDuration::from_millis);
            a.priority = t.priority;
            return Some(a);
        }
        loop {
            let line = self.lines.as_mut()?.next()?.ok()?;
            if !is_data(&line) {
                continue;
            }
            // checked at load time; a file changed since then ends the trace
            let (at, cpu, mem, dur, prio, labels) = parse_line(&line, self.last).ok()?;
            self.last = at;
            let index = self.index;
            self.index += 1;
            let (time, run_for) = match &self.spec.options {
                None => (at, dur),
                Some(o) => {
                    if o.window.end_ms.is_some_and(|e| at.as_millis() >= e) {
                        // sorted: nothing later is in the window
                        self.lines = None;
                        return None;
                    }
                    let Some(t) = o.place(at.as_millis()) else {
                        continue;
                    };
                    if !o.keep(&index.to_string()) {
                        continue;
                    }
                    (
                        SimTime::from_millis(t),
                        dur.map(|d| SimDuration::from_millis(o.scale(d.as_millis()))),
                    )
                }
            };
            let mut a = self.arrival(index, time, cpu, mem);
            a.run_for = run_for;
            a.priority = prio;
            a.labels = labels;
            return Some(a);
        }
    }
}
