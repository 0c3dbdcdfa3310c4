//! The DaemonSet controller (upstream `pkg/controller/daemon`): one pod per
//! eligible node, following nodes as they join and leave.
//!
//! A node is eligible (upstream `NodeShouldRunDaemonPod`) when the template's
//! `nodeSelector` and required node affinity match it and the pod tolerates
//! its NoSchedule and NoExecute taints — counting the tolerations every daemon
//! pod gets (`AddOrUpdateDaemonPodTolerations`: not-ready and unreachable
//! NoExecute without a time limit; disk-, memory- and pid-pressure and
//! unschedulable NoSchedule). Each daemon pod is created unbound with a
//! required node affinity `metadata.name In [node]` in place of the template's
//! (`ReplaceDaemonSetPodNodeNameNodeAffinity`), so the default scheduler binds
//! it — its requests count against the node's capacity like any pod's, and it
//! stays Pending if it does not fit.
//!
//! Rolling update (upstream `rollingUpdate`): with `maxSurge` 0, old pods are
//! deleted while fewer than `maxUnavailable` eligible nodes lack an available
//! pod (an old pod that is not available is deleted at once); the next sync
//! creates the new pod. With `maxSurge` > 0 (and `maxUnavailable` 0) a new pod
//! is created beside the old one on up to `maxSurge` nodes, and the old one is
//! deleted once the new one is available. Both are scaled from the number of
//! eligible nodes, rounding up. Pods on nodes that are deleted are left to the
//! pod garbage collector, as upstream.

use super::workqueue::WorkQueue;
use super::{generate_name, ControllerId};
use crate::api::affinity::{NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm};
use crate::api::apps::{DaemonSet, DaemonSetStatus, DaemonSetUpdateStrategy};
use crate::api::meta::object_ref;
use crate::api::pod::PodSpec;
use crate::api::store::{TAINT_NOT_READY, TAINT_UNREACHABLE};
use crate::api::taint::{tolerated, TaintEffect, Toleration, TolerationOperator};
use crate::api::{Change, Kind, Node, ObjKey, ObjectMeta, OwnerReference, Pod, Uid};
use crate::controllers::statefulset::{revision_name, REVISION_LABEL};
use crate::metrics::EventType;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::SimDuration;
use crate::sim::Ctx;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const COMPONENT: &str = "daemonset-controller";

/// The tolerations every daemon pod gets, with the effect each is for.
pub const DAEMON_TOLERATIONS: [(&str, TaintEffect); 6] = [
    (TAINT_NOT_READY, TaintEffect::NoExecute),
    (TAINT_UNREACHABLE, TaintEffect::NoExecute),
    ("node.kubernetes.io/disk-pressure", TaintEffect::NoSchedule),
    (
        "node.kubernetes.io/memory-pressure",
        TaintEffect::NoSchedule,
    ),
    ("node.kubernetes.io/pid-pressure", TaintEffect::NoSchedule),
    ("node.kubernetes.io/unschedulable", TaintEffect::NoSchedule),
];

/// The template's spec with the daemon tolerations added (those it lacks).
pub fn with_daemon_tolerations(spec: &PodSpec) -> PodSpec {
    let mut s = spec.clone();
    for (key, effect) in DAEMON_TOLERATIONS {
        let has = s
            .tolerations
            .iter()
            .any(|t| t.key == key && t.effect == Some(effect));
        if !has {
            s.tolerations.push(Toleration {
                key: key.to_string(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: Some(effect),
                toleration_seconds: None,
            });
        }
    }
    s
}

/// Upstream `NodeShouldRunDaemonPod` for a spec with the daemon tolerations:
/// `Err` says why not.
pub fn should_run(spec: &PodSpec, node: &Node) -> Result<(), String> {
    let labels = &node.meta.labels;
    if !spec
        .node_selector
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
    {
        return Err("node does not match the pod's nodeSelector".into());
    }
    if let Some(terms) = &spec.affinity.node.required {
        if !terms.iter().any(|t| t.matches(&node.meta.name, labels)) {
            return Err("node does not match the pod's required node affinity".into());
        }
    }
    for t in &node.taints {
        if matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute)
            && !tolerated(&spec.tolerations, t)
        {
            return Err(format!("the pod does not tolerate the node's taint {t}"));
        }
    }
    Ok(())
}

