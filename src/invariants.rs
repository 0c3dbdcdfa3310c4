//! Invariants that must hold after every event (`--check-invariants`, always on
//! in the tests): a simulator that breaks one is lying, and the run stops with
//! the event, the time and a command that reproduces it.
//!
//! What is checked:
//! - virtual time never goes back, and `resourceVersion` never decreases;
//! - no node is over-committed: the requests of the non-terminated pods bound to
//!   it (by the scheduler, or started by its kubelet) fit its allocatable;
//! - a pod is bound to one node for life (its node never changes), and at most
//!   one kubelet runs it;
//! - a Ready pod is not on a node that is known not Ready (the node-lifecycle
//!   controller marks them not ready), so nothing counts a dead node's pods as
//!   serving;
//! - a ReplicaSet never over-creates: when its active pods grow they stay within
//!   `spec.replicas`, by at most the burst (500) at a time;
//! - a Deployment's controller, once caught up with its spec, never asks its
//!   ReplicaSets for more than `replicas + maxSurge` pods (`replicas` for Recreate);
//! - a Job never grows past its parallelism.

use crate::api::node::ConditionStatus;
use crate::api::workload::DeploymentStrategy;
use crate::api::{Deployment, Job, Kind, Node, ObjKey, Pod, ReplicaSet, Uid};
use crate::sim::time::SimTime;
use crate::Simulation;
use std::collections::BTreeMap;
use std::fmt;

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which rule (`node-overcommit`, `time-monotonic`, ...).
    pub rule: &'static str,
    pub detail: String,
    pub time: SimTime,
    /// 1-based count of the event after which it was found.
    pub event: u64,
    /// The event, as the engine saw it.
    pub event_desc: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invariant {} violated at {} ({} ms), after event #{} {}: {}",
            self.rule,
            self.time,
            self.time.as_millis(),
            self.event,
            self.event_desc,
            self.detail
        )
    }
}

/// The checker's memory between events.
#[derive(Debug, Default)]
pub struct Checker {
    last_time: SimTime,
    last_rv: u64,
    /// The node each pod (by uid) was first seen bound to.
    bound: BTreeMap<Uid, String>,
    /// Active pods per ReplicaSet at the last check.
    rs_active: BTreeMap<ObjKey, i64>,
    /// Active pods per Job at the last check.
    job_active: BTreeMap<ObjKey, i32>,
    /// Events checked.
    pub checked: u64,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Check `sim` after an event; `event_desc` names that event.
    pub fn check(&mut self, sim: &Simulation, event_desc: &str) -> Result<(), Violation> {
        self.checked += 1;
        let now = sim.now();
        let fail = |rule: &'static str, detail: String| Violation {
            rule,
            detail,
            time: now,
            event: sim.events_processed(),
            event_desc: event_desc.to_string(),
        };
        if now < self.last_time {
            return Err(fail(
                "time-monotonic",
                format!("time went back from {} ms", self.last_time.as_millis()),
            ));
        }
        self.last_time = now;
        let api = sim.api();
        let rv = api.resource_version();
        if rv < self.last_rv {
            return Err(fail(
                "resource-version-monotonic",
                format!("resourceVersion went back from {} to {rv}", self.last_rv),
            ));
        }
        self.last_rv = rv;

