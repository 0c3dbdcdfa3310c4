//! Time series of the cluster for `metrics.csv` and `kubesim report`: pods by
//! phase, the pending queue, every node's allocation, every Deployment's and
//! ReplicaSet's replicas, taken at each metrics sample. Like the rest of the
//! sampler it only reads the store, so it never changes what happens.
//!
//! `metrics.csv` is in long ("tidy") form, one value per row:
//! `time_ms,metric,object,value`, sorted by time, metric and object.

use crate::api::{ApiServer, Deployment, Node, Pod, ReplicaSet};
use crate::sim::time::SimTime;
use std::collections::BTreeMap;

/// One row of `metrics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub time_ms: u64,
    pub metric: String,
    pub object: String,
    pub value: f64,
}

/// The metrics, with what their object column names and their unit.
pub const METRICS: &[(&str, &str, &str)] = &[
    (
        "pods_by_phase",
        "phase (Pending, Running, Succeeded, Failed, Unknown)",
        "pods",
    ),
    (
        "pending_queue",
        "empty: pods not bound to a node and not being deleted",
        "pods",
    ),
    (
        "node_cpu_allocated",
        "node: CPU requested by its unfinished pods / allocatable",
        "share 0–1",
    ),
    (
        "node_memory_allocated",
        "node: memory requested by its unfinished pods / allocatable",
        "share 0–1",
    ),
    ("node_pods", "node: unfinished pods bound to it", "pods"),
    (
        "node_ready",
        "node: 1 when its Ready condition is True, else 0",
        "0/1",
    ),
    (
        "deployment_desired",
        "namespace/name: spec.replicas",
        "replicas",
    ),
    (
        "deployment_updated",
        "namespace/name: status.updatedReplicas",
        "replicas",
    ),
    (
        "deployment_available",
        "namespace/name: status.availableReplicas",
        "replicas",
    ),
    (
        "replicaset_replicas",
        "namespace/name: status.replicas",
        "replicas",
    ),
    (
        "replicaset_available",
        "namespace/name: status.availableReplicas",
        "replicas",
    ),
    (
        "hpa_current_replicas",
        "namespace/name of a HorizontalPodAutoscaler: status.currentReplicas",
        "replicas",
    ),
    (
        "hpa_desired_replicas",
        "namespace/name of a HorizontalPodAutoscaler: status.desiredReplicas",
        "replicas",
    ),
    (
        "node_group_nodes",
        "Cluster Autoscaler node group: its registered nodes",
        "nodes",
    ),
    (
        "service_requests_per_s",
        "Service (or ingress/NAME): requests sent in the minute ending at time_ms / 60",
        "requests/s",
    ),
    (
        "service_success_ratio",
        "Service: succeeded / sent in the minute ending at time_ms (no row without requests)",
        "share 0–1",
    ),
    (
        "service_latency_mean_ms",
        "Service: mean latency of the minute's succeeded requests",
        "ms",
    ),
    (
        "scheduling_latency_pods",
        "a latency in ms: pods bound that long after entering the scheduling queue (whole run; time_ms is the run's end)",
        "pods",
    ),
];

/// The cluster's samples so far.
#[derive(Debug, Clone, Default)]
pub struct Timeseries {
    rows: Vec<Row>,
    last_ms: Option<u64>,
}

impl Timeseries {
    pub fn new() -> Self {
        Self::default()
    }

    /// Time of the last sample taken.
    pub fn last_time_ms(&self) -> Option<u64> {
        self.last_ms
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    fn push(&mut self, t: u64, metric: &str, object: &str, value: f64) {
        self.rows.push(Row {
            time_ms: t,
            metric: metric.to_string(),
            object: object.to_string(),
            value,
        });
    }

    /// Take a sample of the cluster at `now` (reads only).
    pub fn sample(&mut self, api: &ApiServer, now: SimTime) {
        let t = now.as_millis();
        if self.last_ms == Some(t) {
            return;
        }
        self.last_ms = Some(t);
        let mut phases: BTreeMap<&'static str, u64> = [
            ("Pending", 0),
            ("Running", 0),
            ("Succeeded", 0),
            ("Failed", 0),
            ("Unknown", 0),
        ]
        .into_iter()
        .collect();
        let mut pending = 0u64;
        // node → (cpu, mem, pods) requested
        let mut used: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
        for p in api.list::<Pod>() {
            *phases.entry(p.status.phase.as_str()).or_default() += 1;
            if p.status.phase.is_terminal() {
                continue;
            }
            match p.node_name.as_deref() {
                Some(n) => {
                    let r = p.spec.requests();
                    let e = used.entry(n).or_default();
                    e.0 += r.cpu_millis;
                    e.1 += r.memory;
                    e.2 += 1;
                }
                None if !p.is_terminating() => pending += 1,
                None => {}
            }
        }
        for (phase, n) in phases {
            self.push(t, "pods_by_phase", phase, n as f64);
        }
        self.push(t, "pending_queue", "", pending as f64);
        let share = |a: i64, b: i64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        for n in api.list::<Node>() {
            let a = &n.status.allocatable;
            let name = n.meta.name.as_str();
            let (c, m, k) = used.get(name).copied().unwrap_or_default();
            self.push(t, "node_cpu_allocated", name, share(c, a.cpu_millis));
            self.push(t, "node_memory_allocated", name, share(m, a.memory));
            self.push(t, "node_pods", name, k as f64);
            let ready = n.status.ready == crate::api::node::ConditionStatus::True;
            self.push(t, "node_ready", name, if ready { 1.0 } else { 0.0 });
        }
        for d in api.list::<Deployment>() {
            let name = format!("{}/{}", d.meta.namespace, d.meta.name);
            self.push(t, "deployment_desired", &name, d.replicas as f64);
            self.push(
                t,
                "deployment_updated",
                &name,
                d.status.updated_replicas as f64,
            );
            self.push(
                t,
                "deployment_available",
                &name,
                d.status.available_replicas as f64,
            );
        }
        for h in api.list::<crate::api::HorizontalPodAutoscaler>() {
            let name = format!("{}/{}", h.meta.namespace, h.meta.name);
            let st = &h.status;
            self.push(t, "hpa_current_replicas", &name, st.current_replicas as f64);
            self.push(t, "hpa_desired_replicas", &name, st.desired_replicas as f64);
        }
        let mut groups: BTreeMap<&str, u64> = BTreeMap::new();
        for n in api.list::<Node>() {
            if let Some(g) = n.meta.labels.get(crate::autoscaler::cluster::GROUP_LABEL) {
                *groups.entry(g.as_str()).or_default() += 1;
            }
        }
        for (g, k) in groups {
            self.push(t, "node_group_nodes", g, k as f64);
        }
        for rs in api.list::<ReplicaSet>() {
            let name = format!("{}/{}", rs.meta.namespace, rs.meta.name);
            self.push(t, "replicaset_replicas", &name, rs.status.replicas as f64);
            self.push(
                t,
                "replicaset_available",
                &name,
                rs.status.available_replicas as f64,
            );
        }
    }
}

