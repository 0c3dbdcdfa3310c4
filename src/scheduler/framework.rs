//! The scheduling framework: PreFilter/Filter and PreScore/Score/NormalizeScore
//! plugins grouped in a profile, as in kube-scheduler.
//!
//! Plugins see a read-only [`Snapshot`] of the cluster (one [`NodeInfo`] per node)
//! and a per-cycle [`CycleState`] they fill in PreFilter/PreScore; they never touch
//! the store. A policy is therefore just a list of plugins and weights, and the same
//! evaluation code serves the scheduler and `kubesim explain-schedule`.

use crate::api::pod::PodRequests;
use crate::api::selector::{LabelSelector, Labels};
use crate::api::taint::{Taint, Toleration};
use crate::api::{Node, ObjKey, Pod, PodSpec, Uid};
use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Highest score a plugin may give a node (`framework.MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;

/// A pod already assigned to a node, as the scheduler cache keeps it.
#[derive(Debug, Clone)]
pub struct PodSummary {
    pub key: ObjKey,
    pub uid: Uid,
    pub labels: Labels,
    pub spec: Arc<PodSpec>,
    pub requests: PodRequests,
    /// [`crate::api::selector::labels_bloom`] of `labels`, computed once for
    /// the node's pod groups and the cluster index alike.
    pub bloom: u64,
}

impl PodSummary {
    pub fn of(p: &Pod) -> Self {
        PodSummary {
            key: p.meta.key(),
            uid: p.meta.uid,
            labels: p.meta.labels.clone(),
            spec: p.spec.clone(),
            requests: p.spec.requests(),
            bloom: crate::api::selector::labels_bloom(&p.meta.labels),
        }
    }
}

/// Pods of one namespace with the same labels, on one node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelGroup {
    pub namespace: String,
    pub labels: Labels,
    pub count: u32,
    /// [`crate::api::selector::labels_bloom`] of `labels`.
    pub bloom: u64,
}

impl LabelGroup {
    /// Whether `sel` selects this group's pods for a pod in `ns`; `required` is
    /// `sel`'s [`LabelSelector::required_bloom`](crate::api::selector::LabelSelector::required_bloom).
    pub fn selected_by(&self, ns: &str, sel: Option<&LabelSelector>, required: u64) -> bool {
        self.bloom & required == required
            && self.namespace == ns
            && sel.is_some_and(|s| s.matches(&self.labels))
    }
}

/// The scheduler's view of a node: what is allocatable and what is already there.
#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    pub name: String,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable_cpu: i64,
    pub allocatable_memory: i64,
    pub allocatable_pods: i64,
    pub allocatable_other: BTreeMap<String, i64>,
    /// Sum of the real requests of pods assigned here.
    pub requested_cpu: i64,
    pub requested_memory: i64,
    pub requested_other: BTreeMap<String, i64>,
    /// Sum with non-zero defaulting (for scoring).
    pub nonzero_cpu: i64,
    pub nonzero_memory: i64,
    pub pod_count: i64,
    /// The pods assigned here, in assignment order.
    pub pods: Vec<PodSummary>,
    /// The same pods grouped by (namespace, labels), with counts: pods stamped from one
    /// template share labels, so counting selector matches walks a few groups, not every pod.
    pub label_groups: Vec<LabelGroup>,
    /// `label_groups[i].bloom`, packed: counting a selector's pods on a node
    /// reads these 8 bytes per group and touches a group only on a match. (A
    /// scoring cycle visits hundreds of nodes with dozens of groups each; the
    /// groups themselves were the cache misses that made the count slow.)
    pub group_blooms: Vec<u64>,
    /// Pods here with any pod (anti-)affinity term, and with required anti-affinity,
    /// so InterPodAffinity can skip nodes that have none.
    pub pods_with_affinity: u32,
    pub pods_with_required_anti_affinity: u32,
    /// Images on the node (name → size in bytes).
    pub images: BTreeMap<String, i64>,
    /// False once the Node object is gone (indices stay stable).
    pub present: bool,
    /// Taken afresh from [`fresh_stamp`] whenever the node or its pods change,
    /// so a [`super::verdicts::VerdictCache`] can tell that a remembered
    /// verdict still holds. (Change a node through its methods, not its fields.)
    pub(crate) stamp: u64,
}

/// A number no [`NodeInfo`] state has had before, in this process: two nodes
/// with equal stamps are copies of one state. Stamps are only compared, never
/// written out, so the shared counter cannot make runs differ.
fn fresh_stamp() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl NodeInfo {
    /// A node with nothing on it yet.
    pub fn from_node(n: &Node) -> Self {
        let mut info = NodeInfo::default();
        info.update_node(n);
        info
    }

    /// Whether the node has a `PreferNoSchedule` taint (what
    /// [`ClusterIndex::nodes_preferring_no_schedule`] counts).
    pub fn prefers_no_schedule(&self) -> bool {
        self.taints
            .iter()
            .any(|t| t.effect == crate::api::taint::TaintEffect::PreferNoSchedule)
    }

    /// Refresh what comes from the Node object, keeping the pods.
    pub fn update_node(&mut self, n: &Node) {
        self.name = n.meta.name.clone();
        self.labels = n.meta.labels.clone();
        self.taints = n.taints.clone();
        self.unschedulable = n.unschedulable;
        self.allocatable_cpu = n.status.allocatable.cpu_millis;
        self.allocatable_memory = n.status.allocatable.memory;
        self.allocatable_pods = n.status.allocatable.pods;
        self.allocatable_other = n.status.allocatable.other.clone();
        self.images = n.status.images.clone();
        self.present = true;
        self.stamp = fresh_stamp();
    }

    /// Which state of the node this is (see [`fresh_stamp`]).
    #[inline]
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    pub fn add_pod(&mut self, p: PodSummary) {
        self.stamp = fresh_stamp();
        let r = &p.requests;
        self.requested_cpu += r.cpu_millis;
        self.requested_memory += r.memory;
        self.nonzero_cpu += r.nonzero_cpu_millis;
        self.nonzero_memory += r.nonzero_memory;
        self.pod_count += 1;
        for (k, v) in &r.other {
            *self.requested_other.entry(k.clone()).or_default() += v;
        }
        let ns = &p.key.namespace;
        // (the signature first: most groups differ in it)
        let bloom = p.bloom;
        match self
            .label_groups
            .iter_mut()
            .find(|g| g.bloom == bloom && g.namespace == *ns && g.labels == p.labels)
        {
            Some(g) => g.count += 1,
            None => {
                self.label_groups.push(LabelGroup {
                    namespace: ns.clone(),
                    labels: p.labels.clone(),
                    count: 1,
                    bloom,
                });
                self.group_blooms.push(bloom);
            }
        }
        let (any, anti) = affinity_flags(&p.spec);
        self.pods_with_affinity += u32::from(any);
        self.pods_with_required_anti_affinity += u32::from(anti);
        self.pods.push(p);
    }

    /// Remove the pod with this key; returns it if it was here.
    pub fn remove_pod(&mut self, key: &ObjKey) -> Option<PodSummary> {
        let i = self.pods.iter().position(|p| &p.key == key)?;
        let p = self.pods.remove(i);
        self.stamp = fresh_stamp();
        let r = &p.requests;
        self.requested_cpu -= r.cpu_millis;
        self.requested_memory -= r.memory;
        self.nonzero_cpu -= r.nonzero_cpu_millis;
        self.nonzero_memory -= r.nonzero_memory;
        self.pod_count -= 1;
        for (k, v) in &r.other {
            *self.requested_other.entry(k.clone()).or_default() -= v;
        }
        if let Some(gi) = self.label_groups.iter().position(|g| {
            g.bloom == p.bloom && g.namespace == p.key.namespace && g.labels == p.labels
        }) {
            self.label_groups[gi].count -= 1;
            if self.label_groups[gi].count == 0 {
                self.label_groups.swap_remove(gi);
                self.group_blooms.swap_remove(gi);
            }
        }
        let (any, anti) = affinity_flags(&p.spec);
        self.pods_with_affinity -= u32::from(any);
        self.pods_with_required_anti_affinity -= u32::from(anti);
        Some(p)
    }
}

/// (has any pod affinity or anti-affinity term, has a required anti-affinity term)
fn affinity_flags(spec: &PodSpec) -> (bool, bool) {
    let a = &spec.affinity;
    let anti = !a.anti.required.is_empty();
    let any = anti
        || !a.anti.preferred.is_empty()
        || !a.pod.required.is_empty()
        || !a.pod.preferred.is_empty();
    (any, anti)
}

/// Pods of one namespace with the same labels, cluster-wide, on present nodes.
/// Pods stamped from one template share a group, so a selector is matched once
/// per group in a scheduling cycle, not once per group per node.
#[derive(Debug, Clone, Default)]
pub struct PodGroup {
    pub namespace: String,
    pub labels: Labels,
    /// [`crate::api::selector::labels_bloom`] of `labels`.
    pub bloom: u64,
    /// Pods of the group on each node.
    pub nodes: NodeCounts,
    /// Pods of the group in each zone, indexed by zone id.
    pub zones: Vec<u32>,
    pub total: u32,
}

/// Pods per node index. Most groups (a Deployment's pods) sit on a few
/// nodes: a sorted list, searched. A group on many nodes (the pods of one
/// template on the whole cluster) is an array read in O(1), so Score's
/// per-node lookup stays cheap either way.
#[derive(Debug, Clone)]
pub enum NodeCounts {
    /// (node index, pods), sorted by node, no zeros.
    Sparse(Vec<(u32, u32)>),
    /// Pods by node index.
    Dense { pods: Vec<u32>, nodes: u32 },
}

impl Default for NodeCounts {
    fn default() -> Self {
        NodeCounts::Sparse(Vec::new())
    }
}

impl NodeCounts {
    /// Nodes at which a sparse list turns into an array.
    const DENSE_AT: usize = 64;

    #[inline]
    pub fn get(&self, idx: usize) -> u32 {
        match self {
            NodeCounts::Sparse(list) => list
                .binary_search_by_key(&(idx as u32), |&(n, _)| n)
                .map_or(0, |i| list[i].1),
            NodeCounts::Dense { pods, .. } => pods.get(idx).copied().unwrap_or(0),
        }
    }

    /// Whether no node has a pod of the group.
    pub fn is_empty(&self) -> bool {
        match self {
            NodeCounts::Sparse(list) => list.is_empty(),
            NodeCounts::Dense { nodes, .. } => *nodes == 0,
        }
    }

    fn bump(&mut self, idx: usize, by: i64) {
        match self {
            NodeCounts::Sparse(list) => {
                match list.binary_search_by_key(&(idx as u32), |&(n, _)| n) {
                    Ok(i) => {
                        let c = (list[i].1 as i64 + by) as u32;
                        if c == 0 {
                            list.remove(i);
                        } else {
                            list[i].1 = c;
                        }
                    }
                    Err(i) => list.insert(i, (idx as u32, by as u32)),
                }
                if list.len() >= Self::DENSE_AT {
                    let mut pods = vec![0; list.last().map_or(0, |l| l.0 as usize + 1)];
                    for &(n, c) in list.iter() {
                        pods[n as usize] = c;
                    }
                    let nodes = list.len() as u32;
                    *self = NodeCounts::Dense { pods, nodes };
                }
            }
            NodeCounts::Dense { pods, nodes } => {
                if pods.len() <= idx {
                    pods.resize(idx + 1, 0);
                }
                let before = pods[idx];
                pods[idx] = (before as i64 + by) as u32;
                *nodes = *nodes + u32::from(pods[idx] > 0) - u32::from(before > 0);
            }
        }
    }

    fn to_map(&self) -> BTreeMap<u32, u32> {
        match self {
            NodeCounts::Sparse(list) => list.iter().copied().collect(),
            NodeCounts::Dense { pods, .. } => pods
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > 0)
                .map(|(n, &c)| (n as u32, c))
                .collect(),
        }
    }
}

/// One namespace's groups, by labels and by label pair.
#[derive(Debug, Clone, Default)]
struct NamespaceGroups {
    ids: BTreeMap<Labels, u32>,
    /// Groups with pods, by each `key=value` pair they carry: a selector's
    /// `matchLabels` lead straight to its few candidate groups.
    by_pair: BTreeMap<String, BTreeMap<String, Vec<u32>>>,
    /// Groups with pods.
    live: Vec<u32>,
}

/// Where a node sits for the topology keys the index follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSlot {
    /// Zone id of the node's `topology.kubernetes.io/zone` value; a node
    /// without the label counts in the zone `""`, as the old zone scan did.
    pub zone: u32,
    pub has_zone: bool,
    pub has_hostname: bool,
}

/// Cluster-wide sums the scheduler keeps up to date as pods bind and leave and
/// nodes come and go, so PreFilter/PreScore need not walk every node for each pod.
/// Only present nodes count. [`ClusterIndex::build`] derives it from scratch; the
/// scheduler maintains it incrementally (and debug builds check the two agree).
#[derive(Debug, Clone, Default)]
pub struct ClusterIndex {
    /// Pods with any pod (anti-)affinity term (Σ `NodeInfo::pods_with_affinity`).
    pub pods_with_affinity: u64,
    /// Pods with a required anti-affinity term.
    pub pods_with_required_anti_affinity: u64,
    /// Present nodes with a `PreferNoSchedule` taint: while there are none,
    /// TaintToleration scores every node alike.
    pub nodes_preferring_no_schedule: u64,
    /// Interned pod groups; ids of groups that emptied are reused.
    groups: Vec<PodGroup>,
    free: Vec<u32>,
    namespaces: BTreeMap<String, NamespaceGroups>,
    /// Zone value ("" for nodes without the label) → zone id, and back.
    zone_ids: BTreeMap<String, u32>,
    zone_names: Vec<String>,
    /// Per node index: where it sits (`None`: absent).
    slots: Vec<Option<NodeSlot>>,
}

/// Pod groups by (namespace, labels): their total and per-node and per-zone
/// counts, the form in which two indexes are compared (ids may differ).
type CanonicalGroups = BTreeMap<(String, Labels), (u32, BTreeMap<u32, u32>, BTreeMap<String, u32>)>;
/// Per node index: (zone, has the zone label, has the hostname label), `None` when absent.
type CanonicalSlots = Vec<Option<(String, bool, bool)>>;

impl ClusterIndex {
    fn canonical(&self) -> (u64, u64, u64, CanonicalGroups, CanonicalSlots) {
        let groups = self
            .groups
            .iter()
            .filter(|g| g.total > 0)
            .map(|g| {
                let zones = g
                    .zones
                    .iter()
                    .enumerate()
                    .filter(|(_, &c)| c > 0)
                    .map(|(z, &c)| (self.zone_names[z].clone(), c))
                    .collect();
                (
                    (g.namespace.clone(), g.labels.clone()),
                    (g.total, g.nodes.to_map(), zones),
                )
            })
            .collect();
        let mut slots: Vec<_> = self
            .slots
            .iter()
            .map(|s| {
                s.map(|s| {
                    (
                        self.zone_names[s.zone as usize].clone(),
                        s.has_zone,
                        s.has_hostname,
                    )
                })
            })
            .collect();
        while slots.last() == Some(&None) {
            slots.pop();
        }
        (
            self.pods_with_affinity,
            self.pods_with_required_anti_affinity,
            self.nodes_preferring_no_schedule,
            groups,
            slots,
        )
    }
}

/// Two indexes are equal when they count the same pods in the same places.
impl PartialEq for ClusterIndex {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}

impl Eq for ClusterIndex {}

impl ClusterIndex {
    /// The index of `nodes` from scratch.
    pub fn build(nodes: &[NodeInfo]) -> Self {
        let mut ix = ClusterIndex::default();
        for (i, n) in nodes.iter().enumerate() {
            ix.add_node(i, n);
        }
        ix
    }

    /// Where node `idx` sits, if it is present.
    #[inline]
    pub fn slot(&self, idx: usize) -> Option<NodeSlot> {
        self.slots.get(idx).copied().flatten()
    }

    /// How many zone ids there are (every id below this is valid).
    pub fn zone_count(&self) -> usize {
        self.zone_names.len()
    }

    /// The value of zone id `z`.
    pub fn zone_name(&self, z: u32) -> &str {
        &self.zone_names[z as usize]
    }

    /// The id of a zone value, if some present node ever had it.
    pub fn zone_id(&self, zone: &str) -> Option<u32> {
        self.zone_ids.get(zone).copied()
    }

    #[inline]
    pub fn group(&self, id: u32) -> &PodGroup {
        &self.groups[id as usize]
    }

    /// Append to `out` the groups with pods in `ns` that `sel` selects (`None`
    /// selects nothing); `required` is `sel`'s
    /// [`LabelSelector::required_bloom`](crate::api::selector::LabelSelector::required_bloom).
    pub fn selected_groups(
        &self,
        ns: &str,
        sel: Option<&LabelSelector>,
        required: u64,
        out: &mut Vec<u32>,
    ) {
        let (Some(sel), Some(nsg)) = (sel, self.namespaces.get(ns)) else {
            return;
        };
        // The shortest list among the selector's pairs; every group it selects
        // carries all of them. Without matchLabels, every live group.
        let mut candidates: Option<&[u32]> = None;
        for (k, v) in &sel.match_labels {
            let list = nsg
                .by_pair
                .get(k.as_str())
                .and_then(|vs| vs.get(v.as_str()))
                .map_or(&[][..], Vec::as_slice);
            if list.is_empty() {
                return;
            }
            if candidates.is_none_or(|c| list.len() < c.len()) {
                candidates = Some(list);
            }
        }
        let candidates = candidates.unwrap_or(&nsg.live);
        out.extend(candidates.iter().copied().filter(|&id| {
            let g = &self.groups[id as usize];
            g.bloom & required == required && sel.matches(&g.labels)
        }));
    }

    fn zone_of_node(&mut self, node: &NodeInfo) -> NodeSlot {
        let label = node.labels.get(crate::scheduler::plugins::LABEL_ZONE);
        let name = label.map_or("", String::as_str);
        let zone = match self.zone_ids.get(name) {
            Some(&z) => z,
            None => {
                let z = self.zone_names.len() as u32;
                self.zone_names.push(name.to_string());
                self.zone_ids.insert(name.to_string(), z);
                z
            }
        };
        NodeSlot {
            zone,
            has_zone: label.is_some(),
            has_hostname: node
                .labels
                .contains_key(crate::scheduler::plugins::LABEL_HOSTNAME),
        }
    }

    fn bump_group(
        &mut self,
        idx: usize,
        zone: u32,
        ns: &str,
        labels: &Labels,
        bloom: u64,
        by: i64,
    ) {
        let nsg = match self.namespaces.get_mut(ns) {
            Some(g) => g,
            None => self.namespaces.entry(ns.to_string()).or_default(),
        };
        let id = match nsg.ids.get(labels) {
            Some(&id) => id,
            None => {
                let group = PodGroup {
                    namespace: ns.to_string(),
                    labels: labels.clone(),
                    bloom,
                    ..Default::default()
                };
                let id = match self.free.pop() {
                    Some(id) => {
                        self.groups[id as usize] = group;
                        id
                    }
                    None => {
                        self.groups.push(group);
                        (self.groups.len() - 1) as u32
                    }
                };
                nsg.ids.insert(labels.clone(), id);
                id
            }
        };
        let g = &mut self.groups[id as usize];
        let was_live = g.total > 0;
        g.total = (g.total as i64 + by) as u32;
        g.nodes.bump(idx, by);
        if g.zones.len() <= zone as usize {
            g.zones.resize(zone as usize + 1, 0);
        }
        g.zones[zone as usize] = (g.zones[zone as usize] as i64 + by) as u32;
        let live = g.total > 0;
        if live && !was_live {
            nsg.live.push(id);
            for (k, v) in &g.labels {
                nsg.by_pair
                    .entry(k.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default()
                    .push(id);
            }
        } else if was_live && !live {
            // Order within the lists does not matter: they only feed sums.
            let drop = |list: &mut Vec<u32>| {
                if let Some(i) = list.iter().position(|&x| x == id) {
                    list.swap_remove(i);
                }
            };
            drop(&mut nsg.live);
            for (k, v) in &g.labels {
                if let Some(vs) = nsg.by_pair.get_mut(k.as_str()) {
                    if let Some(list) = vs.get_mut(v.as_str()) {
                        drop(list);
                        if list.is_empty() {
                            vs.remove(v.as_str());
                        }
                    }
                    if vs.is_empty() {
                        nsg.by_pair.remove(k.as_str());
                    }
                }
            }
            nsg.ids.remove(&g.labels);
            if nsg.ids.is_empty() {
                self.namespaces.remove(ns);
            }
            self.groups[id as usize] = PodGroup::default();
            self.free.push(id);
        }
    }

    /// Count everything on node `idx` (call after it became present or changed labels).
    pub fn add_node(&mut self, idx: usize, node: &NodeInfo) {
        if !node.present {
            return;
        }
        let slot = self.zone_of_node(node);
        if self.slots.len() <= idx {
            self.slots.resize(idx + 1, None);
        }
        self.slots[idx] = Some(slot);
        self.node_delta(idx, slot.zone, node, 1);
    }

    /// Uncount everything on node `idx` (call before it goes away or changes labels).
    pub fn remove_node(&mut self, idx: usize, node: &NodeInfo) {
        let Some(slot) = self.slot(idx) else {
            return;
        };
        self.node_delta(idx, slot.zone, node, -1);
        self.slots[idx] = None;
    }

    fn node_delta(&mut self, idx: usize, zone: u32, node: &NodeInfo, sign: i64) {
        if node.prefers_no_schedule() {
            self.nodes_preferring_no_schedule =
                (self.nodes_preferring_no_schedule as i64 + sign) as u64;
        }
        self.pods_with_affinity =
            (self.pods_with_affinity as i64 + sign * node.pods_with_affinity as i64) as u64;
        self.pods_with_required_anti_affinity = (self.pods_with_required_anti_affinity as i64
            + sign * node.pods_with_required_anti_affinity as i64)
            as u64;
        for g in &node.label_groups {
            self.bump_group(
                idx,
                zone,
                &g.namespace,
                &g.labels,
                g.bloom,
                sign * g.count as i64,
            );
        }
    }

    /// Count `p`, just added to node `idx`.
    pub fn add_pod(&mut self, idx: usize, p: &PodSummary) {
        self.pod_delta(idx, p, 1);
    }

    /// Uncount `p`, just removed from node `idx`.
    pub fn remove_pod(&mut self, idx: usize, p: &PodSummary) {
        self.pod_delta(idx, p, -1);
    }

    fn pod_delta(&mut self, idx: usize, p: &PodSummary, sign: i64) {
        let Some(slot) = self.slot(idx) else {
            return;
        };
        let (any, anti) = affinity_flags(&p.spec);
        self.pods_with_affinity = (self.pods_with_affinity as i64 + sign * any as i64) as u64;
        self.pods_with_required_anti_affinity =
            (self.pods_with_required_anti_affinity as i64 + sign * anti as i64) as u64;
        self.bump_group(idx, slot.zone, &p.key.namespace, &p.labels, p.bloom, sign);
    }
}

/// The cluster as the plugins see it during one scheduling cycle.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// Indexed by node index; entries with `present == false` are gone.
    pub nodes: &'a [NodeInfo],
    /// image name → number of present nodes that have it (for ImageLocality's spread).
    pub image_nodes: &'a BTreeMap<String, usize>,
    /// Number of present nodes.
    pub node_count: usize,
    /// Namespace labels (for pod affinity namespace selectors).
    pub namespace_labels: &'a BTreeMap<String, Labels>,
    /// Pods that preempted others and wait for their nominated node: (node index, pod).
    /// A pod of lower or equal priority is filtered as if they were already there.
    pub nominated: &'a [(usize, PodSummary)],
    /// Cluster-wide sums over `nodes` (see [`ClusterIndex`]).
    pub index: &'a ClusterIndex,
}

impl<'a> Snapshot<'a> {
    pub fn present(&self) -> impl Iterator<Item = (usize, &'a NodeInfo)> {
        self.nodes.iter().enumerate().filter(|(_, n)| n.present)
    }

    /// Node `idx` with the pods nominated to it that `pod` must leave room for
    /// (priority ≥ its own, other than itself); `None` when there are none.
    pub fn with_nominated(&self, idx: usize, pod: &PodInfo) -> Option<NodeInfo> {
        let mut extra = self
            .nominated
            .iter()
            .filter(|(n, p)| {
                *n == idx && p.spec.priority >= pod.spec.priority && p.key != pod.pod.meta.key()
            })
            .peekable();
        extra.peek()?;
        let mut node = self.nodes[idx].clone();
        for (_, p) in extra {
            node.add_pod(p.clone());
        }
        Some(node)
    }
}

/// What the plugins need to know about the pod being scheduled.
#[derive(Debug, Clone)]
pub struct PodInfo<'a> {
    pub pod: &'a Pod,
    pub spec: &'a PodSpec,
    pub labels: &'a Labels,
    pub namespace: &'a str,
    pub requests: PodRequests,
    pub node_selector: &'a Labels,
    pub tolerations: &'a [Toleration],
    /// `spec.nodeName` the pod asks for (the NodeName plugin).
    pub node_name: Option<&'a str>,
}

impl<'a> PodInfo<'a> {
    pub fn new(pod: &'a Pod) -> Self {
        PodInfo {
            pod,
            spec: &pod.spec,
            labels: &pod.meta.labels,
            namespace: &pod.meta.namespace,
            requests: pod.spec.requests(),
            node_selector: &pod.spec.node_selector,
            tolerations: &pod.spec.tolerations,
            node_name: pod.node_name.as_deref(),
        }
    }
}

/// Per-cycle data that PreFilter/PreScore compute once and Filter/Score read per node.
/// A handful of entries, read once per node per plugin: a short vector whose keys
/// are compared by address first beats a map.
#[derive(Default)]
pub struct CycleState {
    data: Vec<(&'static str, Box<dyn Any + Send>)>,
}

impl CycleState {
    fn position(&self, key: &'static str) -> Option<usize> {
        self.data
            .iter()
            .position(|(k, _)| std::ptr::eq(*k, key) || *k == key)
    }
    pub fn insert<T: Any + Send>(&mut self, key: &'static str, v: T) {
        match self.position(key) {
            Some(i) => self.data[i].1 = Box::new(v),
            None => self.data.push((key, Box::new(v))),
        }
    }
    pub fn get<T: Any>(&self, key: &'static str) -> Option<&T> {
        self.data
            .iter()
            .find(|(k, _)| std::ptr::eq(*k, key) || *k == key)
            .and_then(|(_, b)| b.downcast_ref())
    }
}

/// A Filter plugin (with its optional PreFilter): can this node run the pod?
/// `Err` carries the reasons, worded as kube-scheduler words them, because they end
/// up in FailedScheduling events.
pub trait FilterPlugin: Send + Sync {
    fn name(&self) -> &'static str;
    /// PreFilter: once per pod before any Filter. `Err` makes the pod unschedulable
    /// on every node, with that reason.
    fn pre_filter(
        &self,
        _pod: &PodInfo,
        _snap: &Snapshot,
        _state: &mut CycleState,
    ) -> Result<(), String> {
        Ok(())
    }
    fn filter(&self, pod: &PodInfo, node: &NodeInfo, state: &CycleState)
        -> Result<(), Vec<String>>;
    /// Whether [`FilterPlugin::filter`] accepts the node, without the reasons
    /// it would give. The scheduling cycle asks this, and asks for reasons
    /// only when no node fits: formatting a reason for every rejected node of
    /// every cycle was a cost of its own while nodes were down. Plugins whose
    /// rejections format strings override it; it must agree with `filter`.
    fn accepts(&self, pod: &PodInfo, node: &NodeInfo, state: &CycleState) -> bool {
        self.filter(pod, node, state).is_ok()
    }
    /// After PreFilter: `true` when Filter would accept every node for this pod
    /// (upstream's PreFilter `Skip` status), so the scheduling cycle need not call
    /// it. Must never be `true` when some node could be rejected.
    fn skip_filter(&self, _pod: &PodInfo, _state: &CycleState) -> bool {
        false
    }
    /// `true` when the verdict depends only on the pod's spec (with what its
    /// own PreFilter derives from it) and on the node's own object and pods,
    /// never on other nodes, the pod's metadata or the cycle's snapshot. Such
    /// verdicts are remembered across cycles by a [`super::verdicts::VerdictCache`],
    /// for every spec that [`crate::api::PodSpec::same_placement`] finds equal:
    /// the plugin must not read what that leaves out (container images, probes).
    fn node_local(&self) -> bool {
        false
    }
}

/// A Score plugin (with optional PreScore and NormalizeScore): how well does this
/// node suit the pod, in [0, 100] after normalization.
pub trait ScorePlugin: Send + Sync {
    fn name(&self) -> &'static str;
    /// PreScore over the feasible nodes; `false` skips this plugin for the pod
    /// (upstream's `Skip` status), so it adds nothing to any node.
    fn pre_score(
        &self,
        _pod: &PodInfo,
        _snap: &Snapshot,
        _feasible: &[usize],
        _state: &mut CycleState,
    ) -> bool {
        true
    }
    fn score(&self, pod: &PodInfo, node: &NodeInfo, state: &CycleState) -> i64;
    /// Score every feasible node, appending to `out` in `feasible` order. The
    /// default calls [`ScorePlugin::score`] per node; plugins override it to do the
    /// per-pod work (state lookup, resolving resources) once per cycle. The result
    /// must equal the per-node `score`s.
    fn score_all(
        &self,
        pod: &PodInfo,
        snap: &Snapshot,
        feasible: &[usize],
        state: &CycleState,
        out: &mut Vec<i64>,
    ) {
        out.extend(
            feasible
                .iter()
                .map(|&i| self.score(pod, &snap.nodes[i], state)),
        );
    }
    /// NormalizeScore over the feasible nodes' raw scores; the default leaves them.
    fn normalize(&self, _scores: &mut [i64], _state: &CycleState) {}
    /// `true` when the raw score depends only on the pod's spec and on the
    /// node's own object and pods (see [`FilterPlugin::node_local`]); such
    /// scores are remembered across cycles. Normalization still runs each cycle.
    fn node_local(&self) -> bool {
        false
    }
    /// `true` when, after [`ScorePlugin::pre_score`], every node would get the
    /// same score from this plugin this cycle (raw, and so normalized too). A
    /// score shared by all nodes cannot change which one wins or how ties fall,
    /// so the cycle leaves such a plugin out; explain-schedule, which shows each
    /// plugin's scores, still runs it.
    fn uniform(&self, _state: &CycleState) -> bool {
        false
    }
}

/// `DefaultNormalizeScore`: scale to [0, max]; `reverse` makes high raw scores low.
pub fn default_normalize(max: i64, reverse: bool, scores: &mut [i64]) {
    let max_count = scores.iter().copied().max().unwrap_or(0);
    if max_count == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max);
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut v = max * *s / max_count;
        if reverse {
            v = max - v;
        }
        *s = v;
    }
}

/// How the node is picked from the scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Highest total score; ties broken uniformly at random (seeded).
    HighestScore,
    /// The first feasible node in node order, no scoring (first-fit).
    FirstFeasible,
}

/// A named set of plugins with score weights (a KubeSchedulerConfiguration profile).
pub struct Profile {
    pub name: String,
    pub filters: Vec<Box<dyn FilterPlugin>>,
    pub scores: Vec<(Box<dyn ScorePlugin>, i64)>,
    pub selection: Selection,
    /// `percentageOfNodesToScore`: `None` or 0 = adaptive; 100 = every node.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// The DefaultPreemption PostFilter plugin is enabled.
    pub preemption: bool,
}

impl Profile {
    pub fn new(name: &str) -> Self {
        Profile {
            name: name.into(),
            filters: Vec::new(),
            scores: Vec::new(),
            selection: Selection::HighestScore,
            percentage_of_nodes_to_score: None,
            preemption: true,
        }
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field(
                "filters",
                &self.filters.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .field(
                "scores",
                &self
                    .scores
                    .iter()
                    .map(|(p, w)| (p.name(), *w))
                    .collect::<Vec<_>>(),
            )
            .field("selection", &self.selection)
            .finish()
    }
}

/// `numFeasibleNodesToFind` (schedule_one.go): below 100 nodes, all of them;
/// otherwise `percentageOfNodesToScore`, adaptive by default (50% − n/125, at
/// least 5%), and never fewer than 100.
pub fn num_feasible_nodes_to_find(percentage: Option<u32>, n: usize) -> usize {
    const MIN_FEASIBLE: usize = 100;
    let pct = percentage.unwrap_or(0) as i64;
    if n < MIN_FEASIBLE || pct >= 100 {
        return n;
    }
    let mut adaptive = pct;
    if adaptive <= 0 {
        adaptive = 50 - n as i64 / 125;
        if adaptive < 5 {
            adaptive = 5;
        }
    }
    let num = n as i64 * adaptive / 100;
    if (num as usize) < MIN_FEASIBLE {
        MIN_FEASIBLE
    } else {
        num as usize
    }
}

/// Why a node was rejected: the plugin and its reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub plugin: &'static str,
    pub reasons: Vec<String>,
}

/// Run every filter of `profile` on one node, stopping at the first rejection.
pub fn run_filters(
    profile: &Profile,
    pod: &PodInfo,
    node: &NodeInfo,
    state: &CycleState,
) -> Result<(), Rejection> {
    for f in &profile.filters {
        f.filter(pod, node, state).map_err(|reasons| Rejection {
            plugin: f.name(),
            reasons,
        })?;
    }
    Ok(())
}

/// Run every PreFilter; the first failure rejects the pod everywhere.
pub fn run_pre_filters(
    profile: &Profile,
    pod: &PodInfo,
    snap: &Snapshot,
    state: &mut CycleState,
) -> Result<(), Rejection> {
    for f in &profile.filters {
        f.pre_filter(pod, snap, state).map_err(|r| Rejection {
            plugin: f.name(),
            reasons: vec![r],
        })?;
    }
    Ok(())
}

/// One score plugin's scores over the feasible nodes.
#[derive(Debug, Clone)]
pub struct PluginScores {
    pub plugin: &'static str,
    pub weight: i64,
    /// False when PreScore skipped the plugin for this pod.
    pub applied: bool,
    pub raw: Vec<i64>,
    pub normalized: Vec<i64>,
}

/// Vectors a cycle's scoring fills and empties, kept from one cycle to the next
/// (in the [`super::verdicts::VerdictCache`]) so that scoring hundreds of
/// feasible nodes allocates none of them: fresh ones each cycle cost the
/// default profile a tenth of its time in the allocator.
#[derive(Debug, Default)]
pub struct ScoreBuffers {
    /// Weighted totals by feasible position: the result.
    pub totals: Vec<i64>,
    raw: Vec<i64>,
    missing: Vec<usize>,
    at: Vec<usize>,
    fresh: Vec<i64>,
}

/// All the vectors a scheduling cycle reuses (see [`ScoreBuffers`]).
#[derive(Debug, Default)]
pub struct CycleBuffers {
    /// Feasible node indices, in evaluation order.
    pub feasible: Vec<usize>,
    /// With the verdict cache: whether each feasible node's entry is current.
    pub current: Vec<bool>,
    pub score: ScoreBuffers,
}

/// PreScore, Score and NormalizeScore for every score plugin; returns the
/// per-plugin detail (with `keep_detail`), and leaves the totals Σ normalized
/// × weight, aligned with `feasible`, in `buffers.totals`.
#[allow(clippy::too_many_arguments)]
pub fn score_nodes(
    profile: &Profile,
    pod: &PodInfo,
    snap: &Snapshot,
    feasible: &[usize],
    state: &mut CycleState,
    keep_detail: bool,
    cache: Option<(&mut super::verdicts::VerdictCache, &[bool])>,
    buffers: &mut ScoreBuffers,
) -> Vec<PluginScores> {
    let ScoreBuffers {
        totals,
        raw,
        missing,
        at,
        fresh,
    } = buffers;
    totals.clear();
    totals.resize(feasible.len(), 0);
    let mut detail = Vec::new();
    // position among the profile's node-local score plugins (the cache's slot)
    let mut local = 0;
    // whether each feasible node's cache entry is current, as the filter
    // pass found (scoring then reads entries without checking stamps)
    let (mut cache, current) = match cache {
        Some((c, current)) => (Some(c), current),
        None => (None, &[][..]),
    };
    debug_assert!(
        cache.is_none() || current.len() == feasible.len(),
        "a currency flag for every feasible node"
    );
    for (plugin, weight) in &profile.scores {
        let slot = plugin.node_local().then(|| {
            local += 1;
            local - 1
        });
        let applies = plugin.pre_score(pod, snap, feasible, state);
        if applies && !keep_detail && plugin.uniform(state) {
            // the same for every node: it cannot move the choice
            #[cfg(debug_assertions)]
            {
                let mut check = Vec::with_capacity(feasible.len());
                plugin.score_all(pod, snap, feasible, state, &mut check);
                plugin.normalize(&mut check, state);
                assert!(
                    check.windows(2).all(|w| w[0] == w[1]),
                    "{} said its scores were uniform: {check:?}",
                    plugin.name()
                );
            }
            continue;
        }
        if !applies {
            if keep_detail {
                detail.push(PluginScores {
                    plugin: plugin.name(),
                    weight: *weight,
                    applied: false,
                    raw: vec![0; feasible.len()],
                    normalized: vec![0; feasible.len()],
                });
            }
            continue;
        }
        raw.clear();
        match (slot, cache.as_deref_mut()) {
            (Some(j), Some(c)) => score_remembered(
                plugin.as_ref(),
                (j, current),
                c,
                (pod, snap, feasible, state),
                raw,
                (missing, at, fresh),
            ),
            _ => plugin.score_all(pod, snap, feasible, state, raw),
        }
        debug_assert_eq!(raw.len(), feasible.len());
        if keep_detail {
            let mut normalized = raw.clone();
            plugin.normalize(&mut normalized, state);
            for (t, s) in totals.iter_mut().zip(&normalized) {
                *t += s.clamp(&0, &MAX_NODE_SCORE) * weight;
            }
            detail.push(PluginScores {
                plugin: plugin.name(),
                weight: *weight,
                applied: true,
                raw: raw.clone(),
                normalized,
            });
        } else {
            plugin.normalize(raw, state);
            for (t, s) in totals.iter_mut().zip(raw.iter()) {
                *t += s.clamp(&0, &MAX_NODE_SCORE) * weight;
            }
        }
    }
    detail
}

/// A node-local plugin's raw scores over `feasible`: remembered ones from the
/// cache, the rest computed in one `score_all` over just those nodes.
/// (`missing`, `at` and `fresh` are scratch vectors, emptied here.)
#[allow(clippy::type_complexity)]
fn score_remembered(
    plugin: &dyn ScorePlugin,
    (j, current): (usize, &[bool]),
    cache: &mut super::verdicts::VerdictCache,
    (pod, snap, feasible, state): (&PodInfo, &Snapshot, &[usize], &CycleState),
    raw: &mut Vec<i64>,
    (missing, at, fresh): (&mut Vec<usize>, &mut Vec<usize>, &mut Vec<i64>),
) {
    missing.clear();
    at.clear();
    let c = &*cache;
    raw.extend(
        feasible
            .iter()
            .zip(current)
            .enumerate()
            .map(|(k, (&i, &current))| {
                let known = if current {
                    c.score_of_current(i, j)
                } else {
                    c.remembered(i, snap.nodes[i].stamp()).get(j)
                };
                known.unwrap_or_else(|| {
                    missing.push(i);
                    at.push(k);
                    0
                })
            }),
    );
    if !missing.is_empty() {
        fresh.clear();
        plugin.score_all(pod, snap, missing, state, fresh);
        for ((&i, &k), &v) in missing.iter().zip(at.iter()).zip(fresh.iter()) {
            cache.record_score(i, snap.nodes[i].stamp(), j, v);
            raw[k] = v;
        }
    }
    #[cfg(debug_assertions)]
    {
        let mut check = Vec::with_capacity(feasible.len());
        plugin.score_all(pod, snap, feasible, state, &mut check);
        assert_eq!(
            *raw,
            check,
            "{}: a remembered score is stale",
            plugin.name()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_normalize_matches_upstream() {
        let mut s = vec![10, 5, 0];
        default_normalize(100, false, &mut s);
        assert_eq!(s, vec![100, 50, 0]);
        let mut s = vec![2, 1, 0];
        default_normalize(100, true, &mut s);
        assert_eq!(s, vec![0, 50, 100]);
        let mut s = vec![0, 0];
        default_normalize(100, true, &mut s);
        assert_eq!(s, vec![100, 100]);
        let mut s = vec![0, 0];
        default_normalize(100, false, &mut s);
        assert_eq!(s, vec![0, 0]);
    }

    #[test]
    fn cluster_index_follows_incremental_changes() {
        use crate::scheduler::plugins::testutil::{node, pod, pod_in, with_spec};
        use crate::scheduler::plugins::LABEL_ZONE;
        let mut nodes = vec![
            node("a", &[(LABEL_ZONE, "z1")]),
            node("b", &[(LABEL_ZONE, "z2")]),
            node("c", &[]),
        ];
        let mut ix = ClusterIndex::build(&nodes);
        let anti = with_spec(pod("x", &[("app", "x")]), |s| {
            s.affinity.anti.required = vec![crate::api::affinity::PodAffinityTerm {
                label_selector: None,
                namespaces: vec![],
                namespace_selector: None,
                topology_key: "kubernetes.io/hostname".into(),
            }]
        });
        let pods = [
            (0, pod("p1", &[("app", "web")])),
            (0, pod("p2", &[("app", "web")])),
            (1, pod_in("other", "p3", &[("app", "web")])),
            (2, anti.clone()),
            (1, anti),
        ];
        for (i, p) in &pods {
            let mut p = p.clone();
            p.meta.name = format!("{}-{i}", p.meta.name);
            let summary = PodSummary::of(&p);
            ix.add_pod(*i, &summary);
            nodes[*i].add_pod(summary);
            assert_eq!(ix, ClusterIndex::build(&nodes));
        }
        assert_eq!(ix.pods_with_required_anti_affinity, 2);
        // node c has no zone label: its one pod counts in zone ""
        let nozone = ix.zone_id("").unwrap();
        let mut ids = Vec::new();
        let sel = crate::api::selector::LabelSelector::from_labels(
            [("app".to_string(), "x".to_string())].into(),
        );
        ix.selected_groups("default", Some(&sel), sel.required_bloom(), &mut ids);
        assert_eq!(ids.len(), 1);
        assert_eq!(ix.group(ids[0]).zones[nozone as usize], 1);
        assert_eq!(ix.group(ids[0]).total, 2);
        assert_eq!(ix.slot(2).map(|s| s.has_zone), Some(false));
        // a pod leaves
        let key = nodes[0].pods[0].key.clone();
        let gone = nodes[0].remove_pod(&key).unwrap();
        ix.remove_pod(0, &gone);
        assert_eq!(ix, ClusterIndex::build(&nodes));
        // a node changes zone, then goes away, then comes back
        ix.remove_node(1, &nodes[1]);
        nodes[1].labels.insert(LABEL_ZONE.into(), "z1".into());
        ix.add_node(1, &nodes[1]);
        assert_eq!(ix, ClusterIndex::build(&nodes));
        ix.remove_node(1, &nodes[1]);
        nodes[1].present = false;
        assert_eq!(ix, ClusterIndex::build(&nodes));
        // pods leaving an absent node change nothing
        let key = nodes[1].pods[0].key.clone();
        let gone = nodes[1].remove_pod(&key).unwrap();
        ix.remove_pod(1, &gone);
        assert_eq!(ix, ClusterIndex::build(&nodes));
        nodes[1].present = true;
        ix.add_node(1, &nodes[1]);
        assert_eq!(ix, ClusterIndex::build(&nodes));
        assert_eq!(ix.pods_with_required_anti_affinity, 2);
    }

    #[test]
    fn feasible_nodes_to_find_matches_upstream_examples() {
        assert_eq!(num_feasible_nodes_to_find(None, 50), 50);
        assert_eq!(num_feasible_nodes_to_find(None, 500), 230);
        assert_eq!(num_feasible_nodes_to_find(None, 1000), 420);
        assert_eq!(num_feasible_nodes_to_find(None, 5000), 500);
        assert_eq!(num_feasible_nodes_to_find(Some(100), 5000), 5000);
        assert_eq!(num_feasible_nodes_to_find(Some(1), 5000), 100);
        assert_eq!(num_feasible_nodes_to_find(None, 100_000), 5000);
    }
}
