//! NodePorts: a pod's container host ports must be free on the node.

use crate::api::pod::ContainerPort;
use crate::api::PodSpec;
use crate::scheduler::framework::{CycleState, FilterPlugin, NodeInfo, PodInfo, Snapshot};

/// Upstream's `ErrReason`.
pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";
const STATE_KEY: &str = "PreFilterNodePorts";

/// A host port as `HostPortInfo` keys it: (host IP, protocol, port), sanitized.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPort {
    ip: String,
    protocol: String,
    port: i32,
}

fn sanitize_ip(ip: &str) -> &str {
    if ip.is_empty() {
        "0.0.0.0"
    } else {
        ip
    }
}

fn sanitize_protocol(p: &str) -> &str {
    if p.is_empty() {
        "TCP"
    } else {
        p
    }
}

fn host_ports(spec: &PodSpec) -> impl Iterator<Item = (&ContainerPort, i32)> {
    spec.containers
        .iter()
        .flat_map(|c| c.ports.iter())
        .filter_map(|p| p.host_port.filter(|&h| h > 0).map(|h| (p, h)))
}

/// `HostPortInfo.CheckConflict`: same protocol and port, and the IPs are equal or
/// either is the wildcard 0.0.0.0.
fn conflicts(want: &HostPort, used: &ContainerPort, used_port: i32) -> bool {
    if want.port != used_port || want.protocol != sanitize_protocol(&used.protocol) {
        return false;
    }
    let ip = sanitize_ip(&used.host_ip);
    want.ip == ip || want.ip == "0.0.0.0" || ip == "0.0.0.0"
}

/// NodePorts filter. PreFilter collects the pod's host ports (`hostPort > 0`) into
/// the cycle state; Filter rejects a node where a pod already uses one of them.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodePorts;

impl NodePorts {
    pub fn new() -> Self {
        NodePorts
    }
}

fn wanted(spec: &PodSpec) -> Vec<HostPort> {
    host_ports(spec)
        .map(|(p, h)| HostPort {
            ip: sanitize_ip(&p.host_ip).to_string(),
            protocol: sanitize_protocol(&p.protocol).to_string(),
            port: h,
        })
        .collect()
}

impl FilterPlugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }
    fn node_local(&self) -> bool {
        true
    }
    fn pre_filter(
        &self,
        pod: &PodInfo,
        _snap: &Snapshot,
        state: &mut CycleState,
    ) -> Result<(), String> {
        state.insert(STATE_KEY, wanted(pod.spec));
        Ok(())
    }
    fn skip_filter(&self, pod: &PodInfo, state: &CycleState) -> bool {
        // no host ports asked for: nothing can conflict
        match state.get::<Vec<HostPort>>(STATE_KEY) {
            Some(w) => w.is_empty(),
            None => host_ports(pod.spec).next().is_none(),
        }
    }
    fn filter(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        state: &CycleState,
    ) -> Result<(), Vec<String>> {
        let computed;
        let want: &Vec<HostPort> = match state.get(STATE_KEY) {
            Some(w) => w,
            None => {
                computed = wanted(pod.spec);
                &computed
            }
        };
        if want.is_empty() {
            return Ok(());
        }
        for p in &node.pods {
            for (used, port) in host_ports(&p.spec) {
                if want.iter().any(|w| conflicts(w, used, port)) {
                    return Err(vec![ERR_REASON.into()]);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::plugins::testutil::*;

    fn with_ports(name: &str, ports: &[(&str, &str, i32)]) -> crate::api::Pod {
        with_spec(pod(name, &[]), |s| {
            s.containers[0].ports = ports
                .iter()
                .map(|&(proto, ip, hp)| ContainerPort {
                    name: String::new(),
                    container_port: 8080,
                    host_port: Some(hp),
                    protocol: proto.into(),
                    host_ip: ip.into(),
                })
                .collect();
        })
    }

    fn fits(incoming: &[(&str, &str, i32)], existing: &[(&str, &str, i32)]) -> bool {
        let mut n = node("n", &[]);
        place(&mut n, &with_ports("old", existing));
        let c = Cluster::new(vec![n]);
        c.filter(&NodePorts, &with_ports("new", incoming))[0].is_ok()
    }

    /// node_ports_test.go TestNodePorts cases.
    #[test]
    fn upstream_cases() {
        assert!(fits(&[], &[]), "nothing running");
        assert!(
            fits(&[("UDP", "127.0.0.1", 8080)], &[("UDP", "127.0.0.1", 9090)]),
            "other port"
        );
        assert!(
            !fits(&[("UDP", "127.0.0.1", 8080)], &[("UDP", "127.0.0.1", 8080)]),
            "same udp port"
        );
        assert!(
            !fits(&[("TCP", "127.0.0.1", 8080)], &[("TCP", "127.0.0.1", 8080)]),
            "same tcp port"
        );
        assert!(
            fits(&[("TCP", "127.0.0.1", 8080)], &[("TCP", "127.0.0.2", 8080)]),
            "different host ip"
        );
        assert!(
            fits(&[("UDP", "127.0.0.1", 8080)], &[("TCP", "127.0.0.1", 8080)]),
            "different protocol"
        );
        assert!(
            !fits(
                &[("TCP", "127.0.0.1", 8000), ("UDP", "127.0.0.1", 8080)],
                &[("UDP", "127.0.0.1", 8080)]
            ),
            "second udp port conflict"
        );
        assert!(
            !fits(
                &[("TCP", "127.0.0.1", 8001), ("UDP", "127.0.0.1", 8080)],
                &[("TCP", "127.0.0.1", 8001), ("UDP", "127.0.0.1", 8081)]
            ),
            "first tcp port conflict"
        );
        assert!(
            !fits(&[("TCP", "0.0.0.0", 8001)], &[("TCP", "127.0.0.1", 8001)]),
            "first tcp port conflict due to 0.0.0.0 hostIP"
        );
        assert!(
            !fits(
                &[("TCP", "10.0.10.10", 8001), ("TCP", "0.0.0.0", 8001)],
                &[("TCP", "127.0.0.1", 8001)]
            ),
            "TCP hostPort conflict due to 0.0.0.0 hostIP"
        );
        assert!(
            !fits(&[("TCP", "127.0.0.1", 8001)], &[("TCP", "0.0.0.0", 8001)]),
            "second tcp port conflict to 0.0.0.0 hostIP"
        );
        assert!(
            fits(&[("UDP", "127.0.0.1", 8001)], &[("TCP", "0.0.0.0", 8001)]),
            "second different protocol"
        );
        assert!(
            !fits(
                &[("UDP", "127.0.0.1", 8001)],
                &[("TCP", "0.0.0.0", 8001), ("UDP", "0.0.0.0", 8001)]
            ),
            "UDP hostPort conflict due to 0.0.0.0 hostIP"
        );
        // empty host IP is the wildcard, empty protocol is TCP
        assert!(!fits(&[("", "", 80)], &[("TCP", "10.0.0.1", 80)]));
    }

    #[test]
    fn reason_text() {
        let mut n = node("n", &[]);
        place(&mut n, &with_ports("old", &[("TCP", "", 80)]));
        let c = Cluster::new(vec![n]);
        assert_eq!(
            c.filter(&NodePorts, &with_ports("new", &[("TCP", "", 80)]))[0],
            Err(ERR_REASON.to_string())
        );
    }
}
