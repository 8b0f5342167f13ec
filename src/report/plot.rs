//! Plots, drawn with plotters.
//!
//! Text is rendered with the DejaVu Sans font embedded in the binary (the
//! `dejavu` crate), registered with plotters' `ab_glyph` backend, so plots
//! render the same on a bare machine without any system fonts.
//!
//! * [`draw_forecast`]: the region plot, three panels over one date axis:
//!   cumulative and daily new cases and deaths (log scale, zeros on a row of
//!   their own; with tiny counts the axis reaches down to the model's and
//!   the bands' values below 1 a day, labelled 1-2-5 or 1-3 per decade),
//!   then R(t) = beta(t)/rho and R_eff = R(t) S/N with the R = 1
//!   line. Observations are light rings (held-out ones crosses), the model a
//!   dark line; over the forecast days the forecast is dashed
//!   ([`forecast_line`]: the median of [`crate::fit::Intervals`] from the
//!   last observation, with its 50 % and 90 % bands, when the forecast has
//!   them, the model curve then continuing thin; else the model curve);
//!   training and
//!   forecast days are shaded apart, and the legends sit in a column of
//!   their own at the right, off the data. Generic over the backend, so
//!   tests can draw into a pixel buffer.
//! * [`write_forecast_png`]: that plot as `forecast.png`, drawn into a reused
//!   pixel buffer with texts from a per-thread cache and encoded with fast PNG
//!   settings: a batch writes one per region, and this was 15% of its CPU.
//! * [`thumbnail_svg`]: the same fit, small and without text, for the batch index.
//! * [`r_distribution_svg`], [`loss_svg`]: world-level plots of a batch.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::table::{forecast_rows, ForecastRow, Phase};
use crate::data::TrainingData;
use crate::error::Error;
use crate::fit::{FitResult, Forecast, Target};

/// Size of `forecast.png` in pixels.
pub const FORECAST_SIZE: (u32, u32) = (1200, 1000);
/// Size of `thumb.svg`.
pub const THUMB_SIZE: (u32, u32) = (240, 150);

const CASES: RGBColor = RGBColor(31, 119, 180);
const DEATHS: RGBColor = RGBColor(214, 39, 40);
const REPRO: RGBColor = RGBColor(118, 66, 172);
const TRAIN_SHADE: RGBColor = RGBColor(228, 236, 246);
const FONT: &str = "sans-serif";

/// Registers the embedded DejaVu font as plotters' `sans-serif` (once per
/// process; plotters keeps a global font table).
pub fn register_fonts() -> Result<(), Error> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let fonts = [
                (FontStyle::Normal, dejavu::sans::regular()),
                (FontStyle::Bold, dejavu::sans::bold()),
                (FontStyle::Italic, dejavu::sans::oblique()),
                (FontStyle::Oblique, dejavu::sans::oblique()),
            ];
            for (style, bytes) in fonts {
                plotters::style::register_font(FONT, style, bytes)
                    .map_err(|_| "the embedded DejaVu font could not be loaded".to_string())?;
            }
            Ok(())
        })
        .clone()
        .map_err(Error::Report)
}

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Report(format!("plot: {e}"))
}

/// Draws `chart`'s series legend in the style every report plot shares (a
/// light veil over the data, a grey frame), at `position` in `font_size`.
pub(crate) fn draw_series_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    font_size: u32,
) -> Result<(), Error>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, font_size))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(plot_err)
}

/// Writes `forecast.png` atomically (through [`crate::io::write_atomic`]).
///
/// The plot is drawn into an RGB buffer and encoded here rather than by
/// plotters' file backend, whose encoder (the `image` crate's defaults:
/// adaptive filtering, every filter tried on every row) took more time than
/// drawing the plot. Texts come from a per-thread cache of rasterized
/// strings, and the pixels are the same as drawing directly.
pub fn write_forecast_png(
    path: &Path,
    data: &TrainingData,
    result: &FitResult,
    forecast: &Forecast,
) -> Result<(), Error> {
    crate::io::write_atomic(path, &forecast_png(data, result, forecast)?)
}

/// The bytes of `forecast.png` (see [`write_forecast_png`]); `report.html`
/// embeds the same bytes.
pub fn forecast_png(
    data: &TrainingData,
    result: &FitResult,
    forecast: &Forecast,
) -> Result<Vec<u8>, Error> {
    with_pixel_buffer(FORECAST_SIZE, |buf| {
        render_into(buf, FORECAST_SIZE, data, result, forecast)?;
        encode_png(buf, FORECAST_SIZE)
    })
}

/// Draws the region plot into an RGB buffer of `size` (3 bytes per pixel).
pub fn render_forecast_rgb(
    data: &TrainingData,
    result: &FitResult,
    forecast: &Forecast,
    size: (u32, u32),
) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; rgb_len(size)];
    render_into(&mut buf, size, data, result, forecast)?;
    Ok(buf)
}

fn rgb_len((w, h): (u32, u32)) -> usize {
    w as usize * h as usize * 3
}

/// Draws the region plot into `buf`, whatever it held before: the plot
/// starts by filling the whole area white.
fn render_into(
    buf: &mut [u8],
    size: (u32, u32),
    data: &TrainingData,
    result: &FitResult,
    forecast: &Forecast,
) -> Result<(), Error> {
    register_fonts()?;
    text_cache::with_thread_cache(|cache| {
        let backend = text_cache::CachedText::new(BitMapBackend::with_buffer(buf, size), cache);
        let root = backend.into_drawing_area();
        draw_forecast(&root, data, result, forecast)?;
        root.present().map_err(plot_err)
    })
}

thread_local! {
    /// One pixel buffer per thread, reused from plot to plot: a batch draws a
    /// plot per region, and a fresh 3 MB buffer each time was zeroed (memset)
    /// only to be painted white.
    static PIXELS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's pixel buffer, sized for `size`.
fn with_pixel_buffer<T>(size: (u32, u32), f: impl FnOnce(&mut [u8]) -> T) -> T {
    // Taken out rather than borrowed, so a nested call would get a fresh
    // buffer instead of a panic; a buffer dropped by an error is simply
    // allocated again next time.
    let mut buf = PIXELS.with(|p| p.take());
    buf.resize(rgb_len(size), 0);
    let out = f(&mut buf);
    PIXELS.with(|p| p.replace(buf));
    out
}

/// Encodes 8-bit RGB pixels (`size`, row by row) as a PNG.
///
/// fdeflate (`Compression::Fast`) with the Sub filter on every row. Measured
/// on the plots of five real fits (1200x860, 720 to 840 distinct colours,
/// so no lossless palette): the `image` crate's settings that plotters used
/// took 1.9 ms per plot for 143 KB; Sub takes 0.8 ms for 218 KB, Paeth
/// 1.1 ms for 150 KB, Up 0.9 ms for 278 KB. Without a filter fdeflate, which
/// relies on the zero runs filtering makes, gives 2.5 MB.
pub(crate) fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, Error> {
    let png_err = |e: png::EncodingError| Error::Report(format!("PNG encoding: {e}"));
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::FilterType::Sub);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::NonAdaptive);
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(rgb).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(out)
}

