//! The node-lifecycle controller (`pkg/controller/nodelifecycle`), with its taint
//! manager (taint-based eviction) and the part of the pod garbage collector that
//! deals with pods on lost nodes.
//!
//! Every `node-monitor-period` (5 s) it looks at each node's last heartbeat. A node
//! not heard from for longer than `node-monitor-grace-period` (50 s) gets its Ready
//! condition set to Unknown, the taints `node.kubernetes.io/unreachable:NoExecute`
//! and `:NoSchedule`, and its pods are marked not ready (`MarkPodsNotReady`);
//! event `NodeNotReady`. When heartbeats come back: Ready True, taints removed,
//! event `NodeReady`. Only nodes that may have something to do are looked at: a
//! node whose kubelet renews its lease, that is Ready and carries no lost-node
//! taint stays so until it is written, so each check reads the others, found
//! again only when some node changed (the store's node epoch). With one node
//! down, the checks would otherwise read all 5,000 nodes of a large cluster
//! every 5 s.
//!
//! The taint manager evicts pods from nodes with NoExecute taints: a pod that does
//! not tolerate one is deleted at once; a pod that tolerates them all for a while
//! (`tolerationSeconds`, the smallest one that applies) is deleted that long after
//! the taint's `timeAdded`; event `TaintManagerEviction`. An eviction is cancelled
//! if the taint goes away first.
//!
//! The NoExecute taint is not put on at once: as upstream, nodes wait in a
//! per-zone queue drained by a token bucket (`--node-eviction-rate`, 0.1 nodes/s,
//! burst 1). Each zone's state sets its rate: Normal → the eviction rate;
//! PartialDisruption (more than 2 nodes and at least `--unhealthy-zone-threshold`
//! 55 % not Ready) → `--secondary-node-eviction-rate` (0.01/s), or 0 when the zone
//! has at most `--large-cluster-size-threshold` (50) nodes; FullDisruption (no
//! node Ready) → the eviction rate again, unless every zone is fully disrupted:
//! then the controller assumes it is itself cut off, taints nothing and removes
//! the NoExecute taints it set (upstream's "master disruption mode").
//!
//! Simplified (documented in the README): the controller's view is the API
//! store, read directly each period (no informer delay). A pod deleted from a node that is not Ready cannot be finished by its
//! kubelet; upstream's pod GC force-deletes such pods (`gcTerminating`), here
//! this controller does it at its next period.

use crate::api::meta::object_ref;
use crate::api::node::ConditionStatus;
use crate::api::store::{TAINT_NOT_READY, TAINT_UNREACHABLE};
use crate::api::taint::{Taint, TaintEffect};
use crate::api::{ApiServer, Kind, Node, ObjKey, Pod, Uid};
use crate::metrics::EventType;
use crate::node::kubelet::HEARTBEAT_INTERVAL;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Event};
use std::collections::{BTreeMap, BTreeSet};

pub const COMPONENT: &str = "node-lifecycle-controller";
/// `--node-monitor-period`.
pub const NODE_MONITOR_PERIOD: SimDuration = SimDuration::from_secs(5);
/// `--node-monitor-grace-period` (default 50 s since Kubernetes 1.32; 40 s before).
pub const DEFAULT_NODE_MONITOR_GRACE_PERIOD: SimDuration = SimDuration::from_secs(50);

/// Eviction rate limits and zone thresholds (kube-controller-manager flags).
#[derive(Debug, Clone, PartialEq)]
pub struct EvictionSettings {
    /// `--node-eviction-rate`: nodes tainted per second in a healthy zone.
    pub node_eviction_rate: f64,
    /// `--secondary-node-eviction-rate`: in a partially disrupted large zone.
    pub secondary_node_eviction_rate: f64,
    /// `--large-cluster-size-threshold`: smaller zones stop evicting when
    /// partially disrupted.
    pub large_cluster_size_threshold: u32,
    /// `--unhealthy-zone-threshold`: share of not-Ready nodes that makes a zone
    /// partially disrupted.
    pub unhealthy_zone_threshold: f64,
}

impl Default for EvictionSettings {
    fn default() -> Self {
        EvictionSettings {
            node_eviction_rate: 0.1,
            secondary_node_eviction_rate: 0.01,
            large_cluster_size_threshold: 50,
            unhealthy_zone_threshold: 0.55,
        }
    }
}

