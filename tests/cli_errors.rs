//! Bad input: every error names the file, the right `:LINE:COL`, and what was
//! expected; nothing is written; `run` and `validate` agree.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// A node pool every scenario below starts with (6 lines).
const HEADER: &str = "name: t
cluster:
  nodePools:
    - name: a
      count: 1
      capacity: {cpu: \"4\", memory: 16Gi}
";

/// A valid Deployment manifest; tests edit a line of it.
const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: c
          image: nginx
          resources:
            requests: {cpu: 100m, memory: 64Mi}
";

/// Where the error must be and what it must say.
struct Expect<'a> {
    /// The file the error must name.
    file: PathBuf,
    /// Acceptable line numbers (usually one).
    lines: Vec<usize>,
    /// Each group: at least one of its strings must appear in stderr (case-insensitive).
    says: &'a [&'a [&'a str]],
}

/// Write `files` into a fresh temp dir, then run `kubesim run SCEN --out OUT` and
/// `kubesim validate SCEN` and check both against `expect` (built from the dir).
fn check_case(
    test: &str,
    files: &[(&str, &str)],
    scenario_rel: &str,
    expect: impl Fn(&Path) -> Expect<'static>,
) {
    let tmp = TempDir::new(test);
    for (rel, text) in files {
        tmp.write(rel, text);
    }
    let scen = tmp.join(scenario_rel);
    let out = tmp.join("out");
    let e = expect(tmp.path());
    let run = kubesim([
        "run".as_ref(),
        scen.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    check_error(&run, &e);
    assert!(
        !out.exists(),
        "run wrote the output folder despite the error\n{}",
        run.describe()
    );
    let validate = kubesim(["validate".as_ref(), scen.as_os_str()]);
    check_error(&validate, &e);
}

fn check_error(r: &Run, e: &Expect) {
    r.assert_no_panic();
    assert_ne!(
        r.code,
        Some(0),
        "expected a non-zero exit\n{}",
        r.describe()
    );
    let found = positions_for(&r.stderr, &e.file);
    assert!(
        !found.is_empty(),
        "stderr does not name {} with :LINE:COL\n{}",
        e.file.display(),
        r.describe()
    );
    assert!(
        found.iter().any(|(l, _)| e.lines.contains(l)),
        "stderr gives {}:{found:?} (line, col), expected line {:?}\n{}",
        e.file.display(),
        e.lines,
        r.describe()
    );
    let lower = r.stderr.to_lowercase();
    for group in e.says {
        assert!(
            group.iter().any(|s| lower.contains(&s.to_lowercase())),
            "stderr says none of {group:?}\n{}",
            r.describe()
        );
    }
}

fn scenario_with(body: &str) -> String {
    format!("{HEADER}{body}")
}

#[test]
fn misspelled_top_level_key_is_reported_with_did_you_mean_hint() {
    let text = scenario_with("untill: 5m\n");
    check_case(
        "misspelled_top_level_key",
        &[("s.yaml", &text)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&text, "untill:")],
            says: &[
                &["untill"],
                &[
                    "did you mean \"until\"",
                    "did you mean `until`",
                    "did you mean until",
                ],
            ],
        },
    );
}

#[test]
fn bad_cpu_quantity_in_node_pool_is_reported_at_its_line() {
    let text = "name: t
cluster:
  nodePools:
    - name: a
      count: 1
      capacity:
        cpu: \"4 cores\"
        memory: 16Gi
";
    check_case(
        "bad_cpu_quantity_in_node_pool",
        &[("s.yaml", text)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(text, "4 cores")],
            says: &[&["4 cores"], &["quantity"], &["expected"]],
        },
    );
}

#[test]
fn bad_cpu_quantity_in_container_request_is_reported_in_the_manifest_file() {
    let manifest = DEPLOYMENT.replace(
        "requests: {cpu: 100m, memory: 64Mi}",
        "requests:\n              cpu: \"4 cores\"",
    );
    let scen = scenario_with("manifests:\n  - m/web.yaml\n");
    check_case(
        "bad_cpu_quantity_in_container_request",
        &[("s.yaml", &scen), ("m/web.yaml", &manifest)],
        "s.yaml",
        |d| Expect {
            file: d.join("m/web.yaml"),
            lines: vec![line_of(&manifest, "4 cores")],
            says: &[&["4 cores"], &["quantity"], &["expected"]],
        },
    );
}