/// The node a daemon pod is for: where it is bound, else its node affinity.
pub fn target_node(p: &Pod) -> Option<&str> {
    if let Some(n) = p.node_name.as_deref() {
        return Some(n);
    }
    let terms = p.spec.affinity.node.required.as_ref()?;
    let f = terms.first()?.match_fields.first()?;
    (f.key == "metadata.name" && f.operator == NodeSelectorOperator::In)
        .then(|| f.values.first().map(String::as_str))
        .flatten()
}

/// Pods to delete: key, node and why.
type Deletes = Vec<(ObjKey, String, String)>;

/// One sync's decisions from the current state: the status, the nodes to
/// create a pod for, the pods to delete, and when to look again (a pod
/// becoming available after minReadySeconds).
fn plan(
    api: &crate::api::ApiServer,
    ds: &DaemonSet,
    rev: &str,
    spec: &PodSpec,
    now: crate::sim::time::SimTime,
) -> (
    DaemonSetStatus,
    Vec<String>,
    Deletes,
    Option<crate::sim::time::SimTime>,
) {
    // The set's pods by node.
    let mut by_node: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    for k in api.dependents_of(ds.meta.uid, Kind::Pod) {
        let Some(p) = api.get::<Pod>(k) else { continue };
        if p.meta.controller_ref().is_none_or(|o| o.uid != ds.meta.uid) {
            continue;
        }
        if let Some(n) = target_node(p) {
            by_node.entry(n).or_default().push(p);
        }
    }
    let is_new = |p: &&Pod| p.meta.labels.get(REVISION_LABEL).map(String::as_str) == Some(rev);
    let available = |p: &&Pod| p.is_active() && p.is_available(ds.min_ready, now);
    let on = |p: &Pod| target_node(p).unwrap_or("?").to_string();

    let mut status = DaemonSetStatus {
        observed_generation: ds.meta.generation,
        ..Default::default()
    };
    let mut to_create: Vec<String> = Vec::new();
    let mut to_delete: Deletes = Vec::new();
    // nodes that should run the pod: (node, old pods, new pods) of active pods
    let mut eligible: Vec<(&str, Vec<&Pod>, Vec<&Pod>)> = Vec::new();
    for node in api.store().nodes.values() {
        let name = node.meta.name.as_str();
        let mut active: Vec<&Pod> = Vec::new();
        for p in by_node.get(name).into_iter().flatten() {
            if p.is_terminating() {
                continue;
            }
            if p.status.phase.is_terminal() {
                // upstream deletes failed daemon pods so they are recreated
                to_delete.push((p.meta.key(), on(p), "the pod failed".into()));
            } else {
                active.push(p);
            }
        }
        match should_run(spec, node) {
            Ok(()) => {
                status.desired_number_scheduled += 1;
                if !active.is_empty() {
                    status.current_number_scheduled += 1;
                }
                if active.iter().any(|p| p.status.ready) {
                    status.number_ready += 1;
                }
                if active.iter().any(available) {
                    status.number_available += 1;
                }
                if active.iter().any(is_new) {
                    status.updated_number_scheduled += 1;
                }
                if active.is_empty() {
                    to_create.push(name.to_string());
                }
                let (new, old): (Vec<&Pod>, Vec<&Pod>) = active.into_iter().partition(is_new);
                eligible.push((name, old, new));
            }
            Err(why) => {
                if !active.is_empty() {
                    status.number_misscheduled += 1;
                }
                for p in active {
                    to_delete.push((p.meta.key(), on(p), why.clone()));
                }
            }
        }
    }
    // more than one pod of the same revision on a node: keep the oldest
    for (_, old, new) in &mut eligible {
        for v in [&mut *old, &mut *new] {
            if v.len() > 1 {
                v.sort_by(|a, b| {
                    (a.meta.creation_timestamp, &a.meta.name)
                        .cmp(&(b.meta.creation_timestamp, &b.meta.name))
                });
                for p in v.drain(1..) {
                    to_delete.push((
                        p.meta.key(),
                        on(p),
                        "more than one daemon pod on the node".into(),
                    ));
                }
            }
        }
    }

    // Rolling update.
    if let DaemonSetUpdateStrategy::RollingUpdate {
        max_unavailable,
        max_surge,
    } = ds.update_strategy
    {
        let desired = status.desired_number_scheduled;
        let max_unavailable = max_unavailable.scaled(desired, true);
        let max_surge = max_surge.scaled(desired, true);
        if max_surge == 0 {
            let mut unavailable = eligible
                .iter()
                .filter(|(_, old, new)| !old.iter().chain(new).any(available))
                .count() as i32;
            for (node, old, new) in &eligible {
                if let (Some(p), true) = (old.first(), new.is_empty()) {
                    if !available(p) {
                        to_delete.push((
                            p.meta.key(),
                            node.to_string(),
                            format!("rolling update: the old pod on {node} is not available"),
                        ));
                    } else if unavailable < max_unavailable {
                        unavailable += 1;
                        to_delete.push((
                            p.meta.key(),
                            node.to_string(),
                            format!("rolling update: replace the old pod on {node} ({unavailable} of maxUnavailable {max_unavailable} nodes unavailable)"),
                        ));
                    }
                }
            }
        } else {
            let mut surging = eligible
                .iter()
                .filter(|(_, old, new)| !old.is_empty() && !new.is_empty())
                .count() as i32;
            for (node, old, new) in &eligible {
                let Some(p) = old.first() else { continue };
                match new.first() {
                    Some(n) if available(n) => to_delete.push((
                        p.meta.key(),
                        node.to_string(),
                        format!("rolling update: the new pod on {node} is available"),
                    )),
                    Some(_) => {}
                    None if surging < max_surge => {
                        surging += 1;
                        to_create.push(node.to_string());
                    }
                    None => {}
                }
            }
        }
    }
    let next = by_node
        .values()
        .flatten()
        .filter(|p| p.status.ready && !p.is_available(ds.min_ready, now))
        .filter_map(|p| p.status.ready_since.map(|t| t + ds.min_ready))
        .min();
    (status, to_create, to_delete, next)
}

