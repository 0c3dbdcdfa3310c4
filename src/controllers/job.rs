//! The Job controller (`batch/v1`): runs pods to completion.
//!
//! Modelled on upstream `pkg/controller/job` for NonIndexed Jobs:
//!
//! - a level-triggered sync counts the Job's pods (found through their
//!   controller ownerReference) by phase;
//! - finished pods are counted into `status.succeeded` / `status.failed` once,
//!   as upstream does with its `batch.kubernetes.io/job-tracking` finalizer (so a
//!   pod removed later is not forgotten); a pod deleted by someone else before it
//!   finished counts as failed ("orphan" pods, upstream `isPodFailed`);
//! - the number of pods to keep running is `min(parallelism, completions −
//!   succeeded)`, or for a work-queue Job (no completions) `parallelism` until the
//!   first success and then no new pods; missing pods are created in slow-start
//!   batches (1, 2, 4, ...; at most 500 per sync), extra ones deleted;
//! - the Job is Complete when `succeeded ≥ completions` (work queue: any success)
//!   and no pod is active; it Fails with `BackoffLimitExceeded` when `failed >
//!   backoffLimit`, or with `DeadlineExceeded` once it has been active (not
//!   suspended) for `activeDeadlineSeconds` since `status.startTime` — a sync is
//!   queued for that moment. A failing Job's active pods are deleted and counted
//!   as failed;
//! - a suspended Job deletes its active pods (not counted as failures) and creates
//!   none; resuming restarts the `startTime` clock.

use super::replicaset::rank_for_deletion;
use super::workqueue::WorkQueue;
use super::{generate_name, ControllerId};
use crate::api::job::{Job, JobStatus};
use crate::api::meta::object_ref;
use crate::api::pod::PodPhase;
use crate::api::{Change, Kind, ObjKey, ObjectMeta, OwnerReference, Pod, Uid};
use crate::metrics::EventType;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::SimDuration;
use crate::sim::Ctx;
use std::collections::{BTreeMap, BTreeSet};

pub const COMPONENT: &str = "job-controller";
/// Most pods created or deleted in one sync (upstream `MaxPodCreateDeletePerSync`).
pub const MAX_POD_CREATE_DELETE_PER_SYNC: usize = 500;
/// First slow-start batch (upstream `SlowStartInitialBatchSize`).
const SLOW_START_INITIAL_BATCH: usize = 1;

/// What the controller remembers about one Job's pods (upstream keeps this in
/// the tracking finalizer and `status.uncountedTerminatedPods`).
#[derive(Debug, Default)]
struct Tracking {
    job_uid: Uid,
    /// Pods of this Job seen or created and not yet counted as finished.
    uncounted: BTreeSet<Uid>,
    /// Pods already counted into succeeded/failed (or dropped without counting).
    counted: BTreeSet<Uid>,
    /// Pods this controller deleted (suspend, scale-down): not failures.
    own_deletes: BTreeSet<Uid>,
    /// The Job was seen suspended (for the Suspended/Resumed events).
    suspended: bool,
}

pub struct JobController {
    rng: SimRng,
    queue: WorkQueue,
    tracking: BTreeMap<ObjKey, Tracking>,
}

