//! Injected failures: what each one does to the simulated machines and to the
//! control plane, and how it heals.
//!
//! A fault is not an API write: it acts on the kubelets and on the engine's
//! view of which components can run. While the API server or etcd is down, or a
//! component is down, the events that component would handle are *held*, not
//! lost, and delivered in their original order when it comes back — as a
//! restarted component relists and catches up. A kubelet cut off from the API
//! server (`kubelet-stop`, `network-partition`) fails its lease renewals, so the
//! node-lifecycle controller sees the node go silent, while its containers keep
//! running.

use super::{Ctx, Event, Simulation, Target};
use crate::api::ObjKey;
use crate::node::kubelet::Registry;
use crate::sim::time::SimDuration;
use std::collections::BTreeMap;

/// A control-plane component that can be taken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Plane {
    ApiServer,
    Etcd,
    Scheduler,
    ControllerManager,
}

impl Plane {
    pub fn name(self) -> &'static str {
        match self {
            Plane::ApiServer => "kube-apiserver",
            Plane::Etcd => "etcd",
            Plane::Scheduler => "kube-scheduler",
            Plane::ControllerManager => "kube-controller-manager",
        }
    }
}

/// One failure, resolved to what it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `node-crash`, `zone-outage`: the nodes' kubelets and containers stop.
    NodeCrash(Vec<String>),
    /// `node-recover`: the node's kubelet comes back.
    NodeRecover(String),
    /// `kubelet-stop`: the kubelets stop; their containers keep running.
    KubeletStop(Vec<String>),
    /// `network-partition`: the nodes cannot reach the API server.
    Partition(Vec<String>),
    /// `pod-crash` / `pod-oom`: the containers of pod `.1` on node `.0` exit now
    /// (with an error, or OOM-killed when `.2`).
    PodExit(String, ObjKey, bool),
    /// `image-registry-down` / `image-registry-slow`.
    Registry(Registry),
    /// `api-server-down`, `etcd-down`, `scheduler-down`, `controller-manager-down`.
    ControlPlane(Plane),
}

impl Fault {
    /// The nodes it acts on directly.
    pub fn nodes(&self) -> Vec<String> {
        match self {
            Fault::NodeCrash(n) | Fault::KubeletStop(n) | Fault::Partition(n) => n.clone(),
            Fault::NodeRecover(n) | Fault::PodExit(n, ..) => vec![n.clone()],
            Fault::Registry(_) | Fault::ControlPlane(_) => Vec::new(),
        }
    }
}

/// A fault as the timeline or the chaos section starts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultStart {
    /// The action's name (`node-crash`, `zone-outage`, ...).
    pub kind: &'static str,
    /// What it hits, for the summary (`node/a-1`, `zone us-east-1a`, ...).
    pub target: String,
    pub faults: Vec<Fault>,
    /// Heals after this long (`for:`); `None`: lasts (until `node-recover`).
    pub heal_after: Option<SimDuration>,
}

/// The state faults leave the cluster in. Counters, so overlapping faults of one
/// kind heal independently.
#[derive(Debug, Default)]
pub struct FaultState {
    /// Control-plane components down, with how many faults hold each down.
    planes: BTreeMap<Plane, u32>,
    /// Kubelets cut off from the API server (stopped or partitioned).
    cut: BTreeMap<u32, u32>,
    /// Kubelets stopped (`kubelet-stop`), as opposed to partitioned.
    stopped: BTreeMap<u32, u32>,
    registry_down: u32,
    registry_slow: Vec<u32>,
    /// Faults started with a `for:`, waiting for their heal.
    active: BTreeMap<u32, Vec<Fault>>,
    /// Events of components that could not run, in arrival order.
    held: Vec<Event>,
}

impl FaultState {
    /// Whether the kubelet of node `i` is stopped by a `kubelet-stop`.
    pub fn kubelet_stopped(&self, i: u32) -> bool {
        self.stopped.get(&i).is_some_and(|&n| n > 0)
    }

    pub fn is_down(&self, p: Plane) -> bool {
        self.planes.get(&p).is_some_and(|&n| n > 0)
    }
    /// Whether API writes fail (API server or etcd down).
    pub fn api_down(&self) -> Option<Plane> {
        [Plane::ApiServer, Plane::Etcd]
            .into_iter()
            .find(|p| self.is_down(*p))
    }
    fn registry(&self) -> Registry {
        if self.registry_down > 0 {
            Registry::Down
        } else if let Some(&f) = self.registry_slow.iter().max() {
            Registry::Slow(f)
        } else {
            Registry::Up
        }
    }
    /// How many events wait for a component to come back.
    pub fn held(&self) -> usize {
        self.held.len()
    }
}

