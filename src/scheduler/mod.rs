//! kube-scheduler: watches pending pods, filters and scores nodes through a
//! [`framework::Profile`], and binds each pod by writing its node name to the API.
//!
//! The scheduler keeps its own cache of what is requested on each node (like the
//! real scheduler cache) and counts a pod the moment it binds it ("assume"), so the
//! next cycle never double-books capacity while the watch is in flight.

pub mod framework;
pub mod plugins;
pub mod queue;

use crate::api::pod::PodRequests;
use crate::api::{Change, Kind, Node, ObjKey, Op, Pod, Uid};
use crate::metrics::EventType;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Event};
use framework::{FilterPlugin, NodeInfo, PodInfo, Profile, ScorePlugin};
use queue::{SchedulingQueue, FLUSH_PERIOD};
use rand::RngExt;
use std::collections::BTreeMap;

/// The component name in the event log.
pub const COMPONENT: &str = "scheduler";

/// Timers the scheduler sets for itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchedulerEvent {
    /// Take the next pod from activeQ.
    Cycle,
    /// A pod's backoff has expired.
    BackoffDone,
    /// Periodic check of pods parked as unschedulable.
    Flush,
}

#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// Virtual time one scheduling cycle takes.
    pub cycle: SimDuration,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            cycle: SimDuration::from_millis(1),
        }
    }
}

/// Counters for the summary.
#[derive(Debug, Clone, Default)]
pub struct SchedulerStats {
    pub attempts: u64,
    pub bound: u64,
    pub failed: u64,
    /// Queue entry → bind, per bound pod, in milliseconds.
    pub latencies_ms: Vec<u64>,
}

/// The default profile of issue-2 scope: the plugins kube-scheduler enables by
/// default that concern resources, selectors and taints, with upstream weights.
pub fn default_profile() -> Profile {
    Profile {
        name: "default-scheduler".into(),
        filters: vec![
            Box::new(plugins::NodeUnschedulable),
            Box::new(plugins::TaintToleration),
            Box::new(plugins::NodeAffinity),
            Box::new(plugins::NodeResourcesFit),
        ],
        scores: vec![
            (
                Box::new(plugins::TaintToleration) as Box<dyn ScorePlugin>,
                3,
            ),
            (Box::new(plugins::NodeResourcesFitScore::default()), 1),
            (Box::new(plugins::BalancedAllocation), 1),
        ],
    }
}

/// What the scheduler needs of a pod from one watch notification.
struct PodView {
    uid: Uid,
    node: Option<String>,
    terminal: bool,
    pending_unbound: bool,
    ours: bool,
    priority: i32,
    requests: PodRequests,
}

pub struct Scheduler {
    rng: SimRng,
    profile: Profile,
    settings: SchedulerSettings,
    nodes: Vec<NodeInfo>,
    node_index: BTreeMap<String, usize>,
    /// Pods counted in `nodes`: key → (uid, node index, requests).
    assigned: BTreeMap<ObjKey, (Uid, usize, PodRequests)>,
    queue: SchedulingQueue,
    cycle_pending: bool,
    flush_pending: bool,
    pub stats: SchedulerStats,
}

impl Scheduler {
    pub fn new(seed: u64, profile: Profile, settings: SchedulerSettings) -> Self {
        Scheduler {
            rng: rng::stream(seed, COMPONENT),
            profile,
            settings,
            nodes: Vec::new(),
            node_index: BTreeMap::new(),
            assigned: BTreeMap::new(),
            queue: SchedulingQueue::default(),
            cycle_pending: false,
            flush_pending: false,
            stats: SchedulerStats::default(),
        }
    }

