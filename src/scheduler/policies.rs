//! Named scheduling policies, registered by name so a scenario, the CLI or a
//! library user can pick one. A policy builds a [`Profile`]; library users add
//! their own with [`Registry::register`] without touching the engine.

use super::framework::{FilterPlugin, Profile, ScorePlugin, Selection};
use super::plugins::{self, FitStrategy, NodeResourcesFitScore};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Builds a profile with the given profile name (the pods' `schedulerName`).
pub type ProfileBuilder = Arc<dyn Fn(&str) -> Profile + Send + Sync>;

/// A registered policy.
#[derive(Clone)]
pub struct Policy {
    pub name: String,
    pub description: String,
    build: ProfileBuilder,
}

impl Policy {
    pub fn build(&self, profile_name: &str) -> Profile {
        (self.build)(profile_name)
    }
}

/// An unknown policy name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scheduling policy {name:?}; valid policies: {}", valid.join(", "))]
pub struct UnknownPolicy {
    pub name: String,
    pub valid: Vec<String>,
}

/// The policies a simulation can use, by name.
#[derive(Clone)]
pub struct Registry {
    policies: BTreeMap<String, Policy>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::builtin()
    }
}

/// The filters every built-in policy shares: what must hold for a pod to run on a
/// node (the default profile's filter plugins, in upstream order).
pub fn default_filters() -> Vec<Box<dyn FilterPlugin>> {
    plugins::FILTER_PLUGINS
        .iter()
        .filter_map(|n| plugins::filter_plugin(n))
        .collect()
}

fn only_score(name: &str, plugin: Box<dyn ScorePlugin>) -> Profile {
    let mut p = Profile::new(name);
    p.filters = default_filters();
    p.scores = vec![(plugin, 1)];
    p
}

impl Registry {
    /// No policies at all (build your own set).
    pub fn empty() -> Self {
        Registry {
            policies: BTreeMap::new(),
        }
    }

    /// The built-in policies.
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        r.register(
            "default",
            "kube-scheduler's default profile: upstream plugins and weights",
            |name: &str| {
                let mut p = super::default_profile();
                p.name = name.to_string();
                p
            },
        );
        r.register(
            "least-allocated",
            "NodeResourcesFit LeastAllocated only: spread load, prefer the emptiest node",
            |name: &str| only_score(name, Box::new(NodeResourcesFitScore::default())),
        );
        r.register(
            "most-allocated",
            "NodeResourcesFit MostAllocated only: bin-packing, prefer the fullest node that fits",
            |name: &str| {
                only_score(
                    name,
                    Box::new(NodeResourcesFitScore {
                        strategy: FitStrategy::MostAllocated,
                        ..Default::default()
                    }),
                )
            },
        );
        r.register(
            "balanced",
            "NodeResourcesBalancedAllocation only: keep each node's CPU and memory use even",
            |name: &str| only_score(name, Box::new(plugins::BalancedAllocation::default())),
        );
        r.register(
            "spread",
            "PodTopologySpread (system defaults: hostname and zone) weight 2 + LeastAllocated 1: spread each app",
            |name: &str| {
                let mut p = Profile::new(name);
                p.filters = default_filters();
                p.scores = vec![
                    (Box::new(plugins::PodTopologySpread::default()) as Box<dyn ScorePlugin>, 2),
                    (Box::new(NodeResourcesFitScore::default()), 1),
                ];
                p
            },
        );
        r.register(
            "random",
            "a uniformly random feasible node (seeded), every node considered",
            |name: &str| {
                let mut p = Profile::new(name);
                p.filters = default_filters();
                p.percentage_of_nodes_to_score = Some(100);
                p
            },
        );
        r.register(
            "first-fit",
            "the first feasible node in node order, no scoring",
            |name: &str| {
                let mut p = Profile::new(name);
                p.filters = default_filters();
                p.selection = Selection::FirstFeasible;
                p
            },
        );
        r
    }

    /// Add or replace a policy.
    pub fn register(
        &mut self,
        name: &str,
        description: &str,
        build: impl Fn(&str) -> Profile + Send + Sync + 'static,
    ) {
        self.policies.insert(
            name.to_string(),
            Policy {
                name: name.to_string(),
                description: description.to_string(),
                build: Arc::new(build),
            },
        );
    }

    pub fn get(&self, name: &str) -> Result<&Policy, UnknownPolicy> {
        self.policies.get(name).ok_or_else(|| UnknownPolicy {
            name: name.to_string(),
            valid: self.policies.keys().cloned().collect(),
        })
    }

    /// Build policy `policy` as a profile named `profile_name`.
    pub fn build(&self, policy: &str, profile_name: &str) -> Result<Profile, UnknownPolicy> {
        Ok(self.get(policy)?.build(profile_name))
    }

    /// Every policy, in name order.
    pub fn list(&self) -> impl Iterator<Item = &Policy> {
        self.policies.values()
    }

    pub fn names(&self) -> Vec<String> {
        self.policies.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_policy_lists_the_valid_ones() {
        let r = Registry::builtin();
        let e = r.build("bin-pack", "default-scheduler").unwrap_err();
        assert!(e.to_string().contains("most-allocated"), "{e}");
        assert!(e.to_string().contains("first-fit"), "{e}");
    }

    #[test]
    fn builtin_policies_build_profiles_with_the_requested_name() {
        let r = Registry::builtin();
        for name in r.names() {
            let p = r.build(&name, "x").unwrap();
            assert_eq!(p.name, "x");
            assert!(!p.filters.is_empty(), "{name} has filters");
        }
        assert_eq!(
            r.build("first-fit", "x").unwrap().selection,
            Selection::FirstFeasible
        );
    }

    #[test]
    fn users_can_register_their_own_policy() {
        let mut r = Registry::builtin();
        r.register("mine", "test", |n: &str| Profile::new(n));
        assert!(r.get("mine").is_ok());
        assert!(r.names().contains(&"mine".to_string()));
    }
}
