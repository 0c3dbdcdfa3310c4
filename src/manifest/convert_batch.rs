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

    // Defaulting (SetDefaults_Job): when neither completions nor parallelism is
    // set, both become 1; a missing parallelism alone becomes 1, and a missing
    // completions with parallelism set stays unset (a work-queue Job).
    let parallelism_in = non_negative(s.parallelism, "spec.parallelism", loc, &mut errors);
    let completions_in = non_negative(s.completions, "spec.completions", loc, &mut errors);
    let (parallelism, completions) = match (s.parallelism, s.completions) {
        (None, None) => (1, Some(1)),
        _ => (parallelism_in.unwrap_or(1), completions_in),
    };
    let backoff_limit = non_negative(s.backoff_limit, "spec.backoffLimit", loc, &mut errors)
        .unwrap_or(DEFAULT_BACKOFF_LIMIT);
    let active_deadline = match s.active_deadline_seconds {
        Some(x) if x < 0 => {
            errors.push(loc.at_value(
                "spec.activeDeadlineSeconds",
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
    super::convert::check_labels(&labels, "spec.template.metadata.labels", loc, &mut errors);

    let mut selector = match s.selector {
        Some(sel) => conv_selector(sel, "spec.selector", loc, &mut errors),
        None if manual => {
            errors.push(loc.at("spec", "spec.selector: Required value"));
            LabelSelector::default()
        }
        None => LabelSelector::default(),
    };
    if !manual {
        for key in [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL] {
            labels
                .entry(key.to_string())
                .or_insert_with(|| meta.name.clone());
        }
        match selector.match_labels.get(JOB_NAME_LABEL) {
            Some(v) if *v != meta.name => errors.push(loc.at_value(
                &format!("spec.selector.matchLabels.{JOB_NAME_LABEL}"),
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
            "spec.template.metadata.labels",
            format!(
                "Invalid value: {labels:?}: `selector` does not match template `labels` (selector {selector})"
            ),
        ));
    }

    let spec = match t.spec {
        Some(ps) => conv_pod_spec(ps, "spec.template.spec", loc, &mut errors).0,
        None => {
            errors.push(loc.at("spec.template", "spec.template.spec is required"));
            PodSpec {
                restart_policy: RestartPolicy::Never,
                ..PodSpec::default()
            }
        }
    };
    if spec.restart_policy == RestartPolicy::Always {
        errors.push(loc.at_value(
            "spec.template.spec.restartPolicy",
            "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"",
        ));
    }

    done(
        AnyObject::Job(Job {
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
        }),
        errors,
    )
}
