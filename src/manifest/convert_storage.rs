//! `v1` ConfigMap, Secret, PersistentVolume, PersistentVolumeClaim and
//! `storage.k8s.io/v1` StorageClass manifests → kubesim objects, and the parts of
//! a pod spec that refer to them (env references, volumes), validated as the API
//! server does.

use super::convert::{conv_meta, conv_node_selector_term, done, err, Errors};
use crate::api::config::{ConfigMap, EnvRef, Secret, SourceKind, Volume, VolumeSource};
use crate::api::meta::validate_dns1123_subdomain;
use crate::api::quantity::parse_value;
use crate::api::storage::{
    AccessMode, BindingMode, ClaimPhase, ClaimRef, PersistentVolume, PersistentVolumeClaim,
    PvPhase, ReclaimPolicy, StorageClass, LABEL_ZONE,
};
use crate::api::AnyObject;
use crate::diag::Loc;
use k8s_openapi::api::core::v1 as core;
use serde_yaml::Value;
use std::collections::BTreeMap;

/// Why `s` is not standard, padded base64 (what the API server decodes `data`
/// values with); `None` when it is.
pub fn base64_problem(s: &str) -> Option<String> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let b = s.as_bytes();
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    let body = &b[..b.len() - pad];
    if let Some((i, &c)) = body.iter().enumerate().find(|(_, &c)| val(c).is_none()) {
        let shown = if c.is_ascii_graphic() || c == b' ' {
            format!("{:?}", c as char)
        } else {
            format!("byte 0x{c:02x}")
        };
        return Some(format!("illegal character {shown} at offset {i}"));
    }
    if !b.len().is_multiple_of(4) || pad > 2 || (pad > 0 && body.len() % 4 < 2) {
        return Some(format!(
            "length {} is not a multiple of 4 with at most two `=` of padding",
            b.len()
        ));
    }
    // the unused low bits of the last symbol must be zero (canonical encoding)
    let last = body.last().and_then(|&c| val(c)).unwrap_or(0);
    let bad_tail = match body.len() % 4 {
        2 => last & 0x0f != 0,
        3 => last & 0x03 != 0,
        _ => false,
    };
    if bad_tail {
        return Some("the last symbol has bits set beyond the encoded bytes".into());
    }
    None
}

/// Check every value under `field` (`data` of a Secret, `binaryData` of a
/// ConfigMap) is base64, before the typed decode would fail with a bare message.
pub fn check_base64(value: &Value, field: &str, kind: &str, loc: &Loc) -> Result<(), Errors> {
    let Some(m) = value.get(field).and_then(Value::as_mapping) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    for (k, v) in m {
        let (Some(k), Some(s)) = (k.as_str(), v.as_str()) else {
            continue;
        };
        if let Some(why) = base64_problem(s) {
            errors.push(loc.at_value(
                &format!("{field}.{k}"),
                format!(
                    "invalid base64 in {kind} {field} key {k:?}: {why}; expected the value base64-encoded (`echo -n 'value' | base64`){}",
                    if kind == "Secret" {
                        ", or the plain text under stringData"
                    } else {
                        ", or the plain text under data"
                    }
                ),
            ));
        }
    }
    done((), errors)
}

/// Keys of ConfigMap / Secret data: `[-._a-zA-Z0-9]+`, at most 253 characters.
fn check_keys<'a>(
    keys: impl Iterator<Item = &'a String>,
    field: &str,
    loc: &Loc,
    errors: &mut Errors,
) {
    for k in keys {
        let ok = !k.is_empty()
            && k.len() <= 253
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
        if !ok {
            errors.push(loc.at(
                &format!("{field}.{k}"),
                format!("Invalid value: {k:?}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'"),
            ));
        }
    }
}

