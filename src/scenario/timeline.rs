//! The user at the keyboard: applies the scenario's objects at the start and runs
//! the timeline's kubectl-like actions, each as plain API writes.

use super::{Action, TimedAction};
use crate::api::meta::object_ref;
use crate::api::pod::PodPhase;
use crate::api::selector::matches_map;
use crate::api::{AnyObject, Deployment, Kind, Node, ObjKey, Pod, ReplicaSet};
use crate::metrics::EventType;
use crate::sim::{Ctx, Event, Fault};

pub const COMPONENT: &str = "kubectl";

pub struct Kubectl {
    initial: Vec<AnyObject>,
    timeline: Vec<TimedAction>,
}

/// `deployment.apps/web`-style names, as kubectl prints them.
fn kubectl_name(kind: Kind, key: &ObjKey) -> String {
    let res = match kind {
        Kind::Deployment => "deployment.apps",
        Kind::ReplicaSet => "replicaset.apps",
        Kind::Pod => "pod",
        Kind::Node => "node",
        Kind::Service => "service",
        Kind::PriorityClass => "priorityclass.scheduling.k8s.io",
        Kind::Job => "job.batch",
        Kind::Namespace => "namespace",
    };
    format!("{res}/{}", key.name)
}

impl Kubectl {
    pub fn new(initial: Vec<AnyObject>, timeline: Vec<TimedAction>) -> Self {
        Kubectl { initial, timeline }
    }

    /// Apply the initial objects (nodes of the node pools join here too).
    pub fn bootstrap(&mut self, ctx: &mut Ctx) {
        let objs = std::mem::take(&mut self.initial);
        for o in objs {
            apply(ctx, o);
        }
    }

    /// Run timeline action `i`. A fault action is returned for the engine to
    /// apply to the node (it is not an API write).
    pub fn run(&mut self, ctx: &mut Ctx, i: usize) -> Option<Fault> {
        let a = self.timeline.get(i).cloned()?;
        match a.action {
            Action::Apply(objs) => {
                for o in objs {
                    apply(ctx, o);
                }
            }
            Action::Delete { kind, key } => {
                let msg = match ctx.api.delete_kind(kind, &key) {
                    Ok(()) => (
                        EventType::Normal,
                        format!("{} deleted", kubectl_name(kind, &key)),
                    ),
                    Err(e) => (
                        EventType::Warning,
                        format!("Error from server (NotFound): {e}"),
                    ),
                };
                ctx.event(COMPONENT, msg.0, "Delete", object_ref(kind, &key), msg.1);
            }
            Action::Scale {
                kind,
                key,
                replicas,
            } => {
                let r = match kind {
                    Kind::Deployment => ctx
                        .api
                        .update::<Deployment>(&key, |d| d.replicas = replicas),
                    _ => ctx
                        .api
                        .update::<ReplicaSet>(&key, |r| r.replicas = replicas),
                };
                let msg = match r {
                    Ok(()) => (
                        EventType::Normal,
                        format!("{} scaled to {replicas}", kubectl_name(kind, &key)),
                    ),
                    Err(e) => (
                        EventType::Warning,
                        format!("Error from server (NotFound): {e}"),
                    ),
                };
                ctx.event(COMPONENT, msg.0, "Scale", object_ref(kind, &key), msg.1);
            }
            Action::Cordon(ref node) | Action::Uncordon(ref node) => {
                let cordon = matches!(a.action, Action::Cordon(_));
                let key = ObjKey::cluster(node.clone());
                let r = ctx.api.update::<Node>(&key, |n| n.unschedulable = cordon);
                let (reason, word) = if cordon {
                    ("NodeNotSchedulable", "cordoned")
                } else {
                    ("NodeSchedulable", "uncordoned")
                };
                let msg = match r {
                    Ok(()) => (EventType::Normal, format!("node/{node} {word}")),
                    Err(e) => (
                        EventType::Warning,
                        format!("Error from server (NotFound): {e}"),
                    ),
                };
                ctx.event(COMPONENT, msg.0, reason, format!("Node/{node}"), msg.1);
            }
            Action::NodeCrash {
                node,
                recover_after,
            } => {
                let mut msg = format!("node/{node} crashed: kubelet and containers stopped");
                if let Some(d) = recover_after {
                    msg.push_str(&format!(", back in {d}"));
                    ctx.after(d, Event::Fault(Fault::Recover(node.clone())));
                }
                ctx.event(
                    COMPONENT,
                    EventType::Warning,
                    "NodeCrash",
                    format!("Node/{node}"),
                    msg,
                );
                return Some(Fault::Crash(node));
            }
            Action::PodExit {
                selector,
                namespace,
                count,
                oom,
            } => {
                let mut victims: Vec<(ObjKey, String)> = ctx
                    .api
                    .list::<Pod>()
                    .filter(|p| {
                        p.meta.namespace == namespace
                            && p.status.phase == PodPhase::Running
                            && !p.is_terminating()
                            && matches_map(&selector, &p.meta.labels)
                    })
                    .filter_map(|p| Some((p.meta.key(), p.node_name.clone()?)))
                    .collect();
                victims.sort();
                victims.truncate(count as usize);
                let (reason, word) = if oom {
                    ("PodOOM", "OOM-killed")
                } else {
                    ("PodCrash", "crashed")
                };
                if victims.is_empty() {
                    ctx.event(
                        COMPONENT,
                        EventType::Warning,
                        reason,
                        format!("Namespace/{namespace}"),
                        format!("no Running pod in namespace {namespace} matches the selector"),
                    );
                }
                for (key, node) in victims {
                    ctx.event(
                        COMPONENT,
                        EventType::Warning,
                        reason,
                        object_ref(Kind::Pod, &key),
                        format!("pod/{}: containers {word}", key.name),
                    );
                    ctx.after(
                        crate::sim::time::SimDuration::ZERO,
                        Event::Fault(Fault::PodExit(node, key, oom)),
                    );
                }
            }
            Action::NodeRecover(node) => {
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "NodeRecover",
                    format!("Node/{node}"),
                    format!("node/{node} recovered: kubelet restarted"),
                );
                return Some(Fault::Recover(node));
            }
        }
        None
    }
}

fn apply(ctx: &mut Ctx, o: AnyObject) {
    let kind = o.kind();
    let key = o.key();
    let (ty, msg) = match o.apply(ctx.api) {
        Ok(word) => (
            EventType::Normal,
            format!("{} {word}", kubectl_name(kind, &key)),
        ),
        Err(e) => (EventType::Warning, format!("Error from server: {e}")),
    };
    ctx.event(COMPONENT, ty, "Apply", object_ref(kind, &key), msg);
}
