//! The kubelet of one node and its container runtime.
//!
//! It watches the pods bound to its node (as the real kubelet does with a
//! `spec.nodeName` field selector), starts them after the image pull and the
//! container start latency, reports them Running and Ready through the API, and
//! stops them gracefully when they are deleted.

use super::behavior::{AppBehavior, AppRun};
use crate::api::config::{SourceKind, VolumeSource};
use crate::api::meta::object_ref;
use crate::api::pod::{PodPhase, PodRequests, PodSpec, Probe, PullPolicy, RestartPolicy};
use crate::api::storage::ClaimPhase;
use crate::api::{
    Change, ConfigMap, Kind, ObjKey, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Uid,
};
use crate::metrics::EventType;
use crate::net::Serving;
use crate::sim::rng::SimRng;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Event};
use std::collections::{BTreeMap, BTreeSet};

/// Annotation that makes a pod finite: its containers exit successfully this long
/// after they start (`10m`), and the pod becomes Succeeded.
pub const RUN_FOR: &str = "kubesim.io/run-for";

/// How often the kubelet renews its node's lease and posts node status
/// (`nodeStatusUpdateFrequency` / the lease renew interval, 10 s upstream).
pub const HEARTBEAT_INTERVAL: SimDuration = crate::api::node::LEASE_RENEW_INTERVAL;

/// Container runtime timings (simulator defaults, settable per scenario).
#[derive(Debug, Clone)]
pub struct KubeletSettings {
    /// Time to pull an image that is not on the node and whose size is not known.
    pub image_pull: SimDuration,
    /// Image sizes in bytes (scenario `cluster.kubelet.imageSizes`): with
    /// `pull_bandwidth`, a pull takes size / bandwidth.
    pub image_sizes: BTreeMap<String, u64>,
    /// Bytes per second one node pulls from the registry.
    pub pull_bandwidth: Option<u64>,
    /// From image present to container running.
    pub container_start: SimDuration,
    /// How long containers take to exit after SIGTERM (capped by the grace period).
    pub pod_stop: SimDuration,
    /// `kubeadm join` → the kubelet has registered its Node (`node-add`).
    pub node_startup: SimDuration,
    /// The simulated apps (scenario `behaviors:`), first match wins.
    pub behaviors: Vec<AppBehavior>,
    /// The scenario seed, for the kubelet's own random stream.
    pub seed: u64,
    /// `syncFrequency`: the periodic pod sync, when mounted ConfigMap and Secret
    /// content is refreshed (60 s upstream).
    pub sync_frequency: SimDuration,
    /// How much later than its watch notification the kubelet's ConfigMap/Secret
    /// cache serves an update (the TTL of the `Cache` change-detection strategy;
    /// 0 with the default `Watch` strategy).
    pub config_cache_ttl: SimDuration,
    /// The pod worker's back-off after a failed sync (`CreateContainerConfigError`
    /// retries; 10 s upstream).
    pub sync_retry: SimDuration,
}

impl Default for KubeletSettings {
    fn default() -> Self {
        KubeletSettings {
            image_pull: SimDuration::from_secs(2),
            image_sizes: BTreeMap::new(),
            pull_bandwidth: None,
            container_start: SimDuration::from_secs(1),
            pod_stop: SimDuration::from_secs(1),
            node_startup: SimDuration::from_secs(20),
            behaviors: Vec::new(),
            seed: 0,
            sync_frequency: SimDuration::from_secs(60),
            config_cache_ttl: SimDuration::ZERO,
            sync_retry: SimDuration::from_secs(10),
        }
    }
}

/// Timers a kubelet sets for itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeletEvent {
    /// The pod's images have been pulled.
    ImagesPulled { pod: ObjKey, uid: Uid },
    /// The pod's containers are up.
    ContainersStarted { pod: ObjKey, uid: Uid },
    /// The pod's containers have exited after termination.
    ContainersStopped { pod: ObjKey, uid: Uid },
    /// A finite pod's work is done (`kubesim.io/run-for`): its containers exit 0.
    ContainersCompleted { pod: ObjKey, uid: Uid, gen: u32 },
    /// The app of container run `gen` exits (crash, OOM kill, failed probe).
    ContainerExited {
        pod: ObjKey,
        uid: Uid,
        gen: u32,
        why: ExitKind,
    },
    /// The restart back-off of run `gen` is over: start the containers again.
    Restart { pod: ObjKey, uid: Uid, gen: u32 },
    /// The first successful readiness probe of run `gen`.
    ProbeReady { pod: ObjKey, uid: Uid, gen: u32 },
    /// The image pull back-off of a pod is over: try the pull again.
    RetryPull { pod: ObjKey, uid: Uid },
    /// Try again to mount the pod's volumes (after the operation back-off).
    RetryMount { pod: ObjKey, uid: Uid },
    /// The pod worker syncs the pod again after a `CreateContainerConfigError`.
    RetryConfig { pod: ObjKey, uid: Uid },
    /// A periodic pod sync of run `gen` refreshes its ConfigMap / Secret volumes.
    VolumeSync { pod: ObjKey, uid: Uid, gen: u32 },
}

impl KubeletEvent {
    /// The pod the event is about (none for a heartbeat).
    pub fn pod(&self) -> Option<&ObjKey> {
        match self {
            KubeletEvent::ImagesPulled { pod, .. }
            | KubeletEvent::ContainersStarted { pod, .. }
            | KubeletEvent::ContainersStopped { pod, .. }
            | KubeletEvent::ContainersCompleted { pod, .. }
            | KubeletEvent::ContainerExited { pod, .. }
            | KubeletEvent::Restart { pod, .. }
            | KubeletEvent::ProbeReady { pod, .. }
            | KubeletEvent::RetryPull { pod, .. }
            | KubeletEvent::RetryMount { pod, .. }
            | KubeletEvent::RetryConfig { pod, .. }
            | KubeletEvent::VolumeSync { pod, .. } => Some(pod),
        }
    }
}

/// Why a container run ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitKind {
    /// The app exits with this code (its crash, or a `pod-crash` fault).
    Error(i32),
    /// The app's memory went over a limit (`pod-oom`, or `memory` above the limit).
    OomKilled,
    /// `failureThreshold` liveness probes failed on this container.
    Liveness(String),
    /// The startup probe failed `failureThreshold` times on this container.
    Startup(String),
}

/// First restart delay of a crashing container (upstream `initialBackOff`... 10 s).
pub const BACKOFF_INITIAL: SimDuration = SimDuration::from_secs(10);
/// `MaxContainerBackOff`: 300 s.
pub const BACKOFF_MAX: SimDuration = SimDuration::from_secs(300);
/// The back-off resets when the last back-off is older than twice the maximum
/// (upstream `hasExpired`): 10 minutes without a restart.
pub const BACKOFF_RESET: SimDuration = SimDuration::from_secs(600);
/// The state of the image registry, as the kubelet sees it (faults
/// `image-registry-down` / `image-registry-slow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Registry {
    #[default]
    Up,
    /// Pulls fail (`ErrImagePull`, then `ImagePullBackOff`).
    Down,
    /// Pulls take this many times longer.
    Slow(u32),
}