/// Points of one plotted quantity, split by what they are.
struct Series {
    observed_train: Vec<(f64, f64)>,
    observed_held: Vec<(f64, f64)>,
    model_train: Vec<(f64, f64)>,
    model_forecast: Vec<(f64, f64)>,
}

impl Series {
    fn new(
        rows: &[ForecastRow],
        obs: impl Fn(&ForecastRow) -> Option<f64>,
        model: impl Fn(&ForecastRow) -> f64,
    ) -> Self {
        let observed: Vec<Option<f64>> = rows.iter().map(obs).collect();
        let modelled: Vec<f64> = rows.iter().map(model).collect();
        let train_days = rows.iter().filter(|r| r.phase == Phase::Train).count();
        Series::from_days(&observed, &modelled, train_days)
    }

    /// Day `j` is at x = j; days before `train_days` were fitted. Missing
    /// observations and non-finite model values are left out.
    fn from_days(observed: &[Option<f64>], model: &[f64], train_days: usize) -> Self {
        let mut s = Series {
            observed_train: Vec::new(),
            observed_held: Vec::new(),
            model_train: Vec::new(),
            model_forecast: Vec::new(),
        };
        for (j, o) in observed.iter().enumerate() {
            if let Some(o) = o.filter(|o| o.is_finite()) {
                if j < train_days {
                    s.observed_train.push((j as f64, o));
                } else {
                    s.observed_held.push((j as f64, o));
                }
            }
        }
        for (j, m) in model.iter().enumerate().filter(|(_, m)| m.is_finite()) {
            if j < train_days {
                s.model_train.push((j as f64, *m));
            } else {
                s.model_forecast.push((j as f64, *m));
            }
        }
        // The forecast line starts where the fitted line ends, so the two join.
        if let (Some(&last), false) = (s.model_train.last(), s.model_forecast.is_empty()) {
            s.model_forecast.insert(0, last);
        }
        s
    }

    fn all_values(&self) -> impl Iterator<Item = f64> + '_ {
        self.observed_train
            .iter()
            .chain(&self.observed_held)
            .chain(&self.model_train)
            .chain(&self.model_forecast)
            .map(|p| p.1)
    }

    fn observed_values(&self) -> impl Iterator<Item = f64> + '_ {
        self.observed_train
            .iter()
            .chain(&self.observed_held)
            .map(|p| p.1)
    }
}

/// Only positive values exist on a log axis; the others are left out
/// (and so are infinities, which have no place on any axis).
fn positive(points: &[(f64, f64)], lo: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .copied()
        .filter(|p| p.1 >= lo && p.1.is_finite())
        .collect()
}

/// The largest value an axis may reach. Plotters' tick search does not end
/// on an infinite range (a count of 1e308 times the 3x headroom is `inf`),
/// so every computed range goes through [`finite_axis`]; far below f64::MAX,
/// so tick arithmetic on the range stays finite too.
const AXIS_MAX: f64 = 1e300;

/// The smallest lower end of a log axis.
const AXIS_MIN_POSITIVE: f64 = 1e-100;

/// The widest log axis, as the ratio of its ends: plotters' mesh search did
/// not end on 1e-100 .. 1e300 (a loss plot of values 1e-300 and 1e308),
/// while spans of 100 decades draw in milliseconds.
const MAX_LOG_SPAN: f64 = 1e100;

/// `lo..hi` made finite and non-empty: both ends within
/// `[-AXIS_MAX, AXIS_MAX]` (and at least [`AXIS_MIN_POSITIVE`] on a log
/// axis), `hi > lo`. Points outside the range are clipped by the chart.
fn finite_axis(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    let floor = if log { AXIS_MIN_POSITIVE } else { -AXIS_MAX };
    let clamp = |v: f64, default: f64| {
        if v.is_nan() {
            default
        } else {
            v.clamp(floor, AXIS_MAX)
        }
    };
    let hi = clamp(hi, AXIS_MAX);
    let mut lo = clamp(lo, if log { 0.5 } else { 0.0 });
    if log {
        lo = lo.max(hi / MAX_LOG_SPAN);
    }
    if hi > lo {
        (lo, hi)
    } else if log {
        (lo.min(AXIS_MAX / 10.0), (lo * 10.0).min(AXIS_MAX))
    } else {
        let lo = lo.min(AXIS_MAX / 2.0);
        (lo, lo + lo.abs().max(1.0))
    }
}

/// Axis labels for counts: `0.05`, `1`, `500`, `20k`, `3M`. Below 1 (a
/// daily panel of a county whose model adds a case a week) as many decimals
/// as the value's first digit needs, so 0.002 is not printed as 0.
fn human(v: f64) -> String {
    if v > 0.0 && v < 1.0 {
        let decimals = (-v.log10().floor()).clamp(1.0, 12.0) as usize;
        let s = format!("{v:.decimals$}");
        return s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let (scaled, suffix) = if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = format!("{scaled:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{suffix}")
}

/// Tick values of a log count axis over `lo..hi`: 1-2-5 in every decade
/// when the axis spans at most 2.5 decades, 1-3 up to 5 decades, else
/// powers of ten (every second, third... when there are more than nine,
/// so that 1 stays one of them): about a label per 25 px of a count panel
/// at most.
///
/// plotters' own log ticks are powers of ten only, so a county's axis from
/// 0.3 to 20 had the single label "1" and a point at 2 a day none.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let decades = (hi / lo).log10();
    let (mantissas, step): (&[f64], i32) = if decades <= 2.5 {
        (&[1.0, 2.0, 5.0], 1)
    } else if decades <= 5.0 {
        (&[1.0, 3.0], 1)
    } else {
        (&[1.0], (decades / 9.0).ceil().max(1.0) as i32)
    };
    let first = (lo.log10().floor() as i32).div_euclid(step) * step;
    let last = hi.log10().ceil() as i32;
    let mut ticks = Vec::new();
    let mut e = first;
    while e <= last {
        for m in mantissas {
            // Parsed from text, so 2e-1 is the double nearest 0.2, as typed.
            let v: f64 = format!("{m}e{e}").parse().unwrap_or(f64::NAN);
            if v >= lo && v <= hi {
                ticks.push(v);
            }
        }
        e += step;
    }
    ticks
}

