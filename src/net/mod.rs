//! The data plane: kube-proxy's routing views and the traffic of the
//! scenario's clients.
//!
//! kube-proxy. Every node's kube-proxy watches Services (and their endpoints)
//! and reprograms its rules at most once per `minSyncPeriod` (1 s). All proxies
//! that can hear the API see the same changes at the same moments, so they
//! share one view; it lags the endpoints controller by the watch delay plus the
//! sync wait. A node cut off from the API server (`network-partition`) keeps
//! the rules it had — a frozen copy of the view taken when it went dark — until
//! it hears the API again and resyncs. Mode `iptables` spreads new connections
//! uniformly over the ready endpoints, `ipvs` round-robin — in aggregate the
//! same shares.
//!
//! Paths. A client inside the cluster sits on the nodes that are up and calls
//! the ClusterIP through its node's rules. From outside, a `nodePort` client
//! calls every node's port in turn (a dead node does not answer;
//! `externalTrafficPolicy: Local` drops traffic at a node without a local
//! endpoint), and a `loadBalancer` client goes through the cloud load balancer,
//! which sends only to nodes passing its health check (Local: nodes with a
//! local endpoint). `sessionAffinity: ClientIP` pins each client address to one
//! endpoint until that endpoint leaves the view.
//!
//! Traffic is simulated in aggregate, not request by request: between two
//! moments where routing or the pods' ability to answer can change (a proxy
//! sync, a kubelet event, a fault, a minute boundary), every client's share of
//! requests sent to each endpoint is fixed, so the requests of the interval are
//! split exactly in expectation — with the fractions carried over, so counts
//! stay integers and sum exactly. The cost grows with the number of changes,
//! not with the request rate. Whether each pod answers is remembered from
//! flush to flush until something happens to that pod or to the kubelets at
//! large (the simulation says so at each such moment), so a flush is little
//! more than a walk over the clients' routes. A pod with a concurrency limit
//! is an M/M/c/K queue in its steady state for the interval ([`queueing`]):
//! queueing latency first, then 503s. A request to an endpoint whose pod
//! does not answer (crashed node, stopped or not yet started app) times out
//! after the client's timeout; with no ready endpoint it is refused at once.
//! `model: per-request` replays the same intervals request by request
//! instead (for small rates, and to check the aggregate model against).

pub mod cloud;
pub mod queueing;
pub mod traffic;

pub use traffic::{Arrivals, ClientSpec, Destination, Model, Origin, RateCurve};

use crate::api::{ObjKey, Service};
use crate::sim::rng::SimRng;
use crate::sim::time::{SimDuration, SimTime};
use crate::workload::detmath;
use crate::workload::dist::{standard_normal, unit_closed0, unit_open0};
use rand::Rng;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::rc::Rc;

/// kube-proxy settings (`cluster.kubeProxy`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySettings {
    /// `--iptables-min-sync-period` / `minSyncPeriod`.
    pub min_sync: SimDuration,
    /// `iptables` or `ipvs`.
    pub mode: String,
    /// The ingress controller's delay from an Ingress change to serving it.
    pub ingress_delay: SimDuration,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            min_sync: SimDuration::from_secs(1),
            mode: "iptables".into(),
            ingress_delay: SimDuration::from_secs(1),
        }
    }
}

/// Whose figures a client's requests go to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dest {
    Service(ObjKey),
    Ingress(ObjKey),
}

impl std::fmt::Display for Dest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dest::Service(k) => write!(f, "{k}"),
            Dest::Ingress(k) => write!(f, "ingress/{k}"),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Counts {
    requests: u64,
    succeeded: u64,
    failed: u64,
    timed_out: u64,
    rejected: u64,
    not_found: u64,
}

/// One minute of one Service, for `traffic.csv`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MinuteRow {
    pub requests: u64,
    /// Refused or rejected at once.
    pub failed: u64,
    pub timed_out: u64,
    /// Rejected by an overloaded pod (part of `failed`).
    pub rejected: u64,
    /// Answered 404 by the ingress controller: no rule matched (part of `failed`).
    pub not_found: u64,
    /// Sum of the latencies of the minute's succeeded requests, in ms.
    pub latency_sum_ms: f64,
}

/// What kube-proxy has programmed for one Service.
#[derive(Debug, Clone, Default, PartialEq)]
struct ServiceView {
    /// Ready endpoints (pod, node).
    eps: Vec<(ObjKey, String)>,
    local: bool,
    affinity: bool,
    /// The cloud load balancer exists.
    lb: bool,
}

type View = BTreeMap<ObjKey, ServiceView>;

/// A node as the data plane sees it.
#[derive(Debug, Clone, PartialEq)]
struct NodeNet {
    /// The machine is up (not crashed).
    alive: bool,
    /// Its kube-proxy can hear the API server.
    hears: bool,
    /// Its kube-proxy follows the shared view; else the frozen view `Some(i)`.
    frozen: Option<u32>,
}

/// Where one share of a client's requests ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Hop {
    /// Refused at once (no endpoint in the rules, no load balancer).
    Refused,
    /// Sent where nothing answers: times out.
    Dropped,
    /// The ingress controller has no route for it: 404.
    NotFound,
    /// To the pod `pods[i]`.
    Pod(u32),
}

/// A client's routing for an interval: the pods and the share of each hop.
#[derive(Debug, Clone, Default)]
struct Routes {
    pods: Vec<RoutePod>,
    shares: Vec<(Hop, f64)>,
}

/// One pod a client's routes lead to.
#[derive(Debug, Clone)]
struct RoutePod {
    key: ObjKey,
    /// The node it runs on.
    node: String,
    /// The caller's, see [`ServeHint`].
    hint: ServeHint,
    /// Its place in [`DataPlane::served`] and [`DataPlane::stamps`].
    slot: u32,
    /// Its last answer, see [`DataPlane::ask`].
    known: std::cell::Cell<Known>,
}

/// A pod's answer to [`Serves`] with the [`DataPlane::serve_epoch`] and the
/// pod's stamp it was given under (epoch 0: nothing known).
#[derive(Debug, Clone, Copy, Default)]
struct Known {
    epoch: u64,
    stamp: u64,
    answer: Serving,
}

