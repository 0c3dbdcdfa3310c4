//! Upstream types (`k8s-openapi`) → kubesim's model, with validation as the API
//! server would do it. Every error names the path of the offending field.

use super::convert_apps::{conv_daemonset, conv_replication_controller, conv_statefulset};
use super::convert_autoscaling::{conv_hpa, conv_pdb};
use super::convert_batch::{conv_cronjob, conv_job};
use super::convert_networking::{conv_ingress, conv_ingress_class};
use super::convert_scheduling::conv_priority_class;
use super::convert_storage::{
    self, conv_configmap, conv_persistent_volume, conv_persistent_volume_claim, conv_secret,
    conv_storage_class,
};
use super::convert_vpa::conv_vpa as conv_vpa_any;
use super::fields;
use crate::api::affinity::{
    Affinity, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm, PodAffinity,
    PodAffinityTerm, TopologySpreadConstraint, WhenUnsatisfiable,
};
use crate::api::meta::{validate_dns1123_label, validate_dns1123_subdomain};
use crate::api::node::{ConditionStatus, NodeResources, NodeStatus};
use crate::api::pod::{
    Container, ContainerPort, ContainerProbes, PodSpec, Probe, ProbeHandler, PullPolicy,
    RestartPolicy,
};
use crate::api::quantity::{parse_cpu_millis, parse_value};
use crate::api::resources::ResourceList;
use crate::api::selector::{
    validate_label_key, validate_label_value, LabelSelector, Labels, Operator, Requirement,
};
use crate::api::service::{ServicePort, ServiceType};
use crate::api::taint::{Taint, TaintEffect, Toleration, TolerationOperator};
use crate::api::workload::{DeploymentStrategy, IntOrPercent};
use crate::api::{
    AnyObject, Deployment, Namespace, Node, ObjectMeta, Pod, PodTemplate, ReplicaSet, Service,
};
use crate::diag::{explain_serde_error, suggest, Diagnostic, Loc};
use crate::sim::time::SimDuration;
use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value as Json;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What one document turned into.
pub enum Converted {
    /// A simulated object, with warnings about fields that have no effect.
    Object(Box<AnyObject>, Vec<String>),
    /// A valid object kubesim skips (the warning says why: a removed apiVersion).
    NotSimulated(String),
    /// A valid object of a kind kubesim accepts but does not simulate (RBAC,
    /// HPA, ...): `Kind/name (apiVersion)`. A file's list of them makes one warning.
    Unsimulated(String),
    /// A `kind: List`: its items, to convert one by one.
    List(Vec<Value>),
}

pub(crate) type Errors = Vec<Diagnostic>;

