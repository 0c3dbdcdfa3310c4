//! PodTopologySpread: spread matching pods evenly over topology domains.
//!
//! Filter enforces `DoNotSchedule` constraints (skew = matching pods in the node's
//! domain + self − global minimum over eligible domains ≤ maxSkew); Score prefers
//! nodes whose domains hold fewer matching pods for `ScheduleAnyway` constraints.
//!
//! System default constraints (pods with no constraints of their own): hostname
//! maxSkew 3 and zone maxSkew 5, ScheduleAnyway. Upstream selects the pods to count
//! with the selectors of the Services / ReplicaSets / StatefulSets that own the pod;
//! kubesim uses the pod's own labels (for a ReplicaSet's pods, the template labels,
//! which the ReplicaSet selector matches), restricted to the pod's namespace. A pod
//! without labels gets no default constraints.
//!
//! Matching pods are counted over `NodeInfo::pods` (same namespace, selector
//! match); terminating pods are counted too (the summary does not say). For
//! constraints on the hostname, or on the zone including every node (the
//! system defaults), Score reads the scheduler's `ClusterIndex` instead: the
//! selector is matched once per interned pod group, and a node's or a zone's
//! count is read from the selected groups' counts.

use super::common::{
    has_untolerated_hard_taint, required_node_affinity_matches, round_half_away, selector_matches,
    LABEL_HOSTNAME, LABEL_ZONE,
};
use crate::api::affinity::{TopologySpreadConstraint, WhenUnsatisfiable};
use crate::api::selector::{LabelSelector, Labels};
use crate::scheduler::framework::{
    ClusterIndex, CycleState, FilterPlugin, NodeCounts, NodeInfo, NodeSlot, PodInfo, ScorePlugin,
    Snapshot, MAX_NODE_SCORE,
};
use std::collections::BTreeMap;

/// Upstream's `ErrReasonConstraintsNotMatch`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// Upstream's `ErrReasonNodeLabelNotMatch`.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
const FILTER_KEY: &str = "PreFilterPodTopologySpread";
const SCORE_KEY: &str = "PreScorePodTopologySpread";
/// Raw score of a node PreScore ignores (missing a topology key).
const INVALID_SCORE: i64 = -1;

/// A constraint with its selector resolved for the pod being scheduled.
#[derive(Debug, Clone)]
struct Constraint {
    max_skew: i64,
    topology_key: String,
    /// `None` selects nothing.
    selector: Option<LabelSelector>,
    /// The selector's `required_bloom`: a fast first test of each pod group.
    required: u64,
    min_domains: i64,
    node_affinity_honor: bool,
    node_taints_honor: bool,
    /// `topology_key == LABEL_HOSTNAME`, decided once.
    is_hostname: bool,
}

impl Constraint {
    fn matches_pod(&self, labels: &Labels) -> bool {
        selector_matches(self.selector.as_ref(), labels)
    }

    /// Matching pods on `node` in namespace `ns`.
    fn count_on(&self, node: &NodeInfo, ns: &str) -> i64 {
        let required = self.required;
        node.group_blooms
            .iter()
            .enumerate()
            .filter(|&(_, b)| b & required == required)
            .map(|(i, _)| &node.label_groups[i])
            .filter(|g| g.selected_by(ns, self.selector.as_ref(), required))
            .map(|g| g.count as i64)
            .sum()
    }

    /// `matchNodeInclusionPolicies`.
    fn includes(&self, pod: &PodInfo, node: &NodeInfo) -> bool {
        if self.node_affinity_honor
            && !required_node_affinity_matches(
                pod.node_selector,
                pod.spec,
                &node.name,
                &node.labels,
            )
        {
            return false;
        }
        !(self.node_taints_honor && has_untolerated_hard_taint(&node.taints, pod.tolerations))
    }

    /// Whether [`Constraint::includes`] holds for every node whatever its labels
    /// and taints: the pod has no node selector or required node affinity to
    /// honour, and taints are not honoured.
    fn includes_every_node(&self, pod: &PodInfo) -> bool {
        !self.node_taints_honor
            && (!self.node_affinity_honor
                || (pod.node_selector.is_empty() && pod.spec.affinity.node.required.is_none()))
    }
}

/// PodTopologySpread, filter and score. `default_constraints` apply to pods with
/// no `topologySpreadConstraints` of their own (their label selectors are ignored:
/// the pod's labels select); `system_defaulted` is upstream's
/// `defaultingType: System`, under which nodes missing a default topology key are
/// still scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTopologySpread {
    pub default_constraints: Vec<TopologySpreadConstraint>,
    pub system_defaulted: bool,
}

impl Default for PodTopologySpread {
    fn default() -> Self {
        Self::new()
    }
}

/// The system default constraints (`defaultingType: System`).
pub fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    [(LABEL_HOSTNAME, 3), (LABEL_ZONE, 5)]
        .into_iter()
        .map(|(key, skew)| TopologySpreadConstraint {
            max_skew: skew,
            topology_key: key.into(),
            when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
            label_selector: None,
            min_domains: None,
            node_affinity_honor: true,
            node_taints_honor: false,
            match_label_keys: Vec::new(),
        })
        .collect()
}

impl PodTopologySpread {
    /// With the system default constraints.
    pub fn new() -> Self {
        PodTopologySpread {
            default_constraints: system_default_constraints(),
            system_defaulted: true,
        }
    }

    /// `defaultingType: List` with these default constraints.
    pub fn with_default_constraints(list: Vec<TopologySpreadConstraint>) -> Self {
        PodTopologySpread {
            default_constraints: list,
            system_defaulted: false,
        }
    }