/// How long after start a container whose working set is above its memory limit
/// is OOM-killed.
pub const OOM_AFTER: SimDuration = SimDuration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Local {
    Starting,
    Running,
    /// Exited, waiting out the restart back-off (`CrashLoopBackOff`).
    BackOff,
    Stopping,
}

/// The kubelet's record of one pod.
#[derive(Debug, Clone)]
struct PodRun {
    uid: Uid,
    local: Local,
    /// Container run number: timers of an older run are ignored.
    gen: u32,
    started: SimTime,
    /// The last back-off used, and when it was set.
    backoff: Option<(SimDuration, SimTime)>,
    /// The last image pull back-off (`ImagePullBackOff`).
    pull_backoff: Option<SimDuration>,
    /// When this run's containers pass readiness (None: not in this run).
    ready_at: Option<SimTime>,
    /// When this run's app answers requests (its start-up is over).
    app_up_at: SimTime,
    /// The last volume mount back-off (500 ms doubling to 2m2s).
    mount_backoff: Option<SimDuration>,
    /// The pod's volumes are mounted (image pulls may begin).
    mounted: bool,
    /// The resourceVersion of each ConfigMap / Secret volume's content as mounted.
    content: BTreeMap<String, u64>,
    /// The pod's requests (its spec's, fixed once created), summed by
    /// admission for every pod here at each pod start.
    requests: PodRequests,
    /// The pod's slot in the API store (`u32::MAX`: none), so admission
    /// checks that the pod still exists without hashing its key.
    slot: u32,
}

impl PodRun {
    fn new(uid: Uid, local: Local, requests: PodRequests, slot: Option<u32>) -> Self {
        PodRun {
            uid,
            requests,
            slot: slot.unwrap_or(u32::MAX),
            local,
            gen: 0,
            started: SimTime::ZERO,
            backoff: None,
            pull_backoff: None,
            ready_at: None,
            app_up_at: SimTime::ZERO,
            mount_backoff: None,
            mounted: false,
            content: BTreeMap::new(),
        }
    }
    fn is(&self, uid: Uid, local: Local) -> bool {
        self.uid == uid && self.local == local
    }
}

pub struct Kubelet {
    pub node: String,
    /// The Node's key, kept to post heartbeats without building it each time.
    node_key: ObjKey,
    /// The component name: `kubelet/<node>`.
    pub component: String,
    index: u32,
    settings: KubeletSettings,
    /// The pods it runs or starts: looked up by key on every watch and event
    /// (by hash), listed in key order (for determinism).
    pods: crate::api::table::Table<PodRun>,
    /// `kubelet/<node>`'s own random stream (uniform startup times).
    rng: SimRng,
    /// Images on the node: only asked about and added to, never listed
    /// (so a hash set; image names share long prefixes, which made every
    /// ordered lookup compare them byte by byte).
    images: crate::api::table::LookupMap<String, ()>,
    /// Images being pulled for a starting pod, with the time each took.
    pulls: BTreeMap<ObjKey, Vec<(String, SimDuration)>>,
    /// Crashed (`node-crash`): no heartbeats, no containers, deaf to the API.
    down: bool,
    /// Whether the API server can be reached (not during `kubelet-stop`,
    /// `network-partition`, or a control-plane outage): heartbeats fail otherwise.
    reachable: bool,
    registry: Registry,
    /// When the kubelet last started: its lease renewals fall every
    /// [`HEARTBEAT_INTERVAL`] from here.
    renewing_from: SimTime,
    /// Container run numbers, unique on this node across crashes, so a timer of
    /// a run from before a node crash never matches a run after it.
    next_gen: u32,
}

impl Kubelet {
    pub fn new(
        node: &str,
        index: u32,
        settings: KubeletSettings,
        images: impl IntoIterator<Item = String>,
    ) -> Self {
        Kubelet {
            rng: crate::sim::rng::stream(settings.seed, &format!("kubelet/{node}")),
            node: node.to_string(),
            node_key: ObjKey::cluster(node),
            component: format!("kubelet/{node}"),
            index,
            settings,
            pods: Default::default(),
            images: {
                let mut set = crate::api::table::lookup_map();
                set.extend(images.into_iter().map(|i| (i, ())));
                set
            },
            pulls: BTreeMap::new(),
            down: false,
            reachable: true,
            registry: Registry::Up,
            renewing_from: SimTime::ZERO,
            next_gen: 0,
        }
    }

    /// Whether the kubelet is crashed.
    pub fn is_down(&self) -> bool {
        self.down
    }

    /// Whether the kubelet can reach the API server.
    pub fn is_reachable(&self) -> bool {
        self.reachable
    }

    /// The link to the API server goes down or comes back. On reconnecting, the
    /// kubelet renews its lease at once (its lease controller retries quickly),
    /// so the node-lifecycle controller sees it alive before its next check.
    pub fn set_reachable(&mut self, ctx: &mut Ctx, reachable: bool) {
        let back = reachable && !self.reachable;
        let lost = !reachable && self.reachable;
        self.reachable = reachable;
        if lost && !self.down {
            // renewals stop while the API server cannot be reached
            let _ = ctx.api.stop_renewing(&self.node_key);
        }
        if back && !self.down {
            // the lease controller retries at once, then renews on its old beat
            let _ = ctx.api.renew_lease(&self.node_key, self.renewing_from);
            self.post_node_ready(ctx);
            // the status manager re-posts what it knows: pods the node-lifecycle
            // controller marked not ready while the node was silent are Ready again
            let now = ctx.now;
            for (key, r) in self.pods.iter() {
                if r.local != Local::Running || r.ready_at.is_none_or(|t| t > now) {
                    continue;
                }
                let stale = ctx
                    .api
                    .get::<Pod>(key)
                    .is_some_and(|p| p.meta.uid == r.uid && !p.status.ready && !p.is_terminating());
                if stale {
                    let _ = ctx.api.update_status::<Pod>(key, |p| {
                        p.status.ready = true;
                        p.status.ready_since = Some(now);
                    });
                }
            }
        }
    }

    /// Post the node's Ready condition, as a kubelet that (re)gains the API
    /// does with its node status, before it re-posts any pod as Ready.
    fn post_node_ready(&self, ctx: &mut Ctx) {
        let key = ObjKey::cluster(self.node.clone());
        let not_ready = ctx
            .api
            .get::<crate::api::Node>(&key)
            .is_some_and(|n| n.status.ready != crate::api::node::ConditionStatus::True);
        if not_ready {
            let _ = ctx.api.update_status::<crate::api::Node>(&key, |n| {
                n.status.ready = crate::api::node::ConditionStatus::True
            });
            ctx.event(
                &self.component,
                EventType::Normal,
                "NodeReady",
                format!("Node/{}", self.node),
                format!("Node {} status is now: NodeReady", self.node),
            );
        }
    }

