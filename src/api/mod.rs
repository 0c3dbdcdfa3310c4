//! The Kubernetes object model and the API server that stores it.
//!
//! Names and semantics follow upstream (`k8s.io/api`); each kind keeps only the
//! fields the simulation acts on, so that large clusters stay small in memory.

pub mod affinity;
pub mod any;
pub mod apps;
pub mod autoscaling;
pub mod config;
pub mod cron;
pub mod ingress;
pub mod job;
pub mod meta;
pub mod node;
pub mod pod;
pub mod policy;
pub mod quantity;
pub mod resources;
pub mod scheduling;
pub mod selector;
pub mod service;
pub mod storage;
pub mod store;
pub mod table;
pub mod taint;
pub mod totals;
pub mod workload;

pub use any::AnyObject;
pub use apps::{DaemonSet, ReplicationController, StatefulSet};
pub use autoscaling::HorizontalPodAutoscaler;
pub use config::{ConfigMap, Secret};
pub use ingress::{Ingress, IngressClass};
pub use job::{CronJob, Job};
pub use meta::{Kind, ObjKey, ObjectMeta, OwnerReference, Uid};
pub use node::Node;
pub use pod::{Pod, PodPhase, PodSpec, PodTemplate};
pub use policy::PodDisruptionBudget;
pub use scheduling::PriorityClass;
pub use service::{Namespace, Service};
pub use storage::{PersistentVolume, PersistentVolumeClaim, StorageClass};
pub use store::{ApiError, ApiServer, Change, Object, Op};
pub use workload::{Deployment, ReplicaSet};
