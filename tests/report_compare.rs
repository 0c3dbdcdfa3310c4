//! `kubesim compare --out DIR` writes a report (report.md and a self-contained
//! report.html) with a bar chart per metric with 95% confidence intervals and
//! the policies' scheduling-latency CDFs; `compare` and `sweep` show a progress
//! bar on a terminal only, and nothing at all with `--quiet`.

mod common;

use common::{kubesim, repo_root, TempDir};
use std::collections::BTreeMap;
use std::path::Path;

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A short comparison: 2 policies × 3 seeds, 20 minutes each.
fn short_compare(out: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "compare",
        "scenarios/compare-binpacking.yaml",
        "--schedulers",
        "most-allocated,least-allocated",
        "--seeds",
        "3",
        "--until",
        "20m",
        "--threads",
        "2",
    ];
    let out = s(out);
    args.extend(["--out", &out]);
    args.extend(extra);
    kubesim(&args)
}

#[test]
fn compare_out_writes_a_report_with_ci_bars_and_pooled_latency_cdfs() {
    let tmp = TempDir::new("report_compare");
    let dir = tmp.join("out");
    let r = short_compare(&dir, &[]);
    r.assert_success();
    // stderr is a pipe here, not a terminal: no progress bar
    assert_eq!(r.stderr, "", "{}", r.describe());
    assert!(r.stdout.contains("wrote"), "{}", r.describe());
    assert!(r.stdout.contains("report.html"), "{}", r.describe());

    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // no autoscaling here: its figures get no table rows of dashes
    assert!(md.contains("| nodes_used_mean ("), "{md}");
    assert!(!md.contains("| node_hours ("), "{md}");
    let svgs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    for required in [
        "compare-latency-cdf.svg",
        "compare-nodes_used_mean.svg",
        "compare-cpu_allocation_used.svg",
    ] {
        assert!(svgs.iter().any(|n| n == required), "{required} in {svgs:?}");
    }
    // every chart is in report.md (as its file) and inline in report.html
    for f in &svgs {
        assert!(md.contains(&format!("]({f})")), "{f} in report.md");
    }
    assert_eq!(page.matches("<svg").count(), svgs.len());
    assert!(!page.contains("<script") && !page.contains("<link") && !page.contains("src="));

    // the bars: mean over the 3 seeds with a 95% CI whisker, as the table says
    let bars = std::fs::read_to_string(dir.join("compare-nodes_used_mean.svg")).unwrap();
    assert!(bars.contains("n = 3 seeds · bar: mean over seeds · whisker: 95% confidence interval"));
    let json = common::read_json(&dir.join("comparison.json"));
    let s = &json["per_policy"]["most-allocated"]["nodes_used_mean"];
    let (mean, ci) = (s["mean"].as_f64().unwrap(), s["ci95"].as_f64().unwrap());
    assert!(ci > 0.0, "three seeds differ");
    assert!(
        bars.contains(&format!("{mean:.2} ± {ci:.2}")),
        "{mean:.2} ± {ci:.2} in\n{bars}"
    );

    // the CDFs pool every seed: each policy's pods = its pods_bound summed over seeds
    let csv = std::fs::read_to_string(dir.join("comparison.csv")).unwrap();
    let mut header = csv.lines().next().unwrap().split(',');
    let col = header.position(|h| h == "pods_bound").unwrap();
    let mut bound: BTreeMap<String, u64> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        *bound.entry(f[0].to_string()).or_default() += f[col].parse::<u64>().unwrap();
    }
    assert_eq!(bound.len(), 2);
    let cdf = std::fs::read_to_string(dir.join("compare-latency-cdf.svg")).unwrap();
    assert!(cdf.contains("3 seeds of each policy pooled"));
    for (policy, pods) in &bound {
        let pods = if *pods >= 10_000 {
            format!("{},{:03}", pods / 1000, pods % 1000)
        } else {
            pods.to_string()
        };
        assert!(
            cdf.contains(&format!("{policy} ({pods} pods)")),
            "{policy} ({pods} pods) in the legend"
        );
        assert!(
            md.contains(&format!("| {policy} | {} |", bound[policy])),
            "pooled latency row of {policy}"
        );
    }
    assert!(md.contains("Mean ± 95% confidence interval over seeds"));
    assert!(md.contains("Paired difference against most-allocated"));
}

#[test]
fn quiet_compare_and_sweep_print_nothing_and_still_write_their_files() {
    let tmp = TempDir::new("report_compare_quiet");
    let dir = tmp.join("out");
    let r = short_compare(&dir, &["--quiet"]);
    r.assert_success();
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("", ""),
        "{}",
        r.describe()
    );
    assert!(dir.join("report.html").exists() && dir.join("comparison.json").exists());

    let sweep = tmp.write(
        "small.yaml",
        &format!(
            "name: small\nscenario: {}\nuntil: 3m\nparameters:\n  cluster.nodePools[0].count: [4, 9]\npolicies: [most-allocated]\nseeds: 2\n",
            s(&repo_root().join("scenarios/compare-binpacking.yaml"))
        ),
    );
    let out = tmp.join("sweep");
    let r = kubesim(["sweep", &s(&sweep), "-q", "--out", &s(&out)]);
    r.assert_success();
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("", ""),
        "{}",
        r.describe()
    );
    assert!(out.join("sweep.json").exists());
    // without --quiet the tables are printed, and still no bar on a pipe
    let r = kubesim(["sweep", &s(&sweep), "--out", &s(&out)]);
    r.assert_success();
    assert!(r.stdout.contains("variant 2 of 2"), "{}", r.describe());
    assert_eq!(r.stderr, "", "{}", r.describe());
}

/// On a terminal (a pseudo-terminal from `script`) `compare` draws its bar —
/// runs done of the total — and with `--quiet` it does not.
#[test]
fn compare_shows_runs_done_on_a_terminal_only_without_quiet() {
    let script = Path::new("/usr/bin/script");
    if !script.exists() {
        eprintln!("skipped: no /usr/bin/script to make a terminal");
        return;
    }
    let tmp = TempDir::new("report_compare_tty");
    let run = |extra: &str| {
        let cmd = format!(
            "{} compare scenarios/compare-binpacking.yaml --schedulers most-allocated --seeds 2 --until 5m {extra}",
            env!("CARGO_BIN_EXE_kubesim")
        );
        let out = std::process::Command::new(script)
            .args(["-qec", &cmd, &s(&tmp.join("typescript"))])
            .current_dir(repo_root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{cmd}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = run("");
    assert!(
        shown.contains(" of 2 runs"),
        "a bar on the terminal:\n{shown}"
    );
    let quiet = run("--quiet");
    assert!(!quiet.contains(" runs"), "--quiet: no bar:\n{quiet}");
    assert!(!quiet.contains("paired"), "--quiet: no table:\n{quiet}");
}