    /// The registry goes down, gets slow, or is back.
    pub fn set_registry(&mut self, r: Registry) {
        self.registry = r;
    }

    /// Post the node's status now and renew it every [`HEARTBEAT_INTERVAL`]
    /// from now on (the API server computes the renewals from time).
    pub fn start_heartbeats(&mut self, ctx: &mut Ctx) {
        self.renewing_from = ctx.now;
        if self.reachable {
            let _ = ctx.api.renew_lease(&self.node_key, self.renewing_from);
        }
    }

    /// The node crashes: the kubelet and its containers stop at once. Nothing is
    /// written to the API (a dead node cannot): its pods stay as they are there
    /// until the node-lifecycle controller notices the missing heartbeats (its
    /// renewals stop, which is not a write).
    pub fn crash(&mut self, api: &mut crate::api::ApiServer) {
        if !self.down && self.reachable {
            let _ = api.stop_renewing(&self.node_key);
        }
        self.down = true;
        self.pods.clear();
        self.pulls.clear();
    }

    /// The node comes back: heartbeats resume and the kubelet reconciles with the
    /// API, as a restarted kubelet does. Pods the API deleted meanwhile are simply
    /// gone (their containers died with the node); pods still bound here and
    /// terminating get their final delete; the others are started again (images
    /// on the node survived, so only the container start time is paid).
    pub fn recover(&mut self, ctx: &mut Ctx) {
        if !self.down {
            return;
        }
        self.down = false;
        self.start_heartbeats(ctx);
        if self.reachable {
            self.post_node_ready(ctx);
        }
        // the pods bound here, in key order, from the store's node index: a
        // scan of every pod, for each of a dark zone's returning nodes, was
        // 18% of the 5,000-node day
        let api = &*ctx.api;
        let mine: Vec<(ObjKey, Uid, bool, bool)> = api
            .pods_on(&self.node)
            .filter_map(|k| api.get::<Pod>(k))
            .map(|p| {
                (
                    p.meta.key(),
                    p.meta.uid,
                    p.is_terminating(),
                    p.status.phase.is_terminal(),
                )
            })
            .collect();
        debug_assert!(
            api.count::<Pod>() > 5_000
                || mine.iter().map(|m| &m.0).eq(api
                    .list::<Pod>()
                    .filter(|p| p.node_name.as_deref() == Some(self.node.as_str()))
                    .map(|p| p.meta.key())
                    .collect::<Vec<_>>()
                    .iter()),
            "the store's node index and its pods disagree on {}",
            self.node
        );
        for (key, uid, terminating, terminal) in mine {
            if terminating {
                self.stop(ctx, key, uid);
            } else if !terminal {
                self.start(ctx, key, uid);
            }
        }
    }

    /// Whether the app of `pod` answers requests now: its containers run, its
    /// start-up is over, and it has not been told to stop (SIGTERM: no new
    /// requests). The data plane's ground truth, whatever the API says.
    /// With the time the answer holds to while nothing happens to the pod or
    /// this kubelet: the end of the app's start-up, if that is what it waits for.
    pub fn serving(&self, pod: &ObjKey, now: SimTime) -> Serving {
        self.serving_of(self.pods.get(pod), now)
    }

    /// [`Kubelet::serving`] for the pod whose run sits in `slot` of this
    /// kubelet's pods, if that run still has `uid` (a slot holds one run
    /// until it ends); `None` when it does not.
    pub fn serving_at(&self, slot: u32, uid: Uid, now: SimTime) -> Option<Serving> {
        let r = self.pods.at(slot).filter(|r| r.uid == uid)?;
        Some(self.serving_of(Some(r), now))
    }

    fn serving_of(&self, run: Option<&PodRun>, now: SimTime) -> Serving {
        match run {
            Some(r) if !self.down && r.local == Local::Running => Serving {
                serves: r.app_up_at <= now,
                until: if r.app_up_at <= now {
                    SimTime::MAX
                } else {
                    r.app_up_at
                },
            },
            _ => Serving {
                serves: false,
                until: SimTime::MAX,
            },
        }
    }

    /// Where `pod`'s run sits (its slot and uid), for [`Kubelet::serving_at`].
    pub fn run_slot(&self, pod: &ObjKey) -> Option<(u32, Uid)> {
        let slot = self.pods.slot_of(pod)?;
        Some((slot, self.pods.at(slot)?.uid))
    }

    /// Its Node's key (kept, so that callers need not build one).
    pub fn node_key(&self) -> &ObjKey {
        &self.node_key
    }

