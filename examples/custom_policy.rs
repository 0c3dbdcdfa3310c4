//! A scheduling policy of your own, added through the library API without
//! touching the engine: a score plugin that prefers nodes carrying a label, and a
//! policy that combines it with the built-in filters.
//!
//! Run it: `cargo run --example custom_policy`

use kubesim::api::Pod;
use kubesim::metrics::Recorder;
use kubesim::scheduler::framework::{
    CycleState, NodeInfo, PodInfo, Profile, ScorePlugin, MAX_NODE_SCORE,
};
use kubesim::scheduler::plugins::NodeResourcesFitScore;
use kubesim::scheduler::policies::{default_filters, Registry};
use kubesim::{scenario, Simulation};
use std::collections::BTreeMap;

/// Scores 100 on nodes labelled `LABEL=true`, 0 elsewhere.
struct PreferLabel;

const LABEL: &str = "example.com/preferred";

impl ScorePlugin for PreferLabel {
    fn name(&self) -> &'static str {
        "PreferLabel"
    }
    fn score(&self, _pod: &PodInfo, node: &NodeInfo, _state: &CycleState) -> i64 {
        if node.labels.get(LABEL).map(String::as_str) == Some("true") {
            MAX_NODE_SCORE
        } else {
            0
        }
    }
}

/// The built-in registry plus `prefer-labelled`.
fn registry() -> Registry {
    let mut r = Registry::builtin();
    r.register(
        "prefer-labelled",
        "nodes labelled example.com/preferred=true first, then the emptiest",
        |name: &str| {
            let mut p = Profile::new(name);
            p.filters = default_filters();
            p.scores = vec![
                (Box::new(PreferLabel), 10),
                (Box::new(NodeResourcesFitScore::default()), 1),
            ];
            p
        },
    );
    r
}

const SCENARIO: &str = r#"
name: custom-policy
until: 10m
cluster:
  nodePools:
    - {name: plain, count: 3, capacity: {cpu: "4", memory: 16Gi}}
    - {name: preferred, count: 2, capacity: {cpu: "4", memory: 16Gi}, labels: {example.com/preferred: "true"}}
  scheduler: {policy: default}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 6
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: c, image: "nginx:1.25", resources: {requests: {cpu: "1", memory: 1Gi}}}]
"#;

/// Run the scenario with `policy`; return pods per node.
fn placement(policy: &str) -> BTreeMap<String, usize> {
    let dir = std::env::temp_dir().join(format!("kubesim-example-{}-{policy}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, SCENARIO).expect("write scenario");
    let mut sc = scenario::load(&path).expect("valid scenario");
    std::fs::remove_dir_all(&dir).ok();
    sc.settings.profiles[0].1 = policy.to_string();
    let mut sim = Simulation::with_registry(&sc, Recorder::discard(), &registry())
        .expect("policy is registered");
    sim.run();
    let mut per_node = BTreeMap::new();
    for p in sim.api().list::<Pod>() {
        if let Some(n) = &p.node_name {
            *per_node.entry(n.clone()).or_insert(0) += 1;
        }
    }
    per_node
}

fn main() {
    for policy in ["default", "prefer-labelled"] {
        println!("{policy}: {:?}", placement(policy));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_custom_policy_fills_the_preferred_nodes_first() {
        let p = placement("prefer-labelled");
        // 6 pods of 1 CPU fit on the two 4-CPU preferred nodes
        assert_eq!(p.values().sum::<usize>(), 6);
        assert!(p.keys().all(|n| n.starts_with("preferred-")), "{p:?}");
    }

    #[test]
    fn the_default_policy_spreads_instead() {
        let p = placement("default");
        assert!(p.keys().any(|n| n.starts_with("plain-")), "{p:?}");
    }
}
