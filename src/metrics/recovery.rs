//! Recovery figures: how long each Deployment was below its desired
//! availability, its rollouts, and what each injected fault cost.
//!
//! The engine shows this tracker every Deployment write (spec or status) as it
//! happens, so availability is integrated exactly over virtual time, not from
//! periodic samples. A fault's `recovery_ms` is read off the availability
//! record at the end of the run: for every Deployment the fault affected (those
//! with pods on its nodes when it struck, the owners of the pods it killed, or
//! every Deployment for a control-plane or registry fault), the end of its last
//! stretch below desired availability that began while the fault was active or
//! within `horizon` of its heal (a node's loss shows only after the
//! node-monitor grace period). The latest such end, minus the fault's start, is
//! `recovery_ms`; 0 if no affected Deployment lost availability; null if one never
//! got it back.

use crate::api::{ApiServer, Change, Deployment, Kind, ObjKey, Pod, ReplicaSet, Uid};
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One rollout: a new pod template, from the write that set it until the
/// Deployment has all its replicas updated and available.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rollout {
    /// 1 for the first template, 2 for the next, ...
    pub number: u32,
    pub start_ms: u64,
    /// Null while unfinished (or replaced by a newer rollout before finishing).
    pub end_ms: Option<u64>,
    pub duration_ms: Option<u64>,
}

/// Per Deployment.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Availability {
    /// Virtual seconds with fewer available replicas than `spec.replicas`
    /// (including the initial start-up).
    pub below_desired_seconds: f64,
    /// ∫ (spec.replicas − available)⁺ dt, in pod-seconds.
    pub unavailable_pod_seconds: f64,
    /// Rollouts that reached all replicas updated and available.
    pub rollouts_completed: u32,
    pub rollouts: Vec<Rollout>,
}

/// Per fault, in the order they struck.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FaultFigures {
    /// `node-crash`, `zone-outage`, `api-server-down`, ...
    pub kind: String,
    /// What it hit (`Node/a-1`, `Zone/us-east-1a`, `ControlPlane/etcd`, ...).
    pub target: String,
    pub start_ms: u64,
    /// When it healed (`for:`, `node-recover`); null if it lasted to the end.
    pub heal_ms: Option<u64>,
    /// `namespace/name` of the Deployments it affected.
    pub affected_deployments: Vec<String>,
    /// Pods the taint manager evicted from the fault's nodes (any node for a
    /// control-plane fault) between its start and its recovery.
    pub pods_evicted: u64,
    /// Replacement pods of the affected Deployments created after the start and
    /// scheduled before the recovery.
    pub pods_rescheduled: u64,
    /// From the start until every affected Deployment was fully available again.
    pub recovery_ms: Option<u64>,
    /// Requests that failed or timed out between the start and the later of
    /// the heal and the recovery (null without traffic).
    pub requests_failed: Option<u64>,
}

#[derive(Debug, Default)]
struct Track {
    desired: i32,
    available: i32,
    since: SimTime,
    below_ms: u64,
    /// In pod-milliseconds.
    unavailable_pod_ms: u128,
    /// Stretches below desired availability: (start, end).
    below: Vec<(SimTime, Option<SimTime>)>,
    template: Option<crate::api::pod::PodTemplate>,
    rollouts: Vec<(SimTime, Option<SimTime>)>,
    gone: bool,
}

impl Track {
    fn advance(&mut self, now: SimTime) {
        let dt = now.since(self.since).as_millis();
        if self.available < self.desired && !self.gone {
            self.below_ms += dt;
            self.unavailable_pod_ms += u128::from(dt) * (self.desired - self.available) as u128;
        }
        self.since = now;
    }
    fn is_below(&self) -> bool {
        !self.gone && self.available < self.desired
    }
}

#[derive(Debug)]
struct FaultTrack {
    kind: String,
    target: String,
    start: SimTime,
    heal: Option<SimTime>,
    nodes: Vec<String>,
    /// Crashed nodes not yet back (`node-recover` heals a crash node by node).
    remaining: BTreeSet<String>,
    /// (Asked at every binding while the fault is tracked: a hash set, an
    /// ordered search over up to 3,000 names was 2.6% of a day's run; sorted
    /// for the report.)
    affected: crate::api::table::LookupSet<ObjKey>,
    /// Replacement pods seen scheduled, with when.
    bound: Vec<SimTime>,
    /// (Asked at every pod binding while the fault is tracked, never
    /// listed: a hash set.)
    seen: crate::api::table::LookupSet<Uid>,
    tracking: bool,
    /// [`Recovery::below_moves`] when this fault was last found to have an
    /// affected Deployment still short: until a Deployment's shortfall
    /// starts or ends, the answer stands and is not looked for again.
    short_at: Option<u64>,
}

pub struct Recovery {
    horizon: SimDuration,
    deployments: BTreeMap<ObjKey, Track>,
    faults: Vec<FaultTrack>,
    open: usize,
    /// Bumped whenever a Deployment's shortfall starts or ends. (Each pod
    /// change asked every healed fault whether all its Deployments were
    /// whole again, one ordered-map search per Deployment: after a zone
    /// outage, 3,000 searches per pod change, 7% of the 5,000-node day.)
    below_moves: u64,
}