impl Routes {
    /// `served_slot` gives a pod's place in [`DataPlane::served`].
    fn build(acc: BTreeMap<Target, f64>, mut served_slot: impl FnMut(&ObjKey) -> u32) -> Routes {
        let mut r = Routes::default();
        for (t, w) in acc {
            if w <= 0.0 {
                continue;
            }
            let hop = match t {
                Target::Refused => Hop::Refused,
                Target::Dropped => Hop::Dropped,
                Target::NotFound => Hop::NotFound,
                Target::Pod(p, n) => {
                    let slot = served_slot(&p);
                    r.pods.push(RoutePod {
                        key: p,
                        node: n,
                        hint: ServeHint::default(),
                        slot,
                        known: Default::default(),
                    });
                    Hop::Pod(r.pods.len() as u32 - 1)
                }
            };
            r.shares.push((hop, w));
        }
        r
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Refused,
    Dropped,
    NotFound,
    Pod(ObjKey, String),
}

struct Client {
    spec: ClientSpec,
    /// Fractions of a request not yet counted: sent, refused, timed out, rejected.
    carry: [f64; 4],
    /// `sessionAffinity: ClientIP`: the pod each client address is pinned to.
    pinned: Vec<Option<ObjKey>>,
    /// Requests sent so far (ipvs round-robin position in per-request mode).
    sent: u64,
    /// Routes of the last interval, with the versions they were built from.
    routes: Option<((u64, u64, u64), Rc<Routes>)>,
    /// Whose figures its requests count in.
    dest: Dest,
}

/// Per Service in `summary.json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceFigures {
    pub requests: u64,
    pub succeeded: u64,
    /// Answered with an error at once: no ready endpoint in the routing view
    /// (or no load balancer yet), or rejected by an overloaded pod.
    pub failed: u64,
    /// Sent to an endpoint that did not answer.
    pub timed_out: u64,
    /// succeeded / requests (null without requests).
    pub success_ratio: Option<f64>,
    /// Latency percentiles over all requests (a success takes the service time
    /// plus any queueing; a timeout the client's timeout; a refusal 0).
    pub latency_ms: crate::metrics::summary::Percentiles,
    /// Of `failed`: rejected (503) by a pod whose queue was full.
    pub rejected: u64,
    /// Of `failed`: answered 404 by the ingress controller (Ingress clients).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_found: Option<u64>,
    /// Whether TLS was terminated at the ingress for these requests (Ingress clients).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_terminated: Option<bool>,
    /// Mean latency of the succeeded requests, in ms.
    pub latency_mean_ms: Option<f64>,
}

/// One pod's queue in per-request mode.
#[derive(Debug, Default)]
struct PodQueue {
    /// When each of its `c` workers is next free (µs).
    free: Vec<u64>,
    /// When each request in the pod finishes (µs), earliest first.
    inside: BinaryHeap<std::cmp::Reverse<u64>>,
}

pub struct DataPlane {
    settings: ProxySettings,
    /// The shared routing view.
    view: View,
    /// Views frozen on nodes cut off from the API, with how many nodes use each.
    frozen: BTreeMap<u32, (View, u32)>,
    next_frozen: u32,
    nodes: BTreeMap<String, NodeNet>,
    /// Bumped at every change of the nodes or their views, to reuse routes.
    version: u64,
    /// Nodes per view, see [`DataPlane::count_groups`].
    groups: BTreeMap<Option<u32>, (u64, u64)>,
    /// Bumped when a Service's entry of the shared view changes.
    svc_versions: BTreeMap<ObjKey, u64>,
    /// Pods that traffic may reach (endpoints in any view of a Service with
    /// clients): only their kubelets' events can change what requests meet.
    /// Each counts the (view, Service) entries that list it, so that a
    /// change to one entry updates only its own pods (see [`count_entry`]).
    watched: crate::api::table::LookupMap<ObjKey, u32>,
    /// The Services that clients send to (Ingress clients: where their route
    /// leads now).
    client_services: BTreeSet<ObjKey>,
    dirty: BTreeSet<ObjKey>,
    /// Some node hears the API again: thaw it at the next sync.
    thaw_pending: bool,
    last_sync: Option<SimTime>,
    sync_at: Option<SimTime>,
    clients: Vec<Client>,
    rng: SimRng,
    queues: BTreeMap<ObjKey, PodQueue>,
    /// The ingress controller's view of the Ingresses.
    ingresses: BTreeMap<ObjKey, crate::api::Ingress>,
    ingress_dirty: BTreeSet<ObjKey>,
    ingress_version: u64,
    last_flush: SimTime,
    counts: BTreeMap<Dest, Counts>,
    /// Per-destination latency tallies: latency ms → requests (expected, so fractional).
    latencies: BTreeMap<Dest, BTreeMap<u64, f64>>,
    /// Failed or timed-out requests per flush: (interval start, end, count).
    pub failures: Vec<(SimTime, SimTime, u64)>,
    /// Per minute and Service (or Ingress), for traffic.csv.
    pub series: BTreeMap<(u64, Dest), MinuteRow>,
    /// Requests each pod has answered so far (expected counts, aggregate
    /// clients): what the metrics server turns into per-pod request rates and
    /// CPU use. By the slot `served_slots` gives a pod when it first enters
    /// some client's routes, which keep it: every flush adds to every pod
    /// behind every client, and a lookup by name there was a tenth of a day's
    /// run at 5,000 nodes.
    served: Vec<f64>,
    served_slots: crate::api::table::LookupMap<ObjKey, u32>,
    /// Per slot of `served`: bumped when something happened to that pod
    /// ([`DataPlane::pod_moved`]), so that its remembered answer is void.
    stamps: Vec<u64>,
    /// Bumped when kubelets may have changed beyond single pods (faults,
    /// nodes up, down, joining or leaving): every remembered answer is void.
    serve_epoch: u64,
}

/// Where the last answer for one endpoint was read, kept for the caller of
/// [`Serves`] so that its next answer (asked again whenever the last one is
/// void, see [`DataPlane::ask`]) can skip the lookups by name. The data
/// plane only stores it; `[0; 3]` means nothing is known yet.
pub type ServeHint = std::cell::Cell<[u64; 3]>;

/// Whether pod `pod` on node `node` answers now (`hint`: see [`ServeHint`]).
pub type Serves<'a> = &'a dyn Fn(&ObjKey, &str, &ServeHint) -> Serving;

/// Whether a pod answers requests, and until when that holds while nothing
/// happens to the pod or its node (the end of its app's start-up, when that
/// is what it waits for; else [`SimTime::MAX`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Serving {
    pub serves: bool,
    pub until: SimTime,
}

