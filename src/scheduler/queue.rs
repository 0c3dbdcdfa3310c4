//! The scheduling queue: activeQ ordered by PrioritySort, a backoff set, and the
//! unschedulable pods that wait for a cluster event (or at most 5 minutes).

use crate::api::ObjKey;
use crate::sim::time::{SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// podInitialBackoffSeconds.
pub const INITIAL_BACKOFF: SimDuration = SimDuration::from_secs(1);
/// podMaxBackoffSeconds.
pub const MAX_BACKOFF: SimDuration = SimDuration::from_secs(10);
/// podMaxInUnschedulablePodsDuration: unschedulable pods are retried at least this often.
pub const MAX_UNSCHEDULABLE: SimDuration = SimDuration::from_secs(300);
/// How often the unschedulable pods are checked against that limit.
pub const FLUSH_PERIOD: SimDuration = SimDuration::from_secs(30);

/// Backoff after `attempts` failed attempts: 1s, 2s, 4s, 8s, 10s, 10s, ...
pub fn backoff(attempts: u32) -> SimDuration {
    if attempts == 0 {
        return SimDuration::ZERO;
    }
    let mut d = INITIAL_BACKOFF;
    for _ in 1..attempts {
        d = d.saturating_mul(2);
        if d >= MAX_BACKOFF {
            return MAX_BACKOFF;
        }
    }
    d.min(MAX_BACKOFF)
}

#[derive(Debug, Clone)]
struct QueuedPod {
    priority: i32,
    /// When the pod entered the queue (PrioritySort's tie-breaker).
    timestamp: SimTime,
    seq: u64,
    attempts: u32,
    last_attempt: SimTime,
    /// When the pod first entered the queue (scheduling latency).
    pub first_seen: SimTime,
}

type ActiveKey = (Reverse<i32>, SimTime, u64, ObjKey);

#[derive(Debug, Default)]
pub struct SchedulingQueue {
    /// Every queued pod by key (looked up, never listed).
    pods: crate::api::table::LookupMap<ObjKey, QueuedPod>,
    active: BTreeSet<ActiveKey>,
    backoff: BTreeMap<ObjKey, SimTime>,
    unschedulable: BTreeMap<ObjKey, SimTime>,
    seq: u64,
}

/// Where [`SchedulingQueue::requeue`] put a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    Active,
    /// In backoff until this time.
    Backoff(SimTime),
}

