//! DefaultPreemption (the PostFilter plugin): when a pod fits nowhere, find a
//! node where evicting lower-priority pods would make it fit, with the fewest and
//! least important victims, as pkg/scheduler/framework/plugins/defaultpreemption.
//!
//! Simplifications (documented in the README): PreFilter state is not updated as
//! victims are removed (upstream's AddPod/RemovePod), there are no
//! PodDisruptionBudgets yet, and the "latest start time" tie-breaker is replaced by
//! node order.

use super::framework::{run_filters, CycleState, NodeInfo, PodInfo, Profile, Snapshot};
use crate::api::ObjKey;

/// minCandidateNodesPercentage and minCandidateNodesAbsolute (defaults.go).
pub const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
pub const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

/// A node where preemption would make room, and the pods it would evict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub node: usize,
    /// (pod, priority), most important first.
    pub victims: Vec<(ObjKey, i32)>,
}

/// `calculateNumCandidates`: 10% of the nodes, at least 100, at most all.
pub fn num_candidates(n: usize) -> usize {
    (n * MIN_CANDIDATE_NODES_PERCENTAGE / 100)
        .max(MIN_CANDIDATE_NODES_ABSOLUTE)
        .min(n)
}

/// `selectVictimsOnNode`: remove every lower-priority pod; if the pod then fits,
/// add them back, most important first, while it still fits; the rest are victims.
/// Pods nominated to the node with priority ≥ the pod's count as already there.
fn victims_on(
    profile: &Profile,
    pod: &PodInfo,
    snap: &Snapshot,
    idx: usize,
    state: &CycleState,
) -> Option<Vec<(ObjKey, i32)>> {
    let node: &NodeInfo = &snap.nodes[idx];
    let prio = pod.spec.priority;
    let mut lower: Vec<_> = node
        .pods
        .iter()
        .filter(|p| p.spec.priority < prio)
        .cloned()
        .collect();
    if lower.is_empty() {
        return None;
    }
    let mut trial = snap
        .with_nominated(idx, pod)
        .unwrap_or_else(|| node.clone());
    for p in &lower {
        trial.remove_pod(&p.key);
    }
    run_filters(profile, pod, &trial, state).ok()?;
    // MoreImportantPod: higher priority first (then name, for a total order)
    lower.sort_by(|a, b| {
        b.spec
            .priority
            .cmp(&a.spec.priority)
            .then(a.key.cmp(&b.key))
    });
    let mut victims = Vec::new();
    for p in lower {
        trial.add_pod(p.clone());
        if run_filters(profile, pod, &trial, state).is_err() {
            trial.remove_pod(&p.key);
            victims.push((p.key.clone(), p.spec.priority));
        }
    }
    (!victims.is_empty()).then_some(victims)
}

/// Find where to preempt, or `None` when no node would fit even after evictions.
/// `pickOneNodeForPreemption`: the lowest highest-victim priority, then the
/// smallest sum of victim priorities, then the fewest victims, then node order.
pub fn find(
    profile: &Profile,
    pod: &PodInfo,
    snap: &Snapshot,
    state: &CycleState,
) -> Option<Candidate> {
    if pod.spec.never_preempt {
        return None;
    }
    let want = num_candidates(snap.node_count);
    let mut candidates: Vec<Candidate> = Vec::new();
    for (i, _) in snap.present() {
        if candidates.len() >= want {
            break;
        }
        if let Some(victims) = victims_on(profile, pod, snap, i, state) {
            candidates.push(Candidate { node: i, victims });
        }
    }
    // sum of priorities shifted to be positive, as upstream (priority + MaxInt32 + 1)
    let key = |c: &Candidate| {
        let highest = c.victims.iter().map(|(_, p)| *p).max().unwrap_or(i32::MIN);
        let sum: i64 = c
            .victims
            .iter()
            .map(|(_, p)| *p as i64 + i32::MAX as i64 + 1)
            .sum();
        (highest, sum, c.victims.len(), c.node)
    };
    candidates.into_iter().min_by_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_count_follows_upstream() {
        assert_eq!(num_candidates(50), 50);
        assert_eq!(num_candidates(500), 100);
        assert_eq!(num_candidates(5000), 500);
    }
}
