//! ConfigMaps and Secrets (`v1.ConfigMap`, `v1.Secret`), and the references pods
//! make to them (`env[].valueFrom`, `envFrom[]`, `configMap` / `secret` volumes).

use super::meta::ObjectMeta;
use super::store::ApiError;
use std::collections::BTreeMap;

/// `v1.ConfigMap`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigMap {
    pub meta: ObjectMeta,
    pub data: BTreeMap<String, String>,
    /// Values as bytes (decoded from the manifest's base64).
    pub binary_data: BTreeMap<String, Vec<u8>>,
    /// `immutable: true`: data, binaryData and immutable itself can no longer change.
    pub immutable: bool,
}

impl ConfigMap {
    pub fn has_key(&self, key: &str) -> bool {
        self.data.contains_key(key) || self.binary_data.contains_key(key)
    }
    /// Number of keys (the DATA column of `kubectl get configmaps`).
    pub fn len(&self) -> usize {
        self.data.len() + self.binary_data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `v1.Secret`. `stringData` is merged into `data` when the manifest is read, as
/// the API server does on write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Secret {
    pub meta: ObjectMeta,
    /// `type`, `Opaque` by default.
    pub secret_type: String,
    pub data: BTreeMap<String, Vec<u8>>,
    pub immutable: bool,
}

impl Secret {
    pub fn has_key(&self, key: &str) -> bool {
        self.data.contains_key(key)
    }
}

/// The kind of object a pod reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    ConfigMap,
    Secret,
}

impl SourceKind {
    /// As the kubelet words it in errors: `configmap`, `secret`.
    pub fn lower(self) -> &'static str {
        match self {
            SourceKind::ConfigMap => "configmap",
            SourceKind::Secret => "secret",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::ConfigMap => "ConfigMap",
            SourceKind::Secret => "Secret",
        }
    }
}

/// One environment reference of a container: `env[].valueFrom.configMapKeyRef` /
/// `secretKeyRef` (with a key) or `envFrom[].configMapRef` / `secretRef` (no key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvRef {
    pub container: String,
    pub kind: SourceKind,
    pub name: String,
    pub key: Option<String>,
    pub optional: bool,
}

/// Where a pod volume's content comes from (the sources kubesim simulates).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VolumeSource {
    /// `configMap` or `secret` volume.
    Object {
        kind: SourceKind,
        name: String,
        optional: bool,
        /// `items[].key`: keys that must exist (unless optional).
        keys: Vec<String>,
    },
    /// `persistentVolumeClaim`.
    Claim { claim_name: String, read_only: bool },
    /// Any other source (emptyDir, hostPath, projected, ...): always ready.
    Other,
}

/// `v1.Volume` of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Volume {
    pub name: String,
    pub source: VolumeSource,
}

/// The API server's message for a forbidden change of an immutable object, as
/// `field.Forbidden(..., "field is immutable when `immutable` is set")` renders it.
fn immutable_error(kind: &str, name: &str, fields: &[&str]) -> ApiError {
    let errs: Vec<String> = fields
        .iter()
        .map(|f| format!("{f}: Forbidden: field is immutable when `immutable` is set"))
        .collect();
    let body = if errs.len() == 1 {
        errs[0].clone()
    } else {
        format!("[{}]", errs.join(", "))
    };
    ApiError::Invalid(format!("{kind} {name:?} is invalid: {body}"))
}

/// The fields an update of an immutable object may not change: `immutable`
/// itself, then each `(name, changed)` given.
fn check_immutable(
    kind: &str,
    name: &str,
    new_immutable: bool,
    fields: &[(&'static str, bool)],
) -> Result<(), ApiError> {
    let bad: Vec<&str> = std::iter::once(("immutable", !new_immutable))
        .chain(fields.iter().copied())
        .filter(|(_, changed)| *changed)
        .map(|(f, _)| f)
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(immutable_error(kind, name, &bad))
    }
}

/// `ValidateConfigMapUpdate`: an immutable ConfigMap keeps its data and stays immutable.
pub fn validate_configmap_update(old: &ConfigMap, new: &ConfigMap) -> Result<(), ApiError> {
    if !old.immutable {
        return Ok(());
    }
    check_immutable(
        "ConfigMap",
        &old.meta.name,
        new.immutable,
        &[
            ("data", old.data != new.data),
            ("binaryData", old.binary_data != new.binary_data),
        ],
    )
}

/// `ValidateSecretUpdate`: the type never changes; an immutable Secret keeps its data.
pub fn validate_secret_update(old: &Secret, new: &Secret) -> Result<(), ApiError> {
    if old.secret_type != new.secret_type {
        return Err(ApiError::Invalid(format!(
            "Secret {:?} is invalid: type: Invalid value: {:?}: field is immutable",
            old.meta.name, new.secret_type
        )));
    }
    if !old.immutable {
        return Ok(());
    }
    check_immutable(
        "Secret",
        &old.meta.name,
        new.immutable,
        &[("data", old.data != new.data)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immutable_configmap_refuses_data_changes() {
        let mut old = ConfigMap {
            meta: ObjectMeta::new("default", "cfg"),
            immutable: true,
            ..Default::default()
        };
        old.data.insert("a".into(), "1".into());
        let mut new = old.clone();
        assert!(validate_configmap_update(&old, &new).is_ok());
        new.data.insert("a".into(), "2".into());
        let e = validate_configmap_update(&old, &new).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ConfigMap \"cfg\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
        );
        new.immutable = false;
        assert!(validate_configmap_update(&old, &new)
            .unwrap_err()
            .to_string()
            .contains("[immutable: Forbidden"));
    }
}
