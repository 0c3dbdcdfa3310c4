//! `kubesim trace-stats`: what a trace holds, after the window and sample.

use super::{Converted, MachineChange};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Quantiles of one quantity (nearest rank).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Quantiles {
    pub count: u64,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Quantiles {
    pub fn of(mut v: Vec<f64>) -> Quantiles {
        if v.is_empty() {
            return Quantiles::default();
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Quantiles {
            count: v.len() as u64,
            min: v[0],
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: v[v.len() - 1],
            mean: v.iter().sum::<f64>() / v.len() as f64,
        }
    }
}

/// The figures `trace-stats` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TraceStats {
    pub format: String,
    pub path: String,
    pub jobs: u64,
    /// Pods the run would create.
    pub tasks: u64,
    /// Tasks outside `--window`.
    pub not_selected: u64,
    /// First and last arrival, seconds (after the window shift).
    pub first_arrival_s: f64,
    pub last_arrival_s: f64,
    /// Arrivals per hour of (shifted) trace time: hour → tasks.
    pub arrivals_per_hour: BTreeMap<u64, u64>,
    /// CPU requests, cores.
    pub cpu_cores: Quantiles,
    /// Memory requests, GiB.
    pub memory_gib: Quantiles,
    /// Run times of tasks that end, seconds.
    pub duration_s: Quantiles,
    /// Tasks that run until deleted.
    pub run_forever: u64,
    /// Priority → tasks.
    pub priorities: BTreeMap<i32, u64>,
    pub machines: MachineStats,
    /// Reason → rows (or instances) left out.
    pub skipped: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MachineStats {
    /// Distinct machines named by the trace.
    pub distinct: u64,
    pub add_events: u64,
    pub remove_events: u64,
    /// Cores of the added machines.
    pub cpu_cores: Quantiles,
    /// GiB of the added machines.
    pub memory_gib: Quantiles,
}

const GIB: f64 = 1_073_741_824.0;

impl TraceStats {
    pub fn of(format: &str, path: &str, c: &Converted) -> TraceStats {
        let mut s = TraceStats {
            format: format.into(),
            path: path.into(),
            jobs: c.jobs,
            tasks: c.tasks.len() as u64,
            not_selected: c.not_selected,
            skipped: c.skipped.0.clone(),
            ..Default::default()
        };
        if let (Some(a), Some(b)) = (c.tasks.first(), c.tasks.last()) {
            s.first_arrival_s = a.time_ms as f64 / 1000.0;
            s.last_arrival_s = b.time_ms as f64 / 1000.0;
        }
        for t in &c.tasks {
            *s.arrivals_per_hour
                .entry(t.time_ms / 3_600_000)
                .or_default() += 1;
            *s.priorities.entry(t.priority).or_default() += 1;
        }
        s.cpu_cores = Quantiles::of(
            c.tasks
                .iter()
                .map(|t| t.cpu_millis as f64 / 1000.0)
                .collect(),
        );
        s.memory_gib = Quantiles::of(c.tasks.iter().map(|t| t.memory as f64 / GIB).collect());
        s.duration_s = Quantiles::of(
            c.tasks
                .iter()
                .filter_map(|t| t.run_ms)
                .map(|d| d as f64 / 1000.0)
                .collect(),
        );
        s.run_forever = c.tasks.iter().filter(|t| t.run_ms.is_none()).count() as u64;
        let mut names = BTreeSet::new();
        let (mut cpus, mut mems) = (Vec::new(), Vec::new());
        for m in &c.machines {
            names.insert(m.node.as_str());
            match m.change {
                MachineChange::Add { cpu_millis, memory } => {
                    s.machines.add_events += 1;
                    cpus.push(cpu_millis as f64 / 1000.0);
                    mems.push(memory as f64 / GIB);
                }
                MachineChange::Remove => s.machines.remove_events += 1,
            }
        }
        s.machines.distinct = names.len() as u64;
        s.machines.cpu_cores = Quantiles::of(cpus);
        s.machines.memory_gib = Quantiles::of(mems);
        s
    }

    /// The readable table.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let q = |q: &Quantiles| {
            format!(
                "{:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3}",
                q.min, q.p50, q.p90, q.p99, q.max, q.mean
            )
        };
        let _ = writeln!(o, "Trace:      {} ({})", self.path, self.format);
        let _ = writeln!(o, "Jobs:       {}", self.jobs);
        let _ = writeln!(
            o,
            "Tasks:      {} (pods; {} outside the window)",
            self.tasks, self.not_selected
        );
        let _ = writeln!(
            o,
            "Arrivals:   {:.0}s .. {:.0}s",
            self.first_arrival_s, self.last_arrival_s
        );
        let _ = writeln!(o, "\nARRIVALS BY HOUR");
        let peak = self
            .arrivals_per_hour
            .values()
            .copied()
            .max()
            .unwrap_or(1)
            .max(1);
        for (h, n) in &self.arrivals_per_hour {
            let bar = "#".repeat(((n * 40).div_ceil(peak)) as usize);
            let _ = writeln!(o, "  {h:>4}h {n:>9}  {bar}");
        }
        let _ = writeln!(
            o,
            "\nREQUESTS      {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "min", "p50", "p90", "p99", "max", "mean"
        );
        let _ = writeln!(o, "  cpu (cores) {}", q(&self.cpu_cores));
        let _ = writeln!(o, "  memory (Gi) {}", q(&self.memory_gib));
        let _ = writeln!(o, "  run time (s){}", q(&self.duration_s));
        let _ = writeln!(o, "  run until deleted: {}", self.run_forever);
        let _ = writeln!(o, "\nPRIORITIES");
        for (p, n) in &self.priorities {
            let _ = writeln!(o, "  {p:>6} {n:>9}");
        }
        let m = &self.machines;
        let _ = writeln!(
            o,
            "\nMACHINES     {} distinct, {} add, {} remove events",
            m.distinct, m.add_events, m.remove_events
        );
        if m.add_events > 0 {
            let _ = writeln!(o, "  cpu (cores) {}", q(&m.cpu_cores));
            let _ = writeln!(o, "  memory (Gi) {}", q(&m.memory_gib));
        }
        let total: u64 = self.skipped.values().sum();
        let _ = writeln!(o, "\nSKIPPED      {total}");
        for (r, n) in &self.skipped {
            let _ = writeln!(o, "  {n:>9}  {r}");
        }
        o
    }
}
