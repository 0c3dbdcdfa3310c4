//! Time series of the cluster for `metrics.csv` and `kubesim report`: pods by
//! phase, the pending queue, every node's allocation, every Deployment's and
//! ReplicaSet's replicas, taken at each metrics sample. Like the rest of the
//! sampler it only reads the store, so it never changes what happens.
//!
//! `metrics.csv` is in long ("tidy") form, one value per row:
//! `time_ms,metric,object,value`, sorted by time, metric and object.
//!
//! A long run on a big cluster samples millions of rows (1,000 nodes × 4
//! metrics × one sample a minute), so `run --out` streams each finished
//! sample to a [`CsvSink`] instead of keeping it ([`Timeseries::stream_to`]),
//! and [`write_merged`] adds the rows known only at the end (Services'
//! per-minute traffic, scheduling latencies) in order. Memory then stays flat
//! however long the run.

use super::sampler::{Usage, PHASES};
use crate::api::{ApiServer, Deployment, Node, ReplicaSet};
use crate::sim::time::SimTime;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};

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

/// Where [`Timeseries::stream_to`] writes finished samples: CSV rows without
/// the header, each sample sorted. Shared so that a cloned series (the
/// summary's end-of-run copy) can tell it apart and leave it alone.
#[derive(Clone)]
pub struct CsvSink {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    /// The first write error, reported by [`CsvSink::finish`].
    error: Arc<Mutex<Option<io::Error>>>,
}

impl std::fmt::Debug for CsvSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsvSink")
    }
}

