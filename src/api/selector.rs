//! Label selectors with `metav1.LabelSelector` semantics, plus the plain
//! equality maps used by Service selectors and `nodeSelector`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Object labels; a `BTreeMap` so iteration (and thus output) is deterministic.
pub type Labels = BTreeMap<String, String>;

/// Upstream's limit for label values and the name part of keys.
const MAX_NAME_LEN: usize = 63;
/// Upstream's limit for DNS-1123 subdomains (label key prefixes).
const MAX_SUBDOMAIN_LEN: usize = 253;

const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', \
     and must start and end with an alphanumeric character (e.g. 'MyName', 'my.name', or '123-abc')";
const SUBDOMAIN_MSG: &str = "must be a lowercase RFC 1123 subdomain: lower case alphanumeric \
     characters, '-' or '.', starting and ending with an alphanumeric character (e.g. 'example.com')";
const LABEL_VALUE_MSG: &str = "must be empty or consist of alphanumeric characters, '-', '_' \
     or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', 'my_value', or '12345')";

/// A selector that cannot be built or validated; the message is user-facing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// The set-based operators allowed in `matchExpressions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Operator {
    /// Every operator, in manifest spelling order.
    pub const ALL: [Operator; 4] = [
        Operator::In,
        Operator::NotIn,
        Operator::Exists,
        Operator::DoesNotExist,
    ];

    /// Parses the exact (case-sensitive) manifest spelling, as the API server does.
    pub fn parse(s: &str) -> Result<Operator, SelectorError> {
        Operator::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| {
                SelectorError(format!(
                    "invalid label selector operator {s:?}: expected one of \
                     \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\""
                ))
            })
    }

    /// The manifest spelling (`"NotIn"`), not the selector-string one (`notin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operator {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operator::parse(s)
    }
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

impl Requirement {
    /// Validated constructor, mirroring `labels.NewRequirement`, so bad
    /// manifests fail at load time rather than silently matching nothing.
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Self, SelectorError> {
        let req = Requirement {
            key: key.into(),
            operator,
            values,
        };
        req.validate()?;
        Ok(req)
    }

    /// Checks the key, the value count for the operator and every value;
    /// needed because the fields are public.
    pub fn validate(&self) -> Result<(), SelectorError> {
        validate_label_key(&self.key)?;
        match self.operator {
            Operator::In | Operator::NotIn if self.values.is_empty() => {
                return Err(SelectorError(format!(
                    "invalid requirement on key {:?}: operator {} needs at least one value",
                    self.key, self.operator
                )));
            }
            Operator::Exists | Operator::DoesNotExist if !self.values.is_empty() => {
                return Err(SelectorError(format!(
                    "invalid requirement on key {:?}: operator {} takes no values, got {:?}",
                    self.key, self.operator, self.values
                )));
            }
            _ => {}
        }
        for v in &self.values {
            validate_label_value(v).map_err(|e| {
                SelectorError(format!("invalid requirement on key {:?}: {e}", self.key))
            })?;
        }
        Ok(())
    }

    /// Upstream semantics: `NotIn` matches objects lacking the key.
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

/// Selector-string form (`tier in (a,b)`, `!legacy`), values sorted as upstream.
impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.operator {
            Operator::Exists => return f.write_str(&self.key),
            Operator::DoesNotExist => return write!(f, "!{}", self.key),
            Operator::In => "in",
            Operator::NotIn => "notin",
        };
        let mut values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        values.sort_unstable();
        write!(f, "{} {word} ({})", self.key, values.join(","))
    }
}

/// `metav1.LabelSelector`: all `match_labels` AND all `match_expressions`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<Requirement>,
}

