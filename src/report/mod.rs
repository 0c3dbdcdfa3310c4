//! Reports: a run's ([`html`], from [`run::RunData`], charts in [`charts`]) and
//! a comparison's ([`compare`]); here, the bar charts of a [`Comparison`], one
//! SVG per metric.
//!
//! Each chart shows every policy's mean over the seeds as a bar, with the 95%
//! confidence interval (Student's t, as in the table) as a whisker. Colours are
//! the Okabe–Ito palette, which stays distinguishable under the common forms of
//! colour blindness. Plotters runs without a font backend: text goes into the
//! SVG as `<text>` elements for the viewer to render (its width is only
//! estimated for the layout), so neither building nor drawing needs system
//! fonts.

pub mod charts;
pub mod compare;
pub mod html;
pub mod run;

use crate::compare::{Comparison, Metric, Stats};
use crate::output::write_atomic;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::io;
use std::path::{Path, PathBuf};

/// Okabe & Ito (2008), "Color Universal Design", in their order.
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x00, 0x00, 0x00), // black
];

const FONT: &str = "sans-serif";
const HEIGHT: u32 = 500;
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// The file a metric's chart goes to, inside the output folder.
pub fn chart_file_name(metric: &Metric) -> String {
    format!("compare-{}.svg", metric.name)
}

/// Write `compare-<metric>.svg` into `dir` for every metric that at least one
/// policy has a value for; returns the files written, in metric order.
pub fn compare_charts(c: &Comparison, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for m in &c.metrics {
        if let Some(svg) = bar_chart_svg(c, m)? {
            let path = dir.join(chart_file_name(m));
            write_atomic(&path, svg.as_bytes())?;
            written.push(path);
        }
    }
    Ok(written)
}

/// How the axis names a unit.
fn unit_label(unit: &str) -> &str {
    match unit {
        "share" => "share, 0–1",
        u => u,
    }
}

fn has_value(s: &Stats) -> bool {
    s.n > 0 && s.mean.is_finite()
}

/// The bar chart of one metric as SVG text, or `None` when no policy has a
/// value for it (e.g. no pod was ever scheduled, so there is no latency).
pub fn bar_chart_svg(c: &Comparison, metric: &Metric) -> io::Result<Option<String>> {
    // (policy, stats), None where the policy has no value
    let bars: Vec<(&str, Option<&Stats>)> = c
        .policies
        .iter()
        .map(|p| {
            let s = c
                .per_policy
                .get(p)
                .and_then(|m| m.get(metric.name))
                .filter(|s| has_value(s));
            (p.as_str(), s)
        })
        .collect();
    if bars.iter().all(|(_, s)| s.is_none()) {
        return Ok(None);
    }
    let mut svg = String::new();
    draw(c, metric, &bars, &mut svg).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(Some(svg))
}

/// The half-width drawn for a whisker: none when undefined.
fn ci(s: &Stats) -> f64 {
    if s.ci95.is_finite() {
        s.ci95
    } else {
        0.0
    }
}

/// The value axis: includes zero (bars start there) and every whisker, with
/// room above (and below, for negatives) for the value labels.
fn y_range(bars: &[(&str, Option<&Stats>)]) -> (f64, f64) {
    let (mut lo, mut hi) = (0f64, 0f64);
    for s in bars.iter().filter_map(|(_, s)| *s) {
        lo = lo.min(s.mean - ci(s));
        hi = hi.max(s.mean + ci(s));
    }
    if hi - lo <= 0.0 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.15;
    (if lo < 0.0 { lo - pad } else { lo }, hi + pad)
}

/// The category axis: policy `i` is centred on `i`, one unit wide, with a
/// tick (and label) at each centre and no others.
struct Categories(usize);

impl Ranged for Categories {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let share = (v + 0.5) / self.0 as f64;
        limit.0 + (share * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        (0..self.0).map(|i| i as f64).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.5..self.0 as f64 - 0.5
    }
}

type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

