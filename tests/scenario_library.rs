//! The scenario library (`scenarios/*.yaml`): together the shipped scenarios
//! use every object kind, every fault and every timeline action kubesim
//! models, and each is described in its file and in scenarios/README.md.
//!
//! The lists come from the code (`Kind::ALL`, `scenario::ACTIONS`,
//! `chaos::KINDS`), so a new kind or fault without a scenario fails here.

mod common;

use kubesim::api::Kind;
use kubesim::metrics::Recorder;
use kubesim::scenario::{self, Action};
use kubesim::sim::time::{SimDuration, SimTime};
use kubesim::Simulation;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// How long each scenario is run to see the kinds that controllers create
/// (ReplicaSets of Deployments, Pods of ReplicaSets and Jobs): they appear in
/// the first minutes, and the whole runs are the report tests' business.
const LOOK: SimDuration = SimDuration::from_secs(5 * 60);

fn name_of(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Kinds a scenario uses: its objects, the objects its timeline applies or
/// names, and every object its first minutes' event records are about.
fn kinds_used(path: &Path) -> BTreeSet<&'static str> {
    let sc = scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let mut kinds: BTreeSet<&'static str> = sc.objects.iter().map(|o| o.kind().as_str()).collect();
    for t in &sc.timeline {
        match &t.action {
            Action::Apply(objs) => kinds.extend(objs.iter().map(|o| o.kind().as_str())),
            Action::Delete { kind, .. }
            | Action::Scale { kind, .. }
            | Action::Label { kind, .. } => {
                kinds.insert(kind.as_str());
            }
            _ => {}
        }
    }
    let mut sim = Simulation::new(&sc, Recorder::in_memory());
    sim.run_until(SimTime::ZERO + LOOK.min(sc.until));
    for r in sim.recorder().records() {
        let kind = r.object.split('/').next().unwrap_or("");
        if let Some(k) = Kind::ALL.iter().find(|k| k.as_str() == kind) {
            kinds.insert(k.as_str());
        }
    }
    kinds
}

#[test]
fn every_object_kind_appears_in_a_shipped_scenario() {
    let mut seen: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for path in common::shipped_scenarios() {
        for k in kinds_used(&path) {
            seen.entry(k).or_default().push(name_of(&path));
        }
    }
    let missing: Vec<&str> = Kind::ALL
        .iter()
        .map(|k| k.as_str())
        .filter(|k| !seen.contains_key(k))
        .collect();
    assert!(
        missing.is_empty(),
        "no shipped scenario uses these kinds: {missing:?}; add a small scenario \
         to scenarios/ (and to scenarios/README.md) that does"
    );
}

/// The `action:` of every timeline entry and the `fault:` of every chaos entry
/// of a scenario file, as written.
fn verbs_used(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut out = BTreeSet::new();
    for (section, key) in [("timeline", "action"), ("chaos", "fault")] {
        if let Some(entries) = v.get(section).and_then(|s| s.as_sequence()) {
            for e in entries {
                if let Some(verb) = e.get(key).and_then(|a| a.as_str()) {
                    out.insert(verb.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn every_fault_and_timeline_action_appears_in_a_shipped_scenario() {
    let mut used = BTreeSet::new();
    for path in common::shipped_scenarios() {
        // the verbs are only counted in scenarios that load
        scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        used.extend(verbs_used(&path));
    }
    let all: BTreeSet<&str> = scenario::ACTIONS
        .iter()
        .chain(kubesim::sim::chaos::KINDS)
        .copied()
        .collect();
    let missing: Vec<&&str> = all.iter().filter(|v| !used.contains(**v)).collect();
    assert!(
        missing.is_empty(),
        "no shipped scenario uses these timeline actions or faults: {missing:?}"
    );
    // and the lists are what they should be: every chaos fault is a timeline verb
    for k in kubesim::sim::chaos::KINDS {
        assert!(scenario::ACTIONS.contains(k), "{k}");
    }
}

/// `### `NAME.yaml`` headings of scenarios/README.md, by `## ` group.
fn readme_sections() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(common::repo_root().join("scenarios/README.md")).unwrap();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut group = String::new();
    for line in text.lines() {
        if let Some(g) = line.strip_prefix("## ") {
            group = g.trim().to_string();
        } else if let Some(h) = line.strip_prefix("### ") {
            for part in h.split('`').skip(1).step_by(2) {
                if let Some(name) = part.strip_suffix(".yaml") {
                    out.entry(group.clone()).or_default().push(name.to_string());
                }
            }
        }
    }
    out
}

/// Per scenario named in a `###` heading of scenarios/README.md: whether its
/// section (up to the next heading) has a "Look for".
fn says_what_to_look_for() -> BTreeMap<String, bool> {
    let text = std::fs::read_to_string(common::repo_root().join("scenarios/README.md")).unwrap();
    let mut out = BTreeMap::new();
    let mut current: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            current = line
                .split('`')
                .skip(1)
                .step_by(2)
                .filter_map(|p| p.strip_suffix(".yaml"))
                .map(str::to_string)
                .collect();
            for n in &current {
                out.entry(n.clone()).or_insert(false);
            }
        } else if line.contains("Look for") {
            for n in &current {
                out.insert(n.clone(), true);
            }
        }
    }
    out
}

#[test]
fn every_scenario_is_described_in_its_file_and_in_one_readme_group() {
    let sections = readme_sections();
    let look_for = says_what_to_look_for();
    let groups: Vec<&String> = sections.keys().collect();
    for g in ["Teaching", "Failures", "Comparisons"] {
        assert!(
            groups.iter().any(|x| x.starts_with(g)),
            "scenarios/README.md has a `## {g}` group: {groups:?}"
        );
    }
    let main_readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let mut problems = Vec::new();
    for path in common::shipped_scenarios() {
        let name = name_of(&path);
        let text = std::fs::read_to_string(&path).unwrap();
        let header = text.lines().take_while(|l| l.starts_with('#')).count();
        if header < 3 {
            problems.push(format!(
                "{name}.yaml does not open with a comment describing it ({header} lines)"
            ));
        }
        let sc = scenario::load(&path).unwrap();
        if sc
            .description
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            problems.push(format!("{name}.yaml has no `description:`"));
        }
        let homes: Vec<&String> = sections
            .iter()
            .filter(|(_, names)| names.contains(&name))
            .map(|(g, _)| g)
            .collect();
        if !look_for.get(&name).copied().unwrap_or(false) {
            problems.push(format!(
                "scenarios/README.md's section on {name}.yaml does not say what to \"Look for\""
            ));
        }
        if homes.len() != 1 {
            problems.push(format!(
                "{name}.yaml is under {} `###` headings of scenarios/README.md groups ({homes:?}), expected one",
                homes.len()
            ));
        }
        if !main_readme.contains(&format!("[`scenarios/{name}.yaml`]")) {
            problems.push(format!(
                "README.md's \"Shipped scenarios\" table does not list {name}.yaml"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
