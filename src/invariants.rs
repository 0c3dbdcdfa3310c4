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
//! - a Job never grows past its parallelism;
//! - a ReplicationController never over-creates (as a ReplicaSet);
//! - a StatefulSet with `OrderedReady` creates pod `<set>-N` only while pods
//!   `0..N` are all Running and Ready;
//! - a DaemonSet runs at most one active pod per node (two during a surge
//!   rolling update, `maxSurge` > 0).

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

/// What the checker remembers of one pod.
#[derive(Debug, Clone)]
struct PodEntry {
    uid: Uid,
    node: Option<String>,
    /// Counts against its node's allocatable.
    counted: bool,
    cpu: i64,
    mem: i64,
    other: Vec<(String, i64)>,
    ready: bool,
    /// The controller it counts as active for (ReplicaSet or Job).
    active_for: Option<(Kind, ObjKey)>,
}

#[derive(Debug, Default, Clone)]
struct NodeUse {
    cpu: i64,
    mem: i64,
    pods: i64,
    other: BTreeMap<String, i64>,
    ready_pods: i64,
}

/// The checker's memory between events. It follows the API changes of each
/// event ([`Simulation::last_changes`]), so a check costs what the event
/// changed, not the size of the cluster; the first check looks at everything.
#[derive(Debug, Default)]
pub struct Checker {
    started: bool,
    last_time: SimTime,
    last_rv: u64,
    pods: BTreeMap<ObjKey, PodEntry>,
    /// The node each pod (by uid) was first seen bound to.
    bound: BTreeMap<Uid, String>,
    nodes: BTreeMap<String, NodeUse>,
    /// Active pods per ReplicaSet / Job, now and at the last check.
    active: BTreeMap<(Kind, ObjKey), i64>,
    active_before: BTreeMap<(Kind, ObjKey), i64>,
    /// Events checked.
    pub checked: u64,
}

