//! `scheduling.k8s.io/v1` PriorityClass → kubesim's model, validated as upstream.

use super::convert::{conv_meta, done, Errors};
use crate::api::scheduling::{PriorityClass, HIGHEST_USER_DEFINABLE_PRIORITY};
use crate::api::AnyObject;
use crate::diag::Loc;

pub fn conv_priority_class(
    o: k8s_openapi::api::scheduling::v1::PriorityClass,
    loc: &Loc,
) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, false, loc, &mut errors);
    let value = o.value.unwrap_or_else(|| {
        errors.push(loc.at("", "value is required (the priority of pods in this class)"));
        0
    });
    // values above 1e9 are reserved for the system classes (system-*)
    if value > HIGHEST_USER_DEFINABLE_PRIORITY && !meta.name.starts_with("system-") {
        errors.push(loc.at_value(
            "value",
            format!(
                "Invalid value: {}: maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}",
                value
            ),
        ));
    }
    let never_preempt = match o.preemption_policy.as_deref() {
        None | Some("PreemptLowerPriority") => false,
        Some("Never") => true,
        Some(p) => {
            errors.push(loc.at_value(
                "preemptionPolicy",
                format!("Unsupported value: {p:?}: supported values: \"Never\", \"PreemptLowerPriority\""),
            ));
            false
        }
    };
    done(
        AnyObject::PriorityClass(PriorityClass {
            meta,
            value,
            global_default: o.global_default.unwrap_or(false),
            never_preempt,
        }),
        errors,
    )
}