/// Kinds kubesim accepts but does not simulate yet, by `apiVersion`.
const NOT_SIMULATED: &[(&str, &str)] = &[
    ("v1", "ServiceAccount"),
    ("v1", "Endpoints"),
    ("v1", "LimitRange"),
    ("v1", "ResourceQuota"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
];

const SIMULATED: &[(&str, &str)] = &[
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("v1", "ReplicationController"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "Deployment"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "PersistentVolume"),
    ("v1", "PersistentVolumeClaim"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("policy/v1", "PodDisruptionBudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"),
];

/// API versions Kubernetes has removed, with the release that removed them.
const REMOVED_VERSIONS: &[(&str, &str)] = &[
    ("extensions/v1beta1", "1.16/1.22"),
    ("apps/v1beta1", "1.16"),
    ("apps/v1beta2", "1.16"),
    ("policy/v1beta1", "1.25"),
    ("batch/v1beta1", "1.25"),
    ("autoscaling/v2beta1", "1.25"),
    ("autoscaling/v2beta2", "1.26"),
    ("networking.k8s.io/v1beta1", "1.22"),
    ("storage.k8s.io/v1beta1", "1.22"),
    ("rbac.authorization.k8s.io/v1beta1", "1.22"),
];

pub(crate) fn err(loc: &Loc, path: &str, msg: impl Into<String>) -> Errors {
    vec![loc.at(path, msg)]
}

/// Convert one YAML document.
pub fn convert(value: &Value, loc: &Loc) -> Result<Converted, Errors> {
    let Some(map) = value.as_mapping() else {
        return Err(err(
            loc,
            "",
            "expected a Kubernetes object: a mapping with apiVersion, kind and metadata",
        ));
    };
    let get_str = |k: &str| -> Result<String, Errors> {
        match map.get(k) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(vec![loc.at_value(k, format!("{k} must be a string"))]),
            None => Err(err(
                loc,
                "",
                format!("missing {k}: every Kubernetes object needs apiVersion and kind"),
            )),
        }
    };
    let api_version = get_str("apiVersion")?;
    let kind = get_str("kind")?;

    if kind == "List" && api_version == "v1" {
        return match map.get("items") {
            Some(Value::Sequence(items)) => Ok(Converted::List(items.clone())),
            None => Ok(Converted::List(Vec::new())),
            Some(_) => Err(vec![
                loc.at_value("items", "items of a List must be a sequence")
            ]),
        };
    }

    let name_hint = map
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("?")
        .to_string();
    let where_ = || format!("{}: {kind}/{name_hint}", loc.file.display());

    macro_rules! simulated {
        ($t:ty, $conv:ident) => {{
            let (obj, raw) = typed::<$t>(value, loc, &kind)?;
            let o = $conv(obj, loc)?;
            let unmodelled = fields::unmodelled(&kind, &raw);
            let warnings = if unmodelled.is_empty() {
                vec![]
            } else {
                vec![format!(
                    "{}: fields kubesim does not simulate (accepted, no effect): {}",
                    where_(),
                    unmodelled.join(", ")
                )]
            };
            Ok(Converted::Object(Box::new(o), warnings))
        }};
    }
    macro_rules! checked {
        ($t:ty) => {{
            typed::<$t>(value, loc, &kind)?;
            Ok(Converted::Unsimulated(format!(
                "{kind}/{name_hint} ({api_version})"
            )))
        }};
    }

    match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => simulated!(core::Namespace, conv_namespace),
        ("v1", "Node") => simulated!(core::Node, conv_node),
        ("v1", "Pod") => simulated!(core::Pod, conv_pod),
        ("v1", "Service") => simulated!(core::Service, conv_service),
        ("apps/v1", "ReplicaSet") => simulated!(apps::ReplicaSet, conv_replicaset),
        ("apps/v1", "Deployment") => simulated!(apps::Deployment, conv_deployment),
        ("v1", "ConfigMap") => {
            convert_storage::check_base64(value, "binaryData", &kind, loc)?;
            simulated!(core::ConfigMap, conv_configmap)
        }
        ("v1", "Secret") => {
            convert_storage::check_base64(value, "data", &kind, loc)?;
            simulated!(core::Secret, conv_secret)
        }
        ("v1", "PersistentVolume") => {
            simulated!(core::PersistentVolume, conv_persistent_volume)
        }
        ("v1", "PersistentVolumeClaim") => {
            simulated!(core::PersistentVolumeClaim, conv_persistent_volume_claim)
        }
        ("v1", "ServiceAccount") => checked!(core::ServiceAccount),
        ("v1", "ReplicationController") => {
            simulated!(core::ReplicationController, conv_replication_controller)
        }
        ("apps/v1", "StatefulSet") => simulated!(apps::StatefulSet, conv_statefulset),
        ("apps/v1", "DaemonSet") => simulated!(apps::DaemonSet, conv_daemonset),
        ("batch/v1", "Job") => simulated!(k8s_openapi::api::batch::v1::Job, conv_job),
        ("batch/v1", "CronJob") => simulated!(k8s_openapi::api::batch::v1::CronJob, conv_cronjob),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => simulated!(
            k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler,
            conv_hpa
        ),
        ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler") => {
            simulated!(super::convert_vpa::RawVpa, conv_vpa_any)
        }
        ("policy/v1", "PodDisruptionBudget") => {
            simulated!(k8s_openapi::api::policy::v1::PodDisruptionBudget, conv_pdb)
        }
        ("networking.k8s.io/v1", "Ingress") => {
            simulated!(k8s_openapi::api::networking::v1::Ingress, conv_ingress)
        }
        ("networking.k8s.io/v1", "IngressClass") => simulated!(
            k8s_openapi::api::networking::v1::IngressClass,
            conv_ingress_class
        ),
        ("storage.k8s.io/v1", "StorageClass") => simulated!(
            k8s_openapi::api::storage::v1::StorageClass,
            conv_storage_class
        ),
        ("scheduling.k8s.io/v1", "PriorityClass") => simulated!(
            k8s_openapi::api::scheduling::v1::PriorityClass,
            conv_priority_class
        ),
        _ => {
            if let Some((_, removed)) = REMOVED_VERSIONS.iter().find(|(v, _)| *v == api_version) {
                return Ok(Converted::NotSimulated(format!(
                    "{}: apiVersion {api_version} was removed in Kubernetes {removed}; a current cluster would reject this object, kubesim skips it",
                    where_()
                )));
            }
            let known = SIMULATED.iter().chain(NOT_SIMULATED);
            if let Some((v, _)) = known.clone().find(|(_, k)| *k == kind) {
                if NOT_SIMULATED
                    .iter()
                    .any(|(av, k)| *av == api_version && *k == kind)
                {
                    return Ok(Converted::Unsimulated(format!(
                        "{kind}/{name_hint} ({api_version})"
                    )));
                }
                return Err(vec![loc.at_value(
                    "apiVersion",
                    format!("kind {kind} is served as apiVersion {v:?}, not {api_version:?}"),
                )]);
            }
            let mut msg = format!("unknown kind {kind:?} (apiVersion {api_version})");
            if let Some(s) = suggest(&kind, known.map(|(_, k)| *k)) {
                msg.push_str(&format!("; did you mean {s:?}?"));
            }
            Err(vec![loc.at_value("kind", msg)])
        }
    }
}

/// Deserialize into the upstream type; reject fields Kubernetes does not know.
fn typed<T>(value: &Value, loc: &Loc, kind: &str) -> Result<(T, Json), Errors>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let obj: T = serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        let (p, m) = explain_serde_error(&e.path().to_string(), &e.inner().to_string());
        vec![loc.at_value(&p, m)]
    })?;
    let raw = serde_json::to_value(value)
        .map_err(|e| err(loc, "", format!("cannot read object: {e}")))?;
    let round =
        serde_json::to_value(&obj).map_err(|e| err(loc, "", format!("cannot read object: {e}")))?;
    let mut unknown = Vec::new();
    fields::unknown_fields(&raw, &round, "", &mut unknown);
    if unknown.is_empty() {
        return Ok((obj, raw));
    }
    Err(unknown
        .into_iter()
        .map(|p| {
            let last = p.rsplit(['.', ']']).next().unwrap_or(&p);
            let mut m = format!("unknown field {p:?} in {kind} (strict decoding error: Kubernetes does not know this field)");
            if let Some(s) = suggest(last, fields::COMMON_FIELDS.iter().copied()) {
                m.push_str(&format!("; did you mean {s:?}?"));
            }
            loc.at(&p, m)
        })
        .collect())
}

pub(crate) fn conv_meta(
    m: metav1::ObjectMeta,
    namespaced: bool,
    loc: &Loc,
    errors: &mut Errors,
) -> ObjectMeta {
    let name = match (m.name, m.generate_name) {
        (Some(n), _) => n,
        (None, Some(_)) => {
            errors.extend(err(loc, "metadata.generateName", "generateName is not supported here (kubectl apply needs a name); set metadata.name"));
            String::new()
        }
        (None, None) => {
            errors.extend(err(loc, "metadata", "metadata.name is required"));
            String::new()
        }
    };
    if !name.is_empty() {
        if let Err(e) = validate_dns1123_subdomain(&name) {
            errors.push(loc.at_value("metadata.name", e));
        }
    }
    let namespace = if namespaced {
        let ns = m.namespace.unwrap_or_else(|| "default".into());
        if let Err(e) = validate_dns1123_label(&ns) {
            errors.push(loc.at_value("metadata.namespace", e));
        }
        ns
    } else {
        String::new()
    };
    let labels = m.labels.unwrap_or_default();
    check_labels(&labels, "metadata.labels", loc, errors);
    let mut meta = ObjectMeta::new(&namespace, &name);
    meta.labels = labels;
    meta.annotations = m.annotations.unwrap_or_default();
    check_annotations(&meta.annotations, "metadata.annotations", loc, errors);
    meta
}

