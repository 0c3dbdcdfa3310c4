//! The Cluster Autoscaler (kubernetes/autoscaler `cluster-autoscaler`):
//! node groups that grow when pods cannot be scheduled and shrink when nodes
//! sit underused.
//!
//! Every scan interval (10 s) it:
//! 1. lists unbound Pending pods and drops those that would fit the free room
//!    of existing or already requested nodes (`filterOutSchedulable`);
//! 2. for each node group below its max, packs the rest first-fit into empty
//!    template nodes (the binpacking estimator) and keeps the groups that help
//!    at least one pod; the expander picks one (`random` from a seeded stream,
//!    `most-pods`, `least-waste`, `priority`); the new nodes register after
//!    the group's provisioning delay (`TriggeredScaleUp`);
//! 3. unless a scale-up happened within `scaleDownDelayAfterAdd` (10 min),
//!    marks a group node unneeded when the requests on it are below the
//!    utilisation threshold (0.5 of allocatable, CPU or memory, whichever is
//!    higher), every pod on it has a controller, may be evicted under its
//!    PodDisruptionBudget, and fits on the other nodes; a node unneeded for
//!    `scaleDownUnneededTime` (10 min) is tainted `ToBeDeletedByClusterAutoscaler`,
//!    drained through the eviction API (`ScaleDown`), and deleted once empty.
//!
//! Simplified: the fit check is resources (CPU, memory, pods, extended),
//! nodeSelector and NoSchedule/NoExecute taints — not the scheduler's full
//! filter set (affinity, spreading, volumes); one scale-up per scan.

use crate::api::selector::matches_map;
use crate::api::taint::{tolerated, Taint, TaintEffect};
use crate::api::{AnyObject, Node, ObjKey, Pod};
use crate::metrics::EventType;
use crate::sim::rng::SimRng;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Event};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::AutoscaleEvent;

pub const COMPONENT: &str = "cluster-autoscaler";
/// The label that ties a node to its node group.
pub const GROUP_LABEL: &str = "kubesim.io/node-group";
/// The taint the autoscaler puts on a node it removes.
pub const TO_BE_DELETED: &str = "ToBeDeletedByClusterAutoscaler";

/// `cluster.autoscaler` as written in a scenario.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CaSpec {
    #[serde(default)]
    pub scan_interval: Option<SimDuration>,
    #[serde(default)]
    pub expander: Option<String>,
    #[serde(default)]
    pub scale_down_enabled: Option<bool>,
    #[serde(default)]
    pub scale_down_utilization_threshold: Option<f64>,
    #[serde(default)]
    pub scale_down_unneeded_time: Option<SimDuration>,
    #[serde(default)]
    pub scale_down_delay_after_add: Option<SimDuration>,
    pub node_groups: Vec<NodeGroupSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroupSpec {
    pub name: String,
    pub min: u32,
    pub max: u32,
    /// Nodes at the start (default `min`).
    #[serde(default)]
    pub count: Option<u32>,
    pub template: NodeTemplateSpec,
    /// From the scale-up decision to the node registering (default 60s).
    #[serde(default)]
    pub provisioning_delay: Option<SimDuration>,
    /// Price of one node for an hour, for the summary's cost.
    #[serde(default)]
    pub cost_per_hour: Option<f64>,
    /// For the `priority` expander: higher wins.
    #[serde(default)]
    pub priority: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeTemplateSpec {
    pub capacity: BTreeMap<String, crate::scenario::schema::QuantityValue>,
    #[serde(default)]
    pub allocatable: Option<BTreeMap<String, crate::scenario::schema::QuantityValue>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<crate::scenario::schema::TaintSpec>,
    /// `topology.kubernetes.io/zone` of the group's nodes.
    #[serde(default)]
    pub zone: Option<String>,
}

/// How the autoscaler picks among node groups that would help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expander {
    Random,
    MostPods,
    LeastWaste,
    Priority,
}

