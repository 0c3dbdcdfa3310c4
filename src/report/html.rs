//! A run report: `report.md` (tables, and the charts as SVG files beside it)
//! and `report.html` (one self-contained file: the same tables and the charts
//! inline as SVG, no script, no external style sheet, nothing fetched).
//!
//! The output depends only on the run's files: no timestamps, no wall-clock
//! figures (`summary.json`'s `wall_ms` is left out), maps in sorted order.

use super::charts::{self, HeatRow, Line, LineChart};
use super::run::{Marker, RunData};
use crate::output::write_atomic;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A chart of the report.
pub struct Chart {
    /// File name of its SVG beside report.md.
    pub file: String,
    pub title: String,
    pub caption: String,
    pub svg: String,
}

/// A table: a heading, column names, rows of cells.
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The most heat-map rows drawn; more nodes are bucketed.
const MAX_HEAT_ROWS: usize = 32;
/// The most Deployments with a rollout chart.
const MAX_ROLLOUT_CHARTS: usize = 6;

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// At most this many markers are labelled with what happened; more are
/// numbered, and the table of timeline actions and faults gives each number.
pub const MAX_NAMED_MARKERS: usize = 12;

/// The markers as the charts label them.
fn chart_markers(d: &RunData) -> Vec<Marker> {
    let mut markers = d.markers();
    if markers.len() > MAX_NAMED_MARKERS {
        for (i, m) in markers.iter_mut().enumerate() {
            m.label = (i + 1).to_string();
        }
    }
    markers
}