pub fn conv_configmap(o: core::ConfigMap, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let data = o.data.unwrap_or_default();
    let binary_data: BTreeMap<String, Vec<u8>> = o
        .binary_data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    check_keys(data.keys(), "data", loc, &mut errors);
    check_keys(binary_data.keys(), "binaryData", loc, &mut errors);
    for k in binary_data.keys() {
        if data.contains_key(k) {
            errors.push(loc.at(
                &format!("binaryData.{k}"),
                format!("Invalid value: {k:?}: duplicate of key present in data"),
            ));
        }
    }
    done(
        AnyObject::ConfigMap(ConfigMap {
            meta,
            data,
            binary_data,
            immutable: o.immutable.unwrap_or(false),
        }),
        errors,
    )
}

pub fn conv_secret(o: core::Secret, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let mut data: BTreeMap<String, Vec<u8>> = o
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    check_keys(data.keys(), "data", loc, &mut errors);
    let string_data = o.string_data.unwrap_or_default();
    check_keys(string_data.keys(), "stringData", loc, &mut errors);
    // the API server merges stringData into data; stringData wins
    for (k, v) in string_data {
        data.insert(k, v.into_bytes());
    }
    done(
        AnyObject::Secret(Secret {
            meta,
            secret_type: o.type_.unwrap_or_else(|| "Opaque".into()),
            data,
            immutable: o.immutable.unwrap_or(false),
        }),
        errors,
    )
}

fn reclaim(
    p: Option<&str>,
    default: ReclaimPolicy,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> ReclaimPolicy {
    match p {
        None => default,
        Some("Delete") => ReclaimPolicy::Delete,
        Some("Retain") => ReclaimPolicy::Retain,
        Some(o) => {
            errors.push(loc.at_value(
                path,
                format!("Unsupported value: {o:?}: supported values: \"Delete\", \"Retain\""),
            ));
            default
        }
    }
}

pub(crate) fn access_modes(
    modes: Option<Vec<String>>,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> Vec<AccessMode> {
    let modes = modes.unwrap_or_default();
    if modes.is_empty() {
        errors.push(loc.at(path, "Required value: at least 1 access mode is required"));
    }
    let mut out = Vec::new();
    for (i, m) in modes.iter().enumerate() {
        match AccessMode::parse(m) {
            Ok(a) => {
                if !out.contains(&a) {
                    out.push(a)
                }
            }
            Err(e) => errors.push(loc.at_value(&format!("{path}[{i}]"), e)),
        }
    }
    if out.contains(&AccessMode::ReadWriteOncePod) && out.len() > 1 {
        errors.push(loc.at_value(
            path,
            "Forbidden: may not use ReadWriteOncePod with other access modes",
        ));
    }
    out
}

pub(crate) fn storage_quantity(
    m: Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> i64 {
    let Some(q) = m.unwrap_or_default().remove("storage") else {
        errors.push(loc.at(path, format!("Required value: {path}.storage is required")));
        return 0;
    };
    match parse_value(&q.0) {
        Ok(v) if v > 0 => v,
        Ok(_) => {
            errors.push(loc.at_value(&format!("{path}.storage"), "must be greater than zero"));
            0
        }
        Err(e) => {
            errors.push(loc.at_value(&format!("{path}.storage"), e.to_string()));
            0
        }
    }
}

pub fn conv_storage_class(
    o: k8s_openapi::api::storage::v1::StorageClass,
    loc: &Loc,
) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, false, loc, &mut errors);
    if o.provisioner.is_empty() {
        errors.push(loc.at("provisioner", "Required value"));
    }
    let binding_mode = match o.volume_binding_mode.as_deref() {
        None | Some("Immediate") => BindingMode::Immediate,
        Some("WaitForFirstConsumer") => BindingMode::WaitForFirstConsumer,
        Some(m) => {
            errors.push(loc.at_value(
                "volumeBindingMode",
                format!("Unsupported value: {m:?}: supported values: \"Immediate\", \"WaitForFirstConsumer\""),
            ));
            BindingMode::Immediate
        }
    };
    let reclaim_policy = reclaim(
        o.reclaim_policy.as_deref(),
        ReclaimPolicy::Delete,
        "reclaimPolicy",
        loc,
        &mut errors,
    );
    let mut allowed_zones = Vec::new();
    for (i, t) in o
        .allowed_topologies
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        for (j, r) in t
            .match_label_expressions
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let p = format!("allowedTopologies[{i}].matchLabelExpressions[{j}]");
            if r.values.is_empty() {
                errors.push(loc.at(
                    &format!("{p}.values"),
                    "Required value: must specify as least one value",
                ));
            }
            if r.key == LABEL_ZONE || r.key == "failure-domain.beta.kubernetes.io/zone" {
                allowed_zones.extend(r.values);
            } else {
                errors.push(loc.at_value(
                    &format!("{p}.key"),
                    format!(
                        "kubesim simulates allowedTopologies on {LABEL_ZONE} only, got {:?}",
                        r.key
                    ),
                ));
            }
        }
    }
    allowed_zones.sort();
    allowed_zones.dedup();
    done(
        AnyObject::StorageClass(StorageClass {
            meta,
            provisioner: o.provisioner,
            binding_mode,
            reclaim_policy,
            allowed_zones,
        }),
        errors,
    )
}