    /// The pod's constraints for `action` (`filterTopologySpreadConstraints` /
    /// `buildDefaultConstraints`).
    fn constraints(&self, pod: &PodInfo, action: WhenUnsatisfiable) -> Vec<Constraint> {
        let own = !pod.spec.topology_spread.is_empty();
        if !own && pod.labels.is_empty() {
            return Vec::new();
        }
        let source = if own {
            &pod.spec.topology_spread
        } else {
            &self.default_constraints
        };
        source
            .iter()
            .filter(|c| c.when_unsatisfiable == action)
            .map(|c| {
                let selector = if own {
                    let mut selector = c.label_selector.clone();
                    // matchLabelKeys: AND key=value for the keys the pod has
                    let extra: Labels = c
                        .match_label_keys
                        .iter()
                        .filter_map(|k| pod.labels.get(k).map(|v| (k.clone(), v.clone())))
                        .collect();
                    if !extra.is_empty() {
                        selector = Some(match selector {
                            // upstream: a nil selector merged with match labels is just them
                            None => LabelSelector::from_labels(extra),
                            Some(mut s) => {
                                s.match_labels.extend(extra);
                                s
                            }
                        });
                    }
                    selector
                } else {
                    // system defaults select the pod's own labels
                    Some(LabelSelector::from_labels(pod.labels.clone()))
                };
                Constraint {
                    required: selector.as_ref().map_or(0, LabelSelector::required_bloom),
                    max_skew: c.max_skew as i64,
                    is_hostname: c.topology_key == LABEL_HOSTNAME,
                    topology_key: c.topology_key.clone(),
                    selector,
                    min_domains: c.min_domains.unwrap_or(1) as i64,
                    node_affinity_honor: c.node_affinity_honor,
                    node_taints_honor: c.node_taints_honor,
                }
            })
            .collect()
    }
}

/// `labels.get(key)` by a linear scan with `==`: label maps are small, and `==`
/// compares lengths before bytes, where the map's ordered search compares bytes.
fn label<'a>(labels: &'a Labels, key: &str) -> Option<&'a String> {
    labels.iter().find_map(|(k, v)| (k == key).then_some(v))
}

/// `counts.get(value)`, linearly for the usual handful of domains.
fn count_in(counts: &BTreeMap<String, i64>, value: &str) -> i64 {
    if counts.len() <= 8 {
        counts
            .iter()
            .find_map(|(k, c)| (k == value).then_some(*c))
            .unwrap_or(0)
    } else {
        counts.get(value).copied().unwrap_or(0)
    }
}

fn has_all_keys(node: &NodeInfo, cs: &[Constraint]) -> bool {
    cs.iter().all(|c| node.labels.contains_key(&c.topology_key))
}

#[derive(Debug)]
struct FilterState {
    constraints: Vec<Constraint>,
    /// Per constraint: domain value → matching pods.
    counts: Vec<BTreeMap<String, i64>>,
    /// Per constraint: the global minimum with minDomains applied.
    min_match: Vec<i64>,
    /// Per constraint: whether the incoming pod matches its selector.
    self_match: Vec<i64>,
}

impl FilterPlugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        "PodTopologySpread"
    }
    fn pre_filter(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        state: &mut CycleState,
    ) -> Result<(), String> {
        let constraints = self.constraints(pod, WhenUnsatisfiable::DoNotSchedule);
        let mut counts = vec![BTreeMap::<String, i64>::new(); constraints.len()];
        if !constraints.is_empty() {
            for (_, node) in snap.present() {
                if !has_all_keys(node, &constraints) {
                    continue;
                }
                for (i, c) in constraints.iter().enumerate() {
                    if !c.includes(pod, node) {
                        continue;
                    }
                    let value = &node.labels[&c.topology_key];
                    let n = c.count_on(node, pod.namespace);
                    match counts[i].get_mut(value.as_str()) {
                        Some(v) => *v += n,
                        None => {
                            counts[i].insert(value.clone(), n);
                        }
                    }
                }
            }
        }
        let min_match = constraints
            .iter()
            .zip(&counts)
            .map(|(c, m)| {
                if (m.len() as i64) < c.min_domains {
                    0
                } else {
                    m.values().copied().min().unwrap_or(i32::MAX as i64)
                }
            })
            .collect();
        let self_match = constraints
            .iter()
            .map(|c| c.matches_pod(pod.labels) as i64)
            .collect();
        state.insert(
            FILTER_KEY,
            FilterState {
                constraints,
                counts,
                min_match,
                self_match,
            },
        );
        Ok(())
    }
    fn filter(
        &self,
        _pod: &PodInfo,
        node: &NodeInfo,
        state: &CycleState,
    ) -> Result<(), Vec<String>> {
        let Some(s) = state.get::<FilterState>(FILTER_KEY) else {
            return Ok(());
        };
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.labels.get(&c.topology_key) else {
                return Err(vec![ERR_REASON_NODE_LABEL_NOT_MATCH.into()]);
            };
            let matched = s.counts[i].get(value.as_str()).copied().unwrap_or(0);
            let skew = matched + s.self_match[i] - s.min_match[i];
            if skew > c.max_skew {
                return Err(vec![ERR_REASON_CONSTRAINTS_NOT_MATCH.into()]);
            }
        }
        Ok(())
    }
    fn skip_filter(&self, _pod: &PodInfo, state: &CycleState) -> bool {
        // no DoNotSchedule constraint: Filter accepts every node
        state
            .get::<FilterState>(FILTER_KEY)
            .is_none_or(|s| s.constraints.is_empty())
    }
}

