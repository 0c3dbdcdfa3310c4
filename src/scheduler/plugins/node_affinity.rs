//! NodeAffinity: `nodeSelector` and required node affinity as a filter; preferred
//! node affinity as a score.

use super::common::required_node_affinity_matches;
use crate::scheduler::framework::{
    default_normalize, CycleState, FilterPlugin, NodeInfo, PodInfo, ScorePlugin, Snapshot,
    MAX_NODE_SCORE,
};

/// Upstream's `ErrReasonPod`.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";

/// NodeAffinity. Filter: every `nodeSelector` label must be on the node AND one of
/// the required node selector terms (if any) must match it. Score: the sum of the
/// weights of the preferred terms the node matches, normalized with
/// `DefaultNormalizeScore(100, reverse=false)`; skipped for pods without preferred
/// terms. (Upstream's `addedAffinity` plugin arg is not modelled.)
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeAffinity;

impl NodeAffinity {
    pub fn new() -> Self {
        NodeAffinity
    }
}

impl FilterPlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        _state: &CycleState,
    ) -> Result<(), Vec<String>> {
        if required_node_affinity_matches(pod.node_selector, pod.spec, &node.name, &node.labels) {
            Ok(())
        } else {
            Err(vec![ERR_REASON_POD.into()])
        }
    }
    fn skip_filter(&self, pod: &PodInfo, _state: &CycleState) -> bool {
        // no nodeSelector and no required node affinity: every node matches
        pod.node_selector.is_empty() && pod.spec.affinity.node.required.is_none()
    }
}

impl ScorePlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }
    fn node_local(&self) -> bool {
        true
    }
    fn pre_score(
        &self,
        pod: &PodInfo,
        _snap: &Snapshot,
        _feasible: &[usize],
        _state: &mut CycleState,
    ) -> bool {
        pod.spec
            .affinity
            .node
            .preferred
            .iter()
            .any(|(w, _)| *w != 0)
    }
    fn score(&self, pod: &PodInfo, node: &NodeInfo, _state: &CycleState) -> i64 {
        pod.spec
            .affinity
            .node
            .preferred
            .iter()
            .filter(|(w, t)| *w != 0 && t.matches(&node.name, &node.labels))
            .map(|(w, _)| *w as i64)
            .sum()
    }
    fn normalize(&self, scores: &mut [i64], _state: &CycleState) {
        default_normalize(MAX_NODE_SCORE, false, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::affinity::{NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm};
    use crate::scheduler::plugins::testutil::*;

    fn term(key: &str, op: NodeSelectorOperator, vals: &[&str]) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: vec![NodeSelectorRequirement {
                key: key.into(),
                operator: op,
                values: vals.iter().map(|s| s.to_string()).collect(),
            }],
            match_fields: vec![],
        }
    }

    #[test]
    fn filter_ands_node_selector_with_ored_required_terms() {
        use NodeSelectorOperator::*;
        let c = Cluster::new(vec![
            node("n1", &[("zone", "a"), ("disk", "ssd")]),
            node("n2", &[("zone", "b"), ("disk", "ssd")]),
            node("n3", &[("zone", "c")]),
        ]);
        let p = with_spec(pod("p", &[]), |s| {
            s.node_selector = labels(&[("disk", "ssd")]);
            s.affinity.node.required =
                Some(vec![term("zone", In, &["a"]), term("zone", In, &["c"])]);
        });
        let r = c.filter(&NodeAffinity, &p);
        assert_eq!(r[0], Ok(()));
        assert_eq!(r[1], Err(ERR_REASON_POD.to_string()));
        assert_eq!(r[2], Err(ERR_REASON_POD.to_string())); // zone c but no disk=ssd
                                                           // an empty term list matches no node; an empty term matches nothing
        let none = with_spec(pod("p", &[]), |s| s.affinity.node.required = Some(vec![]));
        assert!(c.filter(&NodeAffinity, &none).iter().all(|r| r.is_err()));
        let empty = with_spec(pod("p", &[]), |s| {
            s.affinity.node.required = Some(vec![NodeSelectorTerm::default()])
        });
        assert!(c.filter(&NodeAffinity, &empty).iter().all(|r| r.is_err()));
        // matchFields on metadata.name
        let byname = with_spec(pod("p", &[]), |s| {
            s.affinity.node.required = Some(vec![NodeSelectorTerm {
                match_expressions: vec![],
                match_fields: vec![NodeSelectorRequirement {
                    key: "metadata.name".into(),
                    operator: In,
                    values: vec!["n2".into()],
                }],
            }])
        });
        let r = c.filter(&NodeAffinity, &byname);
        assert_eq!(
            (r[0].is_ok(), r[1].is_ok(), r[2].is_ok()),
            (false, true, false)
        );
    }

    /// node_affinity_test.go TestNodeAffinityPriority "only machine1 matches the
    /// preferred scheduling requirements of pod" and "all machines matches ... with
    /// different weights": label sets and weights as upstream.
    #[test]
    fn score_golden() {
        use NodeSelectorOperator::*;
        let c = Cluster::new(vec![
            node("machine1", &[("foo", "bar")]),
            node("machine2", &[("key", "value")]),
            node("machine3", &[("az", "az1")]),
        ]);
        let nothing = pod("p", &[]);
        assert_eq!(c.score(&NodeAffinity, &nothing), None);

        let affinity1 = with_spec(pod("p", &[]), |s| {
            s.affinity.node.preferred = vec![(2, term("foo", In, &["bar"]))];
        });
        let (raw, norm) = c.score(&NodeAffinity, &affinity1).unwrap();
        assert_eq!(raw, vec![2, 0, 0]);
        assert_eq!(norm, vec![100, 0, 0]);

        // upstream affinity2: weights 2 (foo=bar), 4 (key=value), 5 (foo=bar AND key=value AND az=az1)
        let c = Cluster::new(vec![
            node("machine1", &[("foo", "bar")]),
            node(
                "machine5",
                &[("foo", "bar"), ("key", "value"), ("az", "az1")],
            ),
            node("machine2", &[("key", "value")]),
        ]);
        let affinity2 = with_spec(pod("p", &[]), |s| {
            let mut all = term("foo", In, &["bar"]);
            all.match_expressions
                .extend(term("key", In, &["value"]).match_expressions);
            all.match_expressions
                .extend(term("az", In, &["az1"]).match_expressions);
            s.affinity.node.preferred = vec![
                (2, term("foo", In, &["bar"])),
                (4, term("key", In, &["value"])),
                (5, all),
            ];
        });
        let (raw, norm) = c.score(&NodeAffinity, &affinity2).unwrap();
        assert_eq!(raw, vec![2, 11, 4]);
        // upstream expects machine1 18, machine5 100, machine2 36
        assert_eq!(norm, vec![18, 100, 36]);
    }
}