pub fn conv_persistent_volume(o: core::PersistentVolume, loc: &Loc) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, false, loc, &mut errors);
    let Some(s) = o.spec else {
        return Err(err(loc, "", "a PersistentVolume needs a spec"));
    };
    let capacity = storage_quantity(s.capacity, "spec.capacity", loc, &mut errors);
    let access_modes = access_modes(s.access_modes, "spec.accessModes", loc, &mut errors);
    let mut node_affinity = Vec::new();
    if let Some(req) = s.node_affinity.and_then(|a| a.required) {
        for (i, t) in req.node_selector_terms.into_iter().enumerate() {
            node_affinity.push(conv_node_selector_term(
                t,
                &format!("spec.nodeAffinity.required.nodeSelectorTerms[{i}]"),
                loc,
                &mut errors,
            ));
        }
    }
    let claim_ref = s.claim_ref.and_then(|r| {
        Some(ClaimRef {
            namespace: r.namespace.unwrap_or_else(|| "default".into()),
            name: r.name?,
            uid: None,
        })
    });
    // manually created volumes default to Retain
    let reclaim_policy = reclaim(
        s.persistent_volume_reclaim_policy.as_deref(),
        ReclaimPolicy::Retain,
        "spec.persistentVolumeReclaimPolicy",
        loc,
        &mut errors,
    );
    done(
        AnyObject::PersistentVolume(PersistentVolume {
            meta,
            capacity,
            access_modes,
            storage_class: s.storage_class_name.unwrap_or_default(),
            node_affinity,
            claim_ref,
            reclaim_policy,
            phase: PvPhase::Pending,
            attached: Vec::new(),
        }),
        errors,
    )
}

pub fn conv_persistent_volume_claim(
    o: core::PersistentVolumeClaim,
    loc: &Loc,
) -> Result<AnyObject, Errors> {
    let mut errors = Vec::new();
    let meta = conv_meta(o.metadata, true, loc, &mut errors);
    let Some(s) = o.spec else {
        return Err(err(loc, "", "a PersistentVolumeClaim needs a spec"));
    };
    let access_modes = access_modes(s.access_modes, "spec.accessModes", loc, &mut errors);
    let request = storage_quantity(
        s.resources.and_then(|r| r.requests),
        "spec.resources.requests",
        loc,
        &mut errors,
    );
    if let Some(c) = s.storage_class_name.as_deref().filter(|c| !c.is_empty()) {
        if let Err(e) = validate_dns1123_subdomain(c) {
            errors.push(loc.at_value("spec.storageClassName", e));
        }
    }
    done(
        AnyObject::PersistentVolumeClaim(PersistentVolumeClaim {
            meta,
            storage_class: s.storage_class_name,
            access_modes,
            request,
            volume_name: s.volume_name.filter(|v| !v.is_empty()),
            phase: ClaimPhase::Pending,
            capacity: None,
        }),
        errors,
    )
}