type Dirty = (
    std::collections::BTreeSet<String>,
    std::collections::BTreeSet<(Kind, ObjKey)>,
    std::collections::BTreeSet<ObjKey>,
);

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget `key`'s old entry and record its current state.
    fn upsert_pod(
        &mut self,
        api: &crate::api::ApiServer,
        key: &ObjKey,
        dirty: &mut Dirty,
    ) -> Result<(), (&'static str, String)> {
        if let Some(old) = self.pods.remove(key) {
            if let Some(n) = &old.node {
                let u = self.nodes.entry(n.clone()).or_default();
                if old.counted {
                    u.cpu -= old.cpu;
                    u.mem -= old.mem;
                    u.pods -= 1;
                    for (k, v) in &old.other {
                        *u.other.entry(k.clone()).or_default() -= v;
                    }
                }
                if old.ready {
                    u.ready_pods -= 1;
                }
                dirty.0.insert(n.clone());
            }
            if let Some(o) = old.active_for {
                *self.active.entry(o.clone()).or_default() -= 1;
                dirty.1.insert(o);
            }
        }
        let Some(p) = api.get::<Pod>(key) else {
            return Ok(());
        };
        if let Some(n) = p.node_name.as_deref() {
            match self.bound.get(&p.meta.uid) {
                Some(first) if first != n => {
                    return Err((
                        "pod-one-node",
                        format!("pod {key} moved from node {first} to {n}"),
                    ))
                }
                Some(_) => {}
                None => {
                    self.bound.insert(p.meta.uid, n.to_string());
                }
            }
        }
        let counted = p.node_name.is_some()
            && !p.status.phase.is_terminal()
            && (p.status.scheduled || p.status.start_time.is_some());
        let r = if counted {
            Some(p.spec.requests())
        } else {
            None
        };
        let active_for = p
            .is_active()
            .then(|| p.meta.controller_ref())
            .flatten()
            .filter(|o| {
                matches!(
                    o.kind,
                    Kind::ReplicaSet | Kind::Job | Kind::ReplicationController
                )
            })
            .map(|o| {
                (
                    o.kind,
                    ObjKey::new(p.meta.namespace.clone(), o.name.clone()),
                )
            });
        let e = PodEntry {
            uid: p.meta.uid,
            node: p.node_name.clone(),
            counted,
            cpu: r.as_ref().map_or(0, |r| r.cpu_millis),
            mem: r.as_ref().map_or(0, |r| r.memory),
            other: r.map(|r| r.other.into_iter().collect()).unwrap_or_default(),
            ready: p.status.ready && p.node_name.is_some(),
            active_for,
        };
        if let Some(n) = &e.node {
            let u = self.nodes.entry(n.clone()).or_default();
            if e.counted {
                u.cpu += e.cpu;
                u.mem += e.mem;
                u.pods += 1;
                for (k, v) in &e.other {
                    *u.other.entry(k.clone()).or_default() += v;
                }
            }
            if e.ready {
                u.ready_pods += 1;
            }
            dirty.0.insert(n.clone());
        }
        if let Some(o) = &e.active_for {
            *self.active.entry(o.clone()).or_default() += 1;
            dirty.1.insert(o.clone());
        }
        let _ = e.uid;
        self.pods.insert(key.clone(), e);
        Ok(())
    }

    /// Check `sim` after an event; `event_desc` names that event. With change
    /// tracking off in `sim`, every check looks at the whole cluster.
    pub fn check(&mut self, sim: &Simulation, event_desc: &str) -> Result<(), Violation> {
        self.checked += 1;
        let now = sim.now();
        let fail = |(rule, detail): (&'static str, String)| Violation {
            rule,
            detail,
            time: now,
            event: sim.events_processed(),
            event_desc: event_desc.to_string(),
        };
        if now < self.last_time {
            return Err(fail((
                "time-monotonic",
                format!("time went back from {} ms", self.last_time.as_millis()),
            )));
        }
        self.last_time = now;
        let api = sim.api();
        let rv = api.resource_version();
        if rv < self.last_rv {
            return Err(fail((
                "resource-version-monotonic",
                format!("resourceVersion went back from {} to {rv}", self.last_rv),
            )));
        }
        self.last_rv = rv;

        let mut dirty: Dirty = Default::default();
        let full = !self.started || !sim.tracks_changes();
        if full {
            self.pods.clear();
            self.nodes.clear();
            self.active.clear();
            self.started = true;
            let keys: Vec<ObjKey> = api.list::<Pod>().map(|p| p.meta.key()).collect();
            for k in keys {
                self.upsert_pod(api, &k, &mut dirty).map_err(fail)?;
            }
            dirty
                .0
                .extend(api.list::<Node>().map(|n| n.meta.name.clone()));
            dirty.1.extend(
                api.list::<ReplicaSet>()
                    .map(|r| (Kind::ReplicaSet, r.meta.key())),
            );
            dirty
                .1
                .extend(api.list::<Job>().map(|j| (Kind::Job, j.meta.key())));
            dirty
                .2
                .extend(api.list::<Deployment>().map(|d| d.meta.key()));
        } else {
            for c in sim.last_changes() {
                match c.kind {
                    Kind::Pod => self.upsert_pod(api, &c.key, &mut dirty).map_err(fail)?,
                    Kind::Node => {
                        dirty.0.insert(c.key.name.clone());
                    }
                    Kind::ReplicaSet => {
                        dirty.1.insert((Kind::ReplicaSet, c.key.clone()));
                        if let Some((Kind::Deployment, d)) = &c.owner {
                            dirty
                                .2
                                .insert(ObjKey::new(c.key.namespace.clone(), d.clone()));
                        }
                    }
                    Kind::Deployment => {
                        dirty.2.insert(c.key.clone());
                    }
                    Kind::Job => {
                        dirty.1.insert((Kind::Job, c.key.clone()));
                    }
                    Kind::ReplicationController => {
                        dirty.1.insert((Kind::ReplicationController, c.key.clone()));
                    }
                    _ => {}
                }
            }
        }
        for name in &dirty.0 {
            let Some(u) = self.nodes.get(name) else {
                continue;
            };
            let Some(node) = api.get::<Node>(&ObjKey::cluster(name.clone())) else {
                continue; // a removed node: its pods are being collected
            };
            if u.ready_pods > 0 && node.status.ready != ConditionStatus::True {
                let pod = self
                    .pods
                    .iter()
                    .find(|(_, e)| e.ready && e.node.as_deref() == Some(name.as_str()))
                    .map(|(k, _)| k.to_string())
                    .unwrap_or_default();
                return Err(fail((
                    "ready-on-lost-node",
                    format!("pod {pod} is Ready on node {name}, which is not Ready"),
                )));
            }
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
                return Err(fail((
                    "node-overcommit",
                    format!("node {name} is over-committed: {}", over.join(", ")),
                )));
            }
        }
        // at most one kubelet runs a pod
        let mut runs: BTreeMap<(&ObjKey, Uid), &str> = BTreeMap::new();
        for k in sim.kubelets() {
            for (pod, uid) in k.running() {
                if let Some(other) = runs.insert((pod, uid), k.node.as_str()) {
                    return Err(fail((
                        "pod-one-node",
                        format!("pod {pod} runs on both {other} and {}", k.node),
                    )));
                }
            }
        }
        for owner in &dirty.1 {
            let now_active = self.active.get(owner).copied().unwrap_or(0);
            let before = self.active_before.get(owner).copied().unwrap_or(0);
            self.active_before.insert(owner.clone(), now_active);
            if now_active <= before {
                continue;
            }
            let (kind, key) = owner;
            let limit = match kind {
                Kind::ReplicaSet => api.get::<ReplicaSet>(key).map(|r| i64::from(r.replicas)),
                Kind::ReplicationController => api
                    .get::<crate::api::ReplicationController>(key)
                    .map(|r| i64::from(r.replicas)),
                _ => api.get::<Job>(key).map(|j| i64::from(j.parallelism.max(0))),
            };
            let Some(limit) = limit else { continue };
            if now_active > limit {
                let (rule, what) = match kind {
                    Kind::ReplicaSet | Kind::ReplicationController => {
                        ("replicaset-overcreate", "replicas")
                    }
                    _ => ("job-parallelism", "parallelism"),
                };
                return Err(fail((
                    rule,
                    format!("{kind} {key} grew to {now_active} active pods for {limit} {what}"),
                )));
            }
            let burst = crate::controllers::replicaset::BURST_REPLICAS as i64;
            if now_active - before > burst {
                return Err(fail((
                    "replicaset-burst",
                    format!(
                        "{kind} {key} created {} pods at once (burst {burst})",
                        now_active - before
                    ),
                )));
            }
        }
        if !full {
            for c in sim.last_changes() {
                if c.kind == Kind::Pod && c.op == crate::api::Op::Added {
                    workload_pod_added(api, &c.key).map_err(fail)?;
                }
            }
        }
        for key in &dirty.2 {
            let Some(d) = api.get::<Deployment>(key) else {
                continue;
            };
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
                return Err(fail((
                    "deployment-surge",
                    format!(
                        "Deployment {key} asks its ReplicaSets for {total} pods; at most {limit} (replicas {} + maxSurge)",
                        d.replicas
                    ),
                )));
            }
        }
        Ok(())
    }
}