/// Observed cumulative cases: the line of the model in [`CASES`], the
/// observations as rings of a lighter tint, so on long windows (where the
/// rings merge into a band) they still do not read as a second model curve.
const CASES_OBS: RGBColor = RGBColor(120, 180, 222);
/// Observed deaths (see [`CASES_OBS`]).
const DEATHS_OBS: RGBColor = RGBColor(246, 150, 120);
/// R_eff(t) = R(t) S/N.
const REFF: RGBColor = RGBColor(0, 136, 120);
/// Background of the forecast days, so forecast and training days differ
/// even where no observation is left.
const FORECAST_SHADE: RGBColor = RGBColor(253, 244, 222);
/// The row at the bottom of a count panel where zeros are drawn.
const ZERO_ROW: RGBColor = RGBColor(150, 150, 150);
/// Width of the legend column at the right of the plot: the legends sit
/// beside the panels, never on the data.
const LEGEND_WIDTH: u32 = 250;

/// A legend entry's sample.
#[derive(Clone, Copy)]
enum Sample {
    Shade(RGBColor),
    Ring(RGBColor),
    Cross(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
    Thin(RGBColor),
    Band(RGBColor, f64),
}

/// Draws a column of legend entries from pixel `(x, y)` of `root`.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x, mut y): (i32, i32),
    entries: &[(Sample, String)],
) -> Result<(), Error> {
    for (sample, text) in entries {
        let (x0, x1) = (x, x + 24);
        match *sample {
            Sample::Shade(c) => root
                .draw(&Rectangle::new([(x0, y - 7), (x1, y + 7)], c.filled()))
                .map_err(plot_err)?,
            Sample::Band(c, a) => root
                .draw(&Rectangle::new(
                    [(x0, y - 7), (x1, y + 7)],
                    c.mix(a).filled(),
                ))
                .map_err(plot_err)?,
            Sample::Ring(c) => root
                .draw(&Circle::new((x0 + 12, y), 4, c.stroke_width(2)))
                .map_err(plot_err)?,
            Sample::Cross(c) => root
                .draw(&Cross::new((x0 + 12, y), 4, c.stroke_width(2)))
                .map_err(plot_err)?,
            Sample::Line(c) => root
                .draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(3)))
                .map_err(plot_err)?,
            Sample::Thin(c) => root
                .draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(1)))
                .map_err(plot_err)?,
            // Drawn as dashes, like the lines it stands for.
            Sample::Dashed(c) => {
                for s in [0, 10, 20] {
                    root.draw(&PathElement::new(
                        vec![(x0 + s, y), (x0 + s + 5, y)],
                        c.stroke_width(2),
                    ))
                    .map_err(plot_err)?;
                }
            }
        }
        root.draw(&Text::new(
            text.clone(),
            (x1 + 8, y - 8),
            (FONT, 14).into_font().color(&BLACK),
        ))
        .map_err(plot_err)?;
        y += 21;
    }
    Ok(())
}

