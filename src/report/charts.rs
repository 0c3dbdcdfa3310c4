//! The charts of a run report, as SVG text: line charts over virtual time with
//! fault and action markers, a CDF, and a node-allocation heat map. Colours for
//! categories are the Okabe–Ito palette; the heat map uses a light-to-dark blue
//! ramp (one hue, so it reads the same under colour blindness and in grey).

use super::run::Marker;
use super::OKABE_ITO;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const GREY: RGBColor = RGBColor(0x66, 0x66, 0x66);
const MESH: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const WIDTH: u32 = 1000;

/// Line colours: Okabe–Ito, the light yellow last.
pub fn line_colour(i: usize) -> RGBColor {
    const ORDER: [usize; 8] = [4, 0, 2, 5, 1, 6, 7, 3];
    OKABE_ITO[ORDER[i % ORDER.len()]]
}

type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

/// One line of a chart.
pub struct Line {
    pub name: String,
    /// (ms of virtual time, value)
    pub points: Vec<(u64, f64)>,
    pub colour: RGBColor,
    pub dashed: bool,
}

/// A line chart over virtual time.
pub struct LineChart<'a> {
    pub title: String,
    pub y_desc: String,
    pub lines: Vec<Line>,
    pub end_ms: u64,
    /// Where the time axis starts (0 for the whole run; later to zoom in).
    pub start_ms: u64,
    /// Fixed value range (else from 0 to the largest value).
    pub y_range: Option<(f64, f64)>,
    pub markers: &'a [Marker],
    /// Values hold until the next sample (steps) rather than change linearly.
    pub steps: bool,
    /// The values are counts (pods, replicas): whole-number ticks only.
    pub counts: bool,
}

fn minutes(ms: u64) -> f64 {
    ms as f64 / 60_000.0
}

/// A number for an axis tick: no more decimals than needed, thousands
/// grouped from five digits (100,000 rather than 100000).
fn tick(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        super::group_thousands(s)
    }
}