fn draw(
    c: &Comparison,
    metric: &Metric,
    bars: &[(&str, Option<&Stats>)],
    out: &mut String,
) -> DrawResult<()> {
    let n = bars.len();
    let width = (160 + 150 * n as u32).max(760);
    let root = SVGBackend::with_string(out, (width, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;

    // Title, subtitle and the note on sample size.
    let centre = Pos::new(HPos::Center, VPos::Top);
    let title = format!(
        "{} ({}) — scenario {}",
        metric.name,
        unit_label(metric.unit),
        c.scenario
    );
    root.draw(&Text::new(
        title,
        (width as i32 / 2, 12),
        (FONT, 22)
            .into_font()
            .style(FontStyle::Bold)
            .color(&INK)
            .pos(centre),
    ))?;
    let better = if metric.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    root.draw(&Text::new(
        format!("{} ({better})", metric.description),
        (width as i32 / 2, 42),
        (FONT, 15).into_font().color(&GREY).pos(centre),
    ))?;
    let seeds = c.seeds.len();
    root.draw(&Text::new(
        if seeds == 1 {
            "n = 1 seed · bar: the one run's value (one seed gives no confidence interval)"
                .to_string()
        } else {
            format!("n = {seeds} seeds · bar: mean over seeds · whisker: 95% confidence interval")
        },
        (width as i32 - 16, HEIGHT as i32 - 10),
        (FONT, 14)
            .into_font()
            .color(&GREY)
            .pos(Pos::new(HPos::Right, VPos::Bottom)),
    ))?;

    let (y0, y1) = y_range(bars);
    let span = y1 - y0;
    let x_range = Categories(n);
    // room for the widest tick label (about 8 px a character at 14 px) and
    // the axis name beside it
    let widest = [y0, y1, (y0 + y1) / 2.0]
        .iter()
        .map(|v| axis_number(*v, span).chars().count())
        .max()
        .unwrap_or(1) as u32;
    let plot_area = root.margin(70, 36, 10, 20);
    let mut chart = ChartBuilder::on(&plot_area)
        .x_label_area_size(52)
        .y_label_area_size(44 + 8 * widest)
        .build_cartesian_2d(x_range, y0..y1)?;
    let names: Vec<&str> = bars.iter().map(|(p, _)| *p).collect();
    let x_fmt = |v: &f64| {
        let i = v.round();
        if i >= 0.0 && (i as usize) < names.len() {
            names[i as usize].to_string()
        } else {
            String::new()
        }
    };
    let y_fmt = |v: &f64| axis_number(*v, span);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&x_fmt)
        .y_labels(8)
        .y_label_formatter(&y_fmt)
        .x_desc("scheduling policy")
        .y_desc(format!("{} ({})", metric.name, unit_label(metric.unit)))
        .axis_desc_style((FONT, 16).into_font().color(&INK))
        .label_style((FONT, 14).into_font().color(&INK))
        .max_light_lines(0)
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD))
        .axis_style(INK)
        .draw()?;

    let half = 0.32;
    let cap = 0.08;
    for (i, (_, s)) in bars.iter().enumerate() {
        let x = i as f64;
        let colour = OKABE_ITO[i % OKABE_ITO.len()];
        let Some(s) = s else {
            chart.draw_series(std::iter::once(Text::new(
                "no data",
                (x, 0.0),
                (FONT, 14)
                    .into_font()
                    .color(&GREY)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
            continue;
        };
        // The bar, outlined so that the light yellow stays visible on white.
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x - half, 0.0), (x + half, s.mean)],
            colour.filled(),
        )))?;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x - half, 0.0), (x + half, s.mean)],
            INK.stroke_width(1),
        )))?;
        // The whisker: a white halo under a black line, visible on any bar.
        let (lo, hi) = (s.mean - ci(s), s.mean + ci(s));
        if hi > lo {
            let lines = [
                vec![(x, lo), (x, hi)],
                vec![(x - cap, lo), (x + cap, lo)],
                vec![(x - cap, hi), (x + cap, hi)],
            ];
            for (style, w) in [(WHITE, 4), (BLACK, 2)] {
                chart.draw_series(
                    lines
                        .iter()
                        .map(|l| PathElement::new(l.clone(), style.stroke_width(w))),
                )?;
            }
        }
        // The value, above the whisker (below it for a negative mean).
        let (at, v) = if s.mean >= 0.0 {
            (hi, VPos::Bottom)
        } else {
            (lo, VPos::Top)
        };
        let mut label = value_label(s, metric.unit, span);
        if s.n < seeds {
            label.push_str(&format!(" (n = {})", s.n));
        }
        let dy = if s.mean >= 0.0 { -6 } else { 6 };
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, at))
                + Text::new(
                    label,
                    (0, dy),
                    (FONT, 14)
                        .into_font()
                        .color(&INK)
                        .pos(Pos::new(HPos::Center, v)),
                ),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// Decimals for a tick label when ticks are about `span / 8` apart (plotters
/// steps by 1, 2 or 5 × 10^k, never closer than that).
fn axis_digits(span: f64) -> usize {
    let step = span / 8.0;
    if step > 0.0 && step < 1.0 {
        ((-step.log10()).ceil() as usize).min(6)
    } else {
        0
    }
}

/// `mean ± ci` with as many digits as the table prints, or one more than the
/// axis ticks where those are finer (a small share must not read 0.000).
fn value_label(s: &Stats, unit: &str, span: f64) -> String {
    let table = if unit == "share" {
        3
    } else if s.mean.abs() >= 100.0 {
        0
    } else {
        2
    };
    let finer = match axis_digits(span) {
        0 => 0,
        d => (d + 1).min(6),
    };
    let digits = table.max(finer);
    let f = |v: f64| group_thousands(&format!("{v:.digits$}"));
    if s.n < 2 {
        f(s.mean)
    } else {
        format!("{} ± {}", f(s.mean), f(ci(s)))
    }
}

