//! Plain Kubernetes manifests → kubesim objects.
//!
//! A document is parsed with `serde_yaml`, deserialized into the exact upstream
//! type from `k8s-openapi` (so every field Kubernetes knows is accepted), and
//! converted into kubesim's compact model. Fields Kubernetes does not know are
//! errors, as with `kubectl apply`'s strict field validation; fields Kubernetes
//! knows but kubesim does not simulate are collected into one warning per object.

pub mod convert;
pub mod convert_apps;
pub mod convert_autoscaling;
pub mod convert_batch;
pub mod convert_networking;
pub mod convert_scheduling;
pub mod convert_storage;
pub mod convert_vpa;
pub mod fields;
pub mod yamlpos;

use crate::api::AnyObject;
use crate::diag::{Diagnostic, Loc};
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use yamlpos::DocPositions;

/// Where an object was defined, for messages (`file:line:col`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    /// Where `metadata.namespace` is written, if it is.
    pub namespace_pos: Option<yamlpos::Pos>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// The objects of one or more manifests, and what was accepted without effect.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<(AnyObject, Origin)>,
    pub warnings: Vec<String>,
    /// Objects of kinds accepted but not simulated, in the file being loaded
    /// (they become one warning per file).
    unsimulated: Vec<String>,
}

/// A parsed YAML file: its documents and their positions.
pub struct YamlFile {
    pub path: PathBuf,
    pub docs: Vec<(Value, DocPositions)>,
}

/// Read and parse a YAML file (all its documents). Errors name the file and position.
pub fn parse_yaml_file(path: &Path) -> Result<YamlFile, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| Diagnostic {
        file: path.to_path_buf(),
        pos: None,
        path: String::new(),
        message: format!("cannot read file: {e}"),
    })?;
    parse_yaml_text(path, &text)
}

/// Parse YAML text that came from `path`.
pub fn parse_yaml_text(path: &Path, text: &str) -> Result<YamlFile, Diagnostic> {
    let positions = yamlpos::index_documents(text).map_err(|(pos, msg)| Diagnostic {
        file: path.to_path_buf(),
        pos: Some(pos),
        path: String::new(),
        message: format!("invalid YAML: {msg}"),
    })?;
    let mut docs = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let v = <Value as serde::Deserialize>::deserialize(de).map_err(|e| Diagnostic {
            file: path.to_path_buf(),
            pos: e.location().map(|l| yamlpos::Pos {
                line: l.line(),
                col: l.column(),
            }),
            path: String::new(),
            message: format!("invalid YAML: {e}"),
        })?;
        let pos = positions.get(i).cloned().unwrap_or_default();
        docs.push((v, pos));
    }
    Ok(YamlFile {
        path: path.to_path_buf(),
        docs,
    })
}

/// Load a manifest file or a folder of them (`*.yaml`, `*.yml`, `*.json`, in name
/// order, as `kubectl apply -f DIR` reads a folder).
pub fn load_path(path: &Path, out: &mut Loaded, errors: &mut Vec<Diagnostic>) {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && matches!(
                            p.extension().and_then(|e| e.to_str()),
                            Some("yaml") | Some("yml") | Some("json")
                        )
                })
                .collect(),
            Err(e) => {
                errors.push(Diagnostic {
                    file: path.to_path_buf(),
                    pos: None,
                    path: String::new(),
                    message: format!("cannot read folder: {e}"),
                });
                return;
            }
        };
        files.sort();
        if files.is_empty() {
            errors.push(Diagnostic {
                file: path.to_path_buf(),
                pos: None,
                path: String::new(),
                message: "folder holds no .yaml, .yml or .json files".into(),
            });
        }
        for f in files {
            load_file(&f, out, errors);
        }
    } else {
        load_file(path, out, errors);
    }
}

/// Load every document of one manifest file.
pub fn load_file(path: &Path, out: &mut Loaded, errors: &mut Vec<Diagnostic>) {
    match std::fs::read_to_string(path) {
        Ok(text) => load_text(path, &text, out, errors),
        Err(e) => errors.push(Diagnostic {
            file: path.to_path_buf(),
            pos: None,
            path: String::new(),
            message: format!("cannot read file: {e}"),
        }),
    }
}

/// Load every document of manifest text that came from `path` (also the
/// entry point for fuzzing the manifest loader).
pub fn load_text(path: &Path, text: &str, out: &mut Loaded, errors: &mut Vec<Diagnostic>) {
    let file = match parse_yaml_text(path, text) {
        Ok(f) => f,
        Err(d) => {
            errors.push(d);
            return;
        }
    };
    for (value, pos) in &file.docs {
        if value.is_null() {
            continue; // an empty document, e.g. after a trailing `---`
        }
        let loc = Loc {
            file: path,
            pos,
            prefix: "",
        };
        load_one(value, &loc, out, errors);
    }
    flush_unsimulated(path, out);
}

/// One warning listing the objects of not-simulated kinds just loaded from `path`.
fn flush_unsimulated(path: &Path, out: &mut Loaded) {
    let skipped = std::mem::take(&mut out.unsimulated);
    if !skipped.is_empty() {
        out.warnings.push(format!(
            "{}: kinds accepted but not simulated yet (no effect): {}",
            path.display(),
            skipped.join(", ")
        ));
    }
}

/// Convert one document (or one inline object) into objects; `kind: List` expands.
pub fn load_value(value: &Value, loc: &Loc, out: &mut Loaded, errors: &mut Vec<Diagnostic>) {
    load_one(value, loc, out, errors);
    flush_unsimulated(loc.file, out);
}

fn load_one(value: &Value, loc: &Loc, out: &mut Loaded, errors: &mut Vec<Diagnostic>) {
    match convert::convert(value, loc) {
        Ok(convert::Converted::Object(obj, warnings)) => {
            let p = loc.pos.nearest(&loc.full(""));
            out.objects.push((
                *obj,
                Origin {
                    file: loc.file.to_path_buf(),
                    line: p.line,
                    col: p.col,
                    namespace_pos: loc.pos.value_pos(&loc.full("metadata.namespace")),
                },
            ));
            out.warnings.extend(warnings);
        }
        Ok(convert::Converted::NotSimulated(w)) => out.warnings.push(w),
        Ok(convert::Converted::Unsimulated(w)) => out.unsimulated.push(w),
        Ok(convert::Converted::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                let prefix = loc.full(&format!("items[{i}]"));
                let l = Loc {
                    file: loc.file,
                    pos: loc.pos,
                    prefix: &prefix,
                };
                load_one(item, &l, out, errors);
            }
        }
        Err(mut d) => errors.append(&mut d),
    }
}
