//! Source positions for YAML paths.
//!
//! `serde_yaml::Value` drops all position information, and
//! `serde_path_to_error` only reports a path such as
//! `spec.template.spec.containers[0].image`. This module re-parses the same
//! text with yaml-rust2's marked event parser and records where every path
//! starts, so the loader can turn any deserialization error into
//! `file:line:col`. Paths are built in exactly the `Display` format of
//! `serde_path_to_error::Path` (keys verbatim, joined by `.`, sequence indices
//! as `[i]`, the root printed as `.`).

use std::collections::BTreeMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// 1-based line and column in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    /// yaml-rust2 markers have 1-based lines but 0-based columns.
    fn from_marker(m: &Marker) -> Pos {
        Pos {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

/// The first character of the text: a sensible fallback, never `0:0`.
impl Default for Pos {
    fn default() -> Self {
        Pos { line: 1, col: 1 }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Positions of every node of one YAML document, keyed by path.
#[derive(Debug, Clone, Default)]
pub struct DocPositions {
    start: Pos,
    /// Mapping entries: the key's position; sequence items and root: the node's.
    nodes: BTreeMap<String, Pos>,
    /// Position of each node's value (equals `nodes` except for mapping entries).
    values: BTreeMap<String, Pos>,
}

/// serde_path_to_error prints the root as "."; internally the root is "" so
/// that `child_key`/`child_index` compose without special cases.
fn normalize(path: &str) -> &str {
    if path == "." {
        ""
    } else {
        path
    }
}

impl DocPositions {
    /// Position of the document start (first node).
    pub fn start(&self) -> Pos {
        self.start
    }

    /// Exact lookup. For a mapping entry, the position of its KEY; for a
    /// sequence item, the position of the item. `"."` is the root.
    pub fn get(&self, path: &str) -> Option<Pos> {
        self.nodes.get(normalize(path)).copied()
    }

    /// The position of the longest prefix of `path` that exists (cut at
    /// segment boundaries, so dotted keys still match verbatim), falling back
    /// to `start()`. Useful when the error names a missing field or index.
    pub fn nearest(&self, path: &str) -> Pos {
        let path = normalize(path);
        if let Some(p) = self.nodes.get(path) {
            return *p;
        }
        path.char_indices()
            .rev()
            .filter(|&(_, c)| c == '.' || c == '[')
            .find_map(|(i, _)| self.nodes.get(&path[..i]).copied())
            .unwrap_or(self.start)
    }

    /// Position of the VALUE of a mapping entry (for "bad value" errors).
    /// For sequence items and the root this is the node itself.
    pub fn value_pos(&self, path: &str) -> Option<Pos> {
        self.values.get(normalize(path)).copied()
    }

    /// Number of indexed nodes (mainly for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the document has no nodes at all (only the implicit empty
    /// stream document).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Join a map key onto a path, as `serde_path_to_error` prints it.
pub fn child_key(parent: &str, key: &str) -> String {
    let parent = normalize(parent);
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Join a sequence index onto a path, as `serde_path_to_error` prints it.
pub fn child_index(parent: &str, i: usize) -> String {
    format!("{}[{i}]", normalize(parent))
}

/// How serde_path_to_error would render a scalar key: it captures integer
/// keys through their numeric value, so `0x10` appears as `16`.
fn key_text(s: &str, style: TScalarStyle) -> String {
    if style != TScalarStyle::Plain {
        return s.to_string();
    }
    let digits = s.strip_prefix('+').unwrap_or(s);
    let parsed = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = digits.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else {
        s.parse::<i64>().ok()
    };
    match (parsed, s.parse::<u64>()) {
        (Some(n), _) => n.to_string(),
        (None, Ok(n)) => n.to_string(),
        _ => s.to_string(),
    }
}

enum Frame {
    Seq {
        path: String,
        next: usize,
    },
    Map {
        path: String,
        key: Option<(String, Pos)>,
    },
    /// Inside a non-scalar mapping key, which no serde path can address.
    Skip {
        depth: usize,
    },
}

#[derive(Default)]
struct Indexer {
    docs: Vec<DocPositions>,
    cur: DocPositions,
    stack: Vec<Frame>,
    /// Collections that have not seen their first child yet, with whether the
    /// path is a mapping entry. yaml-rust2 marks a block collection *after*
    /// its first key, so its real start is the earliest of its mark and its
    /// first child's mark.
    unfixed: Vec<(String, bool)>,
}

impl Indexer {
    fn fix_pending(&mut self, pos: Pos) {
        for (path, is_entry) in self.unfixed.drain(..) {
            if let Some(v) = self.cur.values.get_mut(&path) {
                *v = (*v).min(pos);
            }
            if !is_entry {
                if let Some(v) = self.cur.nodes.get_mut(&path) {
                    *v = (*v).min(pos);
                }
            }
        }
    }

    fn on_node(&mut self, ev: &Event, pos: Pos) {
        self.fix_pending(pos);
        let is_collection = matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..));
        let (path, is_entry) = match self.stack.last_mut() {
            Some(Frame::Skip { depth }) => {
                if is_collection {
                    *depth += 1;
                }
                return;
            }
            None => (String::new(), false),
            Some(Frame::Seq { path, next }) => {
                *next += 1;
                (child_index(path, *next - 1), false)
            }
            Some(Frame::Map {
                key: key @ None, ..
            }) => {
                let text = match ev {
                    Event::Scalar(s, style, ..) => key_text(s, *style),
                    _ => "?".to_string(),
                };
                *key = Some((text, pos));
                if is_collection {
                    self.stack.push(Frame::Skip { depth: 1 });
                }
                return;
            }
            Some(Frame::Map { path, key }) => {
                let (k, kpos) = key.take().unwrap_or_default();
                let p = child_key(path, &k);
                self.cur.nodes.insert(p.clone(), kpos);
                (p, true)
            }
        };
        if !is_entry {
            self.cur.nodes.insert(path.clone(), pos);
        }
        self.cur.values.insert(path.clone(), pos);
        match ev {
            Event::SequenceStart(..) => {
                self.unfixed.push((path.clone(), is_entry));
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingStart(..) => {
                self.unfixed.push((path.clone(), is_entry));
                self.stack.push(Frame::Map { path, key: None });
            }
            _ => {}
        }
    }
}

impl MarkedEventReceiver for Indexer {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos::from_marker(&mark);
        match ev {
            Event::DocumentStart => {
                self.cur = DocPositions::default();
                self.stack.clear();
                self.unfixed.clear();
            }
            Event::DocumentEnd => {
                let mut doc = std::mem::take(&mut self.cur);
                doc.start = doc.nodes.get("").copied().unwrap_or_default();
                self.docs.push(doc);
            }
            Event::Scalar(..)
            | Event::Alias(_)
            | Event::SequenceStart(..)
            | Event::MappingStart(..) => self.on_node(&ev, pos),
            Event::SequenceEnd | Event::MappingEnd => {
                self.unfixed.clear();
                match self.stack.last_mut() {
                    Some(Frame::Skip { depth }) if *depth > 1 => *depth -= 1,
                    _ => {
                        self.stack.pop();
                    }
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd => {}
        }
    }
}

/// Index all documents of a (possibly multi-document) YAML text.
///
/// Document i of the result corresponds to the i-th document yielded by
/// `serde_yaml::Deserializer::from_str(src)`. The only divergence between
/// the two parsers' document counts is a stream with no document at all
/// (empty or comments only): serde_yaml yields one null document there, so
/// one empty `DocPositions` is returned too. A syntax error is returned with
/// its 1-based position and yaml-rust2's message.
pub fn index_documents(src: &str) -> Result<Vec<DocPositions>, (Pos, String)> {
    let mut indexer = Indexer::default();
    Parser::new_from_str(src)
        .load(&mut indexer, true)
        .map_err(|e| (Pos::from_marker(e.marker()), e.info().to_string()))?;
    if indexer.docs.is_empty() {
        indexer.docs.push(DocPositions::default());
    }
    Ok(indexer.docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    fn pos(line: usize, col: usize) -> Pos {
        Pos { line, col }
    }

    fn serde_docs(src: &str) -> Vec<serde_yaml::Value> {
        serde_yaml::Deserializer::from_str(src)
            .map(|d| serde_yaml::Value::deserialize(d).expect("valid yaml"))
            .collect()
    }

    /// Deserialize document `doc` the way the loader does and return the
    /// error path serde_path_to_error reports.
    fn err_path<T: DeserializeOwned + std::fmt::Debug>(src: &str, doc: usize) -> String {
        let value = serde_docs(src).swap_remove(doc);
        let err = serde_path_to_error::deserialize::<_, T>(value).expect_err("should fail");
        err.path().to_string()
    }

    fn index(src: &str) -> Vec<DocPositions> {
        index_documents(src).expect("valid yaml")
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Deploy {
        spec: Spec,
    }
    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Spec {
        replicas: Option<u32>,
        template: Template,
    }
    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Template {
        spec: PodSpec,
    }
    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct PodSpec {
        containers: Vec<Container>,
    }
    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Container {
        name: String,
        image: String,
    }
    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Meta {
        metadata: Labels,
    }
    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Labels {
        labels: BTreeMap<String, String>,
    }
    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Named {
        name: String,
    }

    const DEPLOY: &str = "\
# a comment
apiVersion: apps/v1
kind: Deployment
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: [1, 2]
";

    #[test]
    fn nested_error_path_resolves_to_key_and_value() {
        let path = err_path::<Deploy>(DEPLOY, 0);
        assert_eq!(path, "spec.template.spec.containers[0].image");
        let doc = &index(DEPLOY)[0];
        assert_eq!(doc.get(&path), Some(pos(10, 11)));
        assert_eq!(doc.value_pos(&path), Some(pos(10, 18)));
        assert_eq!(
            doc.get("spec.template.spec.containers[0]"),
            Some(pos(9, 11))
        );
        assert_eq!(doc.get("spec.template.spec.containers"), Some(pos(8, 7)));
        assert_eq!(
            doc.value_pos("spec.template.spec.containers"),
            Some(pos(9, 9))
        );
        assert_eq!(doc.value_pos("spec"), Some(pos(5, 3)));
        assert_eq!(
            doc.get("spec.template.spec.containers[0].image[1]"),
            Some(pos(10, 22))
        );
        assert_eq!(doc.start(), pos(2, 1));
    }

    #[test]
    fn top_level_key_and_root() {
        let src = "replicas: [x]\nname: a\n";
        let path = err_path::<Spec>(src, 0);
        assert_eq!(path, "replicas");
        let doc = &index(src)[0];
        assert_eq!(doc.get(&path), Some(pos(1, 1)));
        assert_eq!(doc.value_pos(&path), Some(pos(1, 11)));
        assert_eq!(doc.get("name"), Some(pos(2, 1)));

        // A wrong type for the whole document: serde_path_to_error prints ".".
        let src = "\n\n  just a string\n";
        let path = err_path::<Spec>(src, 0);
        assert_eq!(path, ".");
        let doc = &index(src)[0];
        assert_eq!(doc.get(&path), Some(pos(3, 3)));
        assert_eq!(doc.nearest(&path), pos(3, 3));
        assert_eq!(doc.start(), pos(3, 3));
    }

    #[test]
    fn missing_field_points_at_parent() {
        let src = "spec:\n  template:\n    spec: {}\n";
        let path = err_path::<Deploy>(src, 0);
        // A missing field is reported at the map that lacks it.
        assert_eq!(path, "spec.template.spec");
        let doc = &index(src)[0];
        assert_eq!(doc.nearest(&path), pos(3, 5));
        assert_eq!(doc.value_pos(&path), Some(pos(3, 11)));
    }

    #[test]
    fn root_sequence_index() {
        let src = "- name: a\n- name: [b]\n";
        let path = err_path::<Vec<Named>>(src, 0);
        assert_eq!(path, "[1].name");
        let doc = &index(src)[0];
        assert_eq!(doc.get(&path), Some(pos(2, 3)));
        assert_eq!(doc.get("[1]"), Some(pos(2, 3)));
        assert_eq!(doc.get("[0]"), Some(pos(1, 3)));
        assert_eq!(doc.start(), pos(1, 1));
    }

    #[test]
    fn dotted_label_keys_are_verbatim() {
        let src = "metadata:\n  labels:\n    app: web\n    topology.kubernetes.io/zone: [a]\n";
        let path = err_path::<Meta>(src, 0);
        assert_eq!(path, "metadata.labels.topology.kubernetes.io/zone");
        let doc = &index(src)[0];
        assert_eq!(doc.get(&path), Some(pos(4, 5)));
        assert_eq!(doc.value_pos(&path), Some(pos(4, 34)));
        // nearest() cuts at segment boundaries, so a deeper path still finds the label.
        assert_eq!(doc.nearest(&format!("{path}.x[3]")), pos(4, 5));
    }

    #[test]
    fn nested_sequences() {
        let src = "[[1, 2], [3, x]]";
        let path = err_path::<Vec<Vec<u32>>>(src, 0);
        assert_eq!(path, "[1][1]");
        let doc = &index(src)[0];
        assert_eq!(doc.get(&path), Some(pos(1, 14)));
        assert_eq!(doc.get("[1]"), Some(pos(1, 10)));
        assert_eq!(doc.get("."), Some(pos(1, 1)));

        let block = "- - a\n  - b\n- - c\n";
        let doc = &index(block)[0];
        assert_eq!(doc.get("[0]"), Some(pos(1, 3)));
        assert_eq!(doc.get("[0][1]"), Some(pos(2, 5)));
        assert_eq!(doc.get("[1][0]"), Some(pos(3, 5)));
    }

    #[test]
    fn integer_keys_use_numeric_form() {
        let src = "1: a\n0x10: [b]\n";
        let path = err_path::<BTreeMap<u32, String>>(src, 0);
        assert_eq!(path, "16");
        let doc = &index(src)[0];
        assert_eq!(doc.get(&path), Some(pos(2, 1)));
        assert_eq!(doc.get("1"), Some(pos(1, 1)));
    }

    #[test]
    fn multi_document_error_in_second_doc() {
        let src = "---\nspec:\n  template: {spec: {containers: []}}\n---\n# second\nspec:\n  replicas: many\n  template: {spec: {containers: []}}\n";
        let path = err_path::<Deploy>(src, 1);
        assert_eq!(path, "spec.replicas");
        let docs = index(src);
        assert_eq!(docs.len(), serde_docs(src).len());
        assert_eq!(docs[1].get(&path), Some(pos(7, 3)));
        assert_eq!(docs[1].value_pos(&path), Some(pos(7, 13)));
        assert_eq!(
            docs[0].get("spec.template.spec.containers"),
            Some(pos(3, 21))
        );
        assert_eq!(docs[0].start(), pos(2, 1));
        assert_eq!(docs[1].start(), pos(6, 1));
    }

    #[test]
    fn document_counts_match_serde_yaml() {
        let cases = [
            "",
            "\n",
            "# only a comment\n",
            "---\n",
            "--- # c\n",
            "a: 1\n",
            "---\na: 1\n",
            "a: 1\n---\n",
            "a: 1\n--- \n",
            "a: 1\n---\n# c\n",
            "a: 1\n---\n---\nb: 2\n",
            "a: 1\n---\n# comment only\n---\nb: 2\n",
            "a: 1\n...\n",
            "a: 1\n...\n---\nb: 1\n",
            "---\n...\n",
            "--- x\n--- y\n",
            "%YAML 1.2\n---\na: 1\n",
            "---\na: 1\n---\nb: 2\n---\n",
        ];
        for src in cases {
            let ours = index(src);
            let theirs = serde_docs(src);
            assert_eq!(ours.len(), theirs.len(), "document count for {src:?}");
            for (d, v) in ours.iter().zip(&theirs) {
                // Null documents index only their (empty) root, if anything.
                if v.is_null() {
                    assert!(d.len() <= 1, "{src:?}");
                }
            }
        }
    }

    #[test]
    fn empty_documents_keep_alignment() {
        let src = "a: 1\n---\n# nothing here\n---\nb: 2\n";
        let docs = index(src);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].get("a"), Some(pos(1, 1)));
        assert_eq!(docs[1].get("a"), None);
        assert_eq!(docs[2].get("b"), Some(pos(5, 1)));
        assert_eq!(index("")[0].start(), pos(1, 1));
    }

    #[test]
    fn flow_style() {
        let src = "x: {a: 1, b: [x, y]}\n";
        let doc = &index(src)[0];
        assert_eq!(doc.value_pos("x"), Some(pos(1, 4)));
        assert_eq!(doc.get("x.a"), Some(pos(1, 5)));
        assert_eq!(doc.value_pos("x.a"), Some(pos(1, 8)));
        assert_eq!(doc.get("x.b"), Some(pos(1, 11)));
        assert_eq!(doc.value_pos("x.b"), Some(pos(1, 14)));
        assert_eq!(doc.get("x.b[1]"), Some(pos(1, 18)));
    }

    #[test]
    fn block_scalars_and_quoted_keys() {
        let src = "script: |\n  echo hi\n  exit 1\n\"a.b\": 1\n'c': 2\nafter: 3\n";
        let doc = &index(src)[0];
        assert_eq!(doc.get("script"), Some(pos(1, 1)));
        assert_eq!(doc.value_pos("script"), Some(pos(2, 3)));
        assert_eq!(doc.get("a.b"), Some(pos(4, 1)));
        assert_eq!(doc.get("c"), Some(pos(5, 1)));
        assert_eq!(doc.get("after"), Some(pos(6, 1)));
    }

    #[test]
    fn anchors_and_aliases() {
        let src = "base: &b\n  image: nginx\nc: *b\nlist:\n  - *b\n";
        let doc = &index(src)[0];
        assert_eq!(doc.get("base.image"), Some(pos(2, 3)));
        assert_eq!(doc.get("c"), Some(pos(3, 1)));
        assert_eq!(doc.value_pos("c"), Some(pos(3, 4)));
        assert_eq!(doc.get("list[0]"), Some(pos(5, 5)));
        // The alias' contents are not expanded; nearest() lands on the alias.
        assert_eq!(doc.nearest("c.image"), pos(3, 1));
    }

    #[test]
    fn complex_keys_are_skipped() {
        let src = "? [a, b]\n: 1\nz: 2\n";
        let doc = &index(src)[0];
        assert_eq!(doc.get("?"), Some(pos(1, 3)));
        assert_eq!(doc.get("z"), Some(pos(3, 1)));
        assert_eq!(doc.len(), 3);
    }

    #[test]
    fn nearest_falls_back() {
        let doc = &index(DEPLOY)[0];
        assert_eq!(
            doc.nearest("spec.template.spec.containers[5].image"),
            pos(8, 7)
        );
        assert_eq!(doc.nearest("spec.nope.deeper"), pos(4, 1));
        assert_eq!(doc.nearest("nope"), pos(2, 1));
        assert_eq!(doc.nearest("."), pos(2, 1));
        assert_eq!(doc.nearest(""), pos(2, 1));
    }

    #[test]
    fn path_helpers() {
        assert_eq!(child_key("", "spec"), "spec");
        assert_eq!(child_key(".", "spec"), "spec");
        assert_eq!(child_key("spec", "replicas"), "spec.replicas");
        assert_eq!(child_index("spec.containers", 0), "spec.containers[0]");
        assert_eq!(child_index("", 0), "[0]");
        assert_eq!(child_key(&child_index("", 1), "name"), "[1].name");
        assert_eq!(pos(3, 7).to_string(), "3:7");
    }

    #[test]
    fn syntax_errors_report_position() {
        let (p, msg) = index_documents("a: [1\n").unwrap_err();
        assert_eq!(p, pos(2, 1));
        assert!(msg.contains("flow sequence"), "{msg}");
        let (p, msg) = index_documents("ok: 1\nbad: b: c\n").unwrap_err();
        assert_eq!(p, pos(2, 7));
        assert!(msg.contains("mapping values are not allowed"), "{msg}");
    }
}
