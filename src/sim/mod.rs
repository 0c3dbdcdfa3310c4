//! The engine: virtual time, the event queue, seeded randomness, and the loop
//! that dispatches each event to the component it belongs to.
//!
//! Components never call each other (DESIGN.md, principle 1). A handler gets a
//! [`Ctx`]: the API server to read and write, a way to set its own timers, and the
//! recorder. After each handler, the writes it made are turned into watch
//! notifications, delivered to the watching components after the watch delay.

pub mod chaos;
pub mod faults;
pub mod queue;
pub mod rng;
pub mod time;

use crate::api::{AnyObject, ApiServer, Change, Kind, Node, Op};
use crate::controllers::deployment::DeploymentController;
use crate::controllers::gc::GarbageCollector;
use crate::controllers::job::JobController;
use crate::controllers::node_lifecycle::{NodeLifecycleController, NodeLifecycleEvent};
use crate::controllers::replicaset::ReplicaSetController;
use crate::controllers::ControllerId;
use crate::metrics::sampler::Sampler;
use crate::metrics::{EventType, Recorder, Summary};
use crate::node::kubelet::{Kubelet, KubeletEvent};
use crate::scenario::timeline::Kubectl;
use crate::scenario::Scenario;
use crate::scheduler::policies::{Registry, UnknownPolicy};
use crate::scheduler::{Scheduler, SchedulerEvent, DEFAULT_SCHEDULER};
pub use faults::{Fault, FaultStart, Plane};
use queue::EventQueue;
use std::collections::BTreeMap;
use std::rc::Rc;
use time::{SimDuration, SimTime};

/// Who a watch notification is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Scheduler,
    Controller(ControllerId),
    GarbageCollector,
    Kubelet(u32),
    /// kube-proxy (every node's, as one shared view).
    KubeProxy,
    /// The cloud-controller-manager's service controller.
    CloudController,
}

/// Everything that can happen. A closed enum: one `match` dispatches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Apply the scenario's initial objects.
    Bootstrap,
    /// Run timeline action `i`.
    Timeline(usize),
    /// A watch notification reaches a component (one change goes to several,
    /// shared rather than copied for each).
    Watch(Target, Rc<Change>),
    /// A controller's work-queue sync of one key.
    Sync(ControllerId, crate::api::ObjKey),
    Scheduler(SchedulerEvent),
    Kubelet(u32, KubeletEvent),
    /// Take a metrics sample.
    Sample,
    /// The next generated pod arrives.
    Arrival,
    /// The node-lifecycle controller's period or one of its eviction timers.
    NodeLifecycle(NodeLifecycleEvent),
    /// An injected fault starts (pod exits planned by `pod-crash`).
    Fault(Fault),
    /// The fault with this id (its index in the summary's `faults`) heals.
    Heal(u32),
    /// The chaos section's entry `i` strikes again.
    Chaos(usize),
    /// The nodes of timeline action `i` (`node-add`) register.
    Join(usize),
    /// kube-proxy reprograms its rules from the endpoints it has seen.
    ProxySync,
    /// The ingress controller reloads its routes from the Ingresses it has seen.
    IngressSync,
    /// The cloud has provisioned this LoadBalancer Service's address.
    Cloud(crate::api::ObjKey),
    /// `kubectl drain` of timeline action `i` retries its evictions.
    Drain(usize),
    /// The metrics server, the HPA controller or the Cluster Autoscaler.
    Autoscale(crate::autoscaler::AutoscaleEvent),
}

/// Whether `ev` may change where requests go or whether pods answer them.
fn changes_routing(ev: &Event) -> bool {
    !matches!(
        ev,
        Event::Watch(..)
            | Event::Sync(..)
            | Event::Scheduler(_)
            | Event::NodeLifecycle(_)
            | Event::Arrival
            | Event::Bootstrap
            | Event::Sample
    )
}

impl Event {
    /// Periodic upkeep that does not by itself keep a run going: metrics samples and
    /// the node-lifecycle controller's period.
    pub fn is_background(&self) -> bool {
        matches!(
            self,
            Event::Sample | Event::NodeLifecycle(NodeLifecycleEvent::Monitor)
        )
    }
}

/// What a handler may touch.
pub struct Ctx<'a> {
    pub now: SimTime,
    pub api: &'a mut ApiServer,
    rec: &'a mut Recorder,
    queue: &'a mut EventQueue<Event>,
}

impl Ctx<'_> {
    /// Schedule `ev` at `t` (never earlier than now).
    pub fn at(&mut self, t: SimTime, ev: Event) {
        self.queue.push(t.max(self.now), ev);
    }
    /// Schedule `ev` after `d`.
    pub fn after(&mut self, d: SimDuration, ev: Event) {
        self.queue.push(self.now + d, ev);
    }
    /// Schedule periodic upkeep after `d`: it keeps happening only while something
    /// else is still to happen (see `Simulation::run_until`).
    pub fn after_background(&mut self, d: SimDuration, ev: Event) {
        self.queue.push_background(self.now + d, ev);
    }
    /// Record a Kubernetes-style event.
    pub fn event(
        &mut self,
        component: &str,
        ty: EventType,
        reason: &str,
        object: String,
        message: String,
    ) {
        self.rec
            .event(self.now, component, ty, reason, object, message);
    }
    /// [`Ctx::event`], building the object and message only if the record
    /// is kept (see [`crate::metrics::recorder::Recorder::event_with`]): for
    /// the events every pod start makes.
    pub fn event_with(
        &mut self,
        component: &str,
        ty: EventType,
        reason: &str,
        build: impl FnOnce() -> (String, String),
    ) {
        self.rec.event_with(self.now, component, ty, reason, build);
    }
    /// Record a control loop's decision with what it observed, wanted and did.
    pub fn decision(
        &mut self,
        component: &str,
        reason: &str,
        object: String,
        oda: (String, String, String),
        message: String,
    ) {
        let (observed, desired, action) = oda;
        self.rec.decision(
            self.now, component, reason, object, message, observed, desired, action,
        );
    }
}

