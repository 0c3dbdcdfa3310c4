//! `autoscaling.k8s.io/v1` VerticalPodAutoscaler (a CRD of the
//! kubernetes/autoscaler project, so no `k8s-openapi` type): its own strict
//! schema, then kubesim's object.

use super::convert::{conv_meta, done, Errors};
use crate::api::autoscaling::{UpdateMode, VerticalPodAutoscaler};
use crate::api::{AnyObject, Kind};
use crate::diag::Loc;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawVpa {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: metav1::ObjectMeta,
    pub spec: RawVpaSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawVpaSpec {
    pub target_ref: RawTargetRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_policy: Option<RawUpdatePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommenders: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTargetRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawUpdatePolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
}

pub fn conv_vpa(o: RawVpa, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let t = &o.spec.target_ref;
    let target_kind = match (t.api_version.as_deref(), t.kind.as_str()) {
        (Some("apps/v1") | None, "Deployment") => Kind::Deployment,
        (Some("apps/v1") | None, "ReplicaSet") => Kind::ReplicaSet,
        (_, k) => {
            errors.push(loc.at_value(
                "spec.targetRef.kind",
                format!("kubesim's VPA targets Deployments and ReplicaSets (apps/v1), not {k}"),
            ));
            Kind::Deployment
        }
    };
    let mode = o
        .spec
        .update_policy
        .as_ref()
        .and_then(|u| u.update_mode.clone());
    let update_mode = match mode.as_deref() {
        None | Some("Auto") => UpdateMode::Auto,
        Some("Recreate") => UpdateMode::Recreate,
        Some("Initial") => UpdateMode::Initial,
        Some("Off") => UpdateMode::Off,
        Some(m) => {
            errors.push(loc.at_value(
                "spec.updatePolicy.updateMode",
                format!("Unsupported value: {m:?}: supported values: \"Off\", \"Initial\", \"Recreate\", \"Auto\""),
            ));
            UpdateMode::Off
        }
    };
    done(
        AnyObject::VerticalPodAutoscaler(VerticalPodAutoscaler {
            meta,
            target_kind,
            target_name: t.name.clone(),
            update_mode,
            recommendations: Vec::new(),
        }),
        errors,
    )
}
