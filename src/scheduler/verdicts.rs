//! Node-local filter and score verdicts remembered from one scheduling cycle to
//! the next.
//!
//! A Deployment's pods share one spec, and the scheduler takes them one after
//! another: between two of their cycles only the node that took the last pod
//! has changed. The plugins that look only at the pod's spec and at the node
//! itself (NodeResourcesFit, TaintToleration, NodeUnschedulable, NodeAffinity,
//! BalancedAllocation; see [`FilterPlugin::node_local`]) would give every
//! other node the same answer again. The cache keeps those answers per node,
//! tagged with the node's [`NodeInfo::stamp`] and with the spec they were
//! computed for, so a node that changed, or a pod whose spec places
//! differently, is evaluated afresh. Specs are compared by
//! [`PodSpec::same_placement`], which leaves out what only the kubelet reads
//! (images, probes, ...): the pods of Deployments that differ only by image
//! (taken by the scheduler interleaved, as their ReplicaSets create them)
//! share the entries. The choice of node cannot differ: a remembered answer is
//! only used where recomputing it would give the same value (debug builds
//! recompute and compare).
//!
//! [`FilterPlugin::node_local`]: super::framework::FilterPlugin::node_local

use super::framework::{PodInfo, Profile};
use crate::api::PodSpec;
use std::sync::Arc;

/// At most this many node-local score plugins per profile are remembered (the
/// default profile has four); any beyond are recomputed each cycle. Kept small
/// so that an entry with its scores fills one cache line.
const MAX_SCORES: usize = 4;

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    /// The node state ([`NodeInfo::stamp`](super::framework::NodeInfo::stamp))
    /// and the cache epoch this entry speaks for.
    stamp: u64,
    epoch: u64,
    /// Every node-local filter accepts the node.
    passes: bool,
    /// Bit `j`: `scores[j]` holds the `j`-th node-local score plugin's raw score.
    scored: u32,
    scores: [i64; MAX_SCORES],
}

/// One node's remembered raw scores, as [`VerdictCache::remembered`] reads them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Remembered {
    scored: u32,
    scores: [i64; MAX_SCORES],
}

impl Remembered {
    /// The `j`-th node-local score plugin's raw score, if remembered.
    #[inline]
    pub fn get(&self, j: usize) -> Option<i64> {
        (j < MAX_SCORES && self.scored & (1 << j) != 0).then(|| self.scores[j])
    }
}

/// Remembered node-local verdicts for one profile and one pod spec at a time.
#[derive(Debug, Default)]
pub struct VerdictCache {
    /// The spec the current epoch's entries were computed for, and its profile.
    spec: Option<Arc<PodSpec>>,
    profile: String,
    /// Bumped whenever the spec or the profile changes; older entries are void.
    epoch: u64,
    /// By node index.
    entries: Vec<Entry>,
    /// Cycles that found their spec's entries still current (how often the
    /// cache could help; tests check it).
    pub reused_cycles: u64,
    /// Vectors every cycle reuses, cache or not: they live here because the
    /// cache is what a scheduler keeps from one cycle to the next.
    pub(crate) buffers: crate::scheduler::framework::CycleBuffers,
}

impl VerdictCache {
    /// Start a cycle for `pod` under `profile`: keep the entries if they were
    /// computed for an equal spec under the same profile, else void them all.
    /// Returns whether this cycle should use the cache: not for the first pod
    /// of a spec, since a spec seen once (a trace's pods each have their own)
    /// would only pay for recording what no later cycle reads.
    pub fn begin(&mut self, profile: &Profile, pod: &PodInfo) -> bool {
        let spec = &pod.pod.spec;
        let same = self.profile == profile.name
            && self
                .spec
                .as_ref()
                .is_some_and(|s| Arc::ptr_eq(s, spec) || s.same_placement(spec));
        if same {
            self.reused_cycles += 1;
            // hold the newest Arc: an older spec may be dropped and its address reused
            if !Arc::ptr_eq(self.spec.as_ref().unwrap(), spec) {
                self.spec = Some(spec.clone());
            }
            return true;
        }
        self.epoch += 1;
        self.spec = Some(spec.clone());
        if self.profile != profile.name {
            self.profile.clone_from(&profile.name);
        }
        false
    }

    fn entry(&mut self, idx: usize, stamp: u64) -> &mut Entry {
        if idx >= self.entries.len() {
            self.entries.resize(idx + 1, Entry::default());
        }
        let e = &mut self.entries[idx];
        if e.stamp != stamp || e.epoch != self.epoch {
            *e = Entry {
                stamp,
                epoch: self.epoch,
                ..Entry::default()
            };
        }
        e
    }

    #[inline]
    fn current(&self, idx: usize, stamp: u64) -> Option<&Entry> {
        self.entries
            .get(idx)
            .filter(|e| e.stamp == stamp && e.epoch == self.epoch && self.epoch != 0)
    }

    /// Whether every node-local filter is known to accept node `idx` in state `stamp`.
    #[inline]
    pub fn passes(&self, idx: usize, stamp: u64) -> bool {
        self.current(idx, stamp).is_some_and(|e| e.passes)
    }