    /// The pods (key, uid) whose containers this kubelet runs.
    pub fn running(&self) -> impl Iterator<Item = (&ObjKey, Uid)> + '_ {
        self.pods
            .iter()
            .filter(|(_, r)| matches!(r.local, Local::Running | Local::BackOff))
            .map(|(k, r)| (k, r.uid))
    }

    /// Pods this kubelet is running or starting.
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        if matches!(change.kind, Kind::ConfigMap | Kind::Secret) && !self.down {
            self.content_changed(ctx, change);
            return;
        }
        if change.kind != Kind::Pod || self.down {
            return;
        }
        let key = &change.key;
        let Some(pod) = ctx.api.get::<Pod>(key) else {
            // force-deleted while this kubelet could not hear it: kill what runs
            if let Some(r) = self.pods.remove(key) {
                if r.local == Local::Running {
                    ctx.event(
                        &self.component,
                        EventType::Normal,
                        "Killing",
                        object_ref(Kind::Pod, key),
                        "Stopping containers of a pod deleted from the API server".into(),
                    );
                }
            }
            return;
        };
        if pod.node_name.as_deref() != Some(self.node.as_str()) {
            return;
        }
        let uid = pod.meta.uid;
        let local = self.pods.get(key).filter(|r| r.uid == uid).map(|r| r.local);
        if pod.is_terminating() {
            if local != Some(Local::Stopping) {
                self.stop(ctx, key.clone(), uid);
            }
        } else if local.is_none() && !pod.status.phase.is_terminal() {
            self.start(ctx, key.clone(), uid);
        }
    }

    fn start(&mut self, ctx: &mut Ctx, key: ObjKey, uid: Uid) {
        let pod = ctx.api.get::<Pod>(&key).expect("checked by caller");
        let spec = pod.spec.clone();
        let object = object_ref(Kind::Pod, &key);
        if let Some((reason, msg)) = self.admit(ctx, &spec) {
            // kubelet admission (a pod given a nodeName bypasses the scheduler)
            ctx.event(
                &self.component,
                EventType::Warning,
                reason,
                object,
                msg.clone(),
            );
            let _ = ctx.api.update_status::<Pod>(&key, |p| {
                p.status.phase = PodPhase::Failed;
                p.status.reason = Some(reason.to_string());
                p.status.ready = false;
            });
            return;
        }
        self.pods.insert(
            key.clone(),
            PodRun::new(
                uid,
                Local::Starting,
                spec.requests(),
                ctx.api.slot_of::<Pod>(&key),
            ),
        );
        let now = ctx.now;
        let _ = ctx.api.update_status::<Pod>(&key, |p| {
            p.status.reason = Some("ContainerCreating".into());
            p.status.start_time = Some(now);
        });
        if self.mount_volumes(ctx, &key, uid) {
            self.pull_images(ctx, key, uid, spec, object);
        }
    }

    /// The volume manager: mount the pod's volumes. A ConfigMap or Secret volume
    /// needs its object (and the keys its `items` name) unless it is optional; a
    /// claim must be bound and its volume attached to this node. Otherwise the pod
    /// stays `ContainerCreating` (`FailedMount`) and the mount is retried after the
    /// operation back-off (500 ms doubling to 2m2s, as the kubelet's
    /// nestedpendingoperations). True when everything is mounted.
    fn mount_volumes(&mut self, ctx: &mut Ctx, key: &ObjKey, uid: Uid) -> bool {
        let Some(pod) = ctx.api.get::<Pod>(key) else {
            return false;
        };
        let spec = pod.spec.clone();
        let mut problems: Vec<String> = Vec::new();
        let mut content = BTreeMap::new();
        for v in &spec.volumes {
            match &v.source {
                VolumeSource::Object {
                    kind,
                    name,
                    optional,
                    keys,
                } => match source_state(ctx, *kind, &ObjKey::new(&key.namespace, name)) {
                    None if *optional => {
                        content.insert(v.name.clone(), 0);
                    }
                    None => problems.push(format!(
                        "MountVolume.SetUp failed for volume {:?} : {} {name:?} not found",
                        v.name,
                        kind.lower()
                    )),
                    Some((rv, have)) => {
                        let missing = keys.iter().find(|k| !have.contains(*k));
                        match missing {
                            Some(k) if !optional => problems.push(format!(
                                "MountVolume.SetUp failed for volume {:?} : {} references non-existent {} key: {k}",
                                v.name,
                                kind.lower(),
                                if *kind == SourceKind::ConfigMap { "config" } else { "secret" }
                            )),
                            _ => {
                                content.insert(v.name.clone(), rv);
                            }
                        }
                    }
                },
                VolumeSource::Claim { claim_name, .. } => {
                    let ck = ObjKey::new(&key.namespace, claim_name);
                    let Some(c) = ctx.api.get::<PersistentVolumeClaim>(&ck) else {
                        problems.push(format!("persistentvolumeclaim {claim_name:?} not found"));
                        continue;
                    };
                    let bound = c.phase == ClaimPhase::Bound;
                    match c.volume_name.as_deref().filter(|_| bound) {
                        None => problems.push(format!(
                            "PVC {ck} has non-bound phase ({:?}) or empty pvc.Spec.VolumeName ({:?})",
                            c.phase.as_str(),
                            c.volume_name.as_deref().unwrap_or("")
                        )),
                        Some(pv) => {
                            let attached = ctx
                                .api
                                .get::<PersistentVolume>(&ObjKey::cluster(pv))
                                .is_some_and(|p| p.attached.contains(&self.node));
                            if !attached {
                                problems.push(format!(
                                    "Volume not attached according to node status for volume {pv:?} pod {:?}",
                                    key.name
                                ));
                            }
                        }
                    }
                }
                VolumeSource::Other => {}
            }
        }
        let object = object_ref(Kind::Pod, key);
        if problems.is_empty() {
            if let Some(r) = self.pods.get_mut(key) {
                r.mounted = true;
                r.mount_backoff = None;
                r.content = content;
            }
            return true;
        }
        let backoff = match self.pods.get(key).and_then(|r| r.mount_backoff) {
            None => MOUNT_BACKOFF_INITIAL,
            Some(b) => b.saturating_mul(2).min(MOUNT_BACKOFF_MAX),
        };
        if let Some(r) = self.pods.get_mut(key) {
            r.mount_backoff = Some(backoff);
        }
        for msg in problems {
            ctx.event(
                &self.component,
                EventType::Warning,
                "FailedMount",
                object.clone(),
                msg,
            );
        }
        ctx.after(
            backoff,
            Event::Kubelet(
                self.index,
                KubeletEvent::RetryMount {
                    pod: key.clone(),
                    uid,
                },
            ),
        );
        false
    }

    /// Whether the containers' ConfigMap / Secret environment references resolve
    /// (`generateContainerConfig`). A missing object or key that is not optional
    /// leaves the container waiting with `CreateContainerConfigError`; the pod
    /// worker syncs again after `sync_retry`.
    fn config_ready(&mut self, ctx: &mut Ctx, key: &ObjKey, uid: Uid) -> bool {
        let Some(pod) = ctx.api.get::<Pod>(key) else {
            return false;
        };
        let spec = pod.spec.clone();
        let mut problem = None;
        for r in spec.env_refs.iter().filter(|r| !r.optional) {
            let okey = ObjKey::new(&key.namespace, &r.name);
            match (source_state(ctx, r.kind, &okey), &r.key) {
                (None, _) => {
                    problem = Some(format!("{} {:?} not found", r.kind.lower(), r.name));
                }
                (Some((_, have)), Some(k)) if !have.contains(k) => {
                    problem = Some(format!(
                        "couldn't find key {k} in {} {okey}",
                        r.kind.as_str()
                    ));
                }
                _ => continue,
            }
            break;
        }
        let Some(msg) = problem else {
            return true;
        };
        ctx.event(
            &self.component,
            EventType::Warning,
            "Failed",
            object_ref(Kind::Pod, key),
            format!("Error: {msg}"),
        );
        let _ = ctx.api.update_status::<Pod>(key, |p| {
            p.status.reason = Some("CreateContainerConfigError".into())
        });
        ctx.after(
            self.settings.sync_retry,
            Event::Kubelet(
                self.index,
                KubeletEvent::RetryConfig {
                    pod: key.clone(),
                    uid,
                },
            ),
        );
        false
    }

    /// A ConfigMap or Secret changed: running pods that mount it see the new
    /// content at their next periodic sync (every `sync_frequency` from the
    /// containers' start) once the kubelet's cache serves it (`config_cache_ttl`).
    fn content_changed(&mut self, ctx: &mut Ctx, change: &Change) {
        let kind = if change.kind == Kind::ConfigMap {
            SourceKind::ConfigMap
        } else {
            SourceKind::Secret
        };
        let seen = ctx.now + self.settings.config_cache_ttl;
        let period = self.settings.sync_frequency.as_millis().max(1);
        let mut timers = Vec::new();
        for (key, r) in self.pods.iter() {
            if r.local != Local::Running || key.namespace != change.key.namespace {
                continue;
            }
            let Some(p) = ctx.api.get::<Pod>(key).filter(|p| p.meta.uid == r.uid) else {
                continue;
            };
            let mounts = p.spec.volumes.iter().any(|v| {
                matches!(&v.source, VolumeSource::Object { kind: k, name, .. }
                    if *k == kind && *name == change.key.name)
            });
            if !mounts {
                continue;
            }
            let since = if seen > r.started {
                (seen - r.started).as_millis()
            } else {
                0
            };
            let at = r.started + SimDuration::from_millis(since.div_ceil(period) * period);
            timers.push((
                at,
                KubeletEvent::VolumeSync {
                    pod: key.clone(),
                    uid: r.uid,
                    gen: r.gen,
                },
            ));
        }
        for (at, ev) in timers {
            self.timer(ctx, at, ev);
        }
    }

    /// A periodic sync of a running pod: its ConfigMap and Secret volumes take the
    /// objects' current content.
    fn refresh_content(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        let Some(p) = ctx.api.get::<Pod>(key) else {
            return;
        };
        let spec = p.spec.clone();
        let object = object_ref(Kind::Pod, key);
        for v in &spec.volumes {
            let VolumeSource::Object { kind, name, .. } = &v.source else {
                continue;
            };
            let okey = ObjKey::new(&key.namespace, name);
            let Some((rv, _)) = source_state(ctx, *kind, &okey) else {
                continue; // a deleted object's last content stays
            };
            let Some(r) = self.pods.get_mut(key) else {
                return;
            };
            if r.content.get(&v.name) == Some(&rv) {
                continue;
            }
            r.content.insert(v.name.clone(), rv);
            ctx.event(
                &self.component,
                EventType::Normal,
                "VolumeUpdated",
                object.clone(),
                format!(
                    "Volume {:?} now shows the updated {} {okey} (resourceVersion {rv})",
                    v.name,
                    kind.as_str()
                ),
            );
        }
    }

    /// The kubelet's resource admission (`OutOfcpu`, `OutOfmemory`, `OutOfpods`,
    /// `OutOf<resource>`): the pods it already runs plus this one must fit the
    /// node's allocatable. None: admitted.
    fn admit(&self, ctx: &Ctx, spec: &PodSpec) -> Option<(&'static str, String)> {
        let node = ctx
            .api
            .get::<crate::api::Node>(&ObjKey::cluster(self.node.clone()))?;
        let a = &node.status.allocatable;
        let (mut cpu, mut mem, mut pods) = (0i64, 0i64, 0i64);
        let mut other: BTreeMap<String, i64> = BTreeMap::new();
        #[cfg(debug_assertions)]
        for (k, r) in self.pods.iter() {
            assert_eq!(
                ctx.api
                    .get_at::<Pod>(r.slot)
                    .is_none_or(|p| p.meta.uid != r.uid),
                ctx.api.get::<Pod>(k).is_none_or(|p| p.meta.uid != r.uid),
                "kubelet's store slot for {k} is stale"
            );
        }
        // (sums: the order of the runs does not matter)
        for r in self.pods.values_unordered() {
            // still in the store: uids are never reused, so the object in the
            // pod's slot has its uid exactly when the pod itself is still there
            let gone = ctx
                .api
                .get_at::<Pod>(r.slot)
                .is_none_or(|p| p.meta.uid != r.uid);
            if gone {
                continue;
            }
            let q = &r.requests;
            cpu += q.cpu_millis;
            mem += q.memory;
            pods += 1;
            for (n, v) in &q.other {
                *other.entry(n.clone()).or_default() += v;
            }
        }
        let q = spec.requests();
        let msg = |res: &str, req: i64, used: i64, cap: i64| {
            format!("Node didn't have enough resource: {res}, requested: {req}, used: {used}, capacity: {cap}")
        };
        if pods + 1 > a.pods {
            return Some(("OutOfpods", format!("Node didn't have enough resource: pods, requested: 1, used: {pods}, capacity: {}", a.pods)));
        }
        if cpu + q.cpu_millis > a.cpu_millis {
            return Some(("OutOfcpu", msg("cpu", q.cpu_millis, cpu, a.cpu_millis)));
        }
        if mem + q.memory > a.memory {
            return Some(("OutOfmemory", msg("memory", q.memory, mem, a.memory)));
        }
        for (n, v) in &q.other {
            let used = other.get(n).copied().unwrap_or(0);
            let cap = a.other.get(n).copied().unwrap_or(0);
            if used + v > cap {
                return Some(("OutOfResource", msg(n, *v, used, cap)));
            }
        }
        None
    }

    /// How long pulling `image` takes: its size over the node's bandwidth when
    /// both are known, the scenario's flat pull time otherwise; times the
    /// registry's slowness.
    fn pull_time(&self, image: &str) -> SimDuration {
        let base = match (
            self.settings.image_sizes.get(image),
            self.settings.pull_bandwidth,
        ) {
            (Some(&size), Some(bw)) if bw > 0 => {
                SimDuration::from_millis(((size as u128 * 1000).div_ceil(bw as u128)) as u64)
            }
            _ => self.settings.image_pull,
        };
        match self.registry {
            Registry::Slow(f) => SimDuration::from_millis(base.as_millis() * u64::from(f)),
            _ => base,
        }
    }

    /// Pull what the pod's containers need (then start them), or, with the
    /// registry down, fail the pull and retry after the image pull back-off
    /// (10 s doubling to 300 s, as the kubelet's).
    fn pull_images(
        &mut self,
        ctx: &mut Ctx,
        key: ObjKey,
        uid: Uid,
        spec: std::sync::Arc<PodSpec>,
        object: String,
    ) {
        if self.registry == Registry::Down {
            let needs_pull = spec.containers.iter().find(|c| {
                let present = self.images.contains_key(&c.image);
                matches!(
                    (c.image_pull_policy, present),
                    (PullPolicy::Always, _) | (PullPolicy::IfNotPresent, false)
                )
            });
            if let Some(c) = needs_pull {
                let image = c.image.clone();
                let backoff = match self.pods.get(&key).and_then(|r| r.pull_backoff) {
                    None => BACKOFF_INITIAL,
                    Some(b) => SimDuration::from_millis(b.as_millis() * 2).min(BACKOFF_MAX),
                };
                if let Some(r) = self.pods.get_mut(&key) {
                    r.pull_backoff = Some(backoff);
                }
                ctx.event(
                    &self.component,
                    EventType::Warning,
                    "Failed",
                    object.clone(),
                    format!("Failed to pull image {image:?}: rpc error: code = Unavailable desc = the image registry is unreachable"),
                );
                ctx.event(
                    &self.component,
                    EventType::Normal,
                    "BackOff",
                    object,
                    format!("Back-off pulling image {image:?} (next try in {backoff})"),
                );
                let _ = ctx.api.update_status::<Pod>(&key, |p| {
                    p.status.reason = Some("ImagePullBackOff".into())
                });
                ctx.after(
                    backoff,
                    Event::Kubelet(self.index, KubeletEvent::RetryPull { pod: key, uid }),
                );
                return;
            }
        }
        let mut pulled = Vec::new();
        // Images are pulled one after the other, as the kubelet's serial puller does.
        let mut pull = SimDuration::ZERO;
        for c in &spec.containers {
            let present = self.images.contains_key(&c.image);
            match (c.image_pull_policy, present) {
                (PullPolicy::Never, false) => {
                    ctx.event(
                        &self.component,
                        EventType::Warning,
                        "ErrImageNeverPull",
                        object.clone(),
                        format!(
                            "Container image {:?} is not present with pull policy of Never",
                            c.image
                        ),
                    );
                    let _ = ctx.api.update_status::<Pod>(&key, |p| {
                        p.status.reason = Some("ErrImageNeverPull".into())
                    });
                    return;
                }
                (PullPolicy::IfNotPresent | PullPolicy::Never, true) => {
                    ctx.event_with(&self.component, EventType::Normal, "Pulled", || {
                        (
                            object.clone(),
                            format!("Container image {:?} already present on machine", c.image),
                        )
                    })
                }
                _ => {
                    let d = if present {
                        SimDuration::ZERO
                    } else {
                        self.pull_time(&c.image)
                    };
                    pull = pull + d;
                    ctx.event_with(&self.component, EventType::Normal, "Pulling", || {
                        (object.clone(), format!("Pulling image {:?}", c.image))
                    });
                    pulled.push((c.image.clone(), d));
                }
            }
        }
        let ev = if pulled.is_empty() {
            KubeletEvent::ContainersStarted { pod: key, uid }
        } else {
            self.pulls.insert(key.clone(), pulled);
            KubeletEvent::ImagesPulled { pod: key, uid }
        };
        let d = if matches!(ev, KubeletEvent::ImagesPulled { .. }) {
            pull
        } else {
            self.settings.container_start
        };
        ctx.after(d, Event::Kubelet(self.index, ev));
    }

    fn stop(&mut self, ctx: &mut Ctx, key: ObjKey, uid: Uid) {
        let pod = ctx.api.get::<Pod>(&key).expect("checked by caller");
        let spec = pod.spec.clone();
        let grace = spec.termination_grace_period;
        let object = object_ref(Kind::Pod, &key);
        let was_running = self
            .pods
            .get(&key)
            .is_some_and(|r| r.is(uid, Local::Running));
        if was_running {
            for c in &spec.containers {
                ctx.event(
                    &self.component,
                    EventType::Normal,
                    "Killing",
                    object.clone(),
                    format!("Stopping container {}", c.name),
                );
            }
        }
        match self.pods.get_mut(&key) {
            Some(r) if r.uid == uid => {
                r.local = Local::Stopping;
                r.gen = 0; // no run: its timers are void
            }
            _ => {
                self.pods.insert(
                    key.clone(),
                    PodRun::new(
                        uid,
                        Local::Stopping,
                        spec.requests(),
                        ctx.api.slot_of::<Pod>(&key),
                    ),
                );
            }
        }
        let d = if was_running {
            self.settings.pod_stop.min(grace)
        } else {
            SimDuration::ZERO
        };
        ctx.after(
            d,
            Event::Kubelet(
                self.index,
                KubeletEvent::ContainersStopped { pod: key, uid },
            ),
        );
    }

    /// Whether `pod` is in container run `gen`, running.
    fn is_run(&self, pod: &ObjKey, uid: Uid, gen: u32) -> bool {
        self.pods
            .get(pod)
            .is_some_and(|r| r.is(uid, Local::Running) && r.gen == gen)
    }

    fn timer(&self, ctx: &mut Ctx, at: SimTime, ev: KubeletEvent) {
        ctx.at(at, Event::Kubelet(self.index, ev));
    }

    /// The pod's containers start (first start or a restart after the back-off).
    ///
    /// Probes are not simulated period by period: from the app's behaviour (its
    /// startup time, crash time, memory) and each probe's grid (`initialDelay +
    /// k × period` from the container start) the kubelet computes, once per run,
    /// when the first successful readiness probe happens and whether (and when)
    /// a startup or liveness probe reaches its failure threshold, and sets timers
    /// for just those moments.
    fn run_containers(&mut self, ctx: &mut Ctx, key: &ObjKey, uid: Uid, restart: bool) {
        let Some(p) = ctx.api.get::<Pod>(key) else {
            return;
        };
        let object = object_ref(Kind::Pod, key);
        let spec = p.spec.clone();
        let app = super::behavior::resolve(&self.settings.behaviors, p, &mut self.rng);
        let run_for = p
            .meta
            .annotations
            .get(RUN_FOR)
            .and_then(|v| SimDuration::parse(v).ok());
        for c in &spec.containers {
            ctx.event_with(&self.component, EventType::Normal, "Created", || {
                (object.clone(), format!("Created container {}", c.name))
            });
            ctx.event_with(&self.component, EventType::Normal, "Started", || {
                (object.clone(), format!("Started container {}", c.name))
            });
        }
        let now = ctx.now;
        self.next_gen += 1;
        let run = self.pods.get_mut(key).expect("checked by caller");
        run.local = Local::Running;
        run.gen = self.next_gen;
        run.started = now;
        run.app_up_at = now + app.startup;
        let gen = run.gen;
        let plan = plan_run(&spec, &app, now);
        if let Some(d) = run_for {
            if plan.exit.as_ref().is_none_or(|(t, _)| now + d < *t) {
                self.timer(
                    ctx,
                    now + d,
                    KubeletEvent::ContainersCompleted {
                        pod: key.clone(),
                        uid,
                        gen,
                    },
                );
            }
        }
        let exit_at = plan.exit.as_ref().map(|(t, _)| *t);
        if let Some((t, why)) = plan.exit {
            self.timer(
                ctx,
                t,
                KubeletEvent::ContainerExited {
                    pod: key.clone(),
                    uid,
                    gen,
                    why,
                },
            );
        }
        // Ready now (no probes gating it), later (first good probe), or never in this run.
        let ready_now = plan.ready == Some(now);
        let ready_at = plan.ready.filter(|t| exit_at.is_none_or(|e| *t < e));
        if let Some(r) = self.pods.get_mut(key) {
            r.ready_at = ready_at;
        }
        if let Some(t) = plan
            .ready
            .filter(|t| *t > now && exit_at.is_none_or(|e| *t < e))
        {
            self.timer(
                ctx,
                t,
                KubeletEvent::ProbeReady {
                    pod: key.clone(),
                    uid,
                    gen,
                },
            );
        }
        let _ = ctx.api.update_status::<Pod>(key, |p| {
            p.status.phase = PodPhase::Running;
            p.status.reason = None;
            p.status.ready = ready_now;
            p.status.ready_since = ready_now.then_some(now);
            if restart {
                p.status.restart_count += 1;
            }
        });
    }

    /// A container run ends: restart it through the back-off, or finish the pod,
    /// as its `restartPolicy` says.
    fn exited(&mut self, ctx: &mut Ctx, key: &ObjKey, why: ExitKind) {
        let Some(p) = ctx.api.get::<Pod>(key) else {
            return;
        };
        let object = object_ref(Kind::Pod, key);
        let policy = p.spec.restart_policy;
        let first = p
            .spec
            .containers
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let (code, reason, container) = match &why {
            ExitKind::Error(c) => (*c, if *c == 0 { "Completed" } else { "Error" }, first),
            ExitKind::OomKilled => (137, "OOMKilled", first),
            ExitKind::Liveness(c) | ExitKind::Startup(c) => (137, "Error", c.clone()),
        };
        if let ExitKind::Liveness(c) | ExitKind::Startup(c) = &why {
            let (kind, word) = match why {
                ExitKind::Liveness(_) => ("Liveness", "liveness"),
                _ => ("Startup", "startup"),
            };
            let handler = p
                .spec
                .probes
                .get(c)
                .and_then(|pr| match why {
                    ExitKind::Liveness(_) => pr.liveness,
                    _ => pr.startup,
                })
                .map(|pr| pr.handler)
                .unwrap_or_default();
            ctx.event(
                &self.component,
                EventType::Warning,
                "Unhealthy",
                object.clone(),
                format!("{kind} probe failed: {}", handler.failure()),
            );
            ctx.event(
                &self.component,
                EventType::Normal,
                "Killing",
                object.clone(),
                format!("Container {c} failed {word} probe, will be restarted"),
            );
        }
        let restart = match policy {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => code != 0,
            RestartPolicy::Never => false,
        };
        let now = ctx.now;
        if !restart {
            self.pods.remove(key);
            let failed = code != 0;
            if !failed {
                ctx.api.stats.pods_succeeded += 1;
                ctx.api.stats.last_success = Some(now);
            }
            let _ = ctx.api.update_status::<Pod>(key, |p| {
                p.status.phase = if failed {
                    PodPhase::Failed
                } else {
                    PodPhase::Succeeded
                };
                p.status.ready = false;
                p.status.ready_since = None;
                p.status.reason = failed.then(|| reason.to_string());
                p.status.last_termination_reason = Some(reason.to_string());
                p.status.last_exit_code = Some(code);
            });
            return;
        }
        self.next_gen += 1;
        let run = self.pods.get_mut(key).expect("checked by caller");
        let delay = match run.backoff {
            Some((prev, set)) if now - set <= BACKOFF_RESET => {
                BACKOFF_MAX.min(prev.saturating_mul(2))
            }
            _ => BACKOFF_INITIAL,
        };
        run.backoff = Some((delay, now));
        run.local = Local::BackOff;
        run.gen = self.next_gen;
        let (gen, uid) = (run.gen, run.uid);
        ctx.event(
            &self.component,
            EventType::Warning,
            "BackOff",
            object,
            format!(
                "Back-off restarting failed container {container} in pod {}",
                key.name
            ),
        );
        self.timer(
            ctx,
            now + delay,
            KubeletEvent::Restart {
                pod: key.clone(),
                uid,
                gen,
            },
        );
        let _ = ctx.api.update_status::<Pod>(key, |p| {
            p.status.ready = false;
            p.status.ready_since = None;
            p.status.reason = Some("CrashLoopBackOff".into());
            p.status.last_termination_reason = Some(reason.to_string());
            p.status.last_exit_code = Some(code);
        });
    }

    /// A `pod-crash` / `pod-oom` fault: the pod's running containers exit now.
    pub fn kill_containers(&mut self, ctx: &mut Ctx, key: &ObjKey, oom: bool) {
        if self.down
            || !self
                .pods
                .get(key)
                .is_some_and(|r| r.local == Local::Running)
        {
            return;
        }
        let why = if oom {
            ExitKind::OomKilled
        } else {
            ExitKind::Error(1)
        };
        self.exited(ctx, key, why);
    }

    pub fn on_event(&mut self, ctx: &mut Ctx, ev: &KubeletEvent) {
        if self.down {
            return; // a dead kubelet's timers died with it
        }
        match ev {
            KubeletEvent::ImagesPulled { pod, uid } => {
                let pulled = self.pulls.remove(pod).unwrap_or_default();
                if !self
                    .pods
                    .get(pod)
                    .is_some_and(|r| r.is(*uid, Local::Starting))
                {
                    return;
                }
                let object = object_ref(Kind::Pod, pod);
                for (image, took) in pulled {
                    ctx.event_with(&self.component, EventType::Normal, "Pulled", || {
                        (
                            object.clone(),
                            format!("Successfully pulled image {image:?} in {took}"),
                        )
                    });
                    self.images.insert(image, ());
                }
                ctx.after(
                    self.settings.container_start,
                    Event::Kubelet(
                        self.index,
                        KubeletEvent::ContainersStarted {
                            pod: pod.clone(),
                            uid: *uid,
                        },
                    ),
                );
            }
            KubeletEvent::RetryPull { pod, uid } => {
                if !self
                    .pods
                    .get(pod)
                    .is_some_and(|r| r.is(*uid, Local::Starting))
                {
                    return;
                }
                let Some(p) = ctx.api.get::<Pod>(pod) else {
                    return;
                };
                let spec = p.spec.clone();
                let _ = ctx.api.update_status::<Pod>(pod, |p| {
                    p.status.reason = Some("ContainerCreating".into())
                });
                self.pull_images(ctx, pod.clone(), *uid, spec, object_ref(Kind::Pod, pod));
            }
            KubeletEvent::ContainersStarted { pod, uid }
            | KubeletEvent::RetryConfig { pod, uid } => {
                if !self
                    .pods
                    .get(pod)
                    .is_some_and(|r| r.is(*uid, Local::Starting))
                {
                    return; // deleted or replaced meanwhile
                }
                if self.config_ready(ctx, pod, *uid) {
                    self.run_containers(ctx, pod, *uid, false);
                }
            }
            KubeletEvent::RetryMount { pod, uid } => {
                if !self
                    .pods
                    .get(pod)
                    .is_some_and(|r| r.is(*uid, Local::Starting) && !r.mounted)
                {
                    return;
                }
                if self.mount_volumes(ctx, pod, *uid) {
                    let Some(p) = ctx.api.get::<Pod>(pod) else {
                        return;
                    };
                    let spec = p.spec.clone();
                    self.pull_images(ctx, pod.clone(), *uid, spec, object_ref(Kind::Pod, pod));
                }
            }
            KubeletEvent::VolumeSync { pod, uid, gen } => {
                if self.is_run(pod, *uid, *gen) {
                    self.refresh_content(ctx, pod);
                }
            }
            KubeletEvent::Restart { pod, uid, gen } => {
                if !self
                    .pods
                    .get(pod)
                    .is_some_and(|r| r.is(*uid, Local::BackOff) && r.gen == *gen)
                {
                    return;
                }
                self.run_containers(ctx, pod, *uid, true);
            }
            KubeletEvent::ProbeReady { pod, uid, gen } => {
                if !self.is_run(pod, *uid, *gen) {
                    return;
                }
                let now = ctx.now;
                let _ = ctx.api.update_status::<Pod>(pod, |p| {
                    p.status.ready = true;
                    p.status.ready_since = Some(now);
                });
            }
            KubeletEvent::ContainerExited { pod, uid, gen, why } => {
                if !self.is_run(pod, *uid, *gen) {
                    return;
                }
                self.exited(ctx, pod, why.clone());
            }
            KubeletEvent::ContainersCompleted { pod, uid, gen } => {
                if !self.is_run(pod, *uid, *gen) {
                    return; // stopped or replaced meanwhile
                }
                self.pods.remove(pod);
                ctx.api.stats.pods_succeeded += 1;
                ctx.api.stats.last_success = Some(ctx.now);
                let _ = ctx.api.update_status::<Pod>(pod, |p| {
                    p.status.phase = PodPhase::Succeeded;
                    p.status.ready = false;
                    p.status.ready_since = None;
                    p.status.reason = None;
                });
            }
            KubeletEvent::ContainersStopped { pod, uid } => {
                if self.pods.get(pod).map(|r| r.uid) != Some(*uid) {
                    return;
                }
                self.pods.remove(pod);
                // the kubelet's final delete, once the containers have exited
                if ctx.api.get::<Pod>(pod).is_some_and(|p| p.meta.uid == *uid) {
                    let _ = ctx.api.remove::<Pod>(pod);
                }
            }
        }
    }
}

