//! Jobs (`batch/v1`): run pods to completion.

use super::meta::ObjectMeta;
use super::pod::PodTemplate;
use super::selector::LabelSelector;
use crate::sim::time::{SimDuration, SimTime};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobStatus {
    pub active: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub start_time: Option<SimTime>,
    pub completion_time: Option<SimTime>,
    /// Condition Complete=True.
    pub complete: bool,
    /// Condition Failed=True, with its reason (`BackoffLimitExceeded`, `DeadlineExceeded`).
    pub failed_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub meta: ObjectMeta,
    /// Pods running at once (default 1).
    pub parallelism: i32,
    /// Successful pods needed (default 1; `None` = work-queue Job: done when any pod succeeds).
    pub completions: Option<i32>,
    /// Failed pods tolerated before the Job fails (default 6).
    pub backoff_limit: i32,
    pub active_deadline: Option<SimDuration>,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    pub suspend: bool,
    pub status: JobStatus,
}

/// `spec.concurrencyPolicy` of a CronJob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConcurrencyPolicy {
    /// Start Jobs even while earlier ones run.
    #[default]
    Allow,
    /// Skip a scheduled time while a Job is still active.
    Forbid,
    /// Delete the active Jobs and start the new one.
    Replace,
}

impl ConcurrencyPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConcurrencyPolicy::Allow => "Allow",
            ConcurrencyPolicy::Forbid => "Forbid",
            ConcurrencyPolicy::Replace => "Replace",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CronJobStatus {
    /// Jobs the CronJob started that are still running, by name.
    pub active: Vec<String>,
    /// The Unix minute of the last scheduled time a Job was created for.
    pub last_schedule_minute: Option<i64>,
    pub last_successful_time: Option<SimTime>,
}

/// `batch/v1` CronJob: Jobs from `job_template` at the times of `schedule`.
#[derive(Debug, Clone, PartialEq)]
pub struct CronJob {
    pub meta: ObjectMeta,
    /// The schedule as written (for kubectl columns).
    pub schedule_text: String,
    pub schedule: super::cron::Schedule,
    pub concurrency_policy: ConcurrencyPolicy,
    /// A scheduled time missed by more than this is skipped.
    pub starting_deadline: Option<SimDuration>,
    pub suspend: bool,
    pub successful_jobs_history_limit: i32,
    pub failed_jobs_history_limit: i32,
    /// `spec.jobTemplate`: labels and annotations of the Jobs, and their spec
    /// (a Job whose meta carries the template's labels and annotations).
    pub job_template: Box<Job>,
    pub status: CronJobStatus,
}
