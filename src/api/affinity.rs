//! Node affinity, pod (anti-)affinity and topology spread constraints, as in
//! `v1.Affinity` and `v1.TopologySpreadConstraint`.

use super::selector::{LabelSelector, Labels};

/// Operators of node selector requirements (they add `Gt`/`Lt` to label selectors').
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeSelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

impl NodeSelectorOperator {
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "In" => Self::In,
            "NotIn" => Self::NotIn,
            "Exists" => Self::Exists,
            "DoesNotExist" => Self::DoesNotExist,
            "Gt" => Self::Gt,
            "Lt" => Self::Lt,
            _ => {
                return Err(format!(
                    "unknown operator {s:?}: expected In, NotIn, Exists, DoesNotExist, Gt or Lt"
                ))
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeSelectorRequirement {
    pub key: String,
    pub operator: NodeSelectorOperator,
    pub values: Vec<String>,
}

impl NodeSelectorRequirement {
    /// Whether `value` (the node's label, or `None` if absent) satisfies the requirement.
    pub fn matches(&self, value: Option<&str>) -> bool {
        use NodeSelectorOperator::*;
        match self.operator {
            In => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            NotIn => value.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            Exists => value.is_some(),
            DoesNotExist => value.is_none(),
            Gt | Lt => {
                let (Some(v), Some(bound)) = (
                    value.and_then(|v| v.parse::<i64>().ok()),
                    self.values.first().and_then(|b| b.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.operator == Gt {
                    v > bound
                } else {
                    v < bound
                }
            }
        }
    }
}

/// A node selector term: all expressions and all field requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NodeSelectorTerm {
    pub match_expressions: Vec<NodeSelectorRequirement>,
    /// Only `metadata.name` is a supported field, as upstream.
    pub match_fields: Vec<NodeSelectorRequirement>,
}

impl NodeSelectorTerm {
    pub fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        // An empty term matches nothing (upstream: a nil or empty term selects no objects).
        if self.match_expressions.is_empty() && self.match_fields.is_empty() {
            return false;
        }
        self.match_expressions
            .iter()
            .all(|r| r.matches(labels.get(&r.key).map(String::as_str)))
            && self.match_fields.iter().all(|r| r.matches(Some(node_name)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NodeAffinity {
    /// requiredDuringSchedulingIgnoredDuringExecution: terms are ORed; `None` = no requirement.
    pub required: Option<Vec<NodeSelectorTerm>>,
    /// preferredDuringSchedulingIgnoredDuringExecution: (weight 1-100, term).
    pub preferred: Vec<(i32, NodeSelectorTerm)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PodAffinityTerm {
    /// `None` selects no pods.
    pub label_selector: Option<LabelSelector>,
    /// Namespaces the term applies to; empty with no namespace selector = the pod's own namespace.
    pub namespaces: Vec<String>,
    /// Selects namespaces by their labels; `Some(empty)` = all namespaces.
    pub namespace_selector: Option<LabelSelector>,
    pub topology_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PodAffinity {
    pub required: Vec<PodAffinityTerm>,
    pub preferred: Vec<(i32, PodAffinityTerm)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Affinity {
    pub node: NodeAffinity,
    pub pod: PodAffinity,
    pub anti: PodAffinity,
}

impl Affinity {
    pub fn is_empty(&self) -> bool {
        *self == Affinity::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WhenUnsatisfiable {
    DoNotSchedule,
    ScheduleAnyway,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopologySpreadConstraint {
    pub max_skew: i32,
    pub topology_key: String,
    pub when_unsatisfiable: WhenUnsatisfiable,
    pub label_selector: Option<LabelSelector>,
    pub min_domains: Option<i32>,
    /// nodeAffinityPolicy: Honor (default) counts only nodes matching the pod's node affinity.
    pub node_affinity_honor: bool,
    /// nodeTaintsPolicy: Ignore (default) counts tainted nodes too.
    pub node_taints_honor: bool,
    pub match_label_keys: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, op: NodeSelectorOperator, vals: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op,
            values: vals.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn node_selector_operators() {
        use NodeSelectorOperator::*;
        assert!(req("k", In, &["a", "b"]).matches(Some("b")));
        assert!(!req("k", In, &["a"]).matches(None));
        assert!(req("k", NotIn, &["a"]).matches(None));
        assert!(req("k", Gt, &["5"]).matches(Some("6")));
        assert!(!req("k", Gt, &["5"]).matches(Some("5")));
        assert!(req("k", Lt, &["5"]).matches(Some("4")));
        assert!(!req("k", Lt, &["x"]).matches(Some("4")));
    }

    #[test]
    fn empty_term_matches_nothing_and_fields_match_the_name() {
        let labels = Labels::new();
        assert!(!NodeSelectorTerm::default().matches("n1", &labels));
        let t = NodeSelectorTerm {
            match_fields: vec![req("metadata.name", NodeSelectorOperator::In, &["n1"])],
            ..Default::default()
        };
        assert!(t.matches("n1", &labels));
        assert!(!t.matches("n2", &labels));
    }
}