#[derive(Debug)]
struct ScoreState {
    constraints: Vec<Constraint>,
    /// Nodes missing a topology key are ignored (raw score −1, normalized 0).
    require_all: bool,
    /// Per constraint (non-hostname): domain value → matching pods.
    counts: Vec<BTreeMap<String, i64>>,
    /// Per constraint: ln(domains + 2).
    weights: Vec<f64>,
    /// Per constraint, the counts by node index, when read from the cluster
    /// index: `score_all` then does no label or selector work per node.
    indexed: Option<Vec<IndexedCounts>>,
}

/// One constraint's matching pods, from the cluster index's pod groups.
#[derive(Debug)]
enum IndexedCounts {
    /// Hostname: the selected pod groups with pods, whose per-node counts
    /// Score reads.
    PerNode(Vec<u32>),
    /// Zone: matching pods per zone id.
    PerZone(Vec<i64>),
}

/// [`score_node`] through the indexed counts; `None` for a node the index
/// does not hold (not present), which [`score_node`] then scores.
fn score_indexed(
    s: &ScoreState,
    counts: &[IndexedCounts],
    index: &ClusterIndex,
    idx: usize,
) -> Option<i64> {
    let slot = index.slot(idx)?;
    Some(score_in_slot(s, counts, slot, |groups| {
        pods_on(index, groups, idx)
    }))
}

/// How many pods of `groups` node `idx` holds.
#[inline]
fn pods_on(index: &ClusterIndex, groups: &[u32], idx: usize) -> i64 {
    match groups {
        [g] => i64::from(index.group(*g).nodes.get(idx)),
        _ => groups
            .iter()
            .map(|&g| i64::from(index.group(g).nodes.get(idx)))
            .sum(),
    }
}

/// [`score_indexed`] for a node in `slot` whose pods per hostname
/// constraint `per_node` gives (from that constraint's groups).
fn score_in_slot(
    s: &ScoreState,
    counts: &[IndexedCounts],
    slot: NodeSlot,
    per_node: impl Fn(&[u32]) -> i64,
) -> i64 {
    let mut score = 0f64;
    for (i, c) in s.constraints.iter().enumerate() {
        let cnt = match &counts[i] {
            IndexedCounts::PerNode(groups) => {
                if !slot.has_hostname {
                    continue;
                }
                per_node(groups)
            }
            IndexedCounts::PerZone(per_zone) => {
                if !slot.has_zone {
                    continue;
                }
                per_zone.get(slot.zone as usize).copied().unwrap_or(0)
            }
        };
        // scoreForCount, as in score_node
        score += cnt as f64 * s.weights[i] + (c.max_skew - 1) as f64;
    }
    round_half_away(score)
}

/// Most candidate nodes hold no pod of the groups a hostname constraint
/// counts, and then a node's score depends only on its zone and which of the
/// two labels it has. Those scores are computed once per cycle, by the same
/// code as any other; a node with pods of the groups is scored in full.
struct ZeroCountScores {
    /// Nodes with a pod of any hostname constraint's groups, sorted.
    occupied: Vec<u32>,
    /// By zone id, then `has_zone as usize * 2 + has_hostname as usize`.
    by_zone: Vec<[i64; 4]>,
}

impl ZeroCountScores {
    /// At most this many occupied nodes; beyond, the per-node path is as good.
    const MAX_OCCUPIED: usize = 512;

    fn new(s: &ScoreState, counts: &[IndexedCounts], index: &ClusterIndex) -> Option<Self> {
        // first without allocating: a Deployment spread over the cluster
        // (the common case) has a dense group, or too many occupied nodes
        let mut listed = 0;
        for c in counts {
            if let IndexedCounts::PerNode(groups) = c {
                for &g in groups {
                    match &index.group(g).nodes {
                        NodeCounts::Sparse(list) => listed += list.len(),
                        NodeCounts::Dense { .. } => return None,
                    }
                }
            }
        }
        if listed > Self::MAX_OCCUPIED {
            return None;
        }
        let mut occupied = Vec::with_capacity(listed);
        for c in counts {
            if let IndexedCounts::PerNode(groups) = c {
                for &g in groups {
                    if let NodeCounts::Sparse(list) = &index.group(g).nodes {
                        occupied.extend(list.iter().map(|&(n, _)| n));
                    }
                }
            }
        }
        occupied.sort_unstable();
        occupied.dedup();
        let by_zone = (0..index.zone_count() as u32)
            .map(|zone| {
                let mut row = [0; 4];
                for (k, r) in row.iter_mut().enumerate() {
                    let slot = NodeSlot {
                        zone,
                        has_zone: k & 2 != 0,
                        has_hostname: k & 1 != 0,
                    };
                    *r = score_in_slot(s, counts, slot, |_| 0);
                }
                row
            })
            .collect();
        Some(ZeroCountScores { occupied, by_zone })
    }

    /// The node's score if it holds none of the counted pods; `None` otherwise.
    fn score(&self, index: &ClusterIndex, idx: usize) -> Option<i64> {
        if self.occupied.binary_search(&(idx as u32)).is_ok() {
            return None;
        }
        let slot = index.slot(idx)?;
        let row = self.by_zone.get(slot.zone as usize)?;
        Some(row[usize::from(slot.has_zone) * 2 + usize::from(slot.has_hostname)])
    }
}

/// With one hostname constraint, a node's score depends only on its slot
/// (zone, and which of the two labels it has) and on how many of the counted
/// pods it holds. When many nodes hold such pods (a Deployment spread over
/// the cluster), each (slot, count) is scored once per cycle, by the same code
/// as any other, and the nodes sharing it read the answer.
struct CountScores<'c> {
    /// The hostname constraint's pod groups.
    groups: &'c [u32],
    /// By `class * MAX_COUNT + count`, where `class` is the zone id times 4
    /// plus the labels as in [`ZeroCountScores`]; [`Self::UNSET`] until first
    /// needed. (On the stack for up to [`Self::STACK_ZONES`] zones: a heap
    /// vector each cycle cost 5% of the default profile's cycle, mostly in
    /// the allocator.)
    memo: Memo,
}