#[test]
fn negative_replicas_in_deployment_manifest_is_rejected() {
    let manifest = DEPLOYMENT.replace("replicas: 2", "replicas: -1");
    let scen = scenario_with("manifests:\n  - m/web.yaml\n");
    check_case(
        "negative_replicas_in_deployment_manifest",
        &[("s.yaml", &scen), ("m/web.yaml", &manifest)],
        "s.yaml",
        |d| Expect {
            file: d.join("m/web.yaml"),
            lines: vec![line_of(&manifest, "replicas: -1")],
            says: &[
                &["-1"],
                &[
                    "greater than or equal to 0",
                    "between 0",
                    ">= 0",
                    "non-negative",
                    "must not be negative",
                ],
            ],
        },
    );
}

#[test]
fn negative_replicas_in_timeline_scale_is_rejected() {
    let scen = scenario_with(
        "manifests:
  - m/web.yaml
timeline:
  - at: 1m
    action: scale
    target: deployment/web
    replicas: -1
",
    );
    check_case(
        "negative_replicas_in_timeline_scale",
        &[("s.yaml", &scen), ("m/web.yaml", DEPLOYMENT)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&scen, "replicas: -1")],
            says: &[
                &["-1"],
                &[
                    "greater than or equal to 0",
                    "between 0",
                    ">= 0",
                    "non-negative",
                    "must not be negative",
                ],
            ],
        },
    );
}

#[test]
fn missing_manifest_file_is_reported_at_its_manifests_entry() {
    let scen = scenario_with("manifests:\n  - m/missing.yaml\n");
    check_case(
        "missing_manifest_file",
        &[("s.yaml", &scen)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&scen, "- m/missing.yaml")],
            says: &[
                &["missing.yaml"],
                &["not found", "no such file", "does not exist"],
            ],
        },
    );
}

#[test]
fn unknown_field_in_manifest_is_reported_with_did_you_mean_hint() {
    let manifest = DEPLOYMENT.replace("replicas: 2", "replcias: 2");
    let scen = scenario_with("manifests:\n  - m/web.yaml\n");
    check_case(
        "unknown_field_in_manifest",
        &[("s.yaml", &scen), ("m/web.yaml", &manifest)],
        "s.yaml",
        |d| Expect {
            file: d.join("m/web.yaml"),
            lines: vec![line_of(&manifest, "replcias")],
            says: &[
                &["replcias"],
                &["unknown field"],
                &["did you mean \"replicas\"", "did you mean `replicas`"],
            ],
        },
    );
}

#[test]
fn unknown_kind_is_reported_with_did_you_mean_hint() {
    let manifest = DEPLOYMENT.replace("kind: Deployment", "kind: Deploymnet");
    let scen = scenario_with("manifests:\n  - m/web.yaml\n");
    check_case(
        "unknown_kind",
        &[("s.yaml", &scen), ("m/web.yaml", &manifest)],
        "s.yaml",
        |d| Expect {
            file: d.join("m/web.yaml"),
            lines: vec![line_of(&manifest, "kind: Deploymnet")],
            says: &[
                &["Deploymnet"],
                &["unknown kind"],
                &["did you mean \"Deployment\"", "did you mean `Deployment`"],
            ],
        },
    );
}

#[test]
fn unknown_timeline_action_lists_the_valid_actions() {
    let scen = scenario_with(
        "manifests:
  - m/web.yaml
timeline:
  - at: 1m
    action: explode
    target: deployment/web
",
    );
    check_case(
        "unknown_timeline_action",
        &[("s.yaml", &scen), ("m/web.yaml", DEPLOYMENT)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&scen, "action: explode")],
            says: &[
                &["explode"],
                &["unknown action"],
                &["apply"],
                &["scale"],
                &["cordon"],
            ],
        },
    );
}

#[test]
fn misspelled_timeline_action_gets_did_you_mean_hint() {
    let scen = scenario_with(
        "manifests:
  - m/web.yaml
timeline:
  - at: 1m
    action: scael
    target: deployment/web
    replicas: 2
",
    );
    check_case(
        "misspelled_timeline_action",
        &[("s.yaml", &scen), ("m/web.yaml", DEPLOYMENT)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&scen, "action: scael")],
            says: &[
                &["scael"],
                &["did you mean \"scale\"", "did you mean `scale`"],
            ],
        },
    );
}

