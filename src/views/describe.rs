//! `kubesim describe KIND/NAME`: the object's fields and its Events, as
//! `kubectl describe` lays them out.

use super::{age, at, table};
use crate::api::quantity::{format_bytes, format_cpu_millis};
use crate::api::resources::ResourceList;
use crate::api::{Deployment, Job, Kind, Node, ObjKey, ObjectMeta, Pod, ReplicaSet, Service};
use crate::Simulation;
use std::fmt::Write;

fn kv(s: &mut String, k: &str, v: impl std::fmt::Display) {
    let key = format!("{k}:");
    if key.len() >= 16 {
        // kubectl aligns its longer keys with at least one space, too
        let _ = writeln!(s, "{key}  {v}");
    } else {
        let _ = writeln!(s, "{key:<16}{v}");
    }
}

fn map_lines(m: &std::collections::BTreeMap<String, String>) -> String {
    if m.is_empty() {
        return "<none>".into();
    }
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n                ")
}

fn resources(r: &ResourceList) -> String {
    let mut parts = Vec::new();
    if let Some(c) = r.cpu_millis {
        parts.push(format!("cpu: {}", format_cpu_millis(c)));
    }
    if let Some(m) = r.memory {
        parts.push(format!("memory: {}", format_bytes(m)));
    }
    for (k, v) in &r.other {
        parts.push(format!("{k}: {v}"));
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(", ")
    }
}

fn header(s: &mut String, kind: Kind, m: &ObjectMeta) {
    kv(s, "Name", &m.name);
    if kind.namespaced() {
        kv(s, "Namespace", &m.namespace);
    }
    kv(s, "Labels", map_lines(&m.labels));
    kv(s, "Annotations", map_lines(&m.annotations));
    kv(s, "Created", at(m.creation_timestamp));
    if let Some(o) = m.controller_ref() {
        kv(s, "Controlled By", format!("{}/{}", o.kind, o.name));
    }
}