/// A 64-bit Bloom signature of label pairs: one bit per `key=value`, from a
/// fixed FNV-1a hash (the same on every machine). A label set can only satisfy
/// a selector whose `matchLabels` signature bits it has all of, so the
/// scheduler rejects most pod groups with one AND instead of string compares.
/// It only ever filters: a match is still decided by [`LabelSelector::matches`].
pub fn pair_bloom(key: &str, value: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain([0xff]).chain(value.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    1 << (h >> 58)
}

/// [`pair_bloom`] of every pair of `labels`.
pub fn labels_bloom(labels: &Labels) -> u64 {
    labels.iter().fold(0, |b, (k, v)| b | pair_bloom(k, v))
}

impl LabelSelector {
    /// The [`pair_bloom`] bits every label set this selector matches has.
    pub fn required_bloom(&self) -> u64 {
        labels_bloom(&self.match_labels)
    }

    /// Convenience for the common equality-only selector.
    pub fn from_labels(match_labels: Labels) -> Self {
        LabelSelector {
            match_labels,
            match_expressions: Vec::new(),
        }
    }

    /// An empty selector matches everything, as `LabelSelectorAsSelector`
    /// does; callers wanting "nil matches nothing" must use `Option`.
    pub fn matches(&self, labels: &Labels) -> bool {
        matches_map(&self.match_labels, labels)
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }

    /// True when the selector has no constraints (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Validates every key, value and expression, like `LabelSelectorAsSelector`
    /// does before the API server accepts an object.
    pub fn validate(&self) -> Result<(), SelectorError> {
        for (k, v) in &self.match_labels {
            validate_label_key(k)?;
            validate_label_value(v)
                .map_err(|e| SelectorError(format!("invalid matchLabels entry {k:?}: {e}")))?;
        }
        self.match_expressions
            .iter()
            .try_for_each(Requirement::validate)
    }

    /// kubectl-style string, e.g. "app=web,!legacy,tier in (a,b)"; like
    /// upstream, terms are sorted by key so output is canonical.
    pub fn to_string_k8s(&self) -> String {
        let mut terms: Vec<(&str, String)> = self
            .match_labels
            .iter()
            .map(|(k, v)| (k.as_str(), format!("{k}={v}")))
            .chain(
                self.match_expressions
                    .iter()
                    .map(|r| (r.key.as_str(), r.to_string())),
            )
            .collect();
        terms.sort_by(|a, b| a.0.cmp(b.0));
        terms
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_k8s())
    }
}

/// Equality-only matching for Service selectors and `nodeSelector`: every
/// key/value must be present. An empty map matches everything; a Service
/// with no selector must be special-cased by the caller.
pub fn matches_map(selector: &Labels, labels: &Labels) -> bool {
    if selector.len() > labels.len() {
        return false; // keys are unique: some selector key is missing
    }
    if labels.len() <= 8 {
        // a short scan with `==` (lengths first) beats a tree search that
        // orders keys with `memcmp` at every step; keys are unique, so the
        // pair is found exactly when `labels[k] == v`
        return selector
            .iter()
            .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v));
    }
    selector
        .iter()
        .all(|(k, v)| labels.get(k).is_some_and(|lv| lv == v))
}

/// Validates a label key: optional DNS-1123 subdomain prefix and '/', then a
/// name of at most 63 characters (upstream `IsQualifiedName`).
pub fn validate_label_key(k: &str) -> Result<(), SelectorError> {
    let errors = qualified_name_errors(k);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SelectorError(format!(
            "invalid label key {k:?}: {}",
            errors.join("; ")
        )))
    }
}

/// Validates a label value: at most 63 characters, empty allowed,
/// alphanumeric at both ends and `-_.` inside.
pub fn validate_label_value(v: &str) -> Result<(), SelectorError> {
    let mut errors = Vec::new();
    if v.len() > MAX_NAME_LEN {
        errors.push(format!("must be no more than {MAX_NAME_LEN} characters"));
    }
    if !v.is_empty() && !is_qualified_name_part(v) {
        errors.push(LABEL_VALUE_MSG.to_owned());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SelectorError(format!(
            "invalid label value {v:?}: {}",
            errors.join("; ")
        )))
    }
}