impl Expander {
    pub const NAMES: [&'static str; 4] = ["random", "most-pods", "least-waste", "priority"];
    pub fn parse(s: &str) -> Option<Expander> {
        Some(match s {
            "random" => Expander::Random,
            "most-pods" => Expander::MostPods,
            "least-waste" => Expander::LeastWaste,
            "priority" => Expander::Priority,
            _ => return None,
        })
    }
}

/// One node group, resolved: its node objects, numbered `NAME-0..max`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeGroup {
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub initial: u32,
    pub provisioning_delay: SimDuration,
    pub cost_per_hour: f64,
    pub priority: i32,
    /// Every node the group may have, in name order (`name-0`, `name-1`, ...).
    pub nodes: Vec<Node>,
}

/// The autoscaler's flags (upstream defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct CaSettings {
    pub scan_interval: SimDuration,
    pub expander: Expander,
    pub scale_down_enabled: bool,
    pub utilization_threshold: f64,
    pub unneeded_time: SimDuration,
    pub delay_after_add: SimDuration,
    pub groups: Vec<NodeGroup>,
}

impl Default for CaSettings {
    fn default() -> Self {
        CaSettings {
            scan_interval: SimDuration::from_secs(10),
            expander: Expander::Random,
            scale_down_enabled: true,
            utilization_threshold: 0.5,
            unneeded_time: SimDuration::from_secs(600),
            delay_after_add: SimDuration::from_secs(600),
            groups: Vec::new(),
        }
    }
}

/// Free room of a (real or imagined) node.
#[derive(Debug, Clone)]
struct Room {
    cpu: i64,
    mem: i64,
    pods: i64,
    other: BTreeMap<String, i64>,
    labels: crate::api::selector::Labels,
    taints: Vec<Taint>,
}

impl Room {
    fn of(n: &Node) -> Room {
        let a = &n.status.allocatable;
        Room {
            cpu: a.cpu_millis,
            mem: a.memory,
            pods: a.pods,
            other: a.other.clone(),
            labels: n.meta.labels.clone(),
            taints: n.taints.clone(),
        }
    }
    fn fits(&self, p: &Pod) -> bool {
        let r = p.spec.requests();
        r.cpu_millis <= self.cpu
            && r.memory <= self.mem
            && self.pods >= 1
            && r.other
                .iter()
                .all(|(k, v)| self.other.get(k).copied().unwrap_or(0) >= *v)
            && matches_map(&p.spec.node_selector, &self.labels)
            && self.taints.iter().all(|t| {
                t.effect == TaintEffect::PreferNoSchedule || tolerated(&p.spec.tolerations, t)
            })
    }
    fn take(&mut self, p: &Pod) {
        let r = p.spec.requests();
        self.cpu -= r.cpu_millis;
        self.mem -= r.memory;
        self.pods -= 1;
        for (k, v) in &r.other {
            *self.other.entry(k.clone()).or_default() -= v;
        }
    }
}

/// Put `pods` first-fit into `rooms`; the pods that fit nowhere.
fn pack<'a>(pods: &[&'a Pod], rooms: &mut [Room]) -> Vec<&'a Pod> {
    let mut left = Vec::new();
    for p in pods {
        match rooms.iter_mut().find(|r| r.fits(p)) {
            Some(r) => r.take(p),
            None => left.push(*p),
        }
    }
    left
}

/// One group's answer to the pending pods.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleUpOption {
    pub group: usize,
    pub nodes: u32,
    pub pods: usize,
    /// Unused CPU + memory share of the new nodes (least-waste).
    pub waste: f64,
}

/// Scale-ups and scale-downs, for the summary.
#[derive(Debug, Clone, Default)]
pub struct CaStats {
    pub scale_ups: u64,
    pub nodes_added: u64,
    pub scale_downs: u64,
    /// Pod-seconds spent Pending for want of a node, counted at each scan.
    pub pending_pod_seconds: f64,
}

pub struct ClusterAutoscaler {
    pub settings: CaSettings,
    rng: SimRng,
    /// Next unused node index per group.
    next: Vec<usize>,
    /// Nodes requested, not yet registered: (group, names).
    upcoming: Vec<(usize, Vec<String>)>,
    last_scale_up: Option<SimTime>,
    unneeded_since: BTreeMap<String, SimTime>,
    /// Nodes being removed, with when it started.
    removing: BTreeMap<String, SimTime>,
    pub stats: CaStats,
}

