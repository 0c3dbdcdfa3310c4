//! Scenario files: the cluster, its workloads, and a timeline of actions.
//!
//! Loading resolves everything up front — node pools into Node objects, manifest
//! files into objects, timeline entries into typed actions — and checks it all, so
//! a bad scenario fails before anything runs or any output is written. Every
//! error names the file, line and column.

mod autoscaling;
pub mod schema;
pub mod timeline;

use crate::api::node::{ConditionStatus, NodeResources, NodeStatus};
use crate::api::quantity::{parse_cpu_millis, parse_value};
use crate::api::selector::{validate_label_key, validate_label_value};
use crate::api::taint::{Taint, TaintEffect};
use crate::api::{AnyObject, Kind, Node, ObjKey, ObjectMeta};
use crate::diag::{explain_serde_error, suggest, Diagnostic, LoadError, Loc};
use crate::manifest::{self, Loaded, Origin};
use crate::sim::time::SimDuration;
use crate::sim::Settings;
use schema::{QuantityValue, RawAction, ScenarioFile};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Seed used when the scenario and the command line give none.
pub const DEFAULT_SEED: u64 = 1;
/// Virtual time simulated when the scenario gives no `until`.
pub const DEFAULT_UNTIL: SimDuration = SimDuration::from_secs(3600);
/// The verbs a timeline entry may use.
pub const ACTIONS: &[&str] = &[
    "apply",
    "delete",
    "scale",
    "cordon",
    "uncordon",
    "node-crash",
    "node-recover",
    "kubelet-stop",
    "network-partition",
    "zone-outage",
    "pod-crash",
    "pod-oom",
    "image-registry-down",
    "image-registry-slow",
    "api-server-down",
    "etcd-down",
    "scheduler-down",
    "controller-manager-down",
    "set-image",
    "rollout-undo",
    "rollout-pause",
    "rollout-resume",
    "label",
    "taint",
    "drain",
    "node-add",
    "node-remove",
];
/// Guard rails against scenarios that would exhaust memory.
pub const MAX_NODES: u64 = 100_000;
pub const MAX_REPLICAS: i64 = 1_000_000;
/// Default `limits.maxUntil`: ten years of virtual time.
pub const MAX_UNTIL: SimDuration = SimDuration::from_secs(3650 * 86_400);
/// Default `limits.maxEvents`: about five minutes of a fast run.
pub const MAX_EVENTS: u64 = 1_000_000_000;

/// Guard rails against scenarios that would exhaust memory or time; the
/// scenario's `limits:` section raises or lowers them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_nodes: u64,
    /// Per Deployment, ReplicaSet and Job (replicas, completions, parallelism),
    /// per `scale`, and per `pod-crash` count.
    pub max_replicas: i64,
    pub max_until: SimDuration,
    /// Events one run may process; the run stops there, marked incomplete.
    pub max_events: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: MAX_NODES,
            max_replicas: MAX_REPLICAS,
            max_until: MAX_UNTIL,
            max_events: MAX_EVENTS,
        }
    }
}

/// A timeline action, resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `kubectl apply`: create or update these objects.
    Apply(Vec<AnyObject>),
    /// `kubectl delete KIND/NAME [--cascade=background|foreground|orphan]`.
    Delete {
        kind: Kind,
        key: ObjKey,
        cascade: crate::api::store::Propagation,
    },
    /// `kubectl scale KIND/NAME --replicas N`.
    Scale {
        kind: Kind,
        key: ObjKey,
        replicas: i32,
    },
    /// `kubectl cordon NODE`.
    Cordon(String),
    /// `kubectl uncordon NODE`.
    Uncordon(String),
    /// An injected failure; heals after `heal_after` (`for:`) if set.
    Fault {
        fault: FaultAction,
        heal_after: Option<SimDuration>,
    },
    /// `kubectl set image KIND/NAME CONTAINER=IMAGE` (deployment, statefulset,
    /// daemonset, replicaset or replicationcontroller).
    SetImage {
        kind: Kind,
        key: ObjKey,
        container: String,
        image: String,
    },
    /// `kubectl rollout undo deployment/NAME [--to-revision N]` (None: the previous one).
    RolloutUndo {
        key: ObjKey,
        to_revision: Option<i64>,
    },
    /// `kubectl rollout pause` (true) / `kubectl rollout resume` (false).
    RolloutPause { key: ObjKey, paused: bool },
    /// `kubectl label KIND/NAME k=v k-`: None removes the label.
    Label {
        kind: Kind,
        key: ObjKey,
        labels: BTreeMap<String, Option<String>>,
    },
    /// `kubectl taint node NAME k=v:Effect k-`.
    Taint {
        node: String,
        add: Vec<Taint>,
        remove: Vec<String>,
    },
    /// `kubectl drain NODE --ignore-daemonsets --delete-emptydir-data [--timeout]`:
    /// evictions honour PodDisruptionBudgets and are retried every 5 s.
    Drain {
        node: String,
        timeout: Option<SimDuration>,
    },
    /// `kubeadm join` of `count` more nodes like pool `pool`'s: each Node is
    /// registered `startup` later (`cluster.kubelet.nodeStartup`).
    NodeAdd {
        pool: String,
        count: u32,
        nodes: Vec<Node>,
    },
    /// The machine is removed: `kubectl delete node NAME` and it is gone.
    NodeRemove(String),
}

/// A fault as written; its nodes and pods are picked when it strikes.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// `node-crash`: the node's kubelet and containers stop.
    NodeCrash(String),
    /// `node-recover`: the node's kubelet comes back.
    NodeRecover(String),
    /// `kubelet-stop`: the kubelet stops; its containers keep running.
    KubeletStop(String),
    /// `network-partition`: these nodes (by name, or all matching the node
    /// labels) cannot reach the API server.
    NetworkPartition {
        nodes: Vec<String>,
        selector: crate::api::selector::Labels,
    },
    /// `zone-outage`: every node labelled with the zone crashes.
    ZoneOutage(String),
    /// `pod-crash` / `pod-oom`: the containers of the first `count` Running pods
    /// (by name) of `namespace` matching `selector` exit with an error, or are
    /// OOM-killed, now.
    PodExit {
        selector: crate::api::selector::Labels,
        namespace: String,
        count: u32,
        oom: bool,
    },
    /// `image-registry-down` (None) / `image-registry-slow` (pulls this many times slower).
    Registry(Option<u32>),
    /// `api-server-down`, `etcd-down`, `scheduler-down`, `controller-manager-down`.
    ControlPlane(crate::sim::Plane),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimedAction {
    pub at: SimDuration,
    pub action: Action,
    /// `file:line:col` of the entry, for messages.
    pub origin: String,
}

impl TimedAction {
    /// The kubectl command line, for messages.
    pub fn verb(&self) -> String {
        let obj =
            |kind: Kind, key: &ObjKey| format!("{}/{}", kind.as_str().to_lowercase(), key.name);
        match &self.action {
            Action::Apply(objs) => format!("kubectl apply ({} objects)", objs.len()),
            Action::Delete { kind, key, .. } => format!("kubectl delete {}", obj(*kind, key)),
            Action::Scale {
                kind,
                key,
                replicas,
            } => {
                format!("kubectl scale {} --replicas={replicas}", obj(*kind, key))
            }
            Action::Cordon(n) => format!("kubectl cordon {n}"),
            Action::Uncordon(n) => format!("kubectl uncordon {n}"),
            Action::Drain { node, .. } => format!("kubectl drain {node}"),
            Action::SetImage { kind, key, .. } => {
                format!("kubectl set image {}", obj(*kind, key))
            }
            Action::RolloutUndo { key, .. } => {
                format!("kubectl rollout undo deployment/{}", key.name)
            }
            Action::RolloutPause { key, paused } => format!(
                "kubectl rollout {} deployment/{}",
                if *paused { "pause" } else { "resume" },
                key.name
            ),
            Action::Label { kind, key, .. } => format!("kubectl label {}", obj(*kind, key)),
            Action::Taint { node, .. } => format!("kubectl taint node {node}"),
            Action::Fault { .. } => "fault".into(),
            Action::NodeAdd { pool, count, .. } => format!("kubeadm join ({count} × {pool})"),
            Action::NodeRemove(n) => format!("kubectl delete node {n}"),
        }
    }
}

/// A loaded, checked scenario, ready to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub path: PathBuf,
    pub seed: u64,
    pub until: SimDuration,
    pub settings: Settings,
    /// Initial objects, in apply order (namespaces first).
    pub objects: Vec<AnyObject>,
    pub timeline: Vec<TimedAction>,
    /// Things accepted without effect (kinds and fields not simulated).
    pub warnings: Vec<String>,
    /// Pod generators; each draws from its own stream.
    pub generators: Vec<crate::workload::GeneratorSpec>,
    /// Random faults (`chaos:`), each from its own stream.
    pub chaos: Vec<crate::sim::chaos::ChaosSpec>,
    /// Pods replayed from trace files, streamed.
    pub traces: Vec<crate::workload::trace::TraceSpec>,
    pub limits: Limits,
}

/// Load and check a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        LoadError(vec![Diagnostic {
            file: path.to_path_buf(),
            pos: None,
            path: String::new(),
            message: format!("cannot read file: {e}"),
        }])
    })?;
    load_text(path, &text)
}