fn qualified_name_errors(key: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let name = match key.split_once('/') {
        None => key,
        Some((_, name)) if name.contains('/') => {
            return vec![format!(
                "a qualified name {QUALIFIED_NAME_MSG}, with an optional DNS subdomain \
                 prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
        Some((prefix, name)) => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_owned());
            } else {
                if prefix.len() > MAX_SUBDOMAIN_LEN {
                    errors.push(format!(
                        "prefix part must be no more than {MAX_SUBDOMAIN_LEN} characters"
                    ));
                }
                if !is_dns1123_subdomain(prefix) {
                    errors.push(format!("prefix part {SUBDOMAIN_MSG}"));
                }
            }
            name
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_owned());
    } else {
        if name.len() > MAX_NAME_LEN {
            errors.push(format!(
                "name part must be no more than {MAX_NAME_LEN} characters"
            ));
        }
        if !is_qualified_name_part(name) {
            errors.push(format!("name part {QUALIFIED_NAME_MSG}"));
        }
    }
    errors
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, without pulling in a regex crate.
fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Dot-separated labels of `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn is_dns1123_subdomain(s: &str) -> bool {
    let lower_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    s.split('.').all(|label| {
        let b = label.as_bytes();
        match (b.first(), b.last()) {
            (Some(first), Some(last)) => {
                lower_alnum(first)
                    && lower_alnum(last)
                    && b.iter().all(|c| lower_alnum(c) || *c == b'-')
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bloom_never_rejects_a_match_and_is_fixed() {
        // the hash is part of no output, but fixed: the same bits everywhere
        assert_eq!(pair_bloom("app", "web"), pair_bloom("app", "web"));
        assert_ne!(pair_bloom("app", "web"), 0);
        assert_eq!(pair_bloom("app", "web").count_ones(), 1);
        let sel = LabelSelector::from_labels(labels(&[("app", "web"), ("tier", "front")]));
        let mut rejected = 0;
        for extra in 0..200 {
            let k = format!("k{extra}");
            let v = format!("v{}", extra * 7);
            let matching = labels(&[("app", "web"), ("tier", "front"), (&k, &v)]);
            assert!(sel.matches(&matching));
            let r = sel.required_bloom();
            assert_eq!(
                labels_bloom(&matching) & r,
                r,
                "a match is never filtered out"
            );
            let other = labels(&[("app", &format!("web{extra}")), (&k, &v)]);
            assert!(!sel.matches(&other));
            rejected += usize::from(labels_bloom(&other) & r != r);
        }
        // and most non-matches are rejected by the bits alone
        assert!(rejected > 150, "{rejected}/200");
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn req(key: &str, op: Operator, values: &[&str]) -> Requirement {
        Requirement::new(key, op, values.iter().map(|v| v.to_string()).collect())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn expr(reqs: Vec<Requirement>) -> LabelSelector {
        LabelSelector {
            match_labels: Labels::new(),
            match_expressions: reqs,
        }
    }

    #[test]
    fn operator_parse() {
        for op in Operator::ALL {
            assert_eq!(Operator::parse(op.as_str()), Ok(op));
            assert_eq!(op.to_string().parse::<Operator>(), Ok(op));
        }
        let e = Operator::parse("in").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid label selector operator \"in\": expected one of \
             \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\""
        );
        assert!(Operator::parse("Gt").is_err());
        assert!(Operator::parse("").is_err());
    }

    #[test]
    fn in_operator() {
        let s = expr(vec![req("tier", Operator::In, &["web", "api"])]);
        assert!(s.matches(&labels(&[("tier", "web")])));
        assert!(s.matches(&labels(&[("tier", "api"), ("x", "y")])));
        assert!(!s.matches(&labels(&[("tier", "db")])));
        assert!(!s.matches(&labels(&[])), "absent key never matches In");
    }

    #[test]
    fn not_in_operator() {
        let s = expr(vec![req("tier", Operator::NotIn, &["db"])]);
        assert!(s.matches(&labels(&[("tier", "web")])));
        assert!(!s.matches(&labels(&[("tier", "db")])));
        assert!(
            s.matches(&labels(&[("other", "db")])),
            "absent key matches NotIn"
        );
    }

    #[test]
    fn exists_and_does_not_exist() {
        let exists = expr(vec![req("gpu", Operator::Exists, &[])]);
        let absent = expr(vec![req("gpu", Operator::DoesNotExist, &[])]);
        let with = labels(&[("gpu", "")]);
        let without = labels(&[("cpu", "x")]);
        assert!(exists.matches(&with));
        assert!(!exists.matches(&without));
        assert!(!absent.matches(&with));
        assert!(absent.matches(&without));
    }

    #[test]
    fn empty_selector_matches_everything() {
        let s = LabelSelector::default();
        assert!(s.is_empty());
        assert!(s.matches(&labels(&[])));
        assert!(s.matches(&labels(&[("a", "b")])));
        assert_eq!(s.to_string_k8s(), "");
        assert!(matches_map(&Labels::new(), &labels(&[("a", "b")])));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let s = LabelSelector {
            match_labels: labels(&[("app", "web")]),
            match_expressions: vec![req("env", Operator::In, &["prod"])],
        };
        assert!(!s.is_empty());
        assert!(s.matches(&labels(&[("app", "web"), ("env", "prod")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "dev")])));
        assert!(!s.matches(&labels(&[("app", "api"), ("env", "prod")])));
        assert!(!s.matches(&labels(&[("env", "prod")])));
        assert!(LabelSelector::from_labels(labels(&[("app", "web")]))
            .matches(&labels(&[("app", "web"), ("x", "y")])));
    }

    #[test]
    fn matches_map_requires_every_pair() {
        let sel = labels(&[("app", "web"), ("tier", "fe")]);
        assert!(matches_map(
            &sel,
            &labels(&[("app", "web"), ("tier", "fe"), ("x", "1")])
        ));
        assert!(!matches_map(&sel, &labels(&[("app", "web")])));
        assert!(!matches_map(
            &sel,
            &labels(&[("app", "web"), ("tier", "be")])
        ));
    }

    proptest::proptest! {
        /// The short-map scan and the tree lookups agree, on maps of any size
        /// drawn from few keys and values (so that matches and near misses both occur).
        #[test]
        fn matches_map_agrees_with_lookups(
            sel in proptest::collection::btree_map("[abc]{1,2}", "[xy]", 0..4),
            lab in proptest::collection::btree_map("[abc]{1,2}", "[xy]", 0..12),
        ) {
            let reference = sel.iter().all(|(k, v)| lab.get(k) == Some(v));
            proptest::prop_assert_eq!(matches_map(&sel, &lab), reference);
        }
    }

    #[test]
    fn string_form_is_sorted_like_upstream() {
        let s = LabelSelector {
            match_labels: labels(&[("app", "web")]),
            match_expressions: vec![
                req("tier", Operator::In, &["b", "a"]),
                req("legacy", Operator::DoesNotExist, &[]),
                req("env", Operator::NotIn, &["dev"]),
                req("gpu", Operator::Exists, &[]),
            ],
        };
        assert_eq!(
            s.to_string_k8s(),
            "app=web,env notin (dev),gpu,!legacy,tier in (a,b)"
        );
        assert_eq!(s.to_string(), s.to_string_k8s());
    }

    #[test]
    fn requirement_value_count_errors() {
        let e = Requirement::new("tier", Operator::In, vec![]).unwrap_err();
        assert_eq!(
            e.0,
            "invalid requirement on key \"tier\": operator In needs at least one value"
        );
        assert!(Requirement::new("tier", Operator::NotIn, vec![]).is_err());
        let e = Requirement::new("gpu", Operator::Exists, vec!["x".into()]).unwrap_err();
        assert!(e.0.contains("operator Exists takes no values"), "{e}");
        assert!(Requirement::new("gpu", Operator::DoesNotExist, vec!["x".into()]).is_err());
        let e = Requirement::new("tier", Operator::In, vec!["bad value".into()]).unwrap_err();
        assert!(
            e.0.starts_with(
                "invalid requirement on key \"tier\": invalid label value \"bad value\""
            ),
            "{e}"
        );
    }

    #[test]
    fn label_key_validation() {
        for ok in [
            "app",
            "a",
            "App.Name_1-x",
            "example.com/MyName",
            "kubernetes.io/hostname",
            "node-role.kubernetes.io/control-plane",
            &"a".repeat(63),
        ] {
            assert_eq!(validate_label_key(ok), Ok(()), "{ok}");
        }
        let msg = |k: &str| validate_label_key(k).unwrap_err().0;
        assert_eq!(
            msg(""),
            "invalid label key \"\": name part must be non-empty"
        );
        assert!(msg(&"a".repeat(64)).contains("name part must be no more than 63 characters"));
        assert!(msg("-app").contains("name part must consist of alphanumeric characters"));
        assert!(msg("app-").contains("must start and end with an alphanumeric"));
        assert!(msg("a b").contains("name part"));
        assert!(msg("/app").contains("prefix part must be non-empty"));
        assert!(
            msg("Example.com/app").contains("prefix part must be a lowercase RFC 1123 subdomain")
        );
        assert!(msg("example..com/app").contains("prefix part"));
        assert!(msg("example.com/").contains("name part must be non-empty"));
        assert!(msg("a/b/c").contains("optional DNS subdomain prefix"));
        let long_prefix = format!("{}/app", "a".repeat(254));
        assert!(msg(&long_prefix).contains("no more than 253 characters"));
        assert!(msg("ключ").contains("name part"));
    }

    #[test]
    fn label_value_validation() {
        for ok in ["", "a", "web-1", "v1.2_3", &"x".repeat(63)] {
            assert_eq!(validate_label_value(ok), Ok(()), "{ok:?}");
        }
        let e = validate_label_value(&"x".repeat(64)).unwrap_err();
        assert!(e.0.contains("must be no more than 63 characters"), "{e}");
        for bad in ["-a", "a-", "a b", "a/b", ".", "é"] {
            let e = validate_label_value(bad).unwrap_err();
            assert!(
                e.0.starts_with(&format!("invalid label value {bad:?}")),
                "{e}"
            );
            assert!(e.0.contains("alphanumeric"), "{e}");
        }
    }

    #[test]
    fn selector_validate() {
        let mut s = LabelSelector::from_labels(labels(&[("app", "web")]));
        assert_eq!(s.validate(), Ok(()));
        s.match_labels.insert("bad key".into(), "x".into());
        assert!(s
            .validate()
            .unwrap_err()
            .0
            .contains("invalid label key \"bad key\""));
        s.match_labels = labels(&[("app", "bad value")]);
        assert!(s
            .validate()
            .unwrap_err()
            .0
            .contains("invalid matchLabels entry \"app\""));
        s.match_labels.clear();
        s.match_expressions.push(Requirement {
            key: "tier".into(),
            operator: Operator::In,
            values: vec![],
        });
        assert!(s
            .validate()
            .unwrap_err()
            .0
            .contains("needs at least one value"));
    }
}
