//! The data plane: kube-proxy's routing view and the traffic of the scenario's
//! clients.
//!
//! kube-proxy. Every node's kube-proxy watches Services (and their endpoints)
//! and reprograms its rules at most once per `minSyncPeriod` (1 s). All proxies
//! that can hear the API see the same changes at the same moments, so they are
//! modelled as one shared view; it lags the endpoints controller by the watch
//! delay plus the sync wait. Mode `iptables` spreads new connections uniformly
//! over the ready endpoints, `ipvs` round-robin — in aggregate the same shares.
//!
//! Traffic is simulated in aggregate, not request by request: between two
//! moments where routing or the pods' ability to answer can change (a proxy
//! sync, a kubelet event, a fault, a sample), every client's share of requests
//! sent to each endpoint is fixed, so the requests of the interval are split
//! exactly in expectation — with the fractions carried over, so counts stay
//! integers and sum exactly. The cost grows with the number of changes, not
//! with the request rate. A request to an endpoint whose pod does not answer
//! (crashed node, stopped or not yet started app) times out after the client's
//! timeout; with no ready endpoint at all it is refused at once.

pub mod cloud;

use crate::api::{ObjKey, Service};
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One `traffic:` client, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSpec {
    pub name: String,
    pub service: ObjKey,
    /// Requests per second.
    pub rate: f64,
    /// How long a client waits for an answer that does not come.
    pub timeout: SimDuration,
    /// How long a pod takes to answer one request.
    pub service_time: SimDuration,
    /// When the client starts sending.
    pub start: SimDuration,
}

/// kube-proxy settings (`cluster.kubeProxy`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySettings {
    /// `--iptables-min-sync-period` / `minSyncPeriod`.
    pub min_sync: SimDuration,
    /// `iptables` or `ipvs`.
    pub mode: String,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            min_sync: SimDuration::from_secs(1),
            mode: "iptables".into(),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Counts {
    requests: u64,
    succeeded: u64,
    failed: u64,
    timed_out: u64,
}

struct Client {
    spec: ClientSpec,
    /// Fractions of a request not yet counted (sent, failed).
    carry: f64,
    carry_bad: f64,
}

/// Per Service in `summary.json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceFigures {
    pub requests: u64,
    pub succeeded: u64,
    /// Refused at once: no ready endpoint in the routing view.
    pub failed: u64,
    /// Sent to an endpoint that did not answer.
    pub timed_out: u64,
    /// succeeded / requests (null without requests).
    pub success_ratio: Option<f64>,
    /// Latency percentiles over all requests (a success takes the service
    /// time; a timeout the client's timeout; a refusal 0).
    pub latency_ms: crate::metrics::summary::Percentiles,
}

pub struct DataPlane {
    settings: ProxySettings,
    /// The shared routing view: per Service, its ready endpoints (pod, node).
    view: BTreeMap<ObjKey, Vec<(ObjKey, String)>>,
    dirty: BTreeSet<ObjKey>,
    last_sync: Option<SimTime>,
    sync_at: Option<SimTime>,
    clients: Vec<Client>,
    last_flush: SimTime,
    counts: BTreeMap<ObjKey, Counts>,
    /// Per-client latency tallies: (latency ms, requests).
    latencies: BTreeMap<ObjKey, BTreeMap<u64, u64>>,
    /// Failed or timed-out requests per flush: (interval start, end, count).
    pub failures: Vec<(SimTime, SimTime, u64)>,
    /// Per minute and Service: requests, failed, timed out (for traffic.csv).
    pub series: BTreeMap<(u64, ObjKey), (u64, u64, u64)>,
}

impl DataPlane {
    pub fn new(settings: ProxySettings, clients: &[ClientSpec]) -> Self {
        DataPlane {
            settings,
            view: BTreeMap::new(),
            dirty: BTreeSet::new(),
            last_sync: None,
            sync_at: None,
            clients: clients
                .iter()
                .map(|c| Client {
                    spec: c.clone(),
                    carry: 0.0,
                    carry_bad: 0.0,
                })
                .collect(),
            last_flush: SimTime::ZERO,
            counts: BTreeMap::new(),
            latencies: BTreeMap::new(),
            failures: Vec::new(),
            series: BTreeMap::new(),
        }
    }

    /// Whether any client sends traffic.
    pub fn has_traffic(&self) -> bool {
        !self.clients.is_empty()
    }

    /// A Service changed: its endpoints reach the view at the next sync.
    /// Returns when that sync should run, if a new one is needed.
    pub fn on_service_change(&mut self, key: &ObjKey, now: SimTime) -> Option<SimTime> {
        self.dirty.insert(key.clone());
        if self.sync_at.is_some() {
            return None;
        }
        let at = match self.last_sync {
            Some(t) => (t + self.settings.min_sync).max(now),
            None => now,
        };
        self.sync_at = Some(at);
        Some(at)
    }

