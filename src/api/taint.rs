//! Taints (on nodes) and tolerations (on pods), as `v1.Taint` / `v1.Toleration`.

use crate::sim::time::SimTime;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn parse(s: &str) -> Result<TaintEffect, String> {
        match s {
            "NoSchedule" => Ok(TaintEffect::NoSchedule),
            "PreferNoSchedule" => Ok(TaintEffect::PreferNoSchedule),
            "NoExecute" => Ok(TaintEffect::NoExecute),
            _ => Err(format!(
                "unknown taint effect {s:?}: expected NoSchedule, PreferNoSchedule or NoExecute"
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
    pub time_added: Option<SimTime>,
}

impl Taint {
    pub fn new(key: &str, value: &str, effect: TaintEffect) -> Self {
        Taint {
            key: key.into(),
            value: value.into(),
            effect,
            time_added: None,
        }
    }
}

impl fmt::Display for Taint {
    /// kubectl form: `key=value:Effect` or `key:Effect`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}", self.key, self.effect.as_str())
        } else {
            write!(f, "{}={}:{}", self.key, self.value, self.effect.as_str())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TolerationOperator {
    #[default]
    Equal,
    Exists,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Toleration {
    /// Empty with `Exists` tolerates every taint.
    pub key: String,
    pub operator: TolerationOperator,
    pub value: String,
    /// None tolerates every effect.
    pub effect: Option<TaintEffect>,
    /// For NoExecute: how long the pod stays bound after the taint appears.
    pub toleration_seconds: Option<i64>,
}

impl Toleration {
    /// `ToleratesTaint` from k8s.io/api/core/v1/toleration.go.
    pub fn tolerates(&self, t: &Taint) -> bool {
        if let Some(e) = self.effect {
            if e != t.effect {
                return false;
            }
        }
        if !self.key.is_empty() && self.key != t.key {
            return false;
        }
        match self.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == t.value,
        }
    }
}

/// Whether any toleration in `tols` tolerates `taint`.
pub fn tolerated(tols: &[Toleration], taint: &Taint) -> bool {
    tols.iter().any(|t| t.tolerates(taint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(
        key: &str,
        op: TolerationOperator,
        value: &str,
        effect: Option<TaintEffect>,
    ) -> Toleration {
        Toleration {
            key: key.into(),
            operator: op,
            value: value.into(),
            effect,
            toleration_seconds: None,
        }
    }

    #[test]
    fn toleration_matching_follows_upstream() {
        let t = Taint::new("dedicated", "gpu", TaintEffect::NoSchedule);
        assert!(tol("dedicated", TolerationOperator::Equal, "gpu", None).tolerates(&t));
        assert!(!tol("dedicated", TolerationOperator::Equal, "cpu", None).tolerates(&t));
        assert!(tol("dedicated", TolerationOperator::Exists, "", None).tolerates(&t));
        assert!(tol("", TolerationOperator::Exists, "", None).tolerates(&t));
        assert!(!tol(
            "dedicated",
            TolerationOperator::Exists,
            "",
            Some(TaintEffect::NoExecute)
        )
        .tolerates(&t));
        assert!(!tol("other", TolerationOperator::Exists, "", None).tolerates(&t));
    }

    #[test]
    fn taint_prints_like_kubectl() {
        assert_eq!(
            Taint::new("a", "b", TaintEffect::NoExecute).to_string(),
            "a=b:NoExecute"
        );
        assert_eq!(
            Taint::new("a", "", TaintEffect::NoSchedule).to_string(),
            "a:NoSchedule"
        );
    }
}
