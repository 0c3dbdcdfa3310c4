//! The horizontal pod autoscaler controller (placeholder, filled in below).

use crate::api::autoscaling::{HorizontalPodAutoscaler, MetricSpec, MetricTarget};

/// The TARGETS column of `kubectl get hpa`: `cpu: 45%/50%`, `<unknown>/50%`.
pub fn targets_column(h: &HorizontalPodAutoscaler) -> String {
    let mut parts = Vec::new();
    for (i, m) in h.metrics.iter().enumerate() {
        let (name, target) = match m {
            MetricSpec::Resource { name, target }
            | MetricSpec::Pods { name, target }
            | MetricSpec::Object { name, target, .. } => (name, target),
        };
        let cur = h.status.current_metrics.get(i);
        let t = match target {
            MetricTarget::Utilization(u) => format!("{u}%"),
            MetricTarget::AverageValue(v) | MetricTarget::Value(v) => milli(*v),
        };
        let c = match cur {
            Some(c) if c.utilization => format!("{}%", c.value),
            Some(c) => milli(c.value),
            None => "<unknown>".into(),
        };
        parts.push(format!("{name}: {c}/{t}"));
    }
    parts.join(", ")
}

/// A milli-value as kubectl prints a quantity: `4`, `500m`.
pub fn milli(v: i64) -> String {
    if v % 1000 == 0 {
        (v / 1000).to_string()
    } else {
        format!("{v}m")
    }
}
