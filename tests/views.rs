//! `kubesim trace`, `get` and `describe` through the CLI.

use std::process::Command;

fn kubesim(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn get_pods_prints_kubectl_columns_with_virtual_ages() {
    let (ok, out, err) = kubesim(&["get", "pods", "scenarios/web-basic.yaml", "--at", "20m"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert_eq!(lines.len(), 1 + 8, "8 pods after the scale-ups:\n{out}");
    for l in &lines[1..] {
        let cols: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(&cols[1..4], ["1/1", "Running", "0"], "{l}");
    }
    // the first three pods were created at t≈100ms: 20m old at 20m
    assert!(
        lines.iter().filter(|l| l.ends_with(" 19m")).count() >= 3,
        "{out}"
    );
}

#[test]
fn get_deployments_and_wide_nodes() {
    let (ok, out, _) = kubesim(&[
        "get",
        "deployments",
        "scenarios/web-basic.yaml",
        "--at",
        "20m",
    ]);
    assert!(ok);
    let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row, ["web", "8/8", "8", "8", "20m"]);
    let (ok, out, _) = kubesim(&[
        "get",
        "nodes",
        "scenarios/web-basic.yaml",
        "--at",
        "20m",
        "-o",
        "wide",
    ]);
    assert!(ok);
    assert!(
        out.contains("Ready,SchedulingDisabled"),
        "the cordoned node:\n{out}"
    );
}

#[test]
fn get_json_is_a_list_of_objects() {
    let (ok, out, err) = kubesim(&[
        "get",
        "pods",
        "scenarios/web-basic.yaml",
        "--at",
        "5m",
        "-o",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kind"], "List");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["kind"], "Pod");
    assert_eq!(items[0]["status"]["phase"], "Running");
}

#[test]
fn describe_shows_fields_and_the_events_of_the_object() {
    let (_, out, _) = kubesim(&["get", "pods", "scenarios/web-basic.yaml", "--at", "5m"]);
    let pod = out
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (ok, out, err) = kubesim(&[
        "describe",
        &format!("pod/{pod}"),
        "scenarios/web-basic.yaml",
        "--at",
        "5m",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("Name:           {pod}")), "{out}");
    assert!(out.contains("Controlled By:  ReplicaSet/"), "{out}");
    assert!(out.contains("Events:"));
    for reason in ["Scheduled", "Pulling", "Pulled", "Created", "Started"] {
        assert!(out.contains(reason), "{reason} missing:\n{out}");
    }
}

#[test]
fn unknown_objects_and_kinds_are_clear_errors() {
    let (ok, _, err) = kubesim(&["describe", "pod/nope", "scenarios/web-basic.yaml"]);
    assert!(!ok);
    assert!(err.contains("NotFound") && err.contains("nope"), "{err}");
    let (ok, _, err) = kubesim(&["get", "rolebindings", "scenarios/web-basic.yaml"]);
    assert!(!ok);
    assert!(err.contains("rolebindings"), "{err}");
}

#[test]
fn trace_narrates_the_rolling_update_with_observed_desired_action() {
    let (ok, out, err) = kubesim(&[
        "trace",
        "scenarios/rolling-update.yaml",
        "--component",
        "deployment-controller",
        "--from",
        "5m",
        "--to",
        "6m",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("observed:") && out.contains("desired:") && out.contains("action:"),
        "{out}"
    );
    assert!(
        out.contains("at most 13 pods (maxSurge 3), at least 8 available (maxUnavailable 2)"),
        "{out}"
    );
    assert!(
        !out.contains("replicaset-controller"),
        "filtered to one component"
    );
    // and the same fields are in events.jsonl
    let dir = std::env::temp_dir().join(format!("kubesim-views-{}", std::process::id()));
    let (ok, _, _) = kubesim(&[
        "run",
        "scenarios/rolling-update.yaml",
        "--out",
        dir.to_str().unwrap(),
        "-q",
    ]);
    assert!(ok);
    let log = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let scaling: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["reason"] == "ScalingReplicaSet")
        .collect();
    assert!(!scaling.is_empty());
    assert!(scaling
        .iter()
        .all(|v| v["observed"].is_string() && v["desired"].is_string() && v["action"].is_string()));
    let plain = log.lines().find(|l| l.contains("\"Started\"")).unwrap();
    assert!(
        !plain.contains("observed"),
        "plain events keep their shape: {plain}"
    );
    std::fs::remove_dir_all(dir).ok();
}