fn title_and_legend(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    title: &str,
    legend: &[(String, RGBColor, bool)],
) -> DrawResult<()> {
    root.draw(&Text::new(
        title.to_string(),
        (WIDTH as i32 / 2, 10),
        (FONT, 20)
            .into_font()
            .style(FontStyle::Bold)
            .color(&INK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    legend_at(root, legend)
}

/// One row (or more) of swatches, left to right, from 44 px below the top of
/// `root`.
fn legend_at(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    legend: &[(String, RGBColor, bool)],
) -> DrawResult<()> {
    let (mut x, mut y) = (90, 44);
    for (name, colour, dashed) in legend {
        let w = 30 + 8 * name.chars().count() as i32 + 18;
        if x + w > WIDTH as i32 - 20 {
            x = 90;
            y += 20;
        }
        let style = colour.stroke_width(3);
        if *dashed {
            root.draw(&DashedPathElement::new(
                vec![(x, y), (x + 24, y)],
                5,
                3,
                style,
            ))?;
        } else {
            root.draw(&PathElement::new(vec![(x, y), (x + 24, y)], style))?;
        }
        root.draw(&Text::new(
            name.clone(),
            (x + 30, y),
            (FONT, 14)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += w;
    }
    Ok(())
}

fn legend_rows(legend: &[(String, RGBColor, bool)]) -> i32 {
    let mut rows = if legend.is_empty() { 0 } else { 1 };
    let mut x = 90;
    for (name, _, _) in legend {
        let w = 30 + 8 * name.chars().count() as i32 + 18;
        if x + w > WIDTH as i32 - 20 {
            x = 90;
            rows += 1;
        }
        x += w;
    }
    rows
}

/// Fault markers: reddish purple, not vermillion, which the heat map uses for
/// not-Ready nodes. Lines in the palette colour, labels a darker shade of it
/// (the palette colour itself is too light for small text on white).
const FAULT_LINE: RGBColor = OKABE_ITO[6];
const FAULT_TEXT: RGBColor = RGBColor(0x8E, 0x3B, 0x6E);
const ACTION_LINE: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// Where each marker's label goes: (line x, row, text x, anchor). A label
/// starts right of its line, or ends left of it near the right edge, in the
/// first row where it overlaps no other label.
fn layout_markers(markers: &[Marker], px: impl Fn(f64) -> i32) -> Vec<(i32, usize, i32, HPos)> {
    let right_edge = WIDTH as i32 - 20;
    let mut rows: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut out = Vec::new();
    for m in markers {
        let x = px(minutes(m.time_ms));
        let width = 7 * m.label.chars().count() as i32 + 4;
        let (tx, anchor, a, b) = if x + 4 + width > right_edge {
            (x - 4, HPos::Right, x - 4 - width, x)
        } else {
            (x + 4, HPos::Left, x, x + 4 + width)
        };
        let free = |row: &Vec<(i32, i32)>| row.iter().all(|&(c, d)| b + 4 <= c || d + 4 <= a);
        let row = match rows.iter().position(free) {
            Some(r) => r,
            None => {
                rows.push(Vec::new());
                rows.len() - 1
            }
        };
        rows[row].push((a, b));
        out.push((x, row, tx, anchor));
    }
    out
}

/// Draw the markers over a chart's plotting area: a thin vertical line each,
/// labelled at the top, labels stacked so they do not overlap.
fn draw_markers<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    px: impl Fn(f64) -> i32,
    top: i32,
    bottom: i32,
    markers: &[Marker],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let layout = layout_markers(markers, px);
    // every line first, so that no line crosses a label
    for (m, &(x, ..)) in markers.iter().zip(&layout) {
        // solid and thin: a dashed line is one SVG element per dash, and a
        // day of chaos has hundreds of markers
        let colour = if m.warning { FAULT_LINE } else { ACTION_LINE };
        root.draw(&PathElement::new(
            vec![(x, top), (x, bottom)],
            colour.stroke_width(1),
        ))?;
    }
    for (m, &(_, row, tx, anchor)) in markers.iter().zip(&layout) {
        let colour = if m.warning { FAULT_TEXT } else { ACTION_LINE };
        let y = top + 4 + 16 * row as i32;
        // a white box behind the text keeps it readable over lines and data
        let w = 7 * m.label.chars().count() as i32 + 4;
        let x0 = if matches!(anchor, HPos::Right) {
            tx - w
        } else {
            tx - 2
        };
        root.draw(&Rectangle::new(
            [(x0, y - 1), (x0 + w + 2, y + 15)],
            WHITE.filled(),
        ))?;
        root.draw(&Text::new(
            m.label.clone(),
            (tx, y),
            (FONT, 13)
                .into_font()
                .color(&colour)
                .pos(Pos::new(anchor, VPos::Top)),
        ))?;
    }
    Ok(())
}

/// Rows of marker labels `markers` needs (as [`draw_markers`] stacks them).
fn marker_rows(markers: &[Marker], px: impl Fn(f64) -> i32) -> usize {
    layout_markers(markers, px)
        .iter()
        .map(|l| l.1 + 1)
        .max()
        .unwrap_or(0)
}

/// The time axis' unit for a span: (ms per unit, its name). Seconds up to 5
/// minutes, minutes up to 5 hours, then hours.
fn time_unit(span_ms: u64) -> (f64, &'static str) {
    if span_ms <= 300_000 {
        (1000.0, "s")
    } else if span_ms <= 5 * 3_600_000 {
        (60_000.0, "min")
    } else {
        (3_600_000.0, "h")
    }
}

/// Drop the points inside a horizontal run (same value as both neighbours):
/// the line looks the same, and a day of per-minute samples that rarely
/// change stays a small file.
fn without_flat_interior(pts: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if pts.len() < 3 {
        return pts;
    }
    let mut out = Vec::with_capacity(pts.len());
    out.push(pts[0]);
    for w in pts.windows(3) {
        if !(w[0].1 == w[1].1 && w[1].1 == w[2].1) {
            out.push(w[1]);
        }
    }
    out.push(pts[pts.len() - 1]);
    out
}

/// A line chart as SVG text.
pub fn line_chart(c: &LineChart) -> String {
    let mut out = String::new();
    draw_line_chart(c, &mut out).expect("drawing into a string cannot fail");
    out
}

fn draw_line_chart(c: &LineChart, out: &mut String) -> DrawResult<()> {
    let legend: Vec<(String, RGBColor, bool)> = c
        .lines
        .iter()
        .map(|l| (l.name.clone(), l.colour, l.dashed))
        .collect();
    let extra = 20 * (legend_rows(&legend) - 1).max(0);
    let height = 420 + extra as u32;
    let root = SVGBackend::with_string(out, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    title_and_legend(&root, &c.title, &legend)?;
    // seconds for a short window, minutes or hours for longer ones; x is
    // virtual time in that unit, so that ticks fall on round times
    let span_ms = c.end_ms.saturating_sub(c.start_ms).max(1);
    let (unit, unit_name) = time_unit(span_ms);
    let x_of = |ms: u64| ms as f64 / unit;
    let start = x_of(c.start_ms);
    let end = x_of(c.end_ms).max(start + 1e-9);
    let shown: Vec<Marker> = c
        .markers
        .iter()
        .filter(|m| m.time_ms >= c.start_ms && m.time_ms <= c.end_ms)
        .map(|m| Marker {
            time_ms: ((x_of(m.time_ms)) * 60_000.0) as u64,
            ..m.clone()
        })
        .collect();
    let (y0, mut y1) = c.y_range.unwrap_or_else(|| {
        let hi = c
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(0f64, f64::max);
        (0.0, if hi > 0.0 { hi * 1.05 } else { 1.0 })
    });
    // room above the data for the marker labels
    let plot_w = (WIDTH - 90 - 30) as f64;
    let approx_px = |x: f64| 90 + ((x - start) / (end - start) * plot_w) as i32;
    let rows = marker_rows(&shown, approx_px);
    if rows > 0 {
        let plot_h = (height as f64) - 70.0 - extra as f64 - 60.0;
        let share = ((rows as f64 * 16.0 + 8.0) / plot_h).min(0.6);
        y1 = y0 + (y1 - y0) / (1.0 - share);
    }
    let area = root.margin(62 + extra, 8, 10, 30);
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(start..end, y0..y1)?;
    let x_fmt = |v: &f64| tick(*v);
    // counts: no label between whole numbers, and no more ticks than numbers
    let y_fmt = |v: &f64| {
        if c.counts && v.fract().abs() > 1e-9 {
            String::new()
        } else {
            tick(*v)
        }
    };
    let y_labels = if c.counts {
        ((y1 - y0).floor() as usize + 1).clamp(2, 8)
    } else {
        8
    };
    chart
        .configure_mesh()
        .x_desc(format!("virtual time ({unit_name})"))
        .y_desc(c.y_desc.clone())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_labels(12)
        .y_labels(y_labels)
        .axis_desc_style((FONT, 15).into_font().color(&INK))
        .label_style((FONT, 13).into_font().color(&INK))
        .max_light_lines(0)
        .bold_line_style(MESH)
        .axis_style(INK)
        .draw()?;
    for l in &c.lines {
        let mut pts: Vec<(f64, f64)> = Vec::new();
        for (i, &(t, v)) in l.points.iter().enumerate() {
            if c.steps && i > 0 {
                pts.push((x_of(t), l.points[i - 1].1));
            }
            pts.push((x_of(t), v));
        }
        // before the window: only the value in effect at its start
        let before = pts.iter().rposition(|p| p.0 < start);
        if let Some(b) = before {
            let v = pts[b].1;
            pts.drain(..=b);
            pts.insert(0, (start, v));
        }
        // after the window: the value in effect at its end
        if let Some(k) = pts.iter().position(|p| p.0 > end) {
            if k > 0 {
                let v = pts[k - 1].1;
                pts.truncate(k);
                pts.push((end, v));
            } else {
                pts.clear();
            }
        }
        let pts = without_flat_interior(pts);
        let style = l.colour.stroke_width(if l.dashed { 2 } else { 3 });
        if l.dashed {
            chart.draw_series(std::iter::once(DashedPathElement::new(pts, 8, 5, style)))?;
        } else if pts.len() == 1 {
            chart.draw_series(std::iter::once(Circle::new(pts[0], 4, l.colour.filled())))?;
        } else {
            chart.draw_series(std::iter::once(PathElement::new(pts, style)))?;
        }
    }
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let (left, right) = (xr.start, xr.end);
    let px = |x: f64| left + ((x - start) / (end - start) * (right - left) as f64).round() as i32;
    draw_markers(&root, px, yr.start, yr.end, &shown)?;
    root.present()?;
    Ok(())
}

/// The CDF of scheduling latency from a histogram (latency ms → pods).
pub fn cdf_chart(title: &str, hist: &[(u64, f64)]) -> String {
    let total: f64 = hist.iter().map(|h| h.1).sum();
    cdf_chart_of(
        title,
        &format!("{} pods bound", total as u64),
        &[CdfLine {
            name: String::new(),
            hist: hist.to_vec(),
            colour: line_colour(0),
            dashed: false,
        }],
    )
}

/// One distribution of a CDF chart.
pub struct CdfLine {
    /// Its legend entry (none when empty).
    pub name: String,
    /// (latency ms, pods), ascending.
    pub hist: Vec<(u64, f64)>,
    pub colour: RGBColor,
    pub dashed: bool,
}

/// Overlaid CDFs of scheduling latency, one line per distribution, with a
/// subtitle under the title. The x axis is logarithmic when the latencies
/// span two decades or more above 1 s.
pub fn cdf_chart_of(title: &str, subtitle: &str, lines: &[CdfLine]) -> String {
    let mut out = String::new();
    draw_cdf(title, subtitle, lines, &mut out).expect("drawing into a string cannot fail");
    out
}

/// A CDF's corner points: a vertical step at every latency.
fn cdf_points(hist: &[(u64, f64)], log: bool, floor: f64) -> Vec<(f64, f64)> {
    let total: f64 = hist.iter().map(|h| h.1).sum();
    let mut pts = vec![];
    let mut acc = 0.0;
    for &(l, n) in hist {
        let x = (l as f64).max(if log { floor } else { 0.0 });
        pts.push((x, acc / total));
        acc += n;
        pts.push((x, acc / total));
    }
    pts
}

fn draw_cdf(title: &str, subtitle: &str, lines: &[CdfLine], out: &mut String) -> DrawResult<()> {
    let legend: Vec<(String, RGBColor, bool)> = lines
        .iter()
        .filter(|l| !l.name.is_empty())
        .map(|l| (l.name.clone(), l.colour, l.dashed))
        .collect();
    // the subtitle takes the first row under the title; the legend follows
    let extra = 20 * legend_rows(&legend);
    let height = 420 + extra as u32;
    let root = SVGBackend::with_string(out, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    title_and_legend(&root, title, &[])?;
    root.draw(&Text::new(
        subtitle.to_string(),
        (WIDTH as i32 / 2, 36),
        (FONT, 14)
            .into_font()
            .color(&GREY)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    if !legend.is_empty() {
        let below = root.margin(20, 0, 0, 0);
        legend_at(&below, &legend)?;
    }
    let all = || lines.iter().flat_map(|l| l.hist.iter());
    let max = all().map(|h| h.0).max().unwrap_or(1).max(1) as f64;
    let min = all().map(|h| h.0).min().unwrap_or(0) as f64;
    let log = max >= 1000.0 && max / min.max(1.0) >= 100.0;
    let floor = 1.0;
    let area = root.margin(58 + extra, 8, 10, 30);
    let fmt_y = |v: &f64| tick(*v);
    let fmt_x = |v: &f64| tick(*v);
    let desc = if log {
        "scheduling latency: queue entry → bind (ms, log scale)"
    } else {
        "scheduling latency: queue entry → bind (ms)"
    };
    macro_rules! body {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(desc)
                .y_desc("share of bound pods (0–1)")
                .x_label_formatter(&fmt_x)
                .y_label_formatter(&fmt_y)
                .axis_desc_style((FONT, 15).into_font().color(&INK))
                .label_style((FONT, 13).into_font().color(&INK))
                .max_light_lines(0)
                .bold_line_style(MESH)
                .axis_style(INK)
                .draw()?;
            for l in lines.iter().filter(|l| !l.hist.is_empty()) {
                let pts = cdf_points(&l.hist, log, floor);
                let style = l.colour.stroke_width(3);
                if l.dashed {
                    chart.draw_series(std::iter::once(DashedPathElement::new(pts, 9, 5, style)))?;
                } else {
                    chart.draw_series(std::iter::once(PathElement::new(pts, style)))?;
                }
            }
        }};
    }
    if log {
        body!(ChartBuilder::on(&area)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((floor..max * 1.2).log_scale(), 0f64..1.02)?);
    } else {
        body!(ChartBuilder::on(&area)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..max * 1.05, 0f64..1.02)?);
    }
    root.present()?;
    Ok(())
}

/// The tail of scheduling latency: per distribution, the share of pods that
/// waited longer than x, both axes logarithmic — where policies differ when
/// almost every pod is bound at once and the CDFs overlap at the left edge.
/// `None` when no pod waited longer than the shortest latency.
pub fn ccdf_chart_of(title: &str, subtitle: &str, lines: &[CdfLine]) -> Option<String> {
    let curves: Vec<Vec<(f64, f64)>> = lines.iter().map(|l| ccdf_points(&l.hist)).collect();
    let lowest = curves
        .iter()
        .flatten()
        .map(|p| p.1)
        .filter(|y| *y > 0.0)
        .fold(1f64, f64::min);
    let longest = curves.iter().flatten().map(|p| p.0).fold(1f64, f64::max);
    if curves.iter().all(|c| c.len() < 2) || longest <= 1.0 {
        return None;
    }
    let mut out = String::new();
    draw_ccdf(title, subtitle, lines, &curves, (lowest, longest), &mut out)
        .expect("drawing into a string cannot fail");
    Some(out)
}

/// (latency, share of pods with a longer latency), a step at every latency,
/// ending at the last latency with a share above zero. Latencies under 1 ms
/// are drawn at 1 ms (the log axis' left edge).
fn ccdf_points(hist: &[(u64, f64)]) -> Vec<(f64, f64)> {
    let total: f64 = hist.iter().map(|h| h.1).sum();
    let mut pts = Vec::new();
    let mut left = total;
    for &(l, n) in hist {
        let x = (l as f64).max(1.0);
        if left <= 0.0 {
            break;
        }
        pts.push((x, left / total));
        left -= n;
        if left > 0.0 {
            pts.push((x, left / total));
        }
    }
    pts
}

fn draw_ccdf(
    title: &str,
    subtitle: &str,
    lines: &[CdfLine],
    curves: &[Vec<(f64, f64)>],
    (lowest, longest): (f64, f64),
    out: &mut String,
) -> DrawResult<()> {
    let legend: Vec<(String, RGBColor, bool)> = lines
        .iter()
        .filter(|l| !l.name.is_empty())
        .map(|l| (l.name.clone(), l.colour, l.dashed))
        .collect();
    let extra = 20 * legend_rows(&legend);
    let height = 420 + extra as u32;
    let root = SVGBackend::with_string(out, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    title_and_legend(&root, title, &[])?;
    root.draw(&Text::new(
        subtitle.to_string(),
        (WIDTH as i32 / 2, 36),
        (FONT, 14)
            .into_font()
            .color(&GREY)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    if !legend.is_empty() {
        legend_at(&root.margin(20, 0, 0, 0), &legend)?;
    }
    // whole decades, so that the log axes get labelled ticks
    let y0 = 10f64.powf(lowest.log10().floor()).min(0.1);
    let x1 = 10f64.powf(longest.log10().ceil()).max(10.0);
    let area = root.margin(58 + extra, 8, 10, 30);
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((1f64..x1).log_scale(), (y0..1.0).log_scale())?;
    let fmt = |v: &f64| {
        if *v >= 1.0 {
            tick(*v)
        } else {
            format!("{v:e}").replace("e-", "e−")
        }
    };
    chart
        .configure_mesh()
        .x_desc("scheduling latency: queue entry → bind (ms, log scale)")
        .y_desc("share of bound pods that waited longer (log scale)")
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .axis_desc_style((FONT, 15).into_font().color(&INK))
        .label_style((FONT, 13).into_font().color(&INK))
        .max_light_lines(0)
        .bold_line_style(MESH)
        .axis_style(INK)
        .draw()?;
    for (l, pts) in lines.iter().zip(curves) {
        let style = l.colour.stroke_width(3);
        match pts.len() {
            0 => {}
            1 => {
                chart.draw_series(std::iter::once(Circle::new(pts[0], 4, l.colour.filled())))?;
            }
            _ if l.dashed => {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    pts.clone(),
                    9,
                    5,
                    style,
                )))?;
            }
            _ => {
                chart.draw_series(std::iter::once(PathElement::new(pts.clone(), style)))?;
            }
        }
    }
    root.present()?;
    Ok(())
}

/// Rows of a category axis: row `i` centred on `i`, a label every `every` rows.
struct Rows {
    n: usize,
    every: usize,
}

impl Ranged for Rows {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let share = (v + 0.5) / self.n as f64;
        limit.0 + (share * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        (0..self.n).step_by(self.every).map(|i| i as f64).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.5..self.n as f64 - 0.5
    }
}

/// One row of the heat map: a node or a bucket of nodes.
pub struct HeatRow {
    pub name: String,
    /// (ms, share 0–1, whether every node of the row was Ready)
    pub cells: Vec<(u64, f64, bool)>,
}

/// The light-to-dark blue ramp for a share in 0–1.
pub fn ramp(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    let (a, b) = ((0xE6, 0xEE, 0xF6), (0x08, 0x30, 0x6B));
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * v).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

const NOT_READY: RGBColor = RGBColor(0xD5, 0x5E, 0x00);

/// The most time columns a heat-map row is drawn with (about 5 px each): longer
/// runs average neighbouring samples, so a day-long run stays a small file.
pub const MAX_HEAT_COLUMNS: usize = 150;
/// Shares are drawn in steps of 1/this (4%: finer than the eye tells apart on
/// the ramp), so that equal neighbours merge into one rectangle.
const HEAT_STEPS: f64 = 25.0;

/// A heat-map row as rectangles: (from ms, to ms, colour). Sample `(t, v, ready)`
/// covers the time since the previous sample. At most `max_cols` columns:
/// consecutive samples are averaged in equal groups (not Ready if any node of
/// any sample of the group was not); then neighbours of the same colour merge.
pub fn heat_segments(cells: &[(u64, f64, bool)], max_cols: usize) -> Vec<(u64, u64, RGBColor)> {
    let per = cells.len().div_ceil(max_cols.max(1)).max(1);
    let mut out: Vec<(u64, u64, RGBColor)> = Vec::new();
    let mut prev = 0u64;
    for group in cells.chunks(per) {
        let t = group[group.len() - 1].0;
        let mean = group.iter().map(|c| c.1).sum::<f64>() / group.len() as f64;
        let ready = group.iter().all(|c| c.2);
        let colour = if ready {
            ramp((mean * HEAT_STEPS).round() / HEAT_STEPS)
        } else {
            NOT_READY
        };
        match out.last_mut() {
            Some(last) if last.2 == colour && last.1 == prev => last.1 = t,
            _ => out.push((prev, t, colour)),
        }
        prev = t;
    }
    out
}

/// Nodes × time, colour = share of allocatable CPU requested.
pub fn heatmap(title: &str, rows: &[HeatRow], end_ms: u64, markers: &[Marker]) -> String {
    let mut out = String::new();
    draw_heatmap(title, rows, end_ms, markers, &mut out).expect("drawing into a string");
    out
}

fn draw_heatmap(
    title: &str,
    rows: &[HeatRow],
    end_ms: u64,
    markers: &[Marker],
    out: &mut String,
) -> DrawResult<()> {
    let n = rows.len().max(1);
    let row_h = if n <= 12 { 26 } else { 16 };
    let label_w = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40) as u32
        * 8
        + 20;
    let rows_px = n as u32 * row_h;
    // time in the axis' unit; markers moved to it (as [`minutes`] reads them)
    let (unit, unit_name) = time_unit(end_ms);
    let xu = |ms: u64| ms as f64 / unit;
    let end = xu(end_ms).max(1000.0 / unit);
    let markers: Vec<Marker> = markers
        .iter()
        .map(|m| Marker {
            time_ms: (xu(m.time_ms) * 60_000.0) as u64,
            ..m.clone()
        })
        .collect();
    let markers = &markers[..];
    let top_pad = 16
        * marker_rows(markers, |x| {
            // the plotting area: margin 10 and the labels on the left, 30 on the right
            label_w as i32 + 10 + (x / end * (WIDTH - label_w - 40) as f64) as i32
        }) as u32;
    let height = 70 + top_pad + rows_px + 60 + 50;
    let root = SVGBackend::with_string(out, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    title_and_legend(&root, title, &[])?;
    // colour scale, top right
    let (sx, sy) = (WIDTH as i32 - 330, 40);
    for i in 0..100 {
        let c = ramp(i as f64 / 99.0);
        root.draw(&Rectangle::new(
            [(sx + 2 * i, sy), (sx + 2 * i + 2, sy + 12)],
            c.filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(sx, sy), (sx + 200, sy + 12)],
        GREY.stroke_width(1),
    ))?;
    for (v, dx) in [(0.0, 0), (0.5, 100), (1.0, 200)] {
        root.draw(&Text::new(
            tick(v),
            (sx + dx, sy + 14),
            (FONT, 12)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    root.draw(&Text::new(
        "CPU requested / allocatable",
        (sx - 8, sy + 6),
        (FONT, 13)
            .into_font()
            .color(&INK)
            .pos(Pos::new(HPos::Right, VPos::Center)),
    ))?;
    root.draw(&Rectangle::new(
        [(sx + 220, sy), (sx + 232, sy + 12)],
        NOT_READY.filled(),
    ))?;
    root.draw(&Text::new(
        "not Ready",
        (sx + 236, sy + 6),
        (FONT, 13)
            .into_font()
            .color(&INK)
            .pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    let area = root.margin(70 + top_pad, 8, 10, 30);
    let every = (n / 40).max(1);
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(50)
        .y_label_area_size(label_w)
        .build_cartesian_2d(0f64..end, Rows { n, every })?;
    // the first row on top
    let names: Vec<&str> = rows.iter().rev().map(|r| r.name.as_str()).collect();
    let y_fmt = |v: &f64| {
        let i = v.round();
        if i >= 0.0 && (i as usize) < names.len() {
            names[i as usize].to_string()
        } else {
            String::new()
        }
    };
    let x_fmt = |v: &f64| tick(*v);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_x_mesh()
        .x_desc(format!("virtual time ({unit_name})"))
        .x_labels(12)
        .y_labels(n)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .axis_desc_style((FONT, 15).into_font().color(&INK))
        .label_style((FONT, 13).into_font().color(&INK))
        .axis_style(INK)
        .draw()?;
    for (i, r) in rows.iter().rev().enumerate() {
        let y = i as f64;
        for (from, to, colour) in heat_segments(&r.cells, MAX_HEAT_COLUMNS) {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(xu(from), y - 0.5), (xu(to), y + 0.5)],
                colour.filled(),
            )))?;
        }
    }
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let (left, right) = (xr.start, xr.end);
    let px = |x: f64| left + ((x / end) * (right - left) as f64).round() as i32;
    draw_markers(&root, px, yr.start - top_pad as i32, yr.end, markers)?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_segments_merge_equal_neighbours_and_average_long_rows() {
        // 0–1 min 0.5, 1–2 min 0.5 (merged), 2–3 min not Ready, 3–4 min 1.0
        let cells = [
            (60_000, 0.5, true),
            (120_000, 0.51, true),
            (180_000, 0.2, false),
            (240_000, 1.0, true),
        ];
        assert_eq!(
            heat_segments(&cells, 100),
            vec![
                (0, 120_000, ramp(0.52)),
                (120_000, 180_000, NOT_READY),
                (180_000, 240_000, ramp(1.0)),
            ]
        );
        // two columns: the means of (0.5, 0.51) and of (0.2 not Ready, 1.0)
        assert_eq!(
            heat_segments(&cells, 2),
            vec![(0, 120_000, ramp(0.52)), (120_000, 240_000, NOT_READY)]
        );
        // a day of minutes in at most 150 columns
        let day: Vec<(u64, f64, bool)> = (1..=1440)
            .map(|m| (m * 60_000, (m % 7) as f64 / 7.0, true))
            .collect();
        let segs = heat_segments(&day, MAX_HEAT_COLUMNS);
        assert!(segs.len() <= MAX_HEAT_COLUMNS, "{}", segs.len());
        assert_eq!(segs.last().unwrap().1, 1440 * 60_000);
        assert_eq!(segs[0].0, 0);
    }

    #[test]
    fn the_tail_counts_the_pods_that_waited_longer() {
        // 4 pods: 2 at 0 ms (drawn at 1 ms), 1 at 10 ms, 1 at 100 ms
        let pts = ccdf_points(&[(0, 2.0), (10, 1.0), (100, 1.0)]);
        assert_eq!(
            pts,
            vec![
                (1.0, 1.0),
                (1.0, 0.5),
                (10.0, 0.5),
                (10.0, 0.25),
                (100.0, 0.25)
            ]
        );
        let line = |hist: Vec<(u64, f64)>| CdfLine {
            name: "p".into(),
            hist,
            colour: line_colour(0),
            dashed: false,
        };
        // every pod bound at once: no tail to draw
        assert!(ccdf_chart_of("t", "s", &[line(vec![(1, 5.0)])]).is_none());
        let svg = ccdf_chart_of("t", "s", &[line(vec![(0, 2.0), (10, 1.0), (100, 1.0)])])
            .expect("a tail");
        assert!(svg.contains("waited longer (log scale)"));
    }

    #[test]
    fn flat_runs_keep_only_their_ends() {
        let pts = [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0), (3.0, 2.0), (4.0, 2.0)];
        assert_eq!(
            without_flat_interior(pts.to_vec()),
            vec![(0.0, 1.0), (2.0, 1.0), (3.0, 2.0), (4.0, 2.0)]
        );
    }
}