/// Engine-wide settings from the scenario.
#[derive(Debug, Clone)]
pub struct Settings {
    /// API write → watch notification at the watching component.
    pub watch_delay: SimDuration,
    /// `--service-cluster-ip-range`.
    pub service_cidr: crate::api::service::ServiceCidr,
    /// `--terminated-pod-gc-threshold`.
    pub terminated_pod_gc_threshold: usize,
    /// Notification → controller sync.
    pub controller_sync_delay: SimDuration,
    pub scheduler: crate::scheduler::SchedulerSettings,
    /// Scheduler profiles: (profile name = schedulerName, policy name), `default-scheduler` first.
    pub profiles: Vec<(String, String)>,
    /// `percentageOfNodesToScore` override for every profile.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// How often cluster allocation is sampled for utilization figures.
    pub sample_interval: SimDuration,
    /// Plugin changes per profile name (KubeSchedulerConfiguration `plugins`/`pluginConfig`).
    pub profile_overrides: BTreeMap<String, crate::scheduler::config::ProfileOverride>,
    pub kubelet: crate::node::kubelet::KubeletSettings,
    /// `--node-monitor-grace-period` of the node-lifecycle controller.
    pub node_monitor_grace_period: SimDuration,
    /// Eviction rate limits and zone thresholds of the node-lifecycle controller.
    pub eviction: crate::controllers::node_lifecycle::EvictionSettings,
    pub kube_proxy: crate::net::ProxySettings,
    /// LoadBalancer provisioning latency of the simulated cloud.
    pub load_balancer_delay: SimDuration,
    /// The scenario's `traffic:` clients.
    pub traffic: Vec<crate::net::ClientSpec>,
    /// The run stops after this many events (`limits.maxEvents`).
    pub max_events: u64,
    /// Provisioning and attach/detach latencies (`cluster.storage`).
    pub volumes: crate::controllers::volume::VolumeSettings,
    /// Metrics pipeline, HPA controller flags, Cluster Autoscaler.
    pub autoscaling: crate::autoscaler::Settings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            watch_delay: SimDuration::from_millis(50),
            service_cidr: Default::default(),
            terminated_pod_gc_threshold: crate::controllers::pod_gc::DEFAULT_THRESHOLD,
            controller_sync_delay: SimDuration::ZERO,
            scheduler: Default::default(),
            profiles: vec![(DEFAULT_SCHEDULER.to_string(), "default".to_string())],
            percentage_of_nodes_to_score: None,
            sample_interval: SimDuration::from_secs(60),
            profile_overrides: BTreeMap::new(),
            kubelet: Default::default(),
            node_monitor_grace_period:
                crate::controllers::node_lifecycle::DEFAULT_NODE_MONITOR_GRACE_PERIOD,
            eviction: Default::default(),
            kube_proxy: Default::default(),
            load_balancer_delay: SimDuration::from_secs(20),
            traffic: Vec::new(),
            max_events: crate::scenario::MAX_EVENTS,
            volumes: Default::default(),
            autoscaling: Default::default(),
        }
    }
}

/// Per kubelet, what [`Simulation`] last told the data plane about its node:
/// whether the Node object exists, and (alive, hears the API server).
#[derive(Debug, Default)]
struct NodeNetStates {
    /// The Node table's membership `present` was read at.
    membership: Option<u64>,
    present: Vec<bool>,
    /// `present` was read afresh and the data plane has not heard it yet.
    present_news: bool,
    states: Vec<(bool, bool)>,
}

/// A whole simulated cluster.
pub struct Simulation {
    now: SimTime,
    until: SimTime,
    seed: u64,
    name: String,
    queue: EventQueue<Event>,
    api: ApiServer,
    rec: Recorder,
    settings: Settings,
    scheduler: Scheduler,
    replicasets: ReplicaSetController,
    deployments: DeploymentController,
    jobs: JobController,
    /// Node labels and taints as last routed to the DaemonSet controller.
    #[allow(clippy::type_complexity)]
    node_daemon_view: BTreeMap<
        String,
        (
            crate::api::selector::Labels,
            Vec<(String, String, crate::api::taint::TaintEffect)>,
        ),
    >,
    replication: ReplicaSetController,
    statefulsets: crate::controllers::statefulset::StatefulSetController,
    daemonsets: crate::controllers::daemonset::DaemonSetController,
    cronjobs: crate::controllers::cronjob::CronJobController,
    gc: GarbageCollector,
    endpoints: crate::controllers::endpoints::EndpointsController,
    volumes: crate::controllers::volume::VolumeController,
    disruption: crate::controllers::disruption::DisruptionController,
    hpa: crate::controllers::hpa::HpaController,
    cluster_autoscaler: Option<crate::autoscaler::cluster::ClusterAutoscaler>,
    node_clock: crate::autoscaler::NodeClock,
    metrics_server: crate::autoscaler::metrics::MetricsServer,
    vpa: crate::autoscaler::vpa::Vpa,
    /// What the scheduler's volume plugins see; `None` after a claim, volume or
    /// class changed (rebuilt before the next scheduling cycle).
    volume_view: Option<std::sync::Arc<crate::scheduler::plugins::volume_binding::VolumeView>>,
    dataplane: crate::net::DataPlane,
    cloud: crate::net::cloud::CloudController,
    node_lifecycle: NodeLifecycleController,
    pod_gc: crate::controllers::pod_gc::PodGc,
    kubelets: Vec<Kubelet>,
    /// Node name → kubelet; looked up on every traffic flush.
    kubelet_index: crate::api::table::LookupMap<String, u32>,
    /// What `refresh_node_net` last told the data plane, per kubelet.
    node_net: NodeNetStates,
    /// Bumped when a node name's kubelet changes (a Node re-created under
    /// an old name), so the data plane's [`crate::net::ServeHint`]s made
    /// before no longer count.
    kubelet_epoch: u64,
    kubectl: Kubectl,
    sampler: Sampler,
    arrivals: crate::workload::Merged,
    last_activity: SimTime,
    events: u64,
    wall_ms: u64,
    faults: faults::FaultState,
    /// Keep the last event's API changes for an observer (the invariant checker).
    track_changes: bool,
    last_changes: Vec<crate::api::Change>,
    /// The run stopped at `limits.maxEvents`.
    event_limit_hit: bool,
    recovery: crate::metrics::recovery::Recovery,
    chaos: chaos::Chaos,
}

impl Simulation {
    /// Build the cluster of `scenario` with the built-in policies; nothing runs
    /// until [`Simulation::run`]. Scenario loading has already checked the policy
    /// names against the built-in registry.
    pub fn new(scenario: &Scenario, rec: Recorder) -> Self {
        Self::with_registry(scenario, rec, &Registry::builtin())
            .expect("scenario::load checks policy names against the built-in registry")
    }

