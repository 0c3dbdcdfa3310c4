//! An object of any simulated kind, as it comes out of a manifest.

use super::meta::{Kind, ObjKey, ObjectMeta};
use super::node::Node;
use super::pod::Pod;
use super::service::{Namespace, Service};
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
            Kind::Node => 1,
            Kind::Service => 2,
            Kind::Pod => 3,
            Kind::ReplicaSet => 4,
            Kind::Deployment => 5,
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
        }
    }
}