/// Every chart that applies to the run.
pub fn charts(d: &RunData) -> Vec<Chart> {
    let end = d.end_ms();
    let markers = chart_markers(d);
    let mut out = Vec::new();

    let phases = d.series("pods_by_phase");
    let order = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];
    let colours = [0usize, 2, 1, 3, 6];
    let lines: Vec<Line> = order
        .iter()
        .zip(colours)
        .filter_map(|(p, c)| {
            let pts = phases.get(*p)?;
            pts.iter().any(|x| x.1 > 0.0).then(|| Line {
                name: p.to_string(),
                points: pts.clone(),
                colour: super::OKABE_ITO[c],
                dashed: false,
            })
        })
        .collect();
    if !lines.is_empty() {
        out.push(Chart {
            file: "pods-by-phase.svg".into(),
            title: "Pods by phase".into(),
            caption: "Pods in each phase at every metrics sample (terminating pods count in their phase).".into(),
            svg: charts::line_chart(&LineChart {
                title: "Pods by phase".into(),
                y_desc: "pods".into(),
                lines,
                end_ms: end,
                start_ms: 0,
                y_range: None,
                markers: &markers,
                steps: false,
                counts: true,
            }),
        });
    }

    if let Some(p) = d.series("pending_queue").remove("") {
        out.push(Chart {
            file: "pending-queue.svg".into(),
            title: "Pending queue".into(),
            caption:
                "Pods not yet bound to a node (and not being deleted) at every metrics sample."
                    .into(),
            svg: charts::line_chart(&LineChart {
                title: "Pending queue length".into(),
                y_desc: "unbound pods".into(),
                lines: vec![Line {
                    name: "pending pods".into(),
                    points: p,
                    // not vermillion: that is the fault markers' colour
                    colour: charts::line_colour(0),
                    dashed: false,
                }],
                end_ms: end,
                start_ms: 0,
                y_range: None,
                markers: &markers,
                steps: false,
                counts: true,
            }),
        });
    }

    // autoscaling: each HPA's replicas and each node group's nodes
    let mut lines: Vec<Line> = Vec::new();
    for (name, pts) in d.series("hpa_current_replicas") {
        lines.push(Line {
            name: format!("HPA {name}: replicas"),
            points: pts,
            colour: charts::line_colour(lines.len()),
            dashed: false,
        });
    }
    for (name, pts) in d.series("node_group_nodes") {
        lines.push(Line {
            name: format!("node group {name}: nodes"),
            points: pts,
            colour: charts::line_colour(lines.len()),
            dashed: true,
        });
    }
    if !lines.is_empty() {
        out.push(Chart {
            file: "autoscaling.svg".into(),
            title: "Autoscaling".into(),
            caption: "Each HorizontalPodAutoscaler's current replicas (solid) and each Cluster Autoscaler node group's registered nodes (dashed), at every metrics sample.".into(),
            svg: charts::line_chart(&LineChart {
                title: "Replicas and nodes".into(),
                y_desc: "replicas / nodes".into(),
                lines,
                end_ms: end,
                start_ms: 0,
                y_range: None,
                markers: &markers,
                steps: true,
                counts: true,
            }),
        });
    }

    let mut hist: Vec<(u64, f64)> = d
        .metrics
        .iter()
        .filter(|r| r.metric == "scheduling_latency_pods")
        .filter_map(|r| Some((r.object.parse().ok()?, r.value)))
        .collect();
    hist.sort_by_key(|h| h.0);
    if !hist.is_empty() {
        out.push(Chart {
            file: "scheduling-latency-cdf.svg".into(),
            title: "Scheduling latency".into(),
            caption: "Cumulative distribution of the time from entering the scheduling queue to being bound, over every bound pod.".into(),
            svg: charts::cdf_chart("Scheduling latency (CDF)", &hist),
        });
    }

    let rows = heat_rows(d);
    if !rows.is_empty() {
        let nodes = d.series("node_cpu_allocated").len();
        let bucketed = nodes > MAX_HEAT_ROWS;
        out.push(Chart {
            file: "node-allocation.svg".into(),
            title: "Node allocation".into(),
            caption: if bucketed {
                format!("CPU requested by unfinished pods / allocatable CPU, per node and sample; the {nodes} nodes are grouped in name order into {} rows (mean of each group; orange when any node of the group is not Ready).", rows.len())
            } else {
                "CPU requested by unfinished pods / allocatable CPU, per node and sample (orange: the node is not Ready).".into()
            },
            svg: charts::heatmap("Node CPU allocation", &rows, end, &markers),
        });
    }

    // rollouts: Deployments that had more than one ReplicaSet
    for (dep, chart) in rollout_lines(d, end).into_iter().take(MAX_ROLLOUT_CHARTS) {
        let (lines, start_ms, end_ms, from_events) = chart;
        out.push(Chart {
            file: format!("rollout-{}.svg", file_safe(&dep)),
            title: format!("Rollout of Deployment {dep}"),
            caption: if from_events {
                "Replicas of each of the Deployment's ReplicaSets as the Deployment controller scaled them (its ScalingReplicaSet events), and their sum; the time axis is zoomed on the rollouts.".into()
            } else {
                "Replicas of each of the Deployment's ReplicaSets (status.replicas) at every metrics sample, with the Deployment's desired replicas.".into()
            },
            svg: charts::line_chart(&LineChart {
                title: format!("Rollout: Deployment {dep}"),
                y_desc: "replicas".into(),
                lines,
                end_ms,
                start_ms,
                y_range: None,
                markers: &markers,
                steps: from_events,
                counts: true,
            }),
        });
    }

    let ok = d.series("service_success_ratio");
    if !ok.is_empty() {
        let lines = ok
            .iter()
            .enumerate()
            .map(|(i, (s, pts))| Line {
                name: s.clone(),
                points: per_minute(pts),
                colour: charts::line_colour(i),
                dashed: false,
            })
            .collect();
        let lo = ok
            .values()
            .flat_map(|p| p.iter().map(|x| x.1))
            .fold(1f64, f64::min);
        let lo = if lo > 0.9 {
            0.9
        } else {
            (lo * 10.0).floor() / 10.0
        };
        out.push(Chart {
            file: "service-success-ratio.svg".into(),
            title: "Request success ratio per Service".into(),
            caption: "Succeeded / sent requests of each Service's clients, per minute of virtual time (a flat segment over each minute).".into(),
            svg: charts::line_chart(&LineChart {
                title: "Request success ratio per Service".into(),
                y_desc: "succeeded / sent (0–1)".into(),
                lines,
                end_ms: end,
                start_ms: 0,
                y_range: Some((lo, 1.0 + (1.0 - lo) * 0.04)),
                markers: &markers,
                steps: false,
                counts: false,
            }),
        });
    }
    let lat = d.series("service_latency_mean_ms");
    if !lat.is_empty() {
        let lines = lat
            .iter()
            .enumerate()
            .map(|(i, (s, pts))| Line {
                name: s.clone(),
                points: per_minute(pts),
                colour: charts::line_colour(i),
                dashed: false,
            })
            .collect();
        out.push(Chart {
            file: "service-latency.svg".into(),
            title: "Request latency per Service".into(),
            caption: "Mean latency of each Service's succeeded requests, per minute of virtual time, a flat segment over each minute (the per-minute series has means, not percentiles; the run's p50/p99 are in the Services table).".into(),
            svg: charts::line_chart(&LineChart {
                title: "Mean request latency per Service".into(),
                y_desc: "mean latency of succeeded requests (ms)".into(),
                lines,
                end_ms: end,
                start_ms: 0,
                y_range: None,
                markers: &markers,
                steps: false,
                counts: false,
            }),
        });
    }
    out
}

