//! kube-scheduler: watches pending pods, filters and scores nodes through a
//! [`framework::Profile`], and binds each pod by writing its node name to the API.
//!
//! The scheduler keeps its own cache of what is requested on each node (like the
//! real scheduler cache) and counts a pod the moment it binds it ("assume"), so the
//! next cycle never double-books capacity while the watch is in flight.

pub mod config;
pub mod framework;
pub mod plugins;
pub mod policies;
pub mod preemption;
pub mod queue;
pub mod snapshot;
pub mod verdicts;

use crate::api::selector::Labels;
use crate::api::{Change, Kind, Namespace, Node, ObjKey, Op, Pod, Uid};
use crate::metrics::EventType;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Event};
use framework::{
    num_feasible_nodes_to_find, run_pre_filters, score_nodes, ClusterIndex, CycleBuffers,
    CycleState, FilterPlugin, NodeInfo, PodInfo, PodSummary, Profile, Selection, Snapshot,
};
use queue::{SchedulingQueue, FLUSH_PERIOD};
use rand::RngExt;
use std::borrow::Cow;
use std::collections::BTreeMap;
use verdicts::VerdictCache;

/// The component name in the event log.
pub const COMPONENT: &str = "scheduler";
/// The profile pods get when they name no scheduler.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";

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
    /// Pods evicted by preemption.
    pub preemptions: u64,
    /// Queue entry → bind in milliseconds → bound pods: a histogram, so that
    /// memory does not grow with the pods of a long trace.
    pub latencies_ms: std::collections::BTreeMap<u64, u64>,
}

/// kube-scheduler's default profile: the upstream filter plugins in upstream order
/// and the upstream score plugins with their default weights
/// (pkg/scheduler/apis/config/v1/default_plugins.go), minus the volume plugins.
pub fn default_profile() -> Profile {
    let mut p = Profile::new(DEFAULT_SCHEDULER);
    p.filters = plugins::FILTER_PLUGINS
        .iter()
        .filter_map(|n| plugins::filter_plugin(n))
        .collect();
    p.scores = plugins::SCORE_PLUGINS
        .iter()
        .filter_map(|n| {
            let plugin = plugins::score_plugin(n, None).ok().flatten()?;
            Some((plugin, plugins::default_weight(n)?))
        })
        .collect();
    p
}

pub struct Scheduler {
    rng: SimRng,
    /// Profiles by `schedulerName`.
    profiles: BTreeMap<String, Profile>,
    settings: SchedulerSettings,
    nodes: Vec<NodeInfo>,
    /// Cluster-wide sums over `nodes`, kept in step with them.
    index: ClusterIndex,
    node_index: crate::api::table::LookupMap<String, usize>,
    /// Nodes with `present` set, kept as nodes come and go (not recounted per cycle).
    present_nodes: usize,
    /// Pods counted in `nodes`: key → (uid, node index).
    assigned: crate::api::table::LookupMap<ObjKey, (Uid, usize)>,
    /// image → number of present nodes that have it.
    image_nodes: BTreeMap<String, usize>,
    namespace_labels: BTreeMap<String, Labels>,
    /// Pods waiting for the node where they preempted others: (node index, pod).
    nominated: Vec<(usize, PodSummary)>,
    /// Where the next filtering pass starts (upstream's nextStartNodeIndex).
    next_start_index: usize,
    queue: SchedulingQueue,
    /// Node-local verdicts kept from one cycle to the next.
    verdicts: VerdictCache,
    cycle_pending: bool,
    flush_pending: bool,
    pub stats: SchedulerStats,
}

