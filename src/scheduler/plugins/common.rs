//! Helpers shared by several plugins.

use crate::api::affinity::PodAffinityTerm;
use crate::api::selector::{matches_map, LabelSelector, Labels};
use crate::api::taint::{tolerated, Taint, TaintEffect, Toleration};
use crate::api::PodSpec;

/// Node label upstream spreads over per node (`v1.LabelHostname`).
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// Node label of the zone (`v1.LabelTopologyZone`).
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

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
