//! Random faults (the scenario's `chaos:` section): each entry strikes at
//! exponentially distributed intervals (mean `mtbf`) and each strike heals after
//! an exponentially distributed time (mean `mttr`), drawing from its own stream
//! `chaos/<index>` — so adding a chaos entry never changes another's draws, nor
//! the workload's.

use super::faults::{Fault, FaultStart, FaultState, Plane};
use crate::api::node::ConditionStatus;
use crate::api::pod::PodPhase;
use crate::api::selector::{matches_map, Labels};
use crate::api::{ApiServer, Node, Pod};
use crate::node::kubelet::Registry;
use crate::sim::rng::SimRng;
use crate::sim::time::{SimDuration, SimTime};
use crate::workload::detmath;
use crate::workload::dist::unit_open0;
use rand::RngExt;

pub const COMPONENT: &str = "chaos";

/// The fault kinds the chaos section can draw.
pub const KINDS: &[&str] = &[
    "node-crash",
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
];

/// One `chaos:` entry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ChaosSpec {
    /// One of [`KINDS`].
    pub fault: &'static str,
    /// Mean time between strikes.
    pub mtbf: SimDuration,
    /// Mean time to repair (not for `pod-crash` / `pod-oom`, which are instant).
    pub mttr: Option<SimDuration>,
    /// Nodes (node faults) or pods (pod faults) to pick from; empty: all.
    pub selector: Labels,
    /// Pod faults: the namespace of the pods.
    pub namespace: String,
    /// `image-registry-slow`: how many times slower pulls get.
    pub factor: u32,
}

struct Entry {
    spec: ChaosSpec,
    rng: SimRng,
}

pub struct Chaos {
    entries: Vec<Entry>,
}

use crate::controllers::node_lifecycle::ZONE_LABEL;

fn exp_draw(rng: &mut SimRng, mean: SimDuration) -> SimDuration {
    let u = unit_open0(rng.random::<u64>());
    let ms = -detmath::ln(u) * mean.as_millis() as f64;
    // at least 1 ms, so a strike never lands on the instant of the previous one
    SimDuration::from_millis((ms.round() as u64).max(1))
}

impl Chaos {
    pub fn new(specs: &[ChaosSpec], seed: u64) -> Self {
        Chaos {
            entries: specs
                .iter()
                .enumerate()
                .map(|(i, s)| Entry {
                    spec: s.clone(),
                    rng: crate::sim::rng::stream(seed, &format!("{COMPONENT}/{i}")),
                })
                .collect(),
        }
    }

    /// When each entry strikes first.
    pub fn first_strikes(&mut self) -> Vec<(usize, SimTime)> {
        (0..self.entries.len())
            .map(|i| {
                let e = &mut self.entries[i];
                (i, SimTime::ZERO + exp_draw(&mut e.rng, e.spec.mtbf))
            })
            .collect()
    }

    /// When entry `i` strikes next, after striking at `now`.
    pub fn next_strike(&mut self, i: usize, now: SimTime) -> Option<SimTime> {
        let e = self.entries.get_mut(i)?;
        Some(now + exp_draw(&mut e.rng, e.spec.mtbf))
    }

    /// Entry `i` strikes: pick a target among the healthy ones (nothing if none
    /// is left) and draw how long the fault lasts. `up(node)` tells whether a
    /// node's kubelet is running and connected.
    pub fn strike(
        &mut self,
        i: usize,
        api: &ApiServer,
        state: &FaultState,
        up: &dyn Fn(&str) -> bool,
    ) -> Option<FaultStart> {
        let e = self.entries.get_mut(i)?;
        let spec = &e.spec;
        let heal_after = spec.mttr.map(|m| exp_draw(&mut e.rng, m));
        let nodes = || {
            api.list::<Node>()
                .filter(|n| n.status.ready == ConditionStatus::True && up(&n.meta.name))
                .filter(|n| matches_map(&spec.selector, &n.meta.labels))
                .map(|n| n.meta.name.clone())
                .collect::<Vec<_>>()
        };
        let pick = |rng: &mut SimRng, v: &[String]| -> Option<String> {
            if v.is_empty() {
                None
            } else {
                Some(v[rng.random_range(0..v.len())].clone())
            }
        };
        let plane = |p: Plane| (!state.is_down(p)).then_some(Fault::ControlPlane(p));
        let (target, fault) = match spec.fault {
            "node-crash" | "kubelet-stop" | "network-partition" => {
                let n = pick(&mut e.rng, &nodes())?;
                let f = match spec.fault {
                    "node-crash" => Fault::NodeCrash(vec![n.clone()]),
                    "kubelet-stop" => Fault::KubeletStop(vec![n.clone()]),
                    _ => Fault::Partition(vec![n.clone()]),
                };
                (format!("Node/{n}"), f)
            }
            "zone-outage" => {
                let mut zones: Vec<String> = nodes()
                    .iter()
                    .filter_map(|n| {
                        api.get::<Node>(&crate::api::ObjKey::cluster(n.clone()))
                            .and_then(|n| n.meta.labels.get(ZONE_LABEL).cloned())
                    })
                    .collect();
                zones.sort();
                zones.dedup();
                let z = pick(&mut e.rng, &zones)?;
                let members = nodes_in_zone(api, &z);
                (format!("Zone/{z}"), Fault::NodeCrash(members))
            }
            "pod-crash" | "pod-oom" => {
                let pods: Vec<(String, crate::api::ObjKey)> = api
                    .list::<Pod>()
                    .filter(|p| {
                        p.meta.namespace == spec.namespace
                            && p.status.phase == PodPhase::Running
                            && !p.is_terminating()
                            && matches_map(&spec.selector, &p.meta.labels)
                    })
                    .filter_map(|p| Some((p.node_name.clone()?, p.meta.key())))
                    .collect();
                if pods.is_empty() {
                    return None;
                }
                let (node, pod) = pods[e.rng.random_range(0..pods.len())].clone();
                (
                    crate::api::meta::object_ref(crate::api::Kind::Pod, &pod),
                    Fault::PodExit(node, pod, spec.fault == "pod-oom"),
                )
            }
            "image-registry-down" => ("Registry".into(), Fault::Registry(Registry::Down)),
            "image-registry-slow" => (
                "Registry".into(),
                Fault::Registry(Registry::Slow(spec.factor)),
            ),
            "api-server-down" => (
                "ControlPlane/kube-apiserver".into(),
                plane(Plane::ApiServer)?,
            ),
            "etcd-down" => ("ControlPlane/etcd".into(), plane(Plane::Etcd)?),
            "scheduler-down" => (
                "ControlPlane/kube-scheduler".into(),
                plane(Plane::Scheduler)?,
            ),
            _ => (
                "ControlPlane/kube-controller-manager".into(),
                plane(Plane::ControllerManager)?,
            ),
        };
        Some(FaultStart {
            kind: spec.fault,
            target,
            faults: vec![fault],
            heal_after,
        })
    }
}

/// The nodes labelled with zone `z`, by name.
pub fn nodes_in_zone(api: &ApiServer, z: &str) -> Vec<String> {
    api.list::<Node>()
        .filter(|n| n.meta.labels.get(ZONE_LABEL).map(String::as_str) == Some(z))
        .map(|n| n.meta.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    /// Every fault the chaos section draws is also a timeline action, with the
    /// same name and meaning.
    #[test]
    fn chaos_kinds_are_timeline_actions() {
        for k in super::KINDS {
            assert!(crate::scenario::ACTIONS.contains(k), "{k}");
        }
    }
}
