//! `kubesim compare`: one scenario under several scheduling policies and seeds.
//!
//! Every (policy, seed) run is independent; runs go to a thread pool and their
//! results are put back in grid order, so the output does not depend on the
//! number of threads. Under one seed every policy sees the same workload (each
//! generator draws from its own stream), which is what makes the paired
//! differences against the first policy meaningful.

use crate::metrics::{Recorder, Summary};
use crate::output::write_atomic;
use crate::progress::GridProgress;
use crate::scenario::Scenario;
use crate::scheduler::policies::Registry;
use crate::Simulation;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One compared figure.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    /// Whether a higher value is better (for reading the table).
    pub higher_is_better: bool,
    pub description: &'static str,
}

/// The figures `compare` reports, in table order.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "pods_bound",
        unit: "pods",
        higher_is_better: true,
        description: "pods bound to a node during the run",
    },
    Metric {
        name: "pods_pending_end",
        unit: "pods",
        higher_is_better: false,
        description: "pods still pending when the run ended",
    },
    Metric {
        name: "latency_p50_ms",
        unit: "ms",
        higher_is_better: false,
        description: "scheduling latency (queue entry to bind), median",
    },
    Metric {
        name: "latency_p99_ms",
        unit: "ms",
        higher_is_better: false,
        description: "scheduling latency, 99th percentile",
    },
    Metric {
        name: "preemptions",
        unit: "pods",
        higher_is_better: false,
        description: "pods evicted by preemption",
    },
    Metric {
        name: "nodes_used_mean",
        unit: "nodes",
        higher_is_better: false,
        description: "nodes running at least one pod, mean over samples",
    },
    Metric {
        name: "cpu_allocation_used",
        unit: "share",
        higher_is_better: true,
        description: "requested / allocatable CPU of the used nodes, mean over samples",
    },
    Metric {
        name: "memory_allocation_used",
        unit: "share",
        higher_is_better: true,
        description: "requested / allocatable memory of the used nodes, mean over samples",
    },
    Metric {
        name: "fragmentation",
        unit: "share",
        higher_is_better: false,
        description:
            "free CPU on nodes where no pending pod fits, as a share of free CPU, mean over samples",
    },
    Metric {
        name: "makespan_ms",
        unit: "ms",
        higher_is_better: false,
        description: "when the last finite pod completed",
    },
    Metric {
        name: "node_hours",
        unit: "node-hours",
        higher_is_better: false,
        description: "Σ over nodes of the time registered (runs with HPA or node groups)",
    },
    Metric {
        name: "cost",
        unit: "cost",
        higher_is_better: false,
        description: "Σ node-group node-hours × costPerHour",
    },
    Metric {
        name: "pending_pod_seconds",
        unit: "pod-s",
        higher_is_better: false,
        description:
            "pods pending for want of a node × scan interval, over Cluster Autoscaler scans",
    },
    Metric {
        name: "requests_failed",
        unit: "requests",
        higher_is_better: false,
        description:
            "requests failed or timed out, over every Service (runs with HPA or node groups)",
    },
    Metric {
        name: "hpa_rescales",
        unit: "events",
        higher_is_better: false,
        description: "HPA SuccessfulRescale events, up and down",
    },
    Metric {
        name: "ca_scale_events",
        unit: "events",
        higher_is_better: false,
        description: "Cluster Autoscaler scale-ups plus nodes removed",
    },
];

