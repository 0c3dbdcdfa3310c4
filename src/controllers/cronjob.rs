//! The CronJob controller (upstream `pkg/controller/cronjob`,
//! `cronjob_controllerv2.go`): Jobs from a template at the times of a cron
//! schedule, evaluated in virtual time (virtual time 0 =
//! [`crate::api::cron::EPOCH`], UTC).
//!
//! One sync:
//! 1. the CronJob's Jobs are read: a finished one leaves `status.active`
//!    (`SawCompletedJob`; a successful one sets `lastSuccessfulTime`), an
//!    active Job gone from the store is reported (`MissingJob`);
//! 2. finished Jobs beyond `successfulJobsHistoryLimit` (3) and
//!    `failedJobsHistoryLimit` (1) are deleted, oldest first (`SuccessfulDelete`);
//! 3. unless suspended, the most recent scheduled time since the last one
//!    (or since creation, or since `now − startingDeadlineSeconds`) that is
//!    due is handled: too late for `startingDeadlineSeconds` → `MissSchedule`;
//!    `Forbid` with a Job still active → `JobAlreadyActive`, and the time stays
//!    unhandled (it starts late when the Job finishes, if still within the
//!    deadline — as upstream); `Replace` deletes the active Jobs first; then a
//!    Job `<cronjob>-<scheduled minutes since the Unix epoch>` is created
//!    (`SuccessfulCreate`). More than 100 missed times → `TooManyMissedTimes`;
//! 4. a sync is queued for the next scheduled time.

use super::workqueue::WorkQueue;
use super::ControllerId;
use crate::api::cron::{format_minute, minute_of, time_of};
use crate::api::job::{ConcurrencyPolicy, CronJob, Job};
use crate::api::meta::object_ref;
use crate::api::{Change, Kind, ObjKey, OwnerReference};
use crate::manifest::convert_batch::generate_selector;
use crate::metrics::EventType;
use crate::sim::time::SimDuration;
use crate::sim::Ctx;

pub const COMPONENT: &str = "cronjob-controller";
/// The annotation with a Job's scheduled time (RFC 3339).
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// More missed start times than this are not counted one by one (upstream).
const MAX_MISSED: usize = 100;

/// The Job name for a scheduled time (upstream `getJobName`).
pub fn job_name(cronjob: &str, minute: i64) -> String {
    format!("{cronjob}-{minute}")
}

/// The most recent scheduled minute in `(earliest, now]` and how many there
/// were (counting stops past [`MAX_MISSED`]); upstream `mostRecentScheduleTime`.
pub fn most_recent(cj: &CronJob, earliest: i64, now: i64) -> (Option<i64>, usize) {
    let mut last = None;
    let mut n = 0;
    let mut t = earliest;
    while let Some(next) = cj.schedule.next_after(t) {
        if next > now {
            break;
        }
        last = Some(next);
        n += 1;
        if n > MAX_MISSED {
            // jump: the most recent one is all that matters
            let mut m = next;
            while let Some(x) = cj.schedule.next_after(m).filter(|x| *x <= now) {
                m = x;
            }
            return (Some(m), n);
        }
        t = next;
    }
    (last, n)
}

pub struct CronJobController {
    queue: WorkQueue,
}

impl CronJobController {
    pub fn new(sync_delay: SimDuration) -> Self {
        CronJobController {
            queue: WorkQueue::new(ControllerId::CronJob, sync_delay),
        }
    }

    pub fn on_watch(&mut self, ctx: &mut Ctx, change: &Change) {
        match change.kind {
            Kind::CronJob => self.queue.add(ctx, change.key.clone()),
            Kind::Job => self.queue.add_owner(ctx, change, Kind::CronJob),
            _ => {}
        }
    }

