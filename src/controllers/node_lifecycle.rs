//! The node-lifecycle controller (`pkg/controller/nodelifecycle`), with its taint
//! manager (taint-based eviction) and the part of the pod garbage collector that
//! deals with pods on lost nodes.
//!
//! Every `node-monitor-period` (5 s) it looks at each node's last heartbeat. A node
//! not heard from for longer than `node-monitor-grace-period` (50 s) gets its Ready
//! condition set to Unknown, the taints `node.kubernetes.io/unreachable:NoExecute`
//! and `:NoSchedule`, and its pods are marked not ready (`MarkPodsNotReady`);
//! event `NodeNotReady`. When heartbeats come back: Ready True, taints removed,
//! event `NodeReady`.
//!
//! The taint manager evicts pods from nodes with NoExecute taints: a pod that does
//! not tolerate one is deleted at once; a pod that tolerates them all for a while
//! (`tolerationSeconds`, the smallest one that applies) is deleted that long after
//! the taint's `timeAdded`; event `TaintManagerEviction`. An eviction is cancelled
//! if the taint goes away first.
//!
//! Simplified (documented in the README): no eviction rate limits
//! (`--node-eviction-rate`) and no zone states (full/partial disruption); the
//! controller's view is the API store, read directly each period (no informer
//! delay). A pod deleted from a node that is not Ready cannot be finished by its
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

/// Timers of the node-lifecycle controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeLifecycleEvent {
    /// The periodic node check (a background event).
    Monitor,
    /// A toleration ran out: evict the pod if it is still due.
    Evict { pod: ObjKey, uid: Uid },
}

pub struct NodeLifecycleController {
    grace: SimDuration,
    /// Evictions with a timer set, so each is scheduled once.
    scheduled: BTreeSet<(ObjKey, Uid)>,
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

impl NodeLifecycleController {
    pub fn new(grace: SimDuration) -> Self {
        NodeLifecycleController {
            grace,
            scheduled: BTreeSet::new(),
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
            let age = now.since(n.status.last_heartbeat);
            match n.status.ready {
                ConditionStatus::True if age > HEARTBEAT_INTERVAL => return true,
                ConditionStatus::True => {}
                _ if age <= self.grace => return true,
                _ => any_not_ready = true,
            }
        }
        any_not_ready && self.terminating_on_lost_nodes(api).next().is_some()
    }

    fn terminating_on_lost_nodes<'a>(
        &self,
        api: &'a ApiServer,
    ) -> impl Iterator<Item = &'a Pod> + 'a {
        api.list::<Pod>().filter(move |p| {
            p.is_terminating()
                && p.node_name.as_ref().is_some_and(|n| {
                    api.get::<Node>(&ObjKey::cluster(n.clone()))
                        .is_some_and(|n| n.status.ready != ConditionStatus::True)
                })
        })
    }

    pub fn on_event(&mut self, ctx: &mut Ctx, ev: &NodeLifecycleEvent) {
        match ev {
            NodeLifecycleEvent::Monitor => {
                self.monitor(ctx);
                ctx.after_background(
                    NODE_MONITOR_PERIOD,
                    Event::NodeLifecycle(NodeLifecycleEvent::Monitor),
                );
            }
            NodeLifecycleEvent::Evict { pod, uid } => {
                self.scheduled.remove(&(pod.clone(), *uid));
                self.evict_if_due(ctx, pod, *uid);
            }
        }
    }

    fn monitor(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        let nodes: Vec<(ObjKey, ConditionStatus, SimTime)> = ctx
            .api
            .list::<Node>()
            .map(|n| (n.meta.key(), n.status.ready, n.status.last_heartbeat))
            .collect();
        for (key, ready, hb) in nodes {
            let name = key.name.clone();
            let stale = now.since(hb) > self.grace;
            if stale && ready == ConditionStatus::True {
                let _ = ctx
                    .api
                    .update_status::<Node>(&key, |n| n.status.ready = ConditionStatus::Unknown);
                let _ = ctx.api.update::<Node>(&key, |n| {
                    for effect in [TaintEffect::NoSchedule, TaintEffect::NoExecute] {
                        if !n
                            .taints
                            .iter()
                            .any(|t| t.key == TAINT_UNREACHABLE && t.effect == effect)
                        {
                            let mut t = Taint::new(TAINT_UNREACHABLE, "", effect);
                            t.time_added = Some(now);
                            n.taints.push(t);
                        }
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
                    .list::<Pod>()
                    .filter(|p| p.node_name.as_deref() == Some(name.as_str()) && p.status.ready)
                    .map(|p| p.meta.key())
                    .collect();
                for p in pods {
                    let _ = ctx.api.update_status::<Pod>(&p, |p| {
                        p.status.ready = false;
                        p.status.ready_since = None;
                    });
                }
            } else if !stale && ready != ConditionStatus::True {
                let _ = ctx
                    .api
                    .update_status::<Node>(&key, |n| n.status.ready = ConditionStatus::True);
                let _ = ctx.api.update::<Node>(&key, |n| {
                    n.taints
                        .retain(|t| t.key != TAINT_UNREACHABLE && t.key != TAINT_NOT_READY)
                });
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "NodeReady",
                    format!("Node/{name}"),
                    format!("Node {name} status is now: NodeReady"),
                );
            }
        }
        self.taint_pass(ctx);
        // pod GC: terminating pods on nodes that are not Ready are force-deleted
        let lost: Vec<ObjKey> = self
            .terminating_on_lost_nodes(ctx.api)
            .map(|p| p.meta.key())
            .collect();
        for p in lost {
            let _ = ctx.api.remove::<Pod>(&p);
        }
    }

    /// The taint manager: find pods on nodes with NoExecute taints and evict them
    /// now or set a timer for when their toleration runs out.
    fn taint_pass(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        let tainted: BTreeMap<String, &Node> = ctx
            .api
            .list::<Node>()
            .filter(|n| n.taints.iter().any(|t| t.effect == TaintEffect::NoExecute))
            .map(|n| (n.meta.name.clone(), n))
            .collect();
        if tainted.is_empty() {
            return;
        }
        let mut due: Vec<(ObjKey, Uid, SimTime)> = Vec::new();
        for p in ctx.api.list::<Pod>() {
            if p.is_terminating() || p.status.phase.is_terminal() {
                continue;
            }
            let Some(node) = p.node_name.as_ref().and_then(|n| tainted.get(n)) else {
                continue;
            };
            if let Some(at) = eviction_time(p, node, now) {
                due.push((p.meta.key(), p.meta.uid, at));
            }
        }
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
        let _ = ctx.api.delete::<Pod>(key);
        ctx.event(
            COMPONENT,
            EventType::Normal,
            "TaintManagerEviction",
            object_ref(Kind::Pod, key),
            format!("Marking for deletion Pod {}/{}", key.namespace, key.name),
        );
    }
}