    /// kube-proxy syncs: the dirty Services' ready endpoints become the view.
    pub fn sync(&mut self, api: &crate::api::ApiServer, now: SimTime) {
        self.sync_at = None;
        self.last_sync = Some(now);
        for key in std::mem::take(&mut self.dirty) {
            match api.get::<Service>(&key) {
                None => {
                    self.view.remove(&key);
                }
                Some(s) => {
                    let eps = s
                        .status
                        .endpoints
                        .iter()
                        .filter(|e| e.ready)
                        .map(|e| (e.pod.clone(), e.node.clone()))
                        .collect();
                    self.view.insert(key, eps);
                }
            }
        }
    }

    /// Count the requests of every client from the last flush until `now`,
    /// with routing and pods as they are now. `serves(pod, node)` says whether
    /// a pod answers.
    pub fn flush(&mut self, now: SimTime, serves: &dyn Fn(&ObjKey, &str) -> bool) {
        if now <= self.last_flush || self.clients.is_empty() {
            self.last_flush = self.last_flush.max(now);
            return;
        }
        // minute by minute, so the per-minute series is exact
        while self.last_flush < now {
            let next_minute =
                SimTime::from_millis((self.last_flush.as_millis() / 60_000 + 1) * 60_000);
            self.flush_segment(next_minute.min(now), serves);
        }
    }

    fn flush_segment(&mut self, now: SimTime, serves: &dyn Fn(&ObjKey, &str) -> bool) {
        let from = self.last_flush;
        let mut bad_total = 0;
        for c in &mut self.clients {
            let begin = from.max(SimTime::ZERO + c.spec.start);
            if now <= begin {
                continue;
            }
            let dt = now.since(begin).as_millis() as f64 / 1000.0;
            let exact = c.spec.rate * dt + c.carry;
            let n = exact.floor();
            c.carry = exact - n;
            let n = n as u64;
            let eps = self.view.get(&c.spec.service);
            let (good_share, refused) = match eps {
                None => (0.0, true),
                Some(v) if v.is_empty() => (0.0, true),
                Some(v) => {
                    let good = v.iter().filter(|(p, node)| serves(p, node)).count();
                    (good as f64 / v.len() as f64, false)
                }
            };
            let exact_bad = n as f64 * (1.0 - good_share) + c.carry_bad;
            let bad = exact_bad.floor().min(n as f64);
            c.carry_bad = exact_bad - bad;
            let bad = bad as u64;
            let k = self.counts.entry(c.spec.service.clone()).or_default();
            k.requests += n;
            k.succeeded += n - bad;
            let lat = self.latencies.entry(c.spec.service.clone()).or_default();
            *lat.entry(c.spec.service_time.as_millis()).or_default() += n - bad;
            if refused {
                k.failed += bad;
                *lat.entry(0).or_default() += bad;
            } else {
                k.timed_out += bad;
                *lat.entry(c.spec.timeout.as_millis()).or_default() += bad;
            }
            let minute = from.as_millis() / 60_000;
            let row = self
                .series
                .entry((minute, c.spec.service.clone()))
                .or_default();
            row.0 += n;
            if refused {
                row.1 += bad;
            } else {
                row.2 += bad;
            }
            bad_total += bad;
        }
        if bad_total > 0 {
            self.failures.push((from, now, bad_total));
        }
        self.last_flush = now;
    }

    /// Per-Service figures.
    pub fn figures(&self) -> BTreeMap<String, ServiceFigures> {
        self.counts
            .iter()
            .map(|(k, c)| {
                let lat = &self.latencies[k];
                let pct = |q: f64| -> Option<u64> {
                    if c.requests == 0 {
                        return None;
                    }
                    let rank = ((q * c.requests as f64).ceil() as u64).max(1);
                    let mut seen = 0;
                    for (ms, n) in lat {
                        seen += n;
                        if seen >= rank {
                            return Some(*ms);
                        }
                    }
                    lat.keys().next_back().copied()
                };
                (
                    k.to_string(),
                    ServiceFigures {
                        requests: c.requests,
                        succeeded: c.succeeded,
                        failed: c.failed,
                        timed_out: c.timed_out,
                        success_ratio: (c.requests > 0)
                            .then(|| c.succeeded as f64 / c.requests as f64),
                        latency_ms: crate::metrics::summary::Percentiles {
                            p50: pct(0.5),
                            p99: pct(0.99),
                            max: lat.iter().rev().find(|(_, n)| **n > 0).map(|(ms, _)| *ms),
                        },
                    },
                )
            })
            .collect()
    }

    /// Failed and timed-out requests in [from, to] (whole flush intervals that
    /// overlap it, pro rata).
    pub fn failures_between(&self, from: SimTime, to: SimTime) -> u64 {
        let mut sum = 0.0;
        for (a, b, n) in &self.failures {
            let lo = (*a).max(from);
            let hi = (*b).min(to);
            if hi > lo {
                let share = hi.since(lo).as_millis() as f64 / b.since(*a).as_millis() as f64;
                sum += *n as f64 * share;
            }
        }
        sum.round() as u64
    }
}
