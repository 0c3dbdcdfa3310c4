//! HorizontalPodAutoscalers (`autoscaling/v2`): the spec the HPA controller
//! reads and the status it writes. Metric values are kept in milli-units
//! (CPU in millicores, memory in milli-bytes, request rates in milli-requests/s),
//! as upstream's `resource.Quantity.MilliValue()` does in the replica calculator.

use super::meta::{Kind, ObjectMeta};
use crate::sim::time::{SimDuration, SimTime};

/// What a metric is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricTarget {
    /// `averageUtilization`: percent of the pods' requests.
    Utilization(i32),
    /// `averageValue` (milli-units per pod).
    AverageValue(i64),
    /// `value` (milli-units, the whole object).
    Value(i64),
}

/// One `spec.metrics` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricSpec {
    /// `type: Resource`: `cpu` or `memory` from the metrics server.
    Resource { name: String, target: MetricTarget },
    /// `type: Pods`: a per-pod metric, averaged over the pods.
    Pods { name: String, target: MetricTarget },
    /// `type: Object`: one metric of another object (a Service's request rate).
    Object {
        name: String,
        kind: String,
        object: String,
        target: MetricTarget,
    },
}

impl MetricSpec {
    /// The reason text of a rescale (`cpu resource utilization (percentage of request)`).
    pub fn describe(&self) -> String {
        match self {
            MetricSpec::Resource {
                name,
                target: MetricTarget::Utilization(_),
            } => format!("{name} resource utilization (percentage of request)"),
            MetricSpec::Resource { name, .. } => format!("{name} resource"),
            MetricSpec::Pods { name, .. } => format!("{name} pods metric"),
            MetricSpec::Object { name, kind, .. } => {
                format!("{name} metric on {kind}")
            }
        }
    }
}

/// `type` of a scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    Pods,
    Percent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingPolicy {
    pub ty: PolicyType,
    pub value: i32,
    pub period: SimDuration,
}

/// `selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

/// `behavior.scaleUp` / `behavior.scaleDown`, with upstream's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingRules {
    /// `None`: the controller's default (scale-down: 300 s; scale-up: 0).
    pub stabilization_window: Option<SimDuration>,
    pub select_policy: SelectPolicy,
    pub policies: Vec<ScalingPolicy>,
}

impl ScalingRules {
    /// Scale-up default (`pkg/apis/autoscaling/v2/defaults.go`): the larger of
    /// 100% and 4 pods per 15 s, no stabilisation.
    pub fn default_up() -> Self {
        ScalingRules {
            stabilization_window: Some(SimDuration::ZERO),
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy {
                    ty: PolicyType::Pods,
                    value: 4,
                    period: SimDuration::from_secs(15),
                },
                ScalingPolicy {
                    ty: PolicyType::Percent,
                    value: 100,
                    period: SimDuration::from_secs(15),
                },
            ],
        }
    }
    /// Scale-down default: 100% per 15 s, the controller's stabilisation window.
    pub fn default_down() -> Self {
        ScalingRules {
            stabilization_window: None,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy {
                ty: PolicyType::Percent,
                value: 100,
                period: SimDuration::from_secs(15),
            }],
        }
    }
}

/// The last computed value of one metric (`status.currentMetrics`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricValue {
    pub metric: String,
    /// Utilization percent, or the average / total value in milli-units.
    pub value: i64,
    pub utilization: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HpaStatus {
    pub current_replicas: i32,
    pub desired_replicas: i32,
    pub last_scale_time: Option<SimTime>,
    pub current_metrics: Vec<MetricValue>,
    /// Condition ScalingActive (metrics could be computed).
    pub scaling_active: bool,
    /// Condition ScalingLimited's reason, when the limits or policies cut the recommendation.
    pub limited: Option<String>,
}

/// `spec.updatePolicy.updateMode` of a VerticalPodAutoscaler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMode {
    /// Recommend only.
    Off,
    /// Set requests at pod creation, never evict.
    Initial,
    /// Evict pods whose requests are out of bounds; new pods get the target.
    Recreate,
    /// As Recreate (upstream also may update in place, kubesim does not).
    Auto,
}

/// One container's recommendation: (CPU millicores, memory bytes) each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRecommendation {
    pub container: String,
    pub lower: (i64, i64),
    pub target: (i64, i64),
    pub upper: (i64, i64),
}

/// `autoscaling.k8s.io/v1` VerticalPodAutoscaler.
#[derive(Debug, Clone, PartialEq)]
pub struct VerticalPodAutoscaler {
    pub meta: ObjectMeta,
    pub target_kind: Kind,
    pub target_name: String,
    pub update_mode: UpdateMode,
    /// `status.recommendation.containerRecommendations`.
    pub recommendations: Vec<ContainerRecommendation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HorizontalPodAutoscaler {
    pub meta: ObjectMeta,
    /// `scaleTargetRef`: a Deployment or ReplicaSet in the same namespace.
    pub target_kind: Kind,
    pub target_name: String,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub metrics: Vec<MetricSpec>,
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
    pub status: HpaStatus,
}