/// One count panel's content: a series per quantity with its colours, the
/// forecast bands `(x, [q05, q25, q50, q75, q95])` when there are any, and
/// the dashed forecast line of each quantity ([`forecast_line`], at x).
struct CountPanel<'a> {
    caption: String,
    y_desc: &'a str,
    series: [(&'a Series, RGBColor, RGBColor); 2],
    bands: [Vec<(f64, [f64; 5])>; 2],
    forecast: [Vec<(f64, f64)>; 2],
}

/// Where things are on the x axis: the range, the end of the training
/// window and the first date.
struct XAxis {
    range: std::ops::Range<f64>,
    train_end: f64,
    start: chrono::NaiveDate,
}

impl XAxis {
    fn label(&self, x: &f64) -> String {
        let day = self.start + chrono::Duration::days(x.round() as i64);
        day.format("%d %b").to_string()
    }
}

/// Draws a log-scale count panel. Zeros (which a log axis cannot show: an
/// all-zero deaths series would vanish) are drawn on a grey row labelled
/// "0" below the smallest positive count. Returns the panel's area in
/// pixels `(left, top, right, bottom)` of its plotting area.
fn draw_count_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    panel: &CountPanel,
    x: &XAxis,
) -> Result<(), Error> {
    // Counts are integers, so observed positives are >= 1; the axis starts
    // at the smallest of them (Hubei's cumulative counts start at 444: an
    // axis from 1 left a quarter of the panel empty). The model and
    // the bands go lower where counts are tiny (a county's model adds 0.1
    // cases a day): the axis then reaches down to them, or they would not
    // be drawn at all. Not below 1/100 of the smallest observation (a case
    // in 100 days) nor 1/10^4 of the largest value, so the early tail of a
    // large outbreak's model (0.001 a day in January) does not squeeze
    // what matters into the top of the panel. The zero row sits well below
    // the smallest value shown, the axis a little below the row.
    let positive_min = |it: &mut dyn Iterator<Item = f64>| {
        it.filter(|v| *v > 0.0 && v.is_finite())
            .fold(f64::INFINITY, f64::min)
    };
    let obs_min = positive_min(
        &mut panel
            .series
            .iter()
            .flat_map(|(s, _, _)| s.observed_values()),
    );
    // No positive observation at all: the axis starts at 1.
    let obs_min = if obs_min.is_finite() { obs_min } else { 1.0 };
    let max = panel
        .series
        .iter()
        .flat_map(|(s, _, _)| s.all_values())
        .chain(panel.bands.iter().flatten().map(|(_, q)| q[4]))
        .chain(panel.forecast.iter().flatten().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max);
    let model_min = positive_min(
        &mut panel
            .series
            .iter()
            .flat_map(|(s, _, _)| s.model_train.iter().chain(&s.model_forecast))
            .chain(panel.forecast.iter().flatten())
            .map(|p| p.1)
            .chain(panel.bands.iter().flatten().flat_map(|(_, q)| *q)),
    );
    let min_pos = obs_min.min(model_min.max(obs_min / 100.0).max(max / 1e4));
    let zero = min_pos / 3.0;
    let lo = zero / 1.6;
    let (lo, hi) = finite_axis(lo, max * 1.8, true);
    // Model values this small are too small to show; below the zero row
    // they would cross it and read as zeros.
    let model_floor = zero * 1.5;
    // Labelled ticks only where values are drawn, and none within 18 px
    // of the zero row, where it would touch the row's "0" (Hubei: "10" sat
    // on it). The plotting area is the panel less its caption, date labels
    // and margins, about 80 px.
    let px_per_decade =
        (area.dim_in_pixel().1 as f64 - 80.0).max(1.0) / (hi / lo).log10().max(1e-9);
    let ticks: Vec<f64> = log_ticks(lo, hi)
        .into_iter()
        .filter(|t| *t >= model_floor && (t / zero).log10() * px_per_decade >= 18.0)
        .collect();

    let mut chart = ChartBuilder::on(area)
        .caption(&panel.caption, (FONT, 18))
        .margin(8)
        .margin_right(14)
        .x_label_area_size(28)
        .y_label_area_size(66)
        .build_cartesian_2d(x.range.clone(), (lo..hi).log_scale().with_key_points(ticks))
        .map_err(plot_err)?;
    chart
        .draw_series([
            Rectangle::new(
                [(x.range.start, lo), (x.train_end, hi)],
                TRAIN_SHADE.filled(),
            ),
            Rectangle::new(
                [(x.train_end, lo), (x.range.end, hi)],
                FORECAST_SHADE.filled(),
            ),
        ])
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&|v| x.label(v))
        .y_label_formatter(&|v| human(*v))
        .y_desc(panel.y_desc)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(plot_err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x.range.start, zero), (x.range.end, zero)],
            ZERO_ROW.stroke_width(1),
        )))
        .map_err(plot_err)?;
    let (px, py) = chart.backend_coord(&(x.range.start, zero));
    root.draw(&Text::new(
        "0",
        (px - 12, py - 7),
        (FONT, 14).into_font().color(&BLACK),
    ))
    .map_err(plot_err)?;

    let on_axis = |p: &(f64, f64)| (p.0, if p.1 > 0.0 { p.1 } else { zero });
    for (bands, (_, _, color)) in panel.bands.iter().zip(&panel.series) {
        for (outer, alpha) in [(true, 0.18), (false, 0.32)] {
            let (a, b) = if outer { (0, 4) } else { (1, 3) };
            let mut poly: Vec<(f64, f64)> =
                bands.iter().map(|(x, q)| (*x, q[b].max(zero))).collect();
            poly.extend(bands.iter().rev().map(|(x, q)| (*x, q[a].max(zero))));
            if poly.len() >= 2 {
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        color.mix(alpha).filled(),
                    )))
                    .map_err(plot_err)?;
            }
        }
    }
    // Observations first, the model on top: the forecast line must stay
    // visible where it runs through the held-out observations.
    for (s, obs_color, _) in &panel.series {
        chart
            .draw_series(
                s.observed_train
                    .iter()
                    .map(|p| Circle::new(on_axis(p), 3, obs_color.stroke_width(1))),
            )
            .map_err(plot_err)?;
        chart
            .draw_series(
                s.observed_held
                    .iter()
                    .map(|p| Cross::new(on_axis(p), 3, obs_color.stroke_width(1))),
            )
            .map_err(plot_err)?;
    }
    for (((s, _, color), bands), forecast) in
        panel.series.iter().zip(&panel.bands).zip(&panel.forecast)
    {
        chart
            .draw_series(LineSeries::new(
                positive(&s.model_train, model_floor),
                color.stroke_width(3),
            ))
            .map_err(plot_err)?;
        // With intervals, the dashed forecast is their median (see
        // [`forecast_line`]), and the model curve continues thin.
        if !bands.is_empty() {
            chart
                .draw_series(LineSeries::new(
                    positive(&s.model_forecast, model_floor),
                    color.mix(0.7).stroke_width(1),
                ))
                .map_err(plot_err)?;
        }
        // A forecast of no new cases is a forecast too: it goes on the zero
        // row, as zero observations do, rather than vanishing.
        let forecast: Vec<(f64, f64)> = forecast
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(x, v)| (x, if v < model_floor { zero } else { v }))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(
                forecast,
                10,
                5,
                color.stroke_width(3),
            ))
            .map_err(plot_err)?;
    }
    Ok(())
}

/// Daily differences of a cumulative series; day 0 has none. A negative
/// difference is a reporting correction, not negative cases: it is shown as 0.
fn daily(cum: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut out = vec![None; cum.len()];
    for j in 1..cum.len() {
        if let (Some(a), Some(b)) = (cum[j - 1], cum[j]) {
            out[j] = Some((b - a).max(0.0));
        }
    }
    out
}

