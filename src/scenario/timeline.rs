//! The user at the keyboard: applies the scenario's objects at the start and runs
//! the timeline's kubectl-like actions, each as plain API writes.

use super::FaultAction;
use super::{Action, TimedAction};
use crate::api::meta::object_ref;
use crate::api::pod::PodPhase;
use crate::api::selector::matches_map;
use crate::api::taint::TaintEffect;
use crate::api::{
    AnyObject, DaemonSet, Deployment, Kind, Node, ObjKey, Pod, ReplicaSet, ReplicationController,
    StatefulSet,
};
use crate::controllers::deployment::{revision, POD_TEMPLATE_HASH};
use crate::metrics::EventType;
use crate::node::kubelet::Registry;
use crate::sim::chaos::nodes_in_zone;
use crate::sim::{Ctx, Event, Fault, FaultStart, Plane};
use std::sync::Arc;

pub const COMPONENT: &str = "kubectl";

pub struct Kubectl {
    initial: Vec<AnyObject>,
    timeline: Vec<TimedAction>,
    /// `kubeadm join` → Node registered.
    node_startup: crate::sim::time::SimDuration,
    /// Drains in progress, by timeline action.
    drains: std::collections::BTreeMap<usize, DrainState>,
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
        Kind::ConfigMap => "configmap",
        Kind::Secret => "secret",
        Kind::StorageClass => "storageclass.storage.k8s.io",
        Kind::PersistentVolume => "persistentvolume",
        Kind::PersistentVolumeClaim => "persistentvolumeclaim",
        Kind::Ingress => "ingress.networking.k8s.io",
        Kind::IngressClass => "ingressclass.networking.k8s.io",
        Kind::PodDisruptionBudget => "poddisruptionbudget.policy",
        Kind::HorizontalPodAutoscaler => "horizontalpodautoscaler.autoscaling",
        Kind::VerticalPodAutoscaler => "verticalpodautoscaler.autoscaling.k8s.io",
        Kind::StatefulSet => "statefulset.apps",
        Kind::DaemonSet => "daemonset.apps",
        Kind::ReplicationController => "replicationcontroller",
        Kind::CronJob => "cronjob.batch",
    };
    format!("{res}/{}", key.name)
}

impl Kubectl {
    pub fn new(
        initial: Vec<AnyObject>,
        timeline: Vec<TimedAction>,
        node_startup: crate::sim::time::SimDuration,
    ) -> Self {
        Kubectl {
            initial,
            timeline,
            node_startup,
            drains: Default::default(),
        }
    }

    /// `node-add` action `i`'s nodes have booted: their kubelets register them.
    pub fn join(&mut self, ctx: &mut Ctx, i: usize) {
        let Some(Action::NodeAdd { nodes, .. }) = self.timeline.get(i).map(|a| a.action.clone())
        else {
            return;
        };
        for n in nodes {
            apply(ctx, AnyObject::Node(n));
        }
    }

    /// Apply the initial objects (nodes of the node pools join here too).
    pub fn bootstrap(&mut self, ctx: &mut Ctx) {
        let objs = std::mem::take(&mut self.initial);
        for o in objs {
            apply(ctx, o);
        }
    }

