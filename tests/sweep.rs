//! `kubesim sweep`, `--shard K/N` and `kubesim merge`: a sharded grid merges
//! into byte for byte what one unsharded run writes; merge refuses missing,
//! duplicate and foreign shards; bad sweep files and shard specs get clear
//! errors.

mod common;

use common::{kubesim, repo_root, TempDir};
use kubesim::scheduler::policies::Registry;
use kubesim::sweep::{self, Plan, Shard};
use std::path::{Path, PathBuf};

/// Every file in `dir` (recursively), relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// The same files with the same bytes in both folders.
fn assert_same_folders(a: &Path, c: &Path) {
    let fa = files(a);
    assert!(!fa.is_empty(), "{} is empty", a.display());
    assert_eq!(
        fa,
        files(c),
        "the same files in {} and {}",
        a.display(),
        c.display()
    );
    for f in &fa {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(c.join(f)).unwrap();
        assert!(
            x == y,
            "{} differs between the unsharded run and the merge:\n--- unsharded ---\n{}\n--- merged ---\n{}",
            f.display(),
            String::from_utf8_lossy(&x),
            String::from_utf8_lossy(&y)
        );
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

const COMPARE: &[&str] = &[
    "compare",
    "scenarios/compare-binpacking.yaml",
    "--schedulers",
    "least-allocated,most-allocated,random",
    "--seed-list",
    "3,1,2",
    "--until",
    "4m",
];

fn compare_args(extra: &[String]) -> Vec<String> {
    COMPARE
        .iter()
        .map(|a| a.to_string())
        .chain(extra.iter().cloned())
        .collect()
}

#[test]
fn compare_shards_merge_into_the_unsharded_output_byte_for_byte() {
    let tmp = TempDir::new("compare_shards_merge");
    let a = tmp.join("A");
    kubesim(compare_args(&[
        "--threads".into(),
        "2".into(),
        "--out".into(),
        s(&a),
    ]))
    .assert_success();
    let mut shards = Vec::new();
    for k in 1..=3 {
        let b = tmp.join(&format!("B{k}"));
        let r = kubesim(compare_args(&[
            "--threads".into(),
            "1".into(),
            "--shard".into(),
            format!("{k}/3"),
            "--out".into(),
            s(&b),
        ]));
        r.assert_success();
        assert!(
            r.stdout.contains(&format!("shard {k}/3")),
            "{}",
            r.describe()
        );
        assert_eq!(
            files(&b),
            vec![PathBuf::from("runs.jsonl"), PathBuf::from("shard.json")]
        );
        shards.push(b);
    }
    // 9 runs over 3 shards, round-robin
    let lines = std::fs::read_to_string(shards[1].join("runs.jsonl")).unwrap();
    let idx: Vec<u64> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["index"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(idx, vec![1, 4, 7]);
    let c = tmp.join("C");
    // the order of the folders does not matter
    let r = kubesim([
        "merge".to_string(),
        s(&shards[2]),
        s(&shards[0]),
        s(&shards[1]),
        "--out".into(),
        s(&c),
    ]);
    r.assert_success();
    assert!(
        r.stdout.contains("paired difference vs least-allocated"),
        "{}",
        r.describe()
    );
    assert_same_folders(&a, &c);
    assert!(a.join("comparison.json").exists() && a.join("comparison.csv").exists());
}

/// A small sweep over the shipped comparison scenario, written into `dir`.
fn small_sweep(dir: &TempDir, name: &str, seeds: &str) -> PathBuf {
    let scenario = repo_root().join("scenarios/compare-binpacking.yaml");
    dir.write(
        &format!("{name}.yaml"),
        &format!(
            "name: {name}\nscenario: {}\nuntil: 3m\nparameters:\n  cluster.nodePools[0].count: [4, 9]\n  workload.generators[1].cpu: [{{uniform: [1, 2]}}, {{uniform: [500m, 1]}}]\npolicies: [most-allocated, least-allocated]\nseeds: {seeds}\n",
            scenario.display()
        ),
    )
}

#[test]
fn sweep_shards_merge_into_the_unsharded_output_byte_for_byte() {
    let tmp = TempDir::new("sweep_shards_merge");
    let file = small_sweep(&tmp, "small", "{from: 1, to: 3}");
    let a = tmp.join("A");
    let r = kubesim(["sweep", &s(&file), "--threads", "2", "--out", &s(&a)]);
    r.assert_success();
    assert!(
        r.stdout
            .contains("variant 4 of 4: cluster.nodePools[0].count=9, workload.generators[1].cpu={\"uniform\":[\"500m\",1]}"),
        "{}",
        r.describe()
    );
    assert_eq!(
        files(&a),
        vec![PathBuf::from("sweep.csv"), PathBuf::from("sweep.json")]
    );
    let csv = std::fs::read_to_string(a.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4 * 2 * 3, "{csv}");
    assert!(csv.starts_with(
        "index,variant,cluster.nodePools[0].count,workload.generators[1].cpu,policy,seed,pods_bound,"
    ));
    // grid order: variant, then policy, then seed
    let row7: Vec<&str> = csv.lines().nth(8).unwrap().split(',').take(2).collect();
    assert_eq!(row7, vec!["7", "1"]);
    let json = common::read_json(&a.join("sweep.json"));
    assert_eq!(json["variants"].as_array().unwrap().len(), 4);
    assert_eq!(
        json["variants"][1]["values"]["cluster.nodePools[0].count"],
        4
    );

    let mut shards = Vec::new();
    for k in 1..=3 {
        let b = tmp.join(&format!("B{k}"));
        kubesim([
            "sweep",
            &s(&file),
            "--threads",
            "1",
            "--shard",
            &format!("{k}/3"),
            "--out",
            &s(&b),
        ])
        .assert_success();
        shards.push(s(&b));
    }
    let c = tmp.join("C");
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().cloned());
    args.extend(["--out".to_string(), s(&c)]);
    kubesim(&args).assert_success();
    assert_same_folders(&a, &c);

    // a 1/1 shard merges too
    let one = tmp.join("one");
    kubesim(["sweep", &s(&file), "--shard", "1/1", "--out", &s(&one)]).assert_success();
    let c1 = tmp.join("C1");
    kubesim(["merge", &s(&one), "--out", &s(&c1)]).assert_success();
    assert_same_folders(&a, &c1);
}

#[test]
fn merge_refuses_missing_duplicate_foreign_and_unfinished_shards() {
    let tmp = TempDir::new("merge_refuses");
    let file = small_sweep(&tmp, "one", "[1, 2]");
    let other = small_sweep(&tmp, "two", "[1, 3]");
    let shard = |f: &Path, k: &str, dir: &str| -> String {
        let d = tmp.join(dir);
        kubesim([
            "sweep",
            &s(f),
            "--until",
            "1m",
            "--shard",
            k,
            "--out",
            &s(&d),
        ])
        .assert_success();
        s(&d)
    };
    let b1 = shard(&file, "1/3", "b1");
    let b2 = shard(&file, "2/3", "b2");
    let b3 = shard(&file, "3/3", "b3");
    let x2 = shard(&other, "2/3", "x2");
    let q1 = shard(&file, "1/4", "q1");
    let out = s(&tmp.join("out"));
    let merge = |dirs: &[&str]| {
        let mut a = vec!["merge"];
        a.extend(dirs);
        a.extend(["--out", out.as_str()]);
        let r = kubesim(&a);
        r.assert_no_panic();
        assert_eq!(r.code, Some(1), "{}", r.describe());
        assert!(!tmp.join("out").exists(), "nothing written on error");
        r.stderr
    };
    let e = merge(&[&b1, &b3]);
    assert!(e.contains("missing shard 2/3"), "{e}");
    let e = merge(&[&b1, &b2, &b2, &b3]);
    assert!(e.contains("shard 2/3 is given twice"), "{e}");
    let e = merge(&[&b1, &x2, &b3]);
    assert!(
        e.contains("come from different grids")
            && e.contains("the name")
            && e.contains("the seeds"),
        "{e}"
    );
    assert!(
        e.contains(&b1) && e.contains(&x2),
        "names both folders: {e}"
    );
    let e = merge(&[&b1, &b2, &q1]);
    assert!(e.contains("is shard 1/4"), "{e}");
    // a truncated runs.jsonl
    let runs = tmp.join("b2/runs.jsonl");
    let text = std::fs::read_to_string(&runs).unwrap();
    std::fs::write(&runs, text.lines().next().unwrap()).unwrap();
    let e = merge(&[&b1, &b2, &b3]);
    assert!(e.contains("runs.jsonl") && e.contains("incomplete"), "{e}");
    // an unfinished shard has no shard.json
    std::fs::remove_file(tmp.join("b3/shard.json")).unwrap();
    let e = merge(&[&b1, &b2, &b3]);
    assert!(e.contains("b3: no shard.json"), "{e}");
}

#[test]
fn bad_shard_specs_are_refused_with_a_clear_error() {
    let tmp = TempDir::new("bad_shard_specs");
    let out = s(&tmp.join("o"));
    for (spec, says) in [
        ("3/2", "shard 3 of 2 does not exist"),
        ("0/2", "numbered from 1"),
        ("2", "is not K/N"),
        ("x/2", "not a whole number"),
        ("1/0", "N must be at least 1"),
    ] {
        let r = kubesim(compare_args(&[
            "--shard".into(),
            spec.into(),
            "--out".into(),
            out.clone(),
        ]));
        r.assert_no_panic();
        assert_eq!(r.code, Some(2), "{}", r.describe());
        assert!(r.stderr.contains(says), "--shard {spec}: {}", r.describe());
    }
    // a shard needs somewhere to write its runs
    let r = kubesim(compare_args(&["--shard".into(), "1/2".into()]));
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(r.stderr.contains("--out"), "{}", r.describe());
}

#[test]
fn bad_parameter_paths_name_the_sweep_file_and_the_path() {
    let tmp = TempDir::new("bad_parameter_paths");
    let scenario = repo_root().join("scenarios/compare-binpacking.yaml");
    let cases = [
        (
            "cluster.nodePool[0].count",
            "there is no key `nodePool` under `cluster`",
        ),
        (
            "cluster.nodePools[5].count",
            "`cluster.nodePools` has 1 item, so [5] is out of range",
        ),
        (
            "cluster.nodePools.count",
            "`cluster.nodePools` is a list, so it has no key `count`",
        ),
        ("cluster..count", "bad path"),
        ("seed", "seeds are set by `seeds:`"),
    ];
    for (i, (path, says)) in cases.iter().enumerate() {
        let f = tmp.write(
            &format!("bad{i}.yaml"),
            &format!(
                "scenario: {}\nparameters:\n  {path}: [1, 2]\npolicies: [default]\nseeds: 2\n",
                scenario.display()
            ),
        );
        let r = kubesim(["sweep", &s(&f)]);
        r.assert_no_panic();
        assert_eq!(r.code, Some(1), "{}", r.describe());
        assert!(
            r.stderr.contains(&s(&f))
                && r.stderr.contains(&format!("`{path}`"))
                && r.stderr.contains(says),
            "{path}: {}",
            r.describe()
        );
    }
    // a value the scenario refuses names the variant
    let f = tmp.write(
        "badvalue.yaml",
        &format!(
            "scenario: {}\nparameters:\n  cluster.nodePools[0].count: [2, many]\npolicies: [default]\nseeds: [1]\n",
            scenario.display()
        ),
    );
    let r = kubesim(["sweep", &s(&f)]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stderr
            .contains("variant 2 (cluster.nodePools[0].count=many)"),
        "{}",
        r.describe()
    );
    // unknown policies and keys
    let f = tmp.write(
        "badpolicy.yaml",
        &format!(
            "scenario: {}\npolicies: [nope]\nseeds: 1\n",
            scenario.display()
        ),
    );
    let r = kubesim(["sweep", &s(&f)]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stderr.contains("policies") && r.stderr.contains("nope"),
        "{}",
        r.describe()
    );
    let f = tmp.write(
        "badkey.yaml",
        &format!(
            "scenario: {}\npolicy: [default]\nseeds: 1\n",
            scenario.display()
        ),
    );
    let r = kubesim(["sweep", &s(&f)]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stderr.contains("unknown field `policy`"),
        "{}",
        r.describe()
    );
}

#[test]
fn paths_reach_inline_objects_and_keys_with_dots() {
    let tmp = TempDir::new("paths_reach_inline_objects");
    let f = tmp.write(
        "inline.yaml",
        &format!(
            "scenario: {}\nuntil: 4m\nparameters:\n  objects[0].spec.replicas: [2, 5]\n  objects[0].metadata.labels[\"app.kubernetes.io/tier\"]: [front]\npolicies: [default]\nseeds: [1]\n",
            repo_root().join("scenarios/api-server-outage.yaml").display()
        ),
    );
    let out = tmp.join("out");
    let r = kubesim(["sweep", &s(&f), "--out", &s(&out)]);
    r.assert_success();
    assert!(
        r.stdout.contains("variant 2 of 2: objects[0].spec.replicas=5, objects[0].metadata.labels[\"app.kubernetes.io/tier\"]=front"),
        "{}",
        r.describe()
    );
    let json = common::read_json(&out.join("sweep.json"));
    let bound =
        |v: usize| json["variants"][v]["comparison"]["runs"][0]["figures"]["pods_bound"].as_f64();
    assert_eq!(
        (bound(0), bound(1)),
        (Some(2.0), Some(5.0)),
        "replicas 2 and 5 bind 2 and 5 pods"
    );
}

#[test]
fn the_shipped_sweep_expands_in_the_documented_order() {
    let plan = Plan::for_sweep(
        &repo_root().join("scenarios/sweeps/binpacking-size.yaml"),
        None,
        &Registry::builtin(),
    )
    .unwrap();
    let g = &plan.desc;
    assert_eq!(
        (g.variants(), g.policies.len(), g.seeds.len(), g.len()),
        (4, 2, 5, 40)
    );
    assert_eq!(
        g.label(1),
        "cluster.nodePools[0].count=12, workload.generators[0].arrivals.poisson.rate=0.5/s"
    );
    assert_eq!(
        g.label(2).split(", ").next(),
        Some("cluster.nodePools[0].count=20")
    );
    let nodes = |v: usize| {
        plan.scenarios[v]
            .objects
            .iter()
            .filter(|o| o.kind() == kubesim::api::Kind::Node)
            .count()
    };
    assert_eq!((nodes(0), nodes(1), nodes(2), nodes(3)), (12, 12, 20, 20));
    assert!(plan
        .scenarios
        .iter()
        .all(|s| s.until.as_millis() == 2 * 3600 * 1000));
    // index 17 = variant 1, policy 1, seed 2 (the third)
    let p = g.point(17);
    assert_eq!((p.variant, p.policy, p.seed), (1, 1, 2));
    // four shards cover the grid once
    let mut n = 0;
    for k in 1..=4 {
        n += Shard { index: k, count: 4 }.len_of(g.len());
    }
    assert_eq!(n, 40);
    let _ = sweep::MAX_POINTS;
}

#[test]
fn the_kubernetes_and_slurm_examples_run_every_shard_once() {
    let root = repo_root().join("examples/sweep");
    let job: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("indexed-job.yaml")).unwrap())
            .unwrap();
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let n = job["spec"]["completions"].as_u64().unwrap();
    let cmd = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .unwrap();
    assert!(
        cmd.contains(&format!("--shard \"$((JOB_COMPLETION_INDEX + 1))/{n}\"")),
        "{cmd}"
    );
    assert!(cmd.contains("sweeps/binpacking-size.yaml"));
    let merge: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("merge-job.yaml")).unwrap())
            .unwrap();
    let mcmd = merge["spec"]["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .unwrap();
    assert!(mcmd.starts_with("kubesim merge"), "{mcmd}");

    let sh = std::fs::read_to_string(root.join("slurm-array.sh")).unwrap();
    assert!(sh.contains("#SBATCH --array=1-4"));
    assert!(sh.contains("K=${SLURM_ARRAY_TASK_ID"));
    assert!(sh.contains("--shard \"$K/$N\""));
    assert!(sh.contains("scenarios/sweeps/binpacking-size.yaml"));

    // the README shows each of them as it is
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    for f in ["indexed-job.yaml", "merge-job.yaml", "slurm-array.sh"] {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        assert!(
            readme.contains(&text),
            "README.md does not show examples/sweep/{f} as it is"
        );
    }
}
