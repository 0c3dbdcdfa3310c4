//! Helpers shared by several plugins.

use crate::api::affinity::PodAffinityTerm;
use crate::api::selector::{matches_map, LabelSelector, Labels};
use crate::api::taint::{tolerated, Taint, TaintEffect, Toleration};
use crate::api::PodSpec;

/// Node label upstream spreads over per node (`v1.LabelHostname`).
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// Node label of the zone (`v1.LabelTopologyZone`).
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// Go's `math.Round` (half away from zero) as an integer, without the libm
/// call `f64::round` becomes on baseline x86-64: PodTopologySpread rounds one
/// score per node per cycle. Exact for every `x` (large ones go through `round`).
pub fn round_half_away(x: f64) -> i64 {
    if x.abs() >= 4_503_599_627_370_496.0 || x.is_nan() {
        // 2^52 and beyond are whole numbers already (and NaN stays as `round` has it)
        return x.round() as i64;
    }
    let t = x as i64; // truncation, exact below 2^52
    let frac = x - t as f64; // exact: x and t share their integer part
    if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    }
}

/// Labels of a namespace kubesim has not seen (no labels).
pub static NO_LABELS: Labels = Labels::new();

/// `GetRequiredNodeAffinity(pod).Match(node)`: the pod's `nodeSelector` AND its
/// required node affinity (terms ORed; `Some(vec![])` matches no node).
pub fn required_node_affinity_matches(
    node_selector: &Labels,
    spec: &PodSpec,
    node_name: &str,
    node_labels: &Labels,
) -> bool {
    if !matches_map(node_selector, node_labels) {
        return false;
    }
    match &spec.affinity.node.required {
        None => true,
        Some(terms) => terms.iter().any(|t| t.matches(node_name, node_labels)),
    }
}

/// Whether the node has a NoSchedule/NoExecute taint the pod does not tolerate
/// (`FindMatchingUntoleratedTaint` with `DoNotScheduleTaintsFilterFunc`).
pub fn has_untolerated_hard_taint(taints: &[Taint], tolerations: &[Toleration]) -> bool {
    taints.iter().any(|t| {
        matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute)
            && !tolerated(tolerations, t)
    })
}

/// `metav1.LabelSelectorAsSelector` semantics: a missing selector selects nothing.
pub fn selector_matches(sel: Option<&LabelSelector>, labels: &Labels) -> bool {
    sel.is_some_and(|s| s.matches(labels))
}

/// `AffinityTerm.Matches`: does a pod (namespace, labels, its namespace's labels)
/// match `term`, a term of a pod living in `owner_ns`? The term applies to
/// `namespaces` ∪ namespaces selected by `namespace_selector`; with neither, to
/// the owner's namespace.
pub fn term_matches(
    term: &PodAffinityTerm,
    owner_ns: &str,
    pod_ns: &str,
    pod_labels: &Labels,
    pod_ns_labels: &Labels,
) -> bool {
    let ns_ok = if term.namespaces.is_empty() && term.namespace_selector.is_none() {
        pod_ns == owner_ns
    } else {
        term.namespaces.iter().any(|n| n == pod_ns)
            || term
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.matches(pod_ns_labels))
    };
    ns_ok && selector_matches(term.label_selector.as_ref(), pod_labels)
}

#[cfg(test)]
mod tests {
    use super::round_half_away;
    use proptest::prelude::*;

    #[test]
    fn rounds_half_away_from_zero() {
        for (x, want) in [
            (0.5, 1),
            (-0.5, -1),
            (1.5, 2),
            (2.5, 3),
            (0.49999999999999994, 0),
            (-0.49999999999999994, 0),
            (4503599627370495.5, 4503599627370496),
            (1e18, 1_000_000_000_000_000_000),
            (0.0, 0),
        ] {
            assert_eq!(round_half_away(x), want, "{x}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_f64_round(x in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            prop_assert_eq!(round_half_away(x), x.round() as i64);
        }

        #[test]
        fn agrees_with_f64_round_on_halves(n in -1_000_000i64..1_000_000, k in 0u32..4) {
            let x = n as f64 / 2f64.powi(k as i32);
            prop_assert_eq!(round_half_away(x), x.round() as i64);
        }
    }
}