    /// Run timeline action `i`. A fault is returned for the engine to apply (it
    /// is not an API write). With the API server or etcd down (`api_down`),
    /// kubectl's requests fail and are reported, not retried.
    pub fn run(&mut self, ctx: &mut Ctx, i: usize, api_down: Option<Plane>) -> Option<FaultStart> {
        let a = self.timeline.get(i).cloned()?;
        if let (Some(p), false) = (api_down, matches!(a.action, Action::Fault { .. })) {
            let msg = match p {
                Plane::Etcd => "Error from server: etcdserver: request timed out".to_string(),
                _ => "The connection to the server kube-apiserver:6443 was refused - did you specify the right host or port?".to_string(),
            };
            ctx.event(
                COMPONENT,
                EventType::Warning,
                "FailedRequest",
                format!("Timeline/{i}"),
                format!("{} failed: {msg}", a.verb()),
            );
            return None;
        }
        match a.action {
            Action::Apply(objs) => {
                for o in objs {
                    apply(ctx, o);
                }
            }
            Action::Delete { kind, key, cascade } => {
                let r = ctx.api.delete_with(kind, &key, cascade);
                let out = r.map(|()| format!("{} deleted", kubectl_name(kind, &key)));
                report(ctx, "Delete", object_ref(kind, &key), out);
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
                    Kind::StatefulSet => ctx
                        .api
                        .update::<StatefulSet>(&key, |d| d.replicas = replicas),
                    Kind::ReplicationController => ctx
                        .api
                        .update::<ReplicationController>(&key, |d| d.replicas = replicas),
                    _ => ctx
                        .api
                        .update::<ReplicaSet>(&key, |r| r.replicas = replicas),
                };
                report(
                    ctx,
                    "Scale",
                    object_ref(kind, &key),
                    r.map(|()| format!("{} scaled to {replicas}", kubectl_name(kind, &key))),
                );
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
                report(
                    ctx,
                    reason,
                    format!("Node/{node}"),
                    r.map(|()| format!("node/{node} {word}")),
                );
            }
            Action::SetImage {
                kind,
                key,
                container,
                image,
            } => {
                let mut found = false;
                let set = |t: &mut crate::api::PodTemplate, found: &mut bool| {
                    let mut spec = (*t.spec).clone();
                    if let Some(c) = spec.containers.iter_mut().find(|c| c.name == container) {
                        *found = true;
                        if c.image != image {
                            c.image = image.clone();
                            // imagePullPolicy keeps its (already defaulted) value, as upstream
                            t.spec = Arc::new(spec);
                        }
                    }
                };
                let r = match kind {
                    Kind::StatefulSet => ctx
                        .api
                        .update::<StatefulSet>(&key, |d| set(&mut d.template, &mut found)),
                    Kind::DaemonSet => ctx
                        .api
                        .update::<DaemonSet>(&key, |d| set(&mut d.template, &mut found)),
                    Kind::ReplicaSet => ctx
                        .api
                        .update::<ReplicaSet>(&key, |d| set(&mut d.template, &mut found)),
                    Kind::ReplicationController => {
                        ctx.api.update::<ReplicationController>(&key, |d| {
                            set(&mut d.template, &mut found)
                        })
                    }
                    _ => ctx
                        .api
                        .update::<Deployment>(&key, |d| set(&mut d.template, &mut found)),
                };
                let msg = match r {
                    Ok(()) if found => (
                        EventType::Normal,
                        format!("{} image updated", kubectl_name(kind, &key)),
                    ),
                    Ok(()) => (
                        EventType::Warning,
                        format!("error: unable to find container named {container:?}"),
                    ),
                    Err(e) => (
                        EventType::Warning,
                        format!("Error from server (NotFound): {e}"),
                    ),
                };
                ctx.event(COMPONENT, msg.0, "SetImage", object_ref(kind, &key), msg.1);
            }
            Action::RolloutUndo { key, to_revision } => rollout_undo(ctx, &key, to_revision),
            Action::RolloutPause { key, paused } => {
                let r = ctx.api.update::<Deployment>(&key, |d| d.paused = paused);
                let (reason, word) = if paused {
                    ("RolloutPause", "paused")
                } else {
                    ("RolloutResume", "resumed")
                };
                let out = r.map(|()| format!("{} {word}", kubectl_name(Kind::Deployment, &key)));
                report(ctx, reason, object_ref(Kind::Deployment, &key), out);
            }
            Action::Label { kind, key, labels } => {
                let set = |l: &mut crate::api::selector::Labels| {
                    for (k, v) in &labels {
                        match v {
                            Some(v) => {
                                l.insert(k.clone(), v.clone());
                            }
                            None => {
                                l.remove(k);
                            }
                        }
                    }
                };
                let r = match kind {
                    Kind::Node => ctx.api.update::<Node>(&key, |n| set(&mut n.meta.labels)),
                    _ => ctx
                        .api
                        .update::<Deployment>(&key, |d| set(&mut d.meta.labels)),
                };
                report(
                    ctx,
                    "Label",
                    object_ref(kind, &key),
                    r.map(|()| format!("{} labeled", kubectl_name(kind, &key))),
                );
            }
            Action::Taint { node, add, remove } => {
                let key = ObjKey::cluster(node.clone());
                let now = ctx.now;
                let r = ctx.api.update::<Node>(&key, |n| {
                    n.taints.retain(|t| !remove.contains(&t.key));
                    for t in &add {
                        n.taints
                            .retain(|x| !(x.key == t.key && x.effect == t.effect));
                        let mut t = t.clone();
                        if t.effect == TaintEffect::NoExecute {
                            t.time_added = Some(now);
                        }
                        n.taints.push(t);
                    }
                });
                let word = if add.is_empty() {
                    "untainted"
                } else {
                    "tainted"
                };
                report(
                    ctx,
                    "Taint",
                    format!("Node/{node}"),
                    r.map(|()| format!("node/{node} {word}")),
                );
            }
            Action::Drain { node, timeout } => self.drain(ctx, i, &node, timeout),
            Action::Fault { fault, heal_after } => {
                return fault_start(ctx, fault, heal_after);
            }
            Action::NodeAdd { nodes, .. } => {
                for n in &nodes {
                    ctx.event(
                        "kubeadm",
                        EventType::Normal,
                        "Join",
                        format!("Node/{}", n.meta.name),
                        format!(
                            "kubeadm join: {} boots, joins and registers its kubelet (in {})",
                            n.meta.name, self.node_startup
                        ),
                    );
                }
                ctx.after(self.node_startup, Event::Join(i));
            }
            Action::NodeRemove(node) => {
                let r = ctx.api.delete::<Node>(&ObjKey::cluster(node.clone()));
                report(
                    ctx,
                    "Delete",
                    format!("Node/{node}"),
                    r.map(|()| format!("node \"{node}\" deleted; the machine is gone")),
                );
            }
        }
        None
    }
}

