//! Services, as `v1.Service`: their ClusterIP and NodePorts are allocated at
//! admission (as the API server does), and their endpoints are kept in the
//! status by the endpoints controller (kubesim's stand-in for EndpointSlices).

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
    /// `spec.publishNotReadyAddresses`.
    pub publish_not_ready: bool,
    /// `spec.externalTrafficPolicy: Local`.
    pub traffic_local: bool,
    /// `spec.sessionAffinity: ClientIP`.
    pub session_affinity: bool,
    pub status: ServiceStatus,
}

/// One endpoint (EndpointSlice `endpoints[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub pod: super::ObjKey,
    pub node: String,
    /// `conditions.ready`: publishNotReadyAddresses, or the pod Ready and not terminating.
    pub ready: bool,
    /// `conditions.terminating`.
    pub terminating: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceStatus {
    /// The endpoints, by pod key (the EndpointSlice controller's view).
    pub endpoints: Vec<Endpoint>,
    /// `status.loadBalancer.ingress[0].ip`, once the cloud provisioned it.
    pub load_balancer_ip: Option<String>,
}

impl Service {
    pub fn is_headless(&self) -> bool {
        self.cluster_ip.as_deref() == Some("None")
    }
    /// `NAME.NAMESPACE.svc.cluster.local`.
    pub fn dns_name(&self) -> String {
        format!(
            "{}.{}.svc.cluster.local",
            self.meta.name, self.meta.namespace
        )
    }
}

/// The first service IP: `--service-cluster-ip-range` 10.96.0.0/12 (its `.1`
/// goes to the `kubernetes` Service upstream, so allocation starts at `.10`).
pub const SERVICE_CIDR_BASE: u32 = (10 << 24) | (96 << 16);
/// Addresses in 10.96.0.0/12.
pub const SERVICE_CIDR_SIZE: u32 = 1 << 20;

/// `--service-cluster-ip-range`: the network Services' ClusterIPs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCidr {
    pub base: u32,
    pub size: u32,
}

impl Default for ServiceCidr {
    fn default() -> Self {
        ServiceCidr {
            base: SERVICE_CIDR_BASE,
            size: SERVICE_CIDR_SIZE,
        }
    }
}

impl ServiceCidr {
    /// Parse `A.B.C.D/N`; the range must hold at least 16 addresses (/28), and
    /// at most /12 as the API server allows.
    pub fn parse(s: &str) -> Result<ServiceCidr, String> {
        let bad =
            || format!("invalid service CIDR {s:?}: expected an IPv4 network such as 10.96.0.0/12");
        let (ip, bits) = s.split_once('/').ok_or_else(bad)?;
        let ip = parse_ip(ip).ok_or_else(bad)?;
        let bits: u32 = bits.parse().map_err(|_| bad())?;
        if !(12..=28).contains(&bits) {
            return Err(format!(
                "service CIDR {s:?} has a /{bits} prefix: expected /12 to /28 (upstream allows at most 20 host bits)"
            ));
        }
        let size = 1u32 << (32 - bits);
        if ip % size != 0 {
            return Err(format!(
                "service CIDR {s:?}: the address has host bits set; the network is {}/{bits}",
                format_ip(ip - ip % size)
            ));
        }
        Ok(ServiceCidr { base: ip, size })
    }
}

impl std::fmt::Display for ServiceCidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}",
            format_ip(self.base),
            32 - self.size.trailing_zeros()
        )
    }
}
/// `--service-node-port-range`.
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<i32> = 30000..=32767;

pub fn format_ip(ip: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        ip >> 24,
        (ip >> 16) & 255,
        (ip >> 8) & 255,
        ip & 255
    )
}

pub fn parse_ip(s: &str) -> Option<u32> {
    let parts: Vec<u32> = s
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [a, b, c, d] if parts.iter().all(|x| *x < 256) => {
            Some((a << 24) | (b << 16) | (c << 8) | d)
        }
        _ => None,
    }
}

/// A namespace, as `v1.Namespace`.
#[derive(Debug, Clone, PartialEq)]
pub struct Namespace {
    pub meta: ObjectMeta,
}