/// The figures of one run, by metric name (absent when undefined, e.g. no latency).
pub fn figures(s: &Summary) -> BTreeMap<&'static str, f64> {
    let mut m = BTreeMap::new();
    m.insert("pods_bound", s.scheduling.bound as f64);
    m.insert("pods_pending_end", s.pods.pending as f64);
    if let Some(v) = s.scheduling.latency_ms.p50 {
        m.insert("latency_p50_ms", v as f64);
    }
    if let Some(v) = s.scheduling.latency_ms.p99 {
        m.insert("latency_p99_ms", v as f64);
    }
    m.insert("preemptions", s.scheduling.preemptions as f64);
    m.insert("nodes_used_mean", s.utilization.nodes_used_mean);
    m.insert(
        "cpu_allocation_used",
        s.utilization.cpu_allocation_used_mean,
    );
    m.insert(
        "memory_allocation_used",
        s.utilization.memory_allocation_used_mean,
    );
    m.insert("fragmentation", s.utilization.fragmentation_mean);
    if let Some(v) = s.scheduling.makespan_ms {
        m.insert("makespan_ms", v as f64);
    }
    if let Some(a) = &s.autoscaling {
        m.insert("node_hours", a.node_hours);
        m.insert("cost", a.cost);
        m.insert("pending_pod_seconds", a.pending_pod_seconds);
        m.insert("requests_failed", a.requests_failed as f64);
        m.insert("hpa_rescales", (a.hpa_scale_ups + a.hpa_scale_downs) as f64);
        m.insert(
            "ca_scale_events",
            (a.ca_scale_ups + a.ca_scale_downs) as f64,
        );
    }
    m
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunResult {
    pub policy: String,
    pub seed: u64,
    pub figures: BTreeMap<&'static str, f64>,
    /// The run's scheduling latencies as a histogram: (latency ms, pods bound
    /// after that long), ascending. For the report's CDFs, which pool every
    /// seed; not in `comparison.json` (a shard's `runs.jsonl` carries it, so a
    /// merge draws the same CDFs).
    #[serde(skip)]
    pub latency_ms: Vec<(u64, u64)>,
}

/// The scheduler's latency histogram as ascending (ms, pods) pairs.
pub fn latency_histogram(latencies_ms: &BTreeMap<u64, u64>) -> Vec<(u64, u64)> {
    latencies_ms.iter().map(|(&l, &n)| (l, n)).collect()
}

/// Every policy's scheduling latencies over all its seeds (one histogram,
/// as if the runs were one), in policy order.
pub fn pooled_latency(c: &Comparison) -> Vec<(String, Vec<(u64, u64)>)> {
    c.policies
        .iter()
        .map(|p| {
            let mut h: BTreeMap<u64, u64> = BTreeMap::new();
            for r in c.runs.iter().filter(|r| &r.policy == p) {
                for &(ms, n) in &r.latency_ms {
                    *h.entry(ms).or_default() += n;
                }
            }
            (p.clone(), h.into_iter().collect())
        })
        .collect()
}

/// Mean and 95% confidence interval (Student's t) of a sample.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    /// Half-width of the 95% confidence interval (0 for n < 2).
    pub ci95: f64,
}

/// Two-sided 95% Student-t quantiles for 1..=30 degrees of freedom.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

