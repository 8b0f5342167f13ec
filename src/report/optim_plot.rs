//! The plots of `seird-fit optimize`: the loss curve of one run (with, for
//! 2-D problems, the path of the iterates on the loss landscape and its
//! colour bar), and the convergence curves of `--compare`.
//!
//! Iterations are on a log axis: the fast solvers (L-BFGS-B, Newton) finish
//! in tens of iterations where the first-order ones take thousands, and on
//! a linear axis their curves were squeezed against the y-axis. The start
//! (iteration 0) is drawn at 1, so the axis is "iteration + 1".
//!
//! PNGs are drawn into an RGB buffer and encoded by [`super::plot`]'s fast
//! encoder, with its embedded font, like `forecast.png`.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::plot::{encode_png, register_fonts};
use crate::error::Error;
use crate::optim::problems::TestProblem;
use crate::optim::run::Outcome;
use crate::optim::Bounds;

/// Size of a one-run plot of a 2-D problem (loss curve and landscape).
pub const RUN_SIZE_2D: (u32, u32) = (1400, 600);
/// Size of a one-run plot otherwise (loss curve).
pub const RUN_SIZE: (u32, u32) = (800, 600);
/// Size of the `--compare` plot.
pub const COMPARE_SIZE: (u32, u32) = (1000, 700);
/// Width of the colour bar beside the landscape, labels included.
pub const COLOUR_BAR_WIDTH: u32 = 110;
/// Number of colour bands of the landscape (its level sets show as contours).
pub const BANDS: usize = 10;

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Report(format!("plot: {e}"))
}

fn is_svg(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
}

/// The PNG bytes of the one-run plot of `o` on `p` (see [`write_run_plot`]).
pub fn run_plot_png(
    o: &Outcome,
    p: &dyn TestProblem,
    bounds: Option<&Bounds>,
) -> Result<Vec<u8>, Error> {
    register_fonts()?;
    let size = run_size(o);
    let mut buf = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        draw_run(&root, o, p, bounds)?;
    }
    encode_png(&buf, size)
}

/// The PNG bytes of the `--compare` plot of `runs` (see [`write_compare_plot`]).
pub fn compare_plot_png(runs: &[Outcome]) -> Result<Vec<u8>, Error> {
    register_fonts()?;
    let mut buf = vec![0u8; COMPARE_SIZE.0 as usize * COMPARE_SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, COMPARE_SIZE).into_drawing_area();
        draw_compare(&root, runs)?;
    }
    encode_png(&buf, COMPARE_SIZE)
}

fn run_size(o: &Outcome) -> (u32, u32) {
    if o.dim == 2 {
        RUN_SIZE_2D
    } else {
        RUN_SIZE
    }
}

/// Writes the plot of one run to `path` (PNG, or SVG when it ends in
/// `.svg`): the loss above the minimum against iterations and, in 2-D, the
/// path of the iterates on a banded map of the loss with its colour bar.
pub fn write_run_plot(
    path: &Path,
    o: &Outcome,
    p: &dyn TestProblem,
    bounds: Option<&Bounds>,
) -> Result<(), Error> {
    let bytes = if is_svg(path) {
        register_fonts()?;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, run_size(o)).into_drawing_area();
            draw_run(&root, o, p, bounds)?;
        }
        svg.into_bytes()
    } else {
        run_plot_png(o, p, bounds)?
    };
    crate::io::write_atomic(path, &bytes)
}

/// Writes the convergence plot of `runs` (every solver on one problem) to
/// `path`, PNG or SVG.
pub fn write_compare_plot(path: &Path, runs: &[Outcome]) -> Result<(), Error> {
    let bytes = if is_svg(path) {
        register_fonts()?;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, COMPARE_SIZE).into_drawing_area();
            draw_compare(&root, runs)?;
        }
        svg.into_bytes()
    } else {
        compare_plot_png(runs)?
    };
    crate::io::write_atomic(path, &bytes)
}