pub struct DaemonSetController {
    rng: SimRng,
    queue: WorkQueue,
    /// Per set (uid, revision, spec with daemon tolerations, generation): the
    /// revision hash and the spec are computed once per template, not per sync.
    #[allow(clippy::type_complexity)]
    specs: BTreeMap<ObjKey, (Uid, String, Arc<PodSpec>, i64)>,
}

impl DaemonSetController {
    pub fn new(seed: u64, sync_delay: SimDuration) -> Self {
        DaemonSetController {
            rng: rng::stream(seed, COMPONENT),
            queue: WorkQueue::new(ControllerId::DaemonSet, sync_delay),
            specs: BTreeMap::new(),
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::DaemonSet => self.queue.add(ctx, change.key.clone()),
            Kind::Pod => self.queue.add_owner(ctx, change, Kind::DaemonSet),
            // a node joined, left or changed labels or taints: every set looks again
            Kind::Node => {
                let keys: Vec<ObjKey> = ctx.api.store().daemonsets.keys().cloned().collect();
                for k in keys {
                    self.queue.add(ctx, k);
                }
            }
            _ => {}
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.queue.take(key, ctx.now) {
            self.sync(ctx, key);
        }
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        let Some(ds) = ctx.api.get::<DaemonSet>(key) else {
            self.specs.remove(key);
            return;
        };
        if ds.meta.deletion_timestamp.is_some() {
            return;
        }
        let ds = ds.clone();
        let now = ctx.now;
        let object = object_ref(Kind::DaemonSet, key);
        let rev = match self.specs.get(key) {
            // the template is unchanged since the last sync (its generation)
            Some((uid, r, _, generation))
                if *uid == ds.meta.uid && *generation == ds.meta.generation =>
            {
                r.clone()
            }
            _ => revision_name(&ds.meta.name, &ds.template),
        };
        let spec = match self.specs.get(key) {
            Some((uid, r, s, _)) if *uid == ds.meta.uid && *r == rev => s.clone(),
            _ => Arc::new(with_daemon_tolerations(&ds.template.spec)),
        };
        self.specs.insert(
            key.clone(),
            (ds.meta.uid, rev.clone(), spec.clone(), ds.meta.generation),
        );

        // Decide with the store borrowed (no copies of nodes or pods); act after.
        let (status, to_create, to_delete, next) = plan(ctx.api, &ds, &rev, &spec, now);

        for node in to_create {
            let pod = self.new_pod(ctx, &ds, &rev, &spec, &node);
            let name = pod.meta.name.clone();
            match ctx.api.create(pod) {
                Ok(_) => ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "SuccessfulCreate",
                    object.clone(),
                    format!("Created pod: {name}"),
                ),
                Err(e) => ctx.event(
                    COMPONENT,
                    EventType::Warning,
                    "FailedCreate",
                    object.clone(),
                    format!("Error creating: {e}"),
                ),
            }
        }
        for (pk, node, why) in to_delete {
            if ctx.api.delete::<Pod>(&pk).is_ok() {
                ctx.decision(
                    COMPONENT,
                    "DeleteDaemonPod",
                    object.clone(),
                    (
                        format!("pod {} on {node}", pk.name),
                        "one available pod of the current template per eligible node".into(),
                        format!("delete {}", pk.name),
                    ),
                    format!("Deleting pod {}: {why}", pk.name),
                );
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "SuccessfulDelete",
                    object.clone(),
                    format!("Deleted pod: {}", pk.name),
                );
            }
        }
        if status != ds.status {
            let _ = ctx
                .api
                .update_status::<DaemonSet>(key, |d| d.status = status);
        }
        if let Some(t) = next {
            self.queue.add_after(ctx, key.clone(), t.since(now));
        }
    }

    fn new_pod(&mut self, ctx: &Ctx, ds: &DaemonSet, rev: &str, spec: &PodSpec, node: &str) -> Pod {
        let base = format!("{}-", ds.meta.name);
        let mut name = generate_name(&base, &mut self.rng);
        while ctx
            .api
            .get::<Pod>(&ObjKey::new(ds.meta.namespace.clone(), name.clone()))
            .is_some()
        {
            name = generate_name(&base, &mut self.rng);
        }
        let mut meta = ObjectMeta::new(&ds.meta.namespace, &name);
        meta.labels = ds.template.labels.clone();
        meta.labels.insert(REVISION_LABEL.into(), rev.to_string());
        meta.annotations = ds.template.annotations.clone();
        meta.owner_references
            .push(OwnerReference::controller_of(Kind::DaemonSet, &ds.meta));
        let mut spec = spec.clone();
        spec.affinity.node.required = Some(vec![NodeSelectorTerm {
            match_expressions: Vec::new(),
            match_fields: vec![NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: NodeSelectorOperator::In,
                values: vec![node.to_string()],
            }],
        }]);
        Pod {
            meta,
            spec: Arc::new(spec),
            node_name: None,
            status: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::taint::Taint;

    fn node(name: &str, labels: &[(&str, &str)], taints: Vec<Taint>) -> Node {
        let mut meta = ObjectMeta::new("", name);
        for (k, v) in labels {
            meta.labels.insert(k.to_string(), v.to_string());
        }
        Node {
            meta,
            unschedulable: false,
            taints,
            status: Default::default(),
        }
    }

    #[test]
    fn daemon_pods_tolerate_node_conditions_but_not_other_taints() {
        let spec = with_daemon_tolerations(&PodSpec::default());
        let unreachable = Taint::new(TAINT_UNREACHABLE, "", TaintEffect::NoExecute);
        let pressure = Taint::new(
            "node.kubernetes.io/disk-pressure",
            "",
            TaintEffect::NoSchedule,
        );
        let gpu = Taint::new("gpu", "true", TaintEffect::NoSchedule);
        let soft = Taint::new("spot", "", TaintEffect::PreferNoSchedule);
        assert!(should_run(&spec, &node("a", &[], vec![unreachable, pressure, soft])).is_ok());
        let e = should_run(&spec, &node("b", &[], vec![gpu])).unwrap_err();
        assert_eq!(
            e,
            "the pod does not tolerate the node's taint gpu=true:NoSchedule"
        );
        // adding them twice does not duplicate them
        assert_eq!(with_daemon_tolerations(&spec).tolerations.len(), 6);
    }

    #[test]
    fn node_selector_limits_the_nodes() {
        let mut spec = PodSpec::default();
        spec.node_selector.insert("disk".into(), "ssd".into());
        let spec = with_daemon_tolerations(&spec);
        assert!(should_run(&spec, &node("a", &[("disk", "ssd")], vec![])).is_ok());
        assert!(should_run(&spec, &node("b", &[("disk", "hdd")], vec![])).is_err());
    }
}
