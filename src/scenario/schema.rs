//! The scenario file's own keys, as written by users. Unknown keys are errors.

use crate::sim::time::SimDuration;
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub until: Option<SimDuration>,
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// Manifest files or folders, relative to the scenario file.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Kubernetes objects written inline.
    #[serde(default)]
    pub objects: Vec<Value>,
    #[serde(default)]
    pub timeline: Vec<Value>,
    /// Seeded pod generators (arrivals, sizes, run times, priorities).
    #[serde(default)]
    pub workload: Option<crate::workload::WorkloadSpec>,
    /// The simulated apps in pods' containers, by label selector (first match wins).
    #[serde(default)]
    pub behaviors: Vec<BehaviorSpec>,
    /// Random faults: per fault kind, mean time between failures and to repair.
    #[serde(default)]
    pub chaos: Vec<ChaosEntry>,
    /// Guard rails (defaults in `scenario::Limits`).
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Clients sending requests to Services.
    #[serde(default)]
    pub traffic: Vec<TrafficEntry>,
    /// Metrics sampling (`metrics.csv`, utilization figures).
    #[serde(default)]
    pub metrics: MetricsSpec,
    /// What the pods use (CPU, memory), for the metrics server and the HPA.
    #[serde(default)]
    pub usage: Vec<UsageSpec>,
}

/// One `usage:` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UsageSpec {
    pub selector: SelectorSpec,
    #[serde(default)]
    pub namespace: Option<String>,
    /// CPU per pod with no traffic (`100m`).
    #[serde(default)]
    pub cpu: Option<QuantityValue>,
    /// From `at` on, this CPU per pod instead.
    #[serde(default)]
    pub steps: Vec<UsageStep>,
    /// CPU per request/s the pod answers (`5m`).
    #[serde(default)]
    pub cpu_per_request: Option<QuantityValue>,
    /// Working set per pod (`200Mi`).
    #[serde(default)]
    pub memory: Option<QuantityValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageStep {
    pub at: SimDuration,
    pub cpu: QuantityValue,
}

/// `cluster.metricsServer`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsServerSpec {
    /// How often the metrics server scrapes the kubelets (default 60s).
    #[serde(default)]
    pub scrape_interval: Option<SimDuration>,
}

/// `metrics:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsSpec {
    /// Virtual time between samples (default 1m).
    pub interval: Option<SimDuration>,
}

/// One `traffic:` client.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficEntry {
    pub name: String,
    /// `NAME` or `NAMESPACE/NAME` of the Service (or give `ingress`).
    #[serde(default)]
    pub service: Option<String>,
    /// An Ingress, with the request's host and path.
    #[serde(default)]
    pub ingress: Option<IngressTarget>,
    /// Requests: `200/s`, `6000/m`, or a number per second (the rate before
    /// the first step, with `steps`).
    #[serde(default)]
    pub rate: Option<QuantityValue>,
    /// Rate changes: `[{at: 10m, rate: 500/s}, ...]`.
    #[serde(default)]
    pub steps: Option<Vec<RateStep>>,
    /// A daily curve: `{min: 50/s, max: 400/s, peakAt: 14h}`.
    #[serde(default)]
    pub daily: Option<DailyRate>,
    /// `uniform` (default: exactly the expected count) or `poisson`.
    #[serde(default)]
    pub arrivals: Option<String>,
    /// `inside` (default: pods calling the ClusterIP), `nodePort` or
    /// `loadBalancer` (from outside the cluster).
    #[serde(default)]
    pub from: Option<String>,
    /// Distinct client addresses, for `sessionAffinity: ClientIP` (default 100).
    #[serde(default)]
    pub sources: Option<u32>,
    /// How long a client waits for an answer (default 1s).
    #[serde(default)]
    pub timeout: Option<SimDuration>,
    /// How long a pod takes to answer (default 10ms; the mean, with `concurrency`).
    #[serde(default)]
    pub service_time: Option<SimDuration>,
    /// When the client starts sending (default 0).
    #[serde(default)]
    pub start: Option<SimDuration>,
    /// Requests one pod of the Service serves at once (default: no limit).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Requests one pod lets wait beyond `concurrency` (default 100).
    #[serde(default)]
    pub queue_limit: Option<u32>,
    /// `aggregate` (default) or `per-request`.
    #[serde(default)]
    pub model: Option<String>,
}

