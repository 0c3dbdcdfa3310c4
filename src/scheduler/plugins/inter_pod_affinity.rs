//! InterPodAffinity: required pod affinity / anti-affinity as a filter (including
//! existing pods' required anti-affinity), preferred terms as a score.

use super::common::{term_matches, NO_LABELS};
use crate::api::affinity::PodAffinityTerm;
use crate::api::selector::Labels;
use crate::scheduler::framework::{
    CycleState, FilterPlugin, NodeInfo, PodInfo, PodSummary, ScorePlugin, Snapshot, MAX_NODE_SCORE,
};
use std::collections::BTreeMap;

/// Upstream's `ErrReasonAffinityRulesNotMatch`.
pub const ERR_REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// Upstream's `ErrReasonAntiAffinityRulesNotMatch`.
pub const ERR_REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
/// Upstream's `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
const FILTER_KEY: &str = "PreFilterInterPodAffinity";
const SCORE_KEY: &str = "PreScoreInterPodAffinity";

/// topology key → topology value → count (or weight sum).
type TopoCounts = BTreeMap<String, BTreeMap<String, i64>>;

fn bump(m: &mut TopoCounts, key: &str, value: &str, by: i64) {
    let inner = match m.get_mut(key) {
        Some(i) => i,
        None => m.entry(key.to_string()).or_default(),
    };
    match inner.get_mut(value) {
        Some(v) => *v += by,
        None => {
            inner.insert(value.to_string(), by);
        }
    }
}

fn get(m: &TopoCounts, key: &str, value: &str) -> i64 {
    m.get(key).and_then(|i| i.get(value)).copied().unwrap_or(0)
}

/// InterPodAffinity, filter and score.
///
/// Namespaces of a term: its `namespaces` plus those its `namespaceSelector`
/// selects (by `Snapshot::namespace_labels`); with neither, the namespace of the
/// pod that owns the term. A missing label selector selects no pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterPodAffinity {
    /// Score weight of an existing pod's *required* affinity term the incoming pod
    /// matches (`hardPodAffinityWeight`, 0-100, default 1).
    pub hard_pod_affinity_weight: i64,
    /// `ignorePreferredTermsOfExistingPods`: skip scoring when the incoming pod has
    /// no preferred terms of its own.
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinity {
    fn default() -> Self {
        Self::new()
    }
}