/// Record the outcome of one kubectl call: its output line, or the server's error.
fn report(ctx: &mut Ctx, reason: &str, object: String, r: Result<String, crate::api::ApiError>) {
    let (ty, msg) = match r {
        Ok(m) => (EventType::Normal, m),
        Err(e) => (
            EventType::Warning,
            format!("Error from server (NotFound): {e}"),
        ),
    };
    ctx.event(COMPONENT, ty, reason, object, msg);
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

/// `kubectl rollout undo`: the template of the ReplicaSet with the wanted revision
/// (default: the newest one before the current) becomes the Deployment's template.
fn rollout_undo(ctx: &mut Ctx, key: &ObjKey, to_revision: Option<i64>) {
    let object = object_ref(Kind::Deployment, key);
    let Some(d) = ctx.api.get::<Deployment>(key) else {
        let msg = format!(
            "Error from server (NotFound): deployments.apps {:?} not found",
            key.name
        );
        ctx.event(
            COMPONENT,
            EventType::Warning,
            "DeploymentRollback",
            object,
            msg,
        );
        return;
    };
    let uid = d.meta.uid;
    let mut sets: Vec<(i64, ReplicaSet)> = ctx
        .api
        .dependents_of(uid, Kind::ReplicaSet)
        .filter_map(|k| ctx.api.get::<ReplicaSet>(k))
        .filter(|rs| rs.meta.controller_ref().is_some_and(|o| o.uid == uid))
        .map(|rs| (revision(rs), rs.clone()))
        .collect();
    sets.sort_by_key(|(r, _)| *r);
    let wanted = match to_revision {
        Some(r) => sets.iter().find(|(v, _)| *v == r),
        // the previous revision: the second highest
        None => sets.iter().rev().nth(1),
    };
    let Some((rev, rs)) = wanted.cloned() else {
        let msg = match to_revision {
            Some(r) => format!("error: unable to find specified revision {r} in history"),
            None => format!(
                "error: no rollout history found for deployment {:?}",
                key.name
            ),
        };
        ctx.event(
            COMPONENT,
            EventType::Warning,
            "DeploymentRollback",
            object,
            msg,
        );
        return;
    };
    let mut template = rs.template.clone();
    template.labels.remove(POD_TEMPLATE_HASH);
    if template == d.template {
        let msg = format!(
            "{} skipped rollback (current template already matches revision {rev})",
            kubectl_name(Kind::Deployment, key)
        );
        ctx.event(
            COMPONENT,
            EventType::Normal,
            "DeploymentRollback",
            object,
            msg,
        );
        return;
    }
    match ctx.api.update::<Deployment>(key, |d| d.template = template) {
        Ok(()) => ctx.event(
            COMPONENT,
            EventType::Normal,
            "DeploymentRollback",
            object,
            format!("Rolled back deployment {:?} to revision {rev}", key.name),
        ),
        Err(e) => ctx.event(
            COMPONENT,
            EventType::Warning,
            "DeploymentRollback",
            object,
            format!("Error from server: {e}"),
        ),
    }
}

/// A `kubectl drain` in progress: pods still to evict, and evicted pods it
/// waits for (kubectl waits until each is gone).
#[derive(Debug, Clone)]
struct DrainState {
    node: String,
    deadline: Option<crate::sim::time::SimTime>,
    timeout: Option<crate::sim::time::SimDuration>,
    to_evict: Vec<ObjKey>,
    evicted: Vec<ObjKey>,
    bare: usize,
}

/// How long kubectl sleeps after a refused eviction (`drain.go`).
pub const EVICTION_RETRY: crate::sim::time::SimDuration =
    crate::sim::time::SimDuration::from_secs(5);
/// How often kubectl checks whether evicted pods are gone (`waitForDelete`).
pub const DELETE_POLL: crate::sim::time::SimDuration = crate::sim::time::SimDuration::from_secs(1);

impl Kubectl {
    /// `kubectl drain NODE --ignore-daemonsets --delete-emptydir-data
    /// [--timeout D]`: cordon, then evict every unfinished pod on the node that a
    /// controller owns through the eviction API, retrying a refused eviction
    /// (a PodDisruptionBudget allows no disruption) every 5 s, and wait until the
    /// evicted pods are gone. Pods without a controller are refused (no
    /// `--force`) and stay.
    fn drain(
        &mut self,
        ctx: &mut Ctx,
        i: usize,
        node: &str,
        timeout: Option<crate::sim::time::SimDuration>,
    ) {
        let key = ObjKey::cluster(node.to_string());
        let object = format!("Node/{node}");
        if let Err(e) = ctx.api.update::<Node>(&key, |n| n.unschedulable = true) {
            let msg = format!("Error from server (NotFound): {e}");
            ctx.event(COMPONENT, EventType::Warning, "Drain", object, msg);
            return;
        }
        ctx.event(
            COMPONENT,
            EventType::Normal,
            "NodeNotSchedulable",
            object.clone(),
            format!("node/{node} cordoned"),
        );
        let mut managed = Vec::new();
        let mut bare = Vec::new();
        let mut daemons = Vec::new();
        for p in ctx.api.list::<Pod>() {
            if p.node_name.as_deref() != Some(node)
                || p.status.phase.is_terminal()
                || p.is_terminating()
            {
                continue;
            }
            match p.meta.controller_ref() {
                // --ignore-daemonsets: the DaemonSet would put them back at once
                Some(o) if o.kind == Kind::DaemonSet => daemons.push(p.meta.key()),
                Some(_) => managed.push(p.meta.key()),
                None => bare.push(p.meta.key()),
            }
        }
        managed.sort();
        bare.sort();
        daemons.sort();
        let pod_list = |keys: &[ObjKey]| {
            let names: Vec<String> = keys
                .iter()
                .map(|k| format!("{}/{}", k.namespace, k.name))
                .collect();
            names.join(", ")
        };
        if !daemons.is_empty() {
            let msg = format!(
                "Warning: ignoring DaemonSet-managed Pods: {}",
                pod_list(&daemons)
            );
            ctx.event(COMPONENT, EventType::Warning, "Drain", object.clone(), msg);
        }
        if !bare.is_empty() {
            let msg = format!(
                "error: cannot delete Pods that declare no controller (use --force to override): {}",
                pod_list(&bare)
            );
            ctx.event(COMPONENT, EventType::Warning, "Drain", object.clone(), msg);
        }
        self.drains.insert(
            i,
            DrainState {
                node: node.to_string(),
                deadline: timeout.map(|d| ctx.now + d),
                timeout,
                to_evict: managed,
                evicted: Vec::new(),
                bare: bare.len(),
            },
        );
        self.drain_step(ctx, i);
    }

    /// One round of drain `i`: try the evictions still to do, check which
    /// evicted pods are gone, and finish or schedule the next round.
    pub fn drain_step(&mut self, ctx: &mut Ctx, i: usize) {
        let Some(mut d) = self.drains.remove(&i) else {
            return;
        };
        let object = format!("Node/{}", d.node);
        if d.deadline.is_some_and(|t| ctx.now >= t) {
            let left = d.to_evict.first().or(d.evicted.first()).cloned();
            let what = match left {
                Some(k) => format!(
                    "error when evicting pods/{:?} -n {:?}: global timeout reached: {}",
                    k.name,
                    k.namespace,
                    d.timeout.unwrap_or_default()
                ),
                None => "global timeout reached".into(),
            };
            ctx.event(
                COMPONENT,
                EventType::Warning,
                "Drain",
                object,
                format!(
                    "error: unable to drain node {:?} due to error: {what}",
                    d.node
                ),
            );
            return;
        }
        let mut refused = Vec::new();
        for k in std::mem::take(&mut d.to_evict) {
            match crate::controllers::disruption::evict(ctx.api, &k) {
                Ok(()) => {
                    ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "Evict",
                        object_ref(Kind::Pod, &k),
                        format!("evicting pod {}/{}", k.namespace, k.name),
                    );
                    d.evicted.push(k);
                }
                Err(crate::controllers::disruption::EvictionError::NotFound(_)) => {}
                Err(e) => {
                    ctx.event(
                        COMPONENT,
                        EventType::Warning,
                        "EvictionBlocked",
                        object_ref(Kind::Pod, &k),
                        format!(
                            "error when evicting pods/{:?} -n {:?} (will retry after 5s): {e}",
                            k.name, k.namespace
                        ),
                    );
                    refused.push(k);
                }
            }
        }
        d.to_evict = refused;
        let mut waiting = Vec::new();
        for k in std::mem::take(&mut d.evicted) {
            if ctx.api.get::<Pod>(&k).is_some() {
                waiting.push(k);
            } else {
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "Evicted",
                    object_ref(Kind::Pod, &k),
                    format!("pod/{} evicted", k.name),
                );
            }
        }
        d.evicted = waiting;
        if d.to_evict.is_empty() && d.evicted.is_empty() {
            let msg = if d.bare == 0 {
                (EventType::Normal, format!("node/{} drained", d.node))
            } else {
                (
                    EventType::Warning,
                    format!(
                        "node/{} not fully drained: {} pod(s) without a controller stay",
                        d.node, d.bare
                    ),
                )
            };
            ctx.event(COMPONENT, msg.0, "Drain", object, msg.1);
            return;
        }
        let wait = if d.to_evict.is_empty() {
            DELETE_POLL
        } else {
            EVICTION_RETRY
        };
        let next = match d.deadline {
            Some(t) => (ctx.now + wait).min(t),
            None => ctx.now + wait,
        };
        ctx.at(next, Event::Drain(i));
        self.drains.insert(i, d);
    }
}

