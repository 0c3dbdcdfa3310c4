//! The kubelet of one node and its container runtime.
//!
//! It watches the pods bound to its node (as the real kubelet does with a
//! `spec.nodeName` field selector), starts them after the image pull and the
//! container start latency, reports them Running and Ready through the API, and
//! stops them gracefully when they are deleted.

use crate::api::meta::object_ref;
use crate::api::pod::{PodPhase, PullPolicy};
use crate::api::{Change, Kind, ObjKey, Pod, Uid};
use crate::metrics::EventType;
use crate::sim::time::SimDuration;
use crate::sim::{Ctx, Event};
use std::collections::{BTreeMap, BTreeSet};

/// Annotation that makes a pod finite: its containers exit successfully this long
/// after they start (`10m`), and the pod becomes Succeeded.
pub const RUN_FOR: &str = "kubesim.io/run-for";

/// How often the kubelet renews its node's lease and posts node status
/// (`nodeStatusUpdateFrequency` / the lease renew interval, 10 s upstream).
pub const HEARTBEAT_INTERVAL: SimDuration = SimDuration::from_secs(10);

/// Container runtime timings (simulator defaults, settable per scenario).
#[derive(Debug, Clone)]
pub struct KubeletSettings {
    /// Time to pull an image that is not on the node.
    pub image_pull: SimDuration,
    /// From image present to container running.
    pub container_start: SimDuration,
    /// How long containers take to exit after SIGTERM (capped by the grace period).
    pub pod_stop: SimDuration,
}