impl ClusterAutoscaler {
    pub fn new(settings: CaSettings, seed: u64) -> Self {
        ClusterAutoscaler {
            next: settings.groups.iter().map(|g| g.initial as usize).collect(),
            settings,
            rng: crate::sim::rng::stream(seed, "cluster-autoscaler"),
            upcoming: Vec::new(),
            last_scale_up: None,
            unneeded_since: BTreeMap::new(),
            removing: BTreeMap::new(),
            stats: CaStats::default(),
        }
    }

    fn group_of(&self, n: &Node) -> Option<usize> {
        let g = n.meta.labels.get(GROUP_LABEL)?;
        self.settings.groups.iter().position(|x| &x.name == g)
    }

    /// Registered nodes of group `g`.
    fn size(&self, api: &crate::api::ApiServer, g: usize) -> u32 {
        api.list::<Node>()
            .filter(|n| self.group_of(n) == Some(g))
            .count() as u32
    }

    /// Pick among the options with the configured expander.
    pub fn choose(&mut self, options: &[ScaleUpOption]) -> usize {
        use rand::RngExt;
        let best: Vec<usize> = match self.settings.expander {
            Expander::Random => (0..options.len()).collect(),
            Expander::MostPods => {
                let m = options.iter().map(|o| o.pods).max().unwrap_or(0);
                (0..options.len())
                    .filter(|&i| options[i].pods == m)
                    .collect()
            }
            Expander::LeastWaste => {
                let m = options
                    .iter()
                    .map(|o| o.waste)
                    .fold(f64::INFINITY, f64::min);
                (0..options.len())
                    .filter(|&i| (options[i].waste - m).abs() < 1e-9)
                    .collect()
            }
            Expander::Priority => {
                let pr = |o: &ScaleUpOption| self.settings.groups[o.group].priority;
                let m = options.iter().map(pr).max().unwrap_or(0);
                (0..options.len())
                    .filter(|&i| pr(&options[i]) == m)
                    .collect()
            }
        };
        // ties (and the random expander) from the autoscaler's own stream
        if best.len() == 1 {
            best[0]
        } else {
            best[self.rng.random_range(0..best.len())]
        }
    }

    /// One scan.
    pub fn scan(&mut self, ctx: &mut Ctx) {
        ctx.after(
            self.settings.scan_interval,
            Event::Autoscale(AutoscaleEvent::Scan),
        );
        self.scale_up(ctx);
        self.finish_removals(ctx);
        if self.settings.scale_down_enabled {
            self.scale_down(ctx);
        }
    }

