//! `kubesim get`: kubectl's default (and wide) columns for the simulated objects,
//! ages in virtual time; or the objects as JSON / YAML.

use super::{age, at, table};
use crate::api::node::ConditionStatus;
use crate::api::service::ServiceType;
use crate::api::{
    CronJob, DaemonSet, Deployment, Job, Kind, Namespace, Node, Pod, PriorityClass, ReplicaSet,
    ReplicationController, Service, StatefulSet,
};
use crate::metrics::Record;
use crate::Simulation;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Wide,
    Json,
    Yaml,
}

/// Which objects: a kind, optionally one name, in one namespace or all.
#[derive(Debug, Clone)]
pub struct Query {
    pub kind: Kind,
    /// `None` = `events`.
    pub events: bool,
    pub name: Option<String>,
    /// `None` = all namespaces (`-A`).
    pub namespace: Option<String>,
}

fn ns_ok(q: &Query, ns: &str, kind: Kind) -> bool {
    !kind.namespaced() || q.namespace.as_deref().is_none_or(|n| n == ns)
}
fn name_ok(q: &Query, name: &str) -> bool {
    q.name.as_deref().is_none_or(|n| n == name)
}

fn meta_json(kind: Kind, m: &crate::api::ObjectMeta) -> Value {
    let mut v = json!({
        "apiVersion": kind.api_version(),
        "kind": kind.as_str(),
        "metadata": {
            "name": m.name,
            "uid": m.uid.to_string(),
            "resourceVersion": m.resource_version.to_string(),
            "generation": m.generation,
            "creationTimestamp": at(m.creation_timestamp),
            "labels": m.labels,
            "annotations": m.annotations,
        }
    });
    if kind.namespaced() {
        v["metadata"]["namespace"] = json!(m.namespace);
    }
    if let Some(o) = m.controller_ref() {
        v["metadata"]["ownerReferences"] = json!([{"kind": o.kind.as_str(), "name": o.name, "uid": o.uid.to_string(), "controller": true}]);
    }
    if let Some(t) = m.deletion_timestamp {
        v["metadata"]["deletionTimestamp"] = json!(at(t));
    }
    v
}

fn pod_ready(p: &Pod) -> String {
    let n = p.spec.containers.len();
    format!("{}/{}", if p.status.ready { n } else { 0 }, n)
}