    /// Pods waiting to be scheduled.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::Node => self.on_node(ctx, change),
            Kind::Pod => self.on_pod(ctx, change),
            _ => {}
        }
        self.ensure_cycle(ctx);
    }

    fn on_node(&mut self, ctx: &mut Ctx, change: &Change) {
        let name = &change.key.name;
        match ctx.api.get::<Node>(&change.key) {
            Some(n) => {
                let idx = *self.node_index.entry(name.clone()).or_insert_with(|| {
                    self.nodes.push(NodeInfo::default());
                    self.nodes.len() - 1
                });
                let info = &mut self.nodes[idx];
                info.name = name.clone();
                info.labels = n.meta.labels.clone();
                info.taints = n.taints.clone();
                info.unschedulable = n.unschedulable;
                info.allocatable_cpu = n.status.allocatable.cpu_millis;
                info.allocatable_memory = n.status.allocatable.memory;
                info.allocatable_pods = n.status.allocatable.pods;
                info.allocatable_other = n.status.allocatable.other.clone();
                info.present = true;
                // NodeAdd / NodeUpdate may make parked pods schedulable.
                self.move_all(ctx);
            }
            None => {
                if let Some(&idx) = self.node_index.get(name) {
                    self.nodes[idx].present = false;
                }
            }
        }
    }

    fn on_pod(&mut self, ctx: &mut Ctx, change: &Change) {
        let key = &change.key;
        let pod = ctx.api.get::<Pod>(key).map(|p| PodView {
            uid: p.meta.uid,
            node: p.node_name.clone(),
            terminal: p.status.phase.is_terminal(),
            pending_unbound: p.node_name.is_none()
                && !p.is_terminating()
                && !p.status.phase.is_terminal(),
            ours: p.spec.scheduler_name == self.profile.name,
            priority: p.spec.priority,
            requests: p.spec.requests(),
        });
        let pod = pod.as_ref();
        // Keep the cache in step with what is bound where.
        let counted = pod.and_then(|p| {
            let bound = p.node.as_deref()?;
            (!p.terminal).then_some((p.uid, bound))
        });
        let cached = self.assigned.get(key).map(|(uid, idx, _)| (*uid, *idx));
        match (counted, cached) {
            (Some((uid, node)), Some((cuid, cidx)))
                if uid == cuid && self.nodes[cidx].name == node => {}
            (now_counted, _) => {
                let mut freed = false;
                if let Some((_, idx, req)) = self.assigned.remove(key) {
                    self.nodes[idx].remove_pod(&req);
                    freed = true;
                }
                if let Some((uid, node)) = now_counted {
                    if let Some(&idx) = self.node_index.get(node) {
                        let req = pod.map(|p| p.requests.clone()).unwrap_or_default();
                        self.nodes[idx].add_pod(&req);
                        self.assigned.insert(key.clone(), (uid, idx, req));
                    }
                }
                if freed && change.op != Op::Added {
                    // AssignedPodDelete frees capacity.
                    self.move_all(ctx);
                }
            }
        }
        match pod {
            Some(p) if p.pending_unbound => {
                if p.ours && !self.queue.contains(key) {
                    self.queue.add(key.clone(), p.priority, ctx.now);
                }
            }
            _ => self.queue.remove(key),
        }
    }

    fn move_all(&mut self, ctx: &mut Ctx) {
        for t in self.queue.move_all_unschedulable(ctx.now) {
            ctx.at(t, Event::Scheduler(SchedulerEvent::BackoffDone));
        }
    }

    fn ensure_cycle(&mut self, ctx: &mut Ctx) {
        if !self.cycle_pending && self.queue.active_len() > 0 {
            self.cycle_pending = true;
            ctx.after(self.settings.cycle, Event::Scheduler(SchedulerEvent::Cycle));
        }
        if !self.flush_pending && self.queue.unschedulable_len() > 0 {
            self.flush_pending = true;
            ctx.after(FLUSH_PERIOD, Event::Scheduler(SchedulerEvent::Flush));
        }
    }

    pub fn on_event(&mut self, ctx: &mut Ctx, ev: &SchedulerEvent) {
        match ev {
            SchedulerEvent::Cycle => {
                self.cycle_pending = false;
                if let Some((key, first_seen)) = self.queue.pop(ctx.now) {
                    self.schedule_one(ctx, key, first_seen);
                }
            }
            SchedulerEvent::BackoffDone => self.queue.flush_backoff(ctx.now),
            SchedulerEvent::Flush => {
                self.flush_pending = false;
                for t in self.queue.flush_unschedulable(ctx.now) {
                    ctx.at(t, Event::Scheduler(SchedulerEvent::BackoffDone));
                }
            }
        }
        self.ensure_cycle(ctx);
    }

    fn schedule_one(&mut self, ctx: &mut Ctx, key: ObjKey, first_seen: SimTime) {
        let Some(pod) = ctx.api.get::<Pod>(&key) else {
            self.queue.remove(&key);
            return;
        };
        if pod.node_name.is_some() || pod.is_terminating() {
            self.queue.remove(&key);
            return;
        }
        self.stats.attempts += 1;
        let info = PodInfo::new(pod);
        let object = crate::api::meta::object_ref(Kind::Pod, &key);

        // Filter.
        let mut feasible: Vec<usize> = Vec::new();
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        let mut present = 0usize;
        for (idx, node) in self.nodes.iter().enumerate() {
            if !node.present {
                continue;
            }
            present += 1;
            match run_filters(&self.profile.filters, &info, node) {
                Ok(()) => feasible.push(idx),
                Err(why) => {
                    for w in why {
                        *reasons.entry(w).or_default() += 1;
                    }
                }
            }
        }
        if feasible.is_empty() {
            self.stats.failed += 1;
            let msg = if present == 0 {
                "no nodes available to schedule pods".to_string()
            } else {
                // upstream sorts the "count reason" strings as a whole (FitError.Error)
                let mut parts: Vec<String> =
                    reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
                parts.sort();
                format!("0/{present} nodes are available: {}.", parts.join(", "))
            };
            ctx.event(
                COMPONENT,
                EventType::Warning,
                "FailedScheduling",
                object,
                msg,
            );
            self.queue.mark_unschedulable(key, ctx.now);
            return;
        }

        // Score (a single feasible node needs none).
        let chosen = if feasible.len() == 1 {
            feasible[0]
        } else {
            let totals = score_nodes(&self.profile, &info, &self.nodes, &feasible);
            self.select_host(&feasible, &totals)
        };
        let requests = info.requests.clone();
        let uid = pod.meta.uid;
        let node_name = self.nodes[chosen].name.clone();
        match ctx.api.bind(&key, &node_name) {
            Ok(()) => {
                self.stats.bound += 1;
                self.stats
                    .latencies_ms
                    .push(ctx.now.since(first_seen).as_millis());
                self.nodes[chosen].add_pod(&requests);
                self.assigned.insert(key.clone(), (uid, chosen, requests));
                self.queue.remove(&key);
                let msg = format!("Successfully assigned {} to {}", key, node_name);
                ctx.event(COMPONENT, EventType::Normal, "Scheduled", object, msg);
            }
            Err(e) => {
                self.stats.failed += 1;
                self.queue.remove(&key);
                ctx.event(
                    COMPONENT,
                    EventType::Warning,
                    "FailedScheduling",
                    object,
                    format!("Binding rejected: {e}"),
                );
            }
        }
    }

    /// Highest total wins; ties are broken uniformly at random from the scheduler's
    /// own stream, by reservoir sampling in node order (as `selectHost` did upstream).
    fn select_host(&mut self, feasible: &[usize], totals: &[i64]) -> usize {
        let mut best = feasible[0];
        let mut best_score = totals[0];
        let mut ties = 1u32;
        for (i, &idx) in feasible.iter().enumerate().skip(1) {
            let s = totals[i];
            if s > best_score {
                best = idx;
                best_score = s;
                ties = 1;
            } else if s == best_score {
                ties += 1;
                if self.rng.random_range(0..ties) == 0 {
                    best = idx;
                }
            }
        }
        best
    }
}

fn run_filters(
    filters: &[Box<dyn FilterPlugin>],
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<(), Vec<String>> {
    for f in filters {
        f.filter(pod, node)?;
    }
    Ok(())
}

/// Σ normalized score × weight per feasible node.
pub fn score_nodes(
    profile: &Profile,
    pod: &PodInfo,
    nodes: &[NodeInfo],
    feasible: &[usize],
) -> Vec<i64> {
    let mut totals = vec![0i64; feasible.len()];
    let mut raw = vec![0i64; feasible.len()];
    for (plugin, weight) in &profile.scores {
        if !plugin.applies(pod) {
            continue;
        }
        for (slot, &idx) in raw.iter_mut().zip(feasible) {
            *slot = plugin.score(pod, &nodes[idx]);
        }
        plugin.normalize(&mut raw);
        for (t, s) in totals.iter_mut().zip(&raw) {
            *t += s * weight;
        }
    }
    totals
}
