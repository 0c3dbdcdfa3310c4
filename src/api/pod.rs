//! Pods, as `v1.Pod`.
//!
//! The spec is behind an `Arc` because every pod a ReplicaSet stamps from one
//! template shares it: 150,000 pods must not mean 150,000 copies of a spec. The
//! binding (`spec.nodeName` upstream) is therefore kept on the pod itself.

use super::affinity::{Affinity, TopologySpreadConstraint};
use super::meta::ObjectMeta;
use super::resources::{ResourceList, DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST};
use super::selector::Labels;
use super::taint::Toleration;
use crate::sim::time::{SimDuration, SimTime};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PullPolicy {
    Always,
    #[default]
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// The upstream default: `Always` for `:latest` or no tag, else `IfNotPresent`.
    pub fn default_for(image: &str) -> PullPolicy {
        let last = image.rsplit('/').next().unwrap_or(image);
        let tagged = last.contains(':') || image.contains('@');
        if !tagged || image.ends_with(":latest") {
            PullPolicy::Always
        } else {
            PullPolicy::IfNotPresent
        }
    }
}

/// A container port (`v1.ContainerPort`); `host_port` is what the NodePorts filter checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerPort {
    pub name: String,
    pub container_port: i32,
    pub host_port: Option<i32>,
    pub protocol: String,
    pub host_ip: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub image_pull_policy: PullPolicy,
    pub requests: ResourceList,
    pub limits: ResourceList,
    pub ports: Vec<ContainerPort>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RestartPolicy {
    #[default]
    Always,
    OnFailure,
    Never,
}

/// The parts of `v1.PodSpec` kubesim simulates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodSpec {
    pub containers: Vec<Container>,
    pub restart_policy: RestartPolicy,
    pub node_selector: Labels,
    pub tolerations: Vec<Toleration>,
    pub priority: i32,
    /// Resolved into `priority` from a PriorityClass at admission.
    pub priority_class_name: Option<String>,
    /// `preemptionPolicy: Never` (from the PriorityClass): wait, never preempt.
    pub never_preempt: bool,
    pub scheduler_name: String,
    pub termination_grace_period: SimDuration,
    pub affinity: Affinity,
    pub topology_spread: Vec<TopologySpreadConstraint>,
    /// Probes per container name (kept here, not on [`Container`], so container
    /// literals elsewhere stay unchanged).
    pub probes: std::collections::BTreeMap<String, ContainerProbes>,
    /// `volumes` (configMap, secret and persistentVolumeClaim sources are simulated).
    pub volumes: Vec<super::config::Volume>,
    /// The containers' ConfigMap / Secret environment references, in container order.
    pub env_refs: Vec<super::config::EnvRef>,
}

/// The handler kind of a probe. Accepted for display only: whether a probe
/// succeeds comes from the simulated app's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProbeHandler {
    #[default]
    HttpGet,
    TcpSocket,
    Exec,
    Grpc,
}

impl ProbeHandler {
    /// The failure message of a probe of this kind against an app not answering.
    pub fn failure(self) -> &'static str {
        match self {
            ProbeHandler::HttpGet => "HTTP probe failed with statuscode: 503",
            ProbeHandler::TcpSocket => "dial tcp: connect: connection refused",
            ProbeHandler::Exec => "command failed with exit code 1",
            ProbeHandler::Grpc => "timeout: failed to connect service within 1s",
        }
    }
}

/// `v1.Probe` timing, with the upstream defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Probe {
    pub handler: ProbeHandler,
    pub initial_delay: SimDuration,
    pub period: SimDuration,
    pub timeout: SimDuration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            handler: ProbeHandler::HttpGet,
            initial_delay: SimDuration::ZERO,
            period: SimDuration::from_secs(10),
            timeout: SimDuration::from_secs(1),
            success_threshold: 1,
            failure_threshold: 3,
        }
    }
}

/// The probes of one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ContainerProbes {
    pub startup: Option<Probe>,
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
}