/// A container's `env[].valueFrom` and `envFrom[]` references to ConfigMaps and Secrets.
pub fn conv_env_refs(
    c: &core::Container,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
    out: &mut Vec<EnvRef>,
) {
    let mut push = |kind, name: &str, key: Option<&str>, optional: Option<bool>, p: String| {
        if name.is_empty() {
            errors.push(loc.at(&p, "Required value: name of the referenced object"));
            return;
        }
        out.push(EnvRef {
            container: c.name.clone(),
            kind,
            name: name.to_string(),
            key: key.map(str::to_string),
            optional: optional.unwrap_or(false),
        });
    };
    for (i, e) in c.env.iter().flatten().enumerate() {
        let Some(vf) = &e.value_from else { continue };
        let p = format!("{path}.env[{i}].valueFrom");
        if let Some(r) = &vf.config_map_key_ref {
            push(
                SourceKind::ConfigMap,
                &r.name,
                Some(&r.key),
                r.optional,
                format!("{p}.configMapKeyRef.name"),
            );
        }
        if let Some(r) = &vf.secret_key_ref {
            push(
                SourceKind::Secret,
                &r.name,
                Some(&r.key),
                r.optional,
                format!("{p}.secretKeyRef.name"),
            );
        }
    }
    for (i, e) in c.env_from.iter().flatten().enumerate() {
        let p = format!("{path}.envFrom[{i}]");
        if let Some(r) = &e.config_map_ref {
            push(
                SourceKind::ConfigMap,
                &r.name,
                None,
                r.optional,
                format!("{p}.configMapRef.name"),
            );
        }
        if let Some(r) = &e.secret_ref {
            push(
                SourceKind::Secret,
                &r.name,
                None,
                r.optional,
                format!("{p}.secretRef.name"),
            );
        }
    }
}

/// The pod's `volumes`, with the sources kubesim simulates.
pub fn conv_volumes(
    vols: Option<Vec<core::Volume>>,
    path: &str,
    loc: &Loc,
    errors: &mut Errors,
) -> Vec<Volume> {
    let mut out: Vec<Volume> = Vec::new();
    for (i, v) in vols.unwrap_or_default().into_iter().enumerate() {
        let p = format!("{path}[{i}]");
        if out.iter().any(|o| o.name == v.name) {
            errors.push(loc.at_value(
                &format!("{p}.name"),
                format!("Duplicate value: {:?}", v.name),
            ));
        }
        let keys = |items: &Option<Vec<core::KeyToPath>>| {
            items
                .iter()
                .flatten()
                .map(|k| k.key.clone())
                .collect::<Vec<_>>()
        };
        let source = if let Some(c) = &v.config_map {
            if c.name.is_empty() {
                errors.push(loc.at(&format!("{p}.configMap.name"), "Required value"));
            }
            VolumeSource::Object {
                kind: SourceKind::ConfigMap,
                name: c.name.clone(),
                optional: c.optional.unwrap_or(false),
                keys: keys(&c.items),
            }
        } else if let Some(s) = &v.secret {
            let name = s.secret_name.clone().unwrap_or_default();
            if name.is_empty() {
                errors.push(loc.at(&format!("{p}.secret.secretName"), "Required value"));
            }
            VolumeSource::Object {
                kind: SourceKind::Secret,
                name,
                optional: s.optional.unwrap_or(false),
                keys: keys(&s.items),
            }
        } else if let Some(c) = &v.persistent_volume_claim {
            if c.claim_name.is_empty() {
                errors.push(loc.at(
                    &format!("{p}.persistentVolumeClaim.claimName"),
                    "Required value",
                ));
            }
            VolumeSource::Claim {
                claim_name: c.claim_name.clone(),
                read_only: c.read_only.unwrap_or(false),
            }
        } else {
            VolumeSource::Other
        };
        out.push(Volume {
            name: v.name,
            source,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64_problem;

    #[test]
    fn base64_is_checked_like_the_api_server() {
        assert_eq!(base64_problem("cGFzc3dvcmQ="), None);
        assert_eq!(base64_problem(""), None);
        assert_eq!(base64_problem("YWRtaW4="), None);
        assert!(base64_problem("not base64!")
            .unwrap()
            .contains("illegal character ' ' at offset 3"));
        assert!(base64_problem("YWRtaW4").unwrap().contains("multiple of 4"));
        assert!(base64_problem("YR==").is_some(), "non-canonical tail");
    }
}