impl Default for KubeletSettings {
    fn default() -> Self {
        KubeletSettings {
            image_pull: SimDuration::from_secs(2),
            container_start: SimDuration::from_secs(1),
            pod_stop: SimDuration::from_secs(1),
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
    ContainersCompleted { pod: ObjKey, uid: Uid },
    /// Renew the node's lease (every [`HEARTBEAT_INTERVAL`]). `epoch` tells the
    /// chain started by one kubelet start apart from a later one's (crash and recover).
    Heartbeat { epoch: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Local {
    Starting,
    Running,
    Stopping,
}

pub struct Kubelet {
    pub node: String,
    /// The component name: `kubelet/<node>`.
    pub component: String,
    index: u32,
    settings: KubeletSettings,
    pods: BTreeMap<ObjKey, (Uid, Local)>,
    images: BTreeSet<String>,
    /// Images being pulled for a starting pod, with the time each took.
    pulls: BTreeMap<ObjKey, Vec<(String, SimDuration)>>,
    /// Crashed (`node-crash`): no heartbeats, no containers, deaf to the API.
    down: bool,
    /// Bumped at every (re)start, so an old heartbeat chain dies out.
    epoch: u32,
}

impl Kubelet {
    pub fn new(
        node: &str,
        index: u32,
        settings: KubeletSettings,
        images: impl IntoIterator<Item = String>,
    ) -> Self {
        Kubelet {
            node: node.to_string(),
            component: format!("kubelet/{node}"),
            index,
            settings,
            pods: BTreeMap::new(),
            images: images.into_iter().collect(),
            pulls: BTreeMap::new(),
            down: false,
            epoch: 0,
        }
    }

    /// Whether the kubelet is crashed.
    pub fn is_down(&self) -> bool {
        self.down
    }

    /// Post the node's status now and renew it every [`HEARTBEAT_INTERVAL`].
    pub fn start_heartbeats(&mut self, ctx: &mut Ctx) {
        self.epoch += 1;
        let _ = ctx.api.heartbeat(&self.node);
        ctx.after_background(
            HEARTBEAT_INTERVAL,
            Event::Kubelet(self.index, KubeletEvent::Heartbeat { epoch: self.epoch }),
        );
    }

    /// The node crashes: the kubelet and its containers stop at once. Nothing is
    /// written to the API (a dead node cannot): its pods stay as they are there
    /// until the node-lifecycle controller notices the missing heartbeats.
    pub fn crash(&mut self) {
        self.down = true;
        self.epoch += 1;
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
        let mine: Vec<(ObjKey, Uid, bool, bool)> = ctx
            .api
            .list::<Pod>()
            .filter(|p| p.node_name.as_deref() == Some(self.node.as_str()))
            .map(|p| {
                (
                    p.meta.key(),
                    p.meta.uid,
                    p.is_terminating(),
                    p.status.phase.is_terminal(),
                )
            })
            .collect();
        for (key, uid, terminating, terminal) in mine {
            if terminating {
                self.stop(ctx, key, uid);
            } else if !terminal {
                self.start(ctx, key, uid);
            }
        }
    }

    /// Pods this kubelet is running or starting.
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        if change.kind != Kind::Pod || self.down {
            return;
        }
        let key = &change.key;
        let Some(pod) = ctx.api.get::<Pod>(key) else {
            self.pods.remove(key);
            return;
        };
        if pod.node_name.as_deref() != Some(self.node.as_str()) {
            return;
        }
        let uid = pod.meta.uid;
        let local = self
            .pods
            .get(key)
            .filter(|(u, _)| *u == uid)
            .map(|(_, s)| *s);
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
        self.pods.insert(key.clone(), (uid, Local::Starting));
        let now = ctx.now;
        let _ = ctx.api.update_status::<Pod>(&key, |p| {
            p.status.reason = Some("ContainerCreating".into());
            p.status.start_time = Some(now);
        });
        let mut pulled = Vec::new();
        // Images are pulled one after the other, as the kubelet's serial puller does.
        let mut pull = SimDuration::ZERO;
        for c in &spec.containers {
            let present = self.images.contains(&c.image);
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
                (PullPolicy::IfNotPresent | PullPolicy::Never, true) => ctx.event(
                    &self.component,
                    EventType::Normal,
                    "Pulled",
                    object.clone(),
                    format!("Container image {:?} already present on machine", c.image),
                ),
                _ => {
                    let d = if present {
                        SimDuration::ZERO
                    } else {
                        self.settings.image_pull
                    };
                    pull = pull + d;
                    ctx.event(
                        &self.component,
                        EventType::Normal,
                        "Pulling",
                        object.clone(),
                        format!("Pulling image {:?}", c.image),
                    );
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
        let was_running = matches!(self.pods.get(&key), Some((u, Local::Running)) if *u == uid);
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
        self.pods.insert(key.clone(), (uid, Local::Stopping));
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

    pub fn on_event(&mut self, ctx: &mut Ctx, ev: &KubeletEvent) {
        if self.down {
            return; // a dead kubelet's timers died with it
        }
        match ev {
            KubeletEvent::Heartbeat { epoch } => {
                if *epoch != self.epoch {
                    return;
                }
                let _ = ctx.api.heartbeat(&self.node);
                ctx.after_background(
                    HEARTBEAT_INTERVAL,
                    Event::Kubelet(self.index, KubeletEvent::Heartbeat { epoch: *epoch }),
                );
            }
            KubeletEvent::ImagesPulled { pod, uid } => {
                let pulled = self.pulls.remove(pod).unwrap_or_default();
                if self.pods.get(pod) != Some(&(*uid, Local::Starting)) {
                    return;
                }
                let object = object_ref(Kind::Pod, pod);
                for (image, took) in pulled {
                    self.images.insert(image.clone());
                    ctx.event(
                        &self.component,
                        EventType::Normal,
                        "Pulled",
                        object.clone(),
                        format!("Successfully pulled image {image:?} in {took}"),
                    );
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
            KubeletEvent::ContainersStarted { pod, uid } => {
                if self.pods.get(pod) != Some(&(*uid, Local::Starting)) {
                    return; // deleted or replaced meanwhile
                }
                let Some(p) = ctx.api.get::<Pod>(pod) else {
                    return;
                };
                let object = object_ref(Kind::Pod, pod);
                let spec = p.spec.clone();
                let run_for = p
                    .meta
                    .annotations
                    .get(RUN_FOR)
                    .and_then(|v| SimDuration::parse(v).ok());
                for c in &spec.containers {
                    ctx.event(
                        &self.component,
                        EventType::Normal,
                        "Created",
                        object.clone(),
                        format!("Created container {}", c.name),
                    );
                    ctx.event(
                        &self.component,
                        EventType::Normal,
                        "Started",
                        object.clone(),
                        format!("Started container {}", c.name),
                    );
                }
                self.pods.insert(pod.clone(), (*uid, Local::Running));
                if let Some(d) = run_for {
                    ctx.after(
                        d,
                        Event::Kubelet(
                            self.index,
                            KubeletEvent::ContainersCompleted {
                                pod: pod.clone(),
                                uid: *uid,
                            },
                        ),
                    );
                }
                let now = ctx.now;
                let _ = ctx.api.update_status::<Pod>(pod, |p| {
                    p.status.phase = PodPhase::Running;
                    p.status.reason = None;
                    p.status.ready = true;
                    p.status.ready_since = Some(now);
                });
            }
            KubeletEvent::ContainersCompleted { pod, uid } => {
                if self.pods.get(pod) != Some(&(*uid, Local::Running)) {
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
                if self.pods.get(pod).map(|(u, _)| u) != Some(uid) {
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