fn bump<K: Ord>(m: &mut BTreeMap<K, u32>, k: K, up: bool) {
    let e = m.entry(k).or_insert(0);
    if up {
        *e += 1;
    } else {
        *e = e.saturating_sub(1);
    }
}

impl Simulation {
    /// Whether `ev` belongs to a component that cannot run now.
    pub(super) fn blocked(&self, ev: &Event) -> bool {
        let f = &self.faults;
        let api = f.api_down().is_some();
        let cm = api || f.is_down(Plane::ControllerManager);
        match ev {
            Event::Watch(Target::Scheduler, _) | Event::Scheduler(_) => {
                api || f.is_down(Plane::Scheduler)
            }
            Event::Watch(Target::Controller(_) | Target::GarbageCollector, _)
            | Event::Sync(..)
            | Event::NodeLifecycle(_)
            | Event::Autoscale(crate::autoscaler::AutoscaleEvent::Hpa(_)) => cm,
            Event::Autoscale(crate::autoscaler::AutoscaleEvent::Scan) => api,
            Event::Drain(_) => api,
            Event::Watch(Target::Kubelet(i), _) | Event::Kubelet(i, _) => {
                !self.kubelets[*i as usize].is_reachable()
            }
            Event::Arrival => api,
            // kube-proxies keep their rules while they cannot hear the API
            Event::Watch(Target::KubeProxy | Target::CloudController, _)
            | Event::ProxySync
            | Event::IngressSync
            | Event::Cloud(_) => api,
            Event::Fault(Fault::PodExit(node, ..)) => self
                .kubelet_index
                .get(node)
                .is_some_and(|&i| !self.kubelets[i as usize].is_reachable()),
            _ => false,
        }
    }

    /// Start a fault: apply it, log it for the summary, plan its heal.
    pub(super) fn start_fault(&mut self, start: FaultStart) {
        if start
            .faults
            .iter()
            .all(|f| matches!(f, Fault::NodeRecover(_)))
        {
            // `node-recover` ends a fault rather than starting one
            for f in &start.faults {
                self.apply_fault(f, true);
            }
            self.after_fault_change();
            return;
        }
        let nodes: Vec<String> = start.faults.iter().flat_map(Fault::nodes).collect();
        let pods: Vec<ObjKey> = start
            .faults
            .iter()
            .filter_map(|f| match f {
                Fault::PodExit(_, k, _) => Some(k.clone()),
                _ => None,
            })
            .collect();
        let id = self.recovery.fault_started(
            &self.api,
            start.kind,
            start.target,
            &nodes,
            &pods,
            self.now,
        );
        for f in &start.faults {
            if let Fault::PodExit(..) = f {
                // through the queue, so a cut-off kubelet reports it when it can
                self.queue.push(self.now, Event::Fault(f.clone()));
            } else {
                self.apply_fault(f, true);
            }
        }
        let healable = start
            .faults
            .iter()
            .any(|f| !matches!(f, Fault::PodExit(..) | Fault::NodeRecover(_)));
        match start.heal_after {
            Some(d) if healable => {
                self.faults.active.insert(id, start.faults);
                self.queue.push(self.now + d, Event::Heal(id));
            }
            _ if !healable => self.recovery.fault_healed(id, self.now),
            _ => {}
        }
        self.after_fault_change();
    }

    /// A fault's `for:` is over.
    pub(super) fn heal_fault(&mut self, id: u32) {
        let Some(faults) = self.faults.active.remove(&id) else {
            return;
        };
        for f in &faults {
            self.apply_fault(f, false);
        }
        self.recovery.fault_healed(id, self.now);
        let what = faults.iter().map(describe).collect::<Vec<_>>().join("; ");
        self.rec.event(
            self.now,
            "fault-injector",
            crate::metrics::EventType::Normal,
            "FaultHealed",
            format!("Fault/{id}"),
            format!("healed: {what}"),
        );
        self.after_fault_change();
    }