    /// Build the cluster with policies from `registry` (built-in or your own).
    pub fn with_registry(
        scenario: &Scenario,
        rec: Recorder,
        registry: &Registry,
    ) -> Result<Self, SetupError> {
        let seed = scenario.seed;
        let mut s = scenario.settings.clone();
        s.kubelet.seed = seed;
        let mut profiles = Vec::new();
        for (name, policy) in &s.profiles {
            profiles.push(build_profile(&s, registry, name, policy)?);
        }
        let mut sim = Simulation {
            now: SimTime::ZERO,
            until: SimTime::ZERO + scenario.until,
            seed,
            name: scenario.name.clone(),
            queue: EventQueue::new(),
            api: {
                let mut api = ApiServer::new();
                api.set_service_cidr(s.service_cidr);
                api
            },
            rec,
            scheduler: Scheduler::new(seed, profiles, s.scheduler.clone()),
            replicasets: ReplicaSetController::new(seed, s.controller_sync_delay),
            deployments: DeploymentController::new(s.controller_sync_delay),
            jobs: JobController::new(seed, s.controller_sync_delay),
            node_daemon_view: BTreeMap::new(),
            replication: ReplicaSetController::replication(seed, s.controller_sync_delay),
            statefulsets: crate::controllers::statefulset::StatefulSetController::new(
                s.controller_sync_delay,
            ),
            daemonsets: crate::controllers::daemonset::DaemonSetController::new(
                seed,
                s.controller_sync_delay,
            ),
            cronjobs: crate::controllers::cronjob::CronJobController::new(s.controller_sync_delay),
            gc: GarbageCollector::default(),
            endpoints: crate::controllers::endpoints::EndpointsController::new(
                s.controller_sync_delay,
            ),
            volumes: crate::controllers::volume::VolumeController::new(
                s.controller_sync_delay,
                s.volumes.clone(),
            ),
            disruption: crate::controllers::disruption::DisruptionController::new(
                s.controller_sync_delay,
            ),
            hpa: crate::controllers::hpa::HpaController::new(s.autoscaling.clone()),
            cluster_autoscaler: s
                .autoscaling
                .cluster_autoscaler
                .clone()
                .map(|c| crate::autoscaler::cluster::ClusterAutoscaler::new(c, seed)),
            node_clock: Default::default(),
            vpa: Default::default(),
            metrics_server: crate::autoscaler::metrics::MetricsServer::new(
                s.autoscaling.scrape_interval,
                s.autoscaling.usage.clone(),
            ),
            volume_view: None,
            dataplane: crate::net::DataPlane::new(s.kube_proxy.clone(), &s.traffic, seed),
            cloud: crate::net::cloud::CloudController::new(s.load_balancer_delay),
            pod_gc: crate::controllers::pod_gc::PodGc::new(s.terminated_pod_gc_threshold),
            node_lifecycle: NodeLifecycleController::new(
                s.node_monitor_grace_period,
                s.eviction.clone(),
            ),
            kubelets: Vec::new(),
            kubelet_index: crate::api::table::lookup_map(),
            kubelet_epoch: 0,
            node_net: NodeNetStates::default(),
            kubectl: Kubectl::new(
                scenario.objects.clone(),
                scenario.timeline.clone(),
                s.kubelet.node_startup,
            ),
            sampler: Sampler::new(s.sample_interval),
            arrivals: crate::workload::merged_with_traces(
                &scenario.generators,
                &scenario.traces,
                seed,
            ),
            last_activity: SimTime::ZERO,
            events: 0,
            wall_ms: 0,
            faults: Default::default(),
            track_changes: false,
            last_changes: Vec::new(),
            event_limit_hit: false,
            recovery: crate::metrics::recovery::Recovery::new(
                s.node_monitor_grace_period
                    + crate::controllers::node_lifecycle::NODE_MONITOR_PERIOD,
            ),
            chaos: chaos::Chaos::new(&scenario.chaos, seed),
            settings: s,
        };
        sim.queue.push(SimTime::ZERO, Event::Bootstrap);
        sim.queue
            .push_background(SimTime::ZERO + sim.settings.sample_interval, Event::Sample);
        sim.queue.push_background(
            SimTime::ZERO + crate::controllers::node_lifecycle::NODE_MONITOR_PERIOD,
            Event::NodeLifecycle(NodeLifecycleEvent::Monitor),
        );
        if let Some(t) = sim.arrivals.peek_time() {
            sim.queue.push(t, Event::Arrival);
        }
        if let Some(ca) = &sim.cluster_autoscaler {
            sim.queue.push(
                SimTime::ZERO + ca.settings.scan_interval,
                Event::Autoscale(crate::autoscaler::AutoscaleEvent::Scan),
            );
        }
        for (i, a) in scenario.timeline.iter().enumerate() {
            sim.queue.push(SimTime::ZERO + a.at, Event::Timeline(i));
        }
        for (i, t) in sim.chaos.first_strikes() {
            sim.queue.push(t, Event::Chaos(i));
        }
        Ok(sim)
    }

