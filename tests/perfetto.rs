//! `kubesim run --export perfetto`: trace.perfetto.json in Chrome trace event form.

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn perfetto_export_has_a_track_per_node_and_a_slice_per_pod() {
    let dir = std::env::temp_dir().join(format!("kubesim-perfetto-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args([
            "run",
            "scenarios/node-crash.yaml",
            "--export",
            "perfetto",
            "-q",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("trace.perfetto.json")).unwrap();
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    let events = v["traceEvents"].as_array().expect("traceEvents");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();

    // tracks: tid → name
    let tracks: BTreeMap<u64, String> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(tracks.get(&1).map(String::as_str), Some("control-plane"));
    let nodes = summary["nodes"]["total"].as_u64().unwrap() as usize;
    let node_tracks: Vec<&String> = tracks.values().filter(|n| n.starts_with("node ")).collect();
    assert_eq!(node_tracks.len(), nodes, "{tracks:?}");
    assert!(tracks.values().any(|n| n == "node pool-a-1"));
    let crashed = *tracks
        .iter()
        .find(|(_, n)| *n == "node pool-a-1")
        .unwrap()
        .0;

    // a complete slice per pod that was bound, on its node's track
    let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    let bound = summary["scheduling"]["bound"].as_u64().unwrap() as usize;
    assert!(
        slices.len() >= bound,
        "{} slices, {bound} bound",
        slices.len()
    );
    for s in &slices {
        let tid = s["tid"].as_u64().unwrap();
        assert!(tracks[&tid].starts_with("node "), "{s}");
        assert_eq!(s["cat"], "pod");
        assert!(s["dur"].as_u64().is_some() && s["ts"].as_u64().is_some());
        assert_eq!(
            format!("node {}", s["args"]["node"].as_str().unwrap()),
            tracks[&tid]
        );
    }
    // the crashed node's pods end (they are evicted and deleted) before the run's end
    let end_us = summary["sim"]["virtual_time_ms"].as_u64().unwrap() * 1000;
    let on_crashed: Vec<&&Value> = slices.iter().filter(|s| s["tid"] == crashed).collect();
    assert!(!on_crashed.is_empty());
    assert!(on_crashed
        .iter()
        .any(|s| s["ts"].as_u64().unwrap() + s["dur"].as_u64().unwrap() < end_us));

    // the crash is an instant on the control-plane track
    let instants: Vec<&Value> = events.iter().filter(|e| e["ph"] == "i").collect();
    assert!(instants.iter().all(|e| e["tid"] == 1 && e["s"] == "t"));
    assert!(instants.iter().any(|e| e["name"]
        .as_str()
        .unwrap()
        .starts_with("NodeCrash Node/pool-a-1")
        && e["ts"] == 600_000_000));
    assert!(instants
        .iter()
        .any(|e| e["cat"].as_str().unwrap().ends_with("-controller")));
    std::fs::remove_dir_all(&dir).unwrap();
}
