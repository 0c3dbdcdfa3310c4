//! The report of a `kubesim compare`: `report.md` and a self-contained
//! `report.html` with one bar chart per metric (mean over seeds, 95%
//! confidence-interval whisker; see [`super::bar_chart_svg`]), the
//! scheduling-latency CDFs of every policy overlaid (each policy's seeds
//! pooled, as if they were one run), and the tables `compare` prints.
//!
//! Like a run report it depends only on the comparison: same runs, same bytes.

use super::charts::{self, CdfLine};
use super::html::{self, Chart, Table};
use crate::compare::{pooled_latency, Comparison, Stats};

/// The file of the overlaid latency CDFs, beside the bar charts.
pub const LATENCY_CDF_FILE: &str = "compare-latency-cdf.svg";

/// The file of the latency tails (1 − CDF, log–log).
pub const LATENCY_TAIL_FILE: &str = "compare-latency-tail.svg";

/// The latency CDF chart, or `None` when no policy bound a pod.
pub fn latency_cdf_svg(c: &Comparison) -> Option<String> {
    let lines = cdf_lines(c)?;
    Some(charts::cdf_chart_of(
        "Scheduling latency by policy (CDF)",
        &pooled_subtitle(c),
        &lines,
    ))
}

/// The latency tail chart, or `None` when no pod waited longer than the
/// shortest latency.
pub fn latency_tail_svg(c: &Comparison) -> Option<String> {
    let lines = cdf_lines(c)?;
    charts::ccdf_chart_of(
        "Scheduling latency by policy: the tail (1 − CDF)",
        &pooled_subtitle(c),
        &lines,
    )
}

fn pooled_subtitle(c: &Comparison) -> String {
    let seeds = c.seeds.len();
    format!(
        "scenario {} · every bound pod of the {seeds} seed{} of each policy pooled",
        c.scenario,
        if seeds == 1 { "" } else { "s" }
    )
}

/// A line per policy, or `None` when no policy bound a pod.
fn cdf_lines(c: &Comparison) -> Option<Vec<CdfLine>> {
    let pooled = pooled_latency(c);
    if pooled.iter().all(|(_, h)| h.is_empty()) {
        return None;
    }
    let lines: Vec<CdfLine> = pooled
        .iter()
        .enumerate()
        .map(|(i, (p, h))| {
            let pods: u64 = h.iter().map(|x| x.1).sum();
            CdfLine {
                name: if pods == 0 {
                    format!("{p} (no pod bound)")
                } else {
                    format!("{p} ({} pods)", super::group_thousands(&pods.to_string()))
                },
                hist: h.iter().map(|&(ms, n)| (ms, n as f64)).collect(),
                colour: super::OKABE_ITO[policy_colour(i)],
                // every other line dashed: told apart without colour too
                dashed: i % 2 == 1,
            }
        })
        .collect();
    Some(lines)
}

/// The bar charts colour policy `i` with Okabe–Ito colour `i`; so do the CDFs.
fn policy_colour(i: usize) -> usize {
    i % super::OKABE_ITO.len()
}

/// The value `q` (0–1) of a histogram, nearest rank, as the summary's
/// percentiles take it.
fn quantile(h: &[(u64, u64)], q: f64) -> Option<u64> {
    let total: u64 = h.iter().map(|x| x.1).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut acc = 0;
    for &(ms, n) in h {
        acc += n;
        if acc >= rank {
            return Some(ms);
        }
    }
    h.last().map(|x| x.0)
}

fn stat_cell(s: &Stats, unit: &str) -> String {
    if s.n == 0 || !s.mean.is_finite() {
        return "–".into();
    }
    let digits = if unit == "share" {
        3
    } else if s.mean.abs() >= 100.0 {
        0
    } else {
        2
    };
    if s.n < 2 {
        format!("{:.*}", digits, s.mean)
    } else {
        format!("{:.*} ± {:.*}", digits, s.mean, digits, s.ci95)
    }
}