/// Run `sim` to its end with `checker` after every event.
pub fn run_checked(sim: &mut Simulation, checker: &mut Checker) -> Result<(), Violation> {
    sim.set_track_changes(true);
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

/// A pod was just created: the StatefulSet ordering and DaemonSet one-per-node rules.
fn workload_pod_added(
    api: &crate::api::ApiServer,
    key: &ObjKey,
) -> Result<(), (&'static str, String)> {
    use crate::api::apps::{DaemonSetUpdateStrategy, PodManagementPolicy};
    use crate::api::{DaemonSet, StatefulSet};
    let Some(p) = api.get::<Pod>(key) else {
        return Ok(());
    };
    let Some(owner) = p.meta.controller_ref() else {
        return Ok(());
    };
    let okey = ObjKey::new(key.namespace.clone(), owner.name.clone());
    match owner.kind {
        Kind::StatefulSet => {
            let Some(set) = api.get::<StatefulSet>(&okey) else {
                return Ok(());
            };
            if set.pod_management_policy != PodManagementPolicy::OrderedReady {
                return Ok(());
            }
            let Some(n) = crate::controllers::statefulset::ordinal_of(&set.meta.name, &key.name)
            else {
                return Ok(());
            };
            for i in 0..n {
                let lower = ObjKey::new(key.namespace.clone(), format!("{}-{i}", set.meta.name));
                let ok = api.get::<Pod>(&lower).is_some_and(|q| {
                    q.status.phase == crate::api::PodPhase::Running
                        && q.status.ready
                        && !q.is_terminating()
                });
                if !ok {
                    return Err((
                        "statefulset-ordered",
                        format!(
                            "StatefulSet {okey} created {} while {} was not Running and Ready (OrderedReady)",
                            key.name, lower.name
                        ),
                    ));
                }
            }
        }
        Kind::DaemonSet => {
            let Some(ds) = api.get::<DaemonSet>(&okey) else {
                return Ok(());
            };
            let Some(node) = crate::controllers::daemonset::target_node(p) else {
                return Ok(());
            };
            let surge = matches!(
                ds.update_strategy,
                DaemonSetUpdateStrategy::RollingUpdate { max_surge, .. }
                    if max_surge.scaled(100, true) > 0
            );
            let limit = if surge { 2 } else { 1 };
            let n = api
                .dependents_of(ds.meta.uid, Kind::Pod)
                .filter_map(|k| api.get::<Pod>(k))
                .filter(|q| q.is_active())
                .filter(|q| crate::controllers::daemonset::target_node(q) == Some(node))
                .count();
            if n > limit {
                return Err((
                    "daemonset-one-per-node",
                    format!(
                        "DaemonSet {okey} has {n} active pods for node {node} (at most {limit})"
                    ),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}