impl JobController {
    pub fn new(seed: u64, sync_delay: SimDuration) -> Self {
        JobController {
            rng: rng::stream(seed, COMPONENT),
            queue: WorkQueue::new(ControllerId::Job, sync_delay),
            tracking: BTreeMap::new(),
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::Job => self.queue.add(ctx, change.key.clone()),
            Kind::Pod => self.queue.add_owner(ctx, change, Kind::Job),
            _ => {}
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.queue.take(key, ctx.now) {
            self.sync(ctx, key);
        }
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        let Some(job) = ctx.api.get::<Job>(key) else {
            self.tracking.remove(key);
            return;
        };
        if job.meta.deletion_timestamp.is_some() {
            return;
        }
        let job = job.clone();
        if job.status.complete || job.status.failed_reason.is_some() {
            // a finished Job is never synced again (upstream IsJobFinished)
            self.tracking.remove(key);
            return;
        }
        let now = ctx.now;
        let object = object_ref(Kind::Job, key);
        let tr = self.tracking.entry(key.clone()).or_default();
        if tr.job_uid != job.meta.uid {
            *tr = Tracking {
                job_uid: job.meta.uid,
                ..Default::default()
            };
        }

        // Count the pods that finished since the last sync.
        let mut st: JobStatus = job.status.clone();
        let pods: Vec<Pod> = ctx
            .api
            .dependents_of(job.meta.uid, Kind::Pod)
            .filter_map(|k| ctx.api.get::<Pod>(k))
            .filter(|p| {
                p.meta
                    .controller_ref()
                    .is_some_and(|o| o.uid == job.meta.uid)
            })
            .cloned()
            .collect();
        let mut present = BTreeSet::new();
        let mut active: Vec<Pod> = Vec::new();
        for p in pods {
            let uid = p.meta.uid;
            present.insert(uid);
            if tr.counted.contains(&uid) {
                continue;
            }
            let finished = match p.status.phase {
                PodPhase::Succeeded => {
                    st.succeeded += 1;
                    true
                }
                PodPhase::Failed => {
                    st.failed += 1;
                    true
                }
                _ if p.is_terminating() => {
                    if !tr.own_deletes.contains(&uid) {
                        st.failed += 1;
                    }
                    true
                }
                _ => false,
            };
            if finished {
                tr.uncounted.remove(&uid);
                tr.counted.insert(uid);
            } else {
                tr.uncounted.insert(uid);
                active.push(p);
            }
        }
        // Pods that vanished before they were seen finishing.
        let gone: Vec<Uid> = tr
            .uncounted
            .iter()
            .filter(|u| !present.contains(u))
            .copied()
            .collect();
        for uid in gone {
            tr.uncounted.remove(&uid);
            if !tr.own_deletes.contains(&uid) {
                st.failed += 1;
            }
            tr.counted.insert(uid);
        }

        if st.start_time.is_none() && !job.suspend {
            st.start_time = Some(now);
        }

        let failure = if st.failed > job.backoff_limit {
            Some((
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            ))
        } else {
            match (job.active_deadline, st.start_time) {
                (Some(d), Some(start)) if !job.suspend && now >= start + d => Some((
                    "DeadlineExceeded",
                    "Job was active longer than specified deadline",
                )),
                _ => None,
            }
        };

        if let Some((reason, message)) = failure {
            // Delete the active pods; they count as failed (the Job failed).
            for p in &active {
                let pk = p.meta.key();
                if ctx.api.delete::<Pod>(&pk).is_ok() {
                    tr.uncounted.remove(&p.meta.uid);
                    tr.counted.insert(p.meta.uid);
                    st.failed += 1;
                    ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "SuccessfulDelete",
                        object.clone(),
                        format!("Deleted pod: {}", pk.name),
                    );
                }
            }
            st.active = 0;
            st.failed_reason = Some(reason.to_string());
            ctx.event(
                COMPONENT,
                EventType::Warning,
                reason,
                object.clone(),
                message.to_string(),
            );
        } else if job.suspend {
            let n = active.len();
            delete_active(ctx, tr, &mut active, n, &object);
            st.active = active.len() as i32;
            if !tr.suspended {
                tr.suspended = true;
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "Suspended",
                    object.clone(),
                    "Job suspended".to_string(),
                );
            }
        } else {
            if tr.suspended {
                tr.suspended = false;
                // the activeDeadlineSeconds clock restarts on resume
                st.start_time = Some(now);
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "Resumed",
                    object.clone(),
                    "Job resumed".to_string(),
                );
            }
            let want = want_active(&job, st.succeeded, active.len() as i32) as usize;
            if active.len() > want {
                let extra = active.len() - want;
                delete_active(ctx, tr, &mut active, extra, &object);
            } else if active.len() < want {
                let diff = (want - active.len()).min(MAX_POD_CREATE_DELETE_PER_SYNC);
                let mut created = 0;
                let mut batch = SLOW_START_INITIAL_BATCH;
                'batches: while created < diff {
                    let n = batch.min(diff - created);
                    for _ in 0..n {
                        let pod = new_pod(ctx, &mut self.rng, &job);
                        let name = pod.meta.name.clone();
                        match ctx.api.create(pod) {
                            Ok(p) => {
                                let p = p.clone();
                                tr.uncounted.insert(p.meta.uid);
                                active.push(p);
                                created += 1;
                                ctx.event(
                                    COMPONENT,
                                    EventType::Normal,
                                    "SuccessfulCreate",
                                    object.clone(),
                                    format!("Created pod: {name}"),
                                );
                            }
                            Err(e) => {
                                ctx.event(
                                    COMPONENT,
                                    EventType::Warning,
                                    "FailedCreate",
                                    object.clone(),
                                    format!("Error creating: {e}"),
                                );
                                break 'batches;
                            }
                        }
                    }
                    batch *= 2;
                }
            }
            st.active = active.len() as i32;
            let complete = match job.completions {
                None => st.succeeded > 0 && st.active == 0,
                Some(c) => st.succeeded >= c && st.active == 0,
            };
            if complete {
                st.complete = true;
                st.completion_time = Some(now);
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "Completed",
                    object.clone(),
                    "Job completed".to_string(),
                );
            }
        }

        let finished = st.complete || st.failed_reason.is_some();
        if st != job.status {
            let _ = ctx.api.update_status::<Job>(key, |j| j.status = st.clone());
        }
        if finished {
            self.tracking.remove(key);
            return;
        }
        // Look again when the deadline passes.
        if let (Some(d), Some(start), false) = (job.active_deadline, st.start_time, job.suspend) {
            let at = start + d;
            self.queue.add_after(ctx, key.clone(), at.since(now));
        }
    }
}