impl Scheduler {
    /// A scheduler running `profiles` (keyed by their names, which pods select with
    /// `spec.schedulerName`).
    pub fn new(seed: u64, profiles: Vec<Profile>, settings: SchedulerSettings) -> Self {
        Scheduler {
            rng: rng::stream(seed, COMPONENT),
            profiles: profiles.into_iter().map(|p| (p.name.clone(), p)).collect(),
            settings,
            nodes: Vec::new(),
            index: ClusterIndex::default(),
            node_index: crate::api::table::lookup_map(),
            present_nodes: 0,
            assigned: crate::api::table::lookup_map(),
            image_nodes: BTreeMap::new(),
            namespace_labels: BTreeMap::new(),
            nominated: Vec::new(),
            next_start_index: 0,
            queue: SchedulingQueue::default(),
            verdicts: VerdictCache::default(),
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
            // the volume plugins' cluster events (PVC/PV/StorageClass add and update)
            Kind::PersistentVolumeClaim | Kind::PersistentVolume | Kind::StorageClass => {
                self.move_all(ctx)
            }
            Kind::Namespace => match ctx.api.get::<Namespace>(&change.key) {
                Some(ns) => {
                    self.namespace_labels
                        .insert(change.key.name.clone(), ns.meta.labels.clone());
                }
                None => {
                    self.namespace_labels.remove(&change.key.name);
                }
            },
            _ => {}
        }
        self.ensure_cycle(ctx);
    }

    fn count_images(&mut self, idx: usize, add: bool) {
        for img in self.nodes[idx].images.keys() {
            let c = self.image_nodes.entry(img.clone()).or_default();
            if add {
                *c += 1;
            } else {
                *c = c.saturating_sub(1);
            }
        }
    }

    fn on_node(&mut self, ctx: &mut Ctx, change: &Change) {
        let name = &change.key.name;
        match ctx.api.get::<Node>(&change.key) {
            Some(n) => {
                // The index changes only when the node appears or changes its zone
                // or hostname label or gains or loses a PreferNoSchedule taint,
                // not on every status update.
                let mut reindex = true;
                let idx = match self.node_index.get(name) {
                    Some(&i) => {
                        if self.nodes[i].present {
                            self.count_images(i, false);
                            let old = &self.nodes[i].labels;
                            let new = &n.meta.labels;
                            reindex = [plugins::LABEL_ZONE, plugins::LABEL_HOSTNAME]
                                .iter()
                                .any(|k| old.get(*k) != new.get(*k))
                                || self.nodes[i].prefers_no_schedule()
                                    != n.taints.iter().any(|t| {
                                        t.effect == crate::api::taint::TaintEffect::PreferNoSchedule
                                    });
                            if reindex {
                                self.index.remove_node(i, &self.nodes[i]);
                            }
                        } else {
                            self.present_nodes += 1;
                        }
                        self.nodes[i].update_node(n);
                        i
                    }
                    None => {
                        self.nodes.push(NodeInfo::from_node(n));
                        self.present_nodes += 1;
                        self.node_index.insert(name.clone(), self.nodes.len() - 1);
                        self.nodes.len() - 1
                    }
                };
                self.count_images(idx, true);
                if reindex {
                    self.index.add_node(idx, &self.nodes[idx]);
                }
                // NodeAdd / NodeUpdate may make parked pods schedulable.
                self.move_all(ctx);
            }
            None => {
                if let Some(&idx) = self.node_index.get(name) {
                    if self.nodes[idx].present {
                        self.count_images(idx, false);
                        self.index.remove_node(idx, &self.nodes[idx]);
                        self.present_nodes -= 1;
                    }
                    self.nodes[idx].present = false;
                }
            }
        }
    }