impl DataPlane {
    pub fn new(settings: ProxySettings, clients: &[ClientSpec], seed: u64) -> Self {
        DataPlane {
            settings,
            view: BTreeMap::new(),
            frozen: BTreeMap::new(),
            next_frozen: 0,
            nodes: BTreeMap::new(),
            version: 0,
            groups: BTreeMap::new(),
            svc_versions: BTreeMap::new(),
            watched: crate::api::table::lookup_map(),
            client_services: clients.iter().map(|c| c.service.clone()).collect(),
            dirty: BTreeSet::new(),
            thaw_pending: false,
            last_sync: None,
            sync_at: None,
            clients: clients
                .iter()
                .map(|c| Client {
                    spec: c.clone(),
                    carry: [0.0; 4],
                    pinned: vec![None; c.sources as usize],
                    sent: 0,
                    routes: None,
                    dest: match &c.destination {
                        Destination::Service(k) => Dest::Service(k.clone()),
                        Destination::Ingress { ingress, .. } => Dest::Ingress(ingress.clone()),
                    },
                })
                .collect(),
            rng: crate::sim::rng::stream(seed, "traffic"),
            queues: BTreeMap::new(),
            ingresses: BTreeMap::new(),
            ingress_dirty: BTreeSet::new(),
            ingress_version: 0,
            last_flush: SimTime::ZERO,
            counts: BTreeMap::new(),
            latencies: BTreeMap::new(),
            failures: Vec::new(),
            series: BTreeMap::new(),
            served: Vec::new(),
            served_slots: crate::api::table::lookup_map(),
            stamps: Vec::new(),
            serve_epoch: 1,
        }
    }

    /// Moves whenever routing may have changed (node states, views).
    pub fn node_version(&self) -> u64 {
        self.version
    }

    /// Requests pod `pod` has answered so far (aggregate clients).
    pub fn served_by(&self, pod: &ObjKey) -> f64 {
        self.served_slots
            .get(pod)
            .map_or(0.0, |&i| self.served[i as usize])
    }

    /// Requests sent to Service `svc` so far, answered or not.
    pub fn sent_to(&self, svc: &ObjKey) -> u64 {
        self.counts
            .get(&Dest::Service(svc.clone()))
            .map_or(0, |c| c.requests)
    }

    /// Whether any client sends traffic.
    pub fn has_traffic(&self) -> bool {
        !self.clients.is_empty()
    }

    /// A Service changed: its endpoints reach the view at the next sync.
    /// Returns when that sync should run, if a new one is needed.
    pub fn on_service_change(&mut self, key: &ObjKey, now: SimTime) -> Option<SimTime> {
        self.dirty.insert(key.clone());
        self.request_sync(now)
    }

    /// An Ingress changed: the ingress controller serves it after its delay.
    pub fn on_ingress_change(&mut self, key: &ObjKey, now: SimTime) -> SimTime {
        self.ingress_dirty.insert(key.clone());
        now + self.settings.ingress_delay
    }

    /// The ingress controller reloads: the changed Ingresses route from now on,
    /// and each Ingress client's host and path are matched again.
    /// Returns what it loaded: (Ingress, its paths, or None if it is gone).
    pub fn sync_ingresses(&mut self, api: &crate::api::ApiServer) -> Vec<(ObjKey, Option<usize>)> {
        let mut loaded = Vec::new();
        if self.ingress_dirty.is_empty() {
            return loaded;
        }
        for key in std::mem::take(&mut self.ingress_dirty) {
            match api.get::<crate::api::Ingress>(&key) {
                Some(i) => {
                    let paths = i.rules.iter().map(|r| r.paths.len()).sum();
                    loaded.push((key.clone(), Some(paths)));
                    self.ingresses.insert(key, i.clone())
                }
                None => {
                    loaded.push((key.clone(), None));
                    self.ingresses.remove(&key)
                }
            };
        }
        self.ingress_version += 1;
        for c in &mut self.clients {
            if let Destination::Ingress {
                ingress,
                host,
                path,
            } = &c.spec.destination
            {
                let to = self
                    .ingresses
                    .get(ingress)
                    .and_then(|i| i.route(host, path))
                    .map_or(String::new(), |b| b.service.clone());
                c.spec.service = ObjKey::new(&ingress.namespace, to);
            }
        }
        // which Services have clients may have changed: count them all again
        self.client_services = self
            .clients
            .iter()
            .map(|c| c.spec.service.clone())
            .collect();
        self.watched = self.recompute_watched();
        loaded
    }

    fn request_sync(&mut self, now: SimTime) -> Option<SimTime> {
        if self.sync_at.is_some() {
            return None;
        }
        let at = match self.last_sync {
            Some(t) => (t + self.settings.min_sync).max(now),
            None => now,
        };
        self.sync_at = Some(at);
        Some(at)
    }

    /// The nodes as they are now: (name, machine up, kube-proxy hears the
    /// API). A node that stops hearing keeps a frozen copy of the view; one that
    /// hears again goes back to the shared view at the next sync, which this
    /// returns if one must be scheduled.
    pub fn set_nodes<'a>(
        &mut self,
        nodes: impl Iterator<Item = (&'a str, bool, bool)>,
        now: SimTime,
    ) -> Option<SimTime> {
        // (the names are distinct: one per kubelet)
        let mut seen: Vec<&str> = Vec::with_capacity(self.nodes.len());
        let frozen_before: Vec<u32> = self.frozen.keys().copied().collect();
        let mut freeze_id = None;
        let mut resync = false;
        for (name, alive, hears) in nodes {
            seen.push(name);
            if !self.nodes.contains_key(name) {
                let fresh = NodeNet {
                    alive,
                    hears,
                    frozen: None,
                };
                self.nodes.insert(name.to_string(), fresh);
            }
            let cur = self.nodes.get_mut(name).expect("inserted above");
            cur.hears = hears;
            if cur.alive != alive {
                cur.alive = alive;
                self.version += 1;
            }
            match (cur.frozen, hears) {
                (None, false) => {
                    // one frozen copy for all nodes going dark at this moment
                    let id = *freeze_id.get_or_insert_with(|| {
                        let id = self.next_frozen;
                        self.next_frozen += 1;
                        let view = self.view.clone();
                        for s in &self.client_services {
                            if let Some(sv) = view.get(s) {
                                count_entry(&mut self.watched, sv, true);
                            }
                        }
                        self.frozen.insert(id, (view, 0));
                        id
                    });
                    self.frozen.get_mut(&id).expect("just added").1 += 1;
                    cur.frozen = Some(id);
                    self.version += 1;
                }
                (Some(_), true) => resync = true,
                _ => {}
            }
        }
        debug_assert!(
            seen.len() > 2000 || {
                let mut names = seen.clone();
                names.sort_unstable();
                names.windows(2).all(|w| w[0] != w[1])
            }
        );
        // every name given is in `nodes` now: any more are gone
        let gone: Vec<String> = if self.nodes.len() == seen.len() {
            Vec::new()
        } else {
            let seen: BTreeSet<&str> = seen.into_iter().collect();
            self.nodes
                .keys()
                .filter(|n| !seen.contains(n.as_str()))
                .cloned()
                .collect()
        };
        for n in gone {
            if let Some(NodeNet {
                frozen: Some(id), ..
            }) = self.nodes.remove(&n)
            {
                self.release_frozen(id);
            }
            self.version += 1;
        }
        self.count_groups();
        debug_assert!(
            self.frozen.keys().copied().eq(frozen_before)
                || self.watched == self.recompute_watched()
        );
        // remember who hears again: they thaw at the next sync
        if resync {
            self.thaw_pending = true;
            return self.request_sync(now);
        }
        None
    }