#[test]
fn timeline_target_deployment_that_does_not_exist_is_rejected() {
    let scen = scenario_with(
        "manifests:
  - m/web.yaml
timeline:
  - at: 1m
    action: scale
    target: deployment/webb
    replicas: 2
",
    );
    check_case(
        "timeline_target_deployment_missing",
        &[("s.yaml", &scen), ("m/web.yaml", DEPLOYMENT)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&scen, "target: deployment/webb")],
            says: &[
                &["webb"],
                &[
                    "no deployment",
                    "not defined",
                    "does not exist",
                    "not found",
                ],
            ],
        },
    );
}

#[test]
fn timeline_cordon_of_a_node_that_does_not_exist_is_rejected() {
    let scen = scenario_with(
        "timeline:
  - at: 1m
    action: cordon
    target: node/zzz
",
    );
    check_case(
        "timeline_cordon_node_missing",
        &[("s.yaml", &scen)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&scen, "target: node/zzz")],
            says: &[
                &["zzz"],
                &["no node", "not defined", "does not exist", "not found"],
            ],
        },
    );
}

#[test]
fn timeline_node_crash_of_a_node_that_does_not_exist_is_rejected() {
    let scen = scenario_with(
        "timeline:
  - at: 10m
    action: node-crash
    target: node/a-7
    for: 2m
",
    );
    check_case(
        "timeline_node_crash_node_missing",
        &[("s.yaml", &scen)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&scen, "target: node/a-7")],
            says: &[
                &["a-7"],
                &["no node", "not defined", "does not exist", "not found"],
            ],
        },
    );
}

#[test]
fn timeline_node_recover_does_not_take_for() {
    let scen = scenario_with(
        "timeline:
  - at: 10m
    action: node-recover
    target: node/a-0
    for: 2m
",
    );
    check_case(
        "timeline_node_recover_for",
        &[("s.yaml", &scen)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&scen, "for: 2m")],
            says: &[&["for"], &["node-recover"]],
        },
    );
}

#[test]
fn deployment_selector_not_matching_template_labels_is_rejected() {
    let manifest = DEPLOYMENT.replace("matchLabels: {app: web}", "matchLabels: {app: other}");
    let scen = scenario_with("manifests:\n  - m/web.yaml\n");
    check_case(
        "selector_not_matching_labels",
        &[("s.yaml", &scen), ("m/web.yaml", &manifest)],
        "s.yaml",
        |d| Expect {
            file: d.join("m/web.yaml"),
            // either the selector or the template labels is the right place
            lines: vec![
                line_of(&manifest, "selector:"),
                line_of(&manifest, "matchLabels"),
                line_of(&manifest, "labels: {app: web}"),
            ],
            says: &[&["selector"], &["labels"]],
        },
    );
}

#[test]
fn invalid_yaml_syntax_in_scenario_is_reported_at_the_offending_line() {
    let scen = "name: t\ndescription: a: b\nuntil: 5m\n";
    check_case(
        "invalid_yaml_in_scenario",
        &[("s.yaml", scen)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(scen, "description: a: b")],
            says: &[&["yaml"]],
        },
    );
}

#[test]
fn invalid_yaml_syntax_in_manifest_is_reported_at_the_offending_line() {
    let manifest = DEPLOYMENT.replace("  name: web\n", "  name: web: x\n");
    let scen = scenario_with("manifests:\n  - m/web.yaml\n");
    check_case(
        "invalid_yaml_in_manifest",
        &[("s.yaml", &scen), ("m/web.yaml", &manifest)],
        "s.yaml",
        |d| Expect {
            file: d.join("m/web.yaml"),
            lines: vec![line_of(&manifest, "name: web: x")],
            says: &[&["yaml"]],
        },
    );
}

#[test]
fn object_in_a_namespace_that_does_not_exist_is_rejected() {
    let manifest = DEPLOYMENT.replace("namespace: default", "namespace: nope");
    let scen = scenario_with("manifests:\n  - m/web.yaml\n");
    check_case(
        "namespace_does_not_exist",
        &[("s.yaml", &scen), ("m/web.yaml", &manifest)],
        "s.yaml",
        |d| Expect {
            file: d.join("m/web.yaml"),
            lines: vec![line_of(&manifest, "namespace: nope")],
            says: &[&["nope"], &["namespace"]],
        },
    );
}