/// [`CountScores`]' memo, on the stack when it is small enough.
#[allow(clippy::large_enum_variant)] // the large variant is the point: no allocation
enum Memo {
    Stack([i64; CountScores::STACK_ZONES * 4 * CountScores::MAX_COUNT]),
    Heap(Vec<i64>),
}

impl<'c> CountScores<'c> {
    /// Counts at or above this are scored in full (a Deployment's pods are
    /// rarely more than a few to a node).
    const MAX_COUNT: usize = 16;
    /// Clusters with at most this many zones keep the memo on the stack.
    const STACK_ZONES: usize = 4;
    /// No score is this (scores are sums of non-negative terms, or −1).
    const UNSET: i64 = i64::MIN;

    fn new(counts: &'c [IndexedCounts], index: &ClusterIndex) -> Option<Self> {
        let mut hostname = counts.iter().filter_map(|c| match c {
            IndexedCounts::PerNode(groups) => Some(groups.as_slice()),
            IndexedCounts::PerZone(_) => None,
        });
        let groups = hostname.next()?;
        if hostname.next().is_some() {
            return None;
        }
        let memo = match index.zone_count() {
            z if z <= Self::STACK_ZONES => {
                Memo::Stack([Self::UNSET; Self::STACK_ZONES * 4 * Self::MAX_COUNT])
            }
            z => Memo::Heap(vec![Self::UNSET; z * 4 * Self::MAX_COUNT]),
        };
        Some(CountScores { groups, memo })
    }

    /// The scores of `feasible` into `out`: remembered by (slot, count), or
    /// from `full` for a node not in the index or with too many pods.
    fn score_into(
        &mut self,
        s: &ScoreState,
        counts: &[IndexedCounts],
        index: &ClusterIndex,
        feasible: &[usize],
        out: &mut Vec<i64>,
        full: impl Fn(usize) -> i64,
    ) {
        let groups = self.groups;
        // the usual case, read straight from the array: one pod group (one
        // Deployment's pods), on more nodes than a sparse list holds
        let dense = match groups {
            [g] => match &index.group(*g).nodes {
                NodeCounts::Dense { pods, .. } => Some(pods.as_slice()),
                NodeCounts::Sparse(_) => None,
            },
            _ => None,
        };
        let memo = match &mut self.memo {
            Memo::Stack(m) => &mut m[..],
            Memo::Heap(m) => &mut m[..],
        };
        out.extend(feasible.iter().map(|&i| {
            let Some(slot) = index.slot(i) else {
                return full(i);
            };
            let cnt = match dense {
                Some(pods) => i64::from(pods.get(i).copied().unwrap_or(0)),
                None => pods_on(index, groups, i),
            };
            if cnt as usize >= Self::MAX_COUNT {
                return full(i);
            }
            let class = slot.zone as usize * 4
                + usize::from(slot.has_zone) * 2
                + usize::from(slot.has_hostname);
            match memo.get_mut(class * Self::MAX_COUNT + cnt as usize) {
                Some(at) => {
                    if *at == Self::UNSET {
                        *at = score_in_slot(s, counts, slot, |_| cnt);
                    }
                    *at
                }
                None => full(i),
            }
        }));
    }
}

/// PreScore's counts for the non-hostname constraints by walking every present
/// node: `counts[ci]` already holds the domains of the feasible nodes.
fn count_by_scan(
    pod: &PodInfo,
    snap: &Snapshot,
    constraints: &[Constraint],
    require_all: bool,
    counts: &mut [BTreeMap<String, i64>],
) {
    for (_, node) in snap.present() {
        if require_all && !has_all_keys(node, constraints) {
            continue;
        }
        for (ci, c) in constraints.iter().enumerate() {
            if c.is_hostname || !c.includes(pod, node) {
                continue;
            }
            let value = node.labels.get(&c.topology_key).map_or("", String::as_str);
            if let Some(cnt) = counts[ci].get_mut(value) {
                *cnt += c.count_on(node, pod.namespace);
            }
        }
    }
}

/// PreScore's counts through the cluster index, for constraints on the hostname
/// or the zone that include every node: each constraint's selector is matched
/// against the index's pod groups once, and their per-node and per-zone counts
/// summed. Fills `counts` (the domains of the feasible nodes) as
/// [`count_by_scan`] would, and returns what `score_all` reads per node.
fn count_by_index(
    pod: &PodInfo,
    snap: &Snapshot,
    constraints: &[Constraint],
    counts: &mut [BTreeMap<String, i64>],
) -> Vec<IndexedCounts> {
    let mut ids = Vec::new();
    constraints
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            ids.clear();
            snap.index
                .selected_groups(pod.namespace, c.selector.as_ref(), c.required, &mut ids);
            if c.is_hostname {
                // looked up per node at Score (see `PodGroup::nodes`)
                ids.retain(|&id| !snap.index.group(id).nodes.is_empty());
                IndexedCounts::PerNode(ids.clone())
            } else {
                let mut per_zone = Vec::<i64>::new();
                for g in ids.iter().map(|&id| snap.index.group(id)) {
                    if per_zone.len() < g.zones.len() {
                        per_zone.resize(g.zones.len(), 0);
                    }
                    for (z, &k) in g.zones.iter().enumerate() {
                        per_zone[z] += k as i64;
                    }
                }
                for (value, cnt) in counts[ci].iter_mut() {
                    if let Some(z) = snap.index.zone_id(value) {
                        *cnt += per_zone.get(z as usize).copied().unwrap_or(0);
                    }
                }
                IndexedCounts::PerZone(per_zone)
            }
        })
        .collect()
}