/// [`daily`] of a model series, NaN on day 0.
fn daily_model(cum: &[f64]) -> Vec<f64> {
    let cum: Vec<Option<f64>> = cum.iter().map(|v| Some(*v)).collect();
    daily(&cum).iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

/// The points the dashed forecast line of `target` in `forecast.png` is
/// drawn through, by date.
///
/// With intervals it is their median, the method's point forecast that
/// `forecast_quantiles.csv` and fit.json publish, from the last training
/// day's observation (the origin the forecast starts from) over every
/// forecast day. Drawing the model curve dashed as "forecast" showed a line
/// far from the published bands (Jiangsu: ~3k against a median of 650).
/// Without intervals it is the model curve from the last training day.
/// Daily targets are daily differences, a correction (a fall) counted 0.
pub fn forecast_line(
    data: &TrainingData,
    forecast: &Forecast,
    target: Target,
) -> Vec<(chrono::NaiveDate, f64)> {
    let train = forecast.train_days.min(forecast.dates.len());
    if train == 0 {
        return Vec::new();
    }
    let origin = forecast.dates[train - 1];
    let median = forecast
        .intervals
        .as_ref()
        .and_then(|iv| Some((iv, iv.quantile(target, 0.5)?)));
    if let Some((iv, median)) = median {
        let observed = |cum: &[f64]| -> Option<f64> {
            let n = cum.len();
            match target {
                Target::Cases | Target::Deaths => cum.last().copied(),
                Target::NewCases | Target::NewDeaths if n >= 2 => {
                    Some((cum[n - 1] - cum[n - 2]).max(0.0))
                }
                _ => None,
            }
        };
        let anchor = match target {
            Target::Cases | Target::NewCases => observed(&data.cases),
            Target::Deaths | Target::NewDeaths => observed(&data.deaths),
        };
        return anchor
            .filter(|v| v.is_finite())
            .map(|v| (origin, v))
            .into_iter()
            .chain(iv.dates.iter().copied().zip(median))
            .collect();
    }
    let model = match target {
        Target::Cases => forecast.cases.clone(),
        Target::Deaths => forecast.deaths.clone(),
        Target::NewCases => daily_model(&forecast.cases),
        Target::NewDeaths => daily_model(&forecast.deaths),
    };
    forecast.dates[train - 1..]
        .iter()
        .copied()
        .zip(model.get(train - 1..).unwrap_or_default().iter().copied())
        .filter(|p| p.1.is_finite())
        .collect()
}

/// The 5 %, 25 %, 75 % and 95 % quantiles of `target` per forecast day, at
/// the x of each day; empty without intervals or when a level is missing.
fn bands(forecast: &Forecast, target: Target, start: chrono::NaiveDate) -> Vec<(f64, [f64; 5])> {
    let Some(iv) = &forecast.intervals else {
        return Vec::new();
    };
    let q: Option<Vec<Vec<f64>>> = [0.05, 0.25, 0.5, 0.75, 0.95]
        .iter()
        .map(|l| iv.quantile(target, *l))
        .collect();
    let Some(q) = q else {
        return Vec::new();
    };
    iv.dates
        .iter()
        .enumerate()
        .filter_map(|(d, date)| {
            let v = [
                q[0].get(d)?,
                q[1].get(d)?,
                q[2].get(d)?,
                q[3].get(d)?,
                q[4].get(d)?,
            ];
            let v = v.map(|x| *x);
            v.iter()
                .all(|x| x.is_finite())
                .then(|| ((*date - start).num_days() as f64, v))
        })
        .collect()
}

/// Draws the region plot on `root`: cumulative cases and deaths (log
/// scale), daily new cases and deaths (log scale), and the reproduction
/// numbers, with the legends in a column at the right.
pub fn draw_forecast<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &TrainingData,
    result: &FitResult,
    forecast: &Forecast,
) -> Result<(), Error> {
    let rows = forecast_rows(data, forecast)?;
    let n = rows.len();
    let train_days = forecast.train_days;
    let start = forecast.dates.first().copied().unwrap_or(result.start_date);
    let cases = Series::new(&rows, |r| r.observed_cases, |r| r.fitted_cases);
    let deaths = Series::new(&rows, |r| r.observed_deaths, |r| r.fitted_deaths);
    let observed = |f: fn(&ForecastRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    let new_cases = Series::from_days(
        &daily(&observed(|r| r.observed_cases)),
        &daily_model(&forecast.cases),
        train_days,
    );
    let new_deaths = Series::from_days(
        &daily(&observed(|r| r.observed_deaths)),
        &daily_model(&forecast.deaths),
        train_days,
    );
    let has_bands = forecast.intervals.is_some();
    let line = |target: Target| -> Vec<(f64, f64)> {
        forecast_line(data, forecast, target)
            .into_iter()
            .map(|(d, v)| ((d - start).num_days() as f64, v))
            .collect()
    };

    root.fill(&WHITE).map_err(plot_err)?;
    let (w, h) = root.dim_in_pixel();
    let (plots, _) = root.split_horizontally(w.saturating_sub(LEGEND_WIDTH));
    let title = format!(
        "{}: {} training days to {}, forecast {} days",
        data.key.display_name(),
        train_days,
        result.end_date,
        n.saturating_sub(train_days)
    );
    root.draw(&Text::new(
        title,
        (16, 8),
        (FONT, 22).into_font().style(FontStyle::Bold).color(&BLACK),
    ))
    .map_err(plot_err)?;
    let body_h = h.saturating_sub(38);
    let (_, body) = plots.split_vertically(38);
    let (upper, rest) = body.split_vertically(body_h * 40 / 100);
    let (middle, lower) = rest.split_vertically(body_h * 33 / 100);

    let x = XAxis {
        range: -0.5..(n as f64 - 0.5).max(0.5),
        train_end: train_days as f64 - 0.5,
        start,
    };
    draw_count_panel(
        root,
        &upper,
        &CountPanel {
            caption: "cumulative cases and deaths".into(),
            y_desc: "persons (log scale)",
            series: [(&cases, CASES_OBS, CASES), (&deaths, DEATHS_OBS, DEATHS)],
            bands: [
                bands(forecast, Target::Cases, start),
                bands(forecast, Target::Deaths, start),
            ],
            forecast: [line(Target::Cases), line(Target::Deaths)],
        },
        &x,
    )?;
    draw_count_panel(
        root,
        &middle,
        &CountPanel {
            caption: "daily new cases and deaths".into(),
            y_desc: "per day (log scale)",
            series: [
                (&new_cases, CASES_OBS, CASES),
                (&new_deaths, DEATHS_OBS, DEATHS),
            ],
            bands: [
                bands(forecast, Target::NewCases, start),
                bands(forecast, Target::NewDeaths, start),
            ],
            forecast: [line(Target::NewCases), line(Target::NewDeaths)],
        },
        &x,
    )?;

    // Bottom panel: R(t) = beta(t)/rho is the number of infections one case
    // would cause in a wholly susceptible population; what drives growth is
    // R_eff = R(t) S/N, which falls as the susceptibles are used up.
    let population = data.population.max(1.0);
    let r = &forecast.reproduction;
    let r_eff: Vec<f64> = r
        .iter()
        .zip(&forecast.trajectory.s)
        .map(|(r, s)| r * s / population)
        .collect();
    let r_max = r
        .iter()
        .chain(&r_eff)
        .copied()
        .filter(|v| v.is_finite())
        .fold(1.5, f64::max)
        * 1.1;
    let (_, r_max) = finite_axis(0.0, r_max, false);
    let mut bottom = ChartBuilder::on(&lower)
        .caption("reproduction numbers", (FONT, 18))
        .margin(8)
        .margin_right(14)
        .x_label_area_size(28)
        .y_label_area_size(66)
        .build_cartesian_2d(x.range.clone(), 0.0..r_max)
        .map_err(plot_err)?;
    bottom
        .draw_series([
            Rectangle::new(
                [(x.range.start, 0.0), (x.train_end, r_max)],
                TRAIN_SHADE.filled(),
            ),
            Rectangle::new(
                [(x.train_end, 0.0), (x.range.end, r_max)],
                FORECAST_SHADE.filled(),
            ),
        ])
        .map_err(plot_err)?;
    bottom
        .configure_mesh()
        .x_labels(10)
        .y_labels(6)
        .x_label_formatter(&|v| x.label(v))
        .y_desc("R")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(plot_err)?;
    bottom
        .draw_series(DashedLineSeries::new(
            vec![(x.range.start, 1.0), (x.range.end, 1.0)],
            6,
            4,
            BLACK.stroke_width(1),
        ))
        .map_err(plot_err)?;
    let split = train_days.min(r.len());
    // R_eff on top and thinner: early on it equals R(t) and must not vanish.
    for (values, color, width) in [(r, REPRO, 6), (&r_eff, REFF, 2)] {
        let pts: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(j, v)| (j as f64, *v))
            .collect();
        let split = pts.iter().take_while(|p| p.0 < split as f64).count();
        bottom
            .draw_series(LineSeries::new(
                pts[..split].to_vec(),
                color.stroke_width(width),
            ))
            .map_err(plot_err)?;
        bottom
            .draw_series(DashedLineSeries::new(
                pts[split.saturating_sub(1)..].to_vec(),
                10,
                5,
                color.stroke_width(width),
            ))
            .map_err(plot_err)?;
    }

    // The legends, beside the panel each belongs to.
    let lx = w.saturating_sub(LEGEND_WIDTH) as i32 + 4;
    let top_y = |a: &DrawingArea<DB, Shift>| a.get_base_pixel().1 + 40;
    let mut counts = vec![
        (Sample::Shade(TRAIN_SHADE), "training window".to_string()),
        (Sample::Shade(FORECAST_SHADE), "forecast window".into()),
        (Sample::Ring(CASES_OBS), "observed cases".into()),
        (Sample::Ring(DEATHS_OBS), "observed deaths".into()),
        (
            Sample::Cross(CASES_OBS),
            "held-out cases (not fitted)".into(),
        ),
        (Sample::Cross(DEATHS_OBS), "held-out deaths".into()),
        (Sample::Line(CASES), "model cases".into()),
        (Sample::Line(DEATHS), "model deaths".into()),
    ];
    if has_bands {
        let method = result
            .forecast
            .as_ref()
            .map_or("blend".to_string(), |f| f.method.clone());
        counts.push((
            Sample::Dashed(RGBColor(90, 90, 90)),
            format!("forecast: median ({method})"),
        ));
        counts.push((
            Sample::Thin(RGBColor(90, 90, 90)),
            "model curve, continued".into(),
        ));
        counts.push((
            Sample::Band(RGBColor(90, 90, 90), 0.32),
            "50% interval".into(),
        ));
        counts.push((
            Sample::Band(RGBColor(90, 90, 90), 0.18),
            "90% interval".into(),
        ));
    } else {
        counts.push((Sample::Dashed(RGBColor(90, 90, 90)), "forecast".into()));
    }
    draw_legend(root, (lx, top_y(&upper)), &counts)?;
    draw_legend(
        root,
        (lx, top_y(&middle)),
        &[
            (Sample::Ring(CASES_OBS), "observed new cases".into()),
            (Sample::Ring(DEATHS_OBS), "observed new deaths".into()),
            (Sample::Line(CASES), "model new cases".into()),
            (Sample::Line(DEATHS), "model new deaths".into()),
            (Sample::Line(ZERO_ROW), "row 0: no new count".into()),
            (Sample::Shade(WHITE), "(or a correction)".into()),
        ],
    )?;
    draw_legend(
        root,
        (lx, top_y(&lower)),
        &[
            (Sample::Line(REPRO), "R(t) = \u{3b2}(t)/\u{3c1}".into()),
            (Sample::Shade(WHITE), "(all susceptible)".into()),
            (Sample::Line(REFF), "R_eff(t) = R(t) S/N".into()),
            (Sample::Dashed(BLACK), "R = 1".into()),
            (Sample::Dashed(RGBColor(90, 90, 90)), "forecast".into()),
        ],
    )?;
    Ok(())
}

