//! The pod garbage collector's sweep of finished pods (upstream
//! `pkg/controller/podgc`, `gcTerminated`): when more than
//! `--terminated-pod-gc-threshold` (default 12,500) pods have Succeeded or
//! Failed, the oldest of them (by creation time, then name) are deleted down to
//! the threshold, at most once per `gcCheckPeriod` (20 s). Without it a long
//! trace replay keeps every finished pod in the store and memory grows with the
//! trace. The set of finished pods is kept from the API's changes, so a sweep
//! never scans the store.

use crate::api::{ApiServer, ObjKey, Pod};
use crate::metrics::{EventType, Recorder};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::BTreeSet;

pub const COMPONENT: &str = "pod-garbage-collector";
/// `--terminated-pod-gc-threshold`.
pub const DEFAULT_THRESHOLD: usize = 12_500;
/// `gcCheckPeriod`.
pub const CHECK_PERIOD: SimDuration = SimDuration::from_secs(20);

pub struct PodGc {
    threshold: usize,
    /// Finished pods, oldest first.
    finished: BTreeSet<(SimTime, ObjKey)>,
    /// The finished pods' creation times, to find their entries in `finished`
    /// (looked up by key only, on every pod write).
    created: crate::api::table::LookupMap<ObjKey, SimTime>,
    last_sweep: Option<SimTime>,
}

impl PodGc {
    pub fn new(threshold: usize) -> Self {
        PodGc {
            threshold,
            finished: BTreeSet::new(),
            created: crate::api::table::lookup_map(),
            last_sweep: None,
        }
    }

    /// A pod changed: note whether it has finished.
    pub fn observe(&mut self, api: &ApiServer, key: &ObjKey) {
        match api.get::<Pod>(key) {
            Some(p) if p.status.phase.is_terminal() => {
                let t = p.meta.creation_timestamp;
                if self.created.get(key) != Some(&t) {
                    if let Some(old) = self.created.insert(key.clone(), t) {
                        self.finished.remove(&(old, key.clone()));
                    }
                    self.finished.insert((t, key.clone()));
                }
            }
            _ => {
                if let Some(t) = self.created.remove(key) {
                    self.finished.remove(&(t, key.clone()));
                }
            }
        }
    }

    /// Whether a sweep would delete something (keeps the periodic checks going).
    pub fn has_work(&self) -> bool {
        self.finished.len() > self.threshold
    }

    /// Delete the oldest finished pods beyond the threshold, if a check period
    /// has passed since the last sweep.
    pub fn sweep(&mut self, api: &mut ApiServer, rec: &mut Recorder, now: SimTime) {
        if self.last_sweep.is_some_and(|t| now < t + CHECK_PERIOD) {
            return;
        }
        self.last_sweep = Some(now);
        let excess = self.finished.len().saturating_sub(self.threshold);
        if excess == 0 {
            return;
        }
        let victims: Vec<ObjKey> = self
            .finished
            .iter()
            .take(excess)
            .map(|(_, k)| k.clone())
            .collect();
        for k in &victims {
            let _ = api.delete::<Pod>(k);
            self.observe(api, k);
        }
        rec.event(
            now,
            COMPONENT,
            EventType::Normal,
            "PodGC",
            "pods".to_string(),
            format!(
                "deleted {} finished pods, oldest first: {} were over the threshold of {}",
                victims.len(),
                excess + self.threshold,
                self.threshold
            ),
        );
    }
}