/// Every chart of the report: the bar charts in metric order, then the CDFs.
pub fn charts(c: &Comparison) -> Vec<Chart> {
    let mut out = Vec::new();
    let seeds = c.seeds.len();
    for m in &c.metrics {
        let Ok(Some(svg)) = super::bar_chart_svg(c, m) else {
            continue;
        };
        let better = if m.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        out.push(Chart {
            file: super::chart_file_name(m),
            title: format!("{} ({})", m.name, m.unit),
            caption: if seeds > 1 {
                format!("{} ({better}): each policy's mean over {seeds} seeds; the whisker is the 95% confidence interval of the mean (Student's t, n − 1 degrees of freedom).", capitalise(m.description))
            } else {
                format!(
                    "{} ({better}): one seed, so no confidence interval.",
                    capitalise(m.description)
                )
            },
            svg,
        });
    }
    if let Some(svg) = latency_cdf_svg(c) {
        out.push(Chart {
            file: LATENCY_CDF_FILE.into(),
            title: "Scheduling latency by policy".into(),
            caption: "Cumulative distribution of the time from entering the scheduling queue to being bound, per policy, over every pod bound in all of its seeds' runs (the same workload under every policy, seed by seed).".into(),
            svg,
        });
    }
    if let Some(svg) = latency_tail_svg(c) {
        out.push(Chart {
            file: LATENCY_TAIL_FILE.into(),
            title: "Scheduling latency tail by policy".into(),
            caption: "The same pooled latencies as the share of bound pods that waited longer than each latency, on log–log axes: where the policies differ when most pods are bound at once.".into(),
            svg,
        });
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The tables: means ± 95% CI, paired differences against the first policy,
/// pooled latency percentiles, and every run.
pub fn tables(c: &Comparison) -> Vec<Table> {
    let mut out = Vec::new();
    // metrics no run measured (the autoscaling figures of a run without
    // autoscaling) would only be rows of dashes
    let measured: Vec<_> = c
        .metrics
        .iter()
        .filter(|m| c.policies.iter().any(|p| c.per_policy[p][m.name].n > 0))
        .collect();
    let mut header = vec!["metric".to_string()];
    header.extend(c.policies.iter().cloned());
    out.push(Table {
        title: "Mean ± 95% confidence interval over seeds".into(),
        header,
        rows: measured
            .iter()
            .map(|m| {
                let mut r = vec![format!("{} ({})", m.name, m.unit)];
                r.extend(
                    c.policies
                        .iter()
                        .map(|p| stat_cell(&c.per_policy[p][m.name], m.unit)),
                );
                r
            })
            .collect(),
    });
    if c.policies.len() > 1 {
        let first = &c.policies[0];
        let mut header = vec!["metric".to_string()];
        header.extend(c.policies[1..].iter().map(|p| format!("{p} − {first}")));
        out.push(Table {
            title: format!("Paired difference against {first} (same seed), mean ± 95% CI"),
            header,
            rows: measured
                .iter()
                .map(|m| {
                    let mut r = vec![format!("{} ({})", m.name, m.unit)];
                    r.extend(
                        c.policies[1..]
                            .iter()
                            .map(|p| stat_cell(&c.paired_vs_first[p][m.name], m.unit)),
                    );
                    r
                })
                .collect(),
        });
    }
    let pooled = pooled_latency(c);
    if pooled.iter().any(|(_, h)| !h.is_empty()) {
        let show = |v: Option<u64>| v.map_or("–".to_string(), |x| x.to_string());
        out.push(Table {
            title: "Scheduling latency, every seed pooled (ms)".into(),
            header: ["policy", "pods bound", "p50", "p90", "p99", "max"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            rows: pooled
                .iter()
                .map(|(p, h)| {
                    vec![
                        p.clone(),
                        h.iter().map(|x| x.1).sum::<u64>().to_string(),
                        show(quantile(h, 0.5)),
                        show(quantile(h, 0.9)),
                        show(quantile(h, 0.99)),
                        show(h.last().map(|x| x.0)),
                    ]
                })
                .collect(),
        });
    }
    let mut header = vec!["policy".to_string(), "seed".to_string()];
    header.extend(c.metrics.iter().map(|m| m.name.to_string()));
    out.push(Table {
        title: "Every run".into(),
        header,
        rows: c
            .runs
            .iter()
            .map(|r| {
                let mut row = vec![r.policy.clone(), r.seed.to_string()];
                row.extend(c.metrics.iter().map(|m| {
                    r.figures.get(m.name).map_or("–".to_string(), |v| {
                        let s = format!("{v:.3}");
                        s.trim_end_matches('0').trim_end_matches('.').to_string()
                    })
                }));
                row
            })
            .collect(),
    });
    out
}

fn headline(c: &Comparison) -> String {
    format!(
        "Scenario {} under {} scheduling polic{} ({}) × {} seed{} ({}): the same workload and faults under every policy for a given seed.",
        c.scenario,
        c.policies.len(),
        if c.policies.len() == 1 { "y" } else { "ies" },
        c.policies.join(", "),
        c.seeds.len(),
        if c.seeds.len() == 1 { "" } else { "s" },
        c.seeds
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Every file of the report: (file name, contents), charts first, then
/// `report.md` and `report.html`.
pub fn files(c: &Comparison) -> Vec<(String, String)> {
    let charts = charts(c);
    let tables = tables(c);
    let title = format!("kubesim comparison report: {}", c.scenario);
    let notes = vec![
        "Bars are means over seeds with a 95% confidence-interval whisker; the policies keep their colours (Okabe–Ito, readable with colour blindness) in every chart.".to_string(),
    ];
    let mut out: Vec<(String, String)> = charts
        .iter()
        .map(|ch| (ch.file.clone(), ch.svg.clone()))
        .collect();
    out.push((
        "report.md".into(),
        html::markdown_page(&title, &headline(c), &notes, &charts, &tables),
    ));
    out.push((
        "report.html".into(),
        html::html_page(&title, &headline(c), &notes, &charts, &tables),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{aggregate, RunResult};
    use std::collections::BTreeMap;

    fn run(policy: &str, seed: u64, lat: &[(u64, u64)]) -> RunResult {
        let mut figures = BTreeMap::new();
        figures.insert("pods_bound", lat.iter().map(|x| x.1).sum::<u64>() as f64);
        RunResult {
            policy: policy.into(),
            seed,
            figures,
            latency_ms: lat.to_vec(),
        }
    }

    fn comparison() -> Comparison {
        let policies = vec!["a".to_string(), "b".to_string()];
        aggregate(
            "s",
            &policies,
            &[1, 2],
            vec![
                run("a", 1, &[(10, 2), (30, 1)]),
                run("a", 2, &[(10, 1), (20, 1)]),
                run("b", 1, &[(5, 4)]),
                run("b", 2, &[]),
            ],
        )
    }

    #[test]
    fn seeds_are_pooled_per_policy_and_percentiles_take_the_nearest_rank() {
        let c = comparison();
        let pooled = pooled_latency(&c);
        assert_eq!(pooled[0], ("a".into(), vec![(10, 3), (20, 1), (30, 1)]));
        assert_eq!(pooled[1], ("b".into(), vec![(5, 4)]));
        // 5 pods: p50 is the 3rd (10 ms), p90 the 5th (30 ms)
        assert_eq!(quantile(&pooled[0].1, 0.5), Some(10));
        assert_eq!(quantile(&pooled[0].1, 0.9), Some(30));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn the_cdf_chart_has_a_line_and_legend_entry_per_policy() {
        let svg = latency_cdf_svg(&comparison()).expect("pods were bound");
        assert!(
            svg.contains("a (5 pods)") && svg.contains("b (4 pods)"),
            "{svg}"
        );
        assert!(svg.contains("2 seeds of each policy pooled"));
        // policy colours as on the bar charts: Okabe–Ito 0 and 1
        assert!(svg.contains("#E69F00") && svg.contains("#56B4E9"), "{svg}");
        assert!(svg.contains("share of bound pods (0–1)"));
        assert!(svg.contains("queue entry → bind (ms)"));
    }

    #[test]
    fn the_report_has_the_charts_and_tables_in_markdown_and_html() {
        let c = comparison();
        let files = files(&c);
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert!(names.contains(&LATENCY_CDF_FILE));
        assert!(names.contains(&"compare-pods_bound.svg"));
        assert_eq!(&names[names.len() - 2..], &["report.md", "report.html"]);
        let md = &files[files.len() - 2].1;
        assert!(md.contains("![Scheduling latency by policy](compare-latency-cdf.svg)"));
        assert!(md.contains("![pods_bound (pods)](compare-pods_bound.svg)"));
        assert!(md.contains("| a | 5 | 10 | 30 | 30 | 30 |"), "{md}");
        let page = &files[files.len() - 1].1;
        assert!(!page.contains("<script") && !page.contains("src="));
        assert_eq!(page.matches("<svg").count(), files.len() - 2);
    }
}
