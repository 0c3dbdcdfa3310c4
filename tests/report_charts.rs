//! `kubesim compare --out DIR` charts: one SVG per metric from a real comparison.

use kubesim::scheduler::policies::Registry;
use kubesim::{compare, report, scenario};
use std::path::Path;

#[test]
fn compare_writes_one_bar_chart_per_metric_with_every_policy() {
    let mut sc = scenario::load(Path::new("scenarios/compare-binpacking.yaml")).unwrap();
    sc.until = kubesim::sim::time::SimDuration::from_secs(10 * 60);
    let policies: Vec<String> = ["least-allocated", "most-allocated"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let c = compare::compare(&sc, &policies, &[1, 2], &Registry::builtin(), Some(2)).unwrap();

    let dir = std::env::temp_dir().join(format!("kubesim-report-charts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let written = report::compare_charts(&c, &dir).unwrap();
    assert!(!written.is_empty());
    for m in &c.metrics {
        let path = dir.join(format!("compare-{}.svg", m.name));
        let has_value = c
            .policies
            .iter()
            .any(|p| c.per_policy[p][m.name].n > 0 && c.per_policy[p][m.name].mean.is_finite());
        assert_eq!(path.exists(), has_value, "{}", path.display());
        assert_eq!(written.contains(&path), has_value);
        if !has_value {
            continue;
        }
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        // each policy is named once, on its bar's axis label
        for p in &c.policies {
            assert_eq!(svg.matches(&format!("\n{p}\n")).count(), 1, "{p} in {m:?}");
        }
        assert!(
            svg.contains(&format!("{} (", m.name)),
            "metric name in {m:?}"
        );
        let unit = if m.unit == "share" {
            "share, 0–1"
        } else {
            m.unit
        };
        assert!(svg.contains(&format!("({unit})")), "unit in {m:?}");
        assert!(svg.contains(&c.scenario), "scenario in the title");
        assert!(svg.contains("n = 2 seeds"));
    }
    // the workload binds pods under both policies
    assert!(dir.join("compare-pods_bound.svg").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
