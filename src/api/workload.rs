//! ReplicaSets and Deployments, as `apps/v1`.

use super::meta::ObjectMeta;
use super::pod::PodTemplate;
use super::selector::LabelSelector;
use crate::sim::time::SimDuration;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaSetStatus {
    pub replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub observed_generation: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSet {
    pub meta: ObjectMeta,
    pub replicas: i32,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    pub min_ready: SimDuration,
    pub status: ReplicaSetStatus,
}

/// An absolute number or a percentage of the desired replicas (`intstr.IntOrString`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(i32),
    Percent(i32),
}

impl IntOrPercent {
    /// `GetScaledValueFromIntOrPercent`: percentages round up or down as asked.
    pub fn scaled(self, total: i32, round_up: bool) -> i32 {
        match self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => {
                let num = p as i64 * total as i64;
                if round_up {
                    ((num + 99) / 100) as i32
                } else {
                    (num / 100) as i32
                }
            }
        }
    }
    pub fn parse(s: &str) -> Result<IntOrPercent, String> {
        if let Some(p) = s.strip_suffix('%') {
            p.parse::<i32>()
                .ok()
                .filter(|v| *v >= 0)
                .map(IntOrPercent::Percent)
                .ok_or_else(|| format!("{s:?} is not a valid percentage (e.g. 25%)"))
        } else {
            s.parse::<i32>()
                .ok()
                .filter(|v| *v >= 0)
                .map(IntOrPercent::Int)
                .ok_or_else(|| format!("{s:?}: expected a non-negative integer or a percentage"))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentStrategy {
    Recreate,
    RollingUpdate {
        max_surge: IntOrPercent,
        max_unavailable: IntOrPercent,
    },
}

impl Default for DeploymentStrategy {
    /// maxSurge 25%, maxUnavailable 25% (pkg/apis/apps/v1/defaults.go).
    fn default() -> Self {
        DeploymentStrategy::RollingUpdate {
            max_surge: IntOrPercent::Percent(25),
            max_unavailable: IntOrPercent::Percent(25),
        }
    }
}

/// `ResolveFenceposts`: surge rounds up, unavailable rounds down, both 0 → unavailable 1.
pub fn resolve_fenceposts(
    surge: IntOrPercent,
    unavailable: IntOrPercent,
    desired: i32,
) -> (i32, i32) {
    let s = surge.scaled(desired, true);
    let mut u = unavailable.scaled(desired, false);
    if s == 0 && u == 0 {
        u = 1;
    }
    (s, u)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentStatus {
    pub replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub observed_generation: i64,
    /// The `Progressing` condition's status: false once the rollout has made no
    /// progress for `progressDeadlineSeconds` (reason ProgressDeadlineExceeded).
    pub progressing: bool,
    /// The `Progressing` condition's `lastUpdateTime`: the last progress seen
    /// (None while paused, so no deadline runs).
    pub last_progress: Option<crate::sim::time::SimTime>,
    /// The `Progressing` condition's reason is `NewReplicaSetAvailable`: the
    /// last rollout completed and nothing has progressed since, so no deadline
    /// runs (upstream `DeploymentTimedOut`) — losing a pod later is not a stuck rollout.
    pub new_rs_available: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub meta: ObjectMeta,
    pub replicas: i32,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    pub strategy: DeploymentStrategy,
    pub min_ready: SimDuration,
    pub revision_history_limit: i32,
    pub progress_deadline: SimDuration,
    pub paused: bool,
    pub status: DeploymentStatus,
}

impl Deployment {
    /// `MaxUnavailable`: 0 unless RollingUpdate with replicas > 0, capped at replicas.
    pub fn max_unavailable(&self) -> i32 {
        match self.strategy {
            DeploymentStrategy::RollingUpdate {
                max_surge,
                max_unavailable,
            } if self.replicas > 0 => {
                let (_, u) = resolve_fenceposts(max_surge, max_unavailable, self.replicas);
                u.min(self.replicas)
            }
            _ => 0,
        }
    }
    /// `MaxSurge`: 0 unless RollingUpdate.
    pub fn max_surge(&self) -> i32 {
        match self.strategy {
            DeploymentStrategy::RollingUpdate {
                max_surge,
                max_unavailable,
            } => resolve_fenceposts(max_surge, max_unavailable, self.replicas).0,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenceposts_match_upstream_example() {
        let p = IntOrPercent::Percent(39);
        assert_eq!(resolve_fenceposts(p, p, 10), (4, 3));
        assert_eq!(
            resolve_fenceposts(IntOrPercent::Int(0), IntOrPercent::Percent(10), 5),
            (0, 1)
        );
        let d = IntOrPercent::Percent(25);
        assert_eq!(resolve_fenceposts(d, d, 1), (1, 0));
        assert_eq!(resolve_fenceposts(d, d, 4), (1, 1));
    }

    #[test]
    fn int_or_percent_parse() {
        assert_eq!(IntOrPercent::parse("25%"), Ok(IntOrPercent::Percent(25)));
        assert_eq!(IntOrPercent::parse("3"), Ok(IntOrPercent::Int(3)));
        assert!(IntOrPercent::parse("-1").is_err());
        assert!(IntOrPercent::parse("x%").is_err());
    }
}
