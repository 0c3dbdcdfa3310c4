//! What a run report is made from: a run folder (`events.jsonl`,
//! `summary.json`, `metrics.csv`, `traffic.csv`) or a scenario run in memory.

use crate::metrics::timeseries::{self, Row};
use crate::metrics::Recorder;
use crate::scenario::Scenario;
use crate::Simulation;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// One line of `events.jsonl`, the fields a report uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogEvent {
    pub time_ms: u64,
    pub component: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub reason: String,
    pub object: String,
    pub message: String,
}

impl LogEvent {
    fn of(r: &crate::metrics::Record) -> Self {
        LogEvent {
            time_ms: r.time_ms,
            component: r.component.clone(),
            event_type: match r.event_type {
                crate::metrics::EventType::Normal => "Normal".into(),
                crate::metrics::EventType::Warning => "Warning".into(),
            },
            reason: r.reason.clone(),
            object: r.object.clone(),
            message: r.message.clone(),
        }
    }
}

/// Parse `events.jsonl` text.
pub fn parse_events(text: &str) -> Result<Vec<LogEvent>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("events.jsonl line {}: {e}", i + 1))
        })
        .collect()
}

/// A marker on the time axis: a fault or a timeline action.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub time_ms: u64,
    pub label: String,
    /// A fault (Warning) rather than an ordinary action.
    pub warning: bool,
}

/// Everything a run report shows.
#[derive(Debug, Clone)]
pub struct RunData {
    pub scenario: String,
    pub seed: u64,
    /// `summary.json` without wall-clock figures.
    pub summary: Value,
    pub metrics: Vec<Row>,
    /// Actions of kubectl, kubeadm, the fault injector and chaos after t = 0.
    pub actions: Vec<LogEvent>,
    /// The Deployment controller's `ScalingReplicaSet` events.
    pub scaling: Vec<LogEvent>,
    /// Warning events per (component, reason).
    pub warnings: BTreeMap<(String, String), u64>,
    /// Whether an event log was there to read.
    pub has_events: bool,
}

fn is_timeline_action(e: &LogEvent) -> bool {
    e.time_ms > 0
        && matches!(
            e.component.as_str(),
            "kubectl" | "kubeadm" | "fault-injector" | "chaos"
        )
}

impl RunData {
    fn build(summary: Value, metrics: Vec<Row>, events: Option<&[LogEvent]>) -> RunData {
        let mut summary = summary;
        if let Some(sim) = summary.get_mut("sim").and_then(|s| s.as_object_mut()) {
            sim.remove("wall_ms");
        }
        let scenario = summary
            .get("scenario")
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string();
        let seed = summary.get("seed").and_then(|v| v.as_u64()).unwrap_or(0);
        let mut warnings = BTreeMap::new();
        let mut actions = Vec::new();
        let mut scaling = Vec::new();
        for e in events.unwrap_or(&[]) {
            if e.reason == "ScalingReplicaSet" {
                scaling.push(e.clone());
            }
            if e.event_type == "Warning" {
                *warnings
                    .entry((e.component.clone(), e.reason.clone()))
                    .or_default() += 1;
            }
            if is_timeline_action(e) {
                actions.push(e.clone());
            }
        }
        RunData {
            scenario,
            seed,
            summary,
            metrics,
            actions,
            scaling,
            warnings,
            has_events: events.is_some(),
        }
    }

    /// Read a run folder written by `kubesim run --out DIR`.
    pub fn from_dir(dir: &Path) -> Result<RunData, String> {
        let read = |name: &str| -> Result<Option<String>, String> {
            let p = dir.join(name);
            match std::fs::read_to_string(&p) {
                Ok(s) => Ok(Some(s)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("cannot read {}: {e}", p.display())),
            }
        };
        let summary = read("summary.json")?.ok_or_else(|| {
            format!(
                "{} has no summary.json: is it a `kubesim run --out` folder?",
                dir.display()
            )
        })?;
        let summary: Value =
            serde_json::from_str(&summary).map_err(|e| format!("summary.json: {e}"))?;
        let mut metrics = match read("metrics.csv")? {
            Some(t) => timeseries::parse_csv(&t)?,
            None => Vec::new(),
        };
        if !metrics.iter().any(|r| r.metric.starts_with("service_")) {
            if let Some(t) = read("traffic.csv")? {
                metrics.extend(traffic_rows(&t)?);
            }
        }
        let events = match read("events.jsonl")? {
            Some(t) => Some(parse_events(&t)?),
            None => None,
        };
        Ok(RunData::build(summary, metrics, events.as_deref()))
    }