/// A small text-free SVG of the fit: observed (thin) and model (thick)
/// cumulative cases and deaths on a log axis, training window shaded, and
/// dashed the published forecast (the median, [`forecast_line`]), as in
/// `forecast.png`.
pub fn thumbnail_svg(data: &TrainingData, forecast: &Forecast) -> Result<String, Error> {
    let rows = forecast_rows(data, forecast)?;
    let cases = Series::new(&rows, |r| r.observed_cases, |r| r.fitted_cases);
    let deaths = Series::new(&rows, |r| r.observed_deaths, |r| r.fitted_deaths);
    let n = rows.len() as f64;
    // The dashed published forecast (the median), by day index.
    let start = forecast.dates.first().copied();
    let dashed = |target: Target| -> Vec<(f64, f64)> {
        match start {
            Some(start) => forecast_line(data, forecast, target)
                .into_iter()
                .map(|(d, v)| ((d - start).num_days() as f64, v))
                .collect(),
            None => Vec::new(),
        }
    };
    let dashed = [dashed(Target::Cases), dashed(Target::Deaths)];
    let lo = 0.5;
    // The axis holds the median too: it may end above the model and the data.
    let hi = cases
        .all_values()
        .chain(deaths.all_values())
        .chain(dashed.iter().flatten().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max)
        * 2.0;
    let (lo, hi) = finite_axis(lo, hi, true);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, THUMB_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(4)
            .build_cartesian_2d(-0.5..(n - 0.5).max(0.5), (lo..hi).log_scale())
            .map_err(plot_err)?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(-0.5, lo), (forecast.train_days as f64 - 0.5, hi)],
                TRAIN_SHADE.filled(),
            )))
            .map_err(plot_err)?;
        for ((s, color), dashed) in [(&cases, CASES), (&deaths, DEATHS)]
            .into_iter()
            .zip(&dashed)
        {
            let mut observed = s.observed_train.clone();
            observed.extend(&s.observed_held);
            chart
                .draw_series(LineSeries::new(
                    positive(&observed, lo),
                    color.mix(0.45).stroke_width(1),
                ))
                .map_err(plot_err)?;
            chart
                .draw_series(LineSeries::new(
                    positive(&s.model_train, lo),
                    color.stroke_width(2),
                ))
                .map_err(plot_err)?;
            chart
                .draw_series(DashedLineSeries::new(
                    positive(dashed, lo),
                    5,
                    3,
                    color.stroke_width(2),
                ))
                .map_err(plot_err)?;
        }
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// The histogram's x axis ends here, whatever the fitted values: an R of
/// 1e308 (legal in a config's bounds) would otherwise ask for 4e308 bins.
const MAX_R_SHOWN: f64 = 50.0;