/// kubesim's own annotations must hold what they promise (`kubesim.io/run-for: 10m`).
fn check_annotations(
    annotations: &BTreeMap<String, String>,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) {
    if let Some(v) = annotations.get(crate::node::kubelet::RUN_FOR) {
        if let Err(e) = SimDuration::parse(v) {
            errors.push(loc.at_value(
                &format!("{path}.{}", crate::node::kubelet::RUN_FOR),
                format!("{e} (kubesim.io/run-for takes a duration such as 10m)"),
            ));
        }
    }
}

pub(crate) fn check_labels(labels: &Labels, path: &str, loc: &Loc, errors: &mut Errors) {
    for (k, v) in labels {
        let p = format!("{path}.{k}");
        if let Err(e) = validate_label_key(k) {
            errors.push(loc.at(&p, e.to_string()));
        }
        if let Err(e) = validate_label_value(v) {
            errors.push(loc.at_value(&p, e.to_string()));
        }
    }
}

pub(crate) fn done<T>(v: T, errors: Errors) -> Result<T, Errors> {
    if errors.is_empty() {
        Ok(v)
    } else {
        Err(errors)
    }
}

fn conv_namespace(o: core::Namespace, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, false, loc, &mut errors);
    if let Err(e) = validate_dns1123_label(&meta.name) {
        if !meta.name.is_empty() {
            errors.push(loc.at_value("metadata.name", e));
        }
    }
    done(AnyObject::Namespace(Namespace { meta }), errors)
}

fn quantity(path: &str, name: &str, q: &str, loc: &Loc) -> Result<i64, Diagnostic> {
    let r = if name == "cpu" {
        parse_cpu_millis(q)
    } else {
        parse_value(q)
    };
    match r {
        Ok(v) if v < 0 => Err(loc.at_value(
            path,
            format!("{name} must be greater than or equal to 0, got {q:?}"),
        )),
        Ok(v) => Ok(v),
        Err(e) => Err(loc.at_value(path, e.to_string())),
    }
}