impl Default for PodSpec {
    fn default() -> Self {
        PodSpec {
            containers: Vec::new(),
            restart_policy: RestartPolicy::Always,
            node_selector: Labels::new(),
            tolerations: Vec::new(),
            priority: 0,
            priority_class_name: None,
            never_preempt: false,
            scheduler_name: "default-scheduler".into(),
            termination_grace_period: SimDuration::from_secs(30),
            affinity: Affinity::default(),
            topology_spread: Vec::new(),
            probes: std::collections::BTreeMap::new(),
            volumes: Vec::new(),
            env_refs: Vec::new(),
        }
    }
}

impl PodSpec {
    /// Equal in everything a scheduler places by: the fields that only say
    /// how the kubelet runs the containers (images, pull policy, container
    /// names, probes, environment references, restart policy, grace period)
    /// are left out. Deployments that differ only in those, and a rollout to a
    /// new image, share the scheduler's node-local verdicts
    /// (`scheduler::verdicts`). Every field is named here, so a new one must be
    /// sorted into one side or the other.
    pub fn same_placement(&self, other: &PodSpec) -> bool {
        let PodSpec {
            containers,
            restart_policy: _,
            node_selector,
            tolerations,
            priority,
            priority_class_name,
            never_preempt,
            scheduler_name,
            termination_grace_period: _,
            affinity,
            topology_spread,
            probes: _,
            volumes,
            env_refs: _,
        } = self;
        containers.len() == other.containers.len()
            && containers.iter().zip(&other.containers).all(|(a, b)| {
                let Container {
                    name: _,
                    image: _,
                    image_pull_policy: _,
                    requests,
                    limits,
                    ports,
                } = a;
                *requests == b.requests && *limits == b.limits && *ports == b.ports
            })
            && *node_selector == other.node_selector
            && *tolerations == other.tolerations
            && *priority == other.priority
            && *priority_class_name == other.priority_class_name
            && *never_preempt == other.never_preempt
            && *scheduler_name == other.scheduler_name
            && *affinity == other.affinity
            && *topology_spread == other.topology_spread
            && *volumes == other.volumes
    }

    /// The claims this pod's volumes use, in volume order.
    pub fn claims(&self) -> impl Iterator<Item = &str> {
        self.volumes.iter().filter_map(|v| match &v.source {
            super::config::VolumeSource::Claim { claim_name, .. } => Some(claim_name.as_str()),
            _ => None,
        })
    }
    /// Effective requests: the sum over containers (what the NodeResourcesFit filter uses).
    /// The CPU millis and memory bytes of [`PodSpec::requests`], without the rest.
    pub fn cpu_memory_requests(&self) -> (i64, i64) {
        self.containers.iter().fold((0, 0), |(c, m), x| {
            (
                c + x.requests.cpu_millis.unwrap_or(0),
                m + x.requests.memory.unwrap_or(0),
            )
        })
    }

    pub fn requests(&self) -> PodRequests {
        let mut r = PodRequests::default();
        for c in &self.containers {
            let cpu = c.requests.cpu_millis;
            let mem = c.requests.memory;
            r.cpu_millis += cpu.unwrap_or(0);
            r.memory += mem.unwrap_or(0);
            // non-zero defaulting applies per container, only where unset
            r.nonzero_cpu_millis += cpu.unwrap_or(DEFAULT_MILLI_CPU_REQUEST);
            r.nonzero_memory += mem.unwrap_or(DEFAULT_MEMORY_REQUEST);
            r.any_request |= cpu.is_some() || mem.is_some();
            for (name, v) in &c.requests.other {
                *r.other.entry(name.clone()).or_default() += v;
            }
        }
        r
    }
}

/// A pod's resource demand in the form the scheduler needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodRequests {
    /// Other resources (`nvidia.com/gpu`, `ephemeral-storage`, ...), summed over containers.
    pub other: std::collections::BTreeMap<String, i64>,
    pub cpu_millis: i64,
    pub memory: i64,
    /// With upstream's non-zero defaults (100m CPU, 200Mi memory per container) for scoring.
    pub nonzero_cpu_millis: i64,
    pub nonzero_memory: i64,
    /// Whether any container sets a CPU or memory request.
    pub any_request: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum PodPhase {
    #[default]
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl PodPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
            PodPhase::Unknown => "Unknown",
        }
    }
    pub fn is_terminal(self) -> bool {
        matches!(self, PodPhase::Succeeded | PodPhase::Failed)
    }
}