/// Render the query as kubectl would, at virtual time `now` (ages count to it).
pub fn get(
    sim: &Simulation,
    q: &Query,
    fmt: Format,
    now: crate::sim::time::SimTime,
) -> Result<String, String> {
    let api = sim.api();
    let all_ns = q.namespace.is_none() && q.kind.namespaced();
    if q.events {
        return Ok(events(sim.recorder().records(), q, now));
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut items: Vec<Value> = Vec::new();
    let with_ns = |mut r: Vec<String>, ns: &str| {
        if all_ns {
            r.insert(0, ns.to_string());
        }
        r
    };
    macro_rules! each {
        ($t:ty, |$o:ident| $row:expr, $js:expr) => {
            for $o in api.list::<$t>() {
                if !ns_ok(q, &$o.meta.namespace, q.kind) || !name_ok(q, &$o.meta.name) {
                    continue;
                }
                rows.push(with_ns($row, &$o.meta.namespace));
                let mut v = meta_json(q.kind, &$o.meta);
                let extra: Value = $js;
                if let (Some(obj), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                    for (k, x) in e {
                        obj.insert(k.clone(), x.clone());
                    }
                }
                items.push(v);
            }
        };
    }
    let wide = fmt == Format::Wide;
    let header: Vec<&str> = match q.kind {
        Kind::Pod if wide => vec![
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES",
        ],
        Kind::Pod => vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        Kind::Node if wide => vec!["NAME", "STATUS", "ROLES", "AGE", "VERSION", "TAINTS"],
        Kind::Node => vec!["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        Kind::Deployment => vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        Kind::ReplicaSet => vec!["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        Kind::Service => vec![
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
        ],
        Kind::Job => vec!["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
        Kind::Namespace => vec!["NAME", "STATUS", "AGE"],
        Kind::PriorityClass => vec!["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE"],
        Kind::ConfigMap => vec!["NAME", "DATA", "AGE"],
        Kind::Secret => vec!["NAME", "TYPE", "DATA", "AGE"],
        Kind::StorageClass => vec![
            "NAME",
            "PROVISIONER",
            "RECLAIMPOLICY",
            "VOLUMEBINDINGMODE",
            "AGE",
        ],
        Kind::PersistentVolume => vec![
            "NAME",
            "CAPACITY",
            "ACCESS MODES",
            "RECLAIM POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "AGE",
        ],
        Kind::PersistentVolumeClaim => vec![
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "AGE",
        ],
        Kind::Ingress => vec!["NAME", "CLASS", "HOSTS", "PORTS", "AGE"],
        Kind::IngressClass => vec!["NAME", "CONTROLLER", "AGE"],
        Kind::PodDisruptionBudget => vec![
            "NAME",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "ALLOWED DISRUPTIONS",
            "AGE",
        ],
        Kind::VerticalPodAutoscaler => vec!["NAME", "MODE", "CPU", "MEM", "AGE"],
        Kind::HorizontalPodAutoscaler => vec![
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE",
        ],
        Kind::StatefulSet => vec!["NAME", "READY", "AGE"],
        Kind::DaemonSet => vec![
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE SELECTOR",
            "AGE",
        ],
        Kind::ReplicationController => vec!["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        Kind::CronJob => vec![
            "NAME",
            "SCHEDULE",
            "TIMEZONE",
            "SUSPEND",
            "ACTIVE",
            "LAST SCHEDULE",
            "AGE",
        ],
    };
    match q.kind {
        Kind::Pod => each!(
            Pod,
            |p| {
                let mut r = vec![
                    p.meta.name.clone(),
                    pod_ready(p),
                    p.display_status(),
                    p.status.restart_count.to_string(),
                    age(now, p.meta.creation_timestamp),
                ];
                if wide {
                    r.extend([
                        "<none>".to_string(),
                        p.node_name.clone().unwrap_or_else(|| "<none>".into()),
                        p.status
                            .nominated_node
                            .clone()
                            .unwrap_or_else(|| "<none>".into()),
                        "<none>".into(),
                    ]);
                }
                r
            },
            json!({
                "spec": {"nodeName": p.node_name, "schedulerName": p.spec.scheduler_name, "priority": p.spec.priority,
                         "containers": p.spec.containers.iter().map(|c| json!({"name": c.name, "image": c.image,
                            "resources": {"requests": {"cpu": c.requests.cpu_millis.map(crate::api::quantity::format_cpu_millis), "memory": c.requests.memory.map(crate::api::quantity::format_bytes)}}})).collect::<Vec<_>>()},
                "status": {"phase": p.status.phase.as_str(), "ready": p.status.ready, "reason": p.status.reason, "restartCount": p.status.restart_count, "nominatedNodeName": p.status.nominated_node}
            })
        ),
        Kind::Node => each!(
            Node,
            |n| {
                let mut r = vec![
                    n.meta.name.clone(),
                    n.display_status(),
                    "<none>".into(),
                    age(now, n.meta.creation_timestamp),
                    "v1.37.0".into(),
                ];
                if wide {
                    let t: Vec<String> = n.taints.iter().map(|t| t.to_string()).collect();
                    r.push(if t.is_empty() {
                        "<none>".into()
                    } else {
                        t.join(",")
                    });
                }
                r
            },
            json!({
                "spec": {"unschedulable": n.unschedulable, "taints": n.taints.iter().map(|t| t.to_string()).collect::<Vec<_>>()},
                "status": {"allocatable": {"cpu": crate::api::quantity::format_cpu_millis(n.status.allocatable.cpu_millis), "memory": crate::api::quantity::format_bytes(n.status.allocatable.memory), "pods": n.status.allocatable.pods.to_string()},
                           "conditions": [{"type": "Ready", "status": n.status.ready.as_str()}]}
            })
        ),
        Kind::Deployment => each!(
            Deployment,
            |d| vec![
                d.meta.name.clone(),
                format!("{}/{}", d.status.ready_replicas, d.replicas),
                d.status.updated_replicas.to_string(),
                d.status.available_replicas.to_string(),
                age(now, d.meta.creation_timestamp),
            ],
            json!({
                "spec": {"replicas": d.replicas, "paused": d.paused},
                "status": {"replicas": d.status.replicas, "updatedReplicas": d.status.updated_replicas, "readyReplicas": d.status.ready_replicas, "availableReplicas": d.status.available_replicas, "observedGeneration": d.status.observed_generation}
            })
        ),
        Kind::ReplicaSet => each!(
            ReplicaSet,
            |r| vec![
                r.meta.name.clone(),
                r.replicas.to_string(),
                r.status.replicas.to_string(),
                r.status.ready_replicas.to_string(),
                age(now, r.meta.creation_timestamp),
            ],
            json!({
                "spec": {"replicas": r.replicas},
                "status": {"replicas": r.status.replicas, "readyReplicas": r.status.ready_replicas, "availableReplicas": r.status.available_replicas}
            })
        ),
        Kind::Service => each!(
            Service,
            |s| {
                let ports: Vec<String> = s
                    .ports
                    .iter()
                    .map(|p| match p.node_port {
                        Some(np) if s.service_type != ServiceType::ClusterIP => {
                            format!("{}:{}/{}", p.port, np, p.protocol)
                        }
                        _ => format!("{}/{}", p.port, p.protocol),
                    })
                    .collect();
                let external = match (s.service_type, &s.status.load_balancer_ip) {
                    (ServiceType::LoadBalancer, Some(ip)) => ip.clone(),
                    (ServiceType::LoadBalancer, None) => "<pending>".to_string(),
                    _ => "<none>".to_string(),
                };
                vec![
                    s.meta.name.clone(),
                    s.service_type.as_str().into(),
                    s.cluster_ip.clone().unwrap_or_else(|| "<none>".into()),
                    external,
                    if ports.is_empty() {
                        "<none>".into()
                    } else {
                        ports.join(",")
                    },
                    age(now, s.meta.creation_timestamp),
                ]
            },
            json!({
                "spec": {"type": s.service_type.as_str(), "selector": s.selector, "clusterIP": s.cluster_ip,
                         "ports": s.ports.iter().map(|p| json!({"port": p.port, "protocol": p.protocol, "targetPort": p.target_port, "nodePort": p.node_port})).collect::<Vec<_>>()},
                "status": {"loadBalancer": {"ingress": s.status.load_balancer_ip.iter().map(|ip| json!({"ip": ip})).collect::<Vec<_>>()},
                           "endpoints": s.status.endpoints.iter().map(|e| json!({"pod": e.pod.name, "node": e.node, "ready": e.ready, "terminating": e.terminating})).collect::<Vec<_>>()}
            })
        ),
        Kind::StatefulSet => each!(
            StatefulSet,
            |s| vec![
                s.meta.name.clone(),
                format!("{}/{}", s.status.ready_replicas, s.replicas),
                age(now, s.meta.creation_timestamp),
            ],
            json!({
                "spec": {"replicas": s.replicas, "serviceName": s.service_name},
                "status": {"replicas": s.status.replicas, "readyReplicas": s.status.ready_replicas, "availableReplicas": s.status.available_replicas,
                           "currentReplicas": s.status.current_replicas, "updatedReplicas": s.status.updated_replicas,
                           "currentRevision": s.status.current_revision, "updateRevision": s.status.update_revision}
            })
        ),
        Kind::DaemonSet => each!(
            DaemonSet,
            |d| {
                let sel: Vec<String> = d
                    .template
                    .spec
                    .node_selector
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                vec![
                    d.meta.name.clone(),
                    d.status.desired_number_scheduled.to_string(),
                    d.status.current_number_scheduled.to_string(),
                    d.status.number_ready.to_string(),
                    d.status.updated_number_scheduled.to_string(),
                    d.status.number_available.to_string(),
                    if sel.is_empty() {
                        "<none>".into()
                    } else {
                        sel.join(",")
                    },
                    age(now, d.meta.creation_timestamp),
                ]
            },
            json!({
                "status": {"desiredNumberScheduled": d.status.desired_number_scheduled, "currentNumberScheduled": d.status.current_number_scheduled,
                           "numberMisscheduled": d.status.number_misscheduled, "numberReady": d.status.number_ready,
                           "updatedNumberScheduled": d.status.updated_number_scheduled, "numberAvailable": d.status.number_available}
            })
        ),
        Kind::ReplicationController => each!(
            ReplicationController,
            |r| vec![
                r.meta.name.clone(),
                r.replicas.to_string(),
                r.status.replicas.to_string(),
                r.status.ready_replicas.to_string(),
                age(now, r.meta.creation_timestamp),
            ],
            json!({
                "spec": {"replicas": r.replicas, "selector": r.selector.match_labels},
                "status": {"replicas": r.status.replicas, "readyReplicas": r.status.ready_replicas, "availableReplicas": r.status.available_replicas}
            })
        ),
        Kind::CronJob => each!(
            CronJob,
            |c| vec![
                c.meta.name.clone(),
                c.schedule_text.clone(),
                "<none>".into(),
                if c.suspend { "True" } else { "False" }.into(),
                c.status.active.len().to_string(),
                c.status
                    .last_schedule_minute
                    .map(|m| {
                        let t = crate::api::cron::time_of(m);
                        // kubectl's translateTimestampSince has whole seconds
                        if now.since(t).as_millis() < 1000 {
                            "0s".to_string()
                        } else {
                            age(now, t)
                        }
                    })
                    .unwrap_or_else(|| "<none>".into()),
                age(now, c.meta.creation_timestamp),
            ],
            json!({
                "spec": {"schedule": c.schedule_text, "suspend": c.suspend, "concurrencyPolicy": c.concurrency_policy.as_str(),
                         "successfulJobsHistoryLimit": c.successful_jobs_history_limit, "failedJobsHistoryLimit": c.failed_jobs_history_limit},
                "status": {"active": c.status.active,
                           "lastScheduleTime": c.status.last_schedule_minute.map(crate::api::cron::format_minute)}
            })
        ),
        Kind::Job => each!(
            Job,
            |j| {
                let status = if j.status.complete {
                    "Complete".to_string()
                } else if j.status.failed_reason.is_some() {
                    "Failed".into()
                } else if j.suspend {
                    "Suspended".into()
                } else {
                    "Running".into()
                };
                let completions = format!(
                    "{}/{}",
                    j.status.succeeded,
                    j.completions.map_or("1".into(), |c| c.to_string())
                );
                let duration = match (j.status.start_time, j.status.completion_time) {
                    (Some(s), Some(e)) => age(e, s),
                    (Some(s), None) => age(now, s),
                    _ => "<none>".into(),
                };
                vec![
                    j.meta.name.clone(),
                    status,
                    completions,
                    duration,
                    age(now, j.meta.creation_timestamp),
                ]
            },
            json!({"spec": {"parallelism": j.parallelism, "completions": j.completions, "backoffLimit": j.backoff_limit},
                   "status": {"active": j.status.active, "succeeded": j.status.succeeded, "failed": j.status.failed}})
        ),
        Kind::Namespace => each!(
            Namespace,
            |n| vec![
                n.meta.name.clone(),
                "Active".into(),
                age(now, n.meta.creation_timestamp)
            ],
            json!({})
        ),
        Kind::PriorityClass => each!(
            PriorityClass,
            |p| vec![
                p.meta.name.clone(),
                p.value.to_string(),
                p.global_default.to_string(),
                age(now, p.meta.creation_timestamp)
            ],
            json!({"value": p.value, "globalDefault": p.global_default})
        ),
        Kind::ConfigMap => each!(
            crate::api::ConfigMap,
            |c| vec![
                c.meta.name.clone(),
                c.len().to_string(),
                age(now, c.meta.creation_timestamp)
            ],
            json!({"data": c.data, "immutable": c.immutable})
        ),
        Kind::Secret => each!(
            crate::api::Secret,
            |c| vec![
                c.meta.name.clone(),
                c.secret_type.clone(),
                c.data.len().to_string(),
                age(now, c.meta.creation_timestamp)
            ],
            json!({"type": c.secret_type, "immutable": c.immutable,
                   "data": c.data.keys().map(|k| (k.clone(), json!("<hidden>"))).collect::<serde_json::Map<_, _>>()})
        ),
        Kind::StorageClass => each!(
            crate::api::StorageClass,
            |c| vec![
                if c.is_default() {
                    format!("{} (default)", c.meta.name)
                } else {
                    c.meta.name.clone()
                },
                c.provisioner.clone(),
                c.reclaim_policy.as_str().into(),
                c.binding_mode.as_str().into(),
                age(now, c.meta.creation_timestamp)
            ],
            json!({"provisioner": c.provisioner, "reclaimPolicy": c.reclaim_policy.as_str(),
                   "volumeBindingMode": c.binding_mode.as_str(), "allowedZones": c.allowed_zones})
        ),
        Kind::PersistentVolume => each!(
            crate::api::PersistentVolume,
            |v| vec![
                v.meta.name.clone(),
                crate::api::quantity::format_bytes(v.capacity),
                crate::api::storage::access_modes_short(&v.access_modes),
                v.reclaim_policy.as_str().into(),
                v.phase.as_str().into(),
                v.claim_ref
                    .as_ref()
                    .map_or(String::new(), |c| format!("{}/{}", c.namespace, c.name)),
                v.storage_class.clone(),
                age(now, v.meta.creation_timestamp)
            ],
            json!({"spec": {"capacity": {"storage": crate::api::quantity::format_bytes(v.capacity)},
                            "storageClassName": v.storage_class,
                            "persistentVolumeReclaimPolicy": v.reclaim_policy.as_str(),
                            "claimRef": v.claim_ref.as_ref().map(|c| json!({"namespace": c.namespace, "name": c.name}))},
                   "status": {"phase": v.phase.as_str(), "attachedTo": v.attached}})
        ),
        Kind::PersistentVolumeClaim => each!(
            crate::api::PersistentVolumeClaim,
            |c| vec![
                c.meta.name.clone(),
                if c.meta.deletion_timestamp.is_some() {
                    "Terminating".into()
                } else {
                    c.phase.as_str().into()
                },
                c.volume_name.clone().unwrap_or_default(),
                c.capacity
                    .map_or(String::new(), crate::api::quantity::format_bytes),
                crate::api::storage::access_modes_short(&c.access_modes),
                c.class().to_string(),
                age(now, c.meta.creation_timestamp)
            ],
            json!({"spec": {"storageClassName": c.storage_class, "volumeName": c.volume_name,
                            "resources": {"requests": {"storage": crate::api::quantity::format_bytes(c.request)}}},
                   "status": {"phase": c.phase.as_str()}})
        ),
        Kind::Ingress => each!(
            crate::api::Ingress,
            |i| vec![
                i.meta.name.clone(),
                i.class_name.clone().unwrap_or_else(|| "<none>".into()),
                {
                    let hosts: Vec<&str> =
                        i.rules.iter().filter_map(|r| r.host.as_deref()).collect();
                    if hosts.is_empty() {
                        "*".to_string()
                    } else {
                        hosts.join(",")
                    }
                },
                if i.tls.is_empty() { "80" } else { "80, 443" }.to_string(),
                age(now, i.meta.creation_timestamp)
            ],
            json!({"ingressClassName": i.class_name,
                   "rules": i.rules.iter().map(|r| json!({"host": r.host,
                        "paths": r.paths.iter().map(|p| json!({"path": p.path,
                            "pathType": format!("{:?}", p.path_type),
                            "service": p.backend.service, "port": p.backend.port})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
                   "tls": i.tls.iter().map(|t| json!({"hosts": t.hosts, "secretName": t.secret_name})).collect::<Vec<_>>()})
        ),
        Kind::IngressClass => each!(
            crate::api::IngressClass,
            |c| vec![
                c.meta.name.clone(),
                c.controller.clone(),
                age(now, c.meta.creation_timestamp)
            ],
            json!({"controller": c.controller})
        ),
        Kind::PodDisruptionBudget => each!(
            crate::api::PodDisruptionBudget,
            |b| vec![
                b.meta.name.clone(),
                b.min_available.map_or("N/A".into(), |v| v.display()),
                b.max_unavailable.map_or("N/A".into(), |v| v.display()),
                b.status.disruptions_allowed.to_string(),
                age(now, b.meta.creation_timestamp)
            ],
            json!({"currentHealthy": b.status.current_healthy,
                   "desiredHealthy": b.status.desired_healthy,
                   "disruptionsAllowed": b.status.disruptions_allowed,
                   "expectedPods": b.status.expected_pods})
        ),
        Kind::VerticalPodAutoscaler => each!(
            crate::api::autoscaling::VerticalPodAutoscaler,
            |v| vec![
                v.meta.name.clone(),
                format!("{:?}", v.update_mode),
                v.recommendations
                    .first()
                    .map_or(String::new(), |r| format!("{}m", r.target.0)),
                v.recommendations
                    .first()
                    .map_or(String::new(), |r| r.target.1.to_string()),
                age(now, v.meta.creation_timestamp)
            ],
            json!({"recommendations": v.recommendations.iter().map(|r| json!({
                "containerName": r.container,
                "target": {"cpu": format!("{}m", r.target.0), "memory": r.target.1},
                "lowerBound": {"cpu": format!("{}m", r.lower.0), "memory": r.lower.1},
                "upperBound": {"cpu": format!("{}m", r.upper.0), "memory": r.upper.1}
            })).collect::<Vec<_>>()})
        ),
        Kind::HorizontalPodAutoscaler => each!(
            crate::api::HorizontalPodAutoscaler,
            |h| vec![
                h.meta.name.clone(),
                format!("{}/{}", h.target_kind, h.target_name),
                crate::controllers::hpa::targets_column(h),
                h.min_replicas.to_string(),
                h.max_replicas.to_string(),
                h.status.current_replicas.to_string(),
                age(now, h.meta.creation_timestamp)
            ],
            json!({"currentReplicas": h.status.current_replicas,
                   "desiredReplicas": h.status.desired_replicas})
        ),
    }
    let _ = ConditionStatus::True;
    if let Some(n) = &q.name {
        if items.is_empty() {
            return Err(format!(
                "Error from server (NotFound): {} {n:?} not found at {}",
                q.kind,
                at(now)
            ));
        }
    }
    match fmt {
        Format::Json | Format::Yaml => {
            let v = if q.name.is_some() && items.len() == 1 {
                items.pop().expect("one item")
            } else {
                json!({"apiVersion": "v1", "kind": "List", "items": items})
            };
            Ok(if fmt == Format::Json {
                serde_json::to_string_pretty(&v).map_err(|e| e.to_string())? + "\n"
            } else {
                serde_yaml::to_string(&v).map_err(|e| e.to_string())?
            })
        }
        _ => {
            if rows.is_empty() {
                return Ok(match &q.namespace {
                    Some(ns) if q.kind.namespaced() => {
                        format!("No resources found in {ns} namespace.\n")
                    }
                    _ => "No resources found\n".to_string(),
                });
            }
            let mut h: Vec<String> = header.iter().map(|s| s.to_string()).collect();
            if all_ns {
                h.insert(0, "NAMESPACE".into());
            }
            let mut all = vec![h];
            all.extend(rows);
            Ok(table(&all))
        }
    }
}

/// `kubectl get events`: LAST SEEN TYPE REASON OBJECT MESSAGE, oldest first.
fn events(records: &[Record], q: &Query, now: crate::sim::time::SimTime) -> String {
    let mut rows = vec![vec![
        "LAST SEEN".to_string(),
        "TYPE".into(),
        "REASON".into(),
        "OBJECT".into(),
        "MESSAGE".into(),
    ]];
    for r in records {
        if let Some(ns) = &q.namespace {
            let parts: Vec<&str> = r.object.split('/').collect();
            if parts.len() == 3 && parts[1] != ns {
                continue;
            }
        }
        let obj = {
            let parts: Vec<&str> = r.object.split('/').collect();
            format!(
                "{}/{}",
                parts[0].to_ascii_lowercase(),
                parts.last().unwrap_or(&"")
            )
        };
        rows.push(vec![
            age(now, crate::sim::time::SimTime::from_millis(r.time_ms)),
            format!("{:?}", r.event_type),
            r.reason.clone(),
            obj,
            r.message.clone(),
        ]);
    }
    table(&rows)
}