/// Histogram of fitted R_0 and R_t across regions (overlaid, bins of 0.25).
pub fn r_distribution_svg(r_0: &[f64], r_t: &[f64]) -> Result<String, Error> {
    register_fonts()?;
    const BIN: f64 = 0.25;
    let top = r_0
        .iter()
        .chain(r_t)
        .copied()
        .filter(|v| v.is_finite())
        .fold(2.0, f64::max)
        // Bounded bins: larger values go into the last one.
        .min(MAX_R_SHOWN);
    let bins = (top / BIN).ceil() as usize + 1;
    let count = |values: &[f64]| {
        let mut c = vec![0u32; bins];
        for v in values.iter().filter(|v| v.is_finite() && **v >= 0.0) {
            c[((v / BIN).floor() as usize).min(bins - 1)] += 1;
        }
        c
    };
    let (c0, ct) = (count(r_0), count(r_t));
    let y_max = c0.iter().chain(&ct).copied().max().unwrap_or(0).max(1) as f64 * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("fitted R_0 and R_t across regions", (FONT, 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0.0..bins as f64 * BIN, 0.0..y_max)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("reproduction number")
            .y_desc("regions")
            // Counts are whole numbers: with few regions plotters would put
            // ticks at halves, and "{:.0}" would print each count twice.
            .y_labels((y_max as usize + 1).min(10))
            .y_label_formatter(&|v| {
                if (v - v.round()).abs() < 1e-9 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .light_line_style(TRANSPARENT)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 12))
            .disable_x_mesh()
            .draw()
            .map_err(plot_err)?;
        for (counts, color, label) in [(&c0, CASES, "R_0"), (&ct, DEATHS, "R_t")] {
            chart
                .draw_series(
                    counts
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| **c > 0)
                        .map(|(b, c)| {
                            let x = b as f64 * BIN;
                            Rectangle::new(
                                [(x, 0.0), (x + BIN, *c as f64)],
                                color.mix(0.5).filled(),
                            )
                        }),
                )
                .map_err(plot_err)?
                .label(label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.mix(0.5).filled())
                });
        }
        // Fits often pile up at the upper bound of R_0, on the right.
        draw_series_legend(&mut chart, SeriesLabelPosition::UpperMiddle, 12)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// Loss per region: every region's MSLE, sorted, on a log axis.