/// The parts of `v1.PodStatus` kubesim tracks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodStatus {
    pub phase: PodPhase,
    /// Condition PodScheduled.
    pub scheduled: bool,
    /// Condition Ready.
    pub ready: bool,
    /// When Ready last became true (availability counts from here).
    pub ready_since: Option<SimTime>,
    /// The container waiting or terminated reason kubectl shows as STATUS
    /// (`ContainerCreating`, `CrashLoopBackOff`, ...).
    pub reason: Option<String>,
    pub start_time: Option<SimTime>,
    pub restart_count: u32,
    /// `lastState.terminated.reason` of the (first) container: `Error`,
    /// `OOMKilled`, `Completed`.
    pub last_termination_reason: Option<String>,
    /// `lastState.terminated.exitCode`.
    pub last_exit_code: Option<i32>,
    /// `status.nominatedNodeName`: where this pod preempted others and waits to go.
    pub nominated_node: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub meta: ObjectMeta,
    pub spec: Arc<PodSpec>,
    /// `spec.nodeName`: the binding.
    pub node_name: Option<String>,
    pub status: PodStatus,
}

impl Pod {
    pub fn is_terminating(&self) -> bool {
        self.meta.deletion_timestamp.is_some()
    }
    /// Not finished and not being deleted: what a ReplicaSet counts.
    pub fn is_active(&self) -> bool {
        !self.status.phase.is_terminal() && !self.is_terminating()
    }
    /// Ready for at least `min_ready` (a ReplicaSet's availability).
    pub fn is_available(&self, min_ready: SimDuration, now: SimTime) -> bool {
        self.status.ready
            && self
                .status
                .ready_since
                .is_some_and(|t| t + min_ready <= now)
    }
    /// The STATUS column of `kubectl get pods`.
    pub fn display_status(&self) -> String {
        if self.is_terminating() {
            return "Terminating".into();
        }
        if let Some(r) = &self.status.reason {
            return r.clone();
        }
        match self.status.phase {
            PodPhase::Succeeded => "Completed".into(),
            p => p.as_str().into(),
        }
    }
}

/// `metadata.labels` + `metadata.annotations` + spec: what a ReplicaSet stamps pods from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PodTemplate {
    pub labels: Labels,
    pub annotations: std::collections::BTreeMap<String, String>,
    pub spec: Arc<PodSpec>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(cpu: Option<i64>, mem: Option<i64>) -> Container {
        Container {
            name: "c".into(),
            image: "nginx:1.25".into(),
            image_pull_policy: PullPolicy::IfNotPresent,
            requests: ResourceList {
                cpu_millis: cpu,
                memory: mem,
                ..Default::default()
            },
            limits: ResourceList::default(),
            ports: Vec::new(),
        }
    }

    #[test]
    fn nonzero_defaulting_is_per_container_and_only_when_unset() {
        let spec = PodSpec {
            containers: vec![c(None, None), c(Some(0), Some(1000))],
            ..Default::default()
        };
        let r = spec.requests();
        assert_eq!(r.cpu_millis, 0);
        assert_eq!(r.memory, 1000);
        assert_eq!(r.nonzero_cpu_millis, 100);
        assert_eq!(r.nonzero_memory, 200 * 1024 * 1024 + 1000);
        assert!(r.any_request);
    }

    #[test]
    fn pull_policy_defaults() {
        assert_eq!(PullPolicy::default_for("nginx"), PullPolicy::Always);
        assert_eq!(PullPolicy::default_for("nginx:latest"), PullPolicy::Always);
        assert_eq!(
            PullPolicy::default_for("nginx:1.25"),
            PullPolicy::IfNotPresent
        );
        assert_eq!(
            PullPolicy::default_for("localhost:5000/app"),
            PullPolicy::Always
        );
        assert_eq!(
            PullPolicy::default_for("localhost:5000/app:v1"),
            PullPolicy::IfNotPresent
        );
    }
}