/// An axis tick: enough decimals for ticks `span / 8` apart, digits grouped.
fn axis_number(v: f64, span: f64) -> String {
    let digits = axis_digits(span);
    let v = if v.abs() < span * 1e-9 { 0.0 } else { v };
    group_thousands(&format!("{v:.digits$}"))
}

/// "1234567.5" → "1,234,567.5"; four-digit numbers stay as they are.
pub(crate) fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if int.len() <= 4 {
        return s.to_string();
    }
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::METRICS;
    use std::collections::BTreeMap;

    fn stats(n: usize, mean: f64, ci95: f64) -> Stats {
        Stats { n, mean, ci95 }
    }

    /// Three policies, 4 seeds; `makespan_ms` has no value anywhere and
    /// `latency_p99_ms` only for two policies.
    fn comparison() -> Comparison {
        let policies: Vec<String> = ["least-allocated", "most-allocated", "default"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut per_policy = BTreeMap::new();
        for (i, p) in policies.iter().enumerate() {
            let mut m = BTreeMap::new();
            for metric in METRICS {
                let s = match metric.name {
                    "makespan_ms" => stats(0, f64::NAN, f64::NAN),
                    "latency_p99_ms" if i == 2 => stats(0, f64::NAN, f64::NAN),
                    "latency_p99_ms" => stats(3, 1500.0 + 250.0 * i as f64, 120.0),
                    "cpu_allocation_used" => stats(4, 0.54 + 0.2 * i as f64, 0.01),
                    _ => stats(4, 10.0 + i as f64, 0.5),
                };
                m.insert(metric.name, s);
            }
            per_policy.insert(p.clone(), m);
        }
        Comparison {
            scenario: "unit & test".into(),
            policies,
            seeds: vec![1, 2, 3, 4],
            metrics: METRICS.to_vec(),
            runs: vec![],
            per_policy,
            paired_vs_first: BTreeMap::new(),
        }
    }

    fn metric(name: &str) -> &'static Metric {
        METRICS.iter().find(|m| m.name == name).unwrap()
    }

    #[test]
    fn chart_has_one_bar_per_policy_title_unit_and_seed_count() {
        let c = comparison();
        let svg = bar_chart_svg(&c, metric("cpu_allocation_used"))
            .unwrap()
            .expect("a chart");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // every element that opens is closed or self-closing
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        for p in &c.policies {
            assert_eq!(svg.matches(&format!(">\n{p}\n<")).count(), 1, "{p}");
        }
        // one filled bar per policy, in the first three Okabe–Ito colours
        for colour in ["#E69F00", "#56B4E9", "#009E73"] {
            assert_eq!(
                svg.matches(&format!("fill=\"{colour}\"")).count(),
                1,
                "{colour}\n{svg}"
            );
        }
        assert!(svg.contains("cpu_allocation_used (share, 0–1)"), "{svg}");
        assert!(svg.contains("scenario unit &amp; test"), "escaped: {svg}");
        assert!(svg.contains("n = 4 seeds"));
        assert!(svg.contains("0.540 ± 0.010"));
    }

    #[test]
    fn metric_without_any_value_gets_no_chart_and_partial_one_is_marked() {
        let c = comparison();
        assert!(bar_chart_svg(&c, metric("makespan_ms")).unwrap().is_none());
        let svg = bar_chart_svg(&c, metric("latency_p99_ms"))
            .unwrap()
            .expect("two policies have a value");
        assert!(svg.contains("no data"));
        assert!(svg.contains("(n = 3)"));
        assert!(svg.contains("latency_p99_ms (ms)"));
        assert!(svg.contains("1750 ± 120"), "{svg}");
    }

    #[test]
    fn compare_charts_writes_a_file_per_metric_with_values() {
        let c = comparison();
        let dir = std::env::temp_dir().join(format!("kubesim-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let written = compare_charts(&c, &dir).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), METRICS.len() - 1);
        assert!(!names.contains(&"compare-makespan_ms.svg".to_string()));
        assert!(names.contains(&"compare-pods_bound.svg".to_string()));
        assert!(!dir.join("compare-makespan_ms.svg").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn numbers_are_grouped_and_axis_digits_follow_the_span() {
        assert_eq!(group_thousands("1234567.5"), "1,234,567.5");
        assert_eq!(group_thousands("-12345"), "-12,345");
        assert_eq!(group_thousands("1234"), "1234");
        // plotters steps by 1, 2 or 5 × 10^k: 0.2 over a span of 1, 0.05 over 0.4
        assert_eq!(axis_number(0.2, 1.0), "0.2");
        assert_eq!(axis_number(0.05, 0.4), "0.05");
        assert_eq!(axis_number(5_400_000.0, 6_000_000.0), "5,400,000");
        assert_eq!(axis_number(12.0, 20.0), "12");
    }
}