    /// The `j`-th node-local score plugin's remembered raw score for node
    /// `idx`, whose entry the caller knows is current: in this cycle it
    /// [`passes`](Self::passes) or was [recorded](Self::record_pass) with the
    /// node's present stamp. (Scoring reads it for hundreds of nodes; checking
    /// the stamp again would read each node once more.)
    #[inline]
    pub fn score_of_current(&self, idx: usize, j: usize) -> Option<i64> {
        let e = self.entries.get(idx)?;
        debug_assert!(
            e.epoch == self.epoch && e.passes,
            "entry {idx} is not current"
        );
        (j < MAX_SCORES && e.scored & (1 << j) != 0).then(|| e.scores[j])
    }

    /// Remember that every node-local filter accepts node `idx` in state `stamp`.
    pub fn record_pass(&mut self, idx: usize, stamp: u64) {
        self.entry(idx, stamp).passes = true;
    }

    /// Every remembered raw score for node `idx` in state `stamp` at once (a
    /// cycle reads each node's entry once, not once per plugin).
    #[inline]
    pub fn remembered(&self, idx: usize, stamp: u64) -> Remembered {
        match self.current(idx, stamp) {
            Some(e) => Remembered {
                scored: e.scored,
                scores: e.scores,
            },
            None => Remembered::default(),
        }
    }