/// Pods the Job should have running now (upstream `manageJob`, NonIndexed).
fn want_active(job: &Job, succeeded: i32, active: i32) -> i32 {
    match job.completions {
        // work queue: once a pod succeeded, start no new ones
        None if succeeded > 0 => active,
        None => job.parallelism,
        Some(c) => (c - succeeded).min(job.parallelism).max(0),
    }
}

/// Delete `n` of the active pods, least valuable first; they leave `active`.
fn delete_active(
    ctx: &mut Ctx,
    tr: &mut Tracking,
    active: &mut Vec<Pod>,
    n: usize,
    object: &str,
) -> usize {
    let n = n.min(MAX_POD_CREATE_DELETE_PER_SYNC);
    let mut ranked: Vec<&Pod> = active.iter().collect();
    rank_for_deletion(&mut ranked, ctx.now);
    let victims: Vec<(ObjKey, Uid)> = ranked
        .into_iter()
        .take(n)
        .map(|p| (p.meta.key(), p.meta.uid))
        .collect();
    let mut deleted = 0;
    for (pk, uid) in victims {
        if ctx.api.delete::<Pod>(&pk).is_ok() {
            tr.own_deletes.insert(uid);
            active.retain(|p| p.meta.uid != uid);
            deleted += 1;
            ctx.event(
                COMPONENT,
                EventType::Normal,
                "SuccessfulDelete",
                object.to_string(),
                format!("Deleted pod: {}", pk.name),
            );
        }
    }
    deleted
}

fn new_pod(ctx: &Ctx, rng: &mut SimRng, job: &Job) -> Pod {
    let base = format!("{}-", job.meta.name);
    let mut name = generate_name(&base, rng);
    while ctx
        .api
        .get::<Pod>(&ObjKey::new(job.meta.namespace.clone(), name.clone()))
        .is_some()
    {
        name = generate_name(&base, rng);
    }
    let mut meta = ObjectMeta::new(&job.meta.namespace, &name);
    meta.labels = job.template.labels.clone();
    meta.annotations = job.template.annotations.clone();
    meta.owner_references
        .push(OwnerReference::controller_of(Kind::Job, &job.meta));
    Pod {
        meta,
        spec: job.template.spec.clone(),
        node_name: None,
        status: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::PodTemplate;
    use crate::api::selector::LabelSelector;

    fn job(parallelism: i32, completions: Option<i32>) -> Job {
        Job {
            meta: ObjectMeta::new("default", "j"),
            parallelism,
            completions,
            backoff_limit: 6,
            active_deadline: None,
            selector: LabelSelector::default(),
            template: PodTemplate::default(),
            suspend: false,
            status: Default::default(),
        }
    }

    #[test]
    fn want_active_follows_upstream_manage_job() {
        assert_eq!(want_active(&job(2, Some(6)), 0, 0), 2);
        assert_eq!(want_active(&job(2, Some(6)), 5, 0), 1);
        assert_eq!(want_active(&job(2, Some(6)), 6, 0), 0);
        assert_eq!(want_active(&job(2, Some(6)), 7, 1), 0);
        assert_eq!(want_active(&job(3, None), 0, 1), 3);
        assert_eq!(want_active(&job(3, None), 1, 2), 2);
        assert_eq!(want_active(&job(0, Some(3)), 0, 0), 0);
    }
}