/// Load and check scenario text that came from `path` (manifests it names are
/// read relative to `path`'s folder). The entry point for fuzzing.
pub fn load_text(path: &Path, text: &str) -> Result<Scenario, LoadError> {
    let file = manifest::parse_yaml_text(path, text).map_err(|d| LoadError(vec![d]))?;
    let docs: Vec<_> = file.docs.iter().filter(|(v, _)| !v.is_null()).collect();
    let whole = |msg: &str| {
        LoadError(vec![Diagnostic {
            file: path.to_path_buf(),
            pos: None,
            path: String::new(),
            message: msg.to_string(),
        }])
    };
    let (value, pos) = match docs.as_slice() {
        [one] => *one,
        [] => return Err(whole("the scenario file is empty: it needs at least `name`")),
        _ => {
            return Err(whole(
                "a scenario file holds one YAML document; put Kubernetes manifests in files listed under `manifests:`",
            ))
        }
    };
    let loc = Loc {
        file: path,
        pos,
        prefix: "",
    };
    let (raw, early): (ScenarioFile, _) = deserialize_all(value, &loc).map_err(|mut e| {
        e.sort_by_key(|d| d.pos);
        LoadError(e)
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    // errors in keys that could be stepped over: the rest is still checked
    let mut errors: Vec<Diagnostic> = early;

    if raw.name.trim().is_empty() {
        errors.push(loc.at_value("name", "name must not be empty"));
    }

    // Settings.
    let mut limits = Limits::default();
    let l = &raw.limits;
    if let Some(x) = l.max_nodes {
        limits.max_nodes = x;
    }
    if let Some(x) = l.max_replicas {
        if x < 1 {
            errors.push(loc.at_value("limits.maxReplicas", "maxReplicas must be at least 1"));
        }
        limits.max_replicas = x;
    }
    if let Some(x) = l.max_until {
        limits.max_until = x;
    }
    if let Some(x) = l.max_events {
        limits.max_events = x;
    }
    if let Some(u) = raw.until {
        if u > limits.max_until {
            errors.push(loc.at_value(
                "until",
                format!(
                    "until {u} is longer than the limit of {} of virtual time; raise limits.maxUntil if you mean it",
                    limits.max_until
                ),
            ));
        }
    }
    let mut settings = Settings {
        max_events: limits.max_events,
        ..Default::default()
    };
    if let Some(d) = raw.metrics.interval {
        if d == SimDuration::ZERO {
            errors.push(loc.at_value("metrics.interval", "interval must be longer than 0"));
        } else {
            settings.sample_interval = d;
        }
    }
    let c = &raw.cluster;
    if let Some(d) = c.api_server.watch_delay {
        settings.watch_delay = d;
    }
    if let Some(r) = &c.api_server.service_cluster_ip_range {
        match crate::api::service::ServiceCidr::parse(r) {
            Ok(cidr) => settings.service_cidr = cidr,
            Err(m) => errors.push(loc.at_value("cluster.apiServer.serviceClusterIpRange", m)),
        }
    }
    if let Some(d) = c.scheduler.cycle {
        settings.scheduler.cycle = d;
    }
    let registry = crate::scheduler::policies::Registry::builtin();
    let check_policy = |path: &str, name: &str, errors: &mut Vec<Diagnostic>| {
        if let Err(e) = registry.get(name) {
            let mut m = e.to_string();
            if let Some(s) = suggest(name, e.valid.iter().map(String::as_str)) {
                m = format!("unknown scheduling policy {name:?} (did you mean {s:?}?)");
            }
            errors.push(loc.at_value(path, m));
        }
    };
    if let Some(p) = &c.scheduler.policy {
        check_policy("cluster.scheduler.policy", p, &mut errors);
        settings.profiles[0].1 = p.clone();
    }
    if let Some(pct) = c.scheduler.percentage_of_nodes_to_score {
        if pct > 100 {
            errors.push(loc.at_value(
                "cluster.scheduler.percentageOfNodesToScore",
                "must be between 0 and 100",
            ));
        }
        settings.percentage_of_nodes_to_score = Some(pct);
    }
    let mut seen_default = false;
    for (i, prof) in c.scheduler.profiles.iter().enumerate() {
        let p = format!("cluster.scheduler.profiles[{i}]");
        let policy = prof.policy.clone().unwrap_or_else(|| "default".into());
        if prof.policy.is_some() {
            check_policy(&format!("{p}.policy"), &policy, &mut errors);
        }
        let is_default = prof.scheduler_name == crate::scheduler::DEFAULT_SCHEDULER;
        if (is_default && seen_default)
            || (!is_default
                && settings
                    .profiles
                    .iter()
                    .any(|(n, _)| *n == prof.scheduler_name))
        {
            errors.push(loc.at_value(
                &format!("{p}.schedulerName"),
                format!("profile {:?} is defined twice", prof.scheduler_name),
            ));
            continue;
        }
        if is_default {
            seen_default = true;
            if prof.policy.is_some() && c.scheduler.policy.is_some() {
                errors.push(loc.at_value(
                    &format!("{p}.policy"),
                    "the default-scheduler's policy is set twice (here and in cluster.scheduler.policy)",
                ));
            } else if prof.policy.is_some() {
                settings.profiles[0].1 = policy.clone();
            }
        } else {
            settings
                .profiles
                .push((prof.scheduler_name.clone(), policy.clone()));
        }
        match profile_override(prof, &p, &loc) {
            Ok(Some(o)) => {
                // check it now against the built-in policies, so errors carry positions
                let base = if is_default {
                    settings.profiles[0].1.clone()
                } else {
                    policy.clone()
                };
                if let Ok(mut built) = registry.build(&base, "check") {
                    if let Err(e) = crate::scheduler::config::apply(&mut built, &o) {
                        let path = match e.path.strip_prefix("pluginConfig.") {
                            Some(name) => prof
                                .plugin_config
                                .iter()
                                .position(|pc| pc.name == name)
                                .map(|j| format!("{p}.pluginConfig[{j}].args"))
                                .unwrap_or_else(|| format!("{p}.pluginConfig")),
                            None => format!("{p}.{}", e.path),
                        };
                        errors.push(loc.at_value(&path, e.message));
                    }
                }
                settings
                    .profile_overrides
                    .insert(prof.scheduler_name.clone(), o);
            }
            Ok(None) => {}
            Err(d) => errors.push(d),
        }
    }
    if let Some(t) = c.controller_manager.terminated_pod_gc_threshold {
        // upstream: a value of 0 or less disables the sweep
        settings.terminated_pod_gc_threshold = if t == 0 { usize::MAX } else { t as usize };
    }
    if let Some(d) = c.controller_manager.sync_delay {
        settings.controller_sync_delay = d;
    }
    if let Some(d) = c.controller_manager.node_monitor_grace_period {
        if d == SimDuration::ZERO {
            errors.push(loc.at_value(
                "cluster.controllerManager.nodeMonitorGracePeriod",
                "nodeMonitorGracePeriod must be greater than 0",
            ));
        }
        settings.node_monitor_grace_period = d;
    }
    let cm = &c.controller_manager;
    for (name, v, max) in [
        ("nodeEvictionRate", cm.node_eviction_rate, 1000.0),
        (
            "secondaryNodeEvictionRate",
            cm.secondary_node_eviction_rate,
            1000.0,
        ),
        ("unhealthyZoneThreshold", cm.unhealthy_zone_threshold, 1.0),
    ] {
        if let Some(x) = v {
            if !(0.0..=max).contains(&x) || x.is_nan() {
                errors.push(loc.at_value(
                    &format!("cluster.controllerManager.{name}"),
                    format!("{name} must be between 0 and {max}, got {x}"),
                ));
            }
        }
    }
    let ev = &mut settings.eviction;
    if let Some(x) = cm.node_eviction_rate {
        ev.node_eviction_rate = x;
    }
    if let Some(x) = cm.secondary_node_eviction_rate {
        ev.secondary_node_eviction_rate = x;
    }
    if let Some(x) = cm.large_cluster_size_threshold {
        ev.large_cluster_size_threshold = x;
    }
    if let Some(x) = cm.unhealthy_zone_threshold {
        ev.unhealthy_zone_threshold = x;
    }
    if let Some(d) = c.kubelet.image_pull {
        settings.kubelet.image_pull = d;
    }
    if let Some(d) = c.kubelet.container_start {
        settings.kubelet.container_start = d;
    }
    if let Some(d) = c.kubelet.pod_stop {
        settings.kubelet.pod_stop = d;
    }
    if let Some(d) = c.kubelet.node_startup {
        settings.kubelet.node_startup = d;
    }
    for (image, q) in &c.kubelet.image_sizes {
        match parse_value(&q.as_string()) {
            Ok(v) if v > 0 => {
                settings.kubelet.image_sizes.insert(image.clone(), v as u64);
            }
            _ => errors.push(loc.at_value(
                &format!("cluster.kubelet.imageSizes.{image}"),
                format!(
                    "image size must be a positive quantity of bytes like 70Mi, got {:?}",
                    q.as_string()
                ),
            )),
        }
    }
    if let Some(q) = &c.kubelet.pull_bandwidth {
        match parse_value(&q.as_string()) {
            Ok(v) if v > 0 => settings.kubelet.pull_bandwidth = Some(v as u64),
            _ => errors.push(loc.at_value(
                "cluster.kubelet.pullBandwidth",
                format!("pullBandwidth must be a positive quantity of bytes per second like 50Mi, got {:?}", q.as_string()),
            )),
        }
    }
    if let Some(d) = c.ingress_controller.sync_delay {
        settings.kube_proxy.ingress_delay = d;
    }
    if let Some(d) = c.cloud.load_balancer_delay {
        settings.load_balancer_delay = d;
    }
    if let Some(d) = c.kubelet.sync_frequency {
        if d.as_millis() == 0 {
            errors.push(loc.at_value(
                "cluster.kubelet.syncFrequency",
                "syncFrequency must be greater than 0",
            ));
        }
        settings.kubelet.sync_frequency = d;
    }
    if let Some(d) = c.kubelet.config_cache_ttl {
        settings.kubelet.config_cache_ttl = d;
    }
    if let Some(d) = c.kubelet.sync_retry {
        if d.as_millis() == 0 {
            errors.push(loc.at_value(
                "cluster.kubelet.syncRetry",
                "syncRetry must be greater than 0",
            ));
        }
        settings.kubelet.sync_retry = d;
    }
    if let Some(d) = c.storage.provisioning_delay {
        settings.volumes.provisioning = d;
    }
    if let Some(d) = c.storage.attach_delay {
        settings.volumes.attach = d;
    }
    if let Some(d) = c.storage.detach_delay {
        settings.volumes.detach = d;
    }
    if let Some(d) = c.kube_proxy.min_sync_period {
        settings.kube_proxy.min_sync = d;
    }
    match c.kube_proxy.mode.as_deref() {
        None => {}
        Some(m @ ("iptables" | "ipvs")) => settings.kube_proxy.mode = m.to_string(),
        Some(m) => errors.push(loc.at_value(
            "cluster.kubeProxy.mode",
            format!("unsupported kube-proxy mode {m:?}: expected iptables or ipvs"),
        )),
    }
    for (i, t) in raw.traffic.iter().enumerate() {
        if let Some(c) = traffic_client(t, &format!("traffic[{i}]"), &loc, &mut errors) {
            settings.traffic.push(c);
        }
    }
    // clients of one Service agree on what its pods can take
    for (i, c) in settings.traffic.iter().enumerate() {
        if let Some(first) = settings.traffic[..i].iter().find(|o| {
            o.service == c.service && matches!(o.destination, crate::net::Destination::Service(_))
        }) {
            if matches!(c.destination, crate::net::Destination::Service(_))
                && (first.concurrency != c.concurrency
                    || first.queue_limit != c.queue_limit
                    || first.model != c.model)
            {
                errors.push(loc.at_value(
                    &format!("traffic[{i}]"),
                    format!(
                        "clients of Service {} disagree on concurrency, queueLimit or model with client {:?}: these describe the Service's pods, so give them the same values",
                        c.service, first.name
                    ),
                ));
            }
        }
    }
    let mut chaos = Vec::new();
    for (i, e) in raw.chaos.iter().enumerate() {
        if let Some(c) = chaos_entry(e, &format!("chaos[{i}]"), &loc, &mut errors) {
            chaos.push(c);
        }
    }
    for (i, b) in raw.behaviors.iter().enumerate() {
        settings
            .kubelet
            .behaviors
            .push(behavior(b, &format!("behaviors[{i}]"), &loc, &mut errors));
    }

    // Objects with where they came from.
    let mut loaded = Loaded::default();
    let mut total_nodes: u64 = 0;
    for (i, pool) in raw.cluster.node_pools.iter().enumerate() {
        let p = format!("cluster.nodePools[{i}]");
        total_nodes += pool.count as u64;
        if total_nodes > limits.max_nodes {
            errors.push(loc.at_value(
                &format!("{p}.count"),
                format!("more than {} nodes in total: the scenario's limit (limits.maxNodes; Kubernetes supports 5,000)", limits.max_nodes),
            ));
            break;
        }
        match pool_nodes(pool, &p, &loc, 0..pool.count) {
            Ok(nodes) => {
                let at = loc.pos.nearest(&p);
                for n in nodes {
                    loaded.objects.push((
                        AnyObject::Node(n),
                        Origin {
                            file: path.to_path_buf(),
                            line: at.line,
                            col: at.col,
                            namespace_pos: None,
                        },
                    ));
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    autoscaling::load(&raw, &loc, path, &mut settings, &mut loaded, &mut errors);
    for (i, m) in raw.manifests.iter().enumerate() {
        let target = base.join(m);
        if !target.exists() {
            errors.push(loc.at_value(
                &format!("manifests[{i}]"),
                format!("manifest file or folder not found: {}", target.display()),
            ));
            continue;
        }
        manifest::load_path(&target, &mut loaded, &mut errors);
    }
    for (i, v) in raw.objects.iter().enumerate() {
        let prefix = format!("objects[{i}]");
        let l = Loc {
            file: path,
            pos,
            prefix: &prefix,
        };
        manifest::load_value(v, &l, &mut loaded, &mut errors);
    }

    // Timeline.
    let mut timeline = Vec::new();
    for (i, v) in raw.timeline.iter().enumerate() {
        let prefix = format!("timeline[{i}]");
        let l = Loc {
            file: path,
            pos,
            prefix: &prefix,
        };
        match resolve_action(v, &l, base, &mut loaded.warnings, &limits) {
            Ok(a) => timeline.push(a),
            Err(mut e) => errors.append(&mut e),
        }
    }
    // node-add: name the joining nodes after their pool, numbering on from the
    // pool's own nodes, in file order
    let mut next: BTreeMap<String, u32> = raw
        .cluster
        .node_pools
        .iter()
        .map(|p| (p.name.clone(), p.count))
        .collect();
    for (i, a) in timeline.iter_mut().enumerate() {
        let Action::NodeAdd { pool, count, nodes } = &mut a.action else {
            continue;
        };
        let Some(spec) = raw.cluster.node_pools.iter().find(|p| p.name == *pool) else {
            let names = raw.cluster.node_pools.iter().map(|p| p.name.as_str());
            let mut m = format!("no node pool {pool:?} in cluster.nodePools");
            if let Some(s) = suggest(pool, names) {
                m.push_str(&format!("; did you mean {s:?}?"));
            }
            errors.push(loc.at_value(&format!("timeline[{i}].pool"), m));
            continue;
        };
        let from = next[pool.as_str()];
        total_nodes += u64::from(*count);
        if total_nodes > limits.max_nodes {
            errors.push(loc.at_value(
                &format!("timeline[{i}].count"),
                format!(
                    "more than {} nodes in total: the scenario's limit (limits.maxNodes)",
                    limits.max_nodes
                ),
            ));
            continue;
        }
        if let Ok(ns) = pool_nodes(spec, "", &loc, from..from + *count) {
            *nodes = ns;
        }
        next.insert(pool.clone(), from + *count);
    }

    let (generators, trace_entries, trace_hook) = raw
        .workload
        .map(|w| (w.generators, w.traces, w.trace))
        .unwrap_or_default();
    let spec = crate::workload::WorkloadSpec {
        generators: generators.clone(),
        ..Default::default()
    };
    let mut traces = Vec::new();
    for (i, t) in trace_entries.iter().enumerate() {
        let p = format!("workload.traces[{i}]");
        if let Err(e) = crate::api::meta::validate_dns1123_label(&t.name) {
            errors.push(loc.at_value(&format!("{p}.name"), e));
        }
        if generators.iter().any(|g| g.name == t.name)
            || trace_entries[..i].iter().any(|o| o.name == t.name)
        {
            errors.push(loc.at_value(
                &format!("{p}.name"),
                format!(
                    "{:?} is already the name of another generator or trace",
                    t.name
                ),
            ));
        }
        let file = base.join(&t.file);
        match crate::workload::trace::check(&file, limits.max_replicas as u64) {
            Ok(_) => traces.push(crate::workload::trace::TraceSpec {
                name: t.name.clone(),
                file,
                namespace: t.namespace.clone().unwrap_or_else(|| "default".into()),
                ..Default::default()
            }),
            Err((0, m)) => {
                errors.push(loc.at_value(&format!("{p}.file"), format!("{}: {m}", file.display())))
            }
            Err((line, m)) => errors.push(Diagnostic {
                file: file.clone(),
                pos: Some(crate::manifest::yamlpos::Pos { line, col: 1 }),
                path: String::new(),
                message: m,
            }),
        }
    }
    if let Err(es) = spec.validate("workload") {
        for (p, m) in es {
            errors.push(loc.at_value(&p, m));
        }
    }
    check_objects(&loaded.objects, &timeline, &loc, &mut errors);
    if let Some(h) = &trace_hook {
        trace_hook_load(
            h,
            base,
            &loc,
            &limits,
            &raw.cluster.node_pools,
            &mut traces,
            &mut loaded,
            &mut timeline,
            &mut errors,
            path,
        );
    }
    // traffic goes to Services the scenario defines
    for (i, c) in settings.traffic.iter().enumerate() {
        let (kind, key, what) = match &c.destination {
            crate::net::Destination::Service(k) => (Kind::Service, k, "service"),
            crate::net::Destination::Ingress { ingress, .. } => {
                (Kind::Ingress, ingress, "ingress.name")
            }
        };
        let defined = loaded
            .objects
            .iter()
            .map(|(o, _)| o)
            .chain(timeline.iter().flat_map(|a| match &a.action {
                Action::Apply(objs) => objs.as_slice(),
                _ => &[],
            }))
            .any(|o| o.kind() == kind && o.key() == *key);
        if !defined {
            let names = loaded
                .objects
                .iter()
                .filter(|(o, _)| o.kind() == kind)
                .map(|(o, _)| o.meta().name.as_str());
            let mut m = format!("no {kind:?} {key} is defined in this scenario");
            if let Some(s) = suggest(&key.name, names) {
                m.push_str(&format!("; did you mean {s:?}?"));
            }
            errors.push(loc.at_value(&format!("traffic[{i}].{what}"), m));
        }
    }
    // limits.maxReplicas on what the objects ask for
    let too_many = |o: &AnyObject| -> Option<(&'static str, i64)> {
        let v = match o {
            AnyObject::Deployment(d) => ("spec.replicas", i64::from(d.replicas)),
            AnyObject::ReplicaSet(r) => ("spec.replicas", i64::from(r.replicas)),
            AnyObject::Job(j) => (
                "spec.completions",
                i64::from(j.completions.unwrap_or(0).max(j.parallelism)),
            ),
            _ => return None,
        };
        (v.1 > limits.max_replicas).then_some(v)
    };
    for (o, origin) in &loaded.objects {
        if let Some((field, n)) = too_many(o) {
            errors.push(Diagnostic {
                file: origin.file.clone(),
                pos: Some(crate::manifest::yamlpos::Pos {
                    line: origin.line,
                    col: origin.col,
                }),
                path: field.into(),
                message: format!(
                    "{} {} asks for {n} pods, more than the limit of {} (raise limits.maxReplicas in the scenario if you mean it)",
                    o.kind(),
                    o.key(),
                    limits.max_replicas
                ),
            });
        }
    }
    for a in &timeline {
        if let Action::Apply(objs) = &a.action {
            for o in objs {
                if let Some((_, n)) = too_many(o) {
                    // the entry's own place (the timeline is sorted by time by now)
                    let mut parts = a.origin.rsplitn(3, ':');
                    let col = parts.next().and_then(|c| c.parse().ok());
                    let line = parts.next().and_then(|l| l.parse().ok());
                    errors.push(Diagnostic {
                        file: path.to_path_buf(),
                        pos: line.zip(col).map(|(line, col)| crate::manifest::yamlpos::Pos { line, col }),
                        path: "timeline".into(),
                        message: format!(
                            "{} {} asks for {n} pods, more than the limit of {} (limits.maxReplicas)",
                            o.kind(),
                            o.key(),
                            limits.max_replicas
                        ),
                    });
                }
            }
        }
    }
    // generators' namespaces must exist too
    for (i, g) in generators.iter().enumerate() {
        let ns = g.namespace.clone().unwrap_or_else(|| "default".into());
        let defined = crate::api::store::INITIAL_NAMESPACES.contains(&ns.as_str())
            || loaded
                .objects
                .iter()
                .any(|(o, _)| o.kind() == Kind::Namespace && o.meta().name == ns);
        if !defined {
            errors.push(loc.at_value(
                &format!("workload.generators[{i}].namespace"),
                format!("namespace {ns:?} does not exist: add a Namespace object for it"),
            ));
        }
    }
    if !errors.is_empty() {
        // in file order (errors are found section by section); a file's own
        // errors before those of the manifests it names
        errors.sort_by_key(|d| (d.file != path, d.file.clone(), d.pos));
        return Err(LoadError(errors));
    }

    let mut objects: Vec<AnyObject> = loaded.objects.into_iter().map(|(o, _)| o).collect();
    crate::sim::sort_for_apply(&mut objects);
    // the timeline runs in time order; entries at the same time in file order
    timeline.sort_by_key(|a: &TimedAction| a.at);
    let mut warnings = loaded.warnings;
    let mut seen = BTreeSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    Ok(Scenario {
        name: raw.name,
        description: raw.description,
        path: path.to_path_buf(),
        seed: raw.seed.unwrap_or(DEFAULT_SEED),
        until: raw.until.unwrap_or(DEFAULT_UNTIL),
        settings,
        objects,
        timeline,
        warnings,
        generators,
        traces,
        chaos,
        limits,
    })
}

/// `workload.trace`: the converted pods join `traces`; with no
/// `cluster.nodePools`, the trace's machines become the nodes (in service at
/// the window start) and later machine joins and removals timeline entries.
#[allow(clippy::too_many_arguments)]
fn trace_hook_load(
    h: &crate::workload::traces::TraceHook,
    base: &Path,
    loc: &Loc,
    limits: &Limits,
    pools: &[schema::NodePool],
    traces: &mut Vec<crate::workload::trace::TraceSpec>,
    loaded: &mut Loaded,
    timeline: &mut Vec<TimedAction>,
    errors: &mut Vec<Diagnostic>,
    path: &Path,
) {
    use crate::workload::traces::{self, HookError, MachineChange};
    let hooked = match traces::load_hook(h, base, limits.max_replicas as u64) {
        Ok(x) => x,
        Err(HookError::Field(f, m)) => {
            errors.push(loc.at_value(&format!("workload.trace.{f}"), m));
            return;
        }
        Err(HookError::File(e)) if e.line == 0 => {
            errors.push(loc.at_value("workload.trace.path", e.to_string()));
            return;
        }
        Err(HookError::File(e)) => {
            errors.push(Diagnostic {
                file: e.file,
                pos: Some(crate::manifest::yamlpos::Pos {
                    line: e.line,
                    col: 1,
                }),
                path: String::new(),
                message: e.message,
            });
            return;
        }
    };
    if traces.iter().any(|t| t.name == hooked.spec.name) {
        errors.push(loc.at_value(
            "workload.trace.name",
            format!("{:?} is already the name of a trace", hooked.spec.name),
        ));
    }
    if hooked.skipped.total() > 0 {
        loaded.warnings.push(format!(
            "workload.trace ({}): {}",
            hooked.spec.file.display(),
            hooked.skipped.describe()
        ));
    }
    let machines = hooked.initial.len() + hooked.changes.len();
    if machines > 0 && !pools.is_empty() {
        loaded.warnings.push(format!(
            "workload.trace: the trace's {machines} machine events are ignored: the scenario has cluster.nodePools"
        ));
    } else if machines > 0 {
        let adds = hooked.initial.len() as u64
            + hooked
                .changes
                .iter()
                .filter(|c| matches!(c.change, MachineChange::Add { .. }))
                .count() as u64;
        if adds > limits.max_nodes {
            errors.push(loc.at_value(
                "workload.trace.path",
                format!(
                    "the trace adds {adds} machines: more than {} nodes (limits.maxNodes); narrow the window or raise the limit",
                    limits.max_nodes
                ),
            ));
            return;
        }
        let at = loc.pos.nearest("workload.trace");
        let origin = format!("{}:{}:{}", path.display(), at.line, at.col);
        for (n, c, m) in &hooked.initial {
            loaded.objects.push((
                AnyObject::Node(traces::machine_node(n, *c, *m)),
                Origin {
                    file: path.to_path_buf(),
                    line: at.line,
                    col: at.col,
                    namespace_pos: None,
                },
            ));
        }
        for c in &hooked.changes {
            let action = match c.change {
                MachineChange::Add { cpu_millis, memory } => Action::NodeAdd {
                    pool: "trace".into(),
                    count: 1,
                    nodes: vec![traces::machine_node(&c.node, cpu_millis, memory)],
                },
                MachineChange::Remove => Action::NodeRemove(c.node.clone()),
            };
            timeline.push(TimedAction {
                at: SimDuration::from_millis(c.at_ms),
                action,
                origin: origin.clone(),
            });
        }
    }
    traces.push(hooked.spec);
}

/// A scenario `behaviors:` entry, checked.
fn behavior(
    b: &schema::BehaviorSpec,
    p: &str,
    loc: &Loc,
    errors: &mut Vec<Diagnostic>,
) -> crate::node::behavior::AppBehavior {
    use crate::node::behavior::{AppBehavior, DurationSpec};
    for (k, v) in &b.selector.match_labels {
        let lp = format!("{p}.selector.matchLabels.{k}");
        if let Err(e) = validate_label_key(k) {
            errors.push(loc.at(&lp, e.to_string()));
        }
        if let Err(e) = validate_label_value(v) {
            errors.push(loc.at_value(&lp, e.to_string()));
        }
    }
    let startup = b.startup.as_ref().map(|s| match s {
        schema::StartupSpec::Fixed(d) => DurationSpec::Fixed(*d),
        schema::StartupSpec::Uniform(u) => {
            if u.uniform[0] > u.uniform[1] {
                errors.push(loc.at_value(
                    &format!("{p}.startup.uniform"),
                    format!(
                        "lower bound {} is above upper bound {}",
                        u.uniform[0], u.uniform[1]
                    ),
                ));
            }
            DurationSpec::Uniform(u.uniform[0], u.uniform[1])
        }
    });
    let memory = b
        .memory
        .as_ref()
        .and_then(|q| match parse_value(&q.as_string()) {
            Ok(v) if v >= 0 => Some(v),
            Ok(_) => {
                errors.push(loc.at_value(&format!("{p}.memory"), "memory must not be negative"));
                None
            }
            Err(e) => {
                errors.push(loc.at_value(&format!("{p}.memory"), e.to_string()));
                None
            }
        });
    AppBehavior {
        selector: b.selector.match_labels.clone(),
        namespace: b.namespace.clone(),
        startup,
        crash_after: b.crash.as_ref().map(|c| c.after),
        memory,
        exit_code: b.exit_code,
    }
}

/// A profile's `plugins` and `pluginConfig` as an override (None if it has neither).
fn profile_override(
    prof: &schema::ProfileSpec,
    p: &str,
    loc: &Loc,
) -> Result<Option<crate::scheduler::config::ProfileOverride>, Diagnostic> {
    use crate::scheduler::config::{PluginSet, ProfileOverride};
    if prof.plugins.is_none() && prof.plugin_config.is_empty() {
        return Ok(None);
    }
    let set = |s: &Option<schema::PluginSetSpec>| -> PluginSet {
        s.as_ref()
            .map(|s| PluginSet {
                enabled: s
                    .enabled
                    .iter()
                    .map(|r| (r.name.clone(), r.weight))
                    .collect(),
                disabled: s.disabled.iter().map(|r| r.name.clone()).collect(),
            })
            .unwrap_or_default()
    };
    let plugins = prof.plugins.clone().unwrap_or_default();
    let mut o = ProfileOverride {
        multi_point: set(&plugins.multi_point),
        filter: set(&plugins.filter),
        score: set(&plugins.score),
        post_filter: set(&plugins.post_filter),
        args: BTreeMap::new(),
    };
    for (j, pc) in prof.plugin_config.iter().enumerate() {
        let args = match &pc.args {
            None => serde_json::Value::Object(Default::default()),
            Some(v) => serde_json::to_value(v).map_err(|e| {
                loc.at_value(
                    &format!("{p}.pluginConfig[{j}].args"),
                    format!("args must be a mapping: {e}"),
                )
            })?,
        };
        if o.args.insert(pc.name.clone(), args).is_some() {
            return Err(loc.at_value(
                &format!("{p}.pluginConfig[{j}].name"),
                format!("pluginConfig for {:?} is given twice", pc.name),
            ));
        }
    }
    Ok(Some(o))
}

fn pool_nodes(
    pool: &schema::NodePool,
    p: &str,
    loc: &Loc,
    range: std::ops::Range<u32>,
) -> Result<Vec<Node>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    if let Err(e) = crate::api::meta::validate_dns1123_label(&pool.name) {
        errors.push(loc.at_value(&format!("{p}.name"), e));
    }
    let resources =
        |m: &BTreeMap<String, QuantityValue>, path: &str, errors: &mut Vec<Diagnostic>| {
            let mut r = NodeResources {
                pods: 110,
                ..Default::default()
            };
            for (name, q) in m {
                let qp = format!("{path}.{name}");
                let s = q.as_string();
                let v = if name == "cpu" {
                    parse_cpu_millis(&s)
                } else {
                    parse_value(&s)
                };
                match v {
                    Ok(v) if v < 0 => {
                        errors.push(loc.at_value(&qp, format!("{name} must not be negative")))
                    }
                    Ok(v) => match name.as_str() {
                        "cpu" => r.cpu_millis = v,
                        "memory" => r.memory = v,
                        "pods" => r.pods = v,
                        _ => {
                            r.other.insert(name.clone(), v);
                        }
                    },
                    Err(e) => errors.push(loc.at_value(&qp, e.to_string())),
                }
            }
            for needed in ["cpu", "memory"] {
                if !m.contains_key(needed) {
                    errors.push(loc.at(
                        path,
                        format!("{needed} is required (e.g. cpu: \"4\", memory: 16Gi)"),
                    ));
                }
            }
            r
        };
    let capacity = resources(&pool.capacity, &format!("{p}.capacity"), &mut errors);
    let allocatable = match &pool.allocatable {
        Some(a) => resources(a, &format!("{p}.allocatable"), &mut errors),
        None => capacity.clone(),
    };
    for (k, v) in &pool.labels {
        let lp = format!("{p}.labels.{k}");
        if let Err(e) = validate_label_key(k) {
            errors.push(loc.at(&lp, e.to_string()));
        }
        if let Err(e) = validate_label_value(v) {
            errors.push(loc.at_value(&lp, e.to_string()));
        }
    }
    let mut taints = Vec::new();
    for (i, t) in pool.taints.iter().enumerate() {
        match TaintEffect::parse(&t.effect) {
            Ok(e) => taints.push(Taint::new(&t.key, &t.value, e)),
            Err(m) => errors.push(loc.at_value(&format!("{p}.taints[{i}].effect"), m)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(range
        .map(|j| {
            let name = format!("{}-{j}", pool.name);
            let mut meta = ObjectMeta::new("", &name);
            meta.labels = pool.labels.clone();
            meta.labels
                .insert("kubernetes.io/hostname".into(), name.clone());
            Node {
                meta,
                unschedulable: false,
                taints: taints.clone(),
                status: NodeStatus {
                    capacity: capacity.clone(),
                    allocatable: allocatable.clone(),
                    ready: ConditionStatus::True,
                    ..Default::default()
                },
            }
        })
        .collect())
}

/// `deployment/web` → (Deployment, "web"); a bare name is a node for cordon/uncordon.
fn parse_target(t: &str, loc: &Loc, node_default: bool) -> Result<(Kind, String), Diagnostic> {
    match t.split_once('/') {
        Some((k, name)) if !name.is_empty() => match Kind::from_kubectl(k) {
            Some(kind) => Ok((kind, name.to_string())),
            None => Err(loc.at_value(
                "target",
                format!("unknown kind {k:?} in target {t:?}: expected deployment, replicaset, statefulset, daemonset, replicationcontroller, cronjob, job, pod, service, node or namespace"),
            )),
        },
        None if node_default && !t.is_empty() => Ok((Kind::Node, t.to_string())),
        _ => Err(loc.at_value("target", format!("target {t:?} should look like KIND/NAME, e.g. deployment/web"))),
    }
}

/// Deserialize `value`, reporting every error rather than the first: after
/// each error the offending key is dropped from a copy and decoding retried.
/// An error that cannot be stepped over (a required field) drops its whole
/// top-level section, and then only the errors are returned (checking the rest
/// against a missing section would report errors that are not there). Errors
/// that only follow from a dropped key are not reported. `Ok` carries the
/// value decoded without the bad keys, and their errors.
fn deserialize_all<T: serde::de::DeserializeOwned>(
    value: &serde_yaml::Value,
    loc: &Loc,
) -> Result<(T, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut section_dropped = false;
    let mut v = value.clone();
    let mut errors = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for _ in 0..100 {
        match serde_path_to_error::deserialize::<_, T>(v.clone()) {
            Ok(t) if !section_dropped => return Ok((t, errors)),
            Ok(_) => return Err(errors),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.inner().to_string();
                let (p, m) = explain_serde_error(&path, &inner);
                // "missing field" where we dropped one: a consequence, stop here
                let consequence = inner.starts_with("missing field")
                    && dropped.iter().any(|d| {
                        let parent = d.rsplit_once('.').map_or("", |x| x.0);
                        parent == path.trim_start_matches('.') || (path == "." && !d.contains('.'))
                    });
                if !consequence {
                    errors.push(loc.at_value(&p, m));
                }
                if !consequence && !dropped.contains(&p) {
                    // step over the bad value: drop it, or (a required field) put
                    // a neutral value of some type in its place
                    let fixed = [
                        None,
                        Some(serde_yaml::Value::from(0)),
                        Some(serde_yaml::Value::from("")),
                        Some(serde_yaml::Value::from(false)),
                        Some(serde_yaml::Value::Sequence(Vec::new())),
                        Some(serde_yaml::Value::Mapping(Default::default())),
                    ]
                    .into_iter()
                    .find_map(|with| {
                        let placeholder = with.is_some();
                        let mut w = v.clone();
                        if !set_path(&mut w, &p, with) {
                            return None;
                        }
                        match serde_path_to_error::deserialize::<_, T>(w.clone()) {
                            Ok(_) => Some((w, placeholder)),
                            Err(e2) => {
                                let p2 = e2.path().to_string();
                                let same = explain_serde_error(&p2, &e2.inner().to_string()).0 == p;
                                let missing = e2.inner().to_string().starts_with("missing field");
                                (!same && !missing).then_some((w, placeholder))
                            }
                        }
                    });
                    if let Some((w, placeholder)) = fixed {
                        // a made-up value must not reach the later checks
                        section_dropped |= placeholder;
                        v = w;
                        dropped.push(p);
                        continue;
                    }
                }
                // cannot step over it inside its section: drop the whole
                // top-level section and go on with the others
                let top = p
                    .trim_start_matches('.')
                    .split(['.', '['])
                    .next()
                    .unwrap_or("")
                    .to_string();
                let top = if consequence {
                    dropped
                        .last()
                        .and_then(|d| d.split(['.', '[']).next())
                        .unwrap_or("")
                        .to_string()
                } else {
                    top
                };
                if top.is_empty() || dropped.contains(&top) || !remove_path(&mut v, &top) {
                    return Err(errors);
                }
                section_dropped = true;
                dropped.push(top);
            }
        }
    }
    Err(errors)
}

/// Remove the map key at dotted `path` (`with` None) or replace its value.
fn set_path(v: &mut serde_yaml::Value, path: &str, with: Option<serde_yaml::Value>) -> bool {
    match with {
        None => remove_path(v, path),
        Some(x) => {
            let (parent, last) = match path.rsplit_once('.') {
                Some((a, b)) => (a, b),
                None => ("", path),
            };
            if last.contains('[') {
                return false;
            }
            let target = if parent.is_empty() {
                Some(v)
            } else {
                get_path_mut(v, parent)
            };
            match target {
                Some(serde_yaml::Value::Mapping(m)) if m.contains_key(last) => {
                    m.insert(serde_yaml::Value::from(last), x);
                    true
                }
                _ => false,
            }
        }
    }
}

fn get_path_mut<'a>(v: &'a mut serde_yaml::Value, path: &str) -> Option<&'a mut serde_yaml::Value> {
    let mut cur = v;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            cur = match cur {
                serde_yaml::Value::Mapping(m) => m.get_mut(key)?,
                _ => return None,
            };
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            let i: usize = idx.trim_end_matches(']').parse().ok()?;
            cur = match cur {
                serde_yaml::Value::Sequence(s) => s.get_mut(i)?,
                _ => return None,
            };
        }
    }
    Some(cur)
}

/// Remove the map key at dotted `path` (`a.b[2].c`); false if there is none.
fn remove_path(v: &mut serde_yaml::Value, path: &str) -> bool {
    let mut segs: Vec<(String, Option<usize>)> = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        segs.push((key.to_string(), None));
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse::<usize>() {
                segs.push((String::new(), Some(i)));
            }
        }
    }
    let Some((last, last_idx)) = segs.pop() else {
        return false;
    };
    if last_idx.is_some() {
        return false; // never drop list elements: later indices would shift
    }
    let mut cur = v;
    for (k, i) in segs {
        cur = match (i, cur) {
            (Some(i), serde_yaml::Value::Sequence(s)) => match s.get_mut(i) {
                Some(x) => x,
                None => return false,
            },
            (None, serde_yaml::Value::Mapping(m)) => match m.get_mut(k.as_str()) {
                Some(x) => x,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        serde_yaml::Value::Mapping(m) => m.remove(last.as_str()).is_some(),
        _ => false,
    }
}

fn plane_of(act: &str) -> crate::sim::Plane {
    use crate::sim::Plane;
    match act {
        "api-server-down" => Plane::ApiServer,
        "etcd-down" => Plane::Etcd,
        "scheduler-down" => Plane::Scheduler,
        _ => Plane::ControllerManager,
    }
}

fn check_labels(
    labels: &BTreeMap<String, String>,
    path: &str,
    loc: &Loc,
    errors: &mut Vec<Diagnostic>,
) {
    for (k, v) in labels {
        if let Err(e) = validate_label_key(k) {
            errors.push(loc.at(&format!("{path}.{k}"), e.to_string()));
        }
        if let Err(e) = validate_label_value(v) {
            errors.push(loc.at_value(&format!("{path}.{k}"), e.to_string()));
        }
    }
}

/// A requests-per-second figure: `200/s`, `6000/m`, or a number per second.
fn per_second(v: &QuantityValue) -> Result<f64, String> {
    let r = match v {
        QuantityValue::Int(n) => Ok(*n as f64),
        QuantityValue::Float(f) => Ok(*f),
        QuantityValue::Str(s) => {
            crate::workload::Rate::parse(s).map(|r| r.count * 1000.0 / r.unit_ms as f64)
        }
    }?;
    if r.is_finite() && (0.0..=1e9).contains(&r) {
        Ok(r)
    } else {
        Err(format!(
            "rate must be between 0 and 1e9 requests per second, got {r}"
        ))
    }
}

/// One `traffic:` entry, checked.
fn traffic_client(
    t: &schema::TrafficEntry,
    p: &str,
    loc: &Loc,
    errors: &mut Vec<Diagnostic>,
) -> Option<crate::net::ClientSpec> {
    use crate::net::{Arrivals, Destination, Model, Origin, RateCurve};
    let n0 = errors.len();
    let rate = |v: &QuantityValue, at: &str, errors: &mut Vec<Diagnostic>| match per_second(v) {
        Ok(r) => r,
        Err(m) => {
            errors.push(loc.at_value(&format!("{p}.{at}"), m));
            0.0
        }
    };
    let curve = match (&t.rate, &t.steps, &t.daily) {
        (Some(r), None, None) => RateCurve::Constant(rate(r, "rate", errors)),
        (r, Some(steps), None) => {
            let initial = r.as_ref().map_or(0.0, |r| rate(r, "rate", errors));
            let mut out = Vec::new();
            for (j, st) in steps.iter().enumerate() {
                if out
                    .last()
                    .is_some_and(|(at, _): &(SimDuration, f64)| *at >= st.at)
                {
                    errors.push(loc.at_value(
                        &format!("{p}.steps[{j}].at"),
                        "steps must be in increasing order of `at`".to_string(),
                    ));
                }
                out.push((st.at, rate(&st.rate, &format!("steps[{j}].rate"), errors)));
            }
            RateCurve::Steps {
                initial,
                steps: out,
            }
        }
        (None, None, Some(d)) => {
            let min = rate(&d.min, "daily.min", errors);
            let max = rate(&d.max, "daily.max", errors);
            if min > max {
                errors.push(loc.at_value(
                    &format!("{p}.daily"),
                    format!("min ({min}/s) must not exceed max ({max}/s)"),
                ));
            }
            RateCurve::Daily {
                min,
                max,
                peak_at: d.peak_at.unwrap_or(SimDuration::from_secs(12 * 3600)),
            }
        }
        _ => {
            errors.push(loc.at_value(
                p,
                "expected `rate` (constant), `steps` (with an optional starting `rate`) or `daily`, and only one kind".to_string(),
            ));
            RateCurve::Constant(0.0)
        }
    };
    let arrivals = match t.arrivals.as_deref() {
        None | Some("uniform") => Arrivals::Uniform,
        Some("poisson") => Arrivals::Poisson,
        Some(o) => {
            errors.push(loc.at_value(
                &format!("{p}.arrivals"),
                format!("unknown arrivals {o:?}: expected uniform or poisson"),
            ));
            Arrivals::Uniform
        }
    };
    let origin = match t.from.as_deref() {
        None | Some("inside") => Origin::Inside,
        Some("nodePort") => Origin::NodePort,
        Some("loadBalancer") => Origin::LoadBalancer,
        Some(o) => {
            errors.push(loc.at_value(
                &format!("{p}.from"),
                format!("unknown origin {o:?}: expected inside, nodePort or loadBalancer"),
            ));
            Origin::Inside
        }
    };
    let model = match t.model.as_deref() {
        None | Some("aggregate") => Model::Aggregate,
        Some("per-request") => Model::PerRequest,
        Some(o) => {
            errors.push(loc.at_value(
                &format!("{p}.model"),
                format!("unknown model {o:?}: expected aggregate or per-request"),
            ));
            Model::Aggregate
        }
    };
    if model == Model::PerRequest && curve.peak() > 10_000.0 {
        errors.push(loc.at_value(
            &format!("{p}.model"),
            format!(
                "per-request traffic is for small rates (up to 10000/s), this client reaches {}/s: use the aggregate model",
                curve.peak()
            ),
        ));
    }
    let sources = t.sources.unwrap_or(100);
    if !(1..=100_000).contains(&sources) {
        errors.push(loc.at_value(
            &format!("{p}.sources"),
            format!("sources must be between 1 and 100000, got {sources}"),
        ));
    }
    if t.concurrency == Some(0) {
        errors.push(loc.at_value(
            &format!("{p}.concurrency"),
            "concurrency must be at least 1".to_string(),
        ));
    }
    if t.queue_limit.is_some_and(|q| q > 100_000) {
        errors.push(loc.at_value(
            &format!("{p}.queueLimit"),
            "queueLimit must be at most 100000".to_string(),
        ));
    }
    let key = |s: &str| match s.split_once('/') {
        Some((ns, n)) => ObjKey::new(ns, n),
        None => ObjKey::new("default", s.to_string()),
    };
    let (service, destination) = match (&t.service, &t.ingress) {
        (Some(s), None) => (key(s), Destination::Service(key(s))),
        (None, Some(ing)) => {
            let path = ing.path.clone().unwrap_or_else(|| "/".to_string());
            if !path.starts_with('/') {
                errors.push(loc.at_value(
                    &format!("{p}.ingress.path"),
                    format!("a request path starts with '/', got {path:?}"),
                ));
            }
            let k = key(&ing.name);
            (
                // decided by the ingress controller at run time
                ObjKey::new(&k.namespace, ""),
                Destination::Ingress {
                    ingress: k,
                    host: ing.host.clone().unwrap_or_default(),
                    path,
                },
            )
        }
        _ => {
            errors.push(loc.at_value(
                p,
                "expected exactly one of `service` and `ingress`".to_string(),
            ));
            return None;
        }
    };
    if errors.len() > n0 {
        return None;
    }
    Some(crate::net::ClientSpec {
        name: t.name.clone(),
        service,
        destination,
        rate: curve,
        arrivals,
        origin,
        sources,
        timeout: t.timeout.unwrap_or(SimDuration::from_secs(1)),
        service_time: t.service_time.unwrap_or(SimDuration::from_millis(10)),
        start: t.start.unwrap_or(SimDuration::ZERO),
        concurrency: t.concurrency,
        queue_limit: t.queue_limit.unwrap_or(100),
        model,
    })
}

/// One `chaos:` entry, checked.
fn chaos_entry(
    e: &schema::ChaosEntry,
    p: &str,
    loc: &Loc,
    errors: &mut Vec<Diagnostic>,
) -> Option<crate::sim::chaos::ChaosSpec> {
    use crate::sim::chaos::KINDS;
    let Some(&fault) = KINDS.iter().find(|k| **k == e.fault) else {
        let mut m = format!(
            "unknown chaos fault {:?}; expected one of: {}",
            e.fault,
            KINDS.join(", ")
        );
        if let Some(s) = suggest(&e.fault, KINDS.iter().copied()) {
            m = format!("unknown chaos fault {:?} (did you mean {s:?}?)", e.fault);
        }
        errors.push(loc.at_value(&format!("{p}.fault"), m));
        return None;
    };
    let instant = fault == "pod-crash" || fault == "pod-oom";
    if e.mtbf < SimDuration::from_secs(1) {
        errors.push(loc.at_value(&format!("{p}.mtbf"), "mtbf must be at least 1s"));
    }
    match (instant, e.mttr) {
        (true, Some(_)) => errors.push(loc.at(
            &format!("{p}.mttr"),
            format!("{fault} is instantaneous: it takes no mttr"),
        )),
        (false, None) => errors.push(loc.at(
            p,
            format!("chaos fault {fault} needs `mttr` (mean time to repair), e.g. mttr: 5m"),
        )),
        (false, Some(d)) if d == SimDuration::ZERO => {
            errors.push(loc.at_value(&format!("{p}.mttr"), "mttr must be greater than 0"))
        }
        _ => {}
    }
    let selector = e.selector.clone().unwrap_or_default();
    check_labels(&selector, &format!("{p}.selector"), loc, errors);
    let node_fault = matches!(
        fault,
        "node-crash" | "kubelet-stop" | "network-partition" | "zone-outage"
    );
    if e.selector.is_some() && !instant && !node_fault {
        errors.push(loc.at(
            &format!("{p}.selector"),
            format!("chaos fault {fault} takes no selector"),
        ));
    }
    if e.namespace.is_some() && !instant {
        errors.push(loc.at(
            &format!("{p}.namespace"),
            format!("chaos fault {fault} takes no namespace (only pod-crash and pod-oom do)"),
        ));
    }
    let factor = match e.factor {
        None => 10,
        Some(f) if fault == "image-registry-slow" && (2..=10_000).contains(&f) => f as u32,
        Some(f) if fault == "image-registry-slow" => {
            errors.push(loc.at_value(
                &format!("{p}.factor"),
                format!("factor must be between 2 and 10000, got {f}"),
            ));
            10
        }
        Some(_) => {
            errors.push(loc.at(
                &format!("{p}.factor"),
                "only image-registry-slow takes a factor",
            ));
            10
        }
    };
    Some(crate::sim::chaos::ChaosSpec {
        fault,
        mtbf: e.mtbf,
        mttr: e.mttr,
        selector,
        namespace: e.namespace.clone().unwrap_or_else(|| "default".into()),
        factor,
    })
}

fn resolve_action(
    v: &serde_yaml::Value,
    loc: &Loc,
    base: &Path,
    warnings: &mut Vec<String>,
    limits: &Limits,
) -> Result<TimedAction, Vec<Diagnostic>> {
    let raw: RawAction = serde_path_to_error::deserialize(v.clone()).map_err(|e| {
        let (p, m) = explain_serde_error(&e.path().to_string(), &e.inner().to_string());
        vec![loc.at_value(&p, m)]
    })?;
    let p = loc.pos.nearest(&loc.full(""));
    let origin = format!("{}:{}:{}", loc.file.display(), p.line, p.col);
    let mut errors = Vec::new();
    let act = raw.action.as_str();
    if !ACTIONS.contains(&act) {
        let mut m = format!(
            "unknown action {act:?}; expected one of: {}",
            ACTIONS.join(", ")
        );
        if let Some(s) = suggest(act, ACTIONS.iter().copied()) {
            m = format!("unknown action {act:?} (did you mean {s:?}?)");
        }
        return Err(vec![loc.at_value("action", m)]);
    }
    // Which keys each verb takes.
    let allowed: &[&str] = match act {
        "apply" => &["file", "object"],
        "delete" => &["target", "namespace", "cascade"],
        "scale" => &["target", "namespace", "replicas"],
        "node-crash" | "kubelet-stop" => &["target", "for"],
        "network-partition" => &["nodes", "selector", "for"],
        "zone-outage" => &["zone", "for"],
        "image-registry-slow" => &["factor", "for"],
        "node-add" => &["pool", "count"],
        "image-registry-down"
        | "api-server-down"
        | "etcd-down"
        | "scheduler-down"
        | "controller-manager-down" => &["for"],
        "pod-crash" | "pod-oom" => &["selector", "namespace", "count"],
        "set-image" => &["target", "namespace", "container", "image"],
        "rollout-undo" => &["target", "namespace", "toRevision"],
        "rollout-pause" | "rollout-resume" => &["target", "namespace"],
        "label" => &["target", "namespace", "labels"],
        "taint" => &["target", "taints", "remove"],
        "drain" => &["target", "timeout"],
        _ => &["target"],
    };
    let present = [
        ("target", raw.target.is_some()),
        ("namespace", raw.namespace.is_some()),
        ("replicas", raw.replicas.is_some()),
        ("file", raw.file.is_some()),
        ("object", raw.object.is_some()),
        ("for", raw.for_.is_some()),
        ("selector", raw.selector.is_some()),
        ("count", raw.count.is_some()),
        ("container", raw.container.is_some()),
        ("image", raw.image.is_some()),
        ("toRevision", raw.to_revision.is_some()),
        ("labels", raw.labels.is_some()),
        ("taints", raw.taints.is_some()),
        ("remove", raw.remove.is_some()),
        ("timeout", raw.timeout.is_some()),
        ("nodes", raw.nodes.is_some()),
        ("zone", raw.zone.is_some()),
        ("factor", raw.factor.is_some()),
        ("pool", raw.pool.is_some()),
        ("cascade", raw.cascade.is_some()),
    ];
    for (k, set) in present {
        if set && !allowed.contains(&k) {
            errors.push(loc.at(
                k,
                format!(
                    "`{k}` does not apply to action {act}; it takes: at, action, {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    let ns = raw.namespace.clone().unwrap_or_else(|| "default".into());
    let need_target = |errors: &mut Vec<Diagnostic>| -> Option<String> {
        if raw.target.is_none() {
            errors.push(loc.at(
                "",
                format!("action {act} needs a `target`, e.g. target: deployment/web"),
            ));
        }
        raw.target.clone()
    };
    let action = match act {
        "apply" => {
            let mut out = Loaded::default();
            match (&raw.file, &raw.object) {
                (Some(f), None) => {
                    let target = base.join(f);
                    if target.exists() {
                        manifest::load_path(&target, &mut out, &mut errors);
                    } else {
                        errors.push(loc.at_value(
                            "file",
                            format!("manifest file or folder not found: {}", target.display()),
                        ));
                    }
                }
                (None, Some(o)) => {
                    let prefix = loc.full("object");
                    let l = Loc {
                        file: loc.file,
                        pos: loc.pos,
                        prefix: &prefix,
                    };
                    manifest::load_value(o, &l, &mut out, &mut errors);
                }
                (Some(_), Some(_)) => {
                    errors.push(loc.at("", "apply takes either `file` or `object`, not both"))
                }
                (None, None) => {
                    errors.push(loc.at("", "apply needs `file: PATH` or `object: {...}`"))
                }
            }
            warnings.append(&mut out.warnings);
            let mut objs: Vec<AnyObject> = out.objects.into_iter().map(|(o, _)| o).collect();
            crate::sim::sort_for_apply(&mut objs);
            Some(Action::Apply(objs))
        }
        "delete" => need_target(&mut errors).and_then(|t| match parse_target(&t, loc, false) {
            Ok((kind, name)) => Some(Action::Delete {
                cascade: match raw.cascade.as_deref() {
                    None | Some("background") => crate::api::store::Propagation::Background,
                    Some("foreground") => crate::api::store::Propagation::Foreground,
                    Some("orphan") => crate::api::store::Propagation::Orphan,
                    Some(other) => {
                        errors.push(loc.at_value(
                            "cascade",
                            format!("cascade must be background, foreground or orphan (kubectl --cascade), got {other:?}"),
                        ));
                        crate::api::store::Propagation::Background
                    }
                },
                kind,
                key: if kind.namespaced() {
                    ObjKey::new(ns.clone(), name)
                } else {
                    ObjKey::cluster(name)
                },
            }),
            Err(d) => {
                errors.push(d);
                None
            }
        }),
        "scale" => {
            let replicas = match raw.replicas {
                None => {
                    errors.push(loc.at("", "scale needs `replicas`"));
                    0
                }
                Some(r) if !(0..=limits.max_replicas).contains(&r) => {
                    errors.push(loc.at_value(
                        "replicas",
                        format!("replicas must be between 0 and {} (limits.maxReplicas), got {r}", limits.max_replicas),
                    ));
                    0
                }
                Some(r) => r as i32,
            };
            need_target(&mut errors).and_then(|t| match parse_target(&t, loc, false) {
                Ok((
                    kind @ (Kind::Deployment
                    | Kind::ReplicaSet
                    | Kind::StatefulSet
                    | Kind::ReplicationController),
                    name,
                )) => Some(Action::Scale {
                    kind,
                    key: ObjKey::new(ns.clone(), name),
                    replicas,
                }),
                Ok((kind, _)) => {
                    errors.push(loc.at_value(
                        "target",
                        format!("cannot scale a {kind}: scale takes a deployment, replicaset, statefulset or replicationcontroller"),
                    ));
                    None
                }
                Err(d) => {
                    errors.push(d);
                    None
                }
            })
        }
        "node-add" => {
            let count = match raw.count {
                None => 1,
                Some(n) if (1..=limits.max_nodes as i64).contains(&n) => n as u32,
                Some(n) => {
                    errors.push(loc.at_value(
                        "count",
                        format!("count must be between 1 and {} (limits.maxNodes), got {n}", limits.max_nodes),
                    ));
                    1
                }
            };
            match raw.pool.clone() {
                Some(pool) => Some(Action::NodeAdd {
                    pool,
                    count,
                    nodes: Vec::new(),
                }),
                None => {
                    errors.push(loc.at(
                        "",
                        "node-add needs `pool:` (a cluster.nodePools name; the new nodes copy it)",
                    ));
                    None
                }
            }
        }
        "network-partition" => {
            let nodes = raw.nodes.clone().unwrap_or_default();
            let selector = raw.selector.clone().unwrap_or_default();
            check_labels(&selector, "selector", loc, &mut errors);
            if nodes.is_empty() && selector.is_empty() {
                errors.push(loc.at(
                    "",
                    "network-partition needs `nodes: [NAME, ...]` or a node `selector: {label: value}`",
                ));
            }
            Some(Action::Fault {
                fault: FaultAction::NetworkPartition { nodes, selector },
                heal_after: raw.for_,
            })
        }
        "zone-outage" => match raw.zone.clone() {
            Some(z) if !z.is_empty() => Some(Action::Fault {
                fault: FaultAction::ZoneOutage(z),
                heal_after: raw.for_,
            }),
            _ => {
                errors.push(loc.at(
                    "",
                    "zone-outage needs `zone:` (a topology.kubernetes.io/zone label value)",
                ));
                None
            }
        },
        "image-registry-down" => Some(Action::Fault {
            fault: FaultAction::Registry(None),
            heal_after: raw.for_,
        }),
        "image-registry-slow" => {
            let factor = match raw.factor {
                None => 10,
                Some(f) if (2..=10_000).contains(&f) => f as u32,
                Some(f) => {
                    errors.push(loc.at_value(
                        "factor",
                        format!("factor must be between 2 and 10000 (how many times slower pulls get), got {f}"),
                    ));
                    10
                }
            };
            Some(Action::Fault {
                fault: FaultAction::Registry(Some(factor)),
                heal_after: raw.for_,
            })
        }
        "api-server-down" | "etcd-down" | "scheduler-down" | "controller-manager-down" => {
            Some(Action::Fault {
                fault: FaultAction::ControlPlane(plane_of(act)),
                heal_after: raw.for_,
            })
        }
        "pod-crash" | "pod-oom" => {
            let selector = raw.selector.clone().unwrap_or_default();
            if raw.selector.is_none() {
                errors.push(loc.at(
                    "",
                    format!("action {act} needs a `selector`, e.g. selector: {{app: web}}"),
                ));
            }
            for (k, v) in &selector {
                if let Err(e) = validate_label_key(k) {
                    errors.push(loc.at(&format!("selector.{k}"), e.to_string()));
                }
                if let Err(e) = validate_label_value(v) {
                    errors.push(loc.at_value(&format!("selector.{k}"), e.to_string()));
                }
            }
            let count = match raw.count {
                None => 1,
                Some(n) if (1..=limits.max_replicas).contains(&n) => n as u32,
                Some(n) => {
                    errors.push(loc.at_value(
                        "count",
                        format!("count must be between 1 and {} (limits.maxReplicas), got {n}", limits.max_replicas),
                    ));
                    1
                }
            };
            Some(Action::Fault {
                fault: FaultAction::PodExit {
                    selector,
                    namespace: ns.clone(),
                    count,
                    oom: act == "pod-oom",
                },
                heal_after: None,
            })
        }
        "set-image" | "rollout-undo" | "rollout-pause" | "rollout-resume" => {
            let mut target_kind = Kind::Deployment;
            let deployment =
                need_target(&mut errors).and_then(|t| match parse_target(&t, loc, false) {
                    Ok((Kind::Deployment, name)) => Some(ObjKey::new(ns.clone(), name)),
                    Ok((
                        kind @ (Kind::StatefulSet
                        | Kind::DaemonSet
                        | Kind::ReplicaSet
                        | Kind::ReplicationController),
                        name,
                    )) if act == "set-image" => {
                        target_kind = kind;
                        Some(ObjKey::new(ns.clone(), name))
                    }
                    Ok((kind, _)) => {
                        errors.push(
                            loc.at_value(
                                "target",
                                format!("{act} takes a deployment, not a {kind}"),
                            ),
                        );
                        None
                    }
                    Err(d) => {
                        errors.push(d);
                        None
                    }
                });
            let key = deployment.unwrap_or_else(|| ObjKey::new("", ""));
            match act {
                "set-image" => {
                    let container = raw.container.clone().unwrap_or_default();
                    let image = raw.image.clone().unwrap_or_default();
                    if raw.container.is_none() {
                        errors.push(loc.at("", "set-image needs `container: NAME`"));
                    } else if container.is_empty() {
                        errors.push(loc.at_value("container", "container must not be empty"));
                    }
                    if raw.image.is_none() {
                        errors.push(loc.at("", "set-image needs `image: IMAGE`"));
                    } else if image.trim().is_empty() {
                        errors.push(loc.at_value("image", "image must not be empty"));
                    }
                    Some(Action::SetImage {
                        kind: target_kind,
                        key,
                        container,
                        image,
                    })
                }
                "rollout-undo" => {
                    if let Some(r) = raw.to_revision {
                        if r < 0 {
                            errors.push(loc.at_value(
                                "toRevision",
                                format!("toRevision must not be negative, got {r}"),
                            ));
                        }
                    }
                    Some(Action::RolloutUndo {
                        key,
                        // --to-revision 0 means the previous revision, as kubectl
                        to_revision: raw.to_revision.filter(|r| *r > 0),
                    })
                }
                _ => Some(Action::RolloutPause {
                    key,
                    paused: act == "rollout-pause",
                }),
            }
        }
        "label" => {
            let labels = raw.labels.clone().unwrap_or_default();
            if labels.is_empty() {
                errors.push(loc.at(
                    "",
                    "label needs `labels: {KEY: VALUE}` (a null value removes the label)",
                ));
            }
            for (k, v) in &labels {
                if let Err(e) = validate_label_key(k) {
                    errors.push(loc.at(&format!("labels.{k}"), e.to_string()));
                }
                if let Some(v) = v {
                    if let Err(e) = validate_label_value(v) {
                        errors.push(loc.at_value(&format!("labels.{k}"), e.to_string()));
                    }
                }
            }
            need_target(&mut errors).and_then(|t| match parse_target(&t, loc, false) {
                Ok((Kind::Node, name)) => Some(Action::Label {
                    kind: Kind::Node,
                    key: ObjKey::cluster(name),
                    labels: labels.clone(),
                }),
                Ok((Kind::Deployment, name)) => Some(Action::Label {
                    kind: Kind::Deployment,
                    key: ObjKey::new(ns.clone(), name),
                    labels: labels.clone(),
                }),
                Ok((kind, _)) => {
                    errors.push(loc.at_value(
                        "target",
                        format!("label takes a node or a deployment, not a {kind}"),
                    ));
                    None
                }
                Err(d) => {
                    errors.push(d);
                    None
                }
            })
        }
        "taint" => {
            let mut add = Vec::new();
            for (i, t) in raw.taints.iter().flatten().enumerate() {
                if let Err(e) = validate_label_key(&t.key) {
                    errors.push(loc.at_value(&format!("taints[{i}].key"), e.to_string()));
                }
                if !t.value.is_empty() {
                    if let Err(e) = validate_label_value(&t.value) {
                        errors.push(loc.at_value(&format!("taints[{i}].value"), e.to_string()));
                    }
                }
                match TaintEffect::parse(&t.effect) {
                    Ok(e) => add.push(Taint::new(&t.key, &t.value, e)),
                    Err(m) => errors.push(loc.at_value(&format!("taints[{i}].effect"), m)),
                }
            }
            let remove = raw.remove.clone().unwrap_or_default();
            if raw.taints.as_ref().is_none_or(|t| t.is_empty()) && remove.is_empty() {
                errors.push(loc.at(
                    "",
                    "taint needs `taints: [{key, value, effect}]` and/or `remove: [KEY]`",
                ));
            }
            need_target(&mut errors).and_then(|t| match parse_target(&t, loc, true) {
                Ok((Kind::Node, name)) => Some(Action::Taint {
                    node: name,
                    add: add.clone(),
                    remove: remove.clone(),
                }),
                Ok((kind, _)) => {
                    errors
                        .push(loc.at_value("target", format!("taint takes a node, not a {kind}")));
                    None
                }
                Err(d) => {
                    errors.push(d);
                    None
                }
            })
        }
        _ => need_target(&mut errors).and_then(|t| match parse_target(&t, loc, true) {
            Ok((Kind::Node, name)) => Some(match act {
                "cordon" => Action::Cordon(name),
                "drain" => Action::Drain {
                    node: name,
                    timeout: raw.timeout,
                },
                "uncordon" => Action::Uncordon(name),
                "node-crash" => Action::Fault {
                    fault: FaultAction::NodeCrash(name),
                    heal_after: raw.for_,
                },
                "kubelet-stop" => Action::Fault {
                    fault: FaultAction::KubeletStop(name),
                    heal_after: raw.for_,
                },
                "node-remove" => Action::NodeRemove(name),
                _ => Action::Fault {
                    fault: FaultAction::NodeRecover(name),
                    heal_after: None,
                },
            }),
            Ok((kind, _)) => {
                errors.push(loc.at_value("target", format!("{act} takes a node, not a {kind}")));
                None
            }
            Err(d) => {
                errors.push(d);
                None
            }
        }),
    };
    match action {
        Some(action) if errors.is_empty() => Ok(TimedAction {
            at: raw.at,
            action,
            origin,
        }),
        _ => Err(errors),
    }
}

/// Whole-scenario checks: no object defined twice, namespaces exist, and every
/// timeline target is something the scenario defines.
fn check_objects(
    objects: &[(AnyObject, Origin)],
    timeline: &[TimedAction],
    loc: &Loc,
    errors: &mut Vec<Diagnostic>,
) {
    let mut first: BTreeMap<(Kind, ObjKey), &Origin> = BTreeMap::new();
    for (o, origin) in objects {
        let k = (o.kind(), o.key());
        if let Some(prev) = first.get(&k) {
            errors.push(Diagnostic {
                file: origin.file.clone(),
                pos: Some(crate::manifest::yamlpos::Pos {
                    line: origin.line,
                    col: origin.col,
                }),
                path: String::new(),
                message: format!("{} {} is defined twice; first at {prev}", k.0, k.1),
            });
        } else {
            first.insert(k, origin);
        }
    }
    let mut defined: BTreeSet<(Kind, ObjKey)> = first.keys().cloned().collect();
    for ns in crate::api::store::INITIAL_NAMESPACES {
        defined.insert((Kind::Namespace, ObjKey::cluster(ns)));
    }
    for a in timeline {
        match &a.action {
            Action::Apply(objs) => defined.extend(objs.iter().map(|o| (o.kind(), o.key()))),
            Action::NodeAdd { nodes, .. } => {
                defined.extend(nodes.iter().map(|n| (Kind::Node, n.meta.key())))
            }
            _ => {}
        }
    }
    for (o, origin) in objects {
        let ns = &o.meta().namespace;
        if o.kind().namespaced()
            && !defined.contains(&(Kind::Namespace, ObjKey::cluster(ns.clone())))
        {
            errors.push(Diagnostic {
                file: origin.file.clone(),
                pos: Some(
                    origin
                        .namespace_pos
                        .unwrap_or(crate::manifest::yamlpos::Pos {
                            line: origin.line,
                            col: origin.col,
                        }),
                ),
                path: "metadata.namespace".into(),
                message: format!("namespace {ns:?} does not exist: add a Namespace object for it"),
            });
        }
    }
    for (i, a) in timeline.iter().enumerate() {
        let (kind, key) = match &a.action {
            Action::Delete { kind, key, .. }
            | Action::Scale { kind, key, .. }
            | Action::Label { kind, key, .. } => (*kind, key.clone()),
            Action::SetImage { kind, key, .. } => (*kind, key.clone()),
            Action::RolloutUndo { key, .. } | Action::RolloutPause { key, .. } => {
                (Kind::Deployment, key.clone())
            }
            Action::Cordon(n)
            | Action::Drain { node: n, .. }
            | Action::Taint { node: n, .. }
            | Action::Uncordon(n)
            | Action::NodeRemove(n)
            | Action::Fault {
                fault:
                    FaultAction::NodeCrash(n)
                    | FaultAction::NodeRecover(n)
                    | FaultAction::KubeletStop(n),
                ..
            } => (Kind::Node, ObjKey::cluster(n.clone())),
            Action::Fault {
                fault: FaultAction::NetworkPartition { nodes, .. },
                ..
            } => {
                for n in nodes {
                    let key = ObjKey::cluster(n.clone());
                    if !defined.contains(&(Kind::Node, key)) {
                        let names = defined
                            .iter()
                            .filter(|(k, _)| *k == Kind::Node)
                            .map(|(_, k)| k.name.as_str());
                        let mut m = format!("no Node {n} is defined in this scenario");
                        if let Some(s) = suggest(n, names) {
                            m.push_str(&format!("; did you mean {s:?}?"));
                        }
                        errors.push(loc.at_value(&format!("timeline[{i}].nodes"), m));
                    }
                }
                continue;
            }
            Action::Apply(_) | Action::Fault { .. } | Action::NodeAdd { .. } => continue,
        };
        if kind == Kind::Pod {
            continue; // pods stamped by controllers have generated names
        }
        if !defined.contains(&(kind, key.clone())) {
            let names = defined
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, k)| k.name.as_str());
            let mut m = format!(
                "no {kind} {key} is defined in this scenario (initial objects or a timeline apply)"
            );
            if let Some(s) = suggest(&key.name, names) {
                m.push_str(&format!("; did you mean {s:?}?"));
            }
            errors.push(loc.at_value(&format!("timeline[{i}].target"), m));
        }
    }
}
