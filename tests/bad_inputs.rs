//! The README's table of bad inputs, row by row, through `kubesim validate`:
//! each gets its error (or warning) with the file and, where there is one, the
//! line and column — never a panic.

mod common;

use common::*;

const DEPLOY: &str = "{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}}";

/// (file text, expected in stderr, exit code, has a line:col)
fn cases() -> Vec<(String, &'static str, i32, bool)> {
    let obj = |o: &str| format!("name: x\nobjects:\n  - {o}\n");
    vec![
        ("name: x\ncluster: [\n".into(), "invalid YAML", 1, true),
        ("name: x\nuntill: 5m\n".into(), "did you mean \"until\"", 1, true),
        ("name: x\nseed: abc\n".into(), "invalid type: string \"abc\", expected u64", 1, true),
        ("name: x\nseed: 99999999999999999999999\n".into(), "99999999999999999999999", 1, true),
        (obj("{apiVersion: v1, kind: Pood, metadata: {name: a}}"), "did you mean \"Pod\"", 1, true),
        (
            obj("{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: {replcias: 2, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}}"),
            "did you mean \"replicas\"",
            1,
            true,
        ),
        (
            obj("{apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: i, env: [{name: A, value: b}]}]}}"),
            "fields kubesim does not simulate",
            0,
            false,
        ),
        (obj("{apiVersion: extensions/v1beta1, kind: Deployment, metadata: {name: a}}"), "was removed", 0, false),
        (
            obj("{apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: i, resources: {requests: {cpu: 1x}}}]}}"),
            "invalid quantity \"1x\"",
            1,
            true,
        ),
        ("name: x\ntimeline:\n  - {at: 5x, action: cordon, target: node/a}\n".into(), "invalid duration \"5x\"", 1, true),
        ("name: x\nmanifests: [nothere.yaml]\n".into(), "manifest file or folder not found", 1, true),
        (
            obj("{apiVersion: apps/v1, kind: Deployment, metadata: {name: a}, spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: c}}, spec: {containers: [{name: c, image: i}]}}}}"),
            "does not select labels",
            1,
            true,
        ),
        (
            obj("{apiVersion: apps/v1, kind: Deployment, metadata: {name: a}, spec: {selector: {matchExpressions: [{key: a, operator: Near, values: [b]}]}, template: {metadata: {labels: {a: c}}, spec: {containers: [{name: c, image: i}]}}}}"),
            "invalid label selector operator \"Near\"",
            1,
            true,
        ),
        (obj("{apiVersion: v1, kind: Pod, metadata: {name: Bad_Name}, spec: {containers: [{name: c, image: i}]}}"), "RFC 1123", 1, true),
        (
            format!("name: x\nobjects:\n  - {DEPLOY}\n  - {DEPLOY}\n"),
            "is defined twice",
            1,
            true,
        ),
        (
            obj("{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: team-a}, spec: {containers: [{name: c, image: i}]}}"),
            "namespace \"team-a\" does not exist",
            1,
            true,
        ),
        (
            format!("name: x\nobjects:\n  - {DEPLOY}\ntimeline:\n  - {{at: 1m, action: scale, target: deployment/webb, replicas: 2}}\n"),
            "did you mean \"web\"",
            1,
            true,
        ),
        ("name: x\ntimeline:\n  - {at: 1m, action: scael}\n".into(), "did you mean \"scale\"", 1, true),
        ("name: x\nchaos:\n  - {fault: node-crsh, mtbf: 1h, mttr: 5m}\n".into(), "did you mean \"node-crash\"", 1, true),
        (
            "name: x\ntimeline:\n  - {at: 1m, action: api-server-down, target: node/a}\n".into(),
            "does not apply to action api-server-down",
            1,
            true,
        ),
        (
            obj("{apiVersion: v1, kind: Pod, metadata: {name: a, ownerReferences: [{apiVersion: v1, kind: Pod, name: b, uid: \"1\"}]}, spec: {containers: [{name: c, image: i}]}}"),
            "metadata.ownerReferences",
            0,
            false,
        ),
        ("name: x\nuntil: 100000d\n".into(), "limits.maxUntil", 1, true),
        (
            obj(&DEPLOY.replace("spec: {selector", "spec: {replicas: 2000000000, selector")),
            "limits.maxReplicas",
            1,
            true,
        ),
    ]
}

#[test]
fn every_bad_input_in_the_readme_table_gets_its_message() {
    let dir = TempDir::new("bad-inputs");
    for (i, (text, want, code, positioned)) in cases().into_iter().enumerate() {
        let p = dir.write(&format!("case{i}.yaml"), &text);
        let r = kubesim(["validate".as_ref(), p.as_os_str()]);
        r.assert_no_panic();
        assert_eq!(r.code, Some(code), "case {i}: {}", r.describe());
        assert!(
            r.stderr.contains(want),
            "case {i}: want {want:?}: {}",
            r.describe()
        );
        if positioned {
            assert!(
                !positions_for(&r.stderr, &p).is_empty(),
                "case {i}: no line:col: {}",
                r.describe()
            );
        }
    }
}

#[test]
fn non_utf8_and_empty_scenarios_are_errors_not_panics() {
    let dir = TempDir::new("bad-bytes");
    let p = dir.join("garbage.yaml");
    std::fs::write(&p, [0xff, 0xfe, 0x00, 0x80, b'\n', 0xc3]).unwrap();
    let r = kubesim(["run".as_ref(), p.as_os_str()]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stderr.contains("not contain valid UTF-8"),
        "{}",
        r.describe()
    );
    let e = dir.write("empty.yaml", "");
    let r = kubesim(["run".as_ref(), e.as_os_str()]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stderr.contains("the scenario file is empty"),
        "{}",
        r.describe()
    );
}