    fn release_frozen(&mut self, id: u32) {
        if let Some(f) = self.frozen.get_mut(&id) {
            f.1 -= 1;
            if f.1 == 0 {
                let (view, _) = self.frozen.remove(&id).expect("found above");
                for s in &self.client_services {
                    if let Some(sv) = view.get(s) {
                        count_entry(&mut self.watched, sv, false);
                    }
                }
            }
        }
    }

    /// kube-proxy syncs: the dirty Services' ready endpoints become the view.
    pub fn sync(&mut self, api: &crate::api::ApiServer, now: SimTime) {
        self.sync_at = None;
        self.last_sync = Some(now);
        let mut moved = false;
        for key in std::mem::take(&mut self.dirty) {
            let entry = api.get::<Service>(&key).map(|s| ServiceView {
                eps: s
                    .status
                    .endpoints
                    .iter()
                    .filter(|e| e.ready)
                    .map(|e| (e.pod.clone(), e.node.clone()))
                    .collect(),
                local: s.traffic_local,
                affinity: s.session_affinity,
                lb: s.status.load_balancer_ip.is_some(),
            });
            // routes built on this Service's entry are rebuilt only if it changed
            if self.view.get(&key) != entry.as_ref() {
                moved = true;
                if self.client_services.contains(&key) {
                    // the new entry first: a pod in both keeps its count above 0
                    if let Some(new) = &entry {
                        count_entry(&mut self.watched, new, true);
                    }
                    if let Some(old) = self.view.get(&key) {
                        count_entry(&mut self.watched, old, false);
                    }
                }
                *self.svc_versions.entry(key.clone()).or_default() += 1;
                match entry {
                    Some(e) => self.view.insert(key, e),
                    None => self.view.remove(&key),
                };
            }
        }
        if std::mem::take(&mut self.thaw_pending) {
            moved = true;
            self.version += 1;
            let thawed: Vec<u32> = self
                .nodes
                .values_mut()
                .filter(|net| net.hears)
                .filter_map(|net| net.frozen.take())
                .collect();
            for id in thawed {
                self.release_frozen(id);
            }
            self.count_groups();
        }
        // (debug builds: the counts kept per change are the ones counted afresh)
        debug_assert!(!moved || self.watched == self.recompute_watched());
    }

    /// [`DataPlane::watched`] counted afresh from all views: when the
    /// Services with clients change, and for debug builds to check the counts.
    fn recompute_watched(&self) -> crate::api::table::LookupMap<ObjKey, u32> {
        let mut watched = crate::api::table::lookup_map();
        let views = std::iter::once(&self.view).chain(self.frozen.values().map(|f| &f.0));
        for v in views {
            for s in &self.client_services {
                if let Some(sv) = v.get(s) {
                    count_entry(&mut watched, sv, true);
                }
            }
        }
        watched
    }

    /// Whether what happens to `pod` can change what requests meet.
    pub fn watches(&self, pod: &ObjKey) -> bool {
        self.watched.contains_key(pod)
    }

    /// Something happened to `pod` on its node (a kubelet event, a watch
    /// change, a fault): ask again whether it answers. The caller tells this
    /// at every such moment of a watched pod, after counting the requests up
    /// to it.
    pub fn pod_moved(&mut self, pod: &ObjKey) {
        if let Some(&i) = self.served_slots.get(pod) {
            self.stamps[i as usize] += 1;
        }
    }

    /// Kubelets may have changed beyond single pods (a fault, a node up or
    /// down): ask every pod again.
    pub fn kubelets_moved(&mut self) {
        self.serve_epoch += 1;
    }

    /// Whether a route's pod answers at `at`. Each flush asks this of every
    /// pod behind every client, and most answers stay as they were: the
    /// last one is kept while neither the pod nor the kubelets moved and
    /// the time it holds to has not come (debug builds ask anyway and
    /// check).
    fn ask(&self, rp: &RoutePod, at: SimTime, serves: Serves) -> bool {
        let known = rp.known.get();
        let stamp = self.stamps[rp.slot as usize];
        if known.epoch == self.serve_epoch && known.stamp == stamp && at < known.answer.until {
            debug_assert_eq!(
                known.answer,
                serves(&rp.key, &rp.node, &rp.hint),
                "{} on {}: a remembered answer that no longer holds at {at}",
                rp.key,
                rp.node
            );
            return known.answer.serves;
        }
        let answer = serves(&rp.key, &rp.node, &rp.hint);
        rp.known.set(Known {
            epoch: self.serve_epoch,
            stamp,
            answer,
        });
        answer.serves
    }
}

/// Count the pods of one (view, Service) entry into the watched set, or out
/// of it (`add` false): a pod leaves the set when no entry lists it. Only a
/// pod new to the set has its key cloned.
fn count_entry(
    watched: &mut crate::api::table::LookupMap<ObjKey, u32>,
    sv: &ServiceView,
    add: bool,
) {
    for (p, _) in &sv.eps {
        match watched.get_mut(p) {
            Some(n) if add => *n += 1,
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    watched.remove(p);
                }
            }
            None if add => {
                watched.insert(p.clone(), 1);
            }
            None => debug_assert!(false, "{p} counted out of the watched set more than in"),
        }
    }
}