/// The rows of a finished run: the samples, a last sample at the end of the
/// run, the Services' per-minute traffic and the scheduling latencies.
pub fn run_rows(sim: &crate::Simulation) -> Vec<Row> {
    let mut ts = sim.sampler().series.clone().unwrap_or_default();
    ts.sample(sim.api(), sim.now());
    let mut rows = ts.rows;
    let end = sim.now().as_millis();
    for ((minute, dest), r) in &sim.dataplane().series {
        let t = (minute + 1) * 60_000;
        let name = dest.to_string();
        let push = |rows: &mut Vec<Row>, metric: &str, value: f64| {
            rows.push(Row {
                time_ms: t,
                metric: metric.to_string(),
                object: name.clone(),
                value,
            })
        };
        push(
            &mut rows,
            "service_requests_per_s",
            r.requests as f64 / 60.0,
        );
        let ok = r.requests.saturating_sub(r.failed + r.timed_out);
        if r.requests > 0 {
            push(
                &mut rows,
                "service_success_ratio",
                ok as f64 / r.requests as f64,
            );
        }
        if ok > 0 {
            push(
                &mut rows,
                "service_latency_mean_ms",
                r.latency_sum_ms / ok as f64,
            );
        }
    }
    let mut hist: BTreeMap<u64, u64> = BTreeMap::new();
    for l in &sim.scheduler().stats.latencies_ms {
        *hist.entry(*l).or_default() += 1;
    }
    for (l, n) in hist {
        rows.push(Row {
            time_ms: end,
            metric: "scheduling_latency_pods".into(),
            object: l.to_string(),
            value: n as f64,
        });
    }
    sort_rows(&mut rows);
    rows
}

fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        (a.time_ms, &a.metric, &a.object)
            .cmp(&(b.time_ms, &b.metric, &b.object))
            .then(a.value.total_cmp(&b.value))
    });
}

/// A value as `metrics.csv` writes it: integers bare, others with up to six decimals.
pub fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// Quote a CSV field when it needs it.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `metrics.csv` text.
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = String::from("time_ms,metric,object,value\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{}\n",
            r.time_ms,
            field(&r.metric),
            field(&r.object),
            format_value(r.value)
        ));
    }
    out
}

/// Parse `metrics.csv` text (as [`to_csv`] writes it).
pub fn parse_csv(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 || line.is_empty() {
            continue;
        }
        let f = split_csv(line);
        if f.len() != 4 {
            return Err(format!("metrics.csv line {}: expected 4 fields", i + 1));
        }
        let bad = |what: &str| format!("metrics.csv line {}: bad {what}", i + 1);
        rows.push(Row {
            time_ms: f[0].parse().map_err(|_| bad("time_ms"))?,
            metric: f[1].clone(),
            object: f[2].clone(),
            value: f[3].parse().map_err(|_| bad("value"))?,
        });
    }
    Ok(rows)
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trips_and_values_are_short() {
        let rows = vec![
            Row {
                time_ms: 60000,
                metric: "pods_by_phase".into(),
                object: "Running".into(),
                value: 3.0,
            },
            Row {
                time_ms: 60000,
                metric: "node_cpu_allocated".into(),
                object: "a,\"b\"".into(),
                value: 0.125,
            },
        ];
        let text = to_csv(&rows);
        assert!(text.contains("60000,pods_by_phase,Running,3\n"));
        assert!(text.contains("0.125\n"));
        assert_eq!(parse_csv(&text).unwrap(), rows);
        assert_eq!(format_value(1.0 / 3.0), "0.333333");
    }
}