/// Describe `kind/name` (namespace `ns` for namespaced kinds) as it stands now.
pub fn describe(
    sim: &Simulation,
    kind: Kind,
    ns: &str,
    name: &str,
    now: crate::sim::time::SimTime,
) -> Result<String, String> {
    let api = sim.api();
    let key = if kind.namespaced() {
        ObjKey::new(ns, name)
    } else {
        ObjKey::cluster(name)
    };
    let missing = || {
        format!(
            "Error from server (NotFound): {kind} {key} not found at {}",
            at(now)
        )
    };
    let mut s = String::new();
    match kind {
        Kind::Pod => {
            let p = api.get::<Pod>(&key).ok_or_else(missing)?;
            header(&mut s, kind, &p.meta);
            kv(&mut s, "Priority", p.spec.priority);
            if let Some(c) = &p.spec.priority_class_name {
                kv(&mut s, "Priority Class", c);
            }
            kv(&mut s, "Node", p.node_name.as_deref().unwrap_or("<none>"));
            if let Some(t) = p.status.start_time {
                kv(&mut s, "Start Time", at(t));
            }
            kv(&mut s, "Status", p.display_status());
            if let Some(n) = &p.status.nominated_node {
                kv(&mut s, "Nominated Node", n);
            }
            let _ = writeln!(s, "Containers:");
            for c in &p.spec.containers {
                let _ = writeln!(s, "  {}:", c.name);
                let _ = writeln!(s, "    Image:      {}", c.image);
                let _ = writeln!(s, "    Requests:   {}", resources(&c.requests));
                let _ = writeln!(s, "    Limits:     {}", resources(&c.limits));
            }
            if !p.spec.volumes.is_empty() {
                use crate::api::config::VolumeSource;
                let _ = writeln!(s, "Volumes:");
                for v in &p.spec.volumes {
                    let what = match &v.source {
                        VolumeSource::Object {
                            kind,
                            name,
                            optional,
                            ..
                        } => format!("{} {name} (optional: {optional})", kind.as_str()),
                        VolumeSource::Claim { claim_name, .. } => {
                            format!("PersistentVolumeClaim {claim_name}")
                        }
                        VolumeSource::Other => "(not simulated)".into(),
                    };
                    let _ = writeln!(s, "  {}: {what}", v.name);
                }
            }
            let _ = writeln!(s, "Conditions:");
            let _ = writeln!(
                s,
                "  PodScheduled   {}",
                if p.status.scheduled { "True" } else { "False" }
            );
            let _ = writeln!(
                s,
                "  Ready          {}",
                if p.status.ready { "True" } else { "False" }
            );
            kv(&mut s, "Node-Selectors", map_lines(&p.spec.node_selector));
            let tols: Vec<String> = p
                .spec
                .tolerations
                .iter()
                .map(|t| {
                    let mut x = if t.key.is_empty() {
                        "op=Exists".to_string()
                    } else {
                        t.key.clone()
                    };
                    if !t.value.is_empty() {
                        x.push_str(&format!("={}", t.value));
                    }
                    if let Some(e) = t.effect {
                        x.push_str(&format!(":{}", e.as_str()));
                    }
                    if let Some(secs) = t.toleration_seconds {
                        x.push_str(&format!(" for {secs}s"));
                    }
                    x
                })
                .collect();
            kv(
                &mut s,
                "Tolerations",
                if tols.is_empty() {
                    "<none>".into()
                } else {
                    tols.join("\n                ")
                },
            );
        }
        Kind::Node => {
            let n = api.get::<Node>(&key).ok_or_else(missing)?;
            header(&mut s, kind, &n.meta);
            let taints: Vec<String> = n.taints.iter().map(|t| t.to_string()).collect();
            kv(
                &mut s,
                "Taints",
                if taints.is_empty() {
                    "<none>".into()
                } else {
                    taints.join("\n                ")
                },
            );
            kv(&mut s, "Unschedulable", n.unschedulable);
            kv(&mut s, "Ready", n.status.ready.as_str());
            let a = &n.status.allocatable;
            kv(
                &mut s,
                "Allocatable",
                format!(
                    "cpu: {}, memory: {}, pods: {}",
                    format_cpu_millis(a.cpu_millis),
                    format_bytes(a.memory),
                    a.pods
                ),
            );
            let pods: Vec<&Pod> = api
                .list::<Pod>()
                .filter(|p| p.node_name.as_deref() == Some(name) && !p.status.phase.is_terminal())
                .collect();
            let (cpu, mem): (i64, i64) = pods
                .iter()
                .map(|p| p.spec.requests())
                .fold((0, 0), |(c, m), r| (c + r.cpu_millis, m + r.memory));
            let pct = |x: i64, y: i64| if y > 0 { x * 100 / y } else { 0 };
            let _ = writeln!(s, "Allocated resources:");
            let _ = writeln!(
                s,
                "  cpu      {} ({}%)",
                format_cpu_millis(cpu),
                pct(cpu, a.cpu_millis)
            );
            let _ = writeln!(
                s,
                "  memory   {} ({}%)",
                format_bytes(mem),
                pct(mem, a.memory)
            );
            let _ = writeln!(s, "Non-terminated Pods: ({} in total)", pods.len());
            for p in pods {
                let _ = writeln!(
                    s,
                    "  {}/{}   {}",
                    p.meta.namespace,
                    p.meta.name,
                    age(now, p.meta.creation_timestamp)
                );
            }
        }
        Kind::Deployment => {
            let d = api.get::<Deployment>(&key).ok_or_else(missing)?;
            header(&mut s, kind, &d.meta);
            kv(&mut s, "Selector", d.selector.to_string_k8s());
            kv(
                &mut s,
                "Replicas",
                format!(
                    "{} desired | {} updated | {} total | {} available | {} unavailable",
                    d.replicas,
                    d.status.updated_replicas,
                    d.status.replicas,
                    d.status.available_replicas,
                    (d.status.replicas - d.status.available_replicas).max(0)
                ),
            );
            let strategy = match d.strategy {
                crate::api::workload::DeploymentStrategy::Recreate => "Recreate".to_string(),
                crate::api::workload::DeploymentStrategy::RollingUpdate { .. } => format!(
                    "RollingUpdate ({} max unavailable, {} max surge)",
                    d.max_unavailable(),
                    d.max_surge()
                ),
            };
            kv(&mut s, "StrategyType", strategy);
            kv(&mut s, "MinReadySeconds", d.min_ready.as_millis() / 1000);
            let sets: Vec<String> = api
                .dependents_of(d.meta.uid, Kind::ReplicaSet)
                .filter_map(|k| api.get::<ReplicaSet>(k))
                .map(|r| {
                    format!(
                        "{} ({}/{} replicas created)",
                        r.meta.name, r.status.replicas, r.replicas
                    )
                })
                .collect();
            kv(
                &mut s,
                "ReplicaSets",
                if sets.is_empty() {
                    "<none>".into()
                } else {
                    sets.join(", ")
                },
            );
        }
        Kind::ReplicaSet => {
            let r = api.get::<ReplicaSet>(&key).ok_or_else(missing)?;
            header(&mut s, kind, &r.meta);
            kv(&mut s, "Selector", r.selector.to_string_k8s());
            kv(
                &mut s,
                "Replicas",
                format!("{} current / {} desired", r.status.replicas, r.replicas),
            );
            kv(
                &mut s,
                "Pods Status",
                format!(
                    "{} Ready / {} Available",
                    r.status.ready_replicas, r.status.available_replicas
                ),
            );
        }
        Kind::Service => {
            let v = api.get::<Service>(&key).ok_or_else(missing)?;
            header(&mut s, kind, &v.meta);
            kv(&mut s, "Selector", map_lines(&v.selector));
            kv(&mut s, "Type", v.service_type.as_str());
            for p in &v.ports {
                kv(
                    &mut s,
                    "Port",
                    format!(
                        "{} {}/{} -> {}",
                        if p.name.is_empty() {
                            "<unset>"
                        } else {
                            &p.name
                        },
                        p.port,
                        p.protocol,
                        p.target_port
                    ),
                );
            }
        }
        Kind::StatefulSet => {
            use crate::api::apps::{PodManagementPolicy, StatefulSetUpdateStrategy};
            let st = api
                .get::<crate::api::StatefulSet>(&key)
                .ok_or_else(missing)?;
            header(&mut s, kind, &st.meta);
            kv(&mut s, "Selector", st.selector.to_string_k8s());
            kv(
                &mut s,
                "Replicas",
                format!("{} desired | {} total", st.replicas, st.status.replicas),
            );
            kv(
                &mut s,
                "Update Strategy",
                match st.update_strategy {
                    StatefulSetUpdateStrategy::RollingUpdate { partition } => {
                        format!("RollingUpdate\n  Partition:        {partition}")
                    }
                    StatefulSetUpdateStrategy::OnDelete => "OnDelete".into(),
                },
            );
            kv(
                &mut s,
                "Pod Management Policy",
                match st.pod_management_policy {
                    PodManagementPolicy::OrderedReady => "OrderedReady",
                    PodManagementPolicy::Parallel => "Parallel",
                },
            );
            kv(&mut s, "Current Revision", &st.status.current_revision);
            kv(&mut s, "Update Revision", &st.status.update_revision);
            kv(
                &mut s,
                "Pods Status",
                format!(
                    "{} Ready / {} Current / {} Updated",
                    st.status.ready_replicas,
                    st.status.current_replicas,
                    st.status.updated_replicas
                ),
            );
            let claims: Vec<String> = st
                .volume_claim_templates
                .iter()
                .map(|c| {
                    format!(
                        "{} ({}, StorageClass {})",
                        c.meta.name,
                        crate::api::quantity::format_bytes(c.request),
                        c.storage_class.as_deref().unwrap_or("<default>")
                    )
                })
                .collect();
            kv(
                &mut s,
                "Volume Claims",
                if claims.is_empty() {
                    "<none>".into()
                } else {
                    claims.join(", ")
                },
            );
        }
        Kind::DaemonSet => {
            let d = api.get::<crate::api::DaemonSet>(&key).ok_or_else(missing)?;
            header(&mut s, kind, &d.meta);
            kv(&mut s, "Selector", d.selector.to_string_k8s());
            kv(
                &mut s,
                "Desired Number of Nodes Scheduled",
                d.status.desired_number_scheduled,
            );
            kv(
                &mut s,
                "Current Number of Nodes Scheduled",
                d.status.current_number_scheduled,
            );
            kv(
                &mut s,
                "Number of Nodes Scheduled with Up-to-date Pods",
                d.status.updated_number_scheduled,
            );
            kv(
                &mut s,
                "Number of Nodes Scheduled with Available Pods",
                d.status.number_available,
            );
            kv(
                &mut s,
                "Number of Nodes Misscheduled",
                d.status.number_misscheduled,
            );
            kv(
                &mut s,
                "Pods Status",
                format!("{} Ready", d.status.number_ready),
            );
        }
        Kind::ReplicationController => {
            let r = api
                .get::<crate::api::ReplicationController>(&key)
                .ok_or_else(missing)?;
            header(&mut s, kind, &r.meta);
            kv(&mut s, "Selector", r.selector.to_string_k8s());
            kv(
                &mut s,
                "Replicas",
                format!("{} current / {} desired", r.status.replicas, r.replicas),
            );
            kv(
                &mut s,
                "Pods Status",
                format!(
                    "{} Ready / {} Available",
                    r.status.ready_replicas, r.status.available_replicas
                ),
            );
        }
        Kind::CronJob => {
            let c = api.get::<crate::api::CronJob>(&key).ok_or_else(missing)?;
            header(&mut s, kind, &c.meta);
            kv(&mut s, "Schedule", &c.schedule_text);
            kv(&mut s, "Concurrency Policy", c.concurrency_policy.as_str());
            kv(&mut s, "Suspend", if c.suspend { "True" } else { "False" });
            kv(
                &mut s,
                "Successful Job History Limit",
                c.successful_jobs_history_limit,
            );
            kv(
                &mut s,
                "Failed Job History Limit",
                c.failed_jobs_history_limit,
            );
            kv(
                &mut s,
                "Starting Deadline Seconds",
                c.starting_deadline
                    .map_or("<unset>".into(), |d| format!("{}s", d.as_millis() / 1000)),
            );
            kv(
                &mut s,
                "Last Schedule Time",
                c.status
                    .last_schedule_minute
                    .map_or("<unset>".into(), crate::api::cron::format_minute),
            );
            kv(
                &mut s,
                "Active Jobs",
                if c.status.active.is_empty() {
                    "<none>".into()
                } else {
                    c.status.active.join(", ")
                },
            );
        }
        Kind::Job => {
            let j = api.get::<Job>(&key).ok_or_else(missing)?;
            header(&mut s, kind, &j.meta);
            kv(&mut s, "Parallelism", j.parallelism);
            kv(
                &mut s,
                "Completions",
                j.completions.map_or("<unset>".into(), |c| c.to_string()),
            );
            kv(&mut s, "Backoff Limit", j.backoff_limit);
            if let Some(t) = j.status.start_time {
                kv(&mut s, "Start Time", at(t));
            }
            if let Some(t) = j.status.completion_time {
                kv(&mut s, "Completed At", at(t));
            }
            kv(
                &mut s,
                "Pods Statuses",
                format!(
                    "{} Active / {} Succeeded / {} Failed",
                    j.status.active, j.status.succeeded, j.status.failed
                ),
            );
        }
        Kind::Ingress => {
            let i = api.get::<crate::api::Ingress>(&key).ok_or_else(missing)?;
            header(&mut s, kind, &i.meta);
            kv(
                &mut s,
                "Ingress Class",
                i.class_name.clone().unwrap_or_else(|| "<none>".into()),
            );
            kv(
                &mut s,
                "Backend",
                i.default_backend
                    .as_ref()
                    .map_or("<default>".to_string(), |b| {
                        format!("{}:{}", b.service, b.port)
                    }),
            );
            for t in &i.tls {
                kv(
                    &mut s,
                    "TLS",
                    format!(
                        "{} terminates {}",
                        t.secret_name.as_deref().unwrap_or("<no secret>"),
                        t.hosts.join(",")
                    ),
                );
            }
            for r in &i.rules {
                for p in &r.paths {
                    kv(
                        &mut s,
                        "Rule",
                        format!(
                            "{} {} ({:?}) -> {}:{}",
                            r.host.as_deref().unwrap_or("*"),
                            p.path,
                            p.path_type,
                            p.backend.service,
                            p.backend.port
                        ),
                    );
                }
            }
        }
        Kind::IngressClass => {
            let c = api
                .get::<crate::api::IngressClass>(&key)
                .ok_or_else(missing)?;
            header(&mut s, kind, &c.meta);
            kv(&mut s, "Controller", c.controller.clone());
        }
        Kind::PodDisruptionBudget => {
            let b = api
                .get::<crate::api::PodDisruptionBudget>(&key)
                .ok_or_else(missing)?;
            header(&mut s, kind, &b.meta);
            if let Some(v) = b.min_available {
                kv(&mut s, "Min available", v.display());
            }
            if let Some(v) = b.max_unavailable {
                kv(&mut s, "Max unavailable", v.display());
            }
            kv(
                &mut s,
                "Allowed disruptions",
                b.status.disruptions_allowed.to_string(),
            );
            kv(&mut s, "Current", b.status.current_healthy.to_string());
            kv(&mut s, "Desired", b.status.desired_healthy.to_string());
            kv(&mut s, "Total", b.status.expected_pods.to_string());
        }
        Kind::VerticalPodAutoscaler => {
            let v = api
                .get::<crate::api::autoscaling::VerticalPodAutoscaler>(&key)
                .ok_or_else(missing)?;
            header(&mut s, kind, &v.meta);
            kv(
                &mut s,
                "Reference",
                format!("{}/{}", v.target_kind, v.target_name),
            );
            kv(&mut s, "Update mode", format!("{:?}", v.update_mode));
            for r in &v.recommendations {
                kv(
                    &mut s,
                    "Recommendation",
                    format!(
                        "{}: target cpu {}m memory {}; lower {}m/{}; upper {}m/{}",
                        r.container,
                        r.target.0,
                        r.target.1,
                        r.lower.0,
                        r.lower.1,
                        r.upper.0,
                        r.upper.1
                    ),
                );
            }
        }
        Kind::HorizontalPodAutoscaler => {
            let h = api
                .get::<crate::api::HorizontalPodAutoscaler>(&key)
                .ok_or_else(missing)?;
            header(&mut s, kind, &h.meta);
            kv(
                &mut s,
                "Reference",
                format!("{}/{}", h.target_kind, h.target_name),
            );
            kv(
                &mut s,
                "Metrics",
                crate::controllers::hpa::targets_column(h),
            );
            kv(&mut s, "Min replicas", h.min_replicas.to_string());
            kv(&mut s, "Max replicas", h.max_replicas.to_string());
            kv(
                &mut s,
                "Replicas",
                format!(
                    "{} current / {} desired",
                    h.status.current_replicas, h.status.desired_replicas
                ),
            );
        }
        Kind::Namespace | Kind::PriorityClass => {
            let m = api.meta_of(kind, &key).ok_or_else(missing)?;
            header(&mut s, kind, m);
        }
        Kind::ConfigMap
        | Kind::Secret
        | Kind::StorageClass
        | Kind::PersistentVolume
        | Kind::PersistentVolumeClaim => {
            let m = api.meta_of(kind, &key).ok_or_else(missing)?;
            header(&mut s, kind, m);
            for (k, v) in storage_fields(api, kind, &key) {
                kv(&mut s, k, v);
            }
        }
    }
    // Events about this object, as kubectl lists them.
    let object = crate::api::meta::object_ref(kind, &key);
    let mut rows = vec![vec![
        "Type".to_string(),
        "Reason".into(),
        "Age".into(),
        "From".into(),
        "Message".into(),
    ]];
    rows.push(vec![
        "----".into(),
        "------".into(),
        "----".into(),
        "----".into(),
        "-------".into(),
    ]);
    for r in sim
        .recorder()
        .records()
        .iter()
        .filter(|r| r.object == object)
    {
        rows.push(vec![
            format!("{:?}", r.event_type),
            r.reason.clone(),
            age(now, crate::sim::time::SimTime::from_millis(r.time_ms)),
            r.component.clone(),
            r.message.clone(),
        ]);
    }
    if rows.len() == 2 {
        let _ = writeln!(s, "Events:          <none>");
    } else {
        let _ = writeln!(s, "Events:");
        for line in table(&rows).lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    Ok(s)
}

/// The `describe` lines of the ConfigMap, Secret and storage kinds.
fn storage_fields(
    api: &crate::api::ApiServer,
    kind: Kind,
    key: &ObjKey,
) -> Vec<(&'static str, String)> {
    use crate::api::storage::access_modes_short;
    let keys = |k: Vec<&String>| {
        if k.is_empty() {
            "<none>".to_string()
        } else {
            k.into_iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    match kind {
        Kind::ConfigMap => api
            .get::<crate::api::ConfigMap>(key)
            .map(|c| {
                vec![
                    (
                        "Data",
                        keys(c.data.keys().chain(c.binary_data.keys()).collect()),
                    ),
                    ("Immutable", c.immutable.to_string()),
                ]
            })
            .unwrap_or_default(),
        Kind::Secret => api
            .get::<crate::api::Secret>(key)
            .map(|c| {
                vec![
                    ("Type", c.secret_type.clone()),
                    ("Data", keys(c.data.keys().collect())),
                    ("Immutable", c.immutable.to_string()),
                ]
            })
            .unwrap_or_default(),
        Kind::StorageClass => api
            .get::<crate::api::StorageClass>(key)
            .map(|c| {
                vec![
                    (
                        "IsDefaultClass",
                        if c.is_default() { "Yes" } else { "No" }.into(),
                    ),
                    ("Provisioner", c.provisioner.clone()),
                    ("ReclaimPolicy", c.reclaim_policy.as_str().into()),
                    ("VolumeBindingMode", c.binding_mode.as_str().into()),
                    (
                        "AllowedTopologies",
                        if c.allowed_zones.is_empty() {
                            "<none>".into()
                        } else {
                            format!(
                                "topology.kubernetes.io/zone in [{}]",
                                c.allowed_zones.join(", ")
                            )
                        },
                    ),
                ]
            })
            .unwrap_or_default(),
        Kind::PersistentVolume => api
            .get::<crate::api::PersistentVolume>(key)
            .map(|v| {
                vec![
                    ("StorageClass", v.storage_class.clone()),
                    ("Status", v.phase.as_str().into()),
                    (
                        "Claim",
                        v.claim_ref
                            .as_ref()
                            .map_or(String::new(), |c| format!("{}/{}", c.namespace, c.name)),
                    ),
                    ("Reclaim Policy", v.reclaim_policy.as_str().into()),
                    ("Access Modes", access_modes_short(&v.access_modes)),
                    ("Capacity", format_bytes(v.capacity)),
                    (
                        "Node Affinity",
                        if v.node_affinity.is_empty() {
                            "<none>".into()
                        } else {
                            format!("{} term(s)", v.node_affinity.len())
                        },
                    ),
                    (
                        "Attached To",
                        if v.attached.is_empty() {
                            "<none>".into()
                        } else {
                            v.attached.join(", ")
                        },
                    ),
                ]
            })
            .unwrap_or_default(),
        Kind::PersistentVolumeClaim => api
            .get::<crate::api::PersistentVolumeClaim>(key)
            .map(|c| {
                vec![
                    ("StorageClass", c.class().to_string()),
                    ("Status", c.phase.as_str().into()),
                    ("Volume", c.volume_name.clone().unwrap_or_default()),
                    ("Capacity", c.capacity.map_or(String::new(), format_bytes)),
                    ("Access Modes", access_modes_short(&c.access_modes)),
                    ("Used By", {
                        let users: Vec<String> = api
                            .list::<Pod>()
                            .filter(|p| {
                                p.meta.namespace == key.namespace
                                    && p.spec.claims().any(|n| n == key.name)
                            })
                            .map(|p| p.meta.name.clone())
                            .collect();
                        if users.is_empty() {
                            "<none>".into()
                        } else {
                            users.join(", ")
                        }
                    }),
                ]
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
