//! `trace.perfetto.json`: the run as a Chrome trace event file, which Perfetto
//! (ui.perfetto.dev) and chrome://tracing open. One process, the cluster; one
//! track (thread) per node with a complete slice (`"ph":"X"`) per pod from its
//! binding to its end (deleted, or finished: Succeeded / Failed); and a
//! `control-plane` track with an instant event (`"ph":"i"`) per fault, per
//! action of kubectl, kubeadm, the fault injector and chaos, and per action of
//! a controller (from the event log). Timestamps are virtual time in µs.
//!
//! Pods are followed by [`PodTracker`], which reads the API changes of each
//! event (the simulation's change tracking, as the invariant checker does), so
//! it never changes what happens.

use crate::api::{Kind, ObjKey, Op, Pod};
use crate::report::run::LogEvent;
use crate::Simulation;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One pod's stay on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSlice {
    pub pod: String,
    pub node: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// `Deleted`, `Succeeded`, `Failed`, or `Running at end`.
    pub end: String,
}

/// Follows pods from binding to their end, one event at a time.
#[derive(Debug, Default)]
pub struct PodTracker {
    open: BTreeMap<ObjKey, (String, u64)>,
    done: Vec<PodSlice>,
    nodes: BTreeSet<String>,
}

impl PodTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Look at the last event's API changes (change tracking must be on:
    /// [`Simulation::set_track_changes`]).
    pub fn observe(&mut self, sim: &Simulation) {
        let now = sim.now().as_millis();
        for c in sim.last_changes() {
            match c.kind {
                Kind::Node if c.op != Op::Deleted => {
                    self.nodes.insert(c.key.name.clone());
                }
                Kind::Pod => {
                    let pod = if c.op == Op::Deleted {
                        None
                    } else {
                        sim.api().get::<Pod>(&c.key)
                    };
                    let (bound, end) = match pod {
                        None => (None, Some("Deleted")),
                        Some(p) if p.status.phase.is_terminal() => {
                            (p.node_name.clone(), Some(p.status.phase.as_str()))
                        }
                        Some(p) => (p.node_name.clone(), None),
                    };
                    match (self.open.get(&c.key), &bound, end) {
                        (Some(_), _, Some(why)) => self.close(&c.key, now, why),
                        (Some((n, _)), Some(b), None) if n != b => {
                            self.close(&c.key, now, "Deleted");
                            self.open.insert(c.key.clone(), (b.clone(), now));
                        }
                        (None, Some(b), None) => {
                            self.open.insert(c.key.clone(), (b.clone(), now));
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }

    fn close(&mut self, key: &ObjKey, now: u64, why: &str) {
        if let Some((node, start)) = self.open.remove(key) {
            self.done.push(PodSlice {
                pod: key.to_string(),
                node,
                start_ms: start,
                end_ms: now,
                end: why.to_string(),
            });
        }
    }

    /// Every slice, the open ones closed at `end_ms`, sorted by node, start, pod.
    pub fn finish(mut self, end_ms: u64) -> (Vec<PodSlice>, BTreeSet<String>) {
        let open = std::mem::take(&mut self.open);
        for (key, (node, start)) in open {
            self.done.push(PodSlice {
                pod: key.to_string(),
                node,
                start_ms: start,
                end_ms: end_ms.max(start),
                end: "Running at end".into(),
            });
        }
        let mut nodes = self.nodes;
        for s in &self.done {
            nodes.insert(s.node.clone());
        }
        self.done.sort_by(|a, b| {
            (&a.node, a.start_ms, &a.pod, a.end_ms).cmp(&(&b.node, b.start_ms, &b.pod, b.end_ms))
        });
        (self.done, nodes)
    }
}

/// Whether an event-log record becomes an instant on the control-plane track.
pub fn is_action(e: &LogEvent) -> bool {
    matches!(
        e.component.as_str(),
        "kubectl" | "kubeadm" | "fault-injector" | "chaos"
    ) || e.component.ends_with("-controller")
}

/// The trace file's text: one JSON object, one trace event per line.
pub fn trace_json(
    title: &str,
    slices: &[PodSlice],
    nodes: &BTreeSet<String>,
    events: &[LogEvent],
) -> String {
    const PID: u64 = 1;
    const CONTROL: u64 = 1;
    let mut out: Vec<Value> = vec![
        json!({"ph":"M","pid":PID,"tid":0,"name":"process_name","args":{"name":title}}),
        json!({"ph":"M","pid":PID,"tid":CONTROL,"name":"thread_name","args":{"name":"control-plane"}}),
        json!({"ph":"M","pid":PID,"tid":CONTROL,"name":"thread_sort_index","args":{"sort_index":0}}),
    ];
    let tids: BTreeMap<&str, u64> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u64 + 2))
        .collect();
    for (n, tid) in &tids {
        out.push(json!({"ph":"M","pid":PID,"tid":tid,"name":"thread_name","args":{"name":format!("node {n}")}}));
        out.push(json!({"ph":"M","pid":PID,"tid":tid,"name":"thread_sort_index","args":{"sort_index":tid}}));
    }
    for e in events.iter().filter(|e| is_action(e)) {
        out.push(json!({
            "ph": "i",
            "s": "t",
            "pid": PID,
            "tid": CONTROL,
            "ts": e.time_ms * 1000,
            "name": format!("{} {}", e.reason, e.object),
            "cat": e.component,
            "args": {"message": e.message, "type": e.event_type},
        }));
    }
    for s in slices {
        out.push(json!({
            "ph": "X",
            "pid": PID,
            "tid": tids[s.node.as_str()],
            "ts": s.start_ms * 1000,
            "dur": (s.end_ms - s.start_ms) * 1000,
            "name": s.pod,
            "cat": "pod",
            "args": {"node": s.node, "end": s.end},
        }));
    }
    let mut text = String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    for (i, v) in out.iter().enumerate() {
        text.push_str(&v.to_string());
        text.push_str(if i + 1 < out.len() { ",\n" } else { "\n" });
    }
    text.push_str("]}\n");
    text
}
