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
}

fn minutes(ms: u64) -> f64 {
    ms as f64 / 60_000.0
}

/// A number for an axis tick: no more decimals than needed.
fn tick(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
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
    // one row (or more) of swatches under the title, left to right
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

/// Draw the markers over a chart's plotting area: a dashed vertical line each,
/// labelled at the top, labels staggered so they do not overlap.
fn draw_markers<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    px: impl Fn(f64) -> i32,
    top: i32,
    bottom: i32,
    markers: &[Marker],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut row_end: Vec<i32> = Vec::new();
    for m in markers {
        let x = px(minutes(m.time_ms));
        let colour = if m.warning {
            OKABE_ITO[5]
        } else {
            RGBColor(0x55, 0x55, 0x55)
        };
        root.draw(&DashedPathElement::new(
            vec![(x, top), (x, bottom)],
            6,
            4,
            colour.stroke_width(2),
        ))?;
        let width = 7 * m.label.chars().count() as i32 + 8;
        let right_edge = WIDTH as i32 - 20;
        let row = match row_end.iter().position(|&end| end < x) {
            Some(r) => r,
            None => {
                row_end.push(i32::MIN);
                row_end.len() - 1
            }
        };
        // near the right edge the label goes left of its line
        let (tx, anchor, end) = if x + width > right_edge {
            (x - 4, HPos::Right, x + 4)
        } else {
            (x + 4, HPos::Left, x + width)
        };
        row_end[row] = end;
        let y = top + 4 + 16 * row as i32;
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
    let mut row_end: Vec<i32> = Vec::new();
    for m in markers {
        let x = px(minutes(m.time_ms));
        let width = 7 * m.label.chars().count() as i32 + 8;
        let end = if x + width > WIDTH as i32 - 20 {
            x + 4
        } else {
            x + width
        };
        match row_end.iter().position(|&e| e < x) {
            Some(r) => row_end[r] = end,
            None => row_end.push(end),
        }
    }
    row_end.len()
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
    // seconds for a short window, minutes otherwise
    let span_ms = c.end_ms.saturating_sub(c.start_ms).max(1);
    let (unit, unit_name) = if span_ms <= 300_000 {
        (1000.0, "s")
    } else {
        (60_000.0, "min")
    };
    let x_of = |ms: u64| (ms as f64 - c.start_ms as f64) / unit;
    let end = x_of(c.end_ms);
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
    let approx_px = |x: f64| 90 + (x / end * plot_w) as i32;
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
        .build_cartesian_2d(0f64..end, y0..y1)?;
    let x_fmt = |v: &f64| tick(*v + c.start_ms as f64 / unit);
    let y_fmt = |v: &f64| tick(*v);
    chart
        .configure_mesh()
        .x_desc(format!("virtual time ({unit_name})"))
        .y_desc(c.y_desc.clone())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_labels(12)
        .y_labels(8)
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
        let before = pts.iter().rposition(|p| p.0 < 0.0);
        if let Some(b) = before {
            let v = pts[b].1;
            pts.drain(..=b);
            pts.insert(0, (0.0, v));
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
    let px = |x: f64| left + ((x / end) * (right - left) as f64).round() as i32;
    draw_markers(&root, px, yr.start, yr.end, &shown)?;
    root.present()?;
    Ok(())
}

/// The CDF of scheduling latency from a histogram (latency ms → pods).
pub fn cdf_chart(title: &str, hist: &[(u64, f64)]) -> String {
    let mut out = String::new();
    draw_cdf(title, hist, &mut out).expect("drawing into a string cannot fail");
    out
}

fn draw_cdf(title: &str, hist: &[(u64, f64)], out: &mut String) -> DrawResult<()> {
    let total: f64 = hist.iter().map(|h| h.1).sum();
    let root = SVGBackend::with_string(out, (WIDTH, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    title_and_legend(&root, title, &[])?;
    let max = hist.iter().map(|h| h.0).max().unwrap_or(1).max(1) as f64;
    let min = hist.iter().map(|h| h.0).min().unwrap_or(0) as f64;
    let log = max >= 1000.0 && max / min.max(1.0) >= 100.0;
    let mut pts = vec![];
    let mut acc = 0.0;
    let floor = 1.0;
    for &(l, n) in hist {
        let x = (l as f64).max(if log { floor } else { 0.0 });
        pts.push((x, acc / total));
        acc += n;
        pts.push((x, acc / total));
    }
    let area = root.margin(58, 8, 10, 30);
    let fmt_y = |v: &f64| tick(*v);
    let colour = line_colour(0);
    if log {
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((floor..max * 1.2).log_scale(), 0f64..1.02)?;
        let fmt_x = |v: &f64| tick(*v);
        chart
            .configure_mesh()
            .x_desc("scheduling latency: queue entry → bind (ms, log scale)")
            .y_desc("share of bound pods (0–1)")
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&fmt_y)
            .axis_desc_style((FONT, 15).into_font().color(&INK))
            .label_style((FONT, 13).into_font().color(&INK))
            .max_light_lines(0)
            .bold_line_style(MESH)
            .axis_style(INK)
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            pts,
            colour.stroke_width(3),
        )))?;
    } else {
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..max * 1.05, 0f64..1.02)?;
        let fmt_x = |v: &f64| tick(*v);
        chart
            .configure_mesh()
            .x_desc("scheduling latency: queue entry → bind (ms)")
            .y_desc("share of bound pods (0–1)")
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&fmt_y)
            .axis_desc_style((FONT, 15).into_font().color(&INK))
            .label_style((FONT, 13).into_font().color(&INK))
            .max_light_lines(0)
            .bold_line_style(MESH)
            .axis_style(INK)
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            pts,
            colour.stroke_width(3),
        )))?;
    }
    root.draw(&Text::new(
        format!("{} pods bound", total as u64),
        (WIDTH as i32 / 2, 36),
        (FONT, 14)
            .into_font()
            .color(&GREY)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
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
    let top_pad = 16
        * marker_rows(markers, |x| {
            90 + (x / minutes(end_ms) * (WIDTH - 200) as f64) as i32
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
    let end = minutes(end_ms).max(1.0 / 60.0);
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
        .x_desc("virtual time (min)")
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
        let mut prev = 0u64;
        for &(t, v, ready) in &r.cells {
            let colour = if ready { ramp(v) } else { NOT_READY };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(minutes(prev), y - 0.5), (minutes(t), y + 0.5)],
                colour.filled(),
            )))?;
            prev = t;
        }
    }
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let (left, right) = (xr.start, xr.end);
    let px = |x: f64| left + ((x / end) * (right - left) as f64).round() as i32;
    draw_markers(&root, px, yr.start - top_pad as i32, yr.end, markers)?;
    root.present()?;
    Ok(())
}