/// The first volume mount retry back-off (`initialDurationBeforeRetry`).
pub const MOUNT_BACKOFF_INITIAL: SimDuration = SimDuration::from_millis(500);
/// The longest mount retry back-off (`maxDurationBeforeRetry`, 2m2s).
pub const MOUNT_BACKOFF_MAX: SimDuration = SimDuration::from_millis(122_000);

/// A ConfigMap's or Secret's resourceVersion and keys, if it exists.
fn source_state(ctx: &Ctx, kind: SourceKind, key: &ObjKey) -> Option<(u64, BTreeSet<String>)> {
    match kind {
        SourceKind::ConfigMap => ctx.api.get::<ConfigMap>(key).map(|c| {
            (
                c.meta.resource_version,
                c.data.keys().chain(c.binary_data.keys()).cloned().collect(),
            )
        }),
        SourceKind::Secret => ctx
            .api
            .get::<Secret>(key)
            .map(|c| (c.meta.resource_version, c.data.keys().cloned().collect())),
    }
}

/// What one container run will do, computed at its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    /// When the pod becomes Ready (`None`: not in this run).
    pub ready: Option<SimTime>,
    /// The earliest exit: crash, OOM kill, failed liveness or startup probe.
    pub exit: Option<(SimTime, ExitKind)>,
}

