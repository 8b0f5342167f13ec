//! The backtest's `index.html`: one self-contained page (inline CSS and SVG,
//! nothing fetched) with the pooled scores as a table and three plots:
//! interval coverage against horizon, relative WIS against horizon, and the
//! PIT histograms (a calibrated forecast's is flat).

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use super::index::escape;
use super::plot::{draw_series_legend, register_fonts};
use crate::error::Error;
use crate::fit::Target;
use crate::forecast::backtest::{BacktestSummary, Cell};
use crate::forecast::Method;
use crate::io::write_atomic;

const FONT: &str = "sans-serif";
const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// A named score of a cell, drawn as one line per target.
type Series<'a> = (&'a str, fn(&Cell) -> f64);

fn plot_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Report(format!("backtest plot: {e:?}"))
}

fn cells_of(cells: &[Cell], m: Method, t: Target) -> Vec<&Cell> {
    cells
        .iter()
        .filter(|c| c.method == m && c.target == t && c.n > 0)
        .collect()
}

/// Lines of `f(cell)` against horizon, one per target, with a reference
/// line at `reference`.
fn lines_svg(
    cells: &[Cell],
    methods: &[Method],
    caption: &str,
    y_desc: &str,
    series: &[Series<'_>],
    references: &[f64],
    y_range: (f64, f64),
) -> Result<String, Error> {
    register_fonts()?;
    let hmax = cells.iter().map(|c| c.horizon).max().unwrap_or(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, (FONT, 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..hmax + 1.0, y_range.0..y_range.1)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("horizon (days)")
            .y_desc(y_desc)
            .light_line_style(TRANSPARENT)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 12))
            .draw()
            .map_err(plot_err)?;
        for &r in references {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, r), (hmax + 1.0, r)],
                    4,
                    4,
                    BLACK.mix(0.5).stroke_width(1),
                ))
                .map_err(plot_err)?;
        }
        for (mi, &m) in methods.iter().enumerate() {
            for (ti, t) in [Target::Cases, Target::Deaths].into_iter().enumerate() {
                let cs = cells_of(cells, m, t);
                for (si, (label, f)) in series.iter().enumerate() {
                    let color = COLORS[(ti * 2 + si + mi) % 4];
                    let dashed = mi % 2 == 1;
                    let pts: Vec<(f64, f64)> = cs
                        .iter()
                        .map(|c| (c.horizon as f64, f(c)))
                        .filter(|p| p.1.is_finite())
                        .collect();
                    let name = if methods.len() > 1 {
                        format!("{m} {} {label}", t.name())
                    } else {
                        format!("{} {label}", t.name())
                    };
                    let width = if dashed { 1 } else { 2 };
                    chart
                        .draw_series(LineSeries::new(pts.clone(), color.stroke_width(width)))
                        .map_err(plot_err)?
                        .label(name)
                        .legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2))
                        });
                    chart
                        .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                        .map_err(plot_err)?;
                }
            }
        }
        draw_series_legend(&mut chart, SeriesLabelPosition::LowerRight, 11)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// PIT histogram of one target, all horizons pooled.
fn pit_svg(cells: &[Cell], m: Method, t: Target, color: RGBColor) -> Result<String, Error> {
    register_fonts()?;
    let mut counts = [0usize; 10];
    for c in cells.iter().filter(|c| c.method == m && c.target == t) {
        for (a, b) in counts.iter_mut().zip(c.pit_histogram) {
            *a += b;
        }
    }
    let total: usize = counts.iter().sum();
    let dens: Vec<f64> = counts
        .iter()
        .map(|&c| {
            if total == 0 {
                0.0
            } else {
                c as f64 * 10.0 / total as f64
            }
        })
        .collect();
    let top = dens.iter().copied().fold(1.5, f64::max) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (360, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("PIT, {m}, {} (all horizons)", t.name()), (FONT, 15))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(36)
            .build_cartesian_2d(0.0..1.0, 0.0..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("PIT")
            .y_desc("density")
            .light_line_style(TRANSPARENT)
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 11))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(dens.iter().enumerate().map(|(b, &d)| {
                let x = b as f64 / 10.0;
                Rectangle::new([(x, 0.0), (x + 0.1, d)], color.mix(0.6).filled())
            }))
            .map_err(plot_err)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 1.0), (1.0, 1.0)],
                4,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

fn tag(svg: &str) -> String {
    svg.trim().replacen(
        "<svg ",
        "<svg class=\"plot\" preserveAspectRatio=\"xMidYMid meet\" ",
        1,
    )
}