impl InterPodAffinity {
    pub fn new() -> Self {
        InterPodAffinity {
            hard_pod_affinity_weight: 1,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

fn ns_labels<'a>(snap: &Snapshot<'a>, ns: &str) -> &'a Labels {
    snap.namespace_labels.get(ns).unwrap_or(&NO_LABELS)
}

/// Does `existing` (with its namespace labels) match `term` of the incoming pod?
fn existing_matches(term: &PodAffinityTerm, pod: &PodInfo, e: &PodSummary, e_ns: &Labels) -> bool {
    term_matches(term, pod.namespace, &e.key.namespace, &e.labels, e_ns)
}

/// Does the incoming pod match `term` of `existing`?
fn incoming_matches(
    term: &PodAffinityTerm,
    e: &PodSummary,
    pod: &PodInfo,
    pod_ns: &Labels,
) -> bool {
    term_matches(term, &e.key.namespace, pod.namespace, pod.labels, pod_ns)
}

fn has_any_affinity(p: &PodSummary) -> bool {
    let a = &p.spec.affinity;
    !(a.pod.required.is_empty()
        && a.pod.preferred.is_empty()
        && a.anti.required.is_empty()
        && a.anti.preferred.is_empty())
}

#[derive(Debug, Default)]
struct FilterState {
    /// Domains holding a pod that matches all the incoming pod's required affinity terms.
    affinity: TopoCounts,
    /// Domains holding a pod that matches an anti-affinity term of the incoming pod.
    anti: TopoCounts,
    /// Domains holding a pod whose required anti-affinity matches the incoming pod.
    existing_anti: TopoCounts,
    /// The incoming pod matches all of its own required affinity terms.
    self_match: bool,
}

impl FilterPlugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }
    fn pre_filter(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        state: &mut CycleState,
    ) -> Result<(), String> {
        let aff = &pod.spec.affinity.pod.required;
        let anti = &pod.spec.affinity.anti.required;
        let pod_ns = ns_labels(snap, pod.namespace);
        let mut s = FilterState::default();
        // Without terms of its own, only existing pods' required anti-affinity matters;
        // when no pod has any, there is nothing to check (and no state: Filter passes).
        let own_terms = !aff.is_empty() || !anti.is_empty();
        if !own_terms && snap.index.pods_with_required_anti_affinity == 0 {
            return Ok(());
        }
        for (_, node) in snap.present() {
            if !own_terms && node.pods_with_required_anti_affinity == 0 {
                continue;
            }
            for e in &node.pods {
                let e_ns = ns_labels(snap, &e.key.namespace);
                // existing pods' required anti-affinity against the incoming pod
                for t in &e.spec.affinity.anti.required {
                    if incoming_matches(t, e, pod, pod_ns) {
                        if let Some(v) = node.labels.get(&t.topology_key) {
                            bump(&mut s.existing_anti, &t.topology_key, v, 1);
                        }
                    }
                }
                if !aff.is_empty() && aff.iter().all(|t| existing_matches(t, pod, e, e_ns)) {
                    for t in aff {
                        if let Some(v) = node.labels.get(&t.topology_key) {
                            bump(&mut s.affinity, &t.topology_key, v, 1);
                        }
                    }
                }
                for t in anti {
                    if existing_matches(t, pod, e, e_ns) {
                        if let Some(v) = node.labels.get(&t.topology_key) {
                            bump(&mut s.anti, &t.topology_key, v, 1);
                        }
                    }
                }
            }
        }
        s.self_match = !aff.is_empty()
            && aff
                .iter()
                .all(|t| term_matches(t, pod.namespace, pod.namespace, pod.labels, pod_ns));
        state.insert(FILTER_KEY, s);
        Ok(())
    }
    fn filter(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        state: &CycleState,
    ) -> Result<(), Vec<String>> {
        let Some(s) = state.get::<FilterState>(FILTER_KEY) else {
            return Ok(());
        };
        // satisfyPodAffinity
        let mut pods_exist = true;
        for t in &pod.spec.affinity.pod.required {
            match node.labels.get(&t.topology_key) {
                None => return Err(vec![ERR_REASON_AFFINITY.into()]),
                Some(v) => {
                    if get(&s.affinity, &t.topology_key, v) <= 0 {
                        pods_exist = false;
                    }
                }
            }
        }
        // the first pod of a group with affinity to itself may go anywhere
        if !(pods_exist || s.affinity.is_empty() && s.self_match) {
            return Err(vec![ERR_REASON_AFFINITY.into()]);
        }
        // satisfyPodAntiAffinity
        if !s.anti.is_empty() {
            for t in &pod.spec.affinity.anti.required {
                if let Some(v) = node.labels.get(&t.topology_key) {
                    if get(&s.anti, &t.topology_key, v) > 0 {
                        return Err(vec![ERR_REASON_ANTI_AFFINITY.into()]);
                    }
                }
            }
        }
        // satisfyExistingPodsAntiAffinity
        for (k, values) in &s.existing_anti {
            if let Some(v) = node.labels.get(k) {
                if values.get(v.as_str()).copied().unwrap_or(0) > 0 {
                    return Err(vec![ERR_REASON_EXISTING_ANTI_AFFINITY.into()]);
                }
            }
        }
        Ok(())
    }
    fn skip_filter(&self, _pod: &PodInfo, state: &CycleState) -> bool {
        // PreFilter found nothing to check (no terms of its own, no existing
        // pod with required anti-affinity): Filter accepts every node
        state.get::<FilterState>(FILTER_KEY).is_none()
    }
}

#[derive(Debug, Default)]
struct ScoreState {
    /// topology key → value → Σ signed weights.
    scores: TopoCounts,
}

