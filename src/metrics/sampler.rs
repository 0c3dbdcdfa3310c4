//! Periodic samples of cluster allocation, for utilization and fragmentation
//! figures. Sampling only reads the store, so it never changes what happens.

use crate::api::{ApiServer, Node, Pod, PodPhase};
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;

/// One sample of the cluster.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sample {
    pub time_ms: u64,
    pub nodes: u64,
    /// Nodes running at least one unfinished pod.
    pub nodes_used: u64,
    /// Requested CPU / allocatable CPU over the used nodes (0 when none is used).
    pub cpu_allocation_used: f64,
    pub memory_allocation_used: f64,
    pub pending: u64,
    /// Free CPU on nodes where no pending pod fits, as a share of all free CPU
    /// (0 when nothing is pending).
    pub fragmentation: f64,
}

/// What the sampler and the detailed time series read of the pods: the API
/// server's running totals (both sample at the same moments).
pub type Usage = crate::api::totals::PodTotals;

/// The running totals, checked in debug builds against a count made afresh
/// (on clusters small enough for the check to stay cheap).
pub fn usage_of(api: &ApiServer) -> &Usage {
    let u = api.pod_totals();
    debug_assert!(
        api.list::<Pod>().count() > 5_000 || *u == Usage::scan(api.list::<Pod>()),
        "the API server's pod totals drifted from its pods"
    );
    u
}

/// Which [`NodeUsage`](crate::api::totals::NodeUsage) row is each node's, in
/// node-name order. Worked out again only when nodes come or go or a node gets
/// its first row, so a sample reads the rows by index, in order, instead of
/// hashing every node's name.
#[derive(Debug, Clone, Default)]
pub struct NodeRows {
    /// (node membership, usage rows) the list was made for.
    made_for: Option<(u64, usize)>,
    rows: Vec<Option<u32>>,
}

impl NodeRows {
    /// Every node in name order with (CPU millis, memory bytes, pods) its
    /// unfinished pods request.
    pub fn nodes_with_usage<'a>(
        &'a mut self,
        api: &'a ApiServer,
        usage: &'a Usage,
    ) -> impl Iterator<Item = (&'a Node, (i64, i64, i64))> + 'a {
        let now = (api.membership::<Node>(), usage.used.rows());
        if self.made_for != Some(now) {
            self.rows.clear();
            self.rows
                .extend(api.list::<Node>().map(|n| usage.used.row_of(&n.meta.name)));
            self.made_for = Some(now);
        }
        debug_assert!(
            api.list::<Node>()
                .zip(&self.rows)
                .all(|(n, r)| *r == usage.used.row_of(&n.meta.name)),
            "a remembered usage row is not its node's"
        );
        api.list::<Node>()
            .zip(&self.rows)
            .map(move |(n, r)| (n, r.map_or((0, 0, 0), |r| usage.used.row(r))))
    }
}

/// The order of [`Usage::phases`] (`PodPhase`'s declaration order).
pub const PHASES: [PodPhase; 5] = [
    PodPhase::Pending,
    PodPhase::Running,
    PodPhase::Succeeded,
    PodPhase::Failed,
    PodPhase::Unknown,
];

#[derive(Debug, Clone)]
pub struct Sampler {
    pub interval: SimDuration,
    pub samples: Vec<Sample>,
    /// The detailed time series for `metrics.csv`, when asked for
    /// ([`Sampler::keep_series`]); `None` keeps runs that do not write it lean.
    pub series: Option<super::timeseries::Timeseries>,
    rows: NodeRows,
}

impl Sampler {
    pub fn new(interval: SimDuration) -> Self {
        Sampler {
            interval,
            samples: Vec::new(),
            series: None,
            rows: NodeRows::default(),
        }
    }

    /// Also keep the detailed time series (for `metrics.csv` and reports).
    pub fn keep_series(&mut self) {
        if self.series.is_none() {
            self.series = Some(Default::default());
        }
    }

    /// Keep the detailed time series, streaming finished samples to `sink`.
    pub fn stream_series(&mut self, sink: super::timeseries::CsvSink) {
        self.keep_series();
        if let Some(ts) = self.series.as_mut() {
            ts.stream_to(sink);
        }
    }

    pub fn sample(&mut self, api: &ApiServer, now: SimTime) {
        let usage = usage_of(api);
        if let Some(ts) = self.series.as_mut() {
            ts.sample_usage(api, now, usage);
        }
        let pending_pods = usage.pending_count;
        // the distinct requests of pending pods, in order
        let pending: Vec<(i64, i64)> = usage.pending.keys().copied().collect();
        let (mut nodes, mut nodes_used) = (0u64, 0u64);
        let (mut cpu_req, mut cpu_cap, mut mem_req, mut mem_cap) = (0i64, 0i64, 0i64, 0i64);
        let (mut free_total, mut free_stuck) = (0i64, 0i64);
        for (n, (c, m, k)) in self.rows.nodes_with_usage(api, usage) {
            nodes += 1;
            let a = &n.status.allocatable;
            if k > 0 {
                nodes_used += 1;
                cpu_req += c;
                cpu_cap += a.cpu_millis;
                mem_req += m;
                mem_cap += a.memory;
            }
            let free_cpu = (a.cpu_millis - c).max(0);
            let free_mem = (a.memory - m).max(0);
            free_total += free_cpu;
            let fits_any = k < a.pods
                && pending
                    .iter()
                    .any(|(pc, pm)| *pc <= free_cpu && *pm <= free_mem);
            if !pending.is_empty() && !fits_any {
                free_stuck += free_cpu;
            }
        }
        let share = |a: i64, b: i64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        self.samples.push(Sample {
            time_ms: now.as_millis(),
            nodes,
            nodes_used,
            cpu_allocation_used: share(cpu_req, cpu_cap),
            memory_allocation_used: share(mem_req, mem_cap),
            pending: pending_pods,
            fragmentation: share(free_stuck, free_total),
        });
    }
}

/// Means over the samples, for the summary.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Utilization {
    pub samples: u64,
    pub interval_ms: u64,
    pub nodes_used_mean: f64,
    pub cpu_allocation_used_mean: f64,
    pub memory_allocation_used_mean: f64,
    pub fragmentation_mean: f64,
}

impl Utilization {
    pub fn of(s: &Sampler) -> Self {
        let n = s.samples.len() as f64;
        let mean = |f: &dyn Fn(&Sample) -> f64| {
            if n == 0.0 {
                0.0
            } else {
                s.samples.iter().map(f).sum::<f64>() / n
            }
        };
        Utilization {
            samples: s.samples.len() as u64,
            interval_ms: s.interval.as_millis(),
            nodes_used_mean: mean(&|x| x.nodes_used as f64),
            cpu_allocation_used_mean: mean(&|x| x.cpu_allocation_used),
            memory_allocation_used_mean: mean(&|x| x.memory_allocation_used),
            fragmentation_mean: mean(&|x| x.fragmentation),
        }
    }
}
