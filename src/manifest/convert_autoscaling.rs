//! `policy/v1` PodDisruptionBudget and `autoscaling/v2` HorizontalPodAutoscaler
//! → kubesim objects, with the API server's validation
//! (`pkg/apis/policy/validation`, `pkg/apis/autoscaling/validation`) and defaults
//! (`pkg/apis/autoscaling/v2/defaults.go`).

use super::convert::{conv_meta, conv_selector, done, int_or_percent, Errors};
use crate::api::autoscaling::{
    HorizontalPodAutoscaler, HpaStatus, MetricSpec, MetricTarget, PolicyType, ScalingPolicy,
    ScalingRules, SelectPolicy,
};
use crate::api::policy::{PdbStatus, PodDisruptionBudget};
use crate::api::quantity::parse_cpu_millis;
use crate::api::{AnyObject, Kind};
use crate::diag::Loc;
use crate::sim::time::SimDuration;
use k8s_openapi::api::autoscaling::v2 as hpa;
use k8s_openapi::api::policy::v1 as policy;

pub fn conv_pdb(o: policy::PodDisruptionBudget, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let spec = o.spec.unwrap_or_default();
    let min_available = spec
        .min_available
        .as_ref()
        .map(|v| int_or_percent(v, "spec.minAvailable", loc, &mut errors));
    let max_unavailable = spec
        .max_unavailable
        .as_ref()
        .map(|v| int_or_percent(v, "spec.maxUnavailable", loc, &mut errors));
    if min_available.is_some() && max_unavailable.is_some() {
        errors.push(loc.at(
            "spec",
            "Invalid value: minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (v, path) in [
        (min_available, "spec.minAvailable"),
        (max_unavailable, "spec.maxUnavailable"),
    ] {
        if let Some(crate::api::workload::IntOrPercent::Percent(p)) = v {
            if p > 100 {
                errors.push(loc.at_value(path, "Invalid value: must not be greater than 100%"));
            }
        }
    }
    if let Some(p) = &spec.unhealthy_pod_eviction_policy {
        if p != "IfHealthyBudget" {
            errors.push(loc.at_value(
                "spec.unhealthyPodEvictionPolicy",
                format!("unsupported value {p:?}: kubesim simulates IfHealthyBudget (the default)"),
            ));
        }
    }
    // a nil selector matches no pods (policy/v1); kubesim needs one
    let selector = match spec.selector {
        Some(s) => conv_selector(s, "spec.selector", loc, &mut errors),
        None => {
            errors.push(loc.at(
                "spec",
                "spec.selector is required: a budget without a selector covers no pods",
            ));
            Default::default()
        }
    };
    done(
        AnyObject::PodDisruptionBudget(PodDisruptionBudget {
            meta,
            selector,
            // kubectl's default when neither is set is minAvailable 1
            min_available: if min_available.is_none() && max_unavailable.is_none() {
                Some(crate::api::workload::IntOrPercent::Int(1))
            } else {
                min_available
            },
            max_unavailable,
            status: PdbStatus::default(),
        }),
        errors,
    )
}

fn target(t: hpa::MetricTarget, path: &str, loc: &Loc, errors: &mut Errors) -> MetricTarget {
    let milli = |q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
                 p: &str,
                 errors: &mut Errors| match parse_cpu_millis(&q.0) {
        Ok(v) if v > 0 => v,
        Ok(_) => {
            errors.push(loc.at_value(p, "Invalid value: must be positive"));
            1
        }
        Err(e) => {
            errors.push(loc.at_value(p, e.to_string()));
            1
        }
    };
    match t.type_.as_str() {
        "Utilization" => match t.average_utilization {
            Some(u) if u > 0 => MetricTarget::Utilization(u),
            _ => {
                errors.push(loc.at(
                    &format!("{path}.averageUtilization"),
                    "Required value: a positive averageUtilization for type Utilization",
                ));
                MetricTarget::Utilization(1)
            }
        },
        "AverageValue" => match &t.average_value {
            Some(q) => {
                MetricTarget::AverageValue(milli(q, &format!("{path}.averageValue"), errors))
            }
            None => {
                errors.push(loc.at(
                    &format!("{path}.averageValue"),
                    "Required value: averageValue for type AverageValue",
                ));
                MetricTarget::AverageValue(1)
            }
        },
        "Value" => match &t.value {
            Some(q) => MetricTarget::Value(milli(q, &format!("{path}.value"), errors)),
            None => {
                errors.push(loc.at(
                    &format!("{path}.value"),
                    "Required value: value for type Value",
                ));
                MetricTarget::Value(1)
            }
        },
        other => {
            errors.push(loc.at_value(
                &format!("{path}.type"),
                format!("Unsupported value: {other:?}: supported values: \"AverageValue\", \"Utilization\", \"Value\""),
            ));
            MetricTarget::Value(1)
        }
    }
}

fn rules(
    r: Option<hpa::HPAScalingRules>,
    default: ScalingRules,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> ScalingRules {
    let Some(r) = r else {
        return default;
    };
    let select_policy = match r.select_policy.as_deref() {
        None | Some("Max") => SelectPolicy::Max,
        Some("Min") => SelectPolicy::Min,
        Some("Disabled") => SelectPolicy::Disabled,
        Some(o) => {
            errors.push(loc.at_value(
                &format!("{path}.selectPolicy"),
                format!(
                    "Unsupported value: {o:?}: supported values: \"Disabled\", \"Max\", \"Min\""
                ),
            ));
            SelectPolicy::Max
        }
    };
    if r.tolerance.is_some() {
        errors.push(loc.at_value(
            &format!("{path}.tolerance"),
            "per-HPA tolerance (alpha HPAConfigurableTolerance) is not simulated; set cluster.controllerManager.horizontalPodAutoscalerTolerance",
        ));
    }
    let stabilization_window = match r.stabilization_window_seconds {
        Some(s) if !(0..=3600).contains(&s) => {
            errors.push(loc.at_value(
                &format!("{path}.stabilizationWindowSeconds"),
                "Invalid value: must be between 0 and 3600",
            ));
            default.stabilization_window
        }
        Some(s) => Some(SimDuration::from_secs(s as u64)),
        None => default.stabilization_window,
    };
    let policies = match r.policies {
        None => default.policies,
        Some(ps) => {
            if ps.is_empty() && select_policy != SelectPolicy::Disabled {
                errors.push(loc.at(
                    &format!("{path}.policies"),
                    "Required value: must specify at least one Policy",
                ));
            }
            ps.into_iter()
                .enumerate()
                .map(|(i, p)| {
                    let pp = format!("{path}.policies[{i}]");
                    let ty = match p.type_.as_str() {
                        "Pods" => PolicyType::Pods,
                        "Percent" => PolicyType::Percent,
                        o => {
                            errors.push(loc.at_value(
                                &format!("{pp}.type"),
                                format!("Unsupported value: {o:?}: supported values: \"Percent\", \"Pods\""),
                            ));
                            PolicyType::Pods
                        }
                    };
                    if p.value <= 0 {
                        errors.push(loc.at_value(
                            &format!("{pp}.value"),
                            "Invalid value: must be greater than zero",
                        ));
                    }
                    if !(1..=1800).contains(&p.period_seconds) {
                        errors.push(loc.at_value(
                            &format!("{pp}.periodSeconds"),
                            "Invalid value: must be between 1 and 1800",
                        ));
                    }
                    ScalingPolicy {
                        ty,
                        value: p.value.max(1),
                        period: SimDuration::from_secs(p.period_seconds.max(1) as u64),
                    }
                })
                .collect()
        }
    };
    ScalingRules {
        stabilization_window,
        select_policy,
        policies,
    }
}

pub fn conv_hpa(o: hpa::HorizontalPodAutoscaler, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let spec = o.spec;
    let r = &spec.scale_target_ref;
    let target_kind = match (r.api_version.as_deref(), r.kind.as_str()) {
        (Some("apps/v1") | None, "Deployment") => Kind::Deployment,
        (Some("apps/v1") | None, "ReplicaSet") => Kind::ReplicaSet,
        (_, k) => {
            errors.push(loc.at_value(
                "spec.scaleTargetRef.kind",
                format!("kubesim scales Deployments and ReplicaSets (apps/v1), not {k}"),
            ));
            Kind::Deployment
        }
    };
    if r.name.is_empty() {
        errors.push(loc.at("spec.scaleTargetRef.name", "Required value"));
    }
    let min_replicas = spec.min_replicas.unwrap_or(1);
    if min_replicas < 1 {
        errors.push(loc.at_value(
            "spec.minReplicas",
            "Invalid value: must be greater than or equal to 1 (scale-to-zero is an alpha feature kubesim does not simulate)",
        ));
    }
    if spec.max_replicas < min_replicas.max(1) {
        errors.push(loc.at_value(
            "spec.maxReplicas",
            format!(
                "Invalid value: {}: must be greater than or equal to `minReplicas`",
                spec.max_replicas
            ),
        ));
    }
    let mut metrics = Vec::new();
    for (i, m) in spec.metrics.unwrap_or_default().into_iter().enumerate() {
        let p = format!("spec.metrics[{i}]");
        match m.type_.as_str() {
            "Resource" => {
                let Some(r) = m.resource else {
                    errors.push(loc.at(&format!("{p}.resource"), "Required value: must populate information for the given metric source"));
                    continue;
                };
                if r.name != "cpu" && r.name != "memory" {
                    errors.push(loc.at_value(
                        &format!("{p}.resource.name"),
                        format!("kubesim's metrics server reports cpu and memory, not {:?}", r.name),
                    ));
                }
                let t = target(r.target, &format!("{p}.resource.target"), loc, &mut errors);
                if matches!(t, MetricTarget::Value(_)) {
                    errors.push(loc.at_value(
                        &format!("{p}.resource.target.type"),
                        "Invalid value: must be either Utilization or AverageValue",
                    ));
                }
                metrics.push(MetricSpec::Resource {
                    name: r.name,
                    target: t,
                });
            }
            "Pods" => {
                let Some(pm) = m.pods else {
                    errors.push(loc.at(&format!("{p}.pods"), "Required value: must populate information for the given metric source"));
                    continue;
                };
                let t = target(pm.target, &format!("{p}.pods.target"), loc, &mut errors);
                if !matches!(t, MetricTarget::AverageValue(_)) {
                    errors.push(loc.at_value(
                        &format!("{p}.pods.target.type"),
                        "Unsupported value: must be AverageValue",
                    ));
                }
                metrics.push(MetricSpec::Pods {
                    name: pm.metric.name,
                    target: t,
                });
            }
            "Object" => {
                let Some(om) = m.object else {
                    errors.push(loc.at(&format!("{p}.object"), "Required value: must populate information for the given metric source"));
                    continue;
                };
                let t = target(om.target, &format!("{p}.object.target"), loc, &mut errors);
                if matches!(t, MetricTarget::Utilization(_)) {
                    errors.push(loc.at_value(
                        &format!("{p}.object.target.type"),
                        "Invalid value: must be either Value or AverageValue",
                    ));
                }
                metrics.push(MetricSpec::Object {
                    name: om.metric.name,
                    kind: om.described_object.kind,
                    object: om.described_object.name,
                    target: t,
                });
            }
            "External" | "ContainerResource" => {
                errors.push(loc.at_value(
                    &format!("{p}.type"),
                    format!("metric type {} is not simulated (kubesim has Resource, Pods and Object)", m.type_),
                ));
            }
            o => errors.push(loc.at_value(
                &format!("{p}.type"),
                format!("Unsupported value: {o:?}: supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\""),
            )),
        }
    }
    if metrics.is_empty() && errors.is_empty() {
        // upstream default: 80% CPU utilization
        metrics.push(MetricSpec::Resource {
            name: "cpu".into(),
            target: MetricTarget::Utilization(80),
        });
    }
    let b = spec.behavior.unwrap_or_default();
    let scale_up = rules(
        b.scale_up,
        ScalingRules::default_up(),
        "spec.behavior.scaleUp",
        loc,
        &mut errors,
    );
    let scale_down = rules(
        b.scale_down,
        ScalingRules::default_down(),
        "spec.behavior.scaleDown",
        loc,
        &mut errors,
    );
    done(
        AnyObject::HorizontalPodAutoscaler(HorizontalPodAutoscaler {
            meta,
            target_kind,
            target_name: r.name.clone(),
            min_replicas,
            max_replicas: spec.max_replicas,
            metrics,
            scale_up,
            scale_down,
            status: HpaStatus::default(),
        }),
        errors,
    )
}
