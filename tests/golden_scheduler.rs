//! Golden checks against upstream kube-scheduler's own unit tests (K8S-FACTS §1),
//! through the public `kubesim explain-schedule -o json` command.
//!
//! Units: upstream's cases use abstract numbers; here CPU is millicores and
//! memory bytes, so only the ratios matter, as upstream.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("kubesim-golden-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

/// A node as a manifest (cpu millicores, memory bytes).
fn node(name: &str, cpu: i64, mem: i64) -> String {
    format!(
        "- apiVersion: v1\n  kind: Node\n  metadata: {{name: {name}}}\n  status:\n    capacity: {{cpu: \"{cpu}m\", memory: \"{mem}\", pods: \"110\"}}\n"
    )
}

fn containers(cs: &[(i64, i64)]) -> String {
    if cs.is_empty() {
        return "[]".into();
    }
    let items: Vec<String> = cs
        .iter()
        .enumerate()
        .map(|(i, (c, m))| {
            format!("{{name: c{i}, image: \"img:1\", resources: {{requests: {{cpu: \"{c}m\", memory: \"{m}\"}}}}}}")
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// An existing pod bound to `node` with `spec.nodeName`.
fn placed(name: &str, node: &str, cs: &[(i64, i64)]) -> String {
    format!(
        "- apiVersion: v1\n  kind: Pod\n  metadata: {{name: {name}}}\n  spec:\n    nodeName: {node}\n    containers: {}\n",
        containers(cs)
    )
}

/// Write the scenario and the incoming pod; run explain-schedule with `policy`.
fn explain(d: &Path, objects: &[String], incoming: &[(i64, i64)], policy: &str) -> Value {
    let scen = d.join("s.yaml");
    std::fs::write(
        &scen,
        format!("name: golden\nobjects:\n{}", objects.concat()),
    )
    .unwrap();
    let pod = d.join("pod.yaml");
    std::fs::write(
        &pod,
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: incoming}}\nspec:\n  containers: {}\n",
            containers(incoming)
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["explain-schedule"])
        .arg(&scen)
        .arg("--pod")
        .arg(&pod)
        .args(["--scheduler", policy, "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "explain-schedule failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The normalized score of `plugin` on each node, in node order.
fn scores(e: &Value, plugin: &str) -> Vec<i64> {
    e["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            n["scores"][plugin]["normalized"]
                .as_i64()
                .unwrap_or_else(|| panic!("no {plugin} score in {n}"))
        })
        .collect()
}

const FIT: &str = "NodeResourcesFit";
const BALANCED: &str = "NodeResourcesBalancedAllocation";

#[test]
fn least_allocated_matches_upstream_golden_cases() {
    let d = dir("least");
    let two = [node("n1", 4000, 10000), node("n2", 6000, 10000)];
    let e = explain(&d.0, &two, &[(1000, 2000), (2000, 3000)], "least-allocated");
    assert_eq!(scores(&e, FIT), vec![37, 50]);
    assert_eq!(e["selected"], "n2");

    let objs = [
        node("n1", 10000, 20000),
        node("n2", 10000, 20000),
        placed("a", "n1", &[(3000, 0)]),
        placed("b", "n1", &[(3000, 0)]),
        placed("c", "n2", &[(3000, 0)]),
        placed("d", "n2", &[(3000, 5000)]),
    ];
    let e = explain(&d.0, &objs, &[], "least-allocated");
    assert_eq!(scores(&e, FIT), vec![70, 57]);

    let objs = [
        node("n1", 10000, 20000),
        node("n2", 10000, 20000),
        placed("a", "n1", &[(3000, 0)]),
        placed("b", "n2", &[(3000, 5000)]),
    ];
    let e = explain(
        &d.0,
        &objs,
        &[(1000, 2000), (2000, 3000)],
        "least-allocated",
    );
    assert_eq!(scores(&e, FIT), vec![57, 45]);
}

#[test]
fn most_allocated_matches_upstream_golden_cases() {
    let d = dir("most");
    let two = [node("n1", 4000, 10000), node("n2", 6000, 10000)];
    let e = explain(&d.0, &two, &[(1000, 2000), (2000, 3000)], "most-allocated");
    assert_eq!(scores(&e, FIT), vec![62, 50]);
    assert_eq!(e["selected"], "n1", "bin-packing prefers the fuller node");

    let objs = [
        node("n1", 10000, 20000),
        node("n2", 10000, 20000),
        placed("a", "n1", &[(3000, 0)]),
        placed("b", "n1", &[(3000, 0)]),
        placed("c", "n2", &[(3000, 0)]),
        placed("d", "n2", &[(3000, 5000)]),
    ];
    let e = explain(&d.0, &objs, &[], "most-allocated");
    assert_eq!(scores(&e, FIT), vec![30, 42]);
}

#[test]
fn balanced_allocation_matches_upstream_golden_cases() {
    let d = dir("balanced");
    let two = [node("n1", 4000, 10000), node("n2", 6000, 10000)];
    let e = explain(&d.0, &two, &[(1000, 2000), (2000, 3000)], "balanced");
    assert_eq!(scores(&e, BALANCED), vec![87, 100]);

    let objs = [
        node("n1", 10000, 20000),
        node("n2", 10000, 20000),
        placed("a", "n1", &[(1000, 0), (2000, 0)]),
        placed("b", "n2", &[(1000, 2000), (2000, 3000)]),
    ];
    let e = explain(&d.0, &objs, &[(1000, 2000), (2000, 3000)], "balanced");
    assert_eq!(scores(&e, BALANCED), vec![82, 95]);
}

#[test]
fn explain_reports_filter_rejections_and_weighted_totals() {
    let d = dir("reject");
    let objs = [node("small", 1000, 1 << 30), node("big", 8000, 8 << 30)];
    let e = explain(&d.0, &objs, &[(2000, 1 << 20)], "default");
    let nodes = e["nodes"].as_array().unwrap();
    let small = nodes.iter().find(|n| n["name"] == "small").unwrap();
    assert_eq!(small["feasible"], false);
    assert_eq!(small["reason"], "Insufficient cpu");
    assert_eq!(small["filter"], "NodeResourcesFit");
    assert!(small["total"].is_null());
    let big = nodes.iter().find(|n| n["name"] == "big").unwrap();
    assert_eq!(big["feasible"], true);
    let sum: i64 = big["scores"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| s["weighted"].as_i64().unwrap())
        .sum();
    assert_eq!(
        big["total"].as_i64().unwrap(),
        sum,
        "total is the sum of weighted scores"
    );
    assert_eq!(e["selected"], "big");
}

/// A profile configured in KubeSchedulerConfiguration's shape reaches the scheduler:
/// NodeResourcesFit switched to MostAllocated through `pluginConfig` gives upstream's
/// MostAllocated numbers, for pods that name the profile.
#[test]
fn profile_plugin_config_reaches_the_plugins() {
    let d = dir("profile");
    let scen = d.0.join("s.yaml");
    std::fs::write(
        &scen,
        format!(
            "name: profile\ncluster:\n  scheduler:\n    profiles:\n      - schedulerName: packer\n        plugins:\n          score:\n            disabled: [{{name: \"*\"}}]\n            enabled: [{{name: NodeResourcesFit, weight: 3}}]\n        pluginConfig:\n          - name: NodeResourcesFit\n            args:\n              scoringStrategy:\n                type: MostAllocated\nobjects:\n{}",
            [node("n1", 4000, 10000), node("n2", 6000, 10000)].concat()
        ),
    )
    .unwrap();
    let pod = d.0.join("pod.yaml");
    std::fs::write(
        &pod,
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: incoming}}\nspec:\n  schedulerName: packer\n  containers: {}\n",
            containers(&[(1000, 2000), (2000, 3000)])
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .arg("explain-schedule")
        .arg(&scen)
        .arg("--pod")
        .arg(&pod)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["profile"], "packer");
    assert_eq!(scores(&e, FIT), vec![62, 50]);
    let n1 = &e["nodes"][0];
    assert_eq!(n1["scores"][FIT]["weighted"], 62 * 3, "weight 3 applies");
    assert_eq!(
        n1["scores"].as_object().unwrap().len(),
        1,
        "every other score plugin disabled"
    );
}

#[test]
fn a_misspelled_plugin_in_a_profile_is_an_error_at_its_line() {
    let d = dir("badplugin");
    let scen = d.0.join("s.yaml");
    std::fs::write(
        &scen,
        "name: bad\ncluster:\n  scheduler:\n    profiles:\n      - schedulerName: packer\n        plugins:\n          score:\n            enabled: [{name: NodeResourceFit}]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .arg("validate")
        .arg(&scen)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s.yaml:8:"), "{err}");
    assert!(err.contains("unknown plugin \"NodeResourceFit\""), "{err}");
}

/// TaintToleration's score (weight 3) steers pods off a node tainted
/// PreferNoSchedule during the run, although PodTopologySpread would spread
/// them onto it. The scheduler leaves the plugin out while no node has such a
/// taint, so it must notice the taint arriving (and, in debug builds, its
/// cluster index must still equal one rebuilt from scratch).
#[test]
fn a_prefer_no_schedule_taint_added_mid_run_steers_new_pods() {
    let yaml = r#"name: prefer-taint
seed: 1
until: 5m
cluster:
  nodePools:
    - name: n
      count: 2
      capacity: {cpu: "4", memory: 16Gi, pods: 110}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 0
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - name: c
              image: nginx:1.25
              resources:
                requests: {cpu: 100m, memory: 64Mi}
timeline:
  - {at: 1m, action: taint, target: node/n-0, taints: [{key: soon, value: "gone", effect: PreferNoSchedule}]}
  - {at: 2m, action: scale, target: deployment/web, replicas: 2}
"#;
    let (sim, _) = common::run_scenario("prefer-taint", yaml);
    let nodes: Vec<String> = sim
        .api()
        .list::<kubesim::api::Pod>()
        .filter_map(|p| p.node_name.clone())
        .collect();
    assert_eq!(nodes, ["n-1", "n-1"]);
}