        // Per node: what is bound there.
        #[derive(Default)]
        struct Use {
            cpu: i64,
            mem: i64,
            pods: i64,
            other: BTreeMap<String, i64>,
        }
        let mut used: BTreeMap<&str, Use> = BTreeMap::new();
        let nodes: BTreeMap<&str, &Node> = api
            .list::<Node>()
            .map(|n| (n.meta.name.as_str(), n))
            .collect();
        let mut rs_active: BTreeMap<ObjKey, i64> = BTreeMap::new();
        let mut job_active: BTreeMap<ObjKey, i32> = BTreeMap::new();
        for p in api.list::<Pod>() {
            if let Some(n) = p.node_name.as_deref() {
                match self.bound.get(&p.meta.uid) {
                    Some(first) if first != n => {
                        return Err(fail(
                            "pod-one-node",
                            format!("pod {} moved from node {first} to {n}", p.meta.key()),
                        ))
                    }
                    Some(_) => {}
                    None => {
                        self.bound.insert(p.meta.uid, n.to_string());
                    }
                }
                let counts = !p.status.phase.is_terminal()
                    && (p.status.scheduled || p.status.start_time.is_some());
                if counts {
                    let r = p.spec.requests();
                    let u = used.entry(n).or_default();
                    u.cpu += r.cpu_millis;
                    u.mem += r.memory;
                    u.pods += 1;
                    for (k, v) in r.other {
                        *u.other.entry(k).or_default() += v;
                    }
                }
                if p.status.ready {
                    let node = nodes.get(n);
                    if node.is_some_and(|node| node.status.ready != ConditionStatus::True) {
                        return Err(fail(
                            "ready-on-lost-node",
                            format!(
                                "pod {} is Ready on node {n}, which is not Ready",
                                p.meta.key()
                            ),
                        ));
                    }
                }
            }
            if p.is_active() {
                if let Some(o) = p.meta.controller_ref() {
                    let k = ObjKey::new(p.meta.namespace.clone(), o.name.clone());
                    match o.kind {
                        Kind::ReplicaSet => *rs_active.entry(k).or_default() += 1,
                        Kind::Job => *job_active.entry(k).or_default() += 1,
                        _ => {}
                    }
                }
            }
        }
        for (name, u) in &used {
            let Some(node) = nodes.get(name) else {
                continue; // a removed node: its pods are being collected
            };
            let a = &node.status.allocatable;
            let mut over = Vec::new();
            if u.cpu > a.cpu_millis {
                over.push(format!("cpu {}m > {}m", u.cpu, a.cpu_millis));
            }
            if u.mem > a.memory {
                over.push(format!("memory {} > {}", u.mem, a.memory));
            }
            if u.pods > a.pods {
                over.push(format!("pods {} > {}", u.pods, a.pods));
            }
            for (k, v) in &u.other {
                let cap = a.other.get(k).copied().unwrap_or(0);
                if *v > cap {
                    over.push(format!("{k} {v} > {cap}"));
                }
            }
            if !over.is_empty() {
                return Err(fail(
                    "node-overcommit",
                    format!("node {name} is over-committed: {}", over.join(", ")),
                ));
            }
        }
        // at most one kubelet runs a pod
        let mut runs: BTreeMap<(&ObjKey, Uid), &str> = BTreeMap::new();
        for k in sim.kubelets() {
            for (pod, uid) in k.running() {
                if let Some(other) = runs.insert((pod, uid), k.node.as_str()) {
                    return Err(fail(
                        "pod-one-node",
                        format!("pod {pod} runs on both {other} and {}", k.node),
                    ));
                }
            }
        }
        for rs in api.list::<ReplicaSet>() {
            let key = rs.meta.key();
            let now_active = rs_active.get(&key).copied().unwrap_or(0);
            let before = self.rs_active.get(&key).copied().unwrap_or(0);
            if now_active > before {
                let limit = i64::from(rs.replicas);
                if now_active > limit {
                    return Err(fail(
                        "replicaset-overcreate",
                        format!(
                            "ReplicaSet {key} grew to {now_active} active pods for {limit} replicas"
                        ),
                    ));
                }
                let burst = crate::controllers::replicaset::BURST_REPLICAS as i64;
                if now_active - before > burst {
                    return Err(fail(
                        "replicaset-burst",
                        format!(
                            "ReplicaSet {key} created {} pods at once (burst {burst})",
                            now_active - before
                        ),
                    ));
                }
            }
        }
        self.rs_active = rs_active;
        for d in api.list::<Deployment>() {
            if d.status.observed_generation < d.meta.generation || d.paused {
                continue;
            }
            let limit = match d.strategy {
                DeploymentStrategy::Recreate => d.replicas,
                DeploymentStrategy::RollingUpdate { .. } => d.replicas + d.max_surge(),
            };
            let total: i32 = api
                .dependents_of(d.meta.uid, Kind::ReplicaSet)
                .filter_map(|k| api.get::<ReplicaSet>(k))
                .map(|r| r.replicas)
                .sum();
            if total > limit {
                return Err(fail(
                    "deployment-surge",
                    format!(
                        "Deployment {} asks its ReplicaSets for {total} pods; at most {limit} (replicas {} + maxSurge)",
                        d.meta.key(),
                        d.replicas
                    ),
                ));
            }
        }
        for j in api.list::<Job>() {
            let key = j.meta.key();
            let a = job_active.get(&key).copied().unwrap_or(0);
            let before = self.job_active.get(&key).copied().unwrap_or(0);
            if a > before && a > j.parallelism.max(0) {
                return Err(fail(
                    "job-parallelism",
                    format!(
                        "Job {} has {a} active pods, parallelism {}",
                        j.meta.key(),
                        j.parallelism
                    ),
                ));
            }
        }
        self.job_active = job_active;
        Ok(())
    }
}

/// Run `sim` to its end with `checker` after every event.
pub fn run_checked(sim: &mut Simulation, checker: &mut Checker) -> Result<(), Violation> {
    let mut err = None;
    sim.run_stepwise(true, |s, d| match checker.check(s, d) {
        Ok(()) => true,
        Err(v) => {
            err = Some(v);
            false
        }
    });
    err.map_or(Ok(()), Err)
}