/// The `k`th probe time of `p` for a container started at `t0`.
fn probe_at(p: &Probe, t0: SimTime, k: u64) -> SimTime {
    t0 + p.initial_delay + p.period.saturating_mul(k)
}

/// The index of the first probe of `p` at or after `t`.
fn first_probe_from(p: &Probe, t0: SimTime, t: SimTime) -> u64 {
    let first = t0 + p.initial_delay;
    if t <= first {
        return 0;
    }
    let period = p.period.as_millis().max(1);
    (t - first).as_millis().div_ceil(period)
}

/// Plan a run of `spec`'s containers, started at `t0`, for the app `app`.
pub fn plan_run(spec: &PodSpec, app: &AppRun, t0: SimTime) -> RunPlan {
    let app_ready = t0 + app.startup;
    let mut exits: Vec<(SimTime, ExitKind)> = Vec::new();
    if let Some(d) = app.crash_after {
        exits.push((t0 + d, ExitKind::Error(app.exit_code)));
    }
    if let Some(m) = app.memory {
        if spec
            .containers
            .iter()
            .any(|c| c.limits.memory.is_some_and(|l| m > l))
        {
            exits.push((t0 + OOM_AFTER, ExitKind::OomKilled));
        }
    }
    let mut ready = Some(t0);
    for c in &spec.containers {
        let probes = spec.probes.get(&c.name).copied().unwrap_or_default();
        // the startup probe holds the others back until it succeeds
        let mut started = Some(t0);
        if let Some(sp) = probes.startup {
            let k = first_probe_from(&sp, t0, app_ready);
            if k >= sp.failure_threshold as u64 {
                let at = probe_at(&sp, t0, sp.failure_threshold as u64 - 1);
                exits.push((at, ExitKind::Startup(c.name.clone())));
                started = None;
            } else {
                started = Some(probe_at(&sp, t0, k));
            }
        }
        let Some(started) = started else {
            ready = None;
            continue;
        };
        let c_ready = match probes.readiness {
            // successThreshold consecutive good probes
            Some(rp) => probe_at(
                &rp,
                t0,
                first_probe_from(&rp, t0, app_ready.max(started))
                    + u64::from(rp.success_threshold.max(1) - 1),
            ),
            None => started,
        };
        ready = ready.map(|r| r.max(c_ready));
        if let Some(lp) = probes.liveness {
            // liveness probes from `started` fail until the app answers
            let j0 = first_probe_from(&lp, t0, started);
            let ok = first_probe_from(&lp, t0, app_ready.max(started));
            let fails = ok - j0;
            if fails >= lp.failure_threshold as u64 {
                let at = probe_at(&lp, t0, j0 + lp.failure_threshold as u64 - 1);
                exits.push((at, ExitKind::Liveness(c.name.clone())));
            }
        }
    }
    // the earliest exit wins (ties: in the order pushed)
    let exit = exits
        .into_iter()
        .enumerate()
        .min_by_key(|(i, (t, _))| (*t, *i))
        .map(|(_, e)| e);
    RunPlan { ready, exit }
}