/// log10 of the loss above the best value seen, floored so it stays finite.
fn log_gap(f: f64, fmin: f64) -> f64 {
    (f - fmin).max(1e-16).log10()
}

/// The iteration axis: from 1 (the start, iteration 0) to one past the
/// longest run, on a log scale.
pub fn iteration_axis(runs: &[&Outcome]) -> std::ops::Range<f64> {
    let max_iter = runs
        .iter()
        .flat_map(|o| o.trace.last().map(|t| t.iter))
        .max()
        .unwrap_or(1)
        .max(1);
    1.0..(max_iter + 1) as f64
}

fn draw_run<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    o: &Outcome,
    p: &dyn TestProblem,
    bounds: Option<&Bounds>,
) -> Result<(), Error> {
    root.fill(&WHITE).map_err(plot_err)?;
    let panels: Vec<_> = if o.dim == 2 {
        root.split_evenly((1, 2))
    } else {
        vec![root.clone()]
    };
    let fmin = p
        .min_value()
        .unwrap_or_else(|| o.trace.iter().map(|t| t.cost).fold(f64::INFINITY, f64::min));
    loss_panel(&panels[0], &[o], fmin)?;
    if o.dim == 2 {
        contour_panel(&panels[1], o, p, bounds)?;
    }
    root.present().map_err(plot_err)
}

fn draw_compare<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[Outcome],
) -> Result<(), Error> {
    root.fill(&WHITE).map_err(plot_err)?;
    let fmin = runs
        .iter()
        .flat_map(|o| o.trace.iter().map(|t| t.cost))
        .fold(f64::INFINITY, f64::min);
    let runs: Vec<&Outcome> = runs.iter().collect();
    loss_panel(root, &runs, fmin)?;
    root.present().map_err(plot_err)
}