/// Zone labels, as upstream's `GetZoneKey` reads them.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";

/// A zone's health (upstream `ZoneState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneState {
    Normal,
    PartialDisruption,
    FullDisruption,
}

impl ZoneState {
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneState::Normal => "Normal",
            ZoneState::PartialDisruption => "PartialDisruption",
            ZoneState::FullDisruption => "FullDisruption",
        }
    }
}

/// Upstream `ComputeZoneState`.
pub fn zone_state(ready: u32, not_ready: u32, threshold: f64) -> ZoneState {
    if ready == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2 && f64::from(not_ready) / f64::from(not_ready + ready) >= threshold {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

/// One zone's NoExecute tainter: a queue and a token bucket with burst 1.
#[derive(Debug, Default)]
struct Zone {
    state: Option<ZoneState>,
    /// Milliseconds between tokens; None: never (rate 0).
    interval: Option<u64>,
    /// When the last token was taken (None: the bucket is full).
    last_take: Option<SimTime>,
    queue: std::collections::VecDeque<String>,
}

/// Timers of the node-lifecycle controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeLifecycleEvent {
    /// The periodic node check (a background event).
    Monitor,
    /// A zone's rate limiter has a token again: taint the next queued node.
    TaintPass,
    /// A toleration ran out: evict the pod if it is still due.
    Evict { pod: ObjKey, uid: Uid },
}

pub struct NodeLifecycleController {
    grace: SimDuration,
    eviction: EvictionSettings,
    zones: BTreeMap<String, Zone>,
    /// Every zone fully disrupted: the controller suspects itself (no tainting).
    master_disruption: bool,
    /// A TaintPass timer is set for this time.
    taint_pass_at: Option<SimTime>,
    /// Nodes at the last check (fewer now: look for orphaned pods).
    nodes_seen: usize,
    /// The API server's node epoch when a check last found every node quiet
    /// (renewing, Ready, no lost-node or NoExecute taint, no queues): until a
    /// node changes, every later check would find the same and do nothing.
    quiet_at: Option<u64>,
    /// The node epoch of the last zone-state pass, which reads only nodes.
    disruption_at: Option<u64>,
    /// The nodes a check may have work for, in name order, as of a node epoch
    /// (see [`settled`]). Once a node has crashed the cluster is no longer
    /// quiet, and the check every 5 s then looks at these few instead of
    /// every node of the cluster.
    unsettled: Option<(u64, Vec<ObjKey>)>,
    /// The nodes with a NoExecute taint, in name order, as of a node epoch:
    /// the only nodes whose pods the taint manager looks at.
    no_execute: Option<(u64, Vec<ObjKey>)>,
    /// Evictions with a timer set, so each is scheduled once.
    scheduled: BTreeSet<(ObjKey, Uid)>,
    /// Every taint-manager eviction: (time, node), for the fault figures.
    pub evictions: Vec<(SimTime, String)>,
}

/// The zone a node belongs to (upstream `GetZoneKey`: region and zone; "" without).
fn zone_key(n: &Node) -> String {
    let (region, zone) = zone_labels(n);
    zone_name(region, zone)
}

/// The node's (region, zone) labels, empty when absent.
fn zone_labels(n: &Node) -> (&str, &str) {
    let get = |k: &str| n.meta.labels.get(k).map_or("", String::as_str);
    (get(REGION_LABEL), get(ZONE_LABEL))
}

fn zone_name(region: &str, zone: &str) -> String {
    if region.is_empty() {
        zone.to_string()
    } else {
        format!("{region}/{zone}")
    }
}

/// Whether the node-lifecycle check can have nothing to do for `n` from `now`
/// until the node is written: its kubelet renews its lease (so its heartbeat,
/// computed from time, never goes stale), it is Ready, and it carries no
/// lost-node taint. Every write moves the store's node epoch.
fn settled(n: &Node, now: SimTime, grace: SimDuration) -> bool {
    crate::api::node::LEASE_RENEW_INTERVAL <= grace
        && n.status.renewing.is_some_and(|from| from <= now)
        && n.status.ready == ConditionStatus::True
        && !n
            .taints
            .iter()
            .any(|t| t.key == TAINT_UNREACHABLE || t.key == TAINT_NOT_READY)
}

/// When the taint manager evicts `pod` from `node`: `None` never, otherwise the time
/// (`now` or earlier: at once).
fn eviction_time(pod: &Pod, node: &Node, now: SimTime) -> Option<SimTime> {
    let mut due: Option<SimTime> = None;
    for t in node
        .taints
        .iter()
        .filter(|t| t.effect == TaintEffect::NoExecute)
    {
        let mut tolerated = false;
        let mut secs: Option<i64> = None;
        for tol in pod.spec.tolerations.iter().filter(|x| x.tolerates(t)) {
            tolerated = true;
            match tol.toleration_seconds {
                None => {}
                Some(s) => secs = Some(secs.map_or(s, |m: i64| m.min(s))),
            }
        }
        // a toleration without tolerationSeconds tolerates forever, unless another
        // matching one limits it (upstream takes the minimum over those with a limit)
        let at = if !tolerated {
            Some(now)
        } else {
            secs.map(|s| {
                let from = t.time_added.unwrap_or(now);
                from + SimDuration::from_millis((s.max(0) as u64) * 1000)
            })
        };
        if let Some(at) = at {
            due = Some(due.map_or(at, |d| d.min(at)));
        }
    }
    due
}

/// Terminating pods on nodes that are not Ready, in key order: their kubelet
/// cannot finish them. Found through the store's index of terminating pods,
/// so nodes that stay down (a dark zone's thousands of pods) do not cost a
/// scan of their pods each period.
fn terminating_on_lost_nodes(api: &ApiServer) -> Vec<ObjKey> {
    debug_assert!(
        api.count::<Pod>() > 5_000 || {
            let scanned: Vec<ObjKey> = api
                .list::<Pod>()
                .filter(|p| p.is_terminating())
                .map(|p| p.meta.key())
                .collect();
            api.terminating_pods().eq(scanned.iter())
        },
        "the store's index of terminating pods drifted"
    );
    api.terminating_pods()
        .filter(|k| {
            api.get::<Pod>(k)
                .and_then(|p| p.node_name.as_ref())
                .and_then(|n| api.get::<Node>(&ObjKey::cluster(n.clone())))
                .is_some_and(|n| n.status.ready != ConditionStatus::True)
        })
        .cloned()
        .collect()
}

impl NodeLifecycleController {
    pub fn new(grace: SimDuration, eviction: EvictionSettings) -> Self {
        NodeLifecycleController {
            grace,
            eviction,
            zones: BTreeMap::new(),
            master_disruption: false,
            taint_pass_at: None,
            nodes_seen: 0,
            quiet_at: None,
            disruption_at: None,
            unsettled: None,
            no_execute: None,
            scheduled: BTreeSet::new(),
            evictions: Vec::new(),
        }
    }

    /// Schedule the first periodic check.
    pub fn start(&self, ctx: &mut Ctx) {
        ctx.after_background(
            NODE_MONITOR_PERIOD,
            Event::NodeLifecycle(NodeLifecycleEvent::Monitor),
        );
    }

    /// Whether the next periodic checks still have something to do: a node has
    /// missed a heartbeat but is still Ready (a verdict is pending), a node not
    /// Ready is heartbeating again, or a terminating pod sits on a node that is not
    /// Ready. The engine keeps an otherwise idle run going while this holds.
    pub fn has_pending_work(&self, api: &ApiServer, now: SimTime) -> bool {
        let mut any_not_ready = false;
        for n in api.list::<Node>() {
            let age = now.since(n.status.heartbeat_at(now));
            match n.status.ready {
                ConditionStatus::True if age > HEARTBEAT_INTERVAL => return true,
                ConditionStatus::True => {}
                _ if age <= self.grace => return true,
                _ => any_not_ready = true,
            }
        }
        any_not_ready && !terminating_on_lost_nodes(api).is_empty()
    }

    pub fn on_event(&mut self, ctx: &mut Ctx, ev: &NodeLifecycleEvent) {
        match ev {
            NodeLifecycleEvent::Monitor => {
                if self.quiet_at != Some(ctx.api.node_epoch()) {
                    self.monitor(ctx);
                    self.quiet_at = self.is_quiet(ctx.api).then(|| ctx.api.node_epoch());
                }
                ctx.after_background(
                    NODE_MONITOR_PERIOD,
                    Event::NodeLifecycle(NodeLifecycleEvent::Monitor),
                );
            }
            NodeLifecycleEvent::TaintPass => {
                if self.taint_pass_at == Some(ctx.now) {
                    self.taint_pass_at = None;
                }
                self.drain_queues(ctx);
                self.taint_pass(ctx);
            }
            NodeLifecycleEvent::Evict { pod, uid } => {
                self.scheduled.remove(&(pod.clone(), *uid));
                self.evict_if_due(ctx, pod, *uid);
            }
        }
    }

    fn monitor(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        // Only nodes whose state changes are collected, and only the
        // unsettled ones are looked at: the pass runs every 5 s.
        let grace = self.grace;
        let acts = |n: &Node| {
            let stale = now.since(n.status.heartbeat_at(now)) > grace;
            let ready = n.status.ready;
            let acts = if stale {
                ready == ConditionStatus::True
            } else {
                ready != ConditionStatus::True
                    || n.taints
                        .iter()
                        .any(|t| t.key == TAINT_UNREACHABLE || t.key == TAINT_NOT_READY)
            };
            acts.then(|| (n.meta.key(), ready, stale))
        };
        let nodes: Vec<(ObjKey, ConditionStatus, bool)> = self
            .unsettled_nodes(ctx.api, now)
            .iter()
            .filter_map(|k| ctx.api.get::<Node>(k))
            .filter_map(acts)
            .collect();
        debug_assert!(
            ctx.api.count::<Node>() > 1_000
                || nodes == ctx.api.list::<Node>().filter_map(acts).collect::<Vec<_>>(),
            "a settled node has work"
        );
        for (key, ready, stale) in nodes {
            let name = key.name.clone();
            if stale && ready == ConditionStatus::True {
                let _ = ctx
                    .api
                    .update_status::<Node>(&key, |n| n.status.ready = ConditionStatus::Unknown);
                // NoSchedule at once (taintNodeByCondition); NoExecute through
                // the zone's rate-limited queue
                let _ =
                    ctx.api.update::<Node>(&key, |n| {
                        if !n.taints.iter().any(|t| {
                            t.key == TAINT_UNREACHABLE && t.effect == TaintEffect::NoSchedule
                        }) {
                            let mut t = Taint::new(TAINT_UNREACHABLE, "", TaintEffect::NoSchedule);
                            t.time_added = Some(now);
                            n.taints.push(t);
                        }
                    });
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "NodeNotReady",
                    format!("Node/{name}"),
                    format!("Node {name} status is now: NodeNotReady"),
                );
                // MarkPodsNotReady
                let pods: Vec<ObjKey> = ctx
                    .api
                    .pods_on(&name)
                    .filter(|k| ctx.api.get::<Pod>(k).is_some_and(|p| p.status.ready))
                    .cloned()
                    .collect();
                for p in pods {
                    let _ = ctx.api.update_status::<Pod>(&p, |p| {
                        p.status.ready = false;
                        p.status.ready_since = None;
                    });
                }
            } else if !stale {
                // heard from again (the kubelet may have posted Ready itself):
                // Ready, and the taints of a lost node go
                if ready != ConditionStatus::True {
                    let _ = ctx
                        .api
                        .update_status::<Node>(&key, |n| n.status.ready = ConditionStatus::True);
                    ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "NodeReady",
                        format!("Node/{name}"),
                        format!("Node {name} status is now: NodeReady"),
                    );
                }
                let _ = ctx.api.update::<Node>(&key, |n| {
                    n.taints
                        .retain(|t| t.key != TAINT_UNREACHABLE && t.key != TAINT_NOT_READY)
                });
                for z in self.zones.values_mut() {
                    z.queue.retain(|q| *q != name);
                }
            }
        }
        self.handle_disruption(ctx);
        self.drain_queues(ctx);
        self.taint_pass(ctx);
        // pod GC: terminating pods on nodes that are not Ready are force-deleted
        // (a scan of every pod, so only when some node is not Ready)
        // (a node that is not Ready is never settled)
        let any_down = self
            .unsettled_nodes(ctx.api, now)
            .iter()
            .filter_map(|k| ctx.api.get::<Node>(k))
            .any(|n| n.status.ready != ConditionStatus::True);
        debug_assert_eq!(
            any_down,
            ctx.api
                .list::<Node>()
                .any(|n| n.status.ready != ConditionStatus::True)
        );
        let lost: Vec<ObjKey> = if any_down {
            terminating_on_lost_nodes(ctx.api)
        } else {
            Vec::new()
        };
        for p in lost {
            let _ = ctx.api.remove::<Pod>(&p);
        }
        // pod GC `gcOrphaned`: pods bound to a Node that no longer exists (a
        // scan of every pod, so only after the node count went down)
        let count = ctx.api.count::<Node>();
        let shrunk = count < self.nodes_seen;
        self.nodes_seen = count;
        if !shrunk {
            return;
        }
        let orphans: Vec<ObjKey> = ctx
            .api
            .list::<Pod>()
            .filter(|p| {
                p.node_name
                    .as_ref()
                    .is_some_and(|n| ctx.api.get::<Node>(&ObjKey::cluster(n.clone())).is_none())
            })
            .map(|p| p.meta.key())
            .collect();
        for p in orphans {
            let _ = ctx.api.remove::<Pod>(&p);
        }
    }

    /// The nodes that are not [`settled`] (as of the current node epoch, or
    /// found afresh).
    fn unsettled_nodes(&mut self, api: &ApiServer, now: SimTime) -> &[ObjKey] {
        let epoch = api.node_epoch();
        if self.unsettled.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let keys = api
                .list::<Node>()
                .filter(|n| !settled(n, now, self.grace))
                .map(|n| n.meta.key())
                .collect();
            self.unsettled = Some((epoch, keys));
        }
        self.unsettled.as_ref().map_or(&[], |(_, k)| k)
    }

    /// The nodes with a NoExecute taint (as of the current node epoch, or
    /// found afresh).
    fn no_execute_nodes(&mut self, api: &ApiServer) -> &[ObjKey] {
        let epoch = api.node_epoch();
        if self.no_execute.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let keys = api
                .list::<Node>()
                .filter(|n| n.taints.iter().any(|t| t.effect == TaintEffect::NoExecute))
                .map(|n| n.meta.key())
                .collect();
            self.no_execute = Some((epoch, keys));
        }
        self.no_execute.as_ref().map_or(&[], |(_, k)| k)
    }

    /// Whether a check now would change nothing, and keep changing nothing
    /// until some node changes (see `quiet_at`).
    fn is_quiet(&self, api: &ApiServer) -> bool {
        !self.master_disruption
            && self.zones.values().all(|z| z.queue.is_empty())
            && api.list::<Node>().all(|n| {
                n.status.renewing.is_some()
                    && n.status.ready == ConditionStatus::True
                    && !n.taints.iter().any(|t| {
                        t.effect == TaintEffect::NoExecute
                            || t.key == TAINT_UNREACHABLE
                            || t.key == TAINT_NOT_READY
                    })
            })
    }

    /// Zone states from the nodes' Ready conditions (upstream `handleDisruption`):
    /// set each zone's taint rate, queue not-Ready nodes still without their
    /// NoExecute taint, and enter or leave master disruption mode. It reads only
    /// nodes (and its own state, which only it and node changes move), so it is
    /// skipped while no node has changed since its last pass.
    fn handle_disruption(&mut self, ctx: &mut Ctx) {
        if self.disruption_at == Some(ctx.api.node_epoch()) {
            return;
        }
        self.disruption_pass(ctx);
        // after its own writes (master disruption removes taints)
        self.disruption_at = Some(ctx.api.node_epoch());
    }

    fn disruption_pass(&mut self, ctx: &mut Ctx) {
        // counted by the borrowed zone labels first: no allocation per node
        let mut by_labels: BTreeMap<(&str, &str), (u32, u32)> = BTreeMap::new();
        let mut untainted: Vec<(String, String)> = Vec::new();
        for n in ctx.api.list::<Node>() {
            let c = by_labels.entry(zone_labels(n)).or_default();
            if n.status.ready == ConditionStatus::True {
                c.0 += 1;
            } else {
                c.1 += 1;
                let tainted = n.taints.iter().any(|t| {
                    t.effect == TaintEffect::NoExecute
                        && (t.key == TAINT_UNREACHABLE || t.key == TAINT_NOT_READY)
                });
                if !tainted {
                    untainted.push((zone_key(n), n.meta.name.clone()));
                }
            }
        }
        let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for ((region, zone), (r, nr)) in by_labels {
            let c = counts.entry(zone_name(region, zone)).or_default();
            c.0 += r;
            c.1 += nr;
        }
        self.zones.retain(|z, _| counts.contains_key(z));
        let all_full = !counts.is_empty()
            && counts.values().all(|&(r, nr)| {
                zone_state(r, nr, self.eviction.unhealthy_zone_threshold)
                    == ZoneState::FullDisruption
            });
        if all_full != self.master_disruption {
            self.master_disruption = all_full;
            let (reason, what) = if all_full {
                ("MasterDisruption", "Controller detected that all Nodes are not-Ready. Entering master disruption mode: no evictions, NoExecute taints removed")
            } else {
                (
                    "MasterDisruptionEnded",
                    "Controller detected that some Nodes are Ready. Exiting master disruption mode",
                )
            };
            ctx.decision(
                COMPONENT,
                reason,
                "Cluster".into(),
                (
                    format!("{} zone(s), no node Ready in any", counts.len()),
                    if all_full {
                        "assume the control plane is cut off, not the nodes".into()
                    } else {
                        "evict by zone state again".into()
                    },
                    if all_full {
                        "stop tainting; remove NoExecute taints".into()
                    } else {
                        "reset the zone rate limiters".into()
                    },
                ),
                what.into(),
            );
            for z in self.zones.values_mut() {
                z.queue.clear();
                z.last_take = None;
                z.state = None;
            }
            if all_full {
                // markNodeAsReachable for every node
                let keys: Vec<ObjKey> = ctx.api.list::<Node>().map(|n| n.meta.key()).collect();
                for k in keys {
                    let has = ctx.api.get::<Node>(&k).is_some_and(|n| {
                        n.taints.iter().any(|t| {
                            t.effect == TaintEffect::NoExecute
                                && (t.key == TAINT_UNREACHABLE || t.key == TAINT_NOT_READY)
                        })
                    });
                    if has {
                        let _ = ctx.api.update::<Node>(&k, |n| {
                            n.taints.retain(|t| {
                                !(t.effect == TaintEffect::NoExecute
                                    && (t.key == TAINT_UNREACHABLE || t.key == TAINT_NOT_READY))
                            })
                        });
                    }
                }
            }
        }
        let e = self.eviction.clone();
        for (zone, &(ready, not_ready)) in &counts {
            let state = zone_state(ready, not_ready, e.unhealthy_zone_threshold);
            let z = self.zones.entry(zone.clone()).or_default();
            if z.state != Some(state) {
                let size = ready + not_ready;
                let rate = match state {
                    ZoneState::Normal | ZoneState::FullDisruption => e.node_eviction_rate,
                    ZoneState::PartialDisruption if size > e.large_cluster_size_threshold => {
                        e.secondary_node_eviction_rate
                    }
                    ZoneState::PartialDisruption => 0.0,
                };
                if z.state.is_some() || state != ZoneState::Normal {
                    let name = if zone.is_empty() {
                        "(no zone)"
                    } else {
                        zone.as_str()
                    };
                    ctx.decision(
                        COMPONENT,
                        "ZoneStateChanged",
                        format!("Zone/{name}"),
                        (
                            format!("{not_ready} of {size} node(s) not Ready"),
                            format!("zone state {}", state.as_str()),
                            if rate > 0.0 {
                                format!("taint at most {rate} node(s)/s for eviction")
                            } else {
                                "stop tainting nodes for eviction".into()
                            },
                        ),
                        format!(
                            "Controller detected that zone {name} is now in state {}",
                            state.as_str()
                        ),
                    );
                }
                z.state = Some(state);
                // SwapLimiter: a fresh bucket (full) at the new rate
                z.interval = (rate > 0.0).then(|| (1000.0 / rate).round().max(1.0) as u64);
                z.last_take = None;
            }
        }
        if self.master_disruption {
            return;
        }
        for (zone, node) in untainted {
            let z = self.zones.entry(zone).or_default();
            if !z.queue.contains(&node) {
                z.queue.push_back(node);
            }
        }
    }

    /// Taint queued nodes while their zone's bucket has tokens; set a timer for
    /// the next token if nodes are still waiting.
    fn drain_queues(&mut self, ctx: &mut Ctx) {
        if self.master_disruption {
            return;
        }
        let now = ctx.now;
        let mut next: Option<SimTime> = None;
        for z in self.zones.values_mut() {
            let Some(interval) = z.interval else {
                continue;
            };
            while let Some(node) = z.queue.front().cloned() {
                let ready_at = z
                    .last_take
                    .map_or(now, |t| t + SimDuration::from_millis(interval));
                if ready_at > now {
                    next = Some(next.map_or(ready_at, |n| n.min(ready_at)));
                    break;
                }
                z.queue.pop_front();
                let key = ObjKey::cluster(node.clone());
                let still = ctx
                    .api
                    .get::<Node>(&key)
                    .is_some_and(|n| n.status.ready != ConditionStatus::True);
                if !still {
                    continue;
                }
                z.last_take = Some(now);
                let _ =
                    ctx.api.update::<Node>(&key, |n| {
                        if !n.taints.iter().any(|t| {
                            t.key == TAINT_UNREACHABLE && t.effect == TaintEffect::NoExecute
                        }) {
                            let mut t = Taint::new(TAINT_UNREACHABLE, "", TaintEffect::NoExecute);
                            t.time_added = Some(now);
                            n.taints.push(t);
                        }
                    });
            }
        }
        if let Some(t) = next {
            if self.taint_pass_at.is_none_or(|p| p > t || p < now) {
                self.taint_pass_at = Some(t);
                ctx.at(t, Event::NodeLifecycle(NodeLifecycleEvent::TaintPass));
            }
        }
    }

    /// The taint manager: find pods on nodes with NoExecute taints and evict them
    /// now or set a timer for when their toleration runs out.
    fn taint_pass(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        // only the pods of tainted nodes are looked at (the store's node
        // index); `due` is sorted below, so evictions go in pod key order
        // as a scan of every pod would give them
        let api = &*ctx.api;
        let mut due: Vec<(ObjKey, Uid, SimTime)> = Vec::new();
        let tainted = self.no_execute_nodes(api);
        debug_assert!(
            tainted.iter().cloned().eq(api
                .list::<Node>()
                .filter(|n| n.taints.iter().any(|t| t.effect == TaintEffect::NoExecute))
                .map(|n| n.meta.key())),
            "the NoExecute-tainted nodes drifted"
        );
        for node in tainted.iter().filter_map(|k| api.get::<Node>(k)) {
            for key in api.pods_on_unordered(&node.meta.name) {
                let Some(p) = api.get::<Pod>(key) else {
                    continue;
                };
                if p.is_terminating() || p.status.phase.is_terminal() {
                    continue;
                }
                if let Some(at) = eviction_time(p, node, now) {
                    due.push((key.clone(), p.meta.uid, at));
                }
            }
        }
        due.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, uid, at) in due {
            if at <= now {
                self.evict_if_due(ctx, &key, uid);
            } else if self.scheduled.insert((key.clone(), uid)) {
                ctx.at(
                    at,
                    Event::NodeLifecycle(NodeLifecycleEvent::Evict { pod: key, uid }),
                );
            }
        }
    }

    fn evict_if_due(&mut self, ctx: &mut Ctx, key: &ObjKey, uid: Uid) {
        let now = ctx.now;
        let Some(pod) = ctx.api.get::<Pod>(key).filter(|p| p.meta.uid == uid) else {
            return;
        };
        if pod.is_terminating() || pod.status.phase.is_terminal() {
            return;
        }
        let Some(node) = pod
            .node_name
            .as_ref()
            .and_then(|n| ctx.api.get::<Node>(&ObjKey::cluster(n.clone())))
        else {
            return;
        };
        match eviction_time(pod, node, now) {
            Some(at) if at <= now => {}
            _ => return, // the taint went away (or the toleration grew): cancelled
        }
        let node_name = node.meta.name.clone();
        let _ = ctx.api.delete::<Pod>(key);
        self.evictions.push((now, node_name));
        ctx.event(
            COMPONENT,
            EventType::Normal,
            "TaintManagerEviction",
            object_ref(Kind::Pod, key),
            format!("Marking for deletion Pod {}/{}", key.namespace, key.name),
        );
    }
}