/// The Deployment that controls `pod` through its ReplicaSet.
fn deployment_of(api: &ApiServer, pod: &Pod) -> Option<ObjKey> {
    let rs_ref = pod
        .meta
        .controller_ref()
        .filter(|o| o.kind == Kind::ReplicaSet)?;
    let rs = api.get::<ReplicaSet>(&ObjKey::new(
        pod.meta.namespace.clone(),
        rs_ref.name.clone(),
    ))?;
    let d = rs
        .meta
        .controller_ref()
        .filter(|o| o.kind == Kind::Deployment)?;
    Some(ObjKey::new(pod.meta.namespace.clone(), d.name.clone()))
}

impl Recovery {
    /// `horizon`: how long after a fault heals its effects may still begin.
    pub fn new(horizon: SimDuration) -> Self {
        Recovery {
            horizon,
            deployments: BTreeMap::new(),
            faults: Vec::new(),
            open: 0,
            below_moves: 0,
        }
    }

    /// An API write happened (called for every change, in order).
    pub fn observe(&mut self, api: &ApiServer, c: &Change, now: SimTime) {
        match c.kind {
            Kind::Deployment => self.observe_deployment(api, &c.key, now),
            Kind::Pod if self.open > 0 && c.node.is_some() => self.observe_pod(api, c, now),
            _ => {}
        }
    }

    fn observe_deployment(&mut self, api: &ApiServer, key: &ObjKey, now: SimTime) {
        let t = self
            .deployments
            .entry(key.clone())
            .or_insert_with(|| Track {
                since: now,
                ..Default::default()
            });
        t.advance(now);
        let was_below = t.is_below();
        match api.get::<Deployment>(key) {
            None => t.gone = true,
            Some(d) => {
                if t.gone {
                    // deleted and created again: a new life
                    *t = Track {
                        since: now,
                        ..Default::default()
                    };
                }
                t.desired = d.replicas;
                t.available = d.status.available_replicas;
                if t.template.as_ref() != Some(&d.template) {
                    t.template = Some(d.template.clone());
                    t.rollouts.push((now, None));
                }
                let st = &d.status;
                let done = st.updated_replicas == d.replicas
                    && st.available_replicas == d.replicas
                    && st.replicas == d.replicas
                    && st.observed_generation >= d.meta.generation;
                if let Some(r) = t.rollouts.last_mut().filter(|r| r.1.is_none() && done) {
                    r.1 = Some(now);
                }
            }
        }
        if was_below != t.is_below() {
            self.below_moves += 1;
        }
        match (was_below, t.is_below()) {
            (false, true) => t.below.push((now, None)),
            (true, false) => {
                if let Some(b) = t.below.last_mut() {
                    b.1 = Some(now);
                }
            }
            _ => {}
        }
    }

    fn observe_pod(&mut self, api: &ApiServer, c: &Change, now: SimTime) {
        let Some(pod) = api.get::<Pod>(&c.key) else {
            return;
        };
        let mut dep = None;
        let mut closed = 0;
        for f in self.faults.iter_mut().filter(|f| f.tracking) {
            // stop watching pods once the fault is over and nothing it hit is
            // short (looked for again only after some shortfall moved)
            if f.heal.is_some_and(|h| now > h + self.horizon)
                && f.short_at != Some(self.below_moves)
            {
                let whole = f
                    .affected
                    .iter()
                    .all(|d| self.deployments.get(d).is_none_or(|t| !t.is_below()));
                if whole {
                    f.tracking = false;
                    closed += 1;
                    continue;
                }
                f.short_at = Some(self.below_moves);
            }
            debug_assert!(
                f.heal.is_none_or(|h| now <= h + self.horizon)
                    || f.affected
                        .iter()
                        .any(|d| self.deployments.get(d).is_some_and(Track::is_below)),
                "a healed fault whose Deployments are whole is still tracked"
            );
            if pod.meta.creation_timestamp < f.start || f.seen.contains(&pod.meta.uid) {
                continue;
            }
            let d = dep.get_or_insert_with(|| deployment_of(api, pod));
            if d.as_ref().is_some_and(|d| f.affected.contains(d)) {
                f.seen.insert(pod.meta.uid);
                f.bound.push(now);
            }
        }
        self.open -= closed;
    }