impl CsvSink {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        CsvSink {
            out: Arc::new(Mutex::new(out)),
            error: Arc::new(Mutex::new(None)),
        }
    }

    #[cfg(test)]
    fn write_rows(&self, rows: &[Row]) {
        let mut text = String::new();
        for r in rows {
            push_csv_row(&mut text, r);
        }
        self.write_text(&text);
    }

    fn write_text(&self, text: &str) {
        let mut err = self.error.lock().unwrap_or_else(|e| e.into_inner());
        if err.is_some() {
            return;
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = out.write_all(text.as_bytes()) {
            *err = Some(e);
        }
    }

    /// Flush, and report the first write error if there was one.
    pub fn finish(&self) -> io::Result<()> {
        if let Some(e) = self.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(e);
        }
        self.out.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

/// The rows of the sample being taken, without an allocation per row: the
/// object names live in one buffer. A sample of 1,000 nodes has 4,000 rows.
#[derive(Debug, Clone, Default)]
struct SampleRows {
    rows: Vec<(&'static str, std::ops::Range<usize>, f64)>,
    objects: String,
    /// The CSV text of a streamed sample.
    text: String,
}

impl SampleRows {
    fn push(&mut self, metric: &'static str, object: &str, value: f64) {
        let start = self.objects.len();
        self.objects.push_str(object);
        self.rows.push((metric, start..self.objects.len(), value));
    }

    /// Whether the rows are in `metrics.csv` order already (as pushed).
    fn is_sorted(&self) -> bool {
        let objects = &self.objects;
        self.rows.is_sorted_by(|a, b| {
            (a.0, &objects[a.1.clone()])
                .cmp(&(b.0, &objects[b.1.clone()]))
                .then(a.2.total_cmp(&b.2))
                .is_le()
        })
    }

    /// Sort by metric, object and value, as `metrics.csv` is.
    fn sort(&mut self) {
        let objects = &self.objects;
        self.rows.sort_by(|a, b| {
            (a.0, &objects[a.1.clone()])
                .cmp(&(b.0, &objects[b.1.clone()]))
                .then(a.2.total_cmp(&b.2))
        });
    }

    fn clear(&mut self) {
        self.rows.clear();
        self.objects.clear();
        self.text.clear();
    }
}

/// The cluster's samples so far.
#[derive(Debug, Clone, Default)]
pub struct Timeseries {
    rows: Vec<Row>,
    last_ms: Option<u64>,
    /// Finished samples go here instead of into `rows` (see the module docs).
    sink: Option<CsvSink>,
    /// The sample being taken.
    buf: SampleRows,
    /// Scratch: each node's figures in the sample being taken.
    nodes: Vec<NodeRow>,
    /// Which usage row is each node's, kept from one sample to the next.
    node_rows: super::sampler::NodeRows,
    /// Scratch: the nodes' names in the sample being taken, one after another.
    node_names: String,
    /// Only cluster-wide series (`--metrics cluster`): no rows per node,
    /// Deployment, ReplicaSet or HPA.
    pub cluster_only: bool,
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

    /// From now on write each finished sample to `sink` and keep nothing.
    pub fn stream_to(&mut self, sink: CsvSink) {
        self.sink = Some(sink);
    }

    /// The sample at `t` is complete: stream it, or keep it as rows.
    fn finish_sample(&mut self, t: u64) {
        let b = &mut self.buf;
        match &self.sink {
            Some(sink) => {
                if !b.is_sorted() {
                    b.sort();
                }
                let time = format!("{t},");
                for (metric, object, value) in &b.rows {
                    b.text.push_str(&time);
                    push_csv_rest(&mut b.text, metric, &b.objects[object.clone()], *value);
                }
                sink.write_text(&b.text);
            }
            None => {
                self.rows
                    .extend(b.rows.iter().map(|(metric, object, value)| Row {
                        time_ms: t,
                        metric: metric.to_string(),
                        object: b.objects[object.clone()].to_string(),
                        value: *value,
                    }));
            }
        }
        b.clear();
    }

    /// Take a sample of the cluster at `now` (reads only).
    pub fn sample(&mut self, api: &ApiServer, now: SimTime) {
        self.sample_usage(api, now, super::sampler::usage_of(api));
    }

    /// [`Timeseries::sample`] with the pod totals already read.
    ///
    /// Rows are pushed in `metrics.csv` order (metric, then object), so that a
    /// finished sample needs no sort in the usual case.
    pub fn sample_usage(&mut self, api: &ApiServer, now: SimTime, usage: &Usage) {
        let t = now.as_millis();
        if self.last_ms == Some(t) {
            return;
        }
        self.last_ms = Some(t);
        let detail = !self.cluster_only;
        let mut name = String::new();
        if detail {
            type Of = fn(&Deployment) -> f64;
            let metrics: [(&'static str, Of); 3] = [
                ("deployment_available", |d| {
                    d.status.available_replicas as f64
                }),
                ("deployment_desired", |d| d.replicas as f64),
                ("deployment_updated", |d| d.status.updated_replicas as f64),
            ];
            for (metric, of) in metrics {
                for d in api.list::<Deployment>() {
                    self.buf
                        .push(metric, object_name(&mut name, &d.meta), of(d));
                }
            }
            type OfHpa = fn(&crate::api::HorizontalPodAutoscaler) -> f64;
            let metrics: [(&'static str, OfHpa); 2] = [
                ("hpa_current_replicas", |h| h.status.current_replicas as f64),
                ("hpa_desired_replicas", |h| h.status.desired_replicas as f64),
            ];
            for (metric, of) in metrics {
                for h in api.list::<crate::api::HorizontalPodAutoscaler>() {
                    self.buf
                        .push(metric, object_name(&mut name, &h.meta), of(h));
                }
            }
        }
        let share = |a: i64, b: i64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        // each node with what its pods request, and the node groups' sizes,
        // in one walk of the nodes (each node is a cache miss by now)
        self.nodes.clear();
        self.node_names.clear();
        let mut groups: BTreeMap<&str, u64> = BTreeMap::new();
        fn count_group<'a>(groups: &mut BTreeMap<&'a str, u64>, n: &'a Node) {
            if let Some(g) = n.meta.labels.get(crate::autoscaler::cluster::GROUP_LABEL) {
                *groups.entry(g.as_str()).or_default() += 1;
            }
        }
        if detail {
            for (n, (c, m, k)) in self.node_rows.nodes_with_usage(api, usage) {
                let a = &n.status.allocatable;
                let ready = n.status.ready == crate::api::node::ConditionStatus::True;
                let start = self.node_names.len();
                self.node_names.push_str(&n.meta.name);
                self.nodes.push(NodeRow {
                    name: start..self.node_names.len(),
                    cpu: share(c, a.cpu_millis),
                    memory: share(m, a.memory),
                    pods: k as f64,
                    ready: if ready { 1.0 } else { 0.0 },
                });
                count_group(&mut groups, n);
            }
        } else {
            api.list::<Node>().for_each(|n| count_group(&mut groups, n));
        }
        let names = self.node_names.as_str();
        let node_metric =
            |buf: &mut SampleRows, rows: &[NodeRow], metric, of: fn(&NodeRow) -> f64| {
                for r in rows {
                    buf.push(metric, &names[r.name.clone()], of(r));
                }
            };
        node_metric(&mut self.buf, &self.nodes, "node_cpu_allocated", |r| r.cpu);
        for (g, k) in groups {
            self.buf.push("node_group_nodes", g, k as f64);
        }
        node_metric(&mut self.buf, &self.nodes, "node_memory_allocated", |r| {
            r.memory
        });
        node_metric(&mut self.buf, &self.nodes, "node_pods", |r| r.pods);
        node_metric(&mut self.buf, &self.nodes, "node_ready", |r| r.ready);
        self.buf
            .push("pending_queue", "", usage.pending_count as f64);
        // by phase name: Failed, Pending, Running, Succeeded, Unknown
        for i in PHASES_BY_NAME {
            self.buf
                .push("pods_by_phase", PHASES[i].as_str(), usage.phases[i] as f64);
        }
        if detail {
            type Of = fn(&ReplicaSet) -> f64;
            let metrics: [(&'static str, Of); 2] = [
                ("replicaset_available", |r| {
                    r.status.available_replicas as f64
                }),
                ("replicaset_replicas", |r| r.status.replicas as f64),
            ];
            for (metric, of) in metrics {
                for rs in api.list::<ReplicaSet>() {
                    self.buf
                        .push(metric, object_name(&mut name, &rs.meta), of(rs));
                }
            }
        }
        self.finish_sample(t);
    }
}

/// `namespace/name` of an object, written into `buf` (reused row after row).
fn object_name<'a>(buf: &'a mut String, m: &crate::api::ObjectMeta) -> &'a str {
    buf.clear();
    buf.push_str(&m.namespace);
    buf.push('/');
    buf.push_str(&m.name);
    buf
}

/// [`PHASES`] indices in the order of the phases' names.
const PHASES_BY_NAME: [usize; 5] = [3, 0, 1, 2, 4];

/// One node's figures in a sample.
#[derive(Debug, Clone)]
struct NodeRow {
    /// In [`Timeseries::node_names`].
    name: std::ops::Range<usize>,
    cpu: f64,
    memory: f64,
    pods: f64,
    ready: f64,
}

/// The rows of a finished run: the samples, a last sample at the end of the
/// run, the Services' per-minute traffic and the scheduling latencies.
pub fn run_rows(sim: &crate::Simulation) -> Vec<Row> {
    let mut ts = sim.sampler().series.clone().unwrap_or_default();
    // the end-of-run sample joins the rows returned here, not the stream
    ts.sink = None;
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
    for (&l, &n) in &sim.scheduler().stats.latencies_ms {
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
    let mut s = String::new();
    push_value(&mut s, v);
    s
}

fn push_value(out: &mut String, v: f64) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        out.push_str(itoa::Buffer::new().format(v as i64));
    } else if let Some(micros) = micros_unambiguous(v) {
        push_micros(out, micros);
    } else {
        push_value_exact(out, v);
    }
}

/// `v` rounded to six decimals the way `{:.6}` does, as a count of
/// millionths, when a product in `f64` settles it: for 0 < v < 1000 the
/// product is within 1.2e-7 of the exact one, so unless it lies within 1e-6
/// of a half the exact value rounds the same way. Exact formatting (which
/// falls back to bignum arithmetic) was most of the cost of a metrics row.
fn micros_unambiguous(v: f64) -> Option<u64> {
    if !(v > 0.0 && v < 1000.0) {
        return None;
    }
    let x = v * 1e6;
    let floor = x.floor();
    let frac = x - floor;
    if (frac - 0.5).abs() < 1e-6 {
        return None;
    }
    Some(floor as u64 + u64::from(frac > 0.5))
}

/// A count of millionths as a decimal with the trailing zeros (and a bare
/// point) trimmed, as [`push_value_exact`] writes it.
fn push_micros(out: &mut String, micros: u64) {
    let (whole, mut frac) = (micros / 1_000_000, micros % 1_000_000);
    out.push_str(itoa::Buffer::new().format(whole));
    if frac == 0 {
        return;
    }
    let mut digits = 6;
    while frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    out.push('.');
    let mut buf = itoa::Buffer::new();
    let frac = buf.format(frac);
    out.extend(std::iter::repeat_n('0', digits - frac.len()));
    out.push_str(frac);
}

/// `{:.6}` with the trailing zeros (and a bare point) trimmed.
fn push_value_exact(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    let start = out.len();
    let _ = write!(out, "{v:.6}");
    let kept = out[start..]
        .trim_end_matches('0')
        .trim_end_matches('.')
        .len();
    out.truncate(start + kept);
}

/// A CSV field, quoted when it needs it.
fn push_field(out: &mut String, s: &str) {
    // (a byte scan: the three are ASCII, and this runs twice per row)
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n')) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// The header line of `metrics.csv`.
pub const CSV_HEADER: &str = "time_ms,metric,object,value\n";

fn push_csv_row(out: &mut String, r: &Row) {
    push_csv_fields(out, r.time_ms, &r.metric, &r.object, r.value);
}

fn push_csv_fields(out: &mut String, time_ms: u64, metric: &str, object: &str, value: f64) {
    use std::fmt::Write as _;
    let _ = write!(out, "{time_ms},");
    push_csv_rest(out, metric, object, value);
}

/// A row after its `time_ms,` (which a sample's rows share).
fn push_csv_rest(out: &mut String, metric: &str, object: &str, value: f64) {
    push_field(out, metric);
    out.push(',');
    push_field(out, object);
    out.push(',');
    push_value(out, value);
    out.push('\n');
}

/// `metrics.csv` text.
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = String::from(CSV_HEADER);
    for r in rows {
        push_csv_row(&mut out, r);
    }
    out
}

/// Write `metrics.csv`: the header, then the rows a [`CsvSink`] streamed
/// (`streamed`, sorted) merged in order with `rest` (sorted, from
/// [`run_rows`]). The output is exactly `to_csv` of all the rows sorted.
pub fn write_merged(
    mut streamed: impl BufRead,
    rest: &[Row],
    out: &mut impl Write,
) -> io::Result<()> {
    out.write_all(CSV_HEADER.as_bytes())?;
    let mut rest = rest.iter().peekable();
    let mut line_buf = String::new();
    // one buffer for every line (a run streams hundreds of thousands)
    let mut raw = Vec::new();
    // streamed rows read so far (for errors)
    let mut row = 0usize;
    loop {
        // whole buffers of lines that all come before the next end-of-run
        // row go through as they are (most of a long run's file)
        loop {
            let buf = streamed.fill_buf()?;
            let Some(end) = lines_before(buf, rest.peek().map(|r| r.time_ms)) else {
                break;
            };
            out.write_all(&buf[..end])?;
            row += buf[..end].iter().filter(|&&b| b == b'\n').count();
            streamed.consume(end);
        }
        raw.clear();
        if streamed.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        row += 1;
        // as `BufRead::lines`: without the "\n" or "\r\n", and UTF-8 or an error
        if raw.last() == Some(&b'\n') {
            raw.pop();
            if raw.last() == Some(&b'\r') {
                raw.pop();
            }
        }
        let line =
            std::str::from_utf8(&raw).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        // most lines come before the next end-of-run row by time alone
        let before_rest = match rest.peek() {
            None => true,
            Some(r) => line
                .split_once(',')
                .and_then(|(t, _)| t.parse::<u64>().ok())
                .is_some_and(|t| t < r.time_ms),
        };
        if before_rest {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            continue;
        }
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("streamed metrics row {row}: {line:?}"),
            )
        };
        // (a line without quotes splits at its commas, without copying: the
        // end-of-run rows have one time per minute, so most lines come here)
        let unquoted;
        let f: [&str; 4] = if line.contains('"') {
            unquoted = split_csv(line);
            match unquoted.as_slice() {
                [a, b, c, d] => [a, b, c, d],
                _ => return Err(bad()),
            }
        } else {
            split4(line).ok_or_else(bad)?
        };
        let time_ms: u64 = f[0].parse().map_err(|_| bad())?;
        let value: f64 = f[3].parse().map_err(|_| bad())?;
        while let Some(r) = rest.next_if(|r| {
            (r.time_ms, r.metric.as_str(), r.object.as_str())
                .cmp(&(time_ms, f[1], f[2]))
                .then(r.value.total_cmp(&value))
                .is_lt()
        }) {
            line_buf.clear();
            push_csv_row(&mut line_buf, r);
            out.write_all(line_buf.as_bytes())?;
        }
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    for r in rest {
        line_buf.clear();
        push_csv_row(&mut line_buf, r);
        out.write_all(line_buf.as_bytes())?;
    }
    Ok(())
}