/// The golden ratio's fractional part: `k·φ mod 1` spreads picks evenly.
const PHI_FRAC: f64 = 0.618_033_988_749_894_9;

fn secs(d: SimDuration) -> f64 {
    d.as_millis() as f64 / 1000.0
}

/// A Poisson draw of mean `lambda` (Knuth's product below 30, a rounded
/// normal above).
fn poisson(rng: &mut SimRng, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let floor = detmath::exp(-lambda);
        let mut k = 0;
        let mut p = unit_open0(rng.next_u64());
        while p > floor {
            k += 1;
            p *= unit_open0(rng.next_u64());
        }
        k
    } else {
        let z = standard_normal([rng.next_u64(), rng.next_u64()]);
        (lambda + lambda.sqrt() * z).round().max(0.0) as u64
    }
}

/// Take `exact + carry` whole requests (at most `left`), keeping the fraction.
fn take(exact: f64, carry: &mut f64, left: &mut u64) -> u64 {
    let x = exact + *carry;
    let n = x.floor().clamp(0.0, *left as f64);
    *carry = x - n;
    let n = n as u64;
    *left -= n;
    n
}

/// The endpoints of a view entry per node.
fn by_node(sv: &ServiceView) -> BTreeMap<&str, Vec<&ObjKey>> {
    let mut m: BTreeMap<&str, Vec<&ObjKey>> = BTreeMap::new();
    for (p, n) in &sv.eps {
        m.entry(n.as_str()).or_default().push(p);
    }
    m
}

/// What one interval's requests of a client did.
#[derive(Debug, Default)]
struct Outcome {
    sent: u64,
    refused: u64,
    timed_out: u64,
    rejected: u64,
    not_found: u64,
    /// Latency (ms) → succeeded requests.
    latency: BTreeMap<u64, f64>,
    /// Total latency of the succeeded requests (ms).
    latency_sum_ms: f64,
}

impl DataPlane {
    fn view_of(&self, frozen: Option<u32>) -> &View {
        match frozen {
            Some(id) => &self.frozen[&id].0,
            None => &self.view,
        }
    }

    /// Count the nodes per view: (frozen id or shared) → (alive nodes, all
    /// nodes). Only when the nodes change, not per interval.
    fn count_groups(&mut self) {
        let mut g: BTreeMap<Option<u32>, (u64, u64)> = BTreeMap::new();
        for n in self.nodes.values() {
            let e = g.entry(n.frozen).or_default();
            e.0 += u64::from(n.alive);
            e.1 += 1;
        }
        self.groups = g;
    }

    /// Where client `ci`'s requests go now, reusing the last routes while
    /// nothing they depend on changed.
    fn routes(&mut self, ci: usize, groups: &BTreeMap<Option<u32>, (u64, u64)>) -> Rc<Routes> {
        let svc = self.clients[ci].spec.service.clone();
        let key = (
            self.version,
            self.svc_versions.get(&svc).copied().unwrap_or(0),
            self.ingress_version,
        );
        if let Some((k, r)) = &self.clients[ci].routes {
            if *k == key {
                return r.clone();
            }
        }
        let affinity = self.affinity_shares(ci);
        let shares = self.route_shares(ci, groups, affinity.as_ref());
        let (slots, served, stamps) = (&mut self.served_slots, &mut self.served, &mut self.stamps);
        let r = Rc::new(Routes::build(shares, |p| {
            if let Some(&i) = slots.get(p) {
                return i;
            }
            let i = u32::try_from(served.len()).expect("fewer than 2^32 pods served");
            served.push(0.0);
            stamps.push(0);
            slots.insert(p.clone(), i);
            i
        }));
        self.clients[ci].routes = Some((key, r.clone()));
        r
    }

    /// `sessionAffinity: ClientIP` in the shared view: re-pin the client
    /// addresses whose pod left it, and give each pod its pinned share.
    fn affinity_shares(&mut self, ci: usize) -> Option<Vec<(ObjKey, String, f64)>> {
        let svc = &self.clients[ci].spec.service;
        let sv = self
            .view
            .get(svc)
            .filter(|sv| sv.affinity && !sv.eps.is_empty())?;
        let eps: BTreeMap<&ObjKey, &String> = sv.eps.iter().map(|(p, n)| (p, n)).collect();
        let c = &mut self.clients[ci];
        let mut count: BTreeMap<ObjKey, u64> = BTreeMap::new();
        for pin in &mut c.pinned {
            if !pin.as_ref().is_some_and(|p| eps.contains_key(p)) {
                let i = (unit_closed0(self.rng.next_u64()) * sv.eps.len() as f64) as usize;
                *pin = Some(sv.eps[i.min(sv.eps.len() - 1)].0.clone());
            }
            *count.entry(pin.clone().expect("pinned")).or_default() += 1;
        }
        let total = c.pinned.len().max(1) as f64;
        Some(
            count
                .into_iter()
                .map(|(p, k)| {
                    let node = eps[&p].clone();
                    (p, node, k as f64 / total)
                })
                .collect(),
        )
    }

