//! Services, as `v1.Service`. Routing arrives with the data-plane work; for now a
//! Service is stored, validated and listed.

use super::meta::ObjectMeta;
use super::selector::Labels;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
    ExternalName,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
            ServiceType::ExternalName => "ExternalName",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub name: String,
    pub protocol: String,
    pub port: i32,
    /// A number or a named container port.
    pub target_port: String,
    pub node_port: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub meta: ObjectMeta,
    pub service_type: ServiceType,
    pub selector: Labels,
    pub ports: Vec<ServicePort>,
    /// `None` = to be allocated; `Some("None")` = headless.
    pub cluster_ip: Option<String>,
}

/// A namespace, as `v1.Namespace`.
#[derive(Debug, Clone, PartialEq)]
pub struct Namespace {
    pub meta: ObjectMeta,
}