/// `traffic[].ingress`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressTarget {
    /// `NAME` or `NAMESPACE/NAME`.
    pub name: String,
    /// The request's Host header (default: none, matching rules without a host).
    #[serde(default)]
    pub host: Option<String>,
    /// The request path (default `/`).
    #[serde(default)]
    pub path: Option<String>,
}

/// `traffic[].steps[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateStep {
    pub at: SimDuration,
    pub rate: QuantityValue,
}

/// `traffic[].daily`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DailyRate {
    pub min: QuantityValue,
    pub max: QuantityValue,
    /// Time of day of the peak (default 12h), counted from the run's start.
    #[serde(default)]
    pub peak_at: Option<SimDuration>,
}

/// `cluster.kubeProxy`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeProxySpec {
    /// `minSyncPeriod` (default 1s).
    pub min_sync_period: Option<SimDuration>,
    /// `iptables` (default) or `ipvs`.
    pub mode: Option<String>,
}

/// `limits:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitsSpec {
    pub max_nodes: Option<u64>,
    pub max_replicas: Option<i64>,
    pub max_until: Option<SimDuration>,
    pub max_events: Option<u64>,
}

/// One `chaos:` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChaosEntry {
    pub fault: String,
    /// Mean time between failures.
    pub mtbf: SimDuration,
    /// Mean time to repair.
    #[serde(default)]
    pub mttr: Option<SimDuration>,
    /// Node labels (node faults) or pod labels (pod faults).
    #[serde(default)]
    pub selector: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub namespace: Option<String>,
    /// `image-registry-slow`: how many times slower pulls get.
    #[serde(default)]
    pub factor: Option<i64>,
}

