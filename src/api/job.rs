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