impl SchedulingQueue {
    pub fn contains(&self, key: &ObjKey) -> bool {
        self.pods.contains_key(key)
    }
    pub fn active_len(&self) -> usize {
        self.active.len()
    }
    /// Pods waiting in any sub-queue.
    pub fn len(&self) -> usize {
        self.pods.len()
    }
    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }
    pub fn unschedulable_len(&self) -> usize {
        self.unschedulable.len()
    }

    fn push_active(&mut self, key: ObjKey, now: SimTime) {
        let q = self.pods.get_mut(&key).expect("tracked");
        q.timestamp = now;
        self.seq += 1;
        q.seq = self.seq;
        self.active
            .insert((Reverse(q.priority), q.timestamp, q.seq, key));
    }

    /// A new pending pod.
    pub fn add(&mut self, key: ObjKey, priority: i32, now: SimTime) {
        if self.pods.contains_key(&key) {
            return;
        }
        self.pods.insert(
            key.clone(),
            QueuedPod {
                priority,
                timestamp: now,
                seq: 0,
                attempts: 0,
                last_attempt: now,
                first_seen: now,
            },
        );
        self.push_active(key, now);
    }

    /// Forget a pod (bound, deleted).
    pub fn remove(&mut self, key: &ObjKey) {
        if let Some(q) = self.pods.remove(key) {
            self.active
                .remove(&(Reverse(q.priority), q.timestamp, q.seq, key.clone()));
            self.backoff.remove(key);
            self.unschedulable.remove(key);
        }
    }

    /// The next pod to schedule (highest priority, then oldest).
    pub fn pop(&mut self, now: SimTime) -> Option<(ObjKey, SimTime)> {
        let first = self.active.pop_first()?;
        let key = first.3;
        let q = self.pods.get_mut(&key).expect("tracked");
        q.attempts += 1;
        q.last_attempt = now;
        Some((key, q.first_seen))
    }

    /// The attempt failed: park the pod until a cluster event or the flush.
    pub fn mark_unschedulable(&mut self, key: ObjKey, now: SimTime) {
        if self.pods.contains_key(&key) {
            self.unschedulable.insert(key, now);
        }
    }

    /// Move a parked pod back: to activeQ if its backoff is over, else to backoff.
    fn requeue(&mut self, key: ObjKey, now: SimTime) -> Placed {
        self.unschedulable.remove(&key);
        let q = &self.pods[&key];
        let until = q.last_attempt + backoff(q.attempts);
        if until > now {
            self.backoff.insert(key, until);
            Placed::Backoff(until)
        } else {
            self.push_active(key, now);
            Placed::Active
        }
    }

    /// A cluster event that may make pods schedulable: move every unschedulable pod.
    /// Returns the backoff expiry times that need a timer.
    pub fn move_all_unschedulable(&mut self, now: SimTime) -> Vec<SimTime> {
        let keys: Vec<ObjKey> = self.unschedulable.keys().cloned().collect();
        self.requeue_many(keys, now)
    }

    fn requeue_many(&mut self, keys: Vec<ObjKey>, now: SimTime) -> Vec<SimTime> {
        let mut timers = Vec::new();
        for k in keys {
            if let Placed::Backoff(t) = self.requeue(k, now) {
                timers.push(t);
            }
        }
        timers.sort();
        timers.dedup();
        timers
    }

    /// Pods parked for longer than [`MAX_UNSCHEDULABLE`] go back (flushUnschedulablePodsLeftover).
    pub fn flush_unschedulable(&mut self, now: SimTime) -> Vec<SimTime> {
        let keys: Vec<ObjKey> = self
            .unschedulable
            .iter()
            .filter(|(_, since)| **since + MAX_UNSCHEDULABLE <= now)
            .map(|(k, _)| k.clone())
            .collect();
        self.requeue_many(keys, now)
    }

    /// Backoff expired: move the pods whose time has come to activeQ.
    pub fn flush_backoff(&mut self, now: SimTime) {
        let due: Vec<ObjKey> = self
            .backoff
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            self.backoff.remove(&k);
            self.push_active(k, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::from_millis(s * 1000)
    }

    #[test]
    fn backoff_doubles_from_1s_to_10s() {
        let got: Vec<u64> = (1..=6).map(|a| backoff(a).as_millis() / 1000).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn higher_priority_first_then_fifo() {
        let mut q = SchedulingQueue::default();
        q.add(ObjKey::new("d", "low1"), 0, t(0));
        q.add(ObjKey::new("d", "high"), 10, t(1));
        q.add(ObjKey::new("d", "low2"), 0, t(0));
        let order: Vec<String> = std::iter::from_fn(|| q.pop(t(2)))
            .map(|(k, _)| k.name)
            .collect();
        assert_eq!(order, vec!["high", "low1", "low2"]);
    }

    #[test]
    fn failed_pod_waits_for_backoff_after_a_cluster_event() {
        let mut q = SchedulingQueue::default();
        let k = ObjKey::new("d", "p");
        q.add(k.clone(), 0, t(0));
        q.pop(t(0)).unwrap();
        q.mark_unschedulable(k.clone(), t(0));
        // an event right away: still in its 1s backoff
        assert_eq!(q.move_all_unschedulable(t(0)), vec![t(1)]);
        assert!(q.pop(t(0)).is_none());
        q.flush_backoff(t(1));
        assert_eq!(q.pop(t(1)).unwrap().0, k);
    }

    #[test]
    fn unschedulable_pods_return_after_five_minutes() {
        let mut q = SchedulingQueue::default();
        let k = ObjKey::new("d", "p");
        q.add(k.clone(), 0, t(0));
        q.pop(t(0));
        q.mark_unschedulable(k.clone(), t(0));
        q.flush_unschedulable(t(299));
        assert!(q.pop(t(299)).is_none());
        q.flush_unschedulable(t(300));
        assert_eq!(q.pop(t(300)).unwrap().0, k);
    }
}
