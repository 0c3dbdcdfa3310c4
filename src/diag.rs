//! Errors in user input that name the file, the place in it, and what was expected.

use crate::manifest::yamlpos::{DocPositions, Pos};
use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; `None` when the problem is the file as a whole (e.g. it is missing).
    pub pos: Option<Pos>,
    /// Where in the document, as `spec.template.spec.containers[0].image` (may be empty).
    pub path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.pos {
            write!(f, ":{}:{}", p.line, p.col)?;
        }
        write!(f, ": {}", self.message)?;
        if !self.path.is_empty() && self.path != "." {
            write!(f, " (at {})", self.path)?;
        }
        Ok(())
    }
}

/// Every problem found in a load, in the order found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError(pub Vec<Diagnostic>);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
        }
        Ok(())
    }
}

/// Where a YAML document came from, for turning paths into positions.
#[derive(Debug, Clone, Copy)]
pub struct Loc<'a> {
    pub file: &'a Path,
    pub pos: &'a DocPositions,
    /// Path of this document inside its file (`objects[2]` for an inline object; empty for a whole document).
    pub prefix: &'a str,
}

impl Loc<'_> {
    /// The full path of `rel` (relative to this document) in the file.
    pub fn full(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else if rel.is_empty() || rel == "." {
            self.prefix.to_string()
        } else if rel.starts_with('[') {
            format!("{}{}", self.prefix, rel)
        } else {
            format!("{}.{}", self.prefix, rel)
        }
    }

    /// A diagnostic at `rel`, positioned at its key (or the nearest enclosing node).
    pub fn at(&self, rel: &str, message: impl Into<String>) -> Diagnostic {
        let full = self.full(rel);
        Diagnostic {
            file: self.file.to_path_buf(),
            pos: Some(self.pos.nearest(&full)),
            path: full,
            message: message.into(),
        }
    }

    /// A diagnostic about the value at `rel` (positioned at the value where known).
    pub fn at_value(&self, rel: &str, message: impl Into<String>) -> Diagnostic {
        let full = self.full(rel);
        let pos = self
            .pos
            .value_pos(&full)
            .unwrap_or_else(|| self.pos.nearest(&full));
        Diagnostic {
            file: self.file.to_path_buf(),
            pos: Some(pos),
            path: full,
            message: message.into(),
        }
    }
}

/// Edit distance with adjacent transpositions (optimal string alignment), for
/// "did you mean" hints: `scael` is one edit from `scale`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// Words longer than this get no "did you mean" hint: no Kubernetes name is
/// longer than 253 characters, and the edit distance is quadratic in length.
const MAX_SUGGEST_LEN: usize = 256;
/// Only this many candidates are compared, so that a hint stays cheap even
/// against 100,000 node names and a timeline full of unknown targets.
const MAX_SUGGEST_CANDIDATES: usize = 1_000;

/// The closest candidate within a small edit distance, if any.
///
/// Bounded work whatever the input: long words get no hint, only the first
/// [`MAX_SUGGEST_CANDIDATES`] candidates are looked at, and candidates whose
/// length differs by more than the limit (so their distance must too) are
/// skipped without computing it.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if word.len() > MAX_SUGGEST_LEN {
        return None;
    }
    let limit = (word.len() / 3).clamp(1, 3);
    let word = word.to_ascii_lowercase();
    let word_chars = word.chars().count();
    candidates
        .into_iter()
        .take(MAX_SUGGEST_CANDIDATES)
        .filter(|c| c.chars().count().abs_diff(word_chars) <= limit)
        .map(|c| (edit_distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Turn serde's "unknown field `x`, expected one of `a`, `b`" into a path to the
/// field itself and a message with a "did you mean" hint.
pub fn explain_serde_error(path: &str, msg: &str) -> (String, String) {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            // serde_path_to_error already ends the path with the unknown key
            let ends_with_field = path == field || path.ends_with(&format!(".{field}"));
            let field_path = if path.is_empty() || path == "." {
                field.to_string()
            } else if ends_with_field {
                path.to_string()
            } else {
                format!("{path}.{field}")
            };
            let mut m = format!("unknown field {field:?}");
            if let Some(s) = suggest(field, expected.iter().copied()) {
                m.push_str(&format!(" (did you mean {s:?}?)"));
            } else if !expected.is_empty() {
                m.push_str(&format!("; expected one of: {}", expected.join(", ")));
            }
            return (field_path, m);
        }
    }
    (path.to_string(), msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_close_names() {
        assert_eq!(
            suggest("replcias", ["replicas", "selector"]),
            Some("replicas")
        );
        assert_eq!(suggest("xyz", ["replicas"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(suggest("scael", ["apply", "scale"]), Some("scale"));
    }

    #[test]
    fn unknown_field_errors_point_at_the_field() {
        let (p, m) = explain_serde_error(
            "cluster",
            "unknown field `nodePool`, expected one of `nodePools`, `apiServer`",
        );
        assert_eq!(p, "cluster.nodePool");
        let (p, _) = explain_serde_error("untill", "unknown field `untill`, expected `until`");
        assert_eq!(p, "untill");
        assert!(m.contains("did you mean \"nodePools\""), "{m}");
    }
}