/// The page.
pub fn index_html(summary: &BacktestSummary, subtitle: &str) -> Result<String, Error> {
    let cells = &summary.cells;
    let methods = &summary.settings.methods;
    let first = methods.first().copied().unwrap_or(Method::Trend);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>seird-fit backtest</title>\n<style>\
         body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}\
         .sub {{ color: #555; }} .plots {{ display: flex; flex-wrap: wrap; gap: 1rem; }}\
         svg.plot {{ max-width: 100%; height: auto; }}\
         table {{ border-collapse: collapse; font-size: 0.9rem; }}\
         td, th {{ border-bottom: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }}\
         th:first-child, td:first-child {{ text-align: left; }}\
         </style>\n</head>\n<body>\n"
    );
    let _ = writeln!(
        h,
        "<h1>Backtest: {} regions, {} forecasts</h1>\n<p class=\"sub\">{}; {} region-origins skipped; {:.1} s</p>",
        summary.regions,
        summary.forecasts,
        escape(subtitle),
        summary.skipped,
        summary.seconds
    );
    h.push_str(
        "<p>Each forecast was made from the data up to its origin only and is scored on the days after it. \
         The baseline is persistence (the last 7 days' mean daily increase, continued) with the \
         COVID-19 Forecast Hub baseline's quantiles. MALE: median absolute log1p error. \
         Relative WIS below 1 means better than the baseline.</p>\n<div class=\"plots\">\n",
    );
    let cov: [Series<'_>; 2] = [("50 %", |c| c.coverage_50), ("90 %", |c| c.coverage_90)];
    h.push_str(&tag(&lines_svg(
        cells,
        &[first],
        &format!("interval coverage against horizon ({first})"),
        "empirical coverage",
        &cov,
        &[0.5, 0.9],
        (0.0, 1.0),
    )?));
    let rel: [Series<'_>; 1] = [("WIS / baseline", |c| c.relative_wis)];
    let top = cells
        .iter()
        .filter(|c| c.n > 0 && c.relative_wis.is_finite())
        .map(|c| c.relative_wis)
        .fold(1.5, f64::max)
        * 1.1;
    h.push_str(&tag(&lines_svg(
        cells,
        methods,
        "relative WIS against horizon",
        "WIS / baseline WIS",
        &rel,
        &[1.0],
        (0.0, top),
    )?));
    h.push_str(&tag(&pit_svg(cells, first, Target::Cases, COLORS[0])?));
    h.push_str(&tag(&pit_svg(cells, first, Target::Deaths, COLORS[1])?));
    h.push_str("</div>\n<h2>Pooled scores</h2>\n<table>\n<tr><th>method</th><th>target</th><th>horizon</th><th>n</th>\
        <th>MALE</th><th>baseline MALE</th><th>ratio</th><th>beats baseline</th><th>50 % coverage</th>\
        <th>90 % coverage</th><th>baseline 50 %</th><th>baseline 90 %</th><th>relative WIS</th>\
        <th>relative WIS (log)</th><th>50 % / 90 %, ties split</th><th>ties</th></tr>\n");
    for c in cells {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.2}</td><td>{:.0} %</td>\
             <td>{:.1} %</td><td>{:.1} %</td><td>{:.1} %</td><td>{:.1} %</td><td>{:.3}</td><td>{:.3}</td>\
             <td>{:.1} % / {:.1} %</td><td>{:.0} %</td></tr>",
            c.method.name(),
            c.target.name(),
            c.horizon,
            c.n,
            c.median_abs_log_error,
            c.baseline_median_abs_log_error,
            c.abs_log_error_ratio,
            100.0 * c.beats_baseline,
            100.0 * c.coverage_50,
            100.0 * c.coverage_90,
            100.0 * c.baseline_coverage_50,
            100.0 * c.baseline_coverage_90,
            c.relative_wis,
            c.relative_wis_log,
            100.0 * c.coverage_50_randomized,
            100.0 * c.coverage_90_randomized,
            100.0 * c.ties_50
        );
    }
    h.push_str("</table>\n<p class=\"sub\">Every row: backtest.csv; settings and these numbers: summary.json.</p>\n</body>\n</html>\n");
    Ok(h)
}

/// Writes `index.html` into `dir`, atomically.
pub fn write_index(dir: &Path, summary: &BacktestSummary, subtitle: &str) -> Result<(), Error> {
    let html = index_html(summary, subtitle)?;
    write_atomic(&dir.join(super::index::INDEX_HTML), html.as_bytes())
}