/// Resolve a fault action to the nodes and pods it hits now, and say it in the log.
fn fault_start(
    ctx: &mut Ctx,
    fault: FaultAction,
    heal_after: Option<crate::sim::time::SimDuration>,
) -> Option<FaultStart> {
    let back = |msg: &mut String| {
        if let Some(d) = heal_after {
            msg.push_str(&format!(", back in {d}"));
        }
    };
    let (kind, reason, object, mut msg, faults): (&'static str, &str, String, String, Vec<Fault>) =
        match fault {
            FaultAction::NodeCrash(node) => (
                "node-crash",
                "NodeCrash",
                format!("Node/{node}"),
                format!("node/{node} crashed: kubelet and containers stopped"),
                vec![Fault::NodeCrash(vec![node])],
            ),
            FaultAction::NodeRecover(node) => (
                "node-recover",
                "NodeRecover",
                format!("Node/{node}"),
                format!("node/{node} recovered: kubelet restarted"),
                vec![Fault::NodeRecover(node)],
            ),
            FaultAction::KubeletStop(node) => (
                "kubelet-stop",
                "KubeletStop",
                format!("Node/{node}"),
                format!("node/{node}: kubelet stopped (containers keep running)"),
                vec![Fault::KubeletStop(vec![node])],
            ),
            FaultAction::NetworkPartition { nodes, selector } => {
                let mut set: Vec<String> = nodes;
                if !selector.is_empty() {
                    set.extend(
                        ctx.api
                            .list::<Node>()
                            .filter(|n| matches_map(&selector, &n.meta.labels))
                            .map(|n| n.meta.name.clone()),
                    );
                }
                set.sort();
                set.dedup();
                (
                    "network-partition",
                    "NetworkPartition",
                    format!("Nodes/{}", set.join(",")),
                    format!(
                        "{} cut off from the API server (pods keep running)",
                        set.join(", ")
                    ),
                    vec![Fault::Partition(set)],
                )
            }
            FaultAction::ZoneOutage(zone) => {
                let nodes = nodes_in_zone(ctx.api, &zone);
                (
                    "zone-outage",
                    "ZoneOutage",
                    format!("Zone/{zone}"),
                    format!(
                        "zone {zone} is down: {} node(s) stopped ({})",
                        nodes.len(),
                        nodes.join(", ")
                    ),
                    vec![Fault::NodeCrash(nodes)],
                )
            }
            FaultAction::PodExit {
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
                let (kind, reason, word) = if oom {
                    ("pod-oom", "PodOOM", "OOM-killed")
                } else {
                    ("pod-crash", "PodCrash", "crashed")
                };
                if victims.is_empty() {
                    ctx.event(
                        COMPONENT,
                        EventType::Warning,
                        reason,
                        format!("Namespace/{namespace}"),
                        format!("no Running pod in namespace {namespace} matches the selector"),
                    );
                    return None;
                }
                for (key, _) in &victims {
                    ctx.event(
                        COMPONENT,
                        EventType::Warning,
                        reason,
                        object_ref(Kind::Pod, key),
                        format!("pod/{}: containers {word}", key.name),
                    );
                }
                let target = victims
                    .iter()
                    .map(|(k, _)| object_ref(Kind::Pod, k))
                    .collect::<Vec<_>>()
                    .join(",");
                return Some(FaultStart {
                    kind,
                    target,
                    faults: victims
                        .into_iter()
                        .map(|(k, n)| Fault::PodExit(n, k, oom))
                        .collect(),
                    heal_after: None,
                });
            }
            FaultAction::Registry(None) => (
                "image-registry-down",
                "RegistryDown",
                "Registry".into(),
                "the image registry is down: image pulls fail".into(),
                vec![Fault::Registry(Registry::Down)],
            ),
            FaultAction::Registry(Some(f)) => (
                "image-registry-slow",
                "RegistrySlow",
                "Registry".into(),
                format!("the image registry is slow: pulls take {f}x longer"),
                vec![Fault::Registry(Registry::Slow(f))],
            ),
            FaultAction::ControlPlane(p) => (
                match p {
                    Plane::ApiServer => "api-server-down",
                    Plane::Etcd => "etcd-down",
                    Plane::Scheduler => "scheduler-down",
                    Plane::ControllerManager => "controller-manager-down",
                },
                "ControlPlaneDown",
                format!("ControlPlane/{}", p.name()),
                format!("{} is down", p.name()),
                vec![Fault::ControlPlane(p)],
            ),
        };
    back(&mut msg);
    let ty = if kind == "node-recover" {
        EventType::Normal
    } else {
        EventType::Warning
    };
    ctx.event(COMPONENT, ty, reason, object.clone(), msg);
    Some(FaultStart {
        kind,
        target: object,
        faults,
        heal_after,
    })
}
