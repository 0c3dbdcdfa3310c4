//! `apps/v1` StatefulSets and DaemonSets and `v1` ReplicationControllers →
//! kubesim objects, with upstream defaulting (`pkg/apis/apps/v1/defaults.go`,
//! `pkg/apis/core/v1/defaults.go`) and the validation kubesim relies on.

use super::convert::{
    conv_meta, conv_selector, conv_template, done, err, int_or_percent, replicas, seconds, Errors,
};
use super::convert_storage::{access_modes, storage_quantity};
use crate::api::apps::{
    DaemonSet, DaemonSetUpdateStrategy, PodManagementPolicy, ReplicationController, StatefulSet,
    StatefulSetUpdateStrategy,
};
use crate::api::meta::validate_dns1123_subdomain;
use crate::api::pod::{PodTemplate, RestartPolicy};
use crate::api::selector::LabelSelector;
use crate::api::storage::{ClaimPhase, PersistentVolumeClaim};
use crate::api::workload::IntOrPercent;
use crate::api::{AnyObject, ObjectMeta};
use crate::diag::Loc;
use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};

/// Workload templates must restart their containers (`Always`), as upstream validates.
fn restart_always(t: &PodTemplate, loc: &Loc, errors: &mut Errors) {
    if t.spec.restart_policy != RestartPolicy::Always {
        errors.push(loc.at_value(
            "spec.template.spec.restartPolicy",
            "Unsupported value: only \"Always\" is supported for this kind",
        ));
    }
}

fn history_limit(v: Option<i32>, loc: &Loc, errors: &mut Errors) -> i32 {
    match v {
        Some(x) if x < 0 => {
            errors.push(loc.at_value(
                "spec.revisionHistoryLimit",
                "must be greater than or equal to 0",
            ));
            10
        }
        Some(x) => x,
        None => 10,
    }
}

pub fn conv_statefulset(o: apps::StatefulSet, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let s = o.spec;
    let replicas = replicas(s.replicas, loc, &mut errors);
    let selector = conv_selector(s.selector, "spec.selector", loc, &mut errors);
    let template = conv_template(s.template, &selector, loc, &mut errors);
    restart_always(&template, loc, &mut errors);
    let pod_management_policy = match s.pod_management_policy.as_deref() {
        None | Some("OrderedReady") => PodManagementPolicy::OrderedReady,
        Some("Parallel") => PodManagementPolicy::Parallel,
        Some(x) => {
            errors.push(loc.at_value(
                "spec.podManagementPolicy",
                format!(
                    "Unsupported value: {x:?}: supported values: \"OrderedReady\", \"Parallel\""
                ),
            ));
            PodManagementPolicy::OrderedReady
        }
    };
    let update_strategy = match s.update_strategy {
        None => StatefulSetUpdateStrategy::default(),
        Some(st) => match st.type_.as_deref() {
            None | Some("RollingUpdate") => {
                let ru = st.rolling_update.unwrap_or_default();
                if let Some(mu) = &ru.max_unavailable {
                    let v = int_or_percent(
                        mu,
                        "spec.updateStrategy.rollingUpdate.maxUnavailable",
                        loc,
                        &mut errors,
                    );
                    if !matches!(v, IntOrPercent::Int(1)) {
                        errors.push(loc.at_value(
                            "spec.updateStrategy.rollingUpdate.maxUnavailable",
                            "kubesim supports only maxUnavailable 1 for StatefulSets (the default; larger values are an alpha feature upstream)",
                        ));
                    }
                }
                let partition = match ru.partition {
                    Some(p) if p < 0 => {
                        errors.push(loc.at_value(
                            "spec.updateStrategy.rollingUpdate.partition",
                            format!("Invalid value: {p}: must be greater than or equal to 0"),
                        ));
                        0
                    }
                    Some(p) => p,
                    None => 0,
                };
                StatefulSetUpdateStrategy::RollingUpdate { partition }
            }
            Some("OnDelete") => {
                if st.rolling_update.is_some() {
                    errors.push(loc.at(
                        "spec.updateStrategy.rollingUpdate",
                        "only allowed for updateStrategy 'RollingUpdate'",
                    ));
                }
                StatefulSetUpdateStrategy::OnDelete
            }
            Some(t) => {
                errors.push(loc.at_value(
                    "spec.updateStrategy.type",
                    format!("Unsupported value: {t:?}: supported values: \"OnDelete\", \"RollingUpdate\""),
                ));
                StatefulSetUpdateStrategy::default()
            }
        },
    };
    if let Some(o) = &s.ordinals {
        if o.start.unwrap_or(0) != 0 {
            errors.push(loc.at_value(
                "spec.ordinals.start",
                "kubesim numbers StatefulSet pods from 0 only",
            ));
        }
    }
    if let Some(p) = &s.persistent_volume_claim_retention_policy {
        for (f, v) in [
            ("whenDeleted", &p.when_deleted),
            ("whenScaled", &p.when_scaled),
        ] {
            if let Some(v) = v.as_deref().filter(|v| *v != "Retain") {
                errors.push(loc.at_value(
                    &format!("spec.persistentVolumeClaimRetentionPolicy.{f}"),
                    format!("Unsupported value: {v:?}: kubesim keeps claims (Retain) only"),
                ));
            }
        }
    }
    let mut claims = Vec::new();
    for (i, c) in s
        .volume_claim_templates
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let p = format!("spec.volumeClaimTemplates[{i}]");
        let name = c.metadata.name.clone().unwrap_or_default();
        if name.is_empty() {
            errors.push(loc.at(&p, format!("{p}.metadata.name: Required value")));
        } else if let Err(e) = validate_dns1123_subdomain(&name) {
            errors.push(loc.at_value(&format!("{p}.metadata.name"), e));
        }
        let mut cmeta = ObjectMeta::new(&meta.namespace, &name);
        cmeta.labels = c.metadata.labels.unwrap_or_default();
        cmeta.annotations = c.metadata.annotations.unwrap_or_default();
        let Some(cs) = c.spec else {
            errors.push(loc.at(&p, format!("{p}.spec: Required value")));
            continue;
        };
        let modes = access_modes(
            cs.access_modes,
            &format!("{p}.spec.accessModes"),
            loc,
            &mut errors,
        );
        let request = storage_quantity(
            cs.resources.and_then(|r| r.requests),
            &format!("{p}.spec.resources.requests"),
            loc,
            &mut errors,
        );
        claims.push(PersistentVolumeClaim {
            meta: cmeta,
            storage_class: cs.storage_class_name,
            access_modes: modes,
            request,
            volume_name: None,
            phase: ClaimPhase::Pending,
            capacity: None,
        });
    }
    let min_ready = seconds(
        s.min_ready_seconds,
        0,
        "spec.minReadySeconds",
        loc,
        &mut errors,
    );
    let revision_history_limit = history_limit(s.revision_history_limit, loc, &mut errors);
    done(
        AnyObject::StatefulSet(StatefulSet {
            meta,
            replicas,
            selector,
            template,
            service_name: s.service_name.unwrap_or_default(),
            pod_management_policy,
            update_strategy,
            volume_claim_templates: claims,
            min_ready,
            revision_history_limit,
            status: Default::default(),
        }),
        errors,
    )
}