fn resource_list(
    m: Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> ResourceList {
    let mut r = ResourceList::default();
    for (name, q) in m.unwrap_or_default() {
        let p = format!("{path}.{name}");
        match quantity(&p, &name, &q.0, loc) {
            Ok(v) => match name.as_str() {
                "cpu" => r.cpu_millis = Some(v),
                "memory" => r.memory = Some(v),
                _ => {
                    r.other.insert(name, v);
                }
            },
            Err(d) => errors.push(d),
        }
    }
    r
}

/// A container probe: its timing with the upstream defaults, and its handler kind.
fn conv_probe(p: Option<core::Probe>, path: &str, loc: &Loc, errors: &mut Errors) -> Option<Probe> {
    let p = p?;
    let mut out = Probe::default();
    let handlers = [
        (p.http_get.is_some(), ProbeHandler::HttpGet),
        (p.tcp_socket.is_some(), ProbeHandler::TcpSocket),
        (p.exec.is_some(), ProbeHandler::Exec),
        (p.grpc.is_some(), ProbeHandler::Grpc),
    ];
    let set: Vec<ProbeHandler> = handlers.iter().filter(|h| h.0).map(|h| h.1).collect();
    match set.as_slice() {
        [one] => out.handler = *one,
        [] => errors.push(loc.at(
            path,
            "must specify a handler type (httpGet, tcpSocket, exec or grpc)",
        )),
        _ => errors.push(loc.at(path, "may not specify more than 1 handler type")),
    }
    let mut field = |name: &str, v: Option<i32>, min: i32, dst: &mut i64| {
        if let Some(v) = v {
            if v < min {
                errors.push(loc.at_value(
                    &format!("{path}.{name}"),
                    format!("must be greater than or equal to {min}"),
                ));
            } else {
                *dst = v as i64;
            }
        }
    };
    let (mut delay, mut period, mut timeout, mut succ, mut fail) = (0i64, 10, 1, 1, 3);
    field(
        "initialDelaySeconds",
        p.initial_delay_seconds,
        0,
        &mut delay,
    );
    field("periodSeconds", p.period_seconds, 1, &mut period);
    field("timeoutSeconds", p.timeout_seconds, 1, &mut timeout);
    field("successThreshold", p.success_threshold, 1, &mut succ);
    field("failureThreshold", p.failure_threshold, 1, &mut fail);
    out.initial_delay = SimDuration::from_secs(delay as u64);
    out.period = SimDuration::from_secs(period as u64);
    out.timeout = SimDuration::from_secs(timeout as u64);
    out.success_threshold = succ as u32;
    out.failure_threshold = fail as u32;
    Some(out)
}

pub(crate) fn conv_pod_spec(
    s: core::PodSpec,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> (PodSpec, Option<String>) {
    let p = |rest: &str| format!("{path}.{rest}");
    let mut spec = PodSpec::default();
    if s.containers.is_empty() {
        errors.push(loc.at(&p("containers"), "a pod needs at least one container"));
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in s.containers.into_iter().enumerate() {
        let cp = format!("{path}.containers[{i}]");
        convert_storage::conv_env_refs(&c, &cp, loc, errors, &mut spec.env_refs);
        if !names.insert(c.name.clone()) {
            errors.push(loc.at_value(
                &format!("{cp}.name"),
                format!("duplicate container name {:?}", c.name),
            ));
        }
        if let Err(e) = validate_dns1123_label(&c.name) {
            errors.push(loc.at_value(&format!("{cp}.name"), e));
        }
        let image = match c.image {
            Some(i) if !i.trim().is_empty() => i,
            _ => {
                errors.push(loc.at(&cp, "container image is required"));
                String::new()
            }
        };
        let pull = match c.image_pull_policy.as_deref() {
            None => PullPolicy::default_for(&image),
            Some("Always") => PullPolicy::Always,
            Some("IfNotPresent") => PullPolicy::IfNotPresent,
            Some("Never") => PullPolicy::Never,
            Some(o) => {
                errors.push(loc.at_value(
                    &format!("{cp}.imagePullPolicy"),
                    format!("unsupported value {o:?}: expected Always, IfNotPresent or Never"),
                ));
                PullPolicy::default_for(&image)
            }
        };
        let (req, lim) = match c.resources {
            Some(r) => (r.requests, r.limits),
            None => (None, None),
        };
        let limits = resource_list(lim, &format!("{cp}.resources.limits"), loc, errors);
        let mut requests = resource_list(req, &format!("{cp}.resources.requests"), loc, errors);
        // Upstream defaulting: a request left out defaults to the limit.
        if requests.cpu_millis.is_none() {
            requests.cpu_millis = limits.cpu_millis;
        }
        if requests.memory.is_none() {
            requests.memory = limits.memory;
        }
        for (name, r, l) in [
            ("cpu", requests.cpu_millis, limits.cpu_millis),
            ("memory", requests.memory, limits.memory),
        ] {
            if let (Some(r), Some(l)) = (r, l) {
                if r > l {
                    errors.push(loc.at_value(
                        &format!("{cp}.resources.requests.{name}"),
                        format!("must be less than or equal to {name} limit"),
                    ));
                }
            }
        }
        let ports = c
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| ContainerPort {
                name: p.name.unwrap_or_default(),
                container_port: p.container_port,
                host_port: p.host_port,
                protocol: p.protocol.unwrap_or_else(|| "TCP".into()),
                host_ip: p.host_ip.unwrap_or_default(),
            })
            .collect();
        let probes = ContainerProbes {
            startup: conv_probe(c.startup_probe, &format!("{cp}.startupProbe"), loc, errors),
            readiness: conv_probe(
                c.readiness_probe,
                &format!("{cp}.readinessProbe"),
                loc,
                errors,
            ),
            liveness: conv_probe(
                c.liveness_probe,
                &format!("{cp}.livenessProbe"),
                loc,
                errors,
            ),
        };
        for (kind, pr) in [
            ("startupProbe", probes.startup),
            ("livenessProbe", probes.liveness),
        ] {
            if pr.is_some_and(|p| p.success_threshold != 1) {
                errors.push(loc.at_value(&format!("{cp}.{kind}.successThreshold"), "must be 1"));
            }
        }
        if probes != ContainerProbes::default() {
            spec.probes.insert(c.name.clone(), probes);
        }
        spec.containers.push(Container {
            name: c.name,
            image,
            image_pull_policy: pull,
            requests,
            limits,
            ports,
        });
    }
    spec.restart_policy = match s.restart_policy.as_deref() {
        None | Some("Always") => RestartPolicy::Always,
        Some("OnFailure") => RestartPolicy::OnFailure,
        Some("Never") => RestartPolicy::Never,
        Some(o) => {
            errors.push(loc.at_value(
                &p("restartPolicy"),
                format!("unsupported value {o:?}: expected Always, OnFailure or Never"),
            ));
            RestartPolicy::Always
        }
    };
    spec.node_selector = s.node_selector.unwrap_or_default();
    check_labels(&spec.node_selector, &p("nodeSelector"), loc, errors);
    for (i, t) in s.tolerations.unwrap_or_default().into_iter().enumerate() {
        let tp = format!("{path}.tolerations[{i}]");
        let operator = match t.operator.as_deref() {
            None | Some("Equal") => TolerationOperator::Equal,
            Some("Exists") => TolerationOperator::Exists,
            Some(o) => {
                errors.push(loc.at_value(
                    &format!("{tp}.operator"),
                    format!("unsupported value {o:?}: expected Equal or Exists"),
                ));
                TolerationOperator::Equal
            }
        };
        let effect = match t.effect.as_deref() {
            None | Some("") => None,
            Some(e) => match TaintEffect::parse(e) {
                Ok(e) => Some(e),
                Err(m) => {
                    errors.push(loc.at_value(&format!("{tp}.effect"), m));
                    None
                }
            },
        };
        if operator == TolerationOperator::Exists
            && t.value.as_deref().is_some_and(|v| !v.is_empty())
        {
            errors.push(loc.at_value(
                &format!("{tp}.value"),
                "value must be empty when operator is Exists",
            ));
        }
        spec.tolerations.push(Toleration {
            key: t.key.unwrap_or_default(),
            operator,
            value: t.value.unwrap_or_default(),
            effect,
            toleration_seconds: t.toleration_seconds,
        });
    }
    spec.priority = s.priority.unwrap_or(0);
    if let Some(n) = s.priority_class_name.filter(|n| !n.is_empty()) {
        if let Err(e) = validate_dns1123_subdomain(&n) {
            errors.push(loc.at_value(&p("priorityClassName"), e));
        }
        spec.priority_class_name = Some(n);
    }
    if let Some(a) = s.affinity {
        spec.affinity = conv_affinity(a, &p("affinity"), loc, errors);
    }
    spec.topology_spread = conv_spread_constraints(
        s.topology_spread_constraints.unwrap_or_default(),
        &p("topologySpreadConstraints"),
        loc,
        errors,
    );
    if let Some(n) = s.scheduler_name {
        spec.scheduler_name = n;
    }
    if let Some(g) = s.termination_grace_period_seconds {
        if g < 0 {
            errors.push(loc.at_value(
                &p("terminationGracePeriodSeconds"),
                "must be greater than or equal to 0",
            ));
        } else {
            spec.termination_grace_period = SimDuration::from_secs(g as u64);
        }
    }
    spec.volumes = convert_storage::conv_volumes(s.volumes, &p("volumes"), loc, errors);
    (spec, s.node_name)
}

fn conv_affinity(a: core::Affinity, path: &str, loc: &Loc, errors: &mut Errors) -> Affinity {
    let mut out = Affinity::default();
    if let Some(na) = a.node_affinity {
        let np = format!("{path}.nodeAffinity");
        if let Some(req) = na.required_during_scheduling_ignored_during_execution {
            let rp = format!("{np}.requiredDuringSchedulingIgnoredDuringExecution");
            if req.node_selector_terms.is_empty() {
                errors.push(loc.at(
                    &format!("{rp}.nodeSelectorTerms"),
                    "Required value: must have at least one node selector term",
                ));
            }
            out.node.required = Some(
                req.node_selector_terms
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| {
                        conv_node_selector_term(
                            t,
                            &format!("{rp}.nodeSelectorTerms[{i}]"),
                            loc,
                            errors,
                        )
                    })
                    .collect(),
            );
        }
        for (i, t) in na
            .preferred_during_scheduling_ignored_during_execution
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let tp = format!("{np}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            check_weight(t.weight, &format!("{tp}.weight"), loc, errors);
            let term =
                conv_node_selector_term(t.preference, &format!("{tp}.preference"), loc, errors);
            out.node.preferred.push((t.weight, term));
        }
    }
    if let Some(pa) = a.pod_affinity {
        out.pod = conv_pod_affinity(
            pa.required_during_scheduling_ignored_during_execution,
            pa.preferred_during_scheduling_ignored_during_execution,
            &format!("{path}.podAffinity"),
            loc,
            errors,
        );
    }
    if let Some(pa) = a.pod_anti_affinity {
        out.anti = conv_pod_affinity(
            pa.required_during_scheduling_ignored_during_execution,
            pa.preferred_during_scheduling_ignored_during_execution,
            &format!("{path}.podAntiAffinity"),
            loc,
            errors,
        );
    }
    out
}

fn check_weight(w: i32, path: &str, loc: &Loc, errors: &mut Errors) {
    if !(1..=100).contains(&w) {
        errors.push(loc.at_value(
            path,
            format!("Invalid value: {w}: must be in the range 1-100"),
        ));
    }
}

pub(crate) fn conv_node_selector_term(
    t: core::NodeSelectorTerm,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> NodeSelectorTerm {
    let mut out = NodeSelectorTerm::default();
    for (i, r) in t
        .match_expressions
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let rp = format!("{path}.matchExpressions[{i}]");
        if let Err(e) = validate_label_key(&r.key) {
            errors.push(loc.at_value(&format!("{rp}.key"), e.to_string()));
        }
        if let Some(req) = conv_node_requirement(r, &rp, false, loc, errors) {
            out.match_expressions.push(req);
        }
    }
    for (i, r) in t.match_fields.unwrap_or_default().into_iter().enumerate() {
        let rp = format!("{path}.matchFields[{i}]");
        if r.key != "metadata.name" {
            errors.push(loc.at_value(
                &format!("{rp}.key"),
                format!("Invalid value: {:?}: not a valid field selector key; only \"metadata.name\" is supported", r.key),
            ));
            continue;
        }
        if let Some(req) = conv_node_requirement(r, &rp, true, loc, errors) {
            out.match_fields.push(req);
        }
    }
    out
}

fn conv_node_requirement(
    r: core::NodeSelectorRequirement,
    path: &str,
    field: bool,
    loc: &Loc,
    errors: &mut Errors,
) -> Option<NodeSelectorRequirement> {
    use NodeSelectorOperator::*;
    let op = match NodeSelectorOperator::parse(&r.operator) {
        Ok(op) => op,
        Err(m) => {
            errors.push(loc.at_value(&format!("{path}.operator"), m));
            return None;
        }
    };
    let values = r.values.unwrap_or_default();
    let vp = format!("{path}.values");
    let bad = |m: &str| loc.at(&vp, m.to_string());
    if field {
        if !matches!(op, In | NotIn) {
            errors.push(loc.at_value(
                &format!("{path}.operator"),
                format!(
                    "Unsupported value: {:?}: supported values: \"In\", \"NotIn\"",
                    r.operator
                ),
            ));
            return None;
        }
        if values.len() != 1 {
            errors.push(bad(
                "Required value: must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
            ));
            return None;
        }
    }
    match op {
        In | NotIn if values.is_empty() => {
            errors.push(bad(
                "Required value: must be specified when `operator` is 'In' or 'NotIn'",
            ));
            return None;
        }
        Exists | DoesNotExist if !values.is_empty() => {
            errors.push(bad(
                "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ));
            return None;
        }
        Gt | Lt => {
            if values.len() != 1 {
                errors.push(bad(
                    "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'",
                ));
                return None;
            }
            if values[0].parse::<i64>().is_err() {
                errors.push(loc.at_value(
                    &format!("{vp}[0]"),
                    format!(
                        "Invalid value: {:?}: must be an integer when `operator` is 'Lt' or 'Gt'",
                        values[0]
                    ),
                ));
                return None;
            }
        }
        _ => {}
    }
    if !field && matches!(op, In | NotIn) {
        for (i, v) in values.iter().enumerate() {
            if let Err(e) = validate_label_value(v) {
                errors.push(loc.at_value(&format!("{vp}[{i}]"), e.to_string()));
            }
        }
    }
    Some(NodeSelectorRequirement {
        key: r.key,
        operator: op,
        values,
    })
}

fn conv_pod_affinity(
    required: Option<Vec<core::PodAffinityTerm>>,
    preferred: Option<Vec<core::WeightedPodAffinityTerm>>,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> PodAffinity {
    let mut out = PodAffinity::default();
    for (i, t) in required.unwrap_or_default().into_iter().enumerate() {
        let tp = format!("{path}.requiredDuringSchedulingIgnoredDuringExecution[{i}]");
        out.required
            .push(conv_pod_affinity_term(t, &tp, loc, errors));
    }
    for (i, t) in preferred.unwrap_or_default().into_iter().enumerate() {
        let tp = format!("{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
        check_weight(t.weight, &format!("{tp}.weight"), loc, errors);
        let term = conv_pod_affinity_term(
            t.pod_affinity_term,
            &format!("{tp}.podAffinityTerm"),
            loc,
            errors,
        );
        out.preferred.push((t.weight, term));
    }
    out
}

fn conv_pod_affinity_term(
    t: core::PodAffinityTerm,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> PodAffinityTerm {
    let kp = format!("{path}.topologyKey");
    if t.topology_key.is_empty() {
        errors.push(loc.at(&kp, "Required value: can not be empty"));
    } else if let Err(e) = validate_label_key(&t.topology_key) {
        errors.push(loc.at_value(&kp, e.to_string()));
    }
    let namespaces = t.namespaces.unwrap_or_default();
    for (i, ns) in namespaces.iter().enumerate() {
        if let Err(e) = validate_dns1123_label(ns) {
            errors.push(loc.at_value(&format!("{path}.namespaces[{i}]"), e));
        }
    }
    PodAffinityTerm {
        label_selector: t
            .label_selector
            .map(|s| conv_selector(s, &format!("{path}.labelSelector"), loc, errors)),
        namespaces,
        namespace_selector: t
            .namespace_selector
            .map(|s| conv_selector(s, &format!("{path}.namespaceSelector"), loc, errors)),
        topology_key: t.topology_key,
    }
}

fn conv_spread_constraints(
    list: Vec<core::TopologySpreadConstraint>,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> Vec<TopologySpreadConstraint> {
    let mut out: Vec<TopologySpreadConstraint> = Vec::new();
    for (i, c) in list.into_iter().enumerate() {
        let cp = format!("{path}[{i}]");
        if c.max_skew < 1 {
            errors.push(loc.at_value(
                &format!("{cp}.maxSkew"),
                format!("Invalid value: {}: must be greater than zero", c.max_skew),
            ));
        }
        let kp = format!("{cp}.topologyKey");
        if c.topology_key.is_empty() {
            errors.push(loc.at(&kp, "Required value: can not be empty"));
        } else if let Err(e) = validate_label_key(&c.topology_key) {
            errors.push(loc.at_value(&kp, e.to_string()));
        }
        let when = match c.when_unsatisfiable.as_str() {
            "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
            "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
            o => {
                errors.push(loc.at_value(
                    &format!("{cp}.whenUnsatisfiable"),
                    format!("Unsupported value: {o:?}: supported values: \"DoNotSchedule\", \"ScheduleAnyway\""),
                ));
                WhenUnsatisfiable::DoNotSchedule
            }
        };
        if let Some(d) = c.min_domains {
            let dp = format!("{cp}.minDomains");
            if d < 1 {
                errors
                    .push(loc.at_value(&dp, format!("Invalid value: {d}: must be greater than 0")));
            } else if when != WhenUnsatisfiable::DoNotSchedule {
                errors.push(loc.at_value(
                    &dp,
                    format!("Invalid value: {d}: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {}", c.when_unsatisfiable),
                ));
            }
        }
        let policy = |v: Option<String>, field: &str, default: bool, errors: &mut Errors| match v
            .as_deref()
        {
            None => default,
            Some("Honor") => true,
            Some("Ignore") => false,
            Some(o) => {
                errors.push(loc.at_value(
                    &format!("{cp}.{field}"),
                    format!("Unsupported value: {o:?}: supported values: \"Honor\", \"Ignore\""),
                ));
                default
            }
        };
        let node_affinity_honor =
            policy(c.node_affinity_policy, "nodeAffinityPolicy", true, errors);
        let node_taints_honor = policy(c.node_taints_policy, "nodeTaintsPolicy", false, errors);
        let label_selector = c
            .label_selector
            .map(|s| conv_selector(s, &format!("{cp}.labelSelector"), loc, errors));
        let match_label_keys = c.match_label_keys.unwrap_or_default();
        for (j, k) in match_label_keys.iter().enumerate() {
            let mp = format!("{cp}.matchLabelKeys[{j}]");
            if let Err(e) = validate_label_key(k) {
                errors.push(loc.at_value(&mp, e.to_string()));
            } else if label_selector.as_ref().is_some_and(|s| {
                s.match_labels.contains_key(k) || s.match_expressions.iter().any(|r| &r.key == k)
            }) {
                errors.push(loc.at_value(
                    &mp,
                    format!(
                        "Invalid value: {k:?}: exists in both matchLabelKeys and labelSelector"
                    ),
                ));
            }
        }
        if out
            .iter()
            .any(|o| o.topology_key == c.topology_key && o.when_unsatisfiable == when)
        {
            errors.push(loc.at(
                &cp,
                format!(
                    "Duplicate value: {{{:?}, {:?}}}: a constraint with this topologyKey and whenUnsatisfiable already exists",
                    c.topology_key, c.when_unsatisfiable
                ),
            ));
        }
        out.push(TopologySpreadConstraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key,
            when_unsatisfiable: when,
            label_selector,
            min_domains: c.min_domains,
            node_affinity_honor,
            node_taints_honor,
            match_label_keys,
        });
    }
    out
}

fn conv_pod(o: core::Pod, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let Some(s) = o.spec else {
        return Err(err(loc, "", "a Pod needs a spec"));
    };
    let (spec, node_name) = conv_pod_spec(s, "spec", loc, &mut errors);
    done(
        AnyObject::Pod(Pod {
            meta,
            spec: Arc::new(spec),
            node_name,
            status: Default::default(),
        }),
        errors,
    )
}

pub(crate) fn conv_selector(
    s: metav1::LabelSelector,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> LabelSelector {
    let mut sel = LabelSelector {
        match_labels: s.match_labels.unwrap_or_default(),
        match_expressions: Vec::new(),
    };
    check_labels(
        &sel.match_labels,
        &format!("{path}.matchLabels"),
        loc,
        errors,
    );
    for (i, e) in s
        .match_expressions
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let ep = format!("{path}.matchExpressions[{i}]");
        let op = match Operator::parse(&e.operator) {
            Ok(op) => op,
            Err(m) => {
                errors.push(loc.at_value(&format!("{ep}.operator"), m.to_string()));
                continue;
            }
        };
        match Requirement::new(e.key, op, e.values.unwrap_or_default()) {
            Ok(r) => sel.match_expressions.push(r),
            Err(m) => errors.push(loc.at(&ep, m.to_string())),
        }
    }
    sel
}

pub(crate) fn conv_template(
    t: core::PodTemplateSpec,
    selector: &LabelSelector,
    loc: &Loc,
    errors: &mut Errors,
) -> PodTemplate {
    let (labels, annotations) = match t.metadata {
        Some(m) => (
            m.labels.unwrap_or_default(),
            m.annotations.unwrap_or_default(),
        ),
        None => Default::default(),
    };
    check_labels(&labels, "spec.template.metadata.labels", loc, errors);
    check_annotations(
        &annotations,
        "spec.template.metadata.annotations",
        loc,
        errors,
    );
    if selector.is_empty() {
        errors.push(loc.at(
            "spec.selector",
            "selector must not be empty (apps/v1 requires spec.selector)",
        ));
    } else if !selector.matches(&labels) {
        errors.push(loc.at(
            "spec.template.metadata.labels",
            format!(
                "`selector` does not match template `labels`: selector {} does not select labels {:?}",
                selector, labels
            ),
        ));
    }
    let spec = match t.spec {
        Some(s) => conv_pod_spec(s, "spec.template.spec", loc, errors).0,
        None => {
            errors.push(loc.at("spec.template", "spec.template.spec is required"));
            PodSpec::default()
        }
    };
    PodTemplate {
        labels,
        annotations,
        spec: Arc::new(spec),
    }
}

pub(crate) fn replicas(r: Option<i32>, loc: &Loc, errors: &mut Errors) -> i32 {
    match r {
        None => 1,
        Some(v) if v < 0 => {
            errors.push(loc.at_value(
                "spec.replicas",
                format!("Invalid value: {v}: must be greater than or equal to 0"),
            ));
            0
        }
        Some(v) => v,
    }
}

pub(crate) fn seconds(
    v: Option<i32>,
    default: u64,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> SimDuration {
    match v {
        None => SimDuration::from_secs(default),
        Some(s) if s < 0 => {
            errors.push(loc.at_value(
                path,
                format!("Invalid value: {s}: must be greater than or equal to 0"),
            ));
            SimDuration::from_secs(default)
        }
        Some(s) => SimDuration::from_secs(s as u64),
    }
}

fn conv_replicaset(o: apps::ReplicaSet, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let s = o.spec;
    let replicas = replicas(s.replicas, loc, &mut errors);
    let selector = conv_selector(s.selector, "spec.selector", loc, &mut errors);
    let template = match s.template {
        Some(t) => conv_template(t, &selector, loc, &mut errors),
        None => {
            errors.push(loc.at("spec", "spec.template is required"));
            PodTemplate::default()
        }
    };
    let min_ready = seconds(
        s.min_ready_seconds,
        0,
        "spec.minReadySeconds",
        loc,
        &mut errors,
    );
    done(
        AnyObject::ReplicaSet(ReplicaSet {
            meta,
            replicas,
            selector,
            template,
            min_ready,
            status: Default::default(),
        }),
        errors,
    )
}

pub(crate) fn int_or_percent(
    v: &IntOrString,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> IntOrPercent {
    match v {
        IntOrString::Int(i) if *i >= 0 => IntOrPercent::Int(*i),
        IntOrString::Int(i) => {
            errors.push(loc.at_value(
                path,
                format!("Invalid value: {i}: must be greater than or equal to 0"),
            ));
            IntOrPercent::Int(0)
        }
        IntOrString::String(s) => match IntOrPercent::parse(s) {
            Ok(IntOrPercent::Int(_)) => {
                errors.push(loc.at_value(
                    path,
                    format!("Invalid value: {s:?}: a string must be a percentage such as \"25%\""),
                ));
                IntOrPercent::Int(0)
            }
            Ok(p) => p,
            Err(m) => {
                errors.push(loc.at_value(path, m));
                IntOrPercent::Int(0)
            }
        },
    }
}

fn conv_deployment(o: apps::Deployment, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let s = o.spec;
    let replicas = replicas(s.replicas, loc, &mut errors);
    let selector = conv_selector(s.selector, "spec.selector", loc, &mut errors);
    let template = conv_template(s.template, &selector, loc, &mut errors);
    let strategy = match s.strategy {
        None => DeploymentStrategy::default(),
        Some(st) => match st.type_.as_deref() {
            Some("Recreate") => {
                if st.rolling_update.is_some() {
                    errors.push(loc.at(
                        "spec.strategy.rollingUpdate",
                        "may not be specified when strategy `type` is 'Recreate'",
                    ));
                }
                DeploymentStrategy::Recreate
            }
            None | Some("RollingUpdate") => {
                let ru = st.rolling_update.unwrap_or_default();
                let surge = ru
                    .max_surge
                    .as_ref()
                    .map(|v| {
                        int_or_percent(v, "spec.strategy.rollingUpdate.maxSurge", loc, &mut errors)
                    })
                    .unwrap_or(IntOrPercent::Percent(25));
                let unavailable = ru
                    .max_unavailable
                    .as_ref()
                    .map(|v| {
                        int_or_percent(
                            v,
                            "spec.strategy.rollingUpdate.maxUnavailable",
                            loc,
                            &mut errors,
                        )
                    })
                    .unwrap_or(IntOrPercent::Percent(25));
                let zero =
                    |v: IntOrPercent| matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
                if zero(surge) && zero(unavailable) {
                    errors.push(loc.at(
                        "spec.strategy.rollingUpdate.maxUnavailable",
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                if matches!(unavailable, IntOrPercent::Percent(p) if p > 100) {
                    errors.push(loc.at_value(
                        "spec.strategy.rollingUpdate.maxUnavailable",
                        "must not be greater than 100%",
                    ));
                }
                DeploymentStrategy::RollingUpdate {
                    max_surge: surge,
                    max_unavailable: unavailable,
                }
            }
            Some(t) => {
                errors.push(loc.at_value(
                    "spec.strategy.type",
                    format!("unsupported value {t:?}: expected \"Recreate\" or \"RollingUpdate\""),
                ));
                DeploymentStrategy::default()
            }
        },
    };
    let min_ready = seconds(
        s.min_ready_seconds,
        0,
        "spec.minReadySeconds",
        loc,
        &mut errors,
    );
    let progress_deadline = seconds(
        s.progress_deadline_seconds,
        600,
        "spec.progressDeadlineSeconds",
        loc,
        &mut errors,
    );
    if progress_deadline <= min_ready && s.progress_deadline_seconds.is_some() {
        errors.push(loc.at_value(
            "spec.progressDeadlineSeconds",
            "must be greater than minReadySeconds",
        ));
    }
    let revision_history_limit = match s.revision_history_limit {
        Some(v) if v < 0 => {
            errors.push(loc.at_value(
                "spec.revisionHistoryLimit",
                "must be greater than or equal to 0",
            ));
            10
        }
        Some(v) => v,
        None => 10,
    };
    done(
        AnyObject::Deployment(Deployment {
            meta,
            replicas,
            selector,
            template,
            strategy,
            min_ready,
            revision_history_limit,
            progress_deadline,
            paused: s.paused.unwrap_or(false),
            status: Default::default(),
        }),
        errors,
    )
}

/// Node capacity from a quantity map (`cpu`, `memory`, `pods`, others).
pub fn node_resources(
    m: &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> NodeResources {
    let mut r = NodeResources {
        pods: 110,
        ..Default::default()
    };
    for (name, q) in m {
        let p = format!("{path}.{name}");
        match quantity(&p, name, &q.0, loc) {
            Ok(v) => match name.as_str() {
                "cpu" => r.cpu_millis = v,
                "memory" => r.memory = v,
                "pods" => r.pods = v,
                _ => {
                    r.other.insert(name.clone(), v);
                }
            },
            Err(d) => errors.push(d),
        }
    }
    r
}

fn conv_node(o: core::Node, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let mut meta = conv_meta(o.metadata, false, loc, &mut errors);
    meta.labels
        .entry("kubernetes.io/hostname".into())
        .or_insert_with(|| meta.name.clone());
    let spec = o.spec.unwrap_or_default();
    let mut taints = Vec::new();
    for (i, t) in spec.taints.unwrap_or_default().into_iter().enumerate() {
        match TaintEffect::parse(&t.effect) {
            Ok(e) => taints.push(Taint::new(&t.key, t.value.as_deref().unwrap_or(""), e)),
            Err(m) => errors.push(loc.at_value(&format!("spec.taints[{i}].effect"), m)),
        }
    }
    let status = o.status.unwrap_or_default();
    let Some(cap) = status.capacity.as_ref() else {
        errors.push(loc.at(
            "",
            "a Node needs status.capacity (cpu, memory, pods) so kubesim knows its size",
        ));
        return Err(errors);
    };
    let capacity = node_resources(cap, "status.capacity", loc, &mut errors);
    let allocatable = match status.allocatable.as_ref() {
        Some(a) => node_resources(a, "status.allocatable", loc, &mut errors),
        None => capacity.clone(),
    };
    let images = status
        .images
        .unwrap_or_default()
        .into_iter()
        .flat_map(|i| {
            let size = i.size_bytes.unwrap_or(0);
            i.names
                .unwrap_or_default()
                .into_iter()
                .map(move |n| (n, size))
        })
        .collect();
    done(
        AnyObject::Node(Node {
            meta,
            unschedulable: spec.unschedulable.unwrap_or(false),
            taints,
            status: NodeStatus {
                capacity,
                allocatable,
                ready: ConditionStatus::True,
                images,
                ..Default::default()
            },
        }),
        errors,
    )
}

fn conv_service(o: core::Service, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    if let Err(e) = validate_dns1123_label(&meta.name) {
        if !meta.name.is_empty() {
            errors.push(loc.at_value("metadata.name", e));
        }
    }
    let spec = o.spec.unwrap_or_default();
    let service_type = match spec.type_.as_deref() {
        None | Some("ClusterIP") => ServiceType::ClusterIP,
        Some("NodePort") => ServiceType::NodePort,
        Some("LoadBalancer") => ServiceType::LoadBalancer,
        Some("ExternalName") => ServiceType::ExternalName,
        Some(t) => {
            errors.push(loc.at_value(
                "spec.type",
                format!("unsupported value {t:?}: expected ClusterIP, NodePort, LoadBalancer or ExternalName"),
            ));
            ServiceType::ClusterIP
        }
    };
    let mut ports = Vec::new();
    for (i, p) in spec.ports.unwrap_or_default().into_iter().enumerate() {
        if !(1..=65535).contains(&p.port) {
            errors.push(loc.at_value(
                &format!("spec.ports[{i}].port"),
                "must be between 1 and 65535, inclusive",
            ));
        }
        if let Some(np) = p.node_port {
            if service_type == ServiceType::ClusterIP {
                errors.push(loc.at_value(
                    &format!("spec.ports[{i}].nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            } else if !(30000..=32767).contains(&np) {
                errors.push(loc.at_value(
                    &format!("spec.ports[{i}].nodePort"),
                    format!("Invalid value: {np}: provided port is not in the valid range. The range of valid ports is 30000-32767"),
                ));
            }
        }
        ports.push(ServicePort {
            name: p.name.unwrap_or_default(),
            protocol: p.protocol.unwrap_or_else(|| "TCP".into()),
            port: p.port,
            target_port: match p.target_port {
                Some(IntOrString::Int(v)) => v.to_string(),
                Some(IntOrString::String(s)) => s,
                None => p.port.to_string(),
            },
            node_port: p.node_port,
        });
    }
    let selector = spec.selector.unwrap_or_default();
    check_labels(&selector, "spec.selector", loc, &mut errors);
    done(
        AnyObject::Service(Service {
            meta,
            service_type,
            selector,
            ports,
            cluster_ip: spec.cluster_ip,
            publish_not_ready: spec.publish_not_ready_addresses.unwrap_or(false),
            traffic_local: spec.external_traffic_policy.as_deref() == Some("Local"),
            session_affinity: spec.session_affinity.as_deref() == Some("ClientIP"),
            status: Default::default(),
        }),
        errors,
    )
}