#[test]
fn inline_object_in_a_namespace_that_does_not_exist_is_rejected() {
    let body = DEPLOYMENT
        .replace("namespace: default", "namespace: nope")
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("  - {l}\n")
            } else {
                format!("    {l}\n")
            }
        })
        .collect::<String>();
    let scen = scenario_with(&format!("objects:\n{body}"));
    check_case(
        "inline_namespace_does_not_exist",
        &[("s.yaml", &scen)],
        "s.yaml",
        |d| Expect {
            file: d.join("s.yaml"),
            lines: vec![line_of(&scen, "namespace: nope")],
            says: &[&["nope"], &["namespace"]],
        },
    );
}

#[test]
fn object_in_a_namespace_defined_in_the_scenario_is_accepted() {
    // control for the two tests above: the same object is fine once its namespace exists
    let tmp = TempDir::new("namespace_defined_is_accepted");
    let manifest = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: nope\n---\n{}",
        DEPLOYMENT.replace("namespace: default", "namespace: nope")
    );
    tmp.write("m/web.yaml", &manifest);
    let scen = tmp.write("s.yaml", &scenario_with("manifests:\n  - m/web.yaml\n"));
    kubesim(["validate".as_ref(), scen.as_os_str()]).assert_success();
}

#[test]
fn validate_accepts_a_folder_of_valid_manifests() {
    let tmp = TempDir::new("validate_accepts_a_folder");
    tmp.write("m/web.yaml", DEPLOYMENT);
    tmp.write(
        "m/svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n",
    );
    let r = kubesim(["validate".as_ref(), tmp.join("m").as_os_str()]);
    r.assert_success();
    assert!(!r.stderr.contains("error"), "{}", r.describe());
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    for sc in shipped_scenarios() {
        kubesim(["validate".as_ref(), sc.as_os_str()]).assert_success();
    }
}

#[test]
fn validate_reports_every_error_in_a_file_not_just_the_first() {
    let tmp = TempDir::new("validate_reports_every_error");
    let text = format!(
        "{}---\napiVersion: v1\nkind: Servce\nmetadata:\n  name: x\n",
        DEPLOYMENT.replace("replicas: 2", "replicas: -1").replace(
            "requests: {cpu: 100m, memory: 64Mi}",
            "requests:\n              cpu: \"4 cores\""
        )
    );
    let file = tmp.write("multi.yaml", &text);
    let r = kubesim(["validate".as_ref(), file.as_os_str()]);
    r.assert_no_panic();
    assert_ne!(r.code, Some(0), "{}", r.describe());
    let lines: Vec<usize> = positions_for(&r.stderr, &file)
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    for needle in ["replicas: -1", "4 cores", "kind: Servce"] {
        let want = line_of(&text, needle);
        assert!(
            lines.contains(&want),
            "no error at line {want} ({needle}); got lines {lines:?}\n{}",
            r.describe()
        );
    }
}

#[test]
fn validate_of_a_missing_file_fails_naming_it() {
    let tmp = TempDir::new("validate_of_a_missing_file");
    let missing = tmp.join("nope.yaml");
    let r = kubesim(["validate".as_ref(), missing.as_os_str()]);
    r.assert_no_panic();
    assert_ne!(r.code, Some(0), "{}", r.describe());
    assert!(
        r.stderr.contains(&missing.display().to_string()),
        "{}",
        r.describe()
    );
}