type RolloutChart = (Vec<Line>, u64, u64, bool);

/// Per Deployment with more than one ReplicaSet: its lines, the time window
/// and whether they come from the event log (exact) or the samples.
fn rollout_lines(d: &RunData, end: u64) -> Vec<(String, RolloutChart)> {
    let mut out = Vec::new();
    if d.has_events {
        // Deployment → ReplicaSet → (time, replicas), in event order
        let mut deps: BTreeMap<String, BTreeMap<String, Vec<(u64, f64)>>> = BTreeMap::new();
        for e in &d.scaling {
            let Some((rs, from, to)) = super::run::parse_scaling(&e.message) else {
                continue;
            };
            let dep = e.object.trim_start_matches("Deployment/").to_string();
            let pts = deps.entry(dep).or_default().entry(rs).or_default();
            if pts.is_empty() {
                pts.push((e.time_ms, from as f64));
            }
            pts.push((e.time_ms, to as f64));
        }
        for (dep, sets) in deps {
            if sets.len() < 2 {
                continue;
            }
            let times: Vec<u64> = sets.values().flat_map(|p| p.iter().map(|x| x.0)).collect();
            let first = times.iter().copied().min().unwrap_or(0);
            let later: Vec<u64> = times
                .iter()
                .copied()
                .filter(|&t| t > first + 1000)
                .collect();
            let (mut a, mut b) = (0, end);
            if let (Some(lo), Some(hi)) = (later.iter().min(), later.iter().max()) {
                let pad = ((hi - lo) / 4).max(10_000);
                // round to 5 s, for round tick labels
                let wa = lo.saturating_sub(pad) / 5000 * 5000;
                let wb = (hi + pad).div_ceil(5000) * 5000;
                let wb = wb.min(end);
                if (wb - wa) * 10 < end * 6 {
                    (a, b) = (wa, wb);
                }
            }
            // the sum over the ReplicaSets, at every change
            let mut cur: BTreeMap<&str, f64> = BTreeMap::new();
            let mut changes: Vec<(u64, &str, f64)> = sets
                .iter()
                .flat_map(|(rs, p)| p.iter().map(move |x| (x.0, rs.as_str(), x.1)))
                .collect();
            changes.sort_by_key(|x| x.0);
            let mut total: Vec<(u64, f64)> = Vec::new();
            for (t, rs, v) in changes {
                cur.insert(rs, v);
                let sum = cur.values().sum();
                match total.last_mut() {
                    Some(last) if last.0 == t => last.1 = sum,
                    _ => total.push((t, sum)),
                }
            }
            let mut lines: Vec<Line> = sets
                .into_iter()
                .enumerate()
                .map(|(i, (rs, mut pts))| {
                    let last = pts.last().map_or(0.0, |p| p.1);
                    pts.push((end, last));
                    Line {
                        name: format!("ReplicaSet {rs}"),
                        points: pts,
                        colour: charts::line_colour(i),
                        dashed: false,
                    }
                })
                .collect();
            if let Some(&(_, v)) = total.last() {
                total.push((end, v));
            }
            lines.push(Line {
                name: "all ReplicaSets".into(),
                points: total,
                colour: super::OKABE_ITO[7],
                dashed: true,
            });
            out.push((dep, (lines, a, b, true)));
        }
        return out;
    }
    let desired = d.series("deployment_desired");
    let rs = d.series("replicaset_replicas");
    for (dep, want) in &desired {
        let prefix = format!("{dep}-");
        let sets: Vec<(&String, &Vec<(u64, f64)>)> =
            rs.iter().filter(|(k, _)| k.starts_with(&prefix)).collect();
        if sets.len() < 2 {
            continue;
        }
        let mut lines: Vec<Line> = sets
            .iter()
            .enumerate()
            .map(|(i, (name, pts))| Line {
                name: format!("ReplicaSet {}", name.rsplit('/').next().unwrap_or(name)),
                points: (*pts).clone(),
                colour: charts::line_colour(i),
                dashed: false,
            })
            .collect();
        lines.push(Line {
            name: "desired (Deployment spec.replicas)".into(),
            points: want.clone(),
            colour: super::OKABE_ITO[7],
            dashed: true,
        });
        out.push((dep.clone(), (lines, 0, end, false)));
    }
    out
}

