//! An object of any simulated kind, as it comes out of a manifest.

use super::apps::{DaemonSet, ReplicationController, StatefulSet};
use super::autoscaling::{HorizontalPodAutoscaler, VerticalPodAutoscaler};
use super::config::{validate_configmap_update, validate_secret_update, ConfigMap, Secret};
use super::ingress::{Ingress, IngressClass};
use super::job::{CronJob, Job};
use super::meta::{Kind, ObjKey, ObjectMeta};
use super::node::Node;
use super::pod::Pod;
use super::policy::PodDisruptionBudget;
use super::scheduling::PriorityClass;
use super::service::{Namespace, Service};
use super::storage::{PersistentVolume, PersistentVolumeClaim, StorageClass};
use super::store::{ApiError, ApiServer};
use super::workload::{Deployment, ReplicaSet};

#[derive(Debug, Clone, PartialEq)]
pub enum AnyObject {
    Namespace(Namespace),
    Node(Node),
    Pod(Pod),
    ReplicaSet(ReplicaSet),
    Deployment(Deployment),
    Service(Service),
    PriorityClass(PriorityClass),
    Job(Job),
    ConfigMap(ConfigMap),
    Secret(Secret),
    StorageClass(StorageClass),
    PersistentVolume(PersistentVolume),
    PersistentVolumeClaim(PersistentVolumeClaim),
    Ingress(Ingress),
    IngressClass(IngressClass),
    PodDisruptionBudget(PodDisruptionBudget),
    HorizontalPodAutoscaler(HorizontalPodAutoscaler),
    VerticalPodAutoscaler(VerticalPodAutoscaler),
    StatefulSet(StatefulSet),
    DaemonSet(DaemonSet),
    ReplicationController(ReplicationController),
    CronJob(CronJob),
}