    /// Apply (`on`) or undo one fault.
    fn apply_fault(&mut self, f: &Fault, on: bool) {
        // (machines and kubelets may go down or come back)
        self.dataplane.kubelets_moved();
        let mut ctx = Ctx {
            now: self.now,
            api: &mut self.api,
            rec: &mut self.rec,
            queue: &mut self.queue,
        };
        let index = &self.kubelet_index;
        match f {
            Fault::NodeCrash(nodes) => {
                for n in nodes {
                    if let Some(&i) = index.get(n) {
                        if on {
                            self.kubelets[i as usize].crash(ctx.api);
                        } else {
                            self.kubelets[i as usize].recover(&mut ctx);
                            self.recovery.node_recovered(n, ctx.now);
                        }
                    }
                }
            }
            Fault::NodeRecover(n) => {
                if let Some(&i) = index.get(n) {
                    self.kubelets[i as usize].recover(&mut ctx);
                    self.recovery.node_recovered(n, ctx.now);
                }
            }
            Fault::KubeletStop(nodes) | Fault::Partition(nodes) => {
                for n in nodes {
                    if let Some(&i) = index.get(n) {
                        bump(&mut self.faults.cut, i, on);
                        if matches!(f, Fault::KubeletStop(_)) {
                            bump(&mut self.faults.stopped, i, on);
                        }
                    }
                }
            }
            Fault::PodExit(node, pod, oom) => {
                if let (true, Some(&i)) = (on, index.get(node)) {
                    self.kubelets[i as usize].kill_containers(&mut ctx, pod, *oom);
                }
            }
            Fault::Registry(r) => match r {
                Registry::Down => {
                    self.faults.registry_down = if on {
                        self.faults.registry_down + 1
                    } else {
                        self.faults.registry_down.saturating_sub(1)
                    }
                }
                Registry::Slow(x) => {
                    if on {
                        self.faults.registry_slow.push(*x);
                    } else if let Some(p) = self.faults.registry_slow.iter().position(|y| y == x) {
                        self.faults.registry_slow.remove(p);
                    }
                }
                Registry::Up => {}
            },
            Fault::ControlPlane(p) => bump(&mut self.faults.planes, *p, on),
        }
    }

    /// After faults change: tell kubelets whether they reach the API server and
    /// how the registry is, then deliver the held events that can run now.
    fn after_fault_change(&mut self) {
        let api_down = self.faults.api_down().is_some();
        let registry = self.faults.registry();
        let mut ctx = Ctx {
            now: self.now,
            api: &mut self.api,
            rec: &mut self.rec,
            queue: &mut self.queue,
        };
        for (i, k) in self.kubelets.iter_mut().enumerate() {
            let cut = self.faults.cut.get(&(i as u32)).is_some_and(|&n| n > 0);
            k.set_reachable(&mut ctx, !api_down && !cut);
            k.set_registry(registry);
        }
        let held = std::mem::take(&mut self.faults.held);
        let (still, go): (Vec<Event>, Vec<Event>) = held.into_iter().partition(|e| self.blocked(e));
        self.faults.held = still;
        for e in go {
            if e.is_background() {
                self.queue.push_background(self.now, e);
            } else {
                self.queue.push(self.now, e);
            }
        }
    }

    /// Keep `ev` until its component can run.
    pub(super) fn hold(&mut self, ev: Event) {
        self.faults.held.push(ev);
    }

    /// Whether the kubelet of node `i` is stopped by a `kubelet-stop`.
    pub fn kubelet_stopped(&self, i: u32) -> bool {
        self.faults.kubelet_stopped(i)
    }

    /// The faults' effect on the cluster now.
    pub fn fault_state(&self) -> &FaultState {
        &self.faults
    }
}

/// A fault in a few words, for the event log.
pub fn describe(f: &Fault) -> String {
    match f {
        Fault::NodeCrash(n) => format!("nodes {} back", n.join(", ")),
        Fault::NodeRecover(n) => format!("node {n} back"),
        Fault::KubeletStop(n) => format!("kubelets of {} running again", n.join(", ")),
        Fault::Partition(n) => format!("{} reach the API server again", n.join(", ")),
        Fault::PodExit(_, p, _) => format!("pod {p}"),
        Fault::Registry(_) => "the image registry serves pulls normally".into(),
        Fault::ControlPlane(p) => format!("{} is up", p.name()),
    }
}