/// Per-minute values (at the minute's end) as a flat segment over each minute.
fn per_minute(pts: &[(u64, f64)]) -> Vec<(u64, f64)> {
    pts.iter()
        .flat_map(|&(t, v)| [(t.saturating_sub(60_000), v), (t, v)])
        .collect()
}

/// A name as text and numbers, so that node-2 sorts before node-10.
fn natural_key(name: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for ch in name.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
        } else {
            if !digits.is_empty() {
                out.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(ch);
        }
    }
    out.push((text, digits.parse().unwrap_or(0)));
    out
}

/// The heat map's rows: a node each, or buckets of nodes in name order
/// (numbers by value: node-2 before node-10).
fn heat_rows(d: &RunData) -> Vec<HeatRow> {
    let cpu = d.series("node_cpu_allocated");
    let ready = d.series("node_ready");
    let mut names: Vec<&String> = cpu.keys().collect();
    names.sort_by_key(|n| natural_key(n));
    let nodes: Vec<HeatRow> = names
        .into_iter()
        .map(|n| (n, &cpu[n]))
        .map(|(n, pts)| {
            let r: BTreeMap<u64, f64> = ready
                .get(n)
                .map(|v| v.iter().copied().collect())
                .unwrap_or_default();
            HeatRow {
                name: n.clone(),
                cells: pts
                    .iter()
                    .map(|&(t, v)| (t, v, r.get(&t).is_none_or(|x| *x > 0.0)))
                    .collect(),
            }
        })
        .collect();
    if nodes.len() <= MAX_HEAT_ROWS {
        return nodes;
    }
    let per = nodes.len().div_ceil(MAX_HEAT_ROWS);
    nodes
        .chunks(per)
        .map(|group| {
            let mut cells: BTreeMap<u64, (f64, u32, bool)> = BTreeMap::new();
            for n in group {
                for &(t, v, ok) in &n.cells {
                    let c = cells.entry(t).or_insert((0.0, 0, true));
                    c.0 += v;
                    c.1 += 1;
                    c.2 &= ok;
                }
            }
            HeatRow {
                name: format!(
                    "{} … {} ({})",
                    group[0].name,
                    group[group.len() - 1].name,
                    group.len()
                ),
                cells: cells
                    .into_iter()
                    .map(|(t, (s, k, ok))| (t, s / k as f64, ok))
                    .collect(),
            }
        })
        .collect()
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (_, Some(i), _) => i.to_string(),
            (_, _, Some(f)) => {
                let s = format!("{f:.3}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            }
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("{} item(s)", a.len()),
        Value::Object(_) => "…".into(),
    }
}

/// An object's scalar fields, nested objects flattened one level ("latency_ms p99").
fn flat(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(m) = v {
        for (k, x) in m {
            match x {
                Value::Object(inner) => {
                    for (k2, y) in inner {
                        if !y.is_object() && !y.is_array() {
                            out.push((format!("{k} {k2}"), cell(y)));
                        }
                    }
                }
                Value::Array(_) => {}
                _ => out.push((k.clone(), cell(x))),
            }
        }
    }
    out
}

/// A table of named objects (map name → object): a row per object.
fn object_table(title: &str, first: &str, v: Option<&Value>) -> Option<Table> {
    let m = v?.as_object()?;
    if m.is_empty() {
        return None;
    }
    let rows_flat: Vec<(String, Vec<(String, String)>)> =
        m.iter().map(|(k, x)| (k.clone(), flat(x))).collect();
    let mut header = vec![first.to_string()];
    for (_, f) in &rows_flat {
        for (k, _) in f {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    let rows = rows_flat
        .into_iter()
        .map(|(name, f)| {
            let map: BTreeMap<String, String> = f.into_iter().collect();
            std::iter::once(name)
                .chain(
                    header[1..]
                        .iter()
                        .map(|h| map.get(h).cloned().unwrap_or_else(|| "–".into())),
                )
                .collect()
        })
        .collect();
    Some(Table {
        title: title.into(),
        header,
        rows,
    })
}

fn kv_table(title: &str, v: Option<&Value>) -> Option<Table> {
    let rows: Vec<Vec<String>> = flat(v?).into_iter().map(|(k, x)| vec![k, x]).collect();
    (!rows.is_empty()).then(|| Table {
        title: title.into(),
        header: vec!["figure".into(), "value".into()],
        rows,
    })
}

/// The summary figures as tables.
pub fn tables(d: &RunData) -> Vec<Table> {
    let s = &d.summary;
    let mut out = Vec::new();
    out.extend(kv_table("Run", s.get("sim")));
    out.extend(kv_table("Pods", s.get("pods")));
    out.extend(kv_table("Scheduling", s.get("scheduling")));
    out.extend(kv_table("Nodes", s.get("nodes")));
    out.extend(kv_table(
        "Utilization (means over samples)",
        s.get("utilization"),
    ));
    out.extend(object_table(
        "Deployments",
        "deployment",
        s.get("deployments"),
    ));
    out.extend(object_table("Services", "service", s.get("services")));
    out.extend(object_table("Ingresses", "ingress", s.get("ingresses")));
    out.extend(object_table("Jobs", "job", s.get("jobs")));
    if let Some(Value::Array(faults)) = s.get("faults") {
        if !faults.is_empty() {
            let m: serde_json::Map<String, Value> = faults
                .iter()
                .enumerate()
                .map(|(i, f)| (format!("#{i}"), f.clone()))
                .collect();
            out.extend(object_table("Faults", "fault", Some(&Value::Object(m))));
        }
    }
    if !d.actions.is_empty() {
        let markers = d.markers();
        let numbered = markers.len() > MAX_NAMED_MARKERS;
        let mut header: Vec<String> = ["time", "component", "reason", "object", "message"]
            .iter()
            .map(|h| h.to_string())
            .collect();
        if numbered {
            header.insert(0, "marker".into());
        }
        out.push(Table {
            title: "Timeline actions and faults".into(),
            header,
            rows: d
                .actions
                .iter()
                .map(|e| {
                    let mut row = vec![
                        crate::sim::time::human(crate::sim::time::SimDuration::from_millis(
                            e.time_ms,
                        )),
                        e.component.clone(),
                        e.reason.clone(),
                        e.object.clone(),
                        e.message.clone(),
                    ];
                    if numbered {
                        let i = markers.iter().position(|m| m.time_ms == e.time_ms);
                        row.insert(0, i.map_or(String::new(), |i| (i + 1).to_string()));
                    }
                    row
                })
                .collect(),
        });
    }
    if !d.warnings.is_empty() {
        out.push(Table {
            title: "Warning events".into(),
            header: vec!["component".into(), "reason".into(), "count".into()],
            rows: d
                .warnings
                .iter()
                .map(|((c, r), n)| vec![c.clone(), r.clone(), n.to_string()])
                .collect(),
        });
    }
    out
}

fn headline(d: &RunData) -> String {
    let s = &d.summary;
    let t = s
        .pointer("/sim/virtual_time_ms")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let stopped = s
        .pointer("/sim/stopped")
        .and_then(|v| v.as_str())
        .unwrap_or("?");
    let events = s
        .pointer("/sim/events")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    format!(
        "Scenario {} with seed {}: ran to t = {} of virtual time (stopped: {stopped}), {events} events.",
        d.scenario,
        d.seed,
        crate::sim::time::human(crate::sim::time::SimDuration::from_millis(t))
    )
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The notes under a run report's headline.
fn notes(d: &RunData) -> Vec<String> {
    let mut notes = Vec::new();
    if !d.has_events {
        notes.push("No event log: faults and timeline actions are not marked.".to_string());
    }
    let markers = d.markers().len();
    if markers > MAX_NAMED_MARKERS {
        notes.push(format!("Thin vertical lines on the time charts mark faults (purple) and timeline actions (grey). There are {markers}, so each is labelled with a number: the first column of the table \"Timeline actions and faults\" says what happened there."));
    } else if markers > 0 {
        notes.push("Thin vertical lines on the time charts mark faults (purple) and timeline actions (grey), each labelled at the top with what happened.".to_string());
    }
    notes
}

/// `report.md`: the headline, the charts (as the SVG files beside it), the tables.
pub fn markdown(d: &RunData, charts: &[Chart], tables: &[Table]) -> String {
    let title = format!("kubesim run report: {}", d.scenario);
    markdown_page(&title, &headline(d), &notes(d), charts, tables)
}

/// A Markdown report: a title, a headline, notes, the charts (as the SVG
/// files beside it) and the tables.
pub fn markdown_page(
    title: &str,
    headline: &str,
    notes: &[String],
    charts: &[Chart],
    tables: &[Table],
) -> String {
    let mut out = format!("# {title}\n\n{headline}\n\n");
    for n in notes {
        out.push_str(&format!("{n}\n\n"));
    }
    out.push_str("## Charts\n\n");
    for c in charts {
        out.push_str(&format!(
            "### {}\n\n![{}]({})\n\n{}\n\n",
            c.title, c.title, c.file, c.caption
        ));
    }
    out.push_str("## Figures\n\n");
    for t in tables {
        out.push_str(&format!("### {}\n\n", t.title));
        out.push_str(&format!(
            "| {} |\n|{}\n",
            t.header
                .iter()
                .map(|h| md_cell(h))
                .collect::<Vec<_>>()
                .join(" | "),
            "---|".repeat(t.header.len())
        ));
        for r in &t.rows {
            out.push_str(&format!(
                "| {} |\n",
                r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
            ));
        }
        out.push('\n');
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;color:#222;max-width:1040px;margin:24px auto;padding:0 16px;line-height:1.4}\
h1{font-size:1.6em;margin-bottom:0.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}h3{margin:1.2em 0 0.3em}\
figure{margin:0 0 28px 0}figure svg{width:100%;height:auto;border:1px solid #e4e4e4}\
figcaption{color:#555;font-size:0.92em;margin-top:4px}\
table{border-collapse:collapse;margin:6px 0 18px 0;font-size:0.92em}\
th,td{border:1px solid #d8d8d8;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}\
nav a{margin-right:12px}.note{color:#555}";

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.parse::<f64>().is_ok()
}

/// `report.html`: one self-contained page.
pub fn html(d: &RunData, charts: &[Chart], tables: &[Table]) -> String {
    let title = format!("kubesim run report: {}", d.scenario);
    html_page(&title, &headline(d), &notes(d), charts, tables)
}

/// A self-contained HTML report: a title, a headline, notes, the charts
/// inline as SVG and the tables; no script, nothing fetched.
pub fn html_page(
    title: &str,
    headline: &str,
    notes: &[String],
    charts: &[Chart],
    tables: &[Table],
) -> String {
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(title)
    ));
    out.push_str(&format!(
        "<h1>{}</h1>\n<p>{}</p>\n",
        esc(title),
        esc(headline)
    ));
    for n in notes {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", esc(n)));
    }
    out.push_str("<nav>");
    for (i, c) in charts.iter().enumerate() {
        out.push_str(&format!("<a href=\"#c{i}\">{}</a>", esc(&c.title)));
    }
    out.push_str("<a href=\"#figures\">Figures</a></nav>\n<h2>Charts</h2>\n");
    for (i, c) in charts.iter().enumerate() {
        out.push_str(&format!(
            "<figure id=\"c{i}\">\n<h3>{}</h3>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
            esc(&c.title),
            c.svg.trim_end(),
            esc(&c.caption)
        ));
    }
    out.push_str("<h2 id=\"figures\">Figures</h2>\n");
    for t in tables {
        out.push_str(&format!("<h3>{}</h3>\n<table>\n<tr>", esc(&t.title)));
        for h in &t.header {
            out.push_str(&format!("<th>{}</th>", esc(h)));
        }
        out.push_str("</tr>\n");
        for r in &t.rows {
            out.push_str("<tr>");
            for c in r {
                if is_number(c) {
                    out.push_str(&format!("<td class=\"n\">{}</td>", esc(c)));
                } else {
                    out.push_str(&format!("<td>{}</td>", esc(c)));
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Every file of the report: (file name, contents), charts first.
pub fn files(d: &RunData) -> Vec<(String, String)> {
    let charts = charts(d);
    let tables = tables(d);
    let mut out: Vec<(String, String)> = charts
        .iter()
        .map(|c| (c.file.clone(), c.svg.clone()))
        .collect();
    out.push(("report.md".into(), markdown(d, &charts, &tables)));
    out.push(("report.html".into(), html(d, &charts, &tables)));
    out
}

/// Write the report into `dir` (created if missing); returns the files written.
pub fn write_report(d: &RunData, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, text) in files(d) {
        let p = dir.join(name);
        write_atomic(&p, text.as_bytes())?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_sort_by_their_numbers() {
        let mut v = vec!["node-10", "node-2", "node-1", "a-0", "node-2b", "node-02x"];
        v.sort_by_key(|n| natural_key(n));
        assert_eq!(
            v,
            vec!["a-0", "node-1", "node-2", "node-2b", "node-02x", "node-10"]
        );
    }
}