/// How many bytes at the start of `buf` are whole streamed lines that
/// [`write_merged`] would copy unchanged: lines ending in a plain "\n", in
/// UTF-8, the last of them (the latest, as the file is in time order) before
/// `next_rest` ms. `None` when there are none such.
fn lines_before(buf: &[u8], next_rest: Option<u64>) -> Option<usize> {
    let last_nl = buf.iter().rposition(|&b| b == b'\n')?;
    let chunk = &buf[..=last_nl];
    let line_start = chunk[..last_nl]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let last_line = &chunk[line_start..last_nl];
    let comma = last_line.iter().position(|&b| b == b',')?;
    let time: u64 = std::str::from_utf8(&last_line[..comma])
        .ok()?
        .parse()
        .ok()?;
    let before = next_rest.is_none_or(|t| time < t);
    (before && !chunk.contains(&b'\r') && std::str::from_utf8(chunk).is_ok()).then_some(chunk.len())
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

/// The four fields of a CSV line without quotes; `None` if it has more or fewer.
fn split4(line: &str) -> Option<[&str; 4]> {
    let mut out = [""; 4];
    let (mut n, mut start) = (0, 0);
    for (i, b) in line.bytes().enumerate() {
        if b == b',' {
            *out.get_mut(n)? = &line[start..i];
            n += 1;
            start = i + 1;
        }
    }
    if n != 3 {
        return None;
    }
    out[3] = &line[start..];
    Some(out)
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

    /// The shortcut through millionths writes what exact formatting writes:
    /// for any value, for ratios of counts (what most metrics are), and next
    /// to the halves where the shortcut must step aside.
    #[test]
    fn values_written_as_exact_formatting_writes_them() {
        let check = |v: f64| {
            let (mut fast, mut exact) = (String::new(), String::new());
            push_value(&mut fast, v);
            if v.fract() == 0.0 && v.abs() < 1e15 {
                return;
            }
            push_value_exact(&mut exact, v);
            assert_eq!(fast, exact, "{v:e}");
        };
        for k in [
            0u64,
            1,
            5,
            123_456,
            999_999,
            1_000_000,
            7_654_321,
            999_999_999,
        ] {
            let half = (k as f64 + 0.5) / 1e6;
            for v in [half, half.next_up(), half.next_down(), k as f64 / 1e6] {
                check(v);
            }
        }
        for v in [
            1e-7,
            4.9e-7,
            5e-7,
            5.1e-7,
            0.9999995,
            999.9999995,
            999.9999996,
        ] {
            check(v);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_value_is_written_as_exact_formatting_writes_it(
            v in -2000.0f64..2000.0,
            a in 0u64..200_000,
            b in 1u64..200_000,
        ) {
            for v in [v, a as f64 / b as f64, v.trunc(), -(a as f64)] {
                let (mut fast, mut exact) = (String::new(), String::new());
                push_value(&mut fast, v);
                if v.fract() == 0.0 && v.abs() < 1e15 {
                    proptest::prop_assert_eq!(fast, format!("{}", v as i64));
                    continue;
                }
                push_value_exact(&mut exact, v);
                proptest::prop_assert_eq!(fast, exact);
            }
        }
    }

    fn row(t: u64, metric: &str, object: &str, value: f64) -> Row {
        Row {
            time_ms: t,
            metric: metric.into(),
            object: object.into(),
            value,
        }
    }

    #[test]
    fn split4_takes_exactly_four_fields() {
        assert_eq!(split4("1,m,o,2.5"), Some(["1", "m", "o", "2.5"]));
        assert_eq!(split4("1,m,,"), Some(["1", "m", "", ""]));
        assert_eq!(split4("1,m,o"), None);
        assert_eq!(split4("1,m,o,2,5"), None);
        // a streamed line with too many fields is reported, not misread
        let rest = vec![row(60_000, "z", "o", 1.0)];
        let err = write_merged("60000,m,o,1,2\n".as_bytes(), &rest, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("streamed metrics row 1"), "{err}");
        // rows copied a whole buffer at a time count too
        let body = "60000,m,o,1\n60000,m,o,2\n120000,m,o,3,4\n";
        let reader = io::BufReader::with_capacity(12, body.as_bytes());
        let rest = vec![row(120_000, "z", "o", 1.0)];
        let err = write_merged(reader, &rest, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("streamed metrics row 3"), "{err}");
    }

    /// Whatever the read buffer's size, so wherever the whole-buffer copies
    /// stop, the merge is the sorted whole.
    #[test]
    fn merging_through_buffers_of_any_size_gives_the_sorted_whole() {
        let mut streamed: Vec<Row> = (1..=12u64)
            .flat_map(|m| {
                let t = m * 60_000;
                [
                    row(t, "node_pods", "n1", m as f64),
                    row(t, "node_pods", "n\"2,", 0.5),
                    row(t, "pods_by_phase", "Running", 2.0),
                ]
            })
            .collect();
        let rest = vec![
            row(180_000, "node_pods", "a", 1.0),
            row(180_000, "zz", "", 1.0),
            row(600_000, "service_requests_per_s", "default/web", 1.5),
            row(720_000, "pods_by_phase", "Running", 9.0),
            row(900_000, "pods_by_phase", "Running", 0.0),
        ];
        sort_rows(&mut streamed);
        let body = to_csv(&streamed)[CSV_HEADER.len()..].to_string();
        let mut all: Vec<Row> = streamed.iter().chain(&rest).cloned().collect();
        sort_rows(&mut all);
        let whole = to_csv(&all);
        for capacity in [1, 5, 31, 64, 100, 4096] {
            let reader = io::BufReader::with_capacity(capacity, body.as_bytes());
            let mut out = Vec::new();
            write_merged(reader, &rest, &mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                whole,
                "buffer of {capacity}"
            );
        }
        // and with nothing to merge in, the body goes through whole
        let mut out = Vec::new();
        write_merged(body.as_bytes(), &[], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), to_csv(&streamed));
    }

    #[test]
    fn whole_buffers_stop_before_the_next_rest_row() {
        let buf = b"60000,a,x,1\n120000,a,x,2\n180000,a,x";
        assert_eq!(lines_before(buf, None), Some(25));
        assert_eq!(lines_before(buf, Some(120_001)), Some(25));
        assert_eq!(
            lines_before(buf, Some(120_000)),
            None,
            "the last whole line is not before"
        );
        assert_eq!(lines_before(b"60000,a,x,1", None), None, "no whole line");
        assert_eq!(
            lines_before(b"60000,a,x,1\r\n", None),
            None,
            "\\r\\n lines take the careful path"
        );
    }

    #[test]
    fn streamed_rows_merged_with_the_rest_equal_the_whole_csv() {
        let streamed = vec![
            row(60_000, "node_pods", "n1", 2.0),
            row(60_000, "pods_by_phase", "Running", 2.0),
            row(120_000, "node_pods", "n\"1,", 0.5),
            row(120_000, "pods_by_phase", "Running", 1.0),
        ];
        let rest = vec![
            row(60_000, "service_requests_per_s", "default/web", 1.5),
            row(120_000, "node_pods", "a", 1.0),
            row(120_000, "scheduling_latency_pods", "3", 2.0),
            row(180_000, "pods_by_phase", "Running", 0.0),
        ];
        let body = to_csv(&streamed)[CSV_HEADER.len()..].to_string();
        let mut out = Vec::new();
        write_merged(body.as_bytes(), &rest, &mut out).unwrap();
        let mut all: Vec<Row> = streamed.iter().chain(&rest).cloned().collect();
        sort_rows(&mut all);
        assert_eq!(String::from_utf8(out).unwrap(), to_csv(&all));
        // and a sink writes exactly the streamed body
        let buf = Arc::new(Mutex::new(Vec::new()));
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let sink = CsvSink::new(Box::new(Shared(buf.clone())));
        sink.write_rows(&streamed);
        sink.finish().unwrap();
        assert_eq!(
            String::from_utf8(buf.lock().unwrap().clone()).unwrap(),
            body
        );
    }
}