    /// Remember the `j`-th node-local score plugin's raw score for node `idx`.
    pub fn record_score(&mut self, idx: usize, stamp: u64, j: usize, value: i64) {
        if j >= MAX_SCORES {
            return;
        }
        let e = self.entry(idx, stamp);
        e.scored |= 1 << j;
        e.scores[j] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::node::{ConditionStatus, NodeResources, NodeStatus};
    use crate::api::pod::{Container, PullPolicy};
    use crate::api::resources::ResourceList;
    use crate::api::taint::{Taint, TaintEffect};
    use crate::api::{Node, ObjectMeta, Pod};
    use crate::scheduler::framework::{ClusterIndex, NodeInfo, PodSummary, Snapshot};
    use crate::scheduler::{decide_with, default_profile};
    use std::collections::BTreeMap;

    fn pod(cpu: i64) -> Pod {
        named_pod("p", cpu)
    }

    fn named_pod(name: &str, cpu: i64) -> Pod {
        let mut meta = ObjectMeta::new("default", name);
        meta.labels.insert("app".into(), format!("a{}", cpu % 3));
        Pod {
            meta,
            spec: Arc::new(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    image: "i:1".into(),
                    image_pull_policy: PullPolicy::IfNotPresent,
                    requests: ResourceList {
                        cpu_millis: Some(cpu),
                        memory: Some(cpu << 20),
                        ..Default::default()
                    },
                    limits: ResourceList::default(),
                    ports: Vec::new(),
                }],
                ..Default::default()
            }),
            node_name: None,
            status: Default::default(),
        }
    }

    #[test]
    fn verdicts_hold_only_for_the_same_spec_profile_and_node_state() {
        let profile = Profile::new("a");
        let other_profile = Profile::new("b");
        let (p1, p2) = (pod(100), pod(200));
        let mut c = VerdictCache::default();
        assert!(!c.begin(&profile, &PodInfo::new(&p1)), "a spec seen once");
        assert!(!c.passes(3, 7), "nothing is known at first");
        c.record_pass(3, 7);
        c.record_score(3, 7, 1, 42);
        assert!(c.passes(3, 7));
        assert_eq!(c.remembered(3, 7).get(1), Some(42));
        assert_eq!(c.remembered(3, 7).get(0), None, "only the recorded plugin");
        assert!(!c.passes(3, 8), "the node changed");
        assert!(!c.passes(2, 7), "another node");
        // an equal spec in another Arc keeps the entries
        let p1b = pod(100);
        assert!(
            c.begin(&profile, &PodInfo::new(&p1b)),
            "the same spec again"
        );
        assert!(c.passes(3, 7));
        assert_eq!(c.reused_cycles, 1);
        // so does one that differs only in how the kubelet runs it (another
        // image, a probe): nothing a node-local plugin reads
        let mut p1c = pod(100);
        let spec = Arc::make_mut(&mut p1c.spec);
        spec.containers[0].image = "i:2".into();
        spec.probes
            .insert("c".into(), crate::api::pod::ContainerProbes::default());
        assert!(
            c.begin(&profile, &PodInfo::new(&p1c)),
            "only the image differs"
        );
        assert!(c.passes(3, 7));
        // but another container port (NodePorts reads it) voids them
        let mut p1d = pod(100);
        Arc::make_mut(&mut p1d.spec).containers[0]
            .ports
            .push(crate::api::pod::ContainerPort {
                name: String::new(),
                container_port: 80,
                host_port: Some(8080),
                protocol: "TCP".into(),
                host_ip: String::new(),
            });
        assert!(!c.begin(&profile, &PodInfo::new(&p1d)), "another port");
        assert!(!c.passes(3, 7));
        c.begin(&profile, &PodInfo::new(&p1));
        c.record_pass(3, 7);
        // a different spec voids them
        c.begin(&profile, &PodInfo::new(&p2));
        assert!(!c.passes(3, 7));
        assert_eq!(c.remembered(3, 7).get(1), None);
        // and so does another profile
        c.record_pass(3, 7);
        c.begin(&other_profile, &PodInfo::new(&p2));
        assert!(!c.passes(3, 7));
        // a node whose stamp changed loses what it had
        c.record_score(3, 7, 0, 5);
        c.record_score(3, 9, 1, 6);
        assert_eq!(c.remembered(3, 9).get(0), None);
        assert_eq!(c.remembered(3, 9).get(1), Some(6));
        let r = c.remembered(3, 9);
        assert_eq!(
            (r.get(0), r.get(1), r.get(MAX_SCORES)),
            (None, Some(6), None)
        );
        assert_eq!(c.remembered(3, 7).get(1), None);
    }

    fn node(i: usize, taint: bool, cordon: bool) -> Node {
        let name = format!("node-{i}");
        let mut meta = ObjectMeta::new("", &name);
        meta.labels.insert("kubernetes.io/hostname".into(), name);
        meta.labels
            .insert("topology.kubernetes.io/zone".into(), format!("z{}", i % 3));
        let r = NodeResources {
            cpu_millis: 1000 + 250 * (i as i64 % 5),
            memory: (4 + i as i64 % 3) << 30,
            pods: 20,
            other: BTreeMap::new(),
        };
        Node {
            meta,
            unschedulable: cordon,
            taints: if taint {
                vec![Taint::new("dedicated", "x", TaintEffect::NoSchedule)]
            } else {
                Vec::new()
            },
            status: NodeStatus {
                capacity: r.clone(),
                allocatable: r,
                ready: ConditionStatus::True,
                ..Default::default()
            },
        }
    }

    /// The scheduler with the cache and without it pick the same node (or
    /// fail with the same message) for every pod, while pods bind and leave
    /// and nodes get tainted, cordoned and freed between cycles.
    #[test]
    fn remembered_verdicts_never_change_a_decision() {
        let profile = default_profile();
        let base: Vec<NodeInfo> = (0..150)
            .map(|i| NodeInfo::from_node(&node(i, false, false)))
            .collect();
        let mut with = (base.clone(), ClusterIndex::build(&base), 0usize);
        let mut without = (base.clone(), ClusterIndex::build(&base), 0usize);
        let mut rng_a = crate::sim::rng::stream(7, "scheduler");
        let mut rng_b = crate::sim::rng::stream(7, "scheduler");
        let mut cache = VerdictCache::default();
        let images = BTreeMap::new();
        let ns = BTreeMap::new();
        let mut placed: Vec<(usize, Pod)> = Vec::new();
        let mut decisions = 0;
        for step in 0..900usize {
            // runs of one spec, then another (the cache keeps or voids its entries)
            let cpu = [100, 100, 100, 250, 250, 700, 100, 100][(step / 5) % 8];
            let mut p = named_pod(&format!("p-{step}"), cpu);
            // images change within a run (as Deployments differ by image)
            Arc::make_mut(&mut p.spec).containers[0].image = format!("i:{}", step % 3);
            let mut chosen = Vec::new();
            for (side, c) in [(&mut with, Some(&mut cache)), (&mut without, None)] {
                let rng = if c.is_some() { &mut rng_a } else { &mut rng_b };
                let snap = Snapshot {
                    nodes: &side.0,
                    image_nodes: &images,
                    node_count: side.0.len(),
                    namespace_labels: &ns,
                    nominated: &[],
                    index: &side.1,
                };
                let d = decide_with(&profile, &PodInfo::new(&p), &snap, &mut side.2, rng, c);
                if let Ok(idx) = d {
                    let summary = PodSummary::of(&p);
                    side.1.add_pod(idx, &summary);
                    side.0[idx].add_pod(summary);
                }
                chosen.push(d);
            }
            assert_eq!(chosen[0], chosen[1], "pod {step}");
            decisions += 1;
            if let Ok(idx) = chosen[0] {
                placed.push((idx, p));
            }
            // between cycles: a node changes, or a pod leaves
            let side_effect = |side: &mut (Vec<NodeInfo>, ClusterIndex, usize)| {
                if step % 7 == 3 {
                    let i = (step * 13) % 150;
                    side.1.remove_node(i, &side.0[i]);
                    side.0[i].update_node(&node(i, step % 2 == 0, step % 3 == 0));
                    side.1.add_node(i, &side.0[i]);
                }
                if step % 4 == 1 && !placed.is_empty() {
                    let (idx, gone) = &placed[(step * 7) % placed.len()];
                    if let Some(s) = side.0[*idx].remove_pod(&gone.meta.key()) {
                        side.1.remove_pod(*idx, &s);
                    }
                }
            };
            side_effect(&mut with);
            side_effect(&mut without);
        }
        assert_eq!(decisions, 900);
        assert!(
            cache.reused_cycles > 500,
            "the runs of one spec reused the cache ({} cycles)",
            cache.reused_cycles
        );
        assert!(
            placed.len() > 100,
            "enough pods placed to change nodes ({})",
            placed.len()
        );
    }
}
