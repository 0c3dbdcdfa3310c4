//! The resource metrics pipeline: what each pod uses, and the metrics server
//! that samples it every `scrapeInterval` for the HPA controller.
//!
//! A pod's CPU use is declared in the scenario (`usage:`): a base amount
//! (constant, or a step curve over time) plus `cpuPerRequest` for every
//! request per second the pod answered since the previous scrape (the data
//! plane counts the requests each pod answers). Memory is a constant per pod.
//! The metrics server keeps only its last scrape, so the HPA sees values up to
//! one scrape interval old — the pipeline delay of real clusters.

use crate::api::selector::{matches_map, Labels};
use crate::api::{ApiServer, ObjKey, Pod, PodPhase};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// One `usage:` entry: the resource use of the pods it selects.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageModel {
    pub selector: Labels,
    pub namespace: Option<String>,
    /// CPU (millicores) per pod with no traffic.
    pub cpu_millis: i64,
    /// From each time on, this base CPU instead (sorted by time).
    pub steps: Vec<(SimDuration, i64)>,
    /// Extra millicores per request/s answered.
    pub cpu_per_request_millis: f64,
    /// Working set per pod, bytes.
    pub memory: i64,
}

impl UsageModel {
    /// Base CPU at `t`.
    pub fn base_cpu(&self, t: SimTime) -> i64 {
        let since = t.since(SimTime::ZERO);
        self.steps
            .iter()
            .rev()
            .find(|(at, _)| *at <= since)
            .map_or(self.cpu_millis, |(_, c)| *c)
    }
}

/// One pod's figures at the last scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodSample {
    pub cpu_millis: i64,
    pub memory: i64,
    /// Requests per second answered since the previous scrape, ×1000.
    pub rps_milli: i64,
}

#[derive(Debug, Default)]
pub struct MetricsServer {
    pub interval: SimDuration,
    usage: Vec<UsageModel>,
    pods: BTreeMap<ObjKey, PodSample>,
    services: BTreeMap<ObjKey, i64>,
    prev_served: BTreeMap<ObjKey, f64>,
    prev_sent: BTreeMap<ObjKey, u64>,
    last: Option<SimTime>,
    /// Whether the scrape timer runs (it starts with the first HPA).
    pub running: bool,
}

impl MetricsServer {
    pub fn new(interval: SimDuration, usage: Vec<UsageModel>) -> Self {
        MetricsServer {
            interval,
            usage,
            ..Default::default()
        }
    }

    /// When the last scrape happened.
    pub fn last_scrape(&self) -> Option<SimTime> {
        self.last
    }

    /// The last scrape's figures of `pod`, if it was running then.
    pub fn pod(&self, pod: &ObjKey) -> Option<&PodSample> {
        self.pods.get(pod)
    }

    /// The last scrape's request rate into Service `svc`, requests/s ×1000.
    pub fn service_rps_milli(&self, svc: &ObjKey) -> Option<i64> {
        self.services.get(svc).copied()
    }

    /// Scrape every running pod: `served(pod)` is the requests it answered so
    /// far, `sent(svc)` the requests sent to a Service so far.
    pub fn scrape(
        &mut self,
        api: &ApiServer,
        served: &dyn Fn(&ObjKey) -> f64,
        sent: &dyn Fn(&ObjKey) -> u64,
        now: SimTime,
    ) {
        let mut pods = BTreeMap::new();
        let mut prev = BTreeMap::new();
        for p in api.list::<Pod>() {
            if p.status.phase != PodPhase::Running || p.node_name.is_none() {
                continue;
            }
            let Some(start) = p.status.start_time else {
                continue;
            };
            let key = p.meta.key();
            let total = served(&key);
            let from = self.last.unwrap_or(SimTime::ZERO).max(start);
            let dt = now.since(from).as_secs_f64();
            let before = self.prev_served.get(&key).copied().unwrap_or(0.0);
            let rps = if dt > 0.0 {
                (total - before).max(0.0) / dt
            } else {
                0.0
            };
            prev.insert(key.clone(), total);
            let model = self.usage.iter().find(|u| {
                u.namespace.as_deref().is_none_or(|n| n == p.meta.namespace)
                    && matches_map(&u.selector, &p.meta.labels)
            });
            let (cpu, mem) = match model {
                Some(u) => (
                    u.base_cpu(now) + (u.cpu_per_request_millis * rps).round() as i64,
                    u.memory,
                ),
                None => (0, 0),
            };
            pods.insert(
                key,
                PodSample {
                    cpu_millis: cpu,
                    memory: mem,
                    rps_milli: (rps * 1000.0).round() as i64,
                },
            );
        }
        let mut services = BTreeMap::new();
        let mut prev_sent = BTreeMap::new();
        let dt = now.since(self.last.unwrap_or(SimTime::ZERO)).as_secs_f64();
        for s in api.list::<crate::api::Service>() {
            let key = s.meta.key();
            let total = sent(&key);
            let before = self.prev_sent.get(&key).copied().unwrap_or(0);
            if dt > 0.0 {
                services.insert(
                    key.clone(),
                    ((total.saturating_sub(before)) as f64 / dt * 1000.0).round() as i64,
                );
            }
            prev_sent.insert(key, total);
        }
        self.pods = pods;
        self.prev_served = prev;
        self.services = services;
        self.prev_sent = prev_sent;
        self.last = Some(now);
    }
}

/// Whether `p` is Running and Ready (`getReadyPodsCount`).
pub fn running_and_ready(p: &Pod) -> bool {
    p.status.phase == PodPhase::Running && p.status.ready
}