pub fn conv_daemonset(o: apps::DaemonSet, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let s = o.spec;
    let selector = conv_selector(s.selector, "spec.selector", loc, &mut errors);
    let template = conv_template(s.template, &selector, loc, &mut errors);
    restart_always(&template, loc, &mut errors);
    let update_strategy = match s.update_strategy {
        None => DaemonSetUpdateStrategy::default(),
        Some(st) => match st.type_.as_deref() {
            None | Some("RollingUpdate") => {
                let ru = st.rolling_update.unwrap_or_default();
                let mut get = |v: &Option<_>, f: &str, d: IntOrPercent| match v {
                    Some(v) => int_or_percent(
                        v,
                        &format!("spec.updateStrategy.rollingUpdate.{f}"),
                        loc,
                        &mut errors,
                    ),
                    None => d,
                };
                let max_unavailable =
                    get(&ru.max_unavailable, "maxUnavailable", IntOrPercent::Int(1));
                let max_surge = get(&ru.max_surge, "maxSurge", IntOrPercent::Int(0));
                let zero =
                    |v: IntOrPercent| matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
                if zero(max_unavailable) && zero(max_surge) {
                    errors.push(loc.at(
                        "spec.updateStrategy.rollingUpdate.maxUnavailable",
                        "Invalid value: 0: may not be 0 when maxSurge is 0",
                    ));
                }
                if !zero(max_unavailable) && !zero(max_surge) {
                    // upstream allows both; kubesim's surge path needs maxUnavailable 0
                    errors.push(loc.at(
                        "spec.updateStrategy.rollingUpdate.maxSurge",
                        "kubesim supports maxSurge only with maxUnavailable: 0",
                    ));
                }
                DaemonSetUpdateStrategy::RollingUpdate {
                    max_unavailable,
                    max_surge,
                }
            }
            Some("OnDelete") => DaemonSetUpdateStrategy::OnDelete,
            Some(t) => {
                errors.push(loc.at_value(
                    "spec.updateStrategy.type",
                    format!("Unsupported value: {t:?}: supported values: \"OnDelete\", \"RollingUpdate\""),
                ));
                DaemonSetUpdateStrategy::default()
            }
        },
    };
    let min_ready = seconds(
        s.min_ready_seconds,
        0,
        "spec.minReadySeconds",
        loc,
        &mut errors,
    );
    let revision_history_limit = history_limit(s.revision_history_limit, loc, &mut errors);
    done(
        AnyObject::DaemonSet(DaemonSet {
            meta,
            selector,
            template,
            update_strategy,
            min_ready,
            revision_history_limit,
            status: Default::default(),
        }),
        errors,
    )
}

/// A ReplicationController: the selector, when absent, defaults to the
/// template's labels (`SetDefaults_ReplicationController`).
pub fn conv_replication_controller(
    o: core::ReplicationController,
    loc: &Loc,
) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let Some(s) = o.spec else {
        return Err(err(loc, "", "a ReplicationController needs a spec"));
    };
    let replicas = replicas(s.replicas, loc, &mut errors);
    let Some(t) = s.template else {
        return Err(err(loc, "spec", "spec.template: Required value"));
    };
    let template_labels = t
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let selector = LabelSelector {
        match_labels: s
            .selector
            .filter(|m| !m.is_empty())
            .unwrap_or(template_labels),
        match_expressions: Vec::new(),
    };
    let template = conv_template(t, &selector, loc, &mut errors);
    restart_always(&template, loc, &mut errors);
    let min_ready = seconds(
        s.min_ready_seconds,
        0,
        "spec.minReadySeconds",
        loc,
        &mut errors,
    );
    done(
        AnyObject::ReplicationController(ReplicationController {
            meta,
            replicas,
            selector,
            template,
            min_ready,
            status: Default::default(),
        }),
        errors,
    )
}
