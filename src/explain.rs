//! `kubesim explain-schedule`: how the scheduler sees one incoming pod against the
//! cluster at a virtual time — every node's filter verdict, every score plugin's
//! raw, normalized and weighted score, the totals and the winner.

use crate::api::{AnyObject, Pod};
use crate::diag::{Diagnostic, LoadError, Loc};
use crate::manifest;
use crate::metrics::Recorder;
use crate::scenario::Scenario;
use crate::scheduler::framework::{
    run_filters, run_pre_filters, score_nodes, CycleState, PodInfo, Profile, ScoreBuffers,
};
use crate::scheduler::policies::Registry;
use crate::scheduler::snapshot::OwnedSnapshot;
use crate::sim::time::SimTime;
use crate::Simulation;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// One score plugin's view of one node.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PluginScore {
    pub raw: i64,
    pub normalized: i64,
    pub weighted: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodeVerdict {
    pub name: String,
    pub feasible: bool,
    /// Why the node was rejected, as in FailedScheduling messages.
    pub reason: Option<String>,
    /// The filter plugin that rejected it.
    pub filter: Option<String>,
    /// Per score plugin (only for feasible nodes; plugins skipped by PreScore are absent).
    pub scores: BTreeMap<String, PluginScore>,
    /// Σ weighted, for feasible nodes.
    pub total: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Explanation {
    /// `namespace/name` of the incoming pod.
    pub pod: String,
    /// The profile that evaluated it.
    pub profile: String,
    /// The policy the profile was built from.
    pub policy: String,
    pub at_ms: u64,
    /// The node the scheduler would bind to (highest total); `null` if none is feasible.
    pub selected: Option<String>,
    /// All nodes sharing the highest total; the scheduler picks one of them at random (seeded).
    pub tied: Vec<String>,
    /// Score plugins the profile skipped for this pod in PreScore.
    pub skipped_plugins: Vec<String>,
    pub nodes: Vec<NodeVerdict>,
}

/// Read the incoming pod. A pod with no containers is accepted here (upstream's
/// scoring tests use such "empty" pods) although the API server would reject it.
pub fn load_pod(path: &Path) -> Result<Pod, LoadError> {
    let file = manifest::parse_yaml_file(path).map_err(|d| LoadError(vec![d]))?;
    let docs: Vec<_> = file.docs.iter().filter(|(v, _)| !v.is_null()).collect();
    let whole = |m: &str| {
        LoadError(vec![Diagnostic {
            file: path.to_path_buf(),
            pos: None,
            path: String::new(),
            message: m.into(),
        }])
    };
    let [(value, pos)] = docs.as_slice() else {
        return Err(whole("expected exactly one Pod in the file"));
    };
    let loc = Loc {
        file: path,
        pos,
        prefix: "",
    };
    let no_containers = value
        .get("spec")
        .and_then(|s| s.get("containers"))
        .and_then(|c| c.as_sequence())
        .is_some_and(|c| c.is_empty());
    let mut v = value.clone();
    if no_containers {
        // convert with a placeholder container, then drop it
        if let Some(spec) = v.get_mut("spec").and_then(|s| s.as_mapping_mut()) {
            let c: serde_yaml::Value =
                serde_yaml::from_str("[{name: placeholder, image: placeholder}]")
                    .expect("static YAML");
            spec.insert("containers".into(), c);
        }
    }
    let mut out = manifest::Loaded::default();
    let mut errors = Vec::new();
    manifest::load_value(&v, &loc, &mut out, &mut errors);
    if !errors.is_empty() {
        return Err(LoadError(errors));
    }
    match out.objects.pop() {
        Some((AnyObject::Pod(mut p), _)) => {
            if no_containers {
                Arc::make_mut(&mut p.spec).containers.clear();
            }
            Ok(p)
        }
        Some((o, _)) => Err(whole(&format!("expected a Pod, found a {}", o.kind()))),
        None => Err(whole("expected a Pod (this kind is not simulated)")),
    }
}

/// Explain how `profile` would place `pod` on the cluster of `sim` as it stands now.
pub fn explain(sim: &Simulation, pod: &Pod, profile: &Profile, policy: &str) -> Explanation {
    // the volume plugins read claims, volumes and classes as the scheduler does
    use crate::scheduler::plugins::volume_binding::{with_view, VolumeView};
    let view = std::sync::Arc::new(VolumeView::from_store(sim.api().store()));
    with_view(view, || explain_now(sim, pod, profile, policy))
}

fn explain_now(sim: &Simulation, pod: &Pod, profile: &Profile, policy: &str) -> Explanation {
    let owned = OwnedSnapshot::from_store(sim.api());
    let snap = owned.view();
    let info = PodInfo::new(pod);
    let mut state = CycleState::default();
    let mut verdicts: Vec<NodeVerdict> = owned
        .nodes
        .iter()
        .map(|n| NodeVerdict {
            name: n.name.clone(),
            feasible: false,
            reason: None,
            filter: None,
            scores: BTreeMap::new(),
            total: None,
        })
        .collect();
    let mut feasible = Vec::new();
    match run_pre_filters(profile, &info, &snap, &mut state) {
        Err(r) => {
            for v in &mut verdicts {
                v.reason = Some(r.reasons.join(", "));
                v.filter = Some(r.plugin.to_string());
            }
        }
        Ok(()) => {
            for (i, n) in owned.nodes.iter().enumerate() {
                match run_filters(profile, &info, n, &state) {
                    Ok(()) => feasible.push(i),
                    Err(r) => {
                        verdicts[i].reason = Some(r.reasons.join(", "));
                        verdicts[i].filter = Some(r.plugin.to_string());
                    }
                }
            }
        }
    }
    let mut buffers = ScoreBuffers::default();
    let detail = score_nodes(
        profile,
        &info,
        &snap,
        &feasible,
        &mut state,
        true,
        None,
        &mut buffers,
    );
    let totals = buffers.totals;
    let mut skipped = Vec::new();
    for d in &detail {
        if !d.applied {
            skipped.push(d.plugin.to_string());
        }
    }
    for (k, &i) in feasible.iter().enumerate() {
        let v = &mut verdicts[i];
        v.feasible = true;
        v.total = Some(totals[k]);
        for d in detail.iter().filter(|d| d.applied) {
            v.scores.insert(
                d.plugin.to_string(),
                PluginScore {
                    raw: d.raw[k],
                    normalized: d.normalized[k],
                    weighted: d.normalized[k] * d.weight,
                },
            );
        }
    }
    let best = totals.iter().copied().max();
    let tied: Vec<String> = feasible
        .iter()
        .zip(&totals)
        .filter(|(_, t)| Some(**t) == best)
        .map(|(&i, _)| owned.nodes[i].name.clone())
        .collect();
    Explanation {
        pod: pod.meta.key().to_string(),
        profile: profile.name.clone(),
        policy: policy.to_string(),
        at_ms: sim.now().as_millis(),
        selected: tied.first().cloned(),
        tied: if tied.len() > 1 { tied } else { Vec::new() },
        skipped_plugins: skipped,
        nodes: verdicts,
    }
}

/// Run `scenario` to `at`, then explain `pod` with the profile the pod names (or
/// with `policy` when given).
pub fn explain_scenario(
    scenario: &Scenario,
    pod: &Pod,
    at: SimTime,
    policy: Option<&str>,
    registry: &Registry,
) -> Result<Explanation, String> {
    let mut sim = Simulation::with_registry(scenario, Recorder::discard(), registry)
        .map_err(|e| e.to_string())?;
    sim.run_until(at);
    let profile_name = pod.spec.scheduler_name.clone();
    let policy_name = match policy {
        Some(p) => p.to_string(),
        None => scenario
            .settings
            .profiles
            .iter()
            .find(|(n, _)| *n == profile_name)
            .map(|(_, p)| p.clone())
            .ok_or_else(|| {
                format!(
                    "the pod asks for schedulerName {profile_name:?}, but the scenario has no such profile (it has: {})",
                    scenario.settings.profiles.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                )
            })?,
    };
    let profile =
        crate::sim::build_profile(&scenario.settings, registry, &profile_name, &policy_name)
            .map_err(|e| e.to_string())?;
    Ok(explain(&sim, pod, &profile, &policy_name))
}

/// The explanation as a table, for people.
pub fn table(e: &Explanation) -> String {
    use std::fmt::Write;
    let mut plugins: Vec<String> = Vec::new();
    for n in &e.nodes {
        for k in n.scores.keys() {
            if !plugins.contains(k) {
                plugins.push(k.clone());
            }
        }
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["NODE".to_string(), "FEASIBLE".to_string()];
    header.extend(plugins.iter().map(|p| format!("{p} (raw/norm/wtd)")));
    header.push("TOTAL".into());
    header.push("REASON".into());
    rows.push(header);
    for n in &e.nodes {
        let mut r = vec![
            n.name.clone(),
            if n.feasible {
                "yes".into()
            } else {
                "no".into()
            },
        ];
        for p in &plugins {
            r.push(match n.scores.get(p) {
                Some(s) => format!("{}/{}/{}", s.raw, s.normalized, s.weighted),
                None => "-".into(),
            });
        }
        r.push(n.total.map_or("-".into(), |t| t.to_string()));
        r.push(match (&n.filter, &n.reason) {
            (Some(f), Some(r)) => format!("{f}: {r}"),
            _ => String::new(),
        });
        rows.push(r);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "pod {} at t={}ms, profile {} (policy {})",
        e.pod, e.at_ms, e.profile, e.policy
    );
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(s, "{}", line.join("  ").trim_end());
    }
    if !e.skipped_plugins.is_empty() {
        let _ = writeln!(
            s,
            "skipped for this pod (PreScore): {}",
            e.skipped_plugins.join(", ")
        );
    }
    match &e.selected {
        Some(n) if !e.tied.is_empty() => {
            let _ = writeln!(
                s,
                "selected: one of {} (tied; the scheduler picks at random, seeded)",
                e.tied.join(", ")
            );
            let _ = n;
        }
        Some(n) => {
            let _ = writeln!(s, "selected: {n}");
        }
        None => {
            let _ = writeln!(s, "selected: none (no feasible node)");
        }
    }
    s
}
