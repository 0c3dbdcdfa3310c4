//! The corpus of real kubernetes/examples manifests in `../shared/manifests/`:
//! each file validates, or fails only with clear `file:line:col` errors, and
//! nothing ever panics. Run with `--nocapture` to see the table.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn corpus_root() -> Option<PathBuf> {
    let root = repo_root().join("../shared/manifests");
    if root.is_dir() {
        Some(root)
    } else {
        println!(
            "note: {} is absent; skipping the shared-manifests corpus",
            root.display()
        );
        None
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

fn corpus() -> Option<(PathBuf, Vec<PathBuf>)> {
    let root = corpus_root()?;
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    Some((root, files))
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// Does every `error:` line of `stderr` have the form `error: FILE:LINE:COL: message`?
fn errors_are_positioned(stderr: &str, file: &Path) -> Result<usize, String> {
    let prefix = format!("error: {}", file.display());
    let mut n = 0;
    for line in stderr.lines().filter(|l| l.starts_with("error:")) {
        let rest = line
            .strip_prefix(&prefix)
            .ok_or_else(|| format!("error does not name the file: {line}"))?;
        parse_line_col(rest).ok_or_else(|| format!("error has no :LINE:COL: {line}"))?;
        n += 1;
    }
    Ok(n)
}

#[test]
fn every_shared_manifest_validates_or_fails_with_file_line_col_errors() {
    let Some((root, files)) = corpus() else {
        return;
    };
    assert!(!files.is_empty(), "no YAML files under {}", root.display());
    let mut table = Vec::new();
    let mut problems = Vec::new();
    for f in &files {
        let r = kubesim(["validate".as_ref(), f.as_os_str()]);
        let name = rel(&root, f);
        if r.code == Some(101) || r.code.is_none() || r.stderr.contains("panicked") {
            problems.push(format!("{name}: panicked\n{}", r.describe()));
            table.push((name, "PANIC".to_string(), String::new()));
            continue;
        }
        let warnings = r
            .stderr
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .count();
        match r.code {
            Some(0) => {
                let objects = r
                    .stdout
                    .trim()
                    .rsplit(": ok: ")
                    .next()
                    .unwrap_or("")
                    .to_string();
                table.push((name, "ok".into(), format!("{objects}; {warnings} warnings")));
            }
            Some(1) => {
                match errors_are_positioned(&r.stderr, f) {
                    Ok(0) => problems.push(format!(
                        "{name}: exit 1 with no error line\n{}",
                        r.describe()
                    )),
                    Ok(_) => {}
                    Err(m) => problems.push(format!("{name}: {m}")),
                }
                let errs: Vec<&str> = r
                    .stderr
                    .lines()
                    .filter(|l| l.starts_with("error:"))
                    .collect();
                table.push((name, "ERRORS".into(), errs.join("\n        ")));
            }
            other => {
                problems.push(format!(
                    "{name}: unexpected exit code {other:?}\n{}",
                    r.describe()
                ));
                table.push((name, format!("exit {other:?}"), String::new()));
            }
        }
    }
    println!(
        "\nkubesim validate over {} ({} files):",
        root.display(),
        files.len()
    );
    for (name, status, detail) in &table {
        println!("  {status:<6} {name}  {detail}");
    }
    let failing = table.iter().filter(|(_, s, _)| s != "ok").count();
    println!("{} ok, {failing} not ok", table.len() - failing);
    assert!(problems.is_empty(), "problems:\n{}", problems.join("\n"));
}

#[test]
fn every_shared_manifest_runs_in_a_scenario_without_panicking() {
    let Some((root, files)) = corpus() else {
        return;
    };
    let tmp = TempDir::new("every_shared_manifest_runs");
    let mut problems = Vec::new();
    let mut ran = Vec::new();
    println!("\nkubesim run (3 nodes of 8 CPU / 32Gi, until 10m) per file:");
    for (i, f) in files.iter().enumerate() {
        let name = rel(&root, f);
        let scen = tmp.write(
            &format!("s{i}.yaml"),
            &format!(
                "name: shared-{i}\nuntil: 10m\ncluster:\n  nodePools:\n    - name: n\n      count: 3\n      capacity: {{cpu: \"8\", memory: 32Gi}}\nmanifests:\n  - {}\n",
                f.display()
            ),
        );
        let out = tmp.join(&format!("out{i}"));
        let r = kubesim([
            "run".as_ref(),
            scen.as_os_str(),
            "--quiet".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        if r.code == Some(101) || r.code.is_none() || r.stderr.contains("panicked") {
            problems.push(format!("{name}: panicked\n{}", r.describe()));
            println!("  PANIC  {name}");
            continue;
        }
        match r.code {
            Some(0) => {
                let s = read_json(&out.join("summary.json"));
                // files with these workload kinds run them: their controllers create pods
                let text = std::fs::read_to_string(f).unwrap_or_default();
                for (kind, map) in [
                    ("StatefulSet", "statefulsets"),
                    ("DaemonSet", "daemonsets"),
                    ("ReplicationController", "replicationcontrollers"),
                ] {
                    if !text.lines().any(|l| l.trim() == format!("kind: {kind}")) {
                        continue;
                    }
                    let n = s[map].as_object().map_or(0, |m| m.len());
                    let created = s["pods"]["created"].as_u64().unwrap_or(0);
                    if n == 0 || created == 0 {
                        problems.push(format!(
                            "{name}: has a {kind} but summary.json lists {n} {map} and {created} pods created"
                        ));
                    }
                    ran.push(format!("{name} ({kind}: {n}, pods created {created})"));
                }
                let deps = s["deployments"].as_object().cloned().unwrap_or_default();
                let avail: Vec<String> = deps
                    .iter()
                    .map(|(k, d)| format!("{k} {}/{}", d["available"], d["desired"]))
                    .collect();
                println!(
                    "  ok     {name}  pods running {} pending {}; deployments available: [{}]",
                    s["pods"]["running"],
                    s["pods"]["pending"],
                    avail.join(", ")
                );
            }
            Some(1) => {
                assert!(
                    !out.exists(),
                    "{name}: output written despite errors\n{}",
                    r.describe()
                );
                let first = r
                    .stderr
                    .lines()
                    .find(|l| l.starts_with("error:"))
                    .unwrap_or("");
                println!("  ERRORS {name}  {first}");
            }
            other => problems.push(format!(
                "{name}: unexpected exit code {other:?}\n{}",
                r.describe()
            )),
        }
    }
    println!("workload kinds that ran:\n  {}", ran.join("\n  "));
    // the corpus has StatefulSets, a DaemonSet and ReplicationControllers
    for kind in ["StatefulSet", "DaemonSet", "ReplicationController"] {
        assert!(
            ran.iter().any(|r| r.contains(&format!("({kind}:"))),
            "no file with a {kind} ran: {ran:?}"
        );
    }
    assert!(problems.is_empty(), "problems:\n{}", problems.join("\n"));
}