pub fn loss_svg(msle: &[f64]) -> Result<String, Error> {
    register_fonts()?;
    let mut sorted: Vec<f64> = msle
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    sorted.sort_by(f64::total_cmp);
    let (lo, hi) = finite_axis(
        sorted.first().copied().unwrap_or(1e-4) / 2.0,
        sorted.last().copied().unwrap_or(1.0) * 2.0,
        true,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("loss (MSLE) per region, sorted", (FONT, 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(56)
            .build_cartesian_2d(
                -0.5..(sorted.len() as f64 - 0.5).max(0.5),
                (lo..hi).log_scale(),
            )
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("regions (best fit first)")
            .y_desc("MSLE (log scale)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .light_line_style(TRANSPARENT)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 12))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(
                sorted
                    .iter()
                    .enumerate()
                    .map(|(j, v)| Circle::new((j as f64, *v), 2, REPRO.filled())),
            )
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// Text drawn from a cache of rasterized strings.
///
/// Rasterizing glyph outlines (ab_glyph) was over half the time of drawing a
/// region plot, and most of its texts (legends, captions, axis labels and
/// tick labels) recur from region to region. The cache keeps, per string,
/// font and colour, the pixels plotters' font code produced, and draws them
/// the way plotters' default `DrawingBackend::draw_text` does, so the image
/// is the same pixel for pixel.
mod text_cache {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use plotters_backend::text_anchor::{HPos, VPos};
    use plotters_backend::{
        BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend,
        DrawingErrorKind,
    };

    /// A text's layout box, as `BackendTextStyle::layout_box` gives it.
    type Layout = ((i32, i32), (i32, i32));

    /// What a string's layout depends on.
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct FontKey {
        text: String,
        family: String,
        style: String,
        size_bits: u64,
    }

    impl FontKey {
        fn new<S: BackendTextStyle>(text: &str, style: &S) -> Self {
            FontKey {
                text: text.to_owned(),
                family: style.family().as_str().to_owned(),
                style: style.style().as_str().to_owned(),
                size_bits: style.size().to_bits(),
            }
        }
    }

    /// What a string's pixels depend on: its font and its colour.
    #[derive(PartialEq, Eq, Hash)]
    struct RasterKey {
        font: FontKey,
        rgb: (u8, u8, u8),
        alpha_bits: u64,
    }

    /// Layouts and pixels of the strings drawn on one thread.
    #[derive(Default)]
    pub struct TextCache {
        layouts: HashMap<FontKey, Layout>,
        /// Pixels as the font code reports them: position relative to the
        /// text's origin, before anchoring and rotation, and colour.
        rasters: HashMap<RasterKey, Vec<(i32, i32, BackendColor)>>,
        pixels: usize,
    }

    impl TextCache {
        /// About 6 MB (24 bytes a pixel). Measured: the first region plot
        /// rasterizes 26k text pixels, later ones about 8k (the title, which
        /// names the region, plus a few new dates), so the cache is emptied
        /// every 30-odd plots and the next plot refills it.
        const MAX_PIXELS: usize = 1 << 18;

        fn layout<S: BackendTextStyle>(
            &mut self,
            key: &FontKey,
            text: &str,
            style: &S,
        ) -> Result<Layout, S::FontError> {
            if let Some(layout) = self.layouts.get(key) {
                return Ok(*layout);
            }
            let layout = style.layout_box(text)?;
            self.layouts.insert(key.clone(), layout);
            Ok(layout)
        }

        fn raster<S: BackendTextStyle>(
            &mut self,
            font: FontKey,
            color: BackendColor,
            text: &str,
            style: &S,
        ) -> Result<&[(i32, i32, BackendColor)], S::FontError> {
            if self.pixels > Self::MAX_PIXELS {
                self.rasters.clear();
                self.layouts.clear();
                self.pixels = 0;
            }
            let key = RasterKey {
                font,
                rgb: color.rgb,
                alpha_bits: color.alpha.to_bits(),
            };
            let pixels = match self.rasters.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let mut pixels = Vec::new();
                    let drawn: Result<(), std::convert::Infallible> =
                        style.draw(text, (0, 0), |x, y, c| {
                            pixels.push((x, y, c));
                            Ok(())
                        })?;
                    let Ok(()) = drawn;
                    self.pixels += pixels.len();
                    e.insert(pixels)
                }
            };
            Ok(pixels)
        }
    }

    thread_local! {
        static CACHE: RefCell<TextCache> = RefCell::new(TextCache::default());
    }

    /// Runs `f` with this thread's text cache.
    pub fn with_thread_cache<T>(f: impl FnOnce(&RefCell<TextCache>) -> T) -> T {
        CACHE.with(f)
    }

    /// `inner` with text drawn through a [`TextCache`]; everything else is
    /// passed through unchanged.
    pub struct CachedText<'c, B> {
        inner: B,
        cache: &'c RefCell<TextCache>,
    }

    impl<'c, B> CachedText<'c, B> {
        /// Wraps `inner`, drawing its texts through `cache`.
        pub fn new(inner: B, cache: &'c RefCell<TextCache>) -> Self {
            CachedText { inner, cache }
        }
    }

    /// A font error, reported as plotters' default `draw_text` reports it.
    fn font_error<B: std::error::Error + Send + Sync>(
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> DrawingErrorKind<B> {
        DrawingErrorKind::FontError(Box::new(e))
    }

    impl<B: DrawingBackend> DrawingBackend for CachedText<'_, B> {
        type ErrorType = B::ErrorType;

        fn get_size(&self) -> (u32, u32) {
            self.inner.get_size()
        }

        fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.ensure_prepared()
        }

        fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.present()
        }

        fn draw_pixel(
            &mut self,
            point: BackendCoord,
            color: BackendColor,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_pixel(point, color)
        }

        fn draw_line<S: BackendStyle>(
            &mut self,
            from: BackendCoord,
            to: BackendCoord,
            style: &S,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_line(from, to, style)
        }

        fn draw_rect<S: BackendStyle>(
            &mut self,
            upper_left: BackendCoord,
            bottom_right: BackendCoord,
            style: &S,
            fill: bool,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_rect(upper_left, bottom_right, style, fill)
        }

        fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            path: I,
            style: &S,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_path(path, style)
        }

        fn draw_circle<S: BackendStyle>(
            &mut self,
            center: BackendCoord,
            radius: u32,
            style: &S,
            fill: bool,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.draw_circle(center, radius, style, fill)
        }

        fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            vert: I,
            style: &S,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.fill_polygon(vert, style)
        }

        fn blit_bitmap(
            &mut self,
            pos: BackendCoord,
            size: (u32, u32),
            src: &[u8],
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            self.inner.blit_bitmap(pos, size, src)
        }

        fn estimate_text_size<S: BackendTextStyle>(
            &self,
            text: &str,
            style: &S,
        ) -> Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
            let key = FontKey::new(text, style);
            let ((min_x, min_y), (max_x, max_y)) = self
                .cache
                .borrow_mut()
                .layout(&key, text, style)
                .map_err(font_error)?;
            Ok(((max_x - min_x) as u32, (max_y - min_y) as u32))
        }

        /// plotters_backend 0.3.7's default `draw_text`, with the layout and
        /// the font's pixels taken from the cache.
        fn draw_text<S: BackendTextStyle>(
            &mut self,
            text: &str,
            style: &S,
            pos: BackendCoord,
        ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
            let color = style.color();
            if color.alpha == 0.0 {
                return Ok(());
            }
            let font = FontKey::new(text, style);
            let mut cache = self.cache.borrow_mut();
            let ((min_x, min_y), (max_x, max_y)) =
                cache.layout(&font, text, style).map_err(font_error)?;
            let width = max_x - min_x;
            let height = max_y - min_y;
            let dx = match style.anchor().h_pos {
                HPos::Left => 0,
                HPos::Right => -width,
                HPos::Center => -width / 2,
            };
            let dy = match style.anchor().v_pos {
                VPos::Top => 0,
                VPos::Center => -height / 2,
                VPos::Bottom => -height,
            };
            let trans = style.transform();
            let (w, h) = self.inner.get_size();
            let pixels = cache.raster(font, color, text, style).map_err(font_error)?;
            for &(x, y, c) in pixels {
                let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
                let (x, y) = (pos.0 + x, pos.1 + y);
                if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                    self.inner.draw_pixel((x, y), c)?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_labels_are_short() {
        assert_eq!(human(1.0), "1");
        assert_eq!(human(500.0), "500");
        assert_eq!(human(20_000.0), "20k");
        assert_eq!(human(2_500_000.0), "2.5M");
    }

    #[test]
    fn small_counts_get_decimals_not_zero() {
        assert_eq!(human(0.5), "0.5");
        assert_eq!(human(0.05), "0.05");
        assert_eq!(human(0.002), "0.002");
        assert_eq!(human(0.3), "0.3");
    }

    #[test]
    fn log_ticks_label_a_county_axis_densely_and_a_country_axis_by_decades() {
        // A county's daily panel, 0.3 to 20 a day: 2 and 5 are labelled.
        assert_eq!(log_ticks(0.3, 20.0), [0.5, 1.0, 2.0, 5.0, 10.0, 20.0]);
        // Four decades: 1 and 3 in each.
        assert_eq!(
            log_ticks(0.02, 200.0),
            [0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
        );
        // A country's cumulative panel, 0.2 to 3M: powers of ten.
        assert_eq!(log_ticks(0.2, 3e6), [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6]);
        // The US, 0.2 to 25M: still every decade (every other one left 1
        // unlabelled).
        assert_eq!(log_ticks(0.2, 2.5e7).len(), 8);
        // Twenty decades: at most about nine labels, 1 among them.
        let t = log_ticks(1e-10, 1e10);
        assert!(t.len() <= 9 && t.len() >= 6, "{t:?}");
        assert!(t.contains(&1.0), "{t:?}");
        assert!(log_ticks(0.0, 1.0).is_empty() && log_ticks(2.0, 1.0).is_empty());
    }

    #[test]
    fn histogram_and_loss_plots_are_svg() {
        let s = r_distribution_svg(&[2.5, 3.0, 3.1], &[0.8, 1.1, 0.2]).unwrap();
        assert!(s.starts_with("<svg") && s.contains("<rect"));
        let s = loss_svg(&[0.01, 0.1, 0.02]).unwrap();
        assert_eq!(s.matches("<circle").count(), 3);
    }

    #[test]
    fn every_axis_range_is_finite_and_non_empty() {
        let big = f64::MAX;
        for (lo, hi, log) in [
            (0.5, big * 3.0, true),
            (0.5, f64::INFINITY, true),
            (f64::NAN, f64::NAN, true),
            (0.0, big * 1.1, false),
            (5.0, 5.0, false),
            (1e301, 1e302, true),
            (-f64::INFINITY, f64::NEG_INFINITY, false),
        ] {
            let (a, b) = finite_axis(lo, hi, log);
            assert!(
                a.is_finite() && b.is_finite() && b > a,
                "{lo}..{hi}: {a}..{b}"
            );
            assert!(!log || a > 0.0, "{lo}..{hi}: {a}..{b}");
        }
        let (a, b) = finite_axis(1e-300, 1e300, true);
        assert!(b / a <= MAX_LOG_SPAN * 1.000_001, "{a}..{b}");
        // Ordinary ranges are left alone.
        assert_eq!(finite_axis(0.5, 3e6, true), (0.5, 3e6));
        // Histograms and loss plots of absurd values end (and have few bins).
        let s = r_distribution_svg(&[big, 3.0], &[big]).unwrap();
        assert!(s.matches("<rect").count() < 1000);
        loss_svg(&[big]).unwrap();
        loss_svg(&[1e-300]).unwrap();
        loss_svg(&[big, 1e-300, f64::MIN_POSITIVE]).unwrap();
    }
}