    fn route_shares(
        &self,
        ci: usize,
        groups: &BTreeMap<Option<u32>, (u64, u64)>,
        affinity: Option<&Vec<(ObjKey, String, f64)>>,
    ) -> BTreeMap<Target, f64> {
        let spec = &self.clients[ci].spec;
        let svc = &spec.service;
        let mut acc: BTreeMap<Target, f64> = BTreeMap::new();
        let mut add = |t: Target, w: f64| *acc.entry(t).or_default() += w;
        // spread `w` over the endpoints of `sv` as a node's rules do
        let spread = |add: &mut dyn FnMut(Target, f64), sv: &ServiceView, shared: bool, w: f64| {
            match affinity {
                Some(a) if shared => {
                    for (p, n, share) in a {
                        add(Target::Pod(p.clone(), n.clone()), w * share);
                    }
                }
                _ => {
                    let each = w / sv.eps.len() as f64;
                    for (p, n) in &sv.eps {
                        add(Target::Pod(p.clone(), n.clone()), each);
                    }
                }
            }
        };
        let alive_total: u64 = groups.values().map(|g| g.0).sum();
        let all_total: u64 = groups.values().map(|g| g.1).sum();
        if matches!(spec.destination, Destination::Ingress { .. }) {
            // the ingress controller proxies straight to the endpoints it watches
            if svc.name.is_empty() {
                add(Target::NotFound, 1.0);
            } else {
                match self.view.get(svc).filter(|sv| !sv.eps.is_empty()) {
                    None => add(Target::Refused, 1.0),
                    Some(sv) => spread(&mut add, sv, true, 1.0),
                }
            }
            return acc;
        }
        let lb = self.view.get(svc).is_some_and(|sv| sv.lb);
        let local = self.view.get(svc).is_some_and(|sv| sv.local);
        match spec.origin {
            Origin::LoadBalancer if !lb => add(Target::Refused, 1.0),
            Origin::LoadBalancer if local => {
                // the health check passes on nodes with a local endpoint
                let mut targets = 0;
                for g in groups.keys() {
                    if let Some(sv) = self.view_of(*g).get(svc) {
                        targets += self.spread_local(&mut |_, _| {}, sv, *g, 0.0).0;
                    }
                }
                if targets == 0 {
                    add(Target::Refused, 1.0);
                } else {
                    for g in groups.keys() {
                        if let Some(sv) = self.view_of(*g).get(svc) {
                            self.spread_local(&mut add, sv, *g, 1.0 / targets as f64);
                        }
                    }
                }
            }
            // clients on the nodes that are up, or a balancer passing every
            // node that is up: each node's share through its own rules
            Origin::Inside | Origin::LoadBalancer => {
                if alive_total == 0 {
                    let nobody = if spec.origin == Origin::Inside {
                        Target::Dropped
                    } else {
                        Target::Refused
                    };
                    add(nobody, 1.0);
                }
                for (g, (alive, _)) in groups {
                    if *alive == 0 {
                        continue;
                    }
                    let w = *alive as f64 / alive_total as f64;
                    match self.view_of(*g).get(svc).filter(|sv| !sv.eps.is_empty()) {
                        None => add(Target::Refused, w),
                        Some(sv) => spread(&mut add, sv, g.is_none(), w),
                    }
                }
            }
            Origin::NodePort => {
                if all_total == 0 {
                    add(Target::Dropped, 1.0);
                }
                let dead = all_total - alive_total;
                if dead > 0 {
                    add(Target::Dropped, dead as f64 / all_total as f64);
                }
                for (g, (alive, _)) in groups {
                    if *alive == 0 {
                        continue;
                    }
                    let w = *alive as f64 / all_total as f64;
                    match self.view_of(*g).get(svc).filter(|sv| !sv.eps.is_empty()) {
                        None => add(Target::Refused, w),
                        Some(sv) if sv.local => {
                            let (served, _) =
                                self.spread_local(&mut add, sv, *g, 1.0 / all_total as f64);
                            let unserved = alive - served;
                            if unserved > 0 {
                                add(Target::Dropped, unserved as f64 / all_total as f64);
                            }
                        }
                        Some(sv) => spread(&mut add, sv, g.is_none(), w),
                    }
                }
            }
        }
        acc
    }

    /// `externalTrafficPolicy: Local`: give each alive node of group `g` that
    /// has local endpoints `per_node`, split over them. Returns how many nodes
    /// that was (and the endpoints).
    fn spread_local(
        &self,
        add: &mut dyn FnMut(Target, f64),
        sv: &ServiceView,
        g: Option<u32>,
        per_node: f64,
    ) -> (u64, u64) {
        let mut nodes = 0;
        let mut eps = 0;
        for (node, pods) in by_node(sv) {
            let here = self
                .nodes
                .get(node)
                .is_some_and(|n| n.alive && n.frozen == g);
            if !here {
                continue;
            }
            nodes += 1;
            for p in &pods {
                eps += 1;
                add(
                    Target::Pod((*p).clone(), node.to_string()),
                    per_node / pods.len() as f64,
                );
            }
        }
        (nodes, eps)
    }

    /// Count the requests of every client from the last flush until `now`,
    /// with routing and pods as they are now.
    pub fn flush(&mut self, now: SimTime, serves: Serves) {
        if now <= self.last_flush || self.clients.is_empty() {
            self.last_flush = self.last_flush.max(now);
            return;
        }
        // minute by minute, so the per-minute series is exact
        while self.last_flush < now {
            let next_minute =
                SimTime::from_millis((self.last_flush.as_millis() / 60_000 + 1) * 60_000);
            self.flush_segment(next_minute.min(now), now, serves);
        }
    }

    /// The requests of the interval from the last flush to `now`, with the
    /// pods answering as they do at `at` (the end of the whole flush).
    fn flush_segment(&mut self, now: SimTime, at: SimTime, serves: Serves) {
        let from = self.last_flush;
        let groups = std::mem::take(&mut self.groups);
        // 1. how many requests each client sends, and where
        let mut plans: Vec<Option<(SimTime, u64, Rc<Routes>)>> =
            Vec::with_capacity(self.clients.len());
        for ci in 0..self.clients.len() {
            let c = &self.clients[ci];
            let begin = from.max(SimTime::ZERO + c.spec.start);
            if now <= begin {
                plans.push(None);
                continue;
            }
            let expected = c.spec.rate.integral(begin, now);
            let n = match c.spec.arrivals {
                Arrivals::Uniform => {
                    let mut left = u64::MAX;
                    take(expected, &mut self.clients[ci].carry[0], &mut left)
                }
                Arrivals::Poisson => poisson(&mut self.rng, expected),
            };
            let routes = self.routes(ci, &groups);
            plans.push(Some((begin, n, routes)));
        }
        self.groups = groups;
        // 2. the load on every pod with a concurrency limit (aggregate clients)
        let dt = secs(now.since(from)).max(1e-3);
        let mut load: BTreeMap<ObjKey, (f64, f64, u32, u32)> = BTreeMap::new();
        for (c, plan) in self.clients.iter().zip(&plans) {
            let (Some((_, n, r)), Some(conc)) = (plan, c.spec.concurrency) else {
                continue;
            };
            if c.spec.model != Model::Aggregate {
                continue;
            }
            for (hop, w) in &r.shares {
                if let Hop::Pod(i) = hop {
                    let rp = &r.pods[*i as usize];
                    if self.ask(rp, at, serves) {
                        let e = load.entry(rp.key.clone()).or_insert((
                            0.0,
                            0.0,
                            conc,
                            c.spec.queue_limit,
                        ));
                        let lam = *n as f64 * w / dt;
                        e.0 += lam;
                        e.1 += lam * secs(c.spec.service_time);
                    }
                }
            }
        }
        let mut solved: BTreeMap<(u64, u64, u32, u32), queueing::PodLoad> = BTreeMap::new();
        let mut pod_load: BTreeMap<ObjKey, queueing::PodLoad> = BTreeMap::new();
        for (p, (lam, st, c, q)) in load {
            let s = if lam > 0.0 { st / lam } else { 0.0 };
            let k = (lam.to_bits(), s.to_bits(), c, q);
            let l = solved
                .entry(k)
                .or_insert_with(|| queueing::mmck(lam, s, c, q))
                .clone();
            pod_load.insert(p, l);
        }
        // 3. what became of them
        let mut bad_total = 0;
        let mut per_request = Vec::new();
        for (ci, plan) in plans.into_iter().enumerate() {
            let Some((begin, n, routes)) = plan else {
                continue;
            };
            let out = if self.clients[ci].spec.model == Model::PerRequest {
                per_request.push((ci, begin, n, routes));
                continue;
            } else {
                self.aggregate(ci, n, &routes, &pod_load, at, serves)
            };
            bad_total += self.record(ci, from, &out);
        }
        if !per_request.is_empty() {
            for (ci, out) in self.per_request(per_request, now, at, serves) {
                bad_total += self.record(ci, from, &out);
            }
        }
        if bad_total > 0 {
            self.failures.push((from, now, bad_total));
        }
        self.last_flush = now;
    }