#[test]
fn run_of_a_missing_scenario_fails_without_writing_output() {
    let tmp = TempDir::new("run_of_a_missing_scenario");
    let out = tmp.join("out");
    let missing = tmp.join("nope.yaml");
    let r = kubesim([
        "run".as_ref(),
        missing.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    r.assert_no_panic();
    assert_ne!(r.code, Some(0), "{}", r.describe());
    assert!(r.stderr.contains("nope.yaml"), "{}", r.describe());
    assert!(!out.exists(), "output folder written\n{}", r.describe());
}

#[test]
fn run_with_out_naming_an_existing_file_fails_cleanly() {
    let tmp = TempDir::new("run_with_out_naming_an_existing_file");
    let file = tmp.write("taken", "not a folder\n");
    let r = kubesim([
        "run".as_ref(),
        scenario("web-basic.yaml").as_os_str(),
        "--out".as_ref(),
        file.as_os_str(),
    ]);
    r.assert_no_panic();
    assert_ne!(r.code, Some(0), "{}", r.describe());
    assert!(
        r.stderr.contains("taken"),
        "error does not name the --out path\n{}",
        r.describe()
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "not a folder\n",
        "the file was changed"
    );
}

#[test]
fn bad_run_for_annotation_in_a_template_is_rejected() {
    let manifest = DEPLOYMENT.replace(
        "      labels: {app: web}\n",
        "      labels: {app: web}\n      annotations: {kubesim.io/run-for: ten minutes}\n",
    );
    let scen = scenario_with("manifests:\n  - m/web.yaml\n");
    check_case(
        "bad_run_for_annotation",
        &[("s.yaml", &scen), ("m/web.yaml", &manifest)],
        "s.yaml",
        |d| Expect {
            file: d.join("m/web.yaml"),
            lines: vec![line_of(&manifest, "kubesim.io/run-for")],
            says: &[&["ten minutes"], &["duration"]],
        },
    );
}

#[test]
fn validate_reports_every_error_of_a_scenario_in_file_order() {
    let dir = TempDir::new("validate-all");
    let p = dir.write(
        "s.yaml",
        "name: x\nuntill: 5m\ncluster:\n  nodePools:\n    - {name: a, count: two, capacity: {cpu: 1, memory: 1Gi}}\n  schedular: {}\ntimeline:\n  - {at: 5x, action: scale}\n",
    );
    let r = kubesim(["validate".as_ref(), p.as_os_str()]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let lines: Vec<(usize, usize)> = common::positions_for(&r.stderr, &p);
    // untill (2), count (5), schedular (6): three errors, in order
    assert!(
        r.stderr.contains("did you mean \"until\""),
        "{}",
        r.describe()
    );
    assert!(r.stderr.contains("expected u32"), "{}", r.describe());
    assert!(
        r.stderr.contains("did you mean \"scheduler\""),
        "{}",
        r.describe()
    );
    let ls: Vec<usize> = lines.iter().map(|p| p.0).collect();
    assert!(ls.len() >= 3, "{}", r.describe());
    assert!(ls.windows(2).all(|w| w[0] <= w[1]), "file order: {ls:?}");
}

#[test]
fn limits_reject_absurd_inputs_and_name_the_limit() {
    let dir = TempDir::new("limits");
    let cases = [
        ("until: 100000d\n", "limits.maxUntil"),
        (
            "objects:\n  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: w}, spec: {replicas: 2000000000, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}}\n",
            "limits.maxReplicas",
        ),
        (
            "limits: {maxReplicas: 10}\nobjects:\n  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: w}, spec: {replicas: 11, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}}\n",
            "more than the limit of 10",
        ),
        ("limits: {maxNodes: 2}\ncluster:\n  nodePools: [{name: a, count: 3, capacity: {cpu: 1, memory: 1Gi}}]\n", "limits.maxNodes"),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let p = dir.write(&format!("s{i}.yaml"), &format!("name: x\n{body}"));
        let r = kubesim(["validate".as_ref(), p.as_os_str()]);
        assert_eq!(r.code, Some(1), "case {i}: {}", r.describe());
        assert!(r.stderr.contains(want), "case {i}: {}", r.describe());
        assert!(
            !common::positions_for(&r.stderr, &p).is_empty(),
            "case {i}: {}",
            r.describe()
        );
    }
    // maxEvents stops the run, says so, and marks the outputs incomplete
    let p = dir.write(
        "events.yaml",
        "name: x\nlimits: {maxEvents: 50}\ncluster:\n  nodePools: [{name: a, count: 2, capacity: {cpu: 4, memory: 4Gi}}]\nobjects:\n  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: w}, spec: {replicas: 20, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}}\n",
    );
    let out = dir.join("out");
    let r = kubesim([
        "run".as_ref(),
        p.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, Some(5), "{}", r.describe());
    assert!(r.stderr.contains("limits.maxEvents"), "{}", r.describe());
    let s = common::read_json(&out.join("summary.json"));
    assert_eq!(s["sim"]["stopped"], "event-limit");
    assert_eq!(s["sim"]["complete"], false);
    assert_eq!(s["sim"]["events"], 50);
}