    fn on_pod(&mut self, ctx: &mut Ctx, change: &Change) {
        let key = &change.key;
        let pod = ctx.api.get::<Pod>(key);
        // Keep the cache in step with what is bound where.
        let counted = pod.and_then(|p| {
            let bound = p.node_name.as_deref()?;
            (!p.status.phase.is_terminal()).then(|| (p.meta.uid, bound.to_string()))
        });
        let pending = pod
            .filter(|p| {
                p.node_name.is_none() && !p.is_terminating() && !p.status.phase.is_terminal()
            })
            .map(|p| {
                (
                    self.profiles.contains_key(&p.spec.scheduler_name),
                    p.spec.priority,
                )
            });
        let cached = self.assigned.get(key).copied();
        let in_step = match (&counted, cached) {
            (Some((uid, node)), Some((cuid, cidx))) => {
                *uid == cuid && self.nodes[cidx].name == *node
            }
            (None, None) => true,
            _ => false,
        };
        if !in_step {
            let mut freed = false;
            if let Some((_, idx)) = self.assigned.remove(key) {
                if let Some(p) = self.nodes[idx].remove_pod(key) {
                    self.index.remove_pod(idx, &p);
                }
                freed = true;
            }
            if let Some((uid, node)) = counted {
                if let (Some(&idx), Some(p)) = (self.node_index.get(&node), ctx.api.get::<Pod>(key))
                {
                    let summary = PodSummary::of(p);
                    self.index.add_pod(idx, &summary);
                    self.nodes[idx].add_pod(summary);
                    self.assigned.insert(key.clone(), (uid, idx));
                }
            }
            if freed && change.op != Op::Added {
                // AssignedPodDelete frees capacity.
                self.move_all(ctx);
            }
        }
        match pending {
            Some((ours, prio)) => {
                if ours && !self.queue.contains(key) {
                    self.queue.add(key.clone(), prio, ctx.now);
                }
            }
            None => {
                self.queue.remove(key);
                self.nominated.retain(|(_, p)| &p.key != key);
            }
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
        let Some(profile) = self.profiles.get(&pod.spec.scheduler_name) else {
            self.queue.remove(&key);
            return;
        };
        self.stats.attempts += 1;
        let info = PodInfo::new(pod);
        let object = crate::api::meta::object_ref(Kind::Pod, &key);
        let snap = Snapshot {
            nodes: &self.nodes,
            image_nodes: &self.image_nodes,
            node_count: self.present_nodes,
            namespace_labels: &self.namespace_labels,
            nominated: &self.nominated,
            index: &self.index,
        };
        let decision = decide_with(
            profile,
            &info,
            &snap,
            &mut self.next_start_index,
            &mut self.rng,
            Some(&mut self.verdicts),
        );
        // PostFilter: DefaultPreemption, when the pod fits nowhere.
        let preemption = match &decision {
            Err(_) if profile.preemption && eligible_to_preempt(ctx.api, pod) => {
                let mut state = CycleState::default();
                match run_pre_filters(profile, &info, &snap, &mut state) {
                    Ok(()) => Some(preemption::find(profile, &info, &snap, &state)),
                    Err(_) => Some(None),
                }
            }
            _ => None,
        };
        let pod_uid = pod.meta.uid;
        let nominee = PodSummary::of(pod);
        match decision {
            Err(mut msg) => {
                self.stats.failed += 1;
                match preemption {
                    Some(Some(c)) => {
                        let node = self.nodes[c.node].name.clone();
                        for (victim, _) in &c.victims {
                            if ctx.api.delete::<Pod>(victim).is_ok() {
                                self.stats.preemptions += 1;
                                ctx.event(
                                    COMPONENT,
                                    EventType::Normal,
                                    "Preempted",
                                    crate::api::meta::object_ref(Kind::Pod, victim),
                                    format!("Preempted by pod {pod_uid} on node {node}"),
                                );
                            }
                        }
                        let _ = ctx
                            .api
                            .update_status::<Pod>(&key, |p| p.status.nominated_node = Some(node.clone()));
                        self.nominated.retain(|(_, p)| p.key != key);
                        self.nominated.push((c.node, nominee));
                        msg.push_str(&format!(
                            " preemption: {} lower-priority pod(s) on {node} are being evicted; the pod waits for them to terminate.",
                            c.victims.len()
                        ));
                    }
                    Some(None) => msg.push_str(" preemption: no node would fit the pod after evicting lower-priority pods."),
                    None => {}
                }
                ctx.event(
                    COMPONENT,
                    EventType::Warning,
                    "FailedScheduling",
                    object,
                    msg,
                );
                self.queue.mark_unschedulable(key, ctx.now);
            }
            Ok(chosen) => {
                let summary = PodSummary::of(pod);
                let uid = pod.meta.uid;
                let node_name = self.nodes[chosen].name.clone();
                match ctx.api.bind(&key, &node_name) {
                    Ok(()) => {
                        self.stats.bound += 1;
                        *self
                            .stats
                            .latencies_ms
                            .entry(ctx.now.since(first_seen).as_millis())
                            .or_default() += 1;
                        // assume: count the pod now, before the watch confirms it
                        self.index.add_pod(chosen, &summary);
                        self.nodes[chosen].add_pod(summary);
                        self.assigned.insert(key.clone(), (uid, chosen));
                        self.queue.remove(&key);
                        self.nominated.retain(|(_, p)| p.key != key);
                        ctx.event_with(COMPONENT, EventType::Normal, "Scheduled", || {
                            let msg = format!("Successfully assigned {} to {}", key, node_name);
                            (object, msg)
                        });
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
        }
    }
}

/// `podEligibleToPreemptOthers`: a pod that already preempted waits while its
/// lower-priority victims on the nominated node are still terminating.
fn eligible_to_preempt(api: &crate::api::ApiServer, pod: &Pod) -> bool {
    if pod.spec.never_preempt {
        return false;
    }
    let Some(node) = pod.status.nominated_node.as_deref() else {
        return true;
    };
    !api.list::<Pod>().any(|p| {
        p.node_name.as_deref() == Some(node)
            && p.is_terminating()
            && p.spec.priority < pod.spec.priority
    })
}

/// One scheduling cycle for one pod: PreFilter, Filter (adaptive sample from a
/// rotating start), PreScore/Score/Normalize, select. `Err` is the FailedScheduling message.
pub fn decide(
    profile: &Profile,
    pod: &PodInfo,
    snap: &Snapshot,
    next_start: &mut usize,
    rng: &mut SimRng,
) -> Result<usize, String> {
    decide_with(profile, pod, snap, next_start, rng, None)
}

/// [`decide`] remembering node-local verdicts in `cache` from one call to the
/// next (see [`verdicts`]); the node chosen is the same as without it.
pub fn decide_with(
    profile: &Profile,
    pod: &PodInfo,
    snap: &Snapshot,
    next_start: &mut usize,
    rng: &mut SimRng,
    mut cache: Option<&mut VerdictCache>,
) -> Result<usize, String> {
    // the cache lends its vectors for the cycle (taken, so the cycle may
    // also borrow the cache itself), and gets them back
    let mut buffers = cache
        .as_deref_mut()
        .map(|c| std::mem::take(&mut c.buffers))
        .unwrap_or_default();
    let decision = decide_in(
        profile,
        pod,
        snap,
        (next_start, rng),
        cache.as_deref_mut(),
        &mut buffers,
    );
    if let Some(c) = cache {
        c.buffers = buffers;
    }
    decision
}

/// [`decide_with`]'s cycle, filling `buffers`.
fn decide_in(
    profile: &Profile,
    pod: &PodInfo,
    snap: &Snapshot,
    (next_start, rng): (&mut usize, &mut SimRng),
    cache: Option<&mut VerdictCache>,
    buffers: &mut CycleBuffers,
) -> Result<usize, String> {
    // Node order is the cache's (indices stay stable; removed nodes are skipped).
    let n = snap.node_count;
    let slots = snap.nodes.len();
    if n == 0 {
        return Err("no nodes available to schedule pods".into());
    }
    debug_assert!(
        snap.nodes.len() > 300 || *snap.index == ClusterIndex::build(snap.nodes),
        "the scheduler's ClusterIndex is out of step with its nodes"
    );
    let mut state = CycleState::default();
    if let Err(r) = run_pre_filters(profile, pod, snap, &mut state) {
        return Err(format!(
            "0/{n} nodes are available: {}.",
            r.reasons.join(", ")
        ));
    }
    let first_fit = profile.selection == Selection::FirstFeasible;
    let want = if first_fit {
        1
    } else {
        num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, n)
    };
    let start = if first_fit { 0 } else { *next_start % slots };
    // Filters that accept every node for this pod are not run (upstream's PreFilter
    // Skip); the first rejecting filter is the same either way.
    let (active, skipped): (Vec<&dyn FilterPlugin>, Vec<&dyn FilterPlugin>) = profile
        .filters
        .iter()
        .map(|f| f.as_ref())
        .partition(|f| !f.skip_filter(pod, &state));
    // (a spec's first pod leaves the cache alone: see VerdictCache::begin)
    let mut cache = cache.and_then(|c| c.begin(profile, pod).then_some(c));
    // the active filters that look beyond the node, in profile order: all a
    // node still needs when the cache knows the node-local ones accept it
    let beyond: Vec<&dyn FilterPlugin> = match cache {
        Some(_) => active.iter().copied().filter(|f| !f.node_local()).collect(),
        None => Vec::new(),
    };
    let CycleBuffers {
        feasible,
        current,
        score,
    } = buffers;
    feasible.clear();
    // with the cache: whether each feasible node's cache entry is current
    // (known here, so scoring need not check each node's stamp again)
    current.clear();
    let mut examined = 0;
    let mut idx = start;
    for _ in 0..slots {
        if feasible.len() >= want {
            break;
        }
        let cur = idx;
        idx += 1;
        if idx == slots {
            idx = 0;
        }
        examined += 1;
        let Some(view) = filtered_view(snap, cur, pod) else {
            continue;
        };
        let stored = &snap.nodes[cur];
        let nominated = matches!(view, Cow::Owned(_));
        let node: &NodeInfo = &view;
        debug_assert!(
            skipped.iter().all(|f| f.filter(pod, node, &state).is_ok()),
            "a filter that asked to be skipped rejects {}",
            node.name
        );
        // (a node with nominated pods added is not the stored node: its
        // verdicts are not remembered, but scoring reads the stored node)
        let passing = match cache.as_deref() {
            Some(c) if !nominated => c.passes(cur, stored.stamp()),
            _ => false,
        };
        let accepts = |f: &&dyn FilterPlugin| {
            let yes = f.accepts(pod, node, &state);
            debug_assert_eq!(
                yes,
                f.filter(pod, node, &state).is_ok(),
                "{}'s accepts and filter disagree on {}",
                f.name(),
                node.name
            );
            yes
        };
        let fits = match passing {
            true => {
                debug_assert!(
                    active
                        .iter()
                        .filter(|f| f.node_local())
                        .all(|f| f.filter(pod, node, &state).is_ok()),
                    "a remembered filter verdict for {} is stale",
                    node.name
                );
                beyond.iter().all(accepts)
            }
            false => {
                let fits = active.iter().all(accepts);
                if let (true, Some(c)) = (fits, cache.as_deref_mut()) {
                    if !nominated {
                        c.record_pass(cur, stored.stamp());
                    }
                }
                fits
            }
        };
        if fits {
            feasible.push(cur);
            if cache.is_some() {
                current.push(!nominated);
            }
        }
    }
    if !first_fit {
        *next_start = (start + examined) % slots;
    }
    if feasible.is_empty() {
        // Every node was examined and rejected: now the reasons, each
        // node's from its first rejecting filter (with the cache's verdicts
        // the first rejecting filter is the same one).
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for cur in (start..slots).chain(0..start).take(examined) {
            let Some(node) = filtered_view(snap, cur, pod) else {
                continue;
            };
            if let Some(why) = active
                .iter()
                .find_map(|f| f.filter(pod, &node, &state).err())
            {
                for w in why {
                    *reasons.entry(w).or_default() += 1;
                }
            }
        }
        // upstream sorts the "count reason" strings as a whole (FitError.Error)
        let mut parts: Vec<String> = reasons.iter().map(|(r, c)| format!("{c} {r}")).collect();
        parts.sort();
        return Err(format!("0/{n} nodes are available: {}.", parts.join(", ")));
    }
    if feasible.len() == 1 || first_fit {
        return Ok(feasible[0]);
    }
    let cache = cache.map(|c| (c, current.as_slice()));
    score_nodes(
        profile, pod, snap, feasible, &mut state, false, cache, score,
    );
    Ok(select_host(feasible, &score.totals, rng))
}

/// The node in slot `cur` as the pod's filters see it: `None` for a removed
/// node; the stored node, or a copy with the pods nominated to it that the
/// pod must leave room for added (`Cow::Owned`: its verdicts are not
/// remembered).
fn filtered_view<'a>(snap: &'a Snapshot, cur: usize, pod: &PodInfo) -> Option<Cow<'a, NodeInfo>> {
    let stored = &snap.nodes[cur];
    if !stored.present {
        return None;
    }
    let with_nominated = if snap.nominated.is_empty() {
        None
    } else {
        snap.with_nominated(cur, pod)
    };
    Some(with_nominated.map_or(Cow::Borrowed(stored), Cow::Owned))
}

/// Highest total wins; ties are broken uniformly at random from the scheduler's
/// own stream, by reservoir sampling in evaluation order (as `selectHost` did upstream).
pub fn select_host(feasible: &[usize], totals: &[i64], rng: &mut SimRng) -> usize {
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
            if rng.random_range(0..ties) == 0 {
                best = idx;
            }
        }
    }
    best
}