    /// Split `n` requests over the routes in expectation.
    fn aggregate(
        &mut self,
        ci: usize,
        n: u64,
        routes: &Routes,
        pod_load: &BTreeMap<ObjKey, queueing::PodLoad>,
        at: SimTime,
        serves: Serves,
    ) -> Outcome {
        let spec = &self.clients[ci].spec;
        let st_ms = spec.service_time.as_millis() as f64;
        let (mut refused, mut timeout, mut rejected, mut ok) = (0.0, 0.0, 0.0, 0.0);
        let mut not_found = 0.0;
        let mut mean_ms = 0.0;
        let mut lat: BTreeMap<u64, f64> = BTreeMap::new();
        let mut served: Vec<(u32, f64)> = Vec::new();
        for (hop, w) in &routes.shares {
            match hop {
                Hop::Refused => refused += w,
                Hop::NotFound => not_found += w,
                Hop::Dropped => timeout += w,
                Hop::Pod(i) => {
                    let rp = &routes.pods[*i as usize];
                    if !self.ask(rp, at, serves) {
                        timeout += w;
                    } else if let (Some(l), Some(_)) = (pod_load.get(&rp.key), spec.concurrency) {
                        rejected += w * l.blocked;
                        let good = w * (1.0 - l.blocked);
                        served.push((rp.slot, good));
                        ok += good;
                        for (prob, mean, var) in &l.latency {
                            mean_ms += good * prob * mean * 1000.0;
                            for (secs, q) in queueing::latency_points(*mean, *var) {
                                *lat.entry((secs * 1000.0).round() as u64).or_default() +=
                                    good * prob * q;
                            }
                        }
                    } else {
                        served.push((rp.slot, *w));
                        ok += w;
                        mean_ms += w * st_ms;
                        *lat.entry(st_ms as u64).or_default() += w;
                    }
                }
            }
        }
        let nf = n as f64;
        for (slot, w) in served {
            self.served[slot as usize] += nf * w;
        }
        let c = &mut self.clients[ci];
        let mut left = n;
        let refused = take(nf * refused, &mut c.carry[1], &mut left);
        let timed_out = take(nf * timeout, &mut c.carry[2], &mut left);
        let rejected = take(nf * rejected, &mut c.carry[3], &mut left);
        // a route is all or nothing 404: no carry needed
        let not_found = take(nf * not_found, &mut 0.0, &mut left);
        let succeeded = left;
        // the latency mix of the successes, scaled to their count
        let scale = if ok > 0.0 { succeeded as f64 / ok } else { 0.0 };
        for v in lat.values_mut() {
            *v *= scale;
        }
        let latency_sum_ms = mean_ms * scale;
        Outcome {
            sent: n,
            refused,
            timed_out,
            rejected,
            not_found,
            latency: lat,
            latency_sum_ms,
        }
    }