impl AnyObject {
    pub fn kind(&self) -> Kind {
        match self {
            AnyObject::Namespace(_) => Kind::Namespace,
            AnyObject::Node(_) => Kind::Node,
            AnyObject::Pod(_) => Kind::Pod,
            AnyObject::ReplicaSet(_) => Kind::ReplicaSet,
            AnyObject::Deployment(_) => Kind::Deployment,
            AnyObject::Service(_) => Kind::Service,
            AnyObject::PriorityClass(_) => Kind::PriorityClass,
            AnyObject::Job(_) => Kind::Job,
            AnyObject::ConfigMap(_) => Kind::ConfigMap,
            AnyObject::Secret(_) => Kind::Secret,
            AnyObject::StorageClass(_) => Kind::StorageClass,
            AnyObject::PersistentVolume(_) => Kind::PersistentVolume,
            AnyObject::PersistentVolumeClaim(_) => Kind::PersistentVolumeClaim,
            AnyObject::Ingress(_) => Kind::Ingress,
            AnyObject::IngressClass(_) => Kind::IngressClass,
            AnyObject::PodDisruptionBudget(_) => Kind::PodDisruptionBudget,
            AnyObject::HorizontalPodAutoscaler(_) => Kind::HorizontalPodAutoscaler,
            AnyObject::VerticalPodAutoscaler(_) => Kind::VerticalPodAutoscaler,
            AnyObject::StatefulSet(_) => Kind::StatefulSet,
            AnyObject::DaemonSet(_) => Kind::DaemonSet,
            AnyObject::ReplicationController(_) => Kind::ReplicationController,
            AnyObject::CronJob(_) => Kind::CronJob,
        }
    }
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            AnyObject::Namespace(o) => &o.meta,
            AnyObject::Node(o) => &o.meta,
            AnyObject::Pod(o) => &o.meta,
            AnyObject::ReplicaSet(o) => &o.meta,
            AnyObject::Deployment(o) => &o.meta,
            AnyObject::Service(o) => &o.meta,
            AnyObject::PriorityClass(o) => &o.meta,
            AnyObject::Job(o) => &o.meta,
            AnyObject::ConfigMap(o) => &o.meta,
            AnyObject::Secret(o) => &o.meta,
            AnyObject::StorageClass(o) => &o.meta,
            AnyObject::PersistentVolume(o) => &o.meta,
            AnyObject::PersistentVolumeClaim(o) => &o.meta,
            AnyObject::Ingress(o) => &o.meta,
            AnyObject::IngressClass(o) => &o.meta,
            AnyObject::PodDisruptionBudget(o) => &o.meta,
            AnyObject::HorizontalPodAutoscaler(o) => &o.meta,
            AnyObject::VerticalPodAutoscaler(o) => &o.meta,
            AnyObject::StatefulSet(o) => &o.meta,
            AnyObject::DaemonSet(o) => &o.meta,
            AnyObject::ReplicationController(o) => &o.meta,
            AnyObject::CronJob(o) => &o.meta,
        }
    }
    pub fn key(&self) -> ObjKey {
        self.meta().key()
    }

    /// Apply order, as a tool applying a folder would need it: namespaces first,
    /// nodes, then Services before the workloads that back them.
    pub fn apply_rank(&self) -> u8 {
        match self.kind() {
            Kind::Namespace => 0,
            Kind::PriorityClass => 1,
            Kind::Node => 2,
            Kind::Service => 3,
            Kind::Pod => 4,
            Kind::ReplicaSet => 5,
            Kind::Deployment => 6,
            Kind::Job => 7,
            Kind::ReplicationController => 5,
            Kind::StatefulSet | Kind::DaemonSet => 6,
            Kind::CronJob => 7,
            // what pods refer to goes in before them
            Kind::ConfigMap
            | Kind::Secret
            | Kind::StorageClass
            | Kind::PersistentVolume
            | Kind::PersistentVolumeClaim => 3,
            // after the Services they route to
            Kind::IngressClass => 3,
            Kind::Ingress => 4,
            // after the workloads they refer to
            Kind::PodDisruptionBudget
            | Kind::HorizontalPodAutoscaler
            | Kind::VerticalPodAutoscaler => 8,
        }
    }

    /// `kubectl apply`: create, or replace the spec of an existing object
    /// (keeping its identity and status). Returns "created", "configured" or "unchanged".
    pub fn apply(self, api: &mut ApiServer) -> Result<&'static str, ApiError> {
        fn upsert<T: super::store::Object + PartialEq>(
            api: &mut ApiServer,
            obj: T,
            same: impl Fn(&T, &T) -> bool,
            merge: impl FnOnce(&mut T, T),
        ) -> Result<&'static str, ApiError> {
            let key = obj.meta().key();
            match api.get::<T>(&key) {
                None => api.create(obj).map(|_| "created"),
                Some(cur) if same(cur, &obj) => Ok("unchanged"),
                Some(_) => api
                    .update::<T>(&key, |cur| merge(cur, obj))
                    .map(|_| "configured"),
            }
        }
        fn meta_merge(cur: &mut ObjectMeta, new: ObjectMeta) {
            cur.labels = new.labels;
            cur.annotations = new.annotations;
        }
        match self {
            AnyObject::Namespace(o) => upsert(
                api,
                o,
                |a, b| a.meta.labels == b.meta.labels,
                |c, n| meta_merge(&mut c.meta, n.meta),
            ),
            AnyObject::Node(o) => upsert(
                api,
                o,
                |a, b| {
                    a.meta.labels == b.meta.labels
                        && a.taints == b.taints
                        && a.unschedulable == b.unschedulable
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.taints = n.taints;
                    c.unschedulable = n.unschedulable;
                },
            ),
            AnyObject::Pod(o) => upsert(
                api,
                o,
                |a, b| a.spec == b.spec && a.meta.labels == b.meta.labels,
                |c, n| meta_merge(&mut c.meta, n.meta),
            ),
            AnyObject::ReplicaSet(o) => upsert(
                api,
                o,
                |a, b| {
                    a.replicas == b.replicas
                        && a.template == b.template
                        && a.meta.labels == b.meta.labels
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.replicas = n.replicas;
                    c.template = n.template;
                    c.min_ready = n.min_ready;
                },
            ),
            AnyObject::Deployment(o) => upsert(
                api,
                o,
                |a, b| {
                    a.replicas == b.replicas
                        && a.template == b.template
                        && a.strategy == b.strategy
                        && a.meta.labels == b.meta.labels
                        && a.paused == b.paused
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.replicas = n.replicas;
                    c.template = n.template;
                    c.strategy = n.strategy;
                    c.min_ready = n.min_ready;
                    c.revision_history_limit = n.revision_history_limit;
                    c.progress_deadline = n.progress_deadline;
                    c.paused = n.paused;
                },
            ),
            AnyObject::Service(o) => upsert(
                api,
                o,
                |a, b| {
                    a.selector == b.selector
                        && a.ports == b.ports
                        && a.service_type == b.service_type
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.selector = n.selector;
                    c.ports = n.ports;
                    c.service_type = n.service_type;
                },
            ),
            AnyObject::PriorityClass(o) => upsert(
                api,
                o,
                |a, b| {
                    a.value == b.value
                        && a.global_default == b.global_default
                        && a.never_preempt == b.never_preempt
                },
                |c, n| {
                    // the value of a PriorityClass is immutable upstream; the rest may change
                    meta_merge(&mut c.meta, n.meta);
                    c.global_default = n.global_default;
                },
            ),
            AnyObject::Job(o) => upsert(
                api,
                o,
                |a, b| {
                    a.parallelism == b.parallelism
                        && a.template == b.template
                        && a.suspend == b.suspend
                },
                |c, n| {
                    // a Job's template is immutable upstream; parallelism and suspend may change
                    meta_merge(&mut c.meta, n.meta);
                    c.parallelism = n.parallelism;
                    c.suspend = n.suspend;
                },
            ),
            AnyObject::ConfigMap(o) => {
                if let Some(cur) = api.get::<ConfigMap>(&o.meta.key()) {
                    validate_configmap_update(cur, &o)?;
                }
                upsert(
                    api,
                    o,
                    |a, b| {
                        a.data == b.data
                            && a.binary_data == b.binary_data
                            && a.immutable == b.immutable
                            && a.meta.labels == b.meta.labels
                    },
                    |c, n| {
                        meta_merge(&mut c.meta, n.meta);
                        c.data = n.data;
                        c.binary_data = n.binary_data;
                        c.immutable = n.immutable;
                    },
                )
            }
            AnyObject::Secret(o) => {
                if let Some(cur) = api.get::<Secret>(&o.meta.key()) {
                    validate_secret_update(cur, &o)?;
                }
                upsert(
                    api,
                    o,
                    |a, b| {
                        a.data == b.data
                            && a.immutable == b.immutable
                            && a.meta.labels == b.meta.labels
                    },
                    |c, n| {
                        meta_merge(&mut c.meta, n.meta);
                        c.data = n.data;
                        c.immutable = n.immutable;
                    },
                )
            }
            // the parameters of a StorageClass are immutable upstream
            AnyObject::StorageClass(o) => upsert(
                api,
                o,
                |a, b| a.meta.labels == b.meta.labels && a.meta.annotations == b.meta.annotations,
                |c, n| meta_merge(&mut c.meta, n.meta),
            ),
            // a volume's spec is kept as created (the PV controller owns claimRef
            // and phase); labels and the reclaim policy may change
            AnyObject::PersistentVolume(o) => upsert(
                api,
                o,
                |a, b| a.meta.labels == b.meta.labels && a.reclaim_policy == b.reclaim_policy,
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.reclaim_policy = n.reclaim_policy;
                },
            ),
            // a claim's spec is immutable after creation except its size
            AnyObject::PersistentVolumeClaim(o) => upsert(
                api,
                o,
                |a, b| a.meta.labels == b.meta.labels,
                |c, n| {
                    let selected = c.meta.annotations.clone();
                    meta_merge(&mut c.meta, n.meta);
                    // keep what the controllers annotated
                    for (k, v) in selected {
                        c.meta.annotations.entry(k).or_insert(v);
                    }
                },
            ),
            AnyObject::Ingress(o) => upsert(
                api,
                o,
                |a, b| {
                    a.meta.labels == b.meta.labels
                        && a.class_name == b.class_name
                        && a.default_backend == b.default_backend
                        && a.rules == b.rules
                        && a.tls == b.tls
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.class_name = n.class_name;
                    c.default_backend = n.default_backend;
                    c.rules = n.rules;
                    c.tls = n.tls;
                },
            ),
            AnyObject::IngressClass(o) => upsert(
                api,
                o,
                |a, b| a.meta.labels == b.meta.labels && a.controller == b.controller,
                |c, n| meta_merge(&mut c.meta, n.meta),
            ),
            // a changed spec is a new generation: the status waits for the controller
            AnyObject::PodDisruptionBudget(o) => upsert(
                api,
                o,
                |a, b| {
                    a.meta.labels == b.meta.labels
                        && a.selector == b.selector
                        && a.min_available == b.min_available
                        && a.max_unavailable == b.max_unavailable
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.selector = n.selector;
                    c.min_available = n.min_available;
                    c.max_unavailable = n.max_unavailable;
                    c.status.observed = false;
                },
            ),
            AnyObject::HorizontalPodAutoscaler(o) => upsert(
                api,
                o,
                |a, b| {
                    a.meta.labels == b.meta.labels
                        && a.target_kind == b.target_kind
                        && a.target_name == b.target_name
                        && a.min_replicas == b.min_replicas
                        && a.max_replicas == b.max_replicas
                        && a.metrics == b.metrics
                        && a.scale_up == b.scale_up
                        && a.scale_down == b.scale_down
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.target_kind = n.target_kind;
                    c.target_name = n.target_name;
                    c.min_replicas = n.min_replicas;
                    c.max_replicas = n.max_replicas;
                    c.metrics = n.metrics;
                    c.scale_up = n.scale_up;
                    c.scale_down = n.scale_down;
                },
            ),
            AnyObject::VerticalPodAutoscaler(o) => upsert(
                api,
                o,
                |a, b| {
                    a.meta.labels == b.meta.labels
                        && a.target_kind == b.target_kind
                        && a.target_name == b.target_name
                        && a.update_mode == b.update_mode
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.target_kind = n.target_kind;
                    c.target_name = n.target_name;
                    c.update_mode = n.update_mode;
                },
            ),
            AnyObject::StatefulSet(o) => upsert(
                api,
                o,
                |a, b| {
                    a.replicas == b.replicas
                        && a.template == b.template
                        && a.update_strategy == b.update_strategy
                        && a.meta.labels == b.meta.labels
                },
                |c, n| {
                    // selector, serviceName, volumeClaimTemplates and
                    // podManagementPolicy are immutable upstream
                    meta_merge(&mut c.meta, n.meta);
                    c.replicas = n.replicas;
                    c.template = n.template;
                    c.update_strategy = n.update_strategy;
                    c.min_ready = n.min_ready;
                    c.revision_history_limit = n.revision_history_limit;
                },
            ),
            AnyObject::DaemonSet(o) => upsert(
                api,
                o,
                |a, b| {
                    a.template == b.template
                        && a.update_strategy == b.update_strategy
                        && a.meta.labels == b.meta.labels
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.template = n.template;
                    c.update_strategy = n.update_strategy;
                    c.min_ready = n.min_ready;
                    c.revision_history_limit = n.revision_history_limit;
                },
            ),
            AnyObject::ReplicationController(o) => upsert(
                api,
                o,
                |a, b| {
                    a.replicas == b.replicas
                        && a.template == b.template
                        && a.meta.labels == b.meta.labels
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.replicas = n.replicas;
                    c.template = n.template;
                    c.min_ready = n.min_ready;
                },
            ),
            AnyObject::CronJob(o) => upsert(
                api,
                o,
                |a, b| {
                    a.schedule_text == b.schedule_text
                        && a.concurrency_policy == b.concurrency_policy
                        && a.suspend == b.suspend
                        && a.starting_deadline == b.starting_deadline
                        && a.successful_jobs_history_limit == b.successful_jobs_history_limit
                        && a.failed_jobs_history_limit == b.failed_jobs_history_limit
                        && a.job_template == b.job_template
                        && a.meta.labels == b.meta.labels
                },
                |c, n| {
                    meta_merge(&mut c.meta, n.meta);
                    c.schedule_text = n.schedule_text;
                    c.schedule = n.schedule;
                    c.concurrency_policy = n.concurrency_policy;
                    c.suspend = n.suspend;
                    c.starting_deadline = n.starting_deadline;
                    c.successful_jobs_history_limit = n.successful_jobs_history_limit;
                    c.failed_jobs_history_limit = n.failed_jobs_history_limit;
                    c.job_template = n.job_template;
                },
            ),
        }
    }
}
