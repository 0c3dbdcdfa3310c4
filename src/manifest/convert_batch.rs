//! `batch/v1` manifests → kubesim objects, with the API server's defaulting and
//! validation (upstream `pkg/apis/batch/v1/defaults.go`,
//! `pkg/apis/batch/validation/validation.go`, `pkg/registry/batch/job/strategy.go`).

use super::convert::{conv_meta, conv_pod_spec, conv_selector, done, err, Errors};
use crate::api::job::Job;
use crate::api::pod::{PodSpec, PodTemplate, RestartPolicy};
use crate::api::selector::LabelSelector;
use crate::api::AnyObject;
use crate::diag::Loc;
use crate::sim::time::SimDuration;
use k8s_openapi::api::batch::v1 as batch;
use std::sync::Arc;

/// The label the API server puts on a Job's pods and in its generated selector.
/// (Upstream also adds `batch.kubernetes.io/controller-uid`; kubesim's objects
/// have no UIDs, so the Job's name, unique in its namespace, stands in for it.)
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
/// The legacy label upstream still sets next to [`JOB_NAME_LABEL`].
pub const LEGACY_JOB_NAME_LABEL: &str = "job-name";

/// Upstream's `SetDefaults_Job`: backoffLimit 6.
const DEFAULT_BACKOFF_LIMIT: i32 = 6;

fn non_negative(v: Option<i32>, path: &str, loc: &Loc, errors: &mut Errors) -> Option<i32> {
    match v {
        Some(x) if x < 0 => {
            errors.push(loc.at_value(
                path,
                format!("Invalid value: {x}: must be greater than or equal to 0"),
            ));
            None
        }
        other => other,
    }
}

pub fn conv_job(o: batch::Job, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let Some(s) = o.spec else {
        return Err(err(loc, "", "a Job needs a spec"));
    };
    let job = job_from_spec(meta, s, "spec.", true, loc, &mut errors);
    done(AnyObject::Job(job), errors)
}

/// A Job's spec at `prefix` (`spec.` for a Job, `spec.jobTemplate.spec.` for a
/// CronJob's template), defaulted and validated. `generate` adds the job-name
/// labels and selector now; a CronJob's Jobs get them when they are created.
pub(crate) fn job_from_spec(
    meta: crate::api::ObjectMeta,
    s: batch::JobSpec,
    prefix: &str,
    generate: bool,
    loc: &Loc,
    errors: &mut Errors,
) -> Job {
    let p = |f: &str| format!("{prefix}{f}");
    // Defaulting (SetDefaults_Job): when neither completions nor parallelism is
    // set, both become 1; a missing parallelism alone becomes 1, and a missing
    // completions with parallelism set stays unset (a work-queue Job).
    let parallelism_in = non_negative(s.parallelism, &p("parallelism"), loc, errors);
    let completions_in = non_negative(s.completions, &p("completions"), loc, errors);
    let (parallelism, completions) = match (s.parallelism, s.completions) {
        (None, None) => (1, Some(1)),
        _ => (parallelism_in.unwrap_or(1), completions_in),
    };
    let backoff_limit = non_negative(s.backoff_limit, &p("backoffLimit"), loc, errors)
        .unwrap_or(DEFAULT_BACKOFF_LIMIT);
    let active_deadline = match s.active_deadline_seconds {
        Some(x) if x < 0 => {
            errors.push(loc.at_value(
                &p("activeDeadlineSeconds"),
                format!("Invalid value: {x}: must be greater than or equal to 0"),
            ));
            None
        }
        Some(x) => Some(SimDuration::from_secs(x as u64)),
        None => None,
    };
    let suspend = s.suspend.unwrap_or(false);
    let manual = s.manual_selector.unwrap_or(false);

    // Template metadata; with an automatic selector the API server adds the
    // job-name labels to the template (strategy.go generateSelector).
    let t = s.template;
    let (mut labels, annotations) = match t.metadata {
        Some(m) => (
            m.labels.unwrap_or_default(),
            m.annotations.unwrap_or_default(),
        ),
        None => Default::default(),
    };
    super::convert::check_labels(&labels, &p("template.metadata.labels"), loc, errors);

    let mut selector = match s.selector {
        Some(sel) => conv_selector(sel, &p("selector"), loc, errors),
        None if manual => {
            errors.push(loc.at(
                prefix.trim_end_matches('.'),
                format!("{}: Required value", p("selector")),
            ));
            LabelSelector::default()
        }
        None => LabelSelector::default(),
    };
    if !manual && generate {
        for key in [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL] {
            labels
                .entry(key.to_string())
                .or_insert_with(|| meta.name.clone());
        }
        match selector.match_labels.get(JOB_NAME_LABEL) {
            Some(v) if *v != meta.name => errors.push(loc.at_value(
                &p(&format!("selector.matchLabels.{JOB_NAME_LABEL}")),
                "Invalid value: `selector` not auto-generated",
            )),
            _ => {
                selector
                    .match_labels
                    .insert(JOB_NAME_LABEL.to_string(), meta.name.clone());
            }
        }
    }
    if !selector.is_empty() && !selector.matches(&labels) {
        errors.push(loc.at(
            &p("template.metadata.labels"),
            format!(
                "Invalid value: {labels:?}: `selector` does not match template `labels` (selector {selector})"
            ),
        ));
    }

    let spec = match t.spec {
        Some(ps) => conv_pod_spec(ps, &p("template.spec"), loc, errors).0,
        None => {
            errors.push(loc.at(
                &p("template"),
                format!("{} is required", p("template.spec")),
            ));
            PodSpec {
                restart_policy: RestartPolicy::Never,
                ..PodSpec::default()
            }
        }
    };
    if spec.restart_policy == RestartPolicy::Always {
        errors.push(loc.at_value(
            &p("template.spec.restartPolicy"),
            "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"",
        ));
    }

    Job {
        meta,
        parallelism,
        completions,
        backoff_limit,
        active_deadline,
        selector,
        template: PodTemplate {
            labels,
            annotations,
            spec: Arc::new(spec),
        },
        suspend,
        status: Default::default(),
    }
}