    pub fn api(&self) -> &ApiServer {
        &self.api
    }
    /// Write to the API behind every component's back: for tests that need a
    /// state no scenario produces (such as a broken invariant) and for tools.
    pub fn api_mut(&mut self) -> &mut ApiServer {
        &mut self.api
    }
    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn recorder(&self) -> &Recorder {
        &self.rec
    }
    pub fn recorder_mut(&mut self) -> &mut Recorder {
        &mut self.rec
    }
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }
    /// The scenario's stop time.
    pub fn until(&self) -> SimTime {
        self.until
    }
    /// Whether events were still pending when the run stopped.
    pub fn has_pending_events(&self) -> bool {
        !self.queue.is_empty()
    }
    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events
    }
    /// Whether the run stopped at its event limit (`limits.maxEvents`).
    pub fn hit_event_limit(&self) -> bool {
        self.event_limit_hit
    }

    /// Run until the scenario's `until`, or until nothing is left to happen.
    pub fn run(&mut self) {
        let until = self.until;
        self.run_until(until);
    }

    /// Run to the scenario's `until` like [`Simulation::run`], calling `after`
    /// after every event with that event's description (its `Debug` form when
    /// `describe`, else empty). Stops early, returning false, when `after` says
    /// so; a stopped run can go on with `run` or another `run_stepwise`.
    pub fn run_stepwise(
        &mut self,
        describe: bool,
        mut after: impl FnMut(&Simulation, &str) -> bool,
    ) -> bool {
        let wall_start = std::time::Instant::now();
        let mut finished = true;
        while let Some(next) = self.queue.peek_time() {
            if next > self.until {
                break;
            }
            if self.events >= self.settings.max_events {
                self.event_limit_hit = true;
                finished = false;
                break;
            }
            let d = self.process_next(describe);
            if !after(self, &d) {
                finished = false;
                break;
            }
        }
        if finished {
            self.settle(self.until);
        }
        self.wall_ms += wall_start.elapsed().as_millis() as u64;
        finished
    }

    /// After the last event due: the run ends at its last event when nothing is
    /// left to happen, else at `t`.
    fn settle(&mut self, t: SimTime) {
        if self.queue.is_empty() {
            // clients keep sending until the end; otherwise an idle run ends
            // at its last event
            self.now = if self.dataplane.has_traffic() {
                t
            } else {
                self.last_activity
            };
        } else {
            self.now = self.now.max(t);
        }
        self.flush_traffic();
    }

    /// Count the clients' requests up to now.
    fn flush_traffic(&mut self) {
        if !self.dataplane.has_traffic() {
            return;
        }
        let now = self.now;
        let kubelets = &self.kubelets;
        let index = &self.kubelet_index;
        // hint: [kubelet index << 32 | slot of the pod's run, its uid,
        // kubelet_epoch + 1]; an answer from the hint is the one the lookups
        // by name give (debug builds check)
        let epoch = self.kubelet_epoch + 1;
        let serves = |pod: &crate::api::ObjKey, node: &str, hint: &crate::net::ServeHint| {
            let [at, uid, seen] = hint.get();
            if seen == epoch {
                let k = &kubelets[(at >> 32) as usize];
                if let Some(answer) = k.serving_at(at as u32, crate::api::Uid(uid), now) {
                    debug_assert_eq!(
                        Some(answer),
                        index
                            .get(node)
                            .map(|&i| kubelets[i as usize].serving(pod, now))
                    );
                    return answer;
                }
            }
            let Some(&i) = index.get(node) else {
                // (a node name gets a kubelet only through `kubelets_moved`)
                return crate::net::Serving {
                    serves: false,
                    until: SimTime::MAX,
                };
            };
            let k = &kubelets[i as usize];
            if let Some((slot, uid)) = k.run_slot(pod) {
                hint.set([u64::from(i) << 32 | u64::from(slot), uid.0, epoch]);
            }
            k.serving(pod, now)
        };
        self.dataplane.flush(now, &serves);
    }

    /// Tell the data plane which nodes are up and whose kube-proxy hears the
    /// API server (a stopped kubelet's kube-proxy still does).
    ///
    /// Called after every timeline, fault and join event, and most of those
    /// (rollouts, scaling) leave every node as it was: the states are kept,
    /// and the data plane is told only when one moved. (Given the same
    /// states twice, `set_nodes` does nothing the second time; debug builds
    /// call it anyway and check that.)
    fn refresh_node_net(&mut self) {
        let faults = &self.faults;
        let api = &self.api;
        let net = &mut self.node_net;
        // which kubelets' Node objects exist, looked up again only when a
        // Node was created or removed
        let membership = api.membership::<Node>();
        if net.membership != Some(membership) || net.present.len() != self.kubelets.len() {
            net.present = self
                .kubelets
                .iter()
                .map(|k| api.get::<Node>(k.node_key()).is_some())
                .collect();
            net.membership = Some(membership);
            net.present_news = true;
        }
        let states: Vec<(bool, bool)> = self
            .kubelets
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let alive = !k.is_down();
                let hears = alive && (k.is_reachable() || faults.kubelet_stopped(i as u32));
                (alive, hears)
            })
            .collect();
        let unchanged = net.states == states && !net.present_news;
        if unchanged && !cfg!(debug_assertions) {
            return;
        }
        let nodes = self
            .kubelets
            .iter()
            .zip(&net.present)
            .zip(&states)
            .filter(|((_, &present), _)| present)
            .map(|((k, _), &(alive, hears))| (k.node.as_str(), alive, hears));
        let version = self.dataplane.node_version();
        let sync = self.dataplane.set_nodes(nodes, self.now);
        if unchanged {
            debug_assert!(
                sync.is_none() && self.dataplane.node_version() == version,
                "set_nodes acted on node states it had been given before"
            );
        }
        if let Some(t) = sync {
            self.queue.push(t, Event::ProxySync);
        }
        net.present_news = false;
        net.states = states;
    }

    /// The data plane: routing view, traffic figures.
    pub fn dataplane(&self) -> &crate::net::DataPlane {
        &self.dataplane
    }

    /// Process every event due at or before `t`.
    pub fn run_until(&mut self, t: SimTime) {
        // Wall-clock time is measured for the summary only; it never reaches the simulation.
        let wall_start = std::time::Instant::now();
        while let Some(next) = self.queue.peek_time() {
            if next > t {
                break;
            }
            if self.events >= self.settings.max_events {
                self.event_limit_hit = true;
                break;
            }
            self.process_next(false);
        }
        // With nothing left to happen, the run ends at its last event (not at a
        // trailing metrics sample).
        self.settle(t);
        self.wall_ms += wall_start.elapsed().as_millis() as u64;
    }

    /// Process the next queued event alone, if it is due at or before the
    /// scenario's `until`: for checking invariants after every single event.
    /// Returns false when nothing is left to do. Mixing `step` and `run_until`
    /// gives the same run as `run` alone.
    pub fn step(&mut self) -> bool {
        match self.queue.peek_time() {
            Some(next) if next <= self.until => {
                self.process_next(false);
                true
            }
            _ => false,
        }
    }

    /// Whether the clients' requests up to now must be counted before `ev`:
    /// it may change routing, or whether a pod that traffic reaches answers.
    fn traffic_moment(&self, ev: &Event) -> bool {
        match ev {
            Event::Kubelet(_, e) => e.pod().is_some_and(|p| self.dataplane.watches(p)),
            Event::Watch(Target::Kubelet(_), c) => {
                c.kind == Kind::Pod && self.dataplane.watches(&c.key)
            }
            Event::Fault(Fault::PodExit(_, pod, _)) => self.dataplane.watches(pod),
            other => changes_routing(other),
        }
    }

    fn process_next(&mut self, describe: bool) -> String {
        let Some((at, ev)) = self.queue.pop() else {
            return String::new();
        };
        if self.dataplane.has_traffic() && self.traffic_moment(&ev) {
            // requests up to now went by the state before this event
            self.now = at;
            self.flush_traffic();
            // and whether the pods answer is asked again from here on: of
            // the one pod this event is about, or of all after a fault. (The
            // other events reach kubelets only through faults, nodes joining
            // and Nodes created or deleted, which say so where they happen:
            // `apply_fault`, `start_kubelet`, `route_changes`.)
            match &ev {
                Event::Kubelet(_, e) => {
                    if let Some(p) = e.pod() {
                        self.dataplane.pod_moved(p);
                    }
                }
                Event::Watch(Target::Kubelet(_), c) => self.dataplane.pod_moved(&c.key),
                Event::Fault(Fault::PodExit(_, pod, _)) => self.dataplane.pod_moved(pod),
                Event::Fault(_) | Event::Heal(_) | Event::Chaos(_) => {
                    self.dataplane.kubelets_moved()
                }
                _ => {}
            }
        }
        let desc = if describe {
            format!("{ev:?}")
        } else {
            String::new()
        };
        self.now = at;
        if self.track_changes {
            self.last_changes.clear();
        }
        let background = ev.is_background();
        let moves_nodes = matches!(
            ev,
            Event::Bootstrap
                | Event::Timeline(_)
                | Event::Heal(_)
                | Event::Chaos(_)
                | Event::Join(_)
        );
        self.api.set_now(at);
        self.events += 1;
        let records = self.rec.count();
        self.dispatch(ev);
        if moves_nodes && self.dataplane.has_traffic() {
            self.refresh_node_net();
        }
        // Background upkeep counts as activity only when it did something.
        if !background || self.api.has_changes() || self.rec.count() != records {
            self.last_activity = at;
        }
        self.route_changes();
        if self.queue.foreground_len() == 0 && !self.queue.is_empty() && !self.busy() {
            // Nothing is left to happen but upkeep: heartbeats and node checks
            // stop here (a last metrics sample may still be due, and stops the
            // sampling itself), so an idle run ends at its last real event.
            self.queue.retain(|e| *e == Event::Sample);
        }
        desc
    }

    /// Whether, with only background events queued, something is still to happen:
    /// a crashed node not yet noticed, or work for the node-lifecycle controller.
    fn busy(&self) -> bool {
        self.kubelets.iter().any(|k| {
            k.is_down()
                && self
                    .api
                    .get::<Node>(k.node_key())
                    .is_some_and(|n| n.status.ready == crate::api::node::ConditionStatus::True)
        }) || self.node_lifecycle.has_pending_work(&self.api, self.now)
            || self.pod_gc.has_work()
    }

    fn dispatch(&mut self, ev: Event) {
        if self.blocked(&ev) {
            self.hold(ev);
            return;
        }
        match ev {
            Event::Timeline(i) => {
                let mut ctx = Ctx {
                    now: self.now,
                    api: &mut self.api,
                    rec: &mut self.rec,
                    queue: &mut self.queue,
                };
                let down = self.faults.api_down();
                if let Some(f) = self.kubectl.run(&mut ctx, i, down) {
                    self.start_fault(f);
                }
                return;
            }
            Event::Fault(f) => {
                let mut ctx = Ctx {
                    now: self.now,
                    api: &mut self.api,
                    rec: &mut self.rec,
                    queue: &mut self.queue,
                };
                if let Fault::PodExit(node, pod, oom) = f {
                    if let Some(&i) = self.kubelet_index.get(&node) {
                        self.kubelets[i as usize].kill_containers(&mut ctx, &pod, oom);
                    }
                }
                return;
            }
            Event::Heal(id) => {
                self.heal_fault(id);
                return;
            }
            Event::Cloud(key) => {
                let mut ctx = Ctx {
                    now: self.now,
                    api: &mut self.api,
                    rec: &mut self.rec,
                    queue: &mut self.queue,
                };
                self.cloud.provisioned(&mut ctx, &key);
                return;
            }
            Event::ProxySync => {
                self.flush_traffic();
                self.dataplane.sync(&self.api, self.now);
                return;
            }
            Event::IngressSync => {
                self.flush_traffic();
                for (key, paths) in self.dataplane.sync_ingresses(&self.api) {
                    let message = match paths {
                        Some(n) => format!("Scheduled for sync: {n} path(s) now served"),
                        None => "Ingress removed from the configuration".to_string(),
                    };
                    self.rec.event(
                        self.now,
                        "ingress-controller",
                        crate::metrics::EventType::Normal,
                        "Sync",
                        crate::api::meta::object_ref(Kind::Ingress, &key),
                        message,
                    );
                }
                return;
            }
            Event::Join(i) => {
                let mut ctx = Ctx {
                    now: self.now,
                    api: &mut self.api,
                    rec: &mut self.rec,
                    queue: &mut self.queue,
                };
                self.kubectl.join(&mut ctx, i);
                return;
            }
            Event::Drain(i) => {
                let mut ctx = Ctx {
                    now: self.now,
                    api: &mut self.api,
                    rec: &mut self.rec,
                    queue: &mut self.queue,
                };
                self.kubectl.drain_step(&mut ctx, i);
                return;
            }
            Event::Autoscale(e) => {
                self.autoscale(e);
                return;
            }
            Event::Chaos(i) => {
                let kubelets = &self.kubelets;
                let index = &self.kubelet_index;
                let up = |n: &str| {
                    index.get(n).is_some_and(|&i| {
                        let k = &kubelets[i as usize];
                        !k.is_down() && k.is_reachable()
                    })
                };
                if let Some(f) = self.chaos.strike(i, &self.api, &self.faults, &up) {
                    self.rec.event(
                        self.now,
                        chaos::COMPONENT,
                        EventType::Warning,
                        "ChaosFault",
                        f.target.clone(),
                        format!(
                            "{} on {}{}",
                            f.kind,
                            f.target,
                            match f.heal_after {
                                Some(d) => format!(", heals in {d}"),
                                None => String::new(),
                            }
                        ),
                    );
                    self.start_fault(f);
                }
                if let Some(t) = self.chaos.next_strike(i, self.now) {
                    self.queue.push(t, Event::Chaos(i));
                }
                return;
            }
            _ => {}
        }
        let view = match ev {
            Event::Scheduler(_) => Some(self.volume_view()),
            _ => None,
        };
        let mut ctx = Ctx {
            now: self.now,
            api: &mut self.api,
            rec: &mut self.rec,
            queue: &mut self.queue,
        };
        match ev {
            Event::Bootstrap => self.kubectl.bootstrap(&mut ctx),
            Event::Timeline(_)
            | Event::Fault(_)
            | Event::Heal(_)
            | Event::Chaos(_)
            | Event::Join(_)
            | Event::Drain(_)
            | Event::Autoscale(_)
            | Event::Cloud(_)
            | Event::ProxySync
            | Event::IngressSync => {
                unreachable!("handled above")
            }
            Event::NodeLifecycle(e) => {
                self.node_lifecycle.on_event(&mut ctx, &e);
                if e == NodeLifecycleEvent::Monitor {
                    // the pod GC runs in the same controller manager
                    self.pod_gc.sweep(ctx.api, ctx.rec, ctx.now);
                }
            }
            Event::Watch(target, change) => match target {
                Target::Scheduler => self.scheduler.on_watch(&mut ctx, &change),
                Target::Controller(ControllerId::ReplicaSet) => {
                    self.replicasets.on_watch(&mut ctx, &change)
                }
                Target::Controller(ControllerId::Deployment) => {
                    self.deployments.on_watch(&mut ctx, &change)
                }
                Target::Controller(ControllerId::Job) => self.jobs.on_watch(&mut ctx, &change),
                Target::Controller(ControllerId::ReplicationController) => {
                    self.replication.on_watch(&mut ctx, &change)
                }
                Target::Controller(ControllerId::StatefulSet) => {
                    self.statefulsets.on_watch(&mut ctx, &change)
                }
                Target::Controller(ControllerId::DaemonSet) => {
                    self.daemonsets.on_watch(&mut ctx, &change)
                }
                Target::Controller(ControllerId::CronJob) => {
                    self.cronjobs.on_watch(&mut ctx, &change)
                }
                Target::Controller(ControllerId::Endpoints) => {
                    self.endpoints.on_watch(&mut ctx, &change)
                }
                Target::Controller(ControllerId::Volume) => {
                    self.volumes.on_watch(&mut ctx, &change)
                }
                Target::Controller(ControllerId::Disruption) => {
                    self.disruption.on_watch(&mut ctx, &change)
                }
                Target::CloudController => self.cloud.on_watch(&mut ctx, &change),
                Target::KubeProxy if change.kind == Kind::Ingress => {
                    let t = self.dataplane.on_ingress_change(&change.key, self.now);
                    self.queue.push(t, Event::IngressSync);
                }
                Target::KubeProxy => {
                    if let Some(t) = self.dataplane.on_service_change(&change.key, self.now) {
                        self.queue.push(t, Event::ProxySync);
                    }
                }
                Target::GarbageCollector => self.gc.on_owner_deleted(&mut ctx, change.uid),
                Target::Kubelet(i) => self.kubelets[i as usize].on_watch(&mut ctx, &change),
            },
            Event::Sync(ControllerId::ReplicaSet, key) => self.replicasets.on_sync(&mut ctx, &key),
            Event::Sync(ControllerId::Deployment, key) => self.deployments.on_sync(&mut ctx, &key),
            Event::Sync(ControllerId::Job, key) => self.jobs.on_sync(&mut ctx, &key),
            Event::Sync(ControllerId::ReplicationController, key) => {
                self.replication.on_sync(&mut ctx, &key)
            }
            Event::Sync(ControllerId::StatefulSet, key) => {
                self.statefulsets.on_sync(&mut ctx, &key)
            }
            Event::Sync(ControllerId::DaemonSet, key) => self.daemonsets.on_sync(&mut ctx, &key),
            Event::Sync(ControllerId::CronJob, key) => self.cronjobs.on_sync(&mut ctx, &key),
            Event::Sync(ControllerId::Endpoints, key) => self.endpoints.on_sync(&mut ctx, &key),
            Event::Sync(ControllerId::Volume, key) => self.volumes.on_sync(&mut ctx, &key),
            Event::Sync(ControllerId::Disruption, key) => self.disruption.on_sync(&mut ctx, &key),
            Event::Scheduler(e) => {
                let view = view.expect("built for scheduler events");
                crate::scheduler::plugins::volume_binding::with_view(view, || {
                    self.scheduler.on_event(&mut ctx, &e)
                })
            }
            Event::Kubelet(i, e) => self.kubelets[i as usize].on_event(&mut ctx, &e),
            Event::Arrival => {
                if let Some(a) = self.arrivals.next() {
                    crate::workload::create_pod(&mut ctx, a);
                }
                if let Some(t) = self.arrivals.peek_time() {
                    ctx.at(t, Event::Arrival);
                }
            }
            Event::Sample => {
                self.sampler.sample(&self.api, self.now);
                // keep sampling only while something else is still to happen
                if !self.queue.is_empty() {
                    self.queue
                        .push_background(self.now + self.sampler.interval, Event::Sample);
                }
            }
        }
    }

    /// Turn the API writes of the last handler into watch notifications.
    fn route_changes(&mut self) {
        let changes = self.api.take_changes();
        if self.track_changes {
            self.last_changes.clone_from(&changes);
        }
        if changes.is_empty() {
            return;
        }
        let nodes_moved = self.dataplane.has_traffic()
            && changes
                .iter()
                .any(|c| c.kind == Kind::Node && c.op != Op::Modified);
        let at = self.now + self.settings.watch_delay;
        for c in changes {
            let c = Rc::new(c);
            self.recovery.observe(&self.api, &c, self.now);
            if c.kind == Kind::Node && c.op != Op::Modified {
                self.node_clock.observe(&self.api, &c, self.now);
            }
            if c.kind == Kind::Pod {
                self.pod_gc.observe(&self.api, &c.key);
            }
            let send = |q: &mut EventQueue<Event>, t: Target, c: &Rc<Change>| {
                q.push(at, Event::Watch(t, Rc::clone(c)))
            };
            // the disruption controller: budgets, and what they count
            if c.kind == Kind::PodDisruptionBudget
                || (matches!(c.kind, Kind::Pod | Kind::ReplicaSet | Kind::Deployment)
                    && !self.api.store().pod_disruption_budgets.is_empty())
            {
                send(
                    &mut self.queue,
                    Target::Controller(ControllerId::Disruption),
                    &c,
                );
            }
            match c.kind {
                Kind::Pod => {
                    send(&mut self.queue, Target::Scheduler, &c);
                    if !self.api.store().services.is_empty() {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::Endpoints),
                            &c,
                        );
                    }
                    // owned pods, and ownerless ones a ReplicaSet may adopt
                    if matches!(c.owner, Some((Kind::ReplicaSet, _)))
                        || (c.owner.is_none() && c.op != Op::Deleted)
                    {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::ReplicaSet),
                            &c,
                        );
                    }
                    // the Deployment controller's deletePod (Recreate rollouts)
                    if c.op == Op::Deleted && matches!(c.owner, Some((Kind::ReplicaSet, _))) {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::Deployment),
                            &c,
                        );
                    }
                    if matches!(c.owner, Some((Kind::Job, _))) {
                        send(&mut self.queue, Target::Controller(ControllerId::Job), &c);
                    }
                    let owned_by = |k: Kind| matches!(&c.owner, Some((o, _)) if *o == k);
                    if owned_by(Kind::ReplicationController)
                        || (c.owner.is_none()
                            && c.op != Op::Deleted
                            && !self.api.store().replication_controllers.is_empty())
                    {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::ReplicationController),
                            &c,
                        );
                    }
                    if owned_by(Kind::StatefulSet) {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::StatefulSet),
                            &c,
                        );
                    }
                    if owned_by(Kind::DaemonSet) {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::DaemonSet),
                            &c,
                        );
                    }
                    if let Some(i) = c.node.as_ref().and_then(|n| self.kubelet_index.get(n)) {
                        send(&mut self.queue, Target::Kubelet(*i), &c);
                    }
                    // pods that use claims, and ones that did (the volume controllers)
                    let uses_claims = self
                        .api
                        .get::<crate::api::Pod>(&c.key)
                        .is_some_and(|p| p.spec.claims().next().is_some());
                    if uses_claims || self.volumes.tracks(&c.key) {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::Volume),
                            &c,
                        );
                    }
                }
                Kind::Node => {
                    match (c.op, self.kubelet_index.get(&c.key.name).copied()) {
                        (Op::Added, None) => self.start_kubelet(&c.key.name),
                        (Op::Added, Some(i)) => {
                            // the same name joins again: a fresh kubelet
                            let mut ctx = Ctx {
                                now: self.now,
                                api: &mut self.api,
                                rec: &mut self.rec,
                                queue: &mut self.queue,
                            };
                            self.kubelets[i as usize].recover(&mut ctx);
                            self.dataplane.kubelets_moved();
                        }
                        // a deleted Node's machine is gone
                        (Op::Deleted, Some(i)) => {
                            self.kubelets[i as usize].crash(&mut self.api);
                            self.dataplane.kubelets_moved();
                        }
                        _ => {}
                    }
                    send(&mut self.queue, Target::Scheduler, &c);
                    // nodes joining, leaving or changing labels and taints
                    if !self.api.store().daemonsets.is_empty() && c.op != Op::Modified
                        || (c.op == Op::Modified && self.daemon_relevant(&c.key))
                    {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::DaemonSet),
                            &c,
                        );
                    }
                }
                Kind::ReplicaSet => {
                    send(
                        &mut self.queue,
                        Target::Controller(ControllerId::ReplicaSet),
                        &c,
                    );
                    if matches!(c.owner, Some((Kind::Deployment, _)))
                        || (c.owner.is_none() && c.op != Op::Deleted)
                    {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::Deployment),
                            &c,
                        );
                    }
                }
                Kind::Deployment => {
                    send(
                        &mut self.queue,
                        Target::Controller(ControllerId::Deployment),
                        &c,
                    );
                }
                Kind::Namespace => {
                    send(&mut self.queue, Target::Scheduler, &c);
                }
                Kind::Service => {
                    send(
                        &mut self.queue,
                        Target::Controller(ControllerId::Endpoints),
                        &c,
                    );
                    send(&mut self.queue, Target::KubeProxy, &c);
                    send(&mut self.queue, Target::CloudController, &c);
                }
                Kind::PriorityClass | Kind::IngressClass | Kind::PodDisruptionBudget => {}
                // the VPA recommender works from the metrics server's scrapes
                Kind::VerticalPodAutoscaler => {
                    if !self.metrics_server.running && c.op == Op::Added {
                        self.metrics_server.running = true;
                        self.queue.push(
                            self.now + self.metrics_server.interval,
                            Event::Autoscale(crate::autoscaler::AutoscaleEvent::Scrape),
                        );
                    }
                    if !self.vpa.running && c.op == Op::Added {
                        self.vpa.running = true;
                        self.queue.push(
                            self.now + crate::autoscaler::vpa::UPDATER_INTERVAL,
                            Event::Autoscale(crate::autoscaler::AutoscaleEvent::VpaUpdate),
                        );
                    }
                }
                Kind::HorizontalPodAutoscaler => {
                    // the HPA controller lists HPAs itself; a new one starts its loop
                    let mut ctx = Ctx {
                        now: self.now,
                        api: &mut self.api,
                        rec: &mut self.rec,
                        queue: &mut self.queue,
                    };
                    if self.hpa.on_watch(&mut ctx, &c) && !self.metrics_server.running {
                        self.metrics_server.running = true;
                        self.queue.push(
                            self.now + self.metrics_server.interval,
                            Event::Autoscale(crate::autoscaler::AutoscaleEvent::Scrape),
                        );
                    }
                }
                // the ingress controller (part of the data plane)
                Kind::Ingress => {
                    send(&mut self.queue, Target::KubeProxy, &c);
                }
                Kind::Job => {
                    send(&mut self.queue, Target::Controller(ControllerId::Job), &c);
                    if matches!(c.owner, Some((Kind::CronJob, _))) {
                        send(
                            &mut self.queue,
                            Target::Controller(ControllerId::CronJob),
                            &c,
                        );
                    }
                }
                Kind::CronJob => {
                    send(
                        &mut self.queue,
                        Target::Controller(ControllerId::CronJob),
                        &c,
                    );
                }
                Kind::ReplicationController => {
                    send(
                        &mut self.queue,
                        Target::Controller(ControllerId::ReplicationController),
                        &c,
                    );
                }
                Kind::StatefulSet => {
                    send(
                        &mut self.queue,
                        Target::Controller(ControllerId::StatefulSet),
                        &c,
                    );
                }
                Kind::DaemonSet => {
                    send(
                        &mut self.queue,
                        Target::Controller(ControllerId::DaemonSet),
                        &c,
                    );
                }
                // kubelets refresh mounted content (the others are read when needed)
                Kind::ConfigMap | Kind::Secret => {
                    if c.op != Op::Deleted {
                        for i in 0..self.kubelets.len() as u32 {
                            send(&mut self.queue, Target::Kubelet(i), &c);
                        }
                    }
                }
                Kind::PersistentVolumeClaim | Kind::PersistentVolume | Kind::StorageClass => {
                    self.volume_view = None;
                    send(
                        &mut self.queue,
                        Target::Controller(ControllerId::Volume),
                        &c,
                    );
                    send(&mut self.queue, Target::Scheduler, &c);
                }
            }
            if crate::controllers::gc::wants(&c, &self.api) {
                self.queue
                    .push(at, Event::Watch(Target::GarbageCollector, c));
            }
        }
        if nodes_moved {
            self.refresh_node_net();
        }
    }

    /// The metrics server's scrape, an HPA's sync, the Cluster Autoscaler.
    fn autoscale(&mut self, e: crate::autoscaler::AutoscaleEvent) {
        use crate::autoscaler::AutoscaleEvent as A;
        match e {
            A::Scrape => {
                self.flush_traffic();
                let dp = &self.dataplane;
                self.metrics_server.scrape(
                    &self.api,
                    &|p| dp.served_by(p),
                    &|s| dp.sent_to(s),
                    self.now,
                );
                // the metrics server and the HPAs run for as long as the run
                self.queue.push(
                    self.now + self.metrics_server.interval,
                    Event::Autoscale(A::Scrape),
                );
                if !self.api.store().vertical_pod_autoscalers.is_empty() {
                    let mut ctx = Ctx {
                        now: self.now,
                        api: &mut self.api,
                        rec: &mut self.rec,
                        queue: &mut self.queue,
                    };
                    self.vpa.recommend(&mut ctx, &self.metrics_server);
                }
            }
            A::Hpa(key) => {
                let mut ctx = Ctx {
                    now: self.now,
                    api: &mut self.api,
                    rec: &mut self.rec,
                    queue: &mut self.queue,
                };
                self.hpa.sync(&mut ctx, &key, &self.metrics_server);
            }
            A::VpaUpdate => {
                let mut ctx = Ctx {
                    now: self.now,
                    api: &mut self.api,
                    rec: &mut self.rec,
                    queue: &mut self.queue,
                };
                self.vpa.update(&mut ctx);
                ctx.after(
                    crate::autoscaler::vpa::UPDATER_INTERVAL,
                    Event::Autoscale(A::VpaUpdate),
                );
            }
            A::Scan | A::Join(..) => {
                let Some(ca) = self.cluster_autoscaler.as_mut() else {
                    return;
                };
                let mut ctx = Ctx {
                    now: self.now,
                    api: &mut self.api,
                    rec: &mut self.rec,
                    queue: &mut self.queue,
                };
                match e {
                    A::Scan => ca.scan(&mut ctx),
                    A::Join(g, names) => ca.join(&mut ctx, g, &names),
                    _ => {}
                }
            }
        }
    }

    /// The Cluster Autoscaler, if the scenario has one.
    pub fn cluster_autoscaler(&self) -> Option<&crate::autoscaler::cluster::ClusterAutoscaler> {
        self.cluster_autoscaler.as_ref()
    }

    /// When each node joined and left, for node-hours and cost.
    pub fn node_clock(&self) -> &crate::autoscaler::NodeClock {
        &self.node_clock
    }

    /// The VPA recommender and updater.
    pub fn vpa(&self) -> &crate::autoscaler::vpa::Vpa {
        &self.vpa
    }

    /// The HPA controller (its rescales).
    pub fn hpa(&self) -> &crate::controllers::hpa::HpaController {
        &self.hpa
    }

    /// Whether a Node update may change which nodes run daemon pods: labels or
    /// taints differ from what the DaemonSet controller last saw. Node status
    /// updates are frequent; only these matter to it.
    fn daemon_relevant(&mut self, key: &crate::api::ObjKey) -> bool {
        if self.api.store().daemonsets.is_empty() {
            return false;
        }
        let now = self.api.get::<Node>(key).map(|n| {
            (
                n.meta.labels.clone(),
                n.taints
                    .iter()
                    .map(|t| (t.key.clone(), t.value.clone(), t.effect))
                    .collect::<Vec<_>>(),
            )
        });
        match now {
            Some(v) => {
                let changed = self.node_daemon_view.get(&key.name) != Some(&v);
                self.node_daemon_view.insert(key.name.clone(), v);
                changed
            }
            None => self.node_daemon_view.remove(&key.name).is_some(),
        }
    }

    /// The claims, volumes and classes the scheduler's volume plugins see.
    fn volume_view(
        &mut self,
    ) -> std::sync::Arc<crate::scheduler::plugins::volume_binding::VolumeView> {
        let api = &self.api;
        self.volume_view
            .get_or_insert_with(|| {
                std::sync::Arc::new(
                    crate::scheduler::plugins::volume_binding::VolumeView::from_store(api.store()),
                )
            })
            .clone()
    }

    /// A Node object appeared: its kubelet is there and reports the node Ready.
    fn start_kubelet(&mut self, node: &str) {
        let idx = self.kubelets.len() as u32;
        let images = self
            .api
            .get::<Node>(&crate::api::ObjKey::cluster(node))
            .map(|n| n.status.images.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        self.kubelets.push(Kubelet::new(
            node,
            idx,
            self.settings.kubelet.clone(),
            images,
        ));
        if self.kubelet_index.insert(node.to_string(), idx).is_some() {
            self.kubelet_epoch += 1;
        }
        self.dataplane.kubelets_moved();
        let mut ctx = Ctx {
            now: self.now,
            api: &mut self.api,
            rec: &mut self.rec,
            queue: &mut self.queue,
        };
        self.kubelets[idx as usize].start_heartbeats(&mut ctx);
        self.rec.event(
            self.now,
            &format!("kubelet/{node}"),
            EventType::Normal,
            "NodeReady",
            format!("Node/{node}"),
            format!("Node {node} status is now: NodeReady"),
        );
    }

    /// The end-of-run figures.
    pub fn summary(&self) -> Summary {
        Summary::collect(self)
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn wall_ms(&self) -> u64 {
        self.wall_ms
    }
    pub fn gc(&self) -> &GarbageCollector {
        &self.gc
    }
    pub fn sampler(&self) -> &Sampler {
        &self.sampler
    }
    /// Keep the detailed metrics time series (`metrics.csv`); sampling only reads.
    pub fn keep_timeseries(&mut self) {
        self.sampler.keep_series();
    }
    /// Keep the detailed metrics time series, streaming each finished sample
    /// to `sink` (see [`crate::metrics::timeseries`]).
    /// With `cluster_only`, no rows per node, Deployment, ReplicaSet or HPA.
    pub fn stream_timeseries(
        &mut self,
        sink: crate::metrics::timeseries::CsvSink,
        cluster_only: bool,
    ) {
        self.sampler.stream_series(sink);
        if let Some(ts) = self.sampler.series.as_mut() {
            ts.cluster_only = cluster_only;
        }
    }
    /// Availability and fault figures so far.
    pub fn recovery(&self) -> &crate::metrics::recovery::Recovery {
        &self.recovery
    }
    pub fn node_lifecycle(&self) -> &NodeLifecycleController {
        &self.node_lifecycle
    }
    /// Keep each event's API changes for [`Simulation::last_changes`].
    pub fn set_track_changes(&mut self, on: bool) {
        self.track_changes = on;
        self.last_changes.clear();
    }
    /// Whether [`Simulation::last_changes`] is kept.
    pub fn tracks_changes(&self) -> bool {
        self.track_changes
    }
    /// The API changes the last event made (with change tracking on).
    pub fn last_changes(&self) -> &[crate::api::Change] {
        &self.last_changes
    }
    /// Every node's kubelet (crashed ones too).
    pub fn kubelets(&self) -> &[Kubelet] {
        &self.kubelets
    }
    /// Nodes with a running kubelet.
    pub fn kubelet_count(&self) -> usize {
        self.kubelets.len()
    }
}

/// Why a simulation could not be set up from a scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// A profile names a policy the registry does not have.
    #[error(transparent)]
    UnknownPolicy(#[from] UnknownPolicy),
    /// A profile's plugin configuration does not apply.
    #[error("scheduler profile {profile:?}: {path}: {message}")]
    Profile {
        profile: String,
        path: String,
        message: String,
    },
}

/// The profile `name` built from `policy` with the scenario's overrides and settings.
pub fn build_profile(
    s: &Settings,
    registry: &Registry,
    name: &str,
    policy: &str,
) -> Result<crate::scheduler::framework::Profile, SetupError> {
    let mut p = registry.build(policy, name)?;
    if let Some(o) = s.profile_overrides.get(name) {
        crate::scheduler::config::apply(&mut p, o).map_err(|e| SetupError::Profile {
            profile: name.to_string(),
            path: e.path,
            message: e.message,
        })?;
    }
    if s.percentage_of_nodes_to_score.is_some() {
        p.percentage_of_nodes_to_score = s.percentage_of_nodes_to_score;
    }
    Ok(p)
}

/// Apply order for a list of objects (namespaces first, ...), stable within a rank.
pub fn sort_for_apply(objs: &mut [AnyObject]) {
    objs.sort_by_key(|o| o.apply_rank());
}