/// One `behaviors:` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BehaviorSpec {
    pub selector: SelectorSpec,
    #[serde(default)]
    pub namespace: Option<String>,
    /// From container start until the app is ready: `5s` or `{uniform: [2s, 8s]}`.
    #[serde(default)]
    pub startup: Option<StartupSpec>,
    #[serde(default)]
    pub crash: Option<CrashSpec>,
    /// Working set (`300Mi`): above a container's memory limit it is OOMKilled.
    #[serde(default)]
    pub memory: Option<QuantityValue>,
    /// Exit code of a crash (default 1).
    #[serde(default)]
    pub exit_code: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SelectorSpec {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StartupSpec {
    Fixed(SimDuration),
    Uniform(UniformSpec),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniformSpec {
    pub uniform: [SimDuration; 2],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrashSpec {
    /// The container exits with an error this long after every start.
    pub after: SimDuration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSpec {
    #[serde(default)]
    pub node_pools: Vec<NodePool>,
    #[serde(default)]
    pub api_server: ApiServerSpec,
    #[serde(default)]
    pub scheduler: SchedulerSpec,
    #[serde(default)]
    pub controller_manager: ControllerManagerSpec,
    #[serde(default)]
    pub kubelet: KubeletSpec,
    #[serde(default)]
    pub kube_proxy: KubeProxySpec,
    #[serde(default)]
    pub cloud: CloudSpec,
    #[serde(default)]
    pub storage: StorageSpec,
    #[serde(default)]
    pub ingress_controller: IngressControllerSpec,
    #[serde(default)]
    pub metrics_server: MetricsServerSpec,
    /// The Cluster Autoscaler and its node groups.
    #[serde(default)]
    pub autoscaler: Option<crate::autoscaler::cluster::CaSpec>,
}

/// `cluster.ingressController`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressControllerSpec {
    /// From an Ingress change reaching the controller to its routes serving it
    /// (default 1s, a simulator default: a configuration reload).
    pub sync_delay: Option<SimDuration>,
}

/// `cluster.cloud`: the simulated cloud provider.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudSpec {
    /// LoadBalancer Service → external address (default 20s).
    pub load_balancer_delay: Option<SimDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePool {
    pub name: String,
    pub count: u32,
    /// Quantities: `cpu`, `memory`, `pods`, and any other resource.
    pub capacity: BTreeMap<String, QuantityValue>,
    /// Defaults to `capacity`.
    #[serde(default)]
    pub allocatable: Option<BTreeMap<String, QuantityValue>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<TaintSpec>,
}

/// A quantity written as a string (`"4"`, `16Gi`) or a plain number (`4`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum QuantityValue {
    Str(String),
    Int(i64),
    Float(f64),
}

impl QuantityValue {
    pub fn as_string(&self) -> String {
        match self {
            QuantityValue::Str(s) => s.clone(),
            QuantityValue::Int(i) => i.to_string(),
            QuantityValue::Float(f) => f.to_string(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TaintSpec {
    pub key: String,
    #[serde(default)]
    pub value: String,
    pub effect: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiServerSpec {
    /// API write → watch notification at a component.
    pub watch_delay: Option<SimDuration>,
    /// `--service-cluster-ip-range` (default 10.96.0.0/12).
    pub service_cluster_ip_range: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulerSpec {
    /// Virtual time one scheduling cycle takes.
    pub cycle: Option<SimDuration>,
    /// The policy of the `default-scheduler` profile (see `kubesim policies`).
    pub policy: Option<String>,
    /// `percentageOfNodesToScore` for every profile: 0 = adaptive, 100 = all nodes.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// More profiles, selected by pods' `spec.schedulerName` (KubeSchedulerConfiguration shape).
    #[serde(default)]
    pub profiles: Vec<ProfileSpec>,
}

/// One scheduler profile, as in KubeSchedulerConfiguration `profiles[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileSpec {
    pub scheduler_name: String,
    /// The named policy the profile starts from (default: `default`).
    #[serde(default)]
    pub policy: Option<String>,
    /// Plugins enabled and disabled per extension point, as upstream.
    #[serde(default)]
    pub plugins: Option<PluginsSpec>,
    /// Per-plugin args, as upstream `pluginConfig`.
    #[serde(default)]
    pub plugin_config: Vec<PluginConfigSpec>,
}

/// `profiles[].plugins`. kubesim runs PreFilter with Filter and PreScore with Score,
/// so those are the extension points to configure (or `multiPoint` for both).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginsSpec {
    #[serde(default)]
    pub multi_point: Option<PluginSetSpec>,
    #[serde(default)]
    pub filter: Option<PluginSetSpec>,
    #[serde(default)]
    pub score: Option<PluginSetSpec>,
    /// Only DefaultPreemption.
    #[serde(default)]
    pub post_filter: Option<PluginSetSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginSetSpec {
    #[serde(default)]
    pub enabled: Vec<PluginRefSpec>,
    #[serde(default)]
    pub disabled: Vec<PluginRefSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginRefSpec {
    pub name: String,
    #[serde(default)]
    pub weight: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginConfigSpec {
    pub name: String,
    #[serde(default)]
    pub args: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControllerManagerSpec {
    /// Watch notification → controller sync.
    pub sync_delay: Option<SimDuration>,
    /// `--node-monitor-grace-period`: a node not heard from for longer is NotReady.
    pub node_monitor_grace_period: Option<SimDuration>,
    /// `--node-eviction-rate` (nodes per second, default 0.1).
    pub node_eviction_rate: Option<f64>,
    /// `--secondary-node-eviction-rate` (default 0.01).
    pub secondary_node_eviction_rate: Option<f64>,
    /// `--large-cluster-size-threshold` (default 50).
    pub large_cluster_size_threshold: Option<u32>,
    /// `--unhealthy-zone-threshold` (default 0.55).
    pub unhealthy_zone_threshold: Option<f64>,
    /// `--horizontal-pod-autoscaler-sync-period` (default 15s).
    #[serde(default)]
    pub horizontal_pod_autoscaler_sync_period: Option<SimDuration>,
    /// `--horizontal-pod-autoscaler-tolerance` (default 0.1).
    #[serde(default)]
    pub horizontal_pod_autoscaler_tolerance: Option<f64>,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (default 5m).
    #[serde(default)]
    pub horizontal_pod_autoscaler_downscale_stabilization: Option<SimDuration>,
    /// `--terminated-pod-gc-threshold` (default 12500; 0 keeps every finished pod).
    pub terminated_pod_gc_threshold: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeletSpec {
    pub image_pull: Option<SimDuration>,
    /// Image sizes (`nginx:1.25: 70Mi`): with `pullBandwidth`, pulls take size / bandwidth.
    #[serde(default)]
    pub image_sizes: BTreeMap<String, QuantityValue>,
    /// Bytes per second a node pulls (`50Mi`).
    #[serde(default)]
    pub pull_bandwidth: Option<QuantityValue>,
    pub container_start: Option<SimDuration>,
    pub pod_stop: Option<SimDuration>,
    /// `kubeadm join` until the new Node is registered (`node-add`).
    pub node_startup: Option<SimDuration>,
    /// The periodic pod sync that refreshes ConfigMap / Secret volumes (default 60s).
    pub sync_frequency: Option<SimDuration>,
    /// Extra delay of the kubelet's ConfigMap / Secret cache (default 0s).
    #[serde(rename = "configCacheTTL")]
    pub config_cache_ttl: Option<SimDuration>,
    /// Pod worker back-off after a failed sync (`CreateContainerConfigError`; default 10s).
    pub sync_retry: Option<SimDuration>,
}

/// `cluster.storage`: the simulated storage back end.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageSpec {
    /// Claim → dynamically provisioned volume (default 5s).
    pub provisioning_delay: Option<SimDuration>,
    /// Attach of a volume to a node (default 2s).
    pub attach_delay: Option<SimDuration>,
    /// Detach of a volume from a node (default 2s).
    pub detach_delay: Option<SimDuration>,
}

/// One timeline entry before it is checked against its action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawAction {
    pub at: SimDuration,
    pub action: String,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub replicas: Option<i64>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub object: Option<Value>,
    /// `node-crash`: recover after this long.
    #[serde(default, rename = "for")]
    pub for_: Option<SimDuration>,
    /// `pod-crash` / `pod-oom`: the pods' labels (matchLabels).
    #[serde(default)]
    pub selector: Option<BTreeMap<String, String>>,
    /// `pod-crash` / `pod-oom`: how many of the matching Running pods (default 1).
    #[serde(default)]
    pub count: Option<i64>,
    /// `set-image`: the container to change.
    #[serde(default)]
    pub container: Option<String>,
    /// `set-image`: the new image.
    #[serde(default)]
    pub image: Option<String>,
    /// `rollout-undo`: the revision to roll back to (default: the previous one).
    #[serde(default)]
    pub to_revision: Option<i64>,
    /// `label`: labels to set; a null value removes the label.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, Option<String>>>,
    /// `taint`: taints to add (or replace, by key and effect).
    #[serde(default)]
    pub taints: Option<Vec<TaintSpec>>,
    /// `taint`: keys whose taints are removed.
    #[serde(default)]
    pub remove: Option<Vec<String>>,
    /// `network-partition`: the nodes cut off from the API server.
    #[serde(default)]
    pub nodes: Option<Vec<String>>,
    /// `zone-outage`: the zone (`topology.kubernetes.io/zone` label value).
    #[serde(default)]
    pub zone: Option<String>,
    /// `image-registry-slow`: how many times slower pulls get.
    #[serde(default)]
    pub factor: Option<i64>,
    /// `node-add`: the node pool the new nodes copy.
    #[serde(default)]
    pub pool: Option<String>,
    /// `delete`: `background` (default), `foreground` or `orphan` (kubectl `--cascade`).
    #[serde(default)]
    pub cascade: Option<String>,
    /// `drain`: give up after this long (kubectl `--timeout`; default: wait forever).
    #[serde(default)]
    pub timeout: Option<SimDuration>,
}