    pub fn on_sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        if self.queue.take(key, ctx.now) {
            self.sync(ctx, key);
        }
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &ObjKey) {
        let Some(cj) = ctx.api.get::<CronJob>(key) else {
            return;
        };
        if cj.meta.deletion_timestamp.is_some() {
            return;
        }
        let cj = cj.clone();
        let now = ctx.now;
        let now_min = minute_of(now);
        let object = object_ref(Kind::CronJob, key);
        let ns = key.namespace.clone();
        let mut status = cj.status.clone();

        // 1. the Jobs it owns
        let mut jobs: Vec<Job> = ctx
            .api
            .dependents_of(cj.meta.uid, Kind::Job)
            .filter_map(|k| ctx.api.get::<Job>(k))
            .filter(|j| {
                j.meta
                    .controller_ref()
                    .is_some_and(|o| o.uid == cj.meta.uid)
            })
            .cloned()
            .collect();
        for j in &jobs {
            let finished = j.status.complete || j.status.failed_reason.is_some();
            let listed = status.active.contains(&j.meta.name);
            if !finished && !listed && j.meta.deletion_timestamp.is_none() {
                status.active.push(j.meta.name.clone());
            } else if finished && listed {
                status.active.retain(|n| *n != j.meta.name);
                let condition = if j.status.complete {
                    "Complete"
                } else {
                    "Failed"
                };
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "SawCompletedJob",
                    object.clone(),
                    format!("Saw completed job: {}, condition: {condition}", j.meta.name),
                );
                if j.status.complete {
                    let t = j.status.completion_time.unwrap_or(now);
                    if status.last_successful_time.is_none_or(|x| x < t) {
                        status.last_successful_time = Some(t);
                    }
                }
            }
        }
        let gone: Vec<String> = status
            .active
            .iter()
            .filter(|n| !jobs.iter().any(|j| j.meta.name == **n))
            .cloned()
            .collect();
        for n in gone {
            status.active.retain(|x| *x != n);
            ctx.event(
                COMPONENT,
                EventType::Warning,
                "MissingJob",
                object.clone(),
                format!("Active job went missing: {n}"),
            );
        }

        // 2. history limits, oldest (by start time, then name) first
        jobs.sort_by(|a, b| {
            (a.status.start_time, &a.meta.name).cmp(&(b.status.start_time, &b.meta.name))
        });
        for (succeeded, limit) in [
            (true, cj.successful_jobs_history_limit),
            (false, cj.failed_jobs_history_limit),
        ] {
            let finished: Vec<&Job> = jobs
                .iter()
                .filter(|j| j.meta.deletion_timestamp.is_none())
                .filter(|j| {
                    if succeeded {
                        j.status.complete
                    } else {
                        j.status.failed_reason.is_some()
                    }
                })
                .collect();
            let extra = finished.len().saturating_sub(limit.max(0) as usize);
            for j in finished.into_iter().take(extra) {
                let jk = j.meta.key();
                if ctx.api.delete::<Job>(&jk).is_ok() {
                    ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "SuccessfulDelete",
                        object.clone(),
                        format!("Deleted job {}", jk.name),
                    );
                }
            }
        }

        // 3. the schedule
        if !cj.suspend {
            self.schedule(ctx, &cj, &object, &ns, now_min, &mut status);
        }
        if status != cj.status {
            let _ = ctx.api.update_status::<CronJob>(key, |c| c.status = status);
        }
        // 4. look again at the next scheduled time
        if !cj.suspend {
            if let Some(next) = cj.schedule.next_after(now_min) {
                let at = time_of(next);
                self.queue.add_after(ctx, key.clone(), at.since(now));
            }
        }
    }

    fn schedule(
        &mut self,
        ctx: &mut Ctx,
        cj: &CronJob,
        object: &str,
        ns: &str,
        now_min: i64,
        status: &mut crate::api::job::CronJobStatus,
    ) {
        let now = ctx.now;
        let mut earliest = status
            .last_schedule_minute
            .unwrap_or_else(|| minute_of(cj.meta.creation_timestamp));
        // nothing older than the deadline is considered (upstream
        // `mostRecentScheduleTime`): times strictly after now − deadline
        if let Some(d) = cj.starting_deadline {
            if let Some(ms) = now.as_millis().checked_sub(d.as_millis()) {
                earliest = earliest.max(minute_of(crate::sim::time::SimTime::from_millis(ms)));
            }
        }
        let (Some(t), missed) = most_recent(cj, earliest, now_min) else {
            return;
        };
        if missed > MAX_MISSED {
            ctx.event(
                COMPONENT,
                EventType::Warning,
                "TooManyMissedTimes",
                object.to_string(),
                format!("too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew"),
            );
        }
        if let Some(d) = cj.starting_deadline {
            if time_of(t) + d < now {
                ctx.event(
                    COMPONENT,
                    EventType::Warning,
                    "MissSchedule",
                    object.to_string(),
                    format!(
                        "Missed scheduled time to start a job: {}",
                        crate::api::cron::format_rfc1123z(t)
                    ),
                );
                return;
            }
        }
        if cj.concurrency_policy == ConcurrencyPolicy::Forbid && !status.active.is_empty() {
            ctx.decision(
                COMPONENT,
                "ConcurrencyPolicy",
                object.to_string(),
                (
                    format!("active jobs {:?}", status.active),
                    format!("a Job for {}", format_minute(t)),
                    "skip".into(),
                ),
                "concurrencyPolicy Forbid: the scheduled time waits while a Job is active".into(),
            );
            ctx.event(
                COMPONENT,
                EventType::Normal,
                "JobAlreadyActive",
                object.to_string(),
                "Not starting job because prior execution is running and concurrency policy is Forbid".into(),
            );
            return;
        }
        if cj.concurrency_policy == ConcurrencyPolicy::Replace {
            for n in std::mem::take(&mut status.active) {
                let jk = ObjKey::new(ns, n.clone());
                if ctx.api.delete::<Job>(&jk).is_ok() {
                    ctx.event(
                        COMPONENT,
                        EventType::Normal,
                        "SuccessfulDelete",
                        object.to_string(),
                        format!("Deleted job {n}"),
                    );
                }
            }
        }
        let name = job_name(&cj.meta.name, t);
        let jk = ObjKey::new(ns, name.clone());
        if ctx.api.get::<Job>(&jk).is_some() {
            // already created for this time (upstream: AlreadyExists → processed)
            status.last_schedule_minute = Some(t);
            return;
        }
        let mut job = (*cj.job_template).clone();
        job.meta.name = name.clone();
        job.meta.namespace = ns.to_string();
        job.meta
            .annotations
            .insert(SCHEDULED_TIMESTAMP.into(), format_minute(t));
        job.meta
            .owner_references
            .push(OwnerReference::controller_of(Kind::CronJob, &cj.meta));
        generate_selector(&mut job);
        match ctx.api.create(job) {
            Ok(_) => {
                status.active.push(name.clone());
                status.last_schedule_minute = Some(t);
                let late = now.since(time_of(t));
                ctx.event(
                    COMPONENT,
                    EventType::Normal,
                    "SuccessfulCreate",
                    object.to_string(),
                    format!("Created job {name}"),
                );
                if late > SimDuration::from_secs(60) {
                    ctx.decision(
                        COMPONENT,
                        "LateStart",
                        object.to_string(),
                        (
                            format!("scheduled time {} passed {late} ago", format_minute(t)),
                            "a Job per scheduled time".into(),
                            format!("create {name} late"),
                        ),
                        format!(
                            "Starting the Job for {} late (it was not handled in time)",
                            format_minute(t)
                        ),
                    );
                }
            }
            Err(e) => ctx.event(
                COMPONENT,
                EventType::Warning,
                "FailedCreate",
                object.to_string(),
                format!("Error creating job: {e}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::cron::{Schedule, EPOCH_MINUTES};

    fn cj(s: &str) -> CronJob {
        CronJob {
            meta: crate::api::ObjectMeta::new("default", "c"),
            schedule_text: s.into(),
            schedule: Schedule::parse(s).unwrap(),
            concurrency_policy: ConcurrencyPolicy::Allow,
            starting_deadline: None,
            suspend: false,
            successful_jobs_history_limit: 3,
            failed_jobs_history_limit: 1,
            job_template: Box::new(Job {
                meta: Default::default(),
                parallelism: 1,
                completions: Some(1),
                backoff_limit: 6,
                active_deadline: None,
                selector: Default::default(),
                template: Default::default(),
                suspend: false,
                status: Default::default(),
            }),
            status: Default::default(),
        }
    }

    #[test]
    fn most_recent_time_counts_the_missed_ones() {
        let c = cj("*/10 * * * *");
        let t0 = EPOCH_MINUTES;
        assert_eq!(most_recent(&c, t0, t0 + 9), (None, 0));
        assert_eq!(most_recent(&c, t0, t0 + 10), (Some(t0 + 10), 1));
        assert_eq!(most_recent(&c, t0, t0 + 35), (Some(t0 + 30), 3));
        // a day of */10 is 144 > 100 times: the most recent still comes back
        assert_eq!(most_recent(&c, t0, t0 + 1440).0, Some(t0 + 1440));
    }

    #[test]
    fn job_names_carry_the_scheduled_minute() {
        assert_eq!(job_name("backup", EPOCH_MINUTES + 60), "backup-29453820");
    }
}