    fn scale_up(&mut self, ctx: &mut Ctx) {
        let nodes: Vec<&Node> = ctx.api.list::<Node>().collect();
        let mut used: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
        let mut pending: Vec<&Pod> = Vec::new();
        for p in ctx.api.list::<Pod>() {
            if p.status.phase.is_terminal() {
                continue;
            }
            match p.node_name.as_deref() {
                Some(n) => used.entry(n).or_default().push(p),
                None if !p.is_terminating() => pending.push(p),
                None => {}
            }
        }
        if pending.is_empty() {
            return;
        }
        // free room of schedulable nodes, then of the nodes on their way
        let mut rooms: Vec<Room> = nodes
            .iter()
            .filter(|n| {
                !n.unschedulable
                    && n.status.ready == crate::api::node::ConditionStatus::True
                    && !self.removing.contains_key(&n.meta.name)
            })
            .map(|n| {
                let mut r = Room::of(n);
                for p in used.get(n.meta.name.as_str()).into_iter().flatten() {
                    r.take(p);
                }
                r
            })
            .collect();
        for (g, names) in &self.upcoming {
            for name in names {
                if let Some(n) = self.settings.groups[*g]
                    .nodes
                    .iter()
                    .find(|n| &n.meta.name == name)
                {
                    rooms.push(Room::of(n));
                }
            }
        }
        // biggest first, as the binpacking estimator sorts
        pending.sort_by_key(|p| {
            let r = p.spec.requests();
            (std::cmp::Reverse((r.cpu_millis, r.memory)), p.meta.key())
        });
        let left = pack(&pending, &mut rooms);
        if left.is_empty() {
            return;
        }
        self.stats.pending_pod_seconds +=
            left.len() as f64 * self.settings.scan_interval.as_secs_f64();
        let mut options = Vec::new();
        for (gi, g) in self.settings.groups.iter().enumerate() {
            let upcoming: u32 = self
                .upcoming
                .iter()
                .filter(|(x, _)| *x == gi)
                .map(|(_, n)| n.len() as u32)
                .sum();
            let size = self.size(ctx.api, gi) + upcoming;
            if size >= g.max || self.next[gi] >= g.nodes.len() {
                continue;
            }
            let template = Room::of(&g.nodes[self.next[gi]]);
            let mut new_rooms: Vec<Room> = Vec::new();
            let mut helped = 0;
            let room_for = (g.max - size) as usize;
            for p in &left {
                if let Some(r) = new_rooms.iter_mut().find(|r| r.fits(p)) {
                    r.take(p);
                    helped += 1;
                } else if template.fits(p) && new_rooms.len() < room_for {
                    let mut r = template.clone();
                    r.take(p);
                    new_rooms.push(r);
                    helped += 1;
                }
            }
            if helped == 0 {
                continue;
            }
            let (cpu_cap, mem_cap) = (
                template.cpu as f64 * new_rooms.len() as f64,
                template.mem as f64 * new_rooms.len() as f64,
            );
            let (cpu_free, mem_free): (f64, f64) = new_rooms
                .iter()
                .map(|r| (r.cpu as f64, r.mem as f64))
                .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
            let share = |free: f64, cap: f64| if cap > 0.0 { free / cap } else { 0.0 };
            options.push(ScaleUpOption {
                group: gi,
                nodes: new_rooms.len() as u32,
                pods: helped,
                waste: share(cpu_free, cpu_cap) + share(mem_free, mem_cap),
            });
        }
        let left: Vec<ObjKey> = left.iter().map(|p| p.meta.key()).collect();
        if options.is_empty() {
            for k in &left {
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "NotTriggerScaleUp",
                    crate::api::meta::object_ref(crate::api::Kind::Pod, k),
                    "pod didn't trigger scale-up: no node group can take it (all at max size or the pod fits no template)".into(),
                );
            }
            return;
        }
        let pick = options[self.choose(&options)].clone();
        let g = &self.settings.groups[pick.group];
        let size = self.size(ctx.api, pick.group)
            + self
                .upcoming
                .iter()
                .filter(|(x, _)| *x == pick.group)
                .map(|(_, n)| n.len() as u32)
                .sum::<u32>();
        let start = self.next[pick.group];
        let names: Vec<String> = g.nodes[start..start + pick.nodes as usize]
            .iter()
            .map(|n| n.meta.name.clone())
            .collect();
        let msg = format!(
            "pod triggered scale-up: [{{{} {}->{} (max: {})}}]",
            g.name,
            size,
            size + pick.nodes,
            g.max
        );
        let delay = g.provisioning_delay;
        for k in &left {
            ctx.event(
                COMPONENT,
                EventType::Normal,
                "TriggeredScaleUp",
                crate::api::meta::object_ref(crate::api::Kind::Pod, k),
                msg.clone(),
            );
        }
        ctx.decision(
            COMPONENT,
            "ScaleUp",
            format!("NodeGroup/{}", g.name),
            (
                format!("{} pending pod(s) fit no node", left.len()),
                format!("{} more node(s) in {}", pick.nodes, g.name),
                format!(
                    "request {} ({}), ready in {delay}",
                    names.join(", "),
                    expander_name(self.settings.expander)
                ),
            ),
            format!(
                "expander {} chose {} among {} option(s)",
                expander_name(self.settings.expander),
                g.name,
                options.len()
            ),
        );
        self.next[pick.group] += pick.nodes as usize;
        self.upcoming.push((pick.group, names.clone()));
        self.last_scale_up = Some(ctx.now);
        self.stats.scale_ups += 1;
        self.stats.nodes_added += pick.nodes as u64;
        ctx.after(
            delay,
            Event::Autoscale(AutoscaleEvent::Join(pick.group, names)),
        );
    }

    /// The cloud has booted the nodes: they register.
    pub fn join(&mut self, ctx: &mut Ctx, group: usize, names: &[String]) {
        self.upcoming.retain(|(g, n)| !(*g == group && n == names));
        for name in names {
            let Some(n) = self.settings.groups[group]
                .nodes
                .iter()
                .find(|n| &n.meta.name == name)
                .cloned()
            else {
                continue;
            };
            let key = n.meta.key();
            let r = AnyObject::Node(n).apply(ctx.api);
            let (ty, msg) = match r {
                Ok(_) => (
                    EventType::Normal,
                    format!(
                        "node {name} of group {} registered",
                        self.settings.groups[group].name
                    ),
                ),
                Err(e) => (
                    EventType::Warning,
                    format!("node {name} failed to register: {e}"),
                ),
            };
            ctx.event(
                COMPONENT,
                ty,
                "RegisteredNode",
                format!("Node/{}", key.name),
                msg,
            );
        }
    }

    fn scale_down(&mut self, ctx: &mut Ctx) {
        if self
            .last_scale_up
            .is_some_and(|t| ctx.now < t + self.settings.delay_after_add)
        {
            self.unneeded_since.clear();
            return;
        }
        let mut used: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
        for p in ctx.api.list::<Pod>() {
            if p.status.phase.is_terminal() || p.is_terminating() {
                continue;
            }
            if let Some(n) = &p.node_name {
                used.entry(n.clone()).or_default().push(p.clone());
            }
        }
        let nodes: Vec<Node> = ctx.api.list::<Node>().cloned().collect();
        let mut sizes: BTreeMap<usize, u32> = BTreeMap::new();
        for n in &nodes {
            if let Some(g) = self.group_of(n) {
                *sizes.entry(g).or_default() += 1;
            }
        }
        for g in self
            .removing
            .keys()
            .filter_map(|n| nodes.iter().find(|x| &x.meta.name == n))
            .filter_map(|n| self.group_of(n))
            .collect::<Vec<_>>()
        {
            if let Some(s) = sizes.get_mut(&g) {
                *s -= 1;
            }
        }
        // free room elsewhere, consumed as removals are planned
        let mut rooms: BTreeMap<String, Room> = nodes
            .iter()
            .filter(|n| !n.unschedulable && !self.removing.contains_key(&n.meta.name))
            .map(|n| {
                let mut r = Room::of(n);
                for p in used.get(&n.meta.name).into_iter().flatten() {
                    r.take(p);
                }
                (n.meta.name.clone(), r)
            })
            .collect();
        let mut still = BTreeMap::new();
        let mut remove = Vec::new();
        for n in &nodes {
            let name = &n.meta.name;
            let Some(g) = self.group_of(n) else { continue };
            if self.removing.contains_key(name) || n.unschedulable {
                continue;
            }
            if sizes.get(&g).copied().unwrap_or(0) <= self.settings.groups[g].min {
                continue;
            }
            let pods = used.get(name).cloned().unwrap_or_default();
            let a = &n.status.allocatable;
            let (cpu, mem) = pods.iter().fold((0i64, 0i64), |acc, p| {
                let r = p.spec.requests();
                (acc.0 + r.cpu_millis, acc.1 + r.memory)
            });
            let share = |x: i64, c: i64| if c > 0 { x as f64 / c as f64 } else { 0.0 };
            let util = share(cpu, a.cpu_millis).max(share(mem, a.memory));
            if util >= self.settings.utilization_threshold {
                continue;
            }
            // every pod must be movable: a controller, a budget that allows it, room elsewhere
            let movable = pods.iter().all(|p| {
                p.meta.controller_ref().is_some()
                    && crate::controllers::disruption::budgets_for(ctx.api, p)
                        .iter()
                        .all(|b| b.status.disruptions_allowed > 0)
            });
            if !movable {
                continue;
            }
            let mut trial: Vec<Room> = rooms
                .iter()
                .filter(|(k, _)| *k != name)
                .map(|(_, r)| r.clone())
                .collect();
            let refs: Vec<&Pod> = pods.iter().collect();
            if !pack(&refs, &mut trial).is_empty() {
                continue;
            }
            let since = *self.unneeded_since.get(name).unwrap_or(&ctx.now);
            still.insert(name.clone(), since);
            if ctx.now.since(since) >= self.settings.unneeded_time {
                // commit: the pods take the room of the other nodes
                let mut others: Vec<Room> = rooms
                    .iter()
                    .filter(|(k, _)| *k != name)
                    .map(|(_, r)| r.clone())
                    .collect();
                pack(&refs, &mut others);
                let mut it = others.into_iter();
                for (k, r) in rooms.iter_mut() {
                    if k != name {
                        *r = it.next().expect("same order");
                    }
                }
                rooms.remove(name);
                *sizes.entry(g).or_default() -= 1;
                remove.push((name.clone(), util, pods.len()));
            }
        }
        self.unneeded_since = still;
        for (name, util, npods) in remove {
            self.unneeded_since.remove(&name);
            let key = ObjKey::cluster(name.clone());
            let now = ctx.now;
            let _ = ctx.api.update::<Node>(&key, |n| {
                n.taints.push(Taint {
                    time_added: Some(now),
                    ..Taint::new(
                        TO_BE_DELETED,
                        &now.as_millis().to_string(),
                        TaintEffect::NoSchedule,
                    )
                })
            });
            ctx.event(
                COMPONENT,
                EventType::Normal,
                "ScaleDown",
                format!("Node/{name}"),
                format!(
                    "Scale-down: removing node {name}, utilization: {util:.2}, pods to reschedule: {npods}"
                ),
            );
            self.removing.insert(name, now);
            self.stats.scale_downs += 1;
        }
        self.finish_removals(ctx);
    }

    /// Evict what is left on nodes being removed; delete the empty ones.
    fn finish_removals(&mut self, ctx: &mut Ctx) {
        let names: Vec<String> = self.removing.keys().cloned().collect();
        for name in names {
            let pods: Vec<ObjKey> = ctx
                .api
                .list::<Pod>()
                .filter(|p| {
                    p.node_name.as_deref() == Some(name.as_str()) && !p.status.phase.is_terminal()
                })
                .map(|p| p.meta.key())
                .collect();
            let mut left = 0;
            for k in &pods {
                let terminating = ctx.api.get::<Pod>(k).is_some_and(|p| p.is_terminating());
                if terminating {
                    left += 1;
                    continue;
                }
                match crate::controllers::disruption::evict(ctx.api, k) {
                    Ok(()) => {
                        left += 1;
                        ctx.event(
                            COMPONENT,
                            EventType::Normal,
                            "ScaleDown",
                            crate::api::meta::object_ref(crate::api::Kind::Pod, k),
                            "deleting pod for node scale down".into(),
                        );
                    }
                    Err(e) => {
                        left += 1;
                        ctx.event(
                            COMPONENT,
                            EventType::Warning,
                            "ScaleDownFailed",
                            crate::api::meta::object_ref(crate::api::Kind::Pod, k),
                            format!("failed to evict pod: {e}; retrying"),
                        );
                    }
                }
            }
            if left == 0 {
                let _ = ctx.api.delete::<Node>(&ObjKey::cluster(name.clone()));
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "ScaleDown",
                    format!("Node/{name}"),
                    format!("node {name} removed by the cluster autoscaler"),
                );
                self.removing.remove(&name);
            }
        }
    }
}

pub fn expander_name(e: Expander) -> &'static str {
    match e {
        Expander::Random => "random",
        Expander::MostPods => "most-pods",
        Expander::LeastWaste => "least-waste",
        Expander::Priority => "priority",
    }
}