/// Score of one node from the PreScore state.
fn score_node(s: &ScoreState, pod: &PodInfo, node: &NodeInfo) -> i64 {
    if s.require_all && !has_all_keys(node, &s.constraints) {
        return INVALID_SCORE;
    }
    let mut score = 0f64;
    for (i, c) in s.constraints.iter().enumerate() {
        let Some(value) = label(&node.labels, &c.topology_key) else {
            continue;
        };
        let cnt = if c.is_hostname {
            c.count_on(node, pod.namespace)
        } else {
            count_in(&s.counts[i], value)
        };
        // scoreForCount
        score += cnt as f64 * s.weights[i] + (c.max_skew - 1) as f64;
    }
    round_half_away(score)
}

impl ScorePlugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        "PodTopologySpread"
    }
    fn pre_score(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        feasible: &[usize],
        state: &mut CycleState,
    ) -> bool {
        if snap.node_count == 0 {
            return false;
        }
        let constraints = self.constraints(pod, WhenUnsatisfiable::ScheduleAnyway);
        if constraints.is_empty() {
            return false;
        }
        let require_all = !pod.spec.topology_spread.is_empty() || !self.system_defaulted;
        // Constraints on the hostname, or on the zone including every node,
        // read the cluster index's pod groups instead of walking nodes' pods.
        let indexed = !require_all
            && constraints.iter().all(|c| {
                c.is_hostname || (c.topology_key == LABEL_ZONE && c.includes_every_node(pod))
            });
        let mut counts = vec![BTreeMap::<String, i64>::new(); constraints.len()];
        let mut ignored = 0usize;
        let mut zones_seen = Vec::<bool>::new();
        let mut zones_left = snap.index.zone_count();
        // (feasible nodes are present, so the index places every one)
        debug_assert!(!indexed || feasible.iter().all(|&i| snap.index.slot(i).is_some()));
        for &i in feasible {
            if indexed {
                if let Some(slot) = snap.index.slot(i) {
                    let z = slot.zone as usize;
                    if zones_seen.len() <= z {
                        zones_seen.resize(z + 1, false);
                    }
                    if !zones_seen[z] {
                        zones_seen[z] = true;
                        zones_left -= 1;
                        if zones_left == 0 {
                            // every zone seen: the rest can add none (and
                            // in this mode nothing else is counted here)
                            break;
                        }
                    }
                    continue;
                }
            }
            let node = &snap.nodes[i];
            if require_all && !has_all_keys(node, &constraints) {
                ignored += 1;
                continue;
            }
            for (ci, c) in constraints.iter().enumerate() {
                if c.is_hostname {
                    continue;
                }
                let value = label(&node.labels, &c.topology_key).map_or("", String::as_str);
                if !counts[ci].contains_key(value) {
                    counts[ci].insert(value.to_string(), 0);
                }
            }
        }
        // (indexed: every constraint is the hostname or the zone)
        for (ci, c) in constraints.iter().enumerate() {
            if c.is_hostname {
                continue;
            }
            for (z, _) in zones_seen.iter().enumerate().filter(|(_, &seen)| seen) {
                let name = snap.index.zone_name(z as u32);
                if !counts[ci].contains_key(name) {
                    counts[ci].insert(name.to_string(), 0);
                }
            }
        }
        let weights = constraints
            .iter()
            .zip(&counts)
            .map(|(c, m)| {
                let size = if c.is_hostname {
                    feasible.len() - ignored
                } else {
                    m.len()
                };
                crate::workload::detmath::ln((size + 2) as f64) // platform-independent ln
            })
            .collect();
        let indexed_counts = if indexed {
            let ix = count_by_index(pod, snap, &constraints, &mut counts);
            debug_assert!(
                snap.nodes.len() > 300 || {
                    let mut scanned: Vec<_> = counts
                        .iter()
                        .map(|m| m.keys().map(|k| (k.clone(), 0)).collect())
                        .collect();
                    count_by_scan(pod, snap, &constraints, require_all, &mut scanned);
                    scanned == counts
                }
            );
            Some(ix)
        } else {
            if constraints.iter().any(|c| !c.is_hostname) {
                count_by_scan(pod, snap, &constraints, require_all, &mut counts);
            }
            None
        };
        state.insert(
            SCORE_KEY,
            ScoreState {
                constraints,
                require_all,
                counts,
                weights,
                indexed: indexed_counts,
            },
        );
        true
    }
    fn score(&self, pod: &PodInfo, node: &NodeInfo, state: &CycleState) -> i64 {
        match state.get::<ScoreState>(SCORE_KEY) {
            Some(s) => score_node(s, pod, node),
            None => 0,
        }
    }
    fn score_all(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        feasible: &[usize],
        state: &CycleState,
        out: &mut Vec<i64>,
    ) {
        let Some(s) = state.get::<ScoreState>(SCORE_KEY) else {
            out.extend(feasible.iter().map(|_| 0));
            return;
        };
        match &s.indexed {
            Some(counts) => {
                let start = out.len();
                // a node's score from the indexed counts, else in full
                let full = |i: usize| {
                    score_indexed(s, counts, snap.index, i)
                        .unwrap_or_else(|| score_node(s, pod, &snap.nodes[i]))
                };
                if let Some(zero) = ZeroCountScores::new(s, counts, snap.index) {
                    out.extend(
                        feasible
                            .iter()
                            .map(|&i| zero.score(snap.index, i).unwrap_or_else(|| full(i))),
                    );
                } else if let Some(mut by_count) = CountScores::new(counts, snap.index) {
                    by_count.score_into(s, counts, snap.index, feasible, out, full);
                } else {
                    out.extend(feasible.iter().map(|&i| full(i)));
                }
                debug_assert!(
                    snap.nodes.len() > 300
                        || feasible
                            .iter()
                            .zip(&out[start..])
                            .all(|(&i, &score)| score == score_node(s, pod, &snap.nodes[i])),
                    "indexed PodTopologySpread scores differ from per-node ones"
                );
            }
            None => out.extend(feasible.iter().map(|&i| score_node(s, pod, &snap.nodes[i]))),
        }
    }
    fn normalize(&self, scores: &mut [i64], state: &CycleState) {
        if state.get::<ScoreState>(SCORE_KEY).is_none() {
            return;
        }
        let (mut min, mut max) = (i64::MAX, 0i64);
        for &s in scores.iter().filter(|&&s| s != INVALID_SCORE) {
            min = min.min(s);
            max = max.max(s);
        }
        for s in scores.iter_mut() {
            *s = if *s == INVALID_SCORE {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *s) / max
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::selector::{Operator, Requirement};
    use crate::api::Pod;
    use crate::scheduler::plugins::testutil::*;

    fn exists(key: &str) -> LabelSelector {
        LabelSelector {
            match_labels: Labels::new(),
            match_expressions: vec![Requirement::new(key, Operator::Exists, vec![]).unwrap()],
        }
    }

    fn tsc(skew: i32, key: &str, when: WhenUnsatisfiable, sel: &str) -> TopologySpreadConstraint {
        TopologySpreadConstraint {
            max_skew: skew,
            topology_key: key.into(),
            when_unsatisfiable: when,
            label_selector: Some(exists(sel)),
            min_domains: None,
            node_affinity_honor: true,
            node_taints_honor: false,
            match_label_keys: vec![],
        }
    }

    fn spread_pod(l: &[(&str, &str)], cs: Vec<TopologySpreadConstraint>) -> Pod {
        with_spec(pod("p", l), |s| s.topology_spread = cs)
    }

    /// Nodes with the given labels and `n` pods labelled `l` each.
    type Kv<'a> = &'a [(&'a str, &'a str)];
    type NodeSpec<'a> = (&'a str, Kv<'a>, &'a [(usize, Kv<'a>)]);

    fn cluster(nodes: &[NodeSpec]) -> Cluster {
        Cluster::new(
            nodes
                .iter()
                .map(|(name, labels, pods)| {
                    let mut n = bare(name, labels);
                    for (count, l) in pods.iter() {
                        for i in 0..*count {
                            place(&mut n, &pod(&format!("{name}-{i}"), l));
                        }
                    }
                    n
                })
                .collect(),
        )
    }

    fn bare(name: &str, l: &[(&str, &str)]) -> NodeInfo {
        let mut n = node(name, l);
        if !l.iter().any(|(k, _)| *k == LABEL_HOSTNAME) {
            n.labels.remove(LABEL_HOSTNAME);
        }
        n
    }

    const FOO: &[(&str, &str)] = &[("foo", "")];
    const BAR: &[(&str, &str)] = &[("bar", "")];
    const FOOBAR: &[(&str, &str)] = &[("foo", ""), ("bar", "")];
    use WhenUnsatisfiable::*;

    fn host(n: &str) -> (&str, &str) {
        (LABEL_HOSTNAME, n)
    }

    /// scoring_test.go TestPodTopologySpreadScore cases (hostname constraints).
    #[test]
    fn score_golden_hostname() {
        let pl = PodTopologySpread::new();
        let c = cluster(&[
            ("node-a", &[host("node-a")], &[(2, FOO)]),
            ("node-b", &[host("node-b")], &[(1, FOO)]),
            ("node-c", &[host("node-c")], &[]),
            ("node-d", &[host("node-d")], &[(3, FOO)]),
        ]);
        let p = spread_pod(FOO, vec![tsc(2, LABEL_HOSTNAME, ScheduleAnyway, "foo")]);
        assert_eq!(c.score(&pl, &p).unwrap().1, vec![33, 66, 100, 16]);

        let c = cluster(&[
            ("node-a", &[host("node-a")], &[(4, FOO)]),
            ("node-b", &[host("node-b")], &[(3, FOO)]),
            ("node-c", &[host("node-c")], &[(2, FOO)]),
            ("node-d", &[host("node-d")], &[(1, FOO)]),
        ]);
        let p = spread_pod(FOO, vec![tsc(3, LABEL_HOSTNAME, ScheduleAnyway, "foo")]);
        assert_eq!(c.score(&pl, &p).unwrap().1, vec![44, 66, 77, 100]);
        // "system defaulting, nodes don't have zone, pods match service"
        assert_eq!(
            c.score(&pl, &pod("p", FOO)).unwrap().1,
            vec![44, 66, 77, 100]
        );
        // no labels → no default constraints → skipped
        assert_eq!(c.score(&pl, &pod("p", &[])), None);

        // 3 out of 4 nodes are candidates (node-y is not)
        let c = cluster(&[
            ("node-a", &[host("node-a")], &[(4, FOO)]),
            ("node-b", &[host("node-b")], &[(2, FOO)]),
            ("node-x", &[host("node-x")], &[(1, FOO)]),
            ("node-y", &[host("node-y")], &[(3, FOO)]),
        ]);
        let p = spread_pod(FOO, vec![tsc(1, LABEL_HOSTNAME, ScheduleAnyway, "foo")]);
        assert_eq!(
            c.score_on(&pl, &p, &[0, 1, 2]).unwrap().1,
            vec![33, 83, 100]
        );
        // ... and node-b lacks the topology key
        let c = cluster(&[
            ("node-a", &[host("node-a")], &[(4, FOO)]),
            ("node-b", &[("n", "node-b")], &[(2, FOO)]),
            ("node-x", &[host("node-x")], &[(1, FOO)]),
            ("node-y", &[host("node-y")], &[(3, FOO)]),
        ]);
        let (raw, norm) = c.score_on(&pl, &p, &[0, 1, 2]).unwrap();
        assert_eq!(raw[1], -1);
        assert_eq!(norm, vec![16, 0, 100]);
    }

    /// A group on more nodes than a sparse list holds, so no node scores as
    /// empty and `score_all` remembers scores by (slot, count): it must give
    /// what `score` gives on every node (checked in `score_on`), for nodes
    /// with and without each label and for counts past what it remembers.
    ///
    /// With one pod group on every node the counts are read from the group's
    /// array; with a second group (`foo` pods that also carry `bar`, on a few
    /// nodes) they are summed over both groups.
    #[test]
    fn score_by_count_matches_per_node_score() {
        for two_groups in [false, true] {
            let pl = PodTopologySpread::new();
            let names: Vec<String> = (0..100).map(|i| format!("n{i}")).collect();
            let zones = ["zone-a", "zone-b", "zone-c"];
            let nodes: Vec<NodeInfo> = names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let mut l = vec![];
                    if i % 10 != 3 {
                        l.push(host(name));
                    }
                    if i % 9 != 4 {
                        l.push((LABEL_ZONE, zones[i % 3]));
                    }
                    let mut n = bare(name, &l);
                    let pods = if i == 7 { 20 } else { i % 6 + 1 };
                    for k in 0..pods {
                        let labels = if two_groups && i % 5 == 0 && k == 0 {
                            FOOBAR
                        } else {
                            FOO
                        };
                        place(&mut n, &pod(&format!("{name}-{k}"), labels));
                    }
                    n
                })
                .collect();
            let c = Cluster::new(nodes);
            let (raw, _) = c.score(&pl, &pod("p", FOO)).unwrap();
            // the counts, the zones and the missing labels all show in the scores
            let distinct: std::collections::BTreeSet<_> = raw.iter().collect();
            assert!(distinct.len() > 10, "{raw:?}");
        }
    }

    /// TestPodTopologySpreadScore zone / two-constraint cases.
    #[test]
    fn score_golden_zone() {
        let pl = PodTopologySpread::new();
        let z = |zone: &'static str, h: &'static str| -> Vec<(&'static str, &'static str)> {
            vec![("zone", zone), (LABEL_HOSTNAME, h)]
        };
        let (za, zb, zx, zy) = (
            z("zone1", "node-a"),
            z("zone1", "node-b"),
            z("zone2", "node-x"),
            z("zone2", "node-y"),
        );
        let c = cluster(&[
            ("node-a", &za, &[(4, FOO)]),
            ("node-b", &zb, &[(2, FOO)]),
            ("node-x", &zx, &[(1, FOO)]),
            ("node-y", &zy, &[(3, FOO)]),
        ]);
        let p = spread_pod(FOO, vec![tsc(1, "zone", ScheduleAnyway, "foo")]);
        assert_eq!(
            c.score_on(&pl, &p, &[0, 1, 2]).unwrap().1,
            vec![75, 75, 100]
        );

        let c = cluster(&[
            ("node-a", &za, &[(2, FOO)]),
            ("node-b", &zb, &[(1, FOO)]),
            ("node-x", &zx, &[(2, FOO)]),
            ("node-y", &zy, &[(4, FOO)]),
        ]);
        let p = spread_pod(
            FOO,
            vec![
                tsc(1, "zone", ScheduleAnyway, "foo"),
                tsc(1, LABEL_HOSTNAME, ScheduleAnyway, "foo"),
            ],
        );
        assert_eq!(c.score_on(&pl, &p, &[0, 2]).unwrap().1, vec![100, 63]);

        let both = |l: &'static [(&'static str, &'static str)]| l;
        let c = cluster(&[
            ("node-a", &za, &[(1, both(FOO))]),
            ("node-b", &zb, &[(1, FOOBAR)]),
            ("node-x", &zx, &[]),
            ("node-y", &zy, &[(1, FOO), (1, BAR)]),
        ]);
        let p = spread_pod(
            FOOBAR,
            vec![
                tsc(1, "zone", ScheduleAnyway, "foo"),
                tsc(1, LABEL_HOSTNAME, ScheduleAnyway, "bar"),
            ],
        );
        assert_eq!(c.score(&pl, &p).unwrap().1, vec![60, 20, 100, 60]);

        let c = cluster(&[
            ("node-a", &za, &[]),
            ("node-b", &zb, &[(1, BAR)]),
            ("node-x", &zx, &[(1, FOO)]),
            ("node-y", &zy, &[(1, FOOBAR)]),
        ]);
        assert_eq!(c.score(&pl, &p).unwrap().1, vec![100, 60, 40, 0]);
    }

    #[test]
    fn filter_skew_and_missing_label() {
        let pl = PodTopologySpread::new();
        // zone1: 2 matching, zone2: 0 → only zone2 nodes fit with maxSkew 1
        let c = cluster(&[
            ("a", &[("zone", "z1")], &[(2, FOO)]),
            ("b", &[("zone", "z1")], &[]),
            ("x", &[("zone", "z2")], &[(1, BAR)]),
            ("n", &[], &[]),
        ]);
        let p = spread_pod(FOO, vec![tsc(1, "zone", DoNotSchedule, "foo")]);
        let r = c.filter(&pl, &p);
        assert_eq!(r[0], Err(ERR_REASON_CONSTRAINTS_NOT_MATCH.to_string()));
        assert_eq!(r[1], Err(ERR_REASON_CONSTRAINTS_NOT_MATCH.to_string()));
        assert_eq!(r[2], Ok(()));
        assert_eq!(r[3], Err(ERR_REASON_NODE_LABEL_NOT_MATCH.to_string()));
        // maxSkew 2: zone1 gives skew 2 + 1 − 0 = 3 > 2 still; maxSkew 3 fits
        let p3 = spread_pod(FOO, vec![tsc(3, "zone", DoNotSchedule, "foo")]);
        assert!(c.filter(&pl, &p3)[0].is_ok());
        // a pod its own selector does not select adds no skew: 2 + 0 − 0 ≤ 2
        let other = spread_pod(&[("x", "y")], vec![tsc(2, "zone", DoNotSchedule, "foo")]);
        assert!(c.filter(&pl, &other)[0].is_ok());
        // ScheduleAnyway constraints do not filter
        let soft = spread_pod(FOO, vec![tsc(1, "zone", ScheduleAnyway, "foo")]);
        assert!(c.filter(&pl, &soft).iter().all(|r| r.is_ok()));
        // pods in another namespace do not count
        let mut ns = spread_pod(FOO, vec![tsc(1, "zone", DoNotSchedule, "foo")]);
        ns.meta.namespace = "other".into();
        assert!(c.filter(&pl, &ns)[0].is_ok());
    }

    #[test]
    fn filter_min_domains_and_inclusion_policies() {
        let pl = PodTopologySpread::new();
        // one domain with 1 pod; minDomains 2 → global min is 0: skew 1 + 1 − 0 = 2 > 1
        let c = cluster(&[("a", &[("zone", "z1")], &[(1, FOO)])]);
        let mut con = tsc(1, "zone", DoNotSchedule, "foo");
        assert!(c.filter(&pl, &spread_pod(FOO, vec![con.clone()]))[0].is_ok());
        con.min_domains = Some(2);
        assert_eq!(
            c.filter(&pl, &spread_pod(FOO, vec![con.clone()]))[0],
            Err(ERR_REASON_CONSTRAINTS_NOT_MATCH.to_string())
        );

        // nodeAffinityPolicy: zone z2 (empty) is excluded by the pod's nodeSelector
        let c = cluster(&[
            ("a", &[("zone", "z1"), ("disk", "ssd")], &[(1, FOO)]),
            ("x", &[("zone", "z2")], &[]),
        ]);
        let sel = |mut p: Pod| {
            std::sync::Arc::make_mut(&mut p.spec).node_selector = labels(&[("disk", "ssd")]);
            p
        };
        let honor = sel(spread_pod(FOO, vec![tsc(1, "zone", DoNotSchedule, "foo")]));
        // only z1 is a domain: min 1 → skew 1 + 1 − 1 = 1 fits
        assert!(c.filter(&pl, &honor)[0].is_ok());
        let mut ignore_c = tsc(1, "zone", DoNotSchedule, "foo");
        ignore_c.node_affinity_honor = false;
        let ignore = sel(spread_pod(FOO, vec![ignore_c]));
        // z2 counts with 0: skew 2 > 1
        assert!(c.filter(&pl, &ignore)[0].is_err());

        // nodeTaintsPolicy Honor excludes tainted nodes
        let mut c = cluster(&[
            ("a", &[("zone", "z1")], &[(1, FOO)]),
            ("x", &[("zone", "z2")], &[]),
        ]);
        c.nodes[1].taints.push(crate::api::taint::Taint::new(
            "k",
            "v",
            crate::api::taint::TaintEffect::NoSchedule,
        ));
        let mut t = tsc(1, "zone", DoNotSchedule, "foo");
        assert!(c.filter(&pl, &spread_pod(FOO, vec![t.clone()]))[0].is_err());
        t.node_taints_honor = true;
        assert!(c.filter(&pl, &spread_pod(FOO, vec![t]))[0].is_ok());
    }

    #[test]
    fn match_label_keys_narrow_the_selector() {
        let pl = PodTopologySpread::new();
        let c = cluster(&[
            ("a", &[("zone", "z1")], &[(2, &[("foo", ""), ("rev", "1")])]),
            ("x", &[("zone", "z2")], &[]),
        ]);
        let mut t = tsc(1, "zone", DoNotSchedule, "foo");
        let p = spread_pod(&[("foo", ""), ("rev", "2")], vec![t.clone()]);
        assert!(c.filter(&pl, &p)[0].is_err());
        t.match_label_keys = vec!["rev".into()];
        let p = spread_pod(&[("foo", ""), ("rev", "2")], vec![t]);
        // rev=1 pods no longer count
        assert!(c.filter(&pl, &p)[0].is_ok());
    }

    #[test]
    fn list_defaulting_uses_given_constraints() {
        let mut d = tsc(1, "zone", DoNotSchedule, "ignored");
        d.label_selector = None;
        let pl = PodTopologySpread::with_default_constraints(vec![d]);
        let c = cluster(&[
            ("a", &[("zone", "z1")], &[(2, FOO)]),
            ("x", &[("zone", "z2")], &[]),
        ]);
        let r = c.filter(&pl, &pod("p", FOO));
        assert!(r[0].is_err() && r[1].is_ok());
        // nodes lacking the key are not scored under List defaulting: nothing soft here
        assert_eq!(c.score(&pl, &pod("p", FOO)), None);
    }
}