impl ScorePlugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }
    fn pre_score(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        _feasible: &[usize],
        state: &mut CycleState,
    ) -> bool {
        let pref_aff = &pod.spec.affinity.pod.preferred;
        let pref_anti = &pod.spec.affinity.anti.preferred;
        let has_constraints = !pref_aff.is_empty() || !pref_anti.is_empty();
        if self.ignore_preferred_terms_of_existing_pods && !has_constraints {
            return false;
        }
        if !has_constraints && snap.index.pods_with_affinity == 0 {
            // no term on either side: nothing would be touched
            return false;
        }
        let pod_ns = ns_labels(snap, pod.namespace);
        let mut s = ScoreState::default();
        let mut touched = false;
        let mut add = |s: &mut ScoreState, node: &NodeInfo, key: &str, w: i64| {
            if let Some(v) = node.labels.get(key) {
                bump(&mut s.scores, key, v, w);
                touched = true;
            }
        };
        for (_, node) in snap.present() {
            if node.labels.is_empty() || (!has_constraints && node.pods_with_affinity == 0) {
                continue;
            }
            for e in &node.pods {
                let e_aff = has_any_affinity(e);
                if !has_constraints && !e_aff {
                    continue;
                }
                let e_ns = ns_labels(snap, &e.key.namespace);
                for (w, t) in pref_aff {
                    if existing_matches(t, pod, e, e_ns) {
                        add(&mut s, node, &t.topology_key, *w as i64);
                    }
                }
                for (w, t) in pref_anti {
                    if existing_matches(t, pod, e, e_ns) {
                        add(&mut s, node, &t.topology_key, -(*w as i64));
                    }
                }
                if !e_aff {
                    continue;
                }
                let ea = &e.spec.affinity;
                if self.hard_pod_affinity_weight > 0 {
                    for t in &ea.pod.required {
                        if incoming_matches(t, e, pod, pod_ns) {
                            add(&mut s, node, &t.topology_key, self.hard_pod_affinity_weight);
                        }
                    }
                }
                for (w, t) in &ea.pod.preferred {
                    if incoming_matches(t, e, pod, pod_ns) {
                        add(&mut s, node, &t.topology_key, *w as i64);
                    }
                }
                for (w, t) in &ea.anti.preferred {
                    if incoming_matches(t, e, pod, pod_ns) {
                        add(&mut s, node, &t.topology_key, -(*w as i64));
                    }
                }
            }
        }
        if !touched {
            return false;
        }
        state.insert(SCORE_KEY, s);
        true
    }
    fn score(&self, _pod: &PodInfo, node: &NodeInfo, state: &CycleState) -> i64 {
        let Some(s) = state.get::<ScoreState>(SCORE_KEY) else {
            return 0;
        };
        s.scores
            .iter()
            .filter_map(|(k, vals)| node.labels.get(k).and_then(|v| vals.get(v.as_str())))
            .sum()
    }
    fn normalize(&self, scores: &mut [i64], state: &CycleState) {
        match state.get::<ScoreState>(SCORE_KEY) {
            Some(s) if !s.scores.is_empty() => {}
            _ => return,
        }
        let (mut min, mut max) = (i64::MAX, i64::MIN);
        for &s in scores.iter() {
            min = min.min(s);
            max = max.max(s);
        }
        let diff = max.saturating_sub(min);
        for s in scores.iter_mut() {
            *s = if diff > 0 {
                (MAX_NODE_SCORE as f64 * ((*s - min) as f64 / diff as f64)) as i64
            } else {
                0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::selector::{LabelSelector, Operator, Requirement};
    use crate::api::Pod;
    use crate::scheduler::plugins::testutil::*;

    fn term(key: &str, vals: &[&str], topology: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(LabelSelector {
                match_labels: Labels::new(),
                match_expressions: vec![Requirement::new(
                    key,
                    Operator::In,
                    vals.iter().map(|s| s.to_string()).collect(),
                )
                .unwrap()],
            }),
            namespaces: vec![],
            namespace_selector: None,
            topology_key: topology.into(),
        }
    }

    type NodeSpec<'a> = (&'a str, &'a [(&'a str, &'a str)], Vec<Pod>);

    fn cluster(nodes: Vec<NodeSpec>) -> Cluster {
        Cluster::new(
            nodes
                .into_iter()
                .map(|(name, l, pods)| {
                    let mut n = node(name, l);
                    for p in &pods {
                        place(&mut n, p);
                    }
                    n
                })
                .collect(),
        )
    }

    const S1: &[(&str, &str)] = &[("security", "S1")];
    const S2: &[(&str, &str)] = &[("security", "S2")];

    #[test]
    fn required_affinity() {
        let pl = InterPodAffinity::new();
        let c = cluster(vec![
            (
                "m1",
                &[("region", "r1"), ("zone", "z1")],
                vec![pod("e1", S1)],
            ),
            ("m2", &[("region", "r1"), ("zone", "z2")], vec![]),
            ("m3", &[("region", "r2"), ("zone", "z3")], vec![]),
            ("m4", &[], vec![]),
        ]);
        let p = with_spec(pod("p", &[]), |s| {
            s.affinity.pod.required = vec![term("security", &["S1"], "region")]
        });
        let r = c.filter(&pl, &p);
        assert_eq!(r[0], Ok(()));
        assert_eq!(r[1], Ok(()));
        assert_eq!(r[2], Err(ERR_REASON_AFFINITY.to_string()));
        assert_eq!(r[3], Err(ERR_REASON_AFFINITY.to_string()));
        // no pod matches anywhere, but the pod matches its own term: allowed where the key exists
        let selfish = with_spec(pod("p", S2), |s| {
            s.affinity.pod.required = vec![term("security", &["S2"], "region")]
        });
        let r = c.filter(&pl, &selfish);
        assert_eq!(
            (r[0].is_ok(), r[2].is_ok(), r[3].is_ok()),
            (true, true, false)
        );
        // ... but not if it does not match its own term
        let other = with_spec(pod("p", S1), |s| {
            s.affinity.pod.required = vec![term("security", &["S2"], "region")]
        });
        assert!(c.filter(&pl, &other).iter().all(|r| r.is_err()));
        // pods in other namespaces do not count unless the term names them
        let mut foreign = pod("e", S1);
        foreign.meta.namespace = "ns2".into();
        let c2 = cluster(vec![("m1", &[("region", "r1")], vec![foreign])]);
        assert!(c2.filter(&pl, &p)[0].is_err());
        let p_ns = with_spec(pod("p", &[]), |s| {
            let mut t = term("security", &["S1"], "region");
            t.namespaces = vec!["ns2".into()];
            s.affinity.pod.required = vec![t];
        });
        assert!(c2.filter(&pl, &p_ns)[0].is_ok());
        // an empty namespace selector selects every namespace
        let p_all = with_spec(pod("p", &[]), |s| {
            let mut t = term("security", &["S1"], "region");
            t.namespace_selector = Some(LabelSelector::default());
            s.affinity.pod.required = vec![t];
        });
        assert!(c2.filter(&pl, &p_all)[0].is_ok());
        // a namespace selector on namespace labels
        let mut c3 = cluster(vec![(
            "m1",
            &[("region", "r1")],
            vec![{
                let mut e = pod("e", S1);
                e.meta.namespace = "team-a".into();
                e
            }],
        )]);
        let p_sel = with_spec(pod("p", &[]), |s| {
            let mut t = term("security", &["S1"], "region");
            t.namespace_selector = Some(LabelSelector::from_labels(labels(&[("team", "a")])));
            s.affinity.pod.required = vec![t];
        });
        assert!(c3.filter(&pl, &p_sel)[0].is_err());
        c3.ns_labels
            .insert("team-a".into(), labels(&[("team", "a")]));
        assert!(c3.filter(&pl, &p_sel)[0].is_ok());
    }

    #[test]
    fn required_anti_affinity_both_ways() {
        let pl = InterPodAffinity::new();
        let anti_s1 = |name: &str, l: &[(&str, &str)]| {
            with_spec(pod(name, l), |s| {
                s.affinity.anti.required = vec![term("security", &["S1"], "zone")]
            })
        };
        let c = cluster(vec![
            ("m1", &[("zone", "z1")], vec![pod("e1", S1)]),
            ("m2", &[("zone", "z1")], vec![]),
            ("m3", &[("zone", "z2")], vec![]),
        ]);
        let r = c.filter(&pl, &anti_s1("p", &[]));
        assert_eq!(r[0], Err(ERR_REASON_ANTI_AFFINITY.to_string()));
        assert_eq!(r[1], Err(ERR_REASON_ANTI_AFFINITY.to_string()));
        assert_eq!(r[2], Ok(()));
        // an existing pod's anti-affinity keeps matching pods out of its zone
        let c = cluster(vec![
            ("m1", &[("zone", "z1")], vec![anti_s1("e1", S2)]),
            ("m2", &[("zone", "z1")], vec![]),
            ("m3", &[("zone", "z2")], vec![]),
        ]);
        let r = c.filter(&pl, &pod("p", S1));
        assert_eq!(r[0], Err(ERR_REASON_EXISTING_ANTI_AFFINITY.to_string()));
        assert_eq!(r[1], Err(ERR_REASON_EXISTING_ANTI_AFFINITY.to_string()));
        assert_eq!(r[2], Ok(()));
        assert!(c.filter(&pl, &pod("p", S2)).iter().all(|r| r.is_ok()));
    }

    /// scoring_test.go: "Affinity: pod that matches topology key & pods in nodes will
    /// get high score comparing to others which doesn't match either pods in nodes
    /// or in topology key" and the anti-affinity / symmetric variants.
    #[test]
    fn score_golden() {
        let pl = InterPodAffinity::new();
        let china: &[(&str, &str)] = &[("region", "China")];
        let india: &[(&str, &str)] = &[("region", "India")];
        let az1: &[(&str, &str)] = &[("az", "az1")];
        let c = cluster(vec![
            ("machine1", china, vec![pod("e1", S1)]),
            ("machine2", india, vec![pod("e2", S2)]),
            ("machine3", az1, vec![]),
        ]);
        let aff = with_spec(pod("p", &[]), |s| {
            s.affinity.pod.preferred = vec![(5, term("security", &["S1"], "region"))]
        });
        assert_eq!(c.score(&pl, &aff).unwrap().1, vec![100, 0, 0]);
        // anti-affinity: the matching domain gets the lowest score
        let anti = with_spec(pod("p", &[]), |s| {
            s.affinity.anti.preferred = vec![(5, term("security", &["S1"], "region"))]
        });
        let (raw, norm) = c.score(&pl, &anti).unwrap();
        assert_eq!(raw, vec![-5, 0, 0]);
        assert_eq!(norm, vec![0, 100, 100]);
        // symmetric: an existing pod's preferred affinity for the incoming pod
        let c2 = cluster(vec![
            (
                "machine1",
                china,
                vec![with_spec(pod("e1", &[]), |s| {
                    s.affinity.pod.preferred = vec![(8, term("security", &["S1"], "region"))]
                })],
            ),
            ("machine2", china, vec![]),
            ("machine3", india, vec![]),
        ]);
        assert_eq!(
            c2.score(&pl, &pod("p", S1)).unwrap(),
            (vec![8, 8, 0], vec![100, 100, 0])
        );
        // hardPodAffinityWeight for an existing pod's required affinity
        let c3 = cluster(vec![
            (
                "machine1",
                china,
                vec![with_spec(pod("e1", &[]), |s| {
                    s.affinity.pod.required = vec![term("security", &["S1"], "region")]
                })],
            ),
            ("machine3", india, vec![]),
        ]);
        assert_eq!(c3.score(&pl, &pod("p", S1)).unwrap().0, vec![1, 0]);
        let heavy = InterPodAffinity {
            hard_pod_affinity_weight: 7,
            ..InterPodAffinity::new()
        };
        assert_eq!(c3.score(&heavy, &pod("p", S1)).unwrap().0, vec![7, 0]);
        let zero = InterPodAffinity {
            hard_pod_affinity_weight: 0,
            ..InterPodAffinity::new()
        };
        assert_eq!(c3.score(&zero, &pod("p", S1)), None);
        // nothing relevant anywhere: skipped
        assert_eq!(c.score(&pl, &pod("p", S1)), None);
        // mixed: +5 and −3 in one domain, scaled between min and max
        let mixed = with_spec(pod("p", &[]), |s| {
            s.affinity.pod.preferred = vec![(5, term("security", &["S1"], "region"))];
            s.affinity.anti.preferred = vec![(3, term("security", &["S2"], "region"))];
        });
        let (raw, norm) = c.score(&pl, &mixed).unwrap();
        assert_eq!(raw, vec![5, -3, 0]);
        // (s − min) / (max − min) × 100: 100, 0, 37
        assert_eq!(norm, vec![100, 0, 37]);
    }
}