    /// Run `sc` in memory and take its figures.
    pub fn from_scenario(sc: &Scenario) -> RunData {
        let mut sim = Simulation::new(sc, Recorder::in_memory());
        sim.keep_timeseries();
        sim.run();
        let summary = serde_json::to_value(sim.summary()).expect("summary serializes");
        // through the CSV text, so the report is the one its run folder gives
        let rows = timeseries::parse_csv(&timeseries::to_csv(&timeseries::run_rows(&sim)))
            .expect("metrics.csv text parses");
        let events: Vec<LogEvent> = sim.recorder().records().iter().map(LogEvent::of).collect();
        RunData::build(summary, rows, Some(&events))
    }

    /// The values of `metric` per object, in time order.
    pub fn series(&self, metric: &str) -> BTreeMap<String, Vec<(u64, f64)>> {
        let mut out: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
        for r in self.metrics.iter().filter(|r| r.metric == metric) {
            out.entry(r.object.clone())
                .or_default()
                .push((r.time_ms, r.value));
        }
        out
    }

    /// The run's end in ms of virtual time.
    pub fn end_ms(&self) -> u64 {
        let v = self
            .summary
            .pointer("/sim/virtual_time_ms")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let last = self.metrics.iter().map(|r| r.time_ms).max().unwrap_or(0);
        v.max(last).max(1)
    }

    /// Faults and timeline actions, grouped by time.
    pub fn markers(&self) -> Vec<Marker> {
        let mut by_time: BTreeMap<u64, (Vec<String>, bool)> = BTreeMap::new();
        for e in &self.actions {
            let e2 = by_time.entry(e.time_ms).or_default();
            let object = e.object.rsplit('/').next().unwrap_or(&e.object);
            let label = format!("{} {}", e.reason, object);
            if !e2.0.contains(&label) {
                e2.0.push(label);
            }
            e2.1 |= e.event_type == "Warning" || e.component == "fault-injector";
        }
        by_time
            .into_iter()
            .map(|(t, (labels, warning))| {
                let label = if labels.len() > 2 {
                    format!("{}, {} +{} more", labels[0], labels[1], labels.len() - 2)
                } else {
                    labels.join(", ")
                };
                Marker {
                    time_ms: t,
                    label,
                    warning,
                }
            })
            .collect()
    }
}

/// A `ScalingReplicaSet` message: (ReplicaSet name, from, to).
pub fn parse_scaling(message: &str) -> Option<(String, i64, i64)> {
    let rest = message
        .strip_prefix("Scaled up replica set ")
        .or_else(|| message.strip_prefix("Scaled down replica set "))?;
    let mut w = rest.split_whitespace();
    let name = w.next()?.to_string();
    if w.next()? != "from" {
        return None;
    }
    let from = w.next()?.parse().ok()?;
    if w.next()? != "to" {
        return None;
    }
    let to = w
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some((name, from, to))
}

/// `traffic.csv` (minute,service,requests,failed,timed_out,rejected,latency_mean_ms)
/// as `metrics.csv` rows, for run folders written before `metrics.csv` had them.
fn traffic_rows(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 7 {
            continue;
        }
        let bad = || format!("traffic.csv line {}: bad number", i + 1);
        let minute: u64 = f[0].parse().map_err(|_| bad())?;
        let requests: u64 = f[2].parse().map_err(|_| bad())?;
        let failed: u64 = f[3].parse().map_err(|_| bad())?;
        let timed_out: u64 = f[4].parse().map_err(|_| bad())?;
        let t = (minute + 1) * 60_000;
        let row = |metric: &str, value: f64| Row {
            time_ms: t,
            metric: metric.into(),
            object: f[1].to_string(),
            value,
        };
        rows.push(row("service_requests_per_s", requests as f64 / 60.0));
        if requests > 0 {
            let ok = requests.saturating_sub(failed + timed_out);
            rows.push(row("service_success_ratio", ok as f64 / requests as f64));
        }
        if let Ok(m) = f[6].parse::<f64>() {
            rows.push(row("service_latency_mean_ms", m));
        }
    }
    Ok(rows)
}