    /// Replay the interval's requests of per-request clients one by one, in
    /// time order, through the pods' queues.
    fn per_request(
        &mut self,
        plans: Vec<(usize, SimTime, u64, Rc<Routes>)>,
        now: SimTime,
        at: SimTime,
        serves: Serves,
    ) -> Vec<(usize, Outcome)> {
        let end_us = now.as_millis() * 1000;
        let mut arrivals: Vec<(u64, usize)> = Vec::new();
        for (k, (ci, begin, n, _)) in plans.iter().enumerate() {
            let b = begin.as_millis() * 1000;
            let span = end_us - b;
            let poisson = self.clients[*ci].spec.arrivals == Arrivals::Poisson;
            for j in 0..*n {
                let t = if poisson {
                    b + (unit_closed0(self.rng.next_u64()) * span as f64) as u64
                } else {
                    b + ((j as f64 + 0.5) * span as f64 / *n as f64) as u64
                };
                arrivals.push((t.min(end_us - 1), k));
            }
        }
        arrivals.sort_unstable();
        let mut outs: Vec<Outcome> = plans.iter().map(|_| Outcome::default()).collect();
        let ipvs = self.settings.mode == "ipvs";
        for (t, k) in arrivals {
            let (ci, _, _, routes) = &plans[k];
            let c = &mut self.clients[*ci];
            let u = if ipvs {
                (c.sent as f64 * PHI_FRAC).fract()
            } else {
                unit_closed0(self.rng.next_u64())
            };
            c.sent += 1;
            let out = &mut outs[k];
            out.sent += 1;
            let mut acc = 0.0;
            let mut hop = routes.shares.last().map_or(Hop::Dropped, |s| s.0);
            for (h, w) in &routes.shares {
                acc += w;
                if u < acc {
                    hop = *h;
                    break;
                }
            }
            match hop {
                Hop::Refused => out.refused += 1,
                Hop::NotFound => out.not_found += 1,
                Hop::Dropped => out.timed_out += 1,
                Hop::Pod(i) => {
                    let rp = &routes.pods[i as usize];
                    let p = &rp.key;
                    if !self.ask(rp, at, serves) {
                        self.queues.remove(p);
                        out.timed_out += 1;
                        continue;
                    }
                    let spec = &self.clients[*ci].spec;
                    let st_us = spec.service_time.as_millis() as f64 * 1000.0;
                    let Some(conc) = spec.concurrency else {
                        *out.latency.entry((st_us / 1000.0) as u64).or_default() += 1.0;
                        out.latency_sum_ms += st_us / 1000.0;
                        continue;
                    };
                    let limit = conc + spec.queue_limit;
                    let q = self.queues.entry(p.clone()).or_default();
                    if q.free.is_empty() {
                        q.free = vec![0; conc as usize];
                    }
                    while q.inside.peek().is_some_and(|f| f.0 <= t) {
                        q.inside.pop();
                    }
                    if q.inside.len() as u64 >= u64::from(limit) {
                        out.rejected += 1;
                        continue;
                    }
                    // FIFO: the worker free first takes it
                    let (w, &free) = q
                        .free
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, f)| **f)
                        .expect("a worker");
                    let start = free.max(t);
                    let service = -detmath::ln(unit_open0(self.rng.next_u64())) * st_us;
                    let finish = start + service.round() as u64;
                    q.free[w] = finish;
                    q.inside.push(std::cmp::Reverse(finish));
                    let ms = (finish - t) as f64 / 1000.0;
                    *out.latency.entry(ms.round() as u64).or_default() += 1.0;
                    out.latency_sum_ms += ms;
                }
            }
        }
        plans.into_iter().map(|p| p.0).zip(outs).collect()
    }

    /// Add an interval's outcome to the figures; returns its failures.
    fn record(&mut self, ci: usize, from: SimTime, out: &Outcome) -> u64 {
        let timeout_ms = self.clients[ci].spec.timeout.as_millis();
        let dest = &self.clients[ci].dest;
        let failed = out.refused + out.rejected + out.not_found;
        let succeeded = out.sent - failed - out.timed_out;
        // entries are made once per destination; later flushes find them
        // without cloning the key (this runs per client at every flush)
        if !self.counts.contains_key(dest) {
            self.counts.insert(dest.clone(), Default::default());
            self.latencies.insert(dest.clone(), Default::default());
        }
        let k = self.counts.get_mut(dest).expect("inserted above");
        k.requests += out.sent;
        k.succeeded += succeeded;
        k.failed += failed;
        k.rejected += out.rejected;
        k.not_found += out.not_found;
        k.timed_out += out.timed_out;
        let lat = self.latencies.get_mut(dest).expect("inserted with counts");
        for (ms, w) in &out.latency {
            *lat.entry(*ms).or_default() += w;
        }
        let sum = out.latency_sum_ms;
        *lat.entry(0).or_default() += failed as f64;
        *lat.entry(timeout_ms).or_default() += out.timed_out as f64;
        let row = self
            .series
            .entry((from.as_millis() / 60_000, dest.clone()))
            .or_default();
        row.requests += out.sent;
        row.failed += failed;
        row.rejected += out.rejected;
        row.timed_out += out.timed_out;
        row.latency_sum_ms += sum;
        failed + out.timed_out
    }

    /// Per-Service figures.
    pub fn figures(&self) -> BTreeMap<String, ServiceFigures> {
        self.figures_of(false)
    }

    /// Per-Ingress figures (clients that call an Ingress).
    pub fn ingress_figures(&self) -> BTreeMap<String, ServiceFigures> {
        self.figures_of(true)
    }

    fn figures_of(&self, ingress: bool) -> BTreeMap<String, ServiceFigures> {
        // Each destination's latency over its succeeded requests, summed over
        // its minutes in one walk of the series (a walk per destination was
        // quadratic: 100 Services over a day's minutes). Each sum adds the
        // same terms in the same order as `Iterator::sum`, from its -0.0.
        let mut ok_latency: BTreeMap<&Dest, f64> = BTreeMap::new();
        for ((_, d), r) in &self.series {
            *ok_latency.entry(d).or_insert(-0.0) += r.latency_sum_ms;
        }
        self.counts
            .iter()
            .filter(|(k, _)| matches!(k, Dest::Ingress(_)) == ingress)
            .map(|(k, c)| {
                let lat = &self.latencies[k];
                let total: f64 = lat.values().sum();
                let pct = |q: f64| -> Option<u64> {
                    if c.requests == 0 || total <= 0.0 {
                        return None;
                    }
                    let rank = (q * total).max(1e-9);
                    let mut seen = 0.0;
                    for (ms, n) in lat {
                        seen += n;
                        if seen >= rank - 1e-9 {
                            return Some(*ms);
                        }
                    }
                    lat.keys().next_back().copied()
                };
                // successes only: total latency mass minus refusals (0 ms)
                // and timeouts is not separable here, so use the series
                let ok_latency = ok_latency.get(k).copied().unwrap_or(-0.0);
                let name = match k {
                    Dest::Service(k) | Dest::Ingress(k) => k.to_string(),
                };
                let tls = match k {
                    Dest::Ingress(key) => Some(self.clients.iter().any(|cl| {
                        matches!(&cl.spec.destination, Destination::Ingress { ingress, host, .. }
                            if ingress == key
                                && self.ingresses.get(key).is_some_and(|i| i.terminates_tls(host)))
                    })),
                    Dest::Service(_) => None,
                };
                (
                    name,
                    ServiceFigures {
                        requests: c.requests,
                        succeeded: c.succeeded,
                        failed: c.failed,
                        timed_out: c.timed_out,
                        success_ratio: (c.requests > 0)
                            .then(|| c.succeeded as f64 / c.requests as f64),
                        latency_ms: crate::metrics::summary::Percentiles {
                            p50: pct(0.5),
                            p99: pct(0.99),
                            max: lat.iter().rev().find(|(_, n)| **n > 0.0).map(|(ms, _)| *ms),
                        },
                        rejected: c.rejected,
                        not_found: ingress.then_some(c.not_found),
                        tls_terminated: tls,
                        latency_mean_ms: (c.succeeded > 0).then(|| ok_latency / c.succeeded as f64),
                    },
                )
            })
            .collect()
    }

    /// Failed and timed-out requests in [from, to] (whole flush intervals that
    /// overlap it, pro rata).
    pub fn failures_between(&self, from: SimTime, to: SimTime) -> u64 {
        let mut sum = 0.0;
        for (a, b, n) in &self.failures {
            let lo = (*a).max(from);
            let hi = (*b).min(to);
            if hi > lo {
                let share = hi.since(lo).as_millis() as f64 / b.since(*a).as_millis() as f64;
                sum += *n as f64 * share;
            }
        }
        sum.round() as u64
    }
}