fn loss_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[&Outcome],
    fmin: f64,
) -> Result<(), Error> {
    let ys: Vec<f64> = runs
        .iter()
        .flat_map(|o| o.trace.iter().map(|t| log_gap(t.cost, fmin)))
        .filter(|v| v.is_finite())
        .collect();
    let (ylo, yhi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (ylo, yhi) = if ylo.is_finite() {
        (ylo - 0.5, yhi + 0.5)
    } else {
        (-16.0, 1.0)
    };
    let mut chart = ChartBuilder::on(area)
        .caption("loss above the minimum", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(iteration_axis(runs).log_scale(), ylo..yhi)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("iteration + 1 (log scale)")
        .y_desc("log10(f - f*)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(plot_err)?;
    for (k, o) in runs.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        chart
            .draw_series(LineSeries::new(
                o.trace
                    .iter()
                    .map(|t| (t.iter as f64 + 1.0, log_gap(t.cost, fmin)))
                    .filter(|(_, y)| y.is_finite()),
                color.stroke_width(2),
            ))
            .map_err(plot_err)?
            .label(o.solver.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

/// The colour of band `k` of [`BANDS`] (0: lowest loss, blue; the last:
/// highest, red), shared by the map and its colour bar.
pub fn band_colour(k: usize) -> HSLColor {
    let t = k.min(BANDS - 1) as f64 / BANDS as f64;
    HSLColor(0.66 - 0.66 * t, 0.7, 0.35 + 0.4 * t)
}

/// The band of a map value `v` in `[0, vmax]` (non-finite: the top band).
fn band_of(v: f64, vmax: f64) -> usize {
    if v.is_finite() && vmax > 0.0 {
        ((v / vmax * BANDS as f64).floor() as usize).min(BANDS - 1)
    } else {
        BANDS - 1
    }
}

fn contour_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    o: &Outcome,
    p: &dyn TestProblem,
    bounds: Option<&Bounds>,
) -> Result<(), Error> {
    let (w, _) = area.dim_in_pixel();
    let (map_area, bar_area) = area.split_horizontally(w.saturating_sub(COLOUR_BAR_WIDTH));
    // The view covers the path, the known minima and the box (if finite).
    let mut xs: Vec<f64> = o.trace.iter().map(|t| t.x[0]).collect();
    let mut ys: Vec<f64> = o.trace.iter().map(|t| t.x[1]).collect();
    for m in p.minima() {
        xs.push(m[0]);
        ys.push(m[1]);
    }
    if let Some(b) = bounds {
        for i in 0..2 {
            for v in [b.lower()[i], b.upper()[i]] {
                if v.is_finite() {
                    if i == 0 {
                        xs.push(v)
                    } else {
                        ys.push(v)
                    }
                }
            }
        }
    }
    let span = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = 0.15 * (hi - lo).max(1.0);
        (lo - pad, hi + pad)
    };
    let (x0, x1) = span(&xs);
    let (y0, y1) = span(&ys);
    let mut chart = ChartBuilder::on(&map_area)
        .caption(
            format!("{}: path of {}", p.name(), o.solver),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("x0")
        .y_desc("x1")
        .draw()
        .map_err(plot_err)?;
    // Bands of log(1 + f - f*) on a grid: the contour structure of the
    // landscape without a contouring library.
    const GRID: usize = 120;
    let fmin = p.min_value().unwrap_or(0.0);
    let mut cells = Vec::with_capacity(GRID * GRID);
    let (dx, dy) = ((x1 - x0) / GRID as f64, (y1 - y0) / GRID as f64);
    let mut vmax = 0.0f64;
    for i in 0..GRID {
        for j in 0..GRID {
            let (cx, cy) = (x0 + (i as f64 + 0.5) * dx, y0 + (j as f64 + 0.5) * dy);
            let v = p
                .cost(&[cx, cy])
                .map_or(f64::NAN, |f| (f - fmin).max(0.0).ln_1p());
            if v.is_finite() {
                vmax = vmax.max(v);
            }
            cells.push((i, j, v));
        }
    }
    chart
        .draw_series(cells.into_iter().map(|(i, j, v)| {
            let (ax, ay) = (x0 + i as f64 * dx, y0 + j as f64 * dy);
            Rectangle::new(
                [(ax, ay), (ax + dx, ay + dy)],
                band_colour(band_of(v, vmax)).filled(),
            )
        }))
        .map_err(plot_err)?;
    chart
        .draw_series(LineSeries::new(
            o.trace.iter().map(|t| (t.x[0], t.x[1])),
            BLACK.stroke_width(2),
        ))
        .map_err(plot_err)?;
    chart
        .draw_series(
            o.trace
                .first()
                .map(|t| Circle::new((t.x[0], t.x[1]), 5, WHITE.filled())),
        )
        .map_err(plot_err)?;
    chart
        .draw_series(
            p.minima()
                .into_iter()
                .map(|m| Cross::new((m[0], m[1]), 6, RED.stroke_width(2))),
        )
        .map_err(plot_err)?;
    colour_bar(&bar_area, vmax)
}

/// The colour bar of the map: one block per band, labelled with the loss
/// above the minimum, f - f*, at the band edges (the map is banded in
/// log(1 + f - f*), so the labels grow geometrically).
fn colour_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, vmax: f64) -> Result<(), Error> {
    let top = if vmax > 0.0 { vmax } else { 1.0 };
    let mut bar = ChartBuilder::on(area)
        // Same top margin and caption height as the map, so the bar lines up.
        .margin_top(12 + 30)
        .margin_bottom(12 + 40)
        .margin_right(12)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..1f64, 0f64..top)
        .map_err(plot_err)?;
    bar.configure_mesh()
        .disable_x_mesh()
        .disable_y_mesh()
        .disable_x_axis()
        .y_labels(BANDS + 1)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .y_desc("f - f*")
        .y_label_formatter(&|v| format!("{:.1e}", v.exp_m1()))
        .draw()
        .map_err(plot_err)?;
    let step = top / BANDS as f64;
    bar.draw_series((0..BANDS).map(|k| {
        Rectangle::new(
            [(0.0, k as f64 * step), (1.0, (k + 1) as f64 * step)],
            band_colour(k).filled(),
        )
    }))
    .map_err(plot_err)?;
    Ok(())
}
