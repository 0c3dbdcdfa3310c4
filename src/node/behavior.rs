//! The simulated application inside a pod's containers: how long it takes to
//! become ready, when it crashes, how much memory it uses.
//!
//! Declared in the scenario (`behaviors:`, matched by label selector, first match
//! wins) and/or on the pod with annotations, which override the scenario per field:
//! `kubesim.io/startup: 5s`, `kubesim.io/crash-after: 2m`, `kubesim.io/memory: 300Mi`,
//! `kubesim.io/exit-code: "2"`.

use crate::api::selector::{matches_map, Labels};
use crate::api::Pod;
use crate::sim::rng::SimRng;
use crate::sim::time::SimDuration;
use rand::RngExt;

pub const STARTUP: &str = "kubesim.io/startup";
pub const CRASH_AFTER: &str = "kubesim.io/crash-after";
pub const MEMORY: &str = "kubesim.io/memory";
pub const EXIT_CODE: &str = "kubesim.io/exit-code";

/// A duration, fixed or drawn uniformly (inclusive, whole milliseconds) from the
/// kubelet's own stream at every container start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationSpec {
    Fixed(SimDuration),
    Uniform(SimDuration, SimDuration),
}

impl DurationSpec {
    pub fn draw(self, rng: &mut SimRng) -> SimDuration {
        match self {
            DurationSpec::Fixed(d) => d,
            DurationSpec::Uniform(lo, hi) => {
                let (lo, hi) = (lo.as_millis(), hi.as_millis().max(lo.as_millis()));
                SimDuration::from_millis(rng.random_range(lo..=hi))
            }
        }
    }
}

/// One `behaviors:` entry of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppBehavior {
    /// `selector.matchLabels`.
    pub selector: Labels,
    /// Only pods of this namespace (any when unset).
    pub namespace: Option<String>,
    pub startup: Option<DurationSpec>,
    pub crash_after: Option<SimDuration>,
    /// Working set in bytes (OOMKilled when above a container's memory limit).
    pub memory: Option<i64>,
    pub exit_code: Option<i32>,
}

/// What the app does in one container run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppRun {
    /// From container start until the app answers its probes.
    pub startup: SimDuration,
    pub crash_after: Option<SimDuration>,
    pub memory: Option<i64>,
    /// Exit code of a crash (default 1).
    pub exit_code: i32,
}

/// The behaviour of `pod`'s app: the first matching scenario entry, with the
/// pod's annotations on top. Draws (uniform startup) from `rng` only when needed.
pub fn resolve(behaviors: &[AppBehavior], pod: &Pod, rng: &mut SimRng) -> AppRun {
    let b = behaviors
        .iter()
        .find(|b| {
            b.namespace
                .as_ref()
                .is_none_or(|ns| *ns == pod.meta.namespace)
                && matches_map(&b.selector, &pod.meta.labels)
        })
        .cloned()
        .unwrap_or_default();
    let ann = |k: &str| pod.meta.annotations.get(k);
    let startup = ann(STARTUP)
        .and_then(|v| SimDuration::parse(v).ok())
        .map(DurationSpec::Fixed)
        .or(b.startup);
    AppRun {
        startup: startup.map(|s| s.draw(rng)).unwrap_or(SimDuration::ZERO),
        crash_after: ann(CRASH_AFTER)
            .and_then(|v| SimDuration::parse(v).ok())
            .or(b.crash_after),
        memory: ann(MEMORY)
            .and_then(|v| crate::api::quantity::parse_value(v).ok())
            .or(b.memory),
        exit_code: ann(EXIT_CODE)
            .and_then(|v| v.trim().parse().ok())
            .or(b.exit_code)
            .unwrap_or(1),
    }
}