    /// A fault struck; returns its id.
    pub fn fault_started(
        &mut self,
        api: &ApiServer,
        kind: &str,
        target: String,
        nodes: &[String],
        pods: &[ObjKey],
        now: SimTime,
    ) -> u32 {
        let mut affected = BTreeSet::new();
        if !pods.is_empty() {
            for k in pods {
                if let Some(d) = api.get::<Pod>(k).and_then(|p| deployment_of(api, p)) {
                    affected.insert(d);
                }
            }
        } else if !nodes.is_empty() {
            let set: BTreeSet<&str> = nodes.iter().map(String::as_str).collect();
            for p in api.list::<Pod>() {
                if p.node_name.as_deref().is_some_and(|n| set.contains(n)) {
                    if let Some(d) = deployment_of(api, p) {
                        affected.insert(d);
                    }
                }
            }
        } else {
            affected.extend(api.list::<Deployment>().map(|d| d.meta.key()));
        }
        for d in &affected {
            if !self.deployments.contains_key(d) {
                self.observe_deployment(api, d, now);
            }
        }
        let crash = kind == "node-crash" || kind == "zone-outage";
        self.faults.push(FaultTrack {
            kind: kind.to_string(),
            target,
            start: now,
            heal: None,
            nodes: nodes.to_vec(),
            remaining: if crash {
                nodes.iter().cloned().collect()
            } else {
                BTreeSet::new()
            },
            affected: affected.into_iter().collect(),
            bound: Vec::new(),
            seen: crate::api::table::lookup_set(),
            tracking: true,
            short_at: None,
        });
        self.open += 1;
        (self.faults.len() - 1) as u32
    }

    /// The fault's `for:` is over (or it was instantaneous).
    pub fn fault_healed(&mut self, id: u32, now: SimTime) {
        if let Some(f) = self.faults.get_mut(id as usize) {
            f.heal.get_or_insert(now);
            f.remaining.clear();
        }
    }

    /// A crashed node came back: a crash fault heals when all its nodes are back.
    pub fn node_recovered(&mut self, node: &str, now: SimTime) {
        for f in self.faults.iter_mut().filter(|f| f.heal.is_none()) {
            if f.remaining.remove(node) && f.remaining.is_empty() {
                f.heal = Some(now);
            }
        }
    }

    /// Per-Deployment figures at `end`.
    pub fn availability(&self, end: SimTime) -> BTreeMap<String, Availability> {
        self.deployments
            .iter()
            .filter(|(_, t)| !t.gone)
            .map(|(k, t)| {
                let mut t2 = Track {
                    desired: t.desired,
                    available: t.available,
                    since: t.since,
                    ..Default::default()
                };
                t2.advance(end);
                let below = t.below_ms + t2.below_ms;
                let pod_ms = t.unavailable_pod_ms + t2.unavailable_pod_ms;
                let rollouts: Vec<Rollout> = t
                    .rollouts
                    .iter()
                    .enumerate()
                    .map(|(i, (s, e))| Rollout {
                        number: i as u32 + 1,
                        start_ms: s.as_millis(),
                        end_ms: e.map(|e| e.as_millis()),
                        duration_ms: e.map(|e| e.since(*s).as_millis()),
                    })
                    .collect();
                (
                    k.to_string(),
                    Availability {
                        below_desired_seconds: below as f64 / 1000.0,
                        unavailable_pod_seconds: pod_ms as f64 / 1000.0,
                        rollouts_completed: rollouts.iter().filter(|r| r.end_ms.is_some()).count()
                            as u32,
                        rollouts,
                    },
                )
            })
            .collect()
    }

    /// Per-fault figures at `end`; `evictions` is the taint manager's log of
    /// (time, node).
    pub fn faults(&self, end: SimTime, evictions: &[(SimTime, String)]) -> Vec<FaultFigures> {
        self.faults
            .iter()
            .map(|f| {
                let window_end = match f.heal {
                    Some(h) => (h + self.horizon).min(end.max(h)),
                    None => end,
                };
                let mut affected: Vec<&ObjKey> = f.affected.iter().collect();
                affected.sort_unstable();
                let mut rec: Option<SimTime> = Some(f.start);
                for d in &affected {
                    let Some(t) = self.deployments.get(d) else {
                        continue;
                    };
                    let last = t
                        .below
                        .iter()
                        .rfind(|(s, e)| *s <= window_end && e.is_none_or(|e| e > f.start));
                    match last {
                        None => {}
                        Some((_, None)) => rec = None,
                        Some((_, Some(e))) => rec = rec.map(|r| r.max(*e)),
                    }
                    if rec.is_none() {
                        break;
                    }
                }
                let until = rec.unwrap_or(end);
                let nodes: BTreeSet<&str> = f.nodes.iter().map(String::as_str).collect();
                let pods_evicted = evictions
                    .iter()
                    .filter(|(t, n)| {
                        *t >= f.start
                            && *t <= until
                            && (nodes.is_empty() || nodes.contains(n.as_str()))
                    })
                    .count() as u64;
                FaultFigures {
                    kind: f.kind.clone(),
                    target: f.target.clone(),
                    start_ms: f.start.as_millis(),
                    heal_ms: f.heal.map(|h| h.as_millis()),
                    affected_deployments: affected.iter().map(|k| k.to_string()).collect(),
                    pods_evicted,
                    pods_rescheduled: f.bound.iter().filter(|t| **t <= until).count() as u64,
                    recovery_ms: rec.map(|r| r.since(f.start).as_millis()),
                    requests_failed: None,
                }
            })
            .collect()
    }
}