/// Upstream `SetDefaults_CronJob`: successfulJobsHistoryLimit 3, failedJobsHistoryLimit 1.
pub const DEFAULT_SUCCESSFUL_JOBS_HISTORY_LIMIT: i32 = 3;
pub const DEFAULT_FAILED_JOBS_HISTORY_LIMIT: i32 = 1;

pub fn conv_cronjob(o: batch::CronJob, loc: &Loc) -> Result<AnyObject, Errors> {
    use crate::api::cron::Schedule;
    use crate::api::job::{ConcurrencyPolicy, CronJob};
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let s = o.spec;
    // upstream: a CronJob name is at most 52 characters (Job name + 11-character suffix)
    if meta.name.len() > 52 {
        errors.push(loc.at_value(
            "metadata.name",
            "must be no more than 52 characters (the Jobs it creates add a suffix)",
        ));
    }
    let schedule = match Schedule::parse(&s.schedule) {
        Ok(sch) => sch,
        Err(m) => {
            errors.push(loc.at_value("spec.schedule", format!("Invalid value: {m}")));
            Schedule::parse("* * * * *").expect("a valid schedule")
        }
    };
    if let Some(tz) = s.time_zone.as_deref() {
        if tz != "UTC" && tz != "Etc/UTC" {
            errors.push(loc.at_value(
                "spec.timeZone",
                format!("Unsupported value: {tz:?}: kubesim evaluates schedules in UTC only (virtual time 0 = {})", crate::api::cron::EPOCH),
            ));
        }
    }
    let concurrency_policy = match s.concurrency_policy.as_deref() {
        None | Some("Allow") => ConcurrencyPolicy::Allow,
        Some("Forbid") => ConcurrencyPolicy::Forbid,
        Some("Replace") => ConcurrencyPolicy::Replace,
        Some(x) => {
            errors.push(loc.at_value(
                "spec.concurrencyPolicy",
                format!("Unsupported value: {x:?}: supported values: \"Allow\", \"Forbid\", \"Replace\""),
            ));
            ConcurrencyPolicy::Allow
        }
    };
    let starting_deadline = match s.starting_deadline_seconds {
        Some(x) if x < 0 => {
            errors.push(loc.at_value(
                "spec.startingDeadlineSeconds",
                format!("Invalid value: {x}: must be greater than or equal to 0"),
            ));
            None
        }
        Some(x) => Some(SimDuration::from_secs(x as u64)),
        None => None,
    };
    let successful = non_negative(
        s.successful_jobs_history_limit,
        "spec.successfulJobsHistoryLimit",
        loc,
        &mut errors,
    )
    .unwrap_or(DEFAULT_SUCCESSFUL_JOBS_HISTORY_LIMIT);
    let failed = non_negative(
        s.failed_jobs_history_limit,
        "spec.failedJobsHistoryLimit",
        loc,
        &mut errors,
    )
    .unwrap_or(DEFAULT_FAILED_JOBS_HISTORY_LIMIT);
    let jt = s.job_template;
    let mut jmeta = crate::api::ObjectMeta::new(&meta.namespace, "");
    if let Some(m) = jt.metadata {
        jmeta.labels = m.labels.unwrap_or_default();
        super::convert::check_labels(
            &jmeta.labels,
            "spec.jobTemplate.metadata.labels",
            loc,
            &mut errors,
        );
        jmeta.annotations = m.annotations.unwrap_or_default();
    }
    let job_template = match jt.spec {
        Some(js) => job_from_spec(jmeta, js, "spec.jobTemplate.spec.", false, loc, &mut errors),
        None => {
            errors.push(loc.at("spec.jobTemplate", "spec.jobTemplate.spec is required"));
            return Err(errors);
        }
    };
    done(
        AnyObject::CronJob(CronJob {
            meta,
            schedule_text: s.schedule,
            schedule,
            concurrency_policy,
            starting_deadline,
            suspend: s.suspend.unwrap_or(false),
            successful_jobs_history_limit: successful,
            failed_jobs_history_limit: failed,
            job_template: Box::new(job_template),
            status: Default::default(),
        }),
        errors,
    )
}

/// What the API server does to a new Job without a manual selector
/// (`generateSelector`): job-name labels on the template and in the selector.
pub fn generate_selector(job: &mut Job) {
    for key in [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL] {
        job.template
            .labels
            .entry(key.to_string())
            .or_insert_with(|| job.meta.name.clone());
    }
    job.selector
        .match_labels
        .insert(JOB_NAME_LABEL.to_string(), job.meta.name.clone());
}