impl Stats {
    pub fn of(xs: &[f64]) -> Stats {
        let n = xs.len();
        if n == 0 {
            return Stats {
                n,
                mean: f64::NAN,
                ci95: f64::NAN,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Stats { n, mean, ci95: 0.0 };
        }
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let t = if n - 1 <= 30 { T95[n - 2] } else { 1.96 };
        Stats {
            n,
            mean,
            ci95: t * (var / n as f64).sqrt(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Comparison {
    pub scenario: String,
    pub policies: Vec<String>,
    pub seeds: Vec<u64>,
    pub metrics: Vec<Metric>,
    /// Every run, in grid order (policy-major, then seed).
    pub runs: Vec<RunResult>,
    /// policy → metric → stats over seeds.
    pub per_policy: BTreeMap<String, BTreeMap<&'static str, Stats>>,
    /// policy → metric → stats of (policy − first policy) paired by seed.
    pub paired_vs_first: BTreeMap<String, BTreeMap<&'static str, Stats>>,
}

/// One point of a run grid: a scenario (variant), a policy and a seed.
#[derive(Debug, Clone, Copy)]
pub struct GridPoint<'a> {
    pub scenario: &'a Scenario,
    pub policy: &'a str,
    pub seed: u64,
}

/// Run one grid point to the end and take its figures.
pub fn run_point(p: &GridPoint, registry: &Registry) -> Result<RunResult, String> {
    run_point_counted(p, registry).map(|(r, _)| r)
}

/// [`run_point`], and the number of events the run processed.
fn run_point_counted(p: &GridPoint, registry: &Registry) -> Result<(RunResult, u64), String> {
    let mut sc = p.scenario.clone();
    sc.seed = p.seed;
    sc.settings.profiles[0].1 = p.policy.to_string();
    let mut sim =
        Simulation::with_registry(&sc, Recorder::discard(), registry).map_err(|e| e.to_string())?;
    sim.run();
    let result = RunResult {
        policy: p.policy.to_string(),
        seed: p.seed,
        figures: figures(&sim.summary()),
        latency_ms: latency_histogram(&sim.scheduler().stats.latencies_ms),
    };
    Ok((result, sim.events_processed()))
}

/// Run grid points on a pool of `threads` (None: every core); the results come
/// back in the order of `points`, whatever the number of threads.
pub fn run_points(
    points: &[GridPoint],
    registry: &Registry,
    threads: Option<usize>,
) -> Result<Vec<RunResult>, String> {
    run_points_with_progress(
        points,
        registry,
        threads,
        &GridProgress::hidden(points.len()),
    )
}

/// [`run_points`], counting every finished run on `progress` (which only
/// displays; the results are the same).
pub fn run_points_with_progress(
    points: &[GridPoint],
    registry: &Registry,
    threads: Option<usize>,
    progress: &GridProgress,
) -> Result<Vec<RunResult>, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| e.to_string())?;
    let out = pool.install(|| {
        points
            .par_iter()
            .map(|p| {
                let (r, events) = run_point_counted(p, registry)?;
                progress.run_done(events);
                Ok(r)
            })
            .collect::<Result<Vec<_>, String>>()
    });
    progress.finish();
    out
}

/// Run every policy × seed and aggregate. `threads` = None uses every core.
pub fn compare(
    scenario: &Scenario,
    policies: &[String],
    seeds: &[u64],
    registry: &Registry,
    threads: Option<usize>,
) -> Result<Comparison, String> {
    for p in policies {
        registry.get(p).map_err(|e| e.to_string())?;
    }
    let grid: Vec<GridPoint> = policies
        .iter()
        .flat_map(|p| {
            seeds.iter().map(move |s| GridPoint {
                scenario,
                policy: p,
                seed: *s,
            })
        })
        .collect();
    let runs = run_points(&grid, registry, threads)?;
    Ok(aggregate(&scenario.name, policies, seeds, runs))
}

/// The comparison of finished runs given in grid order (policy-major, then
/// seed): per-policy statistics and paired differences against the first
/// policy. A pure function of its inputs, so a merge of sharded runs gives the
/// same comparison as one unsharded run.
pub fn aggregate(
    scenario: &str,
    policies: &[String],
    seeds: &[u64],
    runs: Vec<RunResult>,
) -> Comparison {
    let mut per_policy = BTreeMap::new();
    let mut paired = BTreeMap::new();
    let first = &policies[0];
    for p in policies {
        let mine: Vec<&RunResult> = runs.iter().filter(|r| &r.policy == p).collect();
        let mut stats = BTreeMap::new();
        let mut diffs = BTreeMap::new();
        for m in METRICS {
            let xs: Vec<f64> = mine
                .iter()
                .filter_map(|r| r.figures.get(m.name).copied())
                .collect();
            stats.insert(m.name, Stats::of(&xs));
            let d: Vec<f64> = mine
                .iter()
                .filter_map(|r| {
                    let base = runs
                        .iter()
                        .find(|b| &b.policy == first && b.seed == r.seed)?;
                    Some(r.figures.get(m.name)? - base.figures.get(m.name)?)
                })
                .collect();
            diffs.insert(m.name, Stats::of(&d));
        }
        per_policy.insert(p.clone(), stats);
        if p != first {
            paired.insert(p.clone(), diffs);
        }
    }
    Comparison {
        scenario: scenario.to_string(),
        policies: policies.to_vec(),
        seeds: seeds.to_vec(),
        metrics: METRICS.to_vec(),
        runs,
        per_policy,
        paired_vs_first: paired,
    }
}

/// The files `compare --out DIR` writes: `comparison.json`, `comparison.csv`,
/// one `compare-<metric>.svg` per metric with a value (see
/// [`crate::report::compare_charts`]), `compare-latency-cdf.svg` (the
/// policies' scheduling-latency CDFs) and the report, `report.md` and
/// `report.html` (see [`crate::report::compare`]). Returns the files written
/// after the two tables, charts first. `dir` must exist.
pub fn write_outputs(c: &Comparison, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let json = dir.join("comparison.json");
    let bytes = serde_json::to_vec_pretty(c).map_err(|e| e.to_string())?;
    write_atomic(&json, &bytes).map_err(|e| format!("cannot write {}: {e}", json.display()))?;
    let csv_path = dir.join("comparison.csv");
    write_atomic(&csv_path, csv(c).as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
    let mut written = Vec::new();
    for (name, text) in crate::report::compare::files(c) {
        let p = dir.join(name);
        write_atomic(&p, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        written.push(p);
    }
    Ok(written)
}

fn fmt_stat(s: &Stats, unit: &str) -> String {
    if s.n == 0 || s.mean.is_nan() {
        return "-".into();
    }
    let digits = if unit == "share" {
        3
    } else if s.mean.abs() >= 100.0 {
        0
    } else {
        2
    };
    format!("{:.*} ± {:.*}", digits, s.mean, digits, s.ci95)
}

/// The comparison as tables for people: means ± 95% CI, then paired differences.
pub fn table(c: &Comparison) -> String {
    use std::fmt::Write;
    let mut rows: Vec<Vec<String>> = vec![{
        let mut h = vec!["metric".to_string()];
        h.extend(c.policies.iter().cloned());
        h
    }];
    for m in METRICS {
        let mut r = vec![format!("{} ({})", m.name, m.unit)];
        for p in &c.policies {
            r.push(fmt_stat(&c.per_policy[p][m.name], m.unit));
        }
        rows.push(r);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scenario {}: {} policies x {} seeds, mean ± 95% CI over seeds",
        c.scenario,
        c.policies.len(),
        c.seeds.len()
    );
    s.push_str(&render(&rows));
    if c.policies.len() > 1 {
        let _ = writeln!(
            s,
            "\npaired difference vs {} (same seed), mean ± 95% CI:",
            c.policies[0]
        );
        let mut rows: Vec<Vec<String>> = vec![{
            let mut h = vec!["metric".to_string()];
            h.extend(
                c.policies[1..]
                    .iter()
                    .map(|p| format!("{p} − {}", c.policies[0])),
            );
            h
        }];
        for m in METRICS {
            let mut r = vec![format!("{} ({})", m.name, m.unit)];
            for p in &c.policies[1..] {
                r.push(fmt_stat(&c.paired_vs_first[p][m.name], m.unit));
            }
            rows.push(r);
        }
        s.push_str(&render(&rows));
    }
    s
}

fn render(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        s.push_str(line.join("  ").trim_end());
        s.push('\n');
    }
    s
}

/// One CSV row per run: policy, seed, then every metric.
pub fn csv(c: &Comparison) -> String {
    let mut s = String::from("policy,seed");
    for m in METRICS {
        s.push(',');
        s.push_str(m.name);
    }
    s.push('\n');
    for r in &c.runs {
        s.push_str(&format!("{},{}", r.policy, r.seed));
        for m in METRICS {
            s.push(',');
            if let Some(v) = r.figures.get(m.name) {
                s.push_str(&format!("{v}"));
            }
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_interval_uses_student_t() {
        let s = Stats::of(&[1.0, 2.0, 3.0]);
        assert_eq!(s.mean, 2.0);
        // sd = 1, n = 3, t(2) = 4.303
        assert!((s.ci95 - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert_eq!(Stats::of(&[5.0]).ci95, 0.0);
    }
}
