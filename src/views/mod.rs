//! Teaching views: `kubesim trace` (the narrated reconciliation trace), `kubesim
//! get` and `kubesim describe` (kubectl-style views of the simulated cluster at a
//! virtual time). They read the store and the in-memory event log; nothing here
//! changes what the simulation does.

pub mod describe;
pub mod get;
pub mod trace;

use crate::api::Kind;
use crate::metrics::Recorder;
use crate::scenario::Scenario;
use crate::sim::time::{human, SimDuration, SimTime};
use crate::Simulation;

/// Run `scenario` up to `at` (inclusive), keeping the event log in memory.
pub fn run_to(scenario: &Scenario, at: SimTime) -> Simulation {
    let mut sim = Simulation::new(scenario, Recorder::in_memory());
    sim.run_until(at);
    sim
}

/// Age as kubectl prints it, in virtual time.
pub fn age(now: SimTime, since: SimTime) -> String {
    human(now.since(since))
}

/// `KIND/NAME` or `KIND NAME` as kubectl takes it.
pub fn parse_ref(s: &str) -> Result<(Kind, String), String> {
    let (k, n) = s.split_once('/').ok_or_else(|| {
        format!("{s:?}: expected KIND/NAME, e.g. deployment/web or pod/web-abc12")
    })?;
    let kind = Kind::from_kubectl(k).ok_or_else(|| {
        format!("unknown kind {k:?}: expected pod, node, deployment, replicaset, statefulset, daemonset, replicationcontroller, service, job, cronjob, namespace or priorityclass")
    })?;
    Ok((kind, n.to_string()))
}

/// A duration as `t=1m30s`, for times since the start of the run.
pub fn at(t: SimTime) -> String {
    format!("t={}", human(SimDuration::from_millis(t.as_millis())))
}

/// Left-aligned columns separated by three spaces, as kubectl prints tables.
pub fn table(rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let cols = rows[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |x| x.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        s.push_str(line.join("   ").trim_end());
        s.push('\n');
    }
    s
}
