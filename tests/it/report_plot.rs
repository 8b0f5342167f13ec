//! The region plot, decoded pixel by pixel: its three panels (cumulative,
//! daily, reproduction numbers), the forecast bands drawn from
//! `fit::Intervals` (hand-made here, so where they must appear is known),
//! and zeros that a log axis would otherwise hide.

use crate::report_common::*;

use seird_fit::data::RegionKey;
use seird_fit::fit::{Intervals, Target, HUB_LEVELS};
use seird_fit::report::plot;

const TRAIN: usize = 30;
const HELD: usize = 10;
const FORECAST: usize = 14;
const CASES: [u8; 3] = [31, 119, 180];
const DEATHS: [u8; 3] = [214, 39, 40];
const REPRO: [u8; 3] = [118, 66, 172];
const REFF: [u8; 3] = [0, 136, 120];
const DEATHS_OBS: [u8; 3] = [246, 150, 120];
const FORECAST_SHADE: [u8; 3] = [253, 244, 222];
/// Width of the legend column at the right (the plot's `LEGEND_WIDTH`).
const LEGEND: u32 = 250;

/// An RGB image with its size.
struct Image {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

impl Image {
    fn at(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.w as usize + x as usize) * 3;
        [self.px[i], self.px[i + 1], self.px[i + 2]]
    }

    /// Pixels of exactly `rgb` in the plotting column (left of the legends)
    /// between rows `y0..y1`.
    fn count(&self, rgb: [u8; 3], y0: u32, y1: u32) -> usize {
        (y0..y1)
            .flat_map(|y| (0..self.w - LEGEND).map(move |x| (x, y)))
            .filter(|&(x, y)| self.at(x, y) == rgb)
            .count()
    }

    /// The rows of the three panels: title 38 px, then 40 %, 33 % and the
    /// rest of the height below it.
    fn panels(&self) -> [(u32, u32); 3] {
        let body = self.h - 38;
        let a = 38 + body * 40 / 100;
        let b = a + body * 33 / 100;
        [(38, a), (a, b), (b, self.h)]
    }
}

fn render(
    data: &seird_fit::data::TrainingData,
    result: &seird_fit::fit::FitResult,
    forecast: &seird_fit::fit::Forecast,
) -> Image {
    let (w, h) = plot::FORECAST_SIZE;
    let px = plot::render_forecast_rgb(data, result, forecast, (w, h)).unwrap();
    Image { w, h, px }
}

/// Quantiles from the model down to `spread`-fold below it at the 1 %
/// level, log-linearly in the level. They reach no higher than the model,
/// so the axes stay as they were and only the bands change pixels.
fn intervals(forecast: &seird_fit::fit::Forecast, spread: f64) -> Intervals {
    let train = forecast.train_days;
    let n = forecast.dates.len();
    let daily = |v: &[f64], j: usize| v[j] - v[j - 1];
    let per_target = |value: &dyn Fn(usize) -> f64| -> Vec<Vec<f64>> {
        (train..n)
            .map(|j| {
                HUB_LEVELS
                    .iter()
                    .map(|l| value(j) * spread.powf(((l - 0.5) / 0.49).min(0.0)))
                    .collect()
            })
            .collect()
    };
    Intervals {
        levels: HUB_LEVELS.to_vec(),
        dates: forecast.dates[train..].to_vec(),
        values: [
            per_target(&|j| forecast.cases[j]),
            per_target(&|j| forecast.deaths[j]),
            per_target(&|j| daily(&forecast.cases, j)),
            per_target(&|j| daily(&forecast.deaths, j)),
        ],
    }
}

#[test]
fn plot_has_cumulative_daily_and_reproduction_panels() {
    let (data, result, forecast) = outbreak(RegionKey::country("Italy"), TRAIN, HELD, FORECAST);
    let img = render(&data, &result, &forecast);
    let [top, mid, low] = img.panels();
    // The model's cases and deaths in both count panels, not in the R panel.
    for (what, rgb) in [("cases", CASES), ("deaths", DEATHS)] {
        assert!(
            img.count(rgb, top.0, top.1) > 400,
            "cumulative {what}: {}",
            img.count(rgb, top.0, top.1)
        );
        assert!(
            img.count(rgb, mid.0, mid.1) > 400,
            "daily {what}: {}",
            img.count(rgb, mid.0, mid.1)
        );
        assert_eq!(img.count(rgb, low.0, low.1), 0, "{what} in the R panel");
    }
    // R(t) and R_eff = R(t) S/N in the bottom panel only.
    for (what, rgb) in [("R(t)", REPRO), ("R_eff", REFF)] {
        assert!(img.count(rgb, low.0, low.1) > 500, "{what} drawn");
        assert_eq!(img.count(rgb, top.0, mid.1), 0, "{what} above its panel");
    }
    // The forecast days are shaded in every panel.
    for (y0, y1) in [top, mid, low] {
        assert!(img.count(FORECAST_SHADE, y0, y1) > 5_000, "forecast shade");
    }
}

#[test]
fn bands_appear_only_on_forecast_days_of_the_count_panels() {
    let (data, result, mut forecast) = outbreak(RegionKey::country("Italy"), TRAIN, HELD, FORECAST);
    let plain = render(&data, &result, &forecast);
    // The first column of the forecast shade is where the forecast begins.
    let [top, mid, low] = plain.panels();
    let fc_x = (0..plain.w - LEGEND)
        .find(|&x| (top.0..top.1).any(|y| plain.at(x, y) == FORECAST_SHADE))
        .unwrap();
    let day_px = (plain.w - LEGEND) / (TRAIN + FORECAST) as u32;
    let mut changed = |spread: f64| {
        forecast.intervals = Some(intervals(&forecast, spread));
        let banded = render(&data, &result, &forecast);
        let mut per_panel = [0usize; 3];
        for y in 0..plain.h {
            for x in 0..plain.w - LEGEND {
                if plain.at(x, y) != banded.at(x, y) {
                    // The forecast line (3 px wide) starts at the last
                    // training day, half a day before the shade: with
                    // bands it is their median from the last observation,
                    // without them the model curve from the model's last
                    // point, so that half day's stroke differs too.
                    assert!(
                        x + day_px / 2 + 4 >= fc_x,
                        "band drawn at x = {x}, before the forecast at {fc_x}"
                    );
                    let p = [top, mid, low].iter().position(|(a, b)| y >= *a && y < *b);
                    per_panel[p.unwrap()] += 1;
                }
            }
        }
        per_panel
    };
    let narrow = changed(1.5);
    let wide = changed(4.0);
    for (what, p) in [("cumulative", 0), ("daily", 1)] {
        assert!(narrow[p] > 1_000, "{what} band: {} px", narrow[p]);
        assert!(wide[p] > narrow[p], "{what}: a wider band covers more");
    }
    assert_eq!(wide[2], 0, "no band in the R panel");
}

#[test]
fn an_all_zero_deaths_series_stays_visible() {
    let (mut data, result, forecast) =
        outbreak(RegionKey::country("Jiangsu"), TRAIN, HELD, FORECAST);
    data.deaths.iter_mut().for_each(|d| *d = 0.0);
    data.held_out_deaths.iter_mut().for_each(|d| *d = 0.0);
    let img = render(&data, &result, &forecast);
    let [top, mid, _] = img.panels();
    // Zeros are drawn on the zero row, in the observed deaths' colour.
    assert!(
        img.count(DEATHS_OBS, top.0, top.1) > 200,
        "cumulative zeros"
    );
    assert!(img.count(DEATHS_OBS, mid.0, mid.1) > 200, "daily zeros");
}

/// Where the top (cumulative) panel puts things, read off the image: day
/// `j`'s pixel column from the shaded window (training shade from x = -0.5,
/// forecast shade to x = n - 0.5), and `y = a + b ln v` from the solid
/// model line at two training days of known value.
struct TopAxes {
    x0: f64,
    per_day: f64,
    a: f64,
    b: f64,
}

const TRAIN_SHADE: [u8; 3] = [228, 236, 246];

impl TopAxes {
    fn read(img: &Image, days: usize, model: &[f64], refs: [usize; 2]) -> TopAxes {
        let [top, _, _] = img.panels();
        let cols = |rgb: [u8; 3]| {
            (0..img.w - LEGEND).filter(move |&x| (top.0..top.1).any(|y| img.at(x, y) == rgb))
        };
        let left = cols(TRAIN_SHADE).min().unwrap() as f64;
        let right = cols(FORECAST_SHADE).max().unwrap() as f64 + 1.0;
        let per_day = (right - left) / days as f64;
        let mut axes = TopAxes {
            x0: left + 0.5 * per_day,
            per_day,
            a: 0.0,
            b: 0.0,
        };
        let y = |j: usize| {
            column_centre(img, axes.x(j), top, CASES)
                .unwrap_or_else(|| panic!("no model line at day {j}"))
        };
        let (y1, y2) = (y(refs[0]), y(refs[1]));
        let (l1, l2) = (model[refs[0]].ln(), model[refs[1]].ln());
        axes.b = (y2 - y1) / (l2 - l1);
        axes.a = y1 - axes.b * l1;
        axes
    }

    fn x(&self, day: usize) -> u32 {
        (self.x0 + day as f64 * self.per_day).round() as u32
    }

    fn y(&self, v: f64) -> f64 {
        self.a + self.b * v.ln()
    }
}

/// Rows of exactly `rgb` in column `x` between `rows`.
fn column_rows(img: &Image, x: u32, rows: (u32, u32), rgb: [u8; 3]) -> Vec<u32> {
    (rows.0..rows.1).filter(|&y| img.at(x, y) == rgb).collect()
}

/// The mean row of `rgb` in column `x`, if it has any.
fn column_centre(img: &Image, x: u32, rows: (u32, u32), rgb: [u8; 3]) -> Option<f64> {
    let r = column_rows(img, x, rows, rgb);
    (!r.is_empty()).then(|| r.iter().sum::<u32>() as f64 / r.len() as f64)
}

/// Checks that the dashed forecast of cumulative cases (the only pixels of
/// exactly the cases colour on forecast days: the continued model curve is
/// thin and lighter) lies on `median`, not on the model curve, on the
/// forecast days where the two are over 12 px apart. Returns how many
/// columns were checked.
fn dashed_line_is_the_median(
    img: &Image,
    forecast: &seird_fit::fit::Forecast,
    median: &[f64],
    refs: [usize; 2],
) -> usize {
    let n = forecast.dates.len();
    let train = forecast.train_days;
    let axes = TopAxes::read(img, n, &forecast.cases, refs);
    let [top, _, _] = img.panels();
    let mut checked = 0;
    for (d, m) in median.iter().enumerate().skip(1) {
        let j = train + d;
        let (y_median, y_model) = (axes.y(*m), axes.y(forecast.cases[j]));
        if (y_median - y_model).abs() <= 12.0 {
            continue;
        }
        // Both columns of the day: a dash may start in either.
        for x in [axes.x(j), axes.x(j) + 1] {
            let rows = column_rows(img, x, top, CASES);
            if rows.is_empty() {
                continue; // a gap between dashes
            }
            for y in &rows {
                assert!(
                    (*y as f64 - y_median).abs() <= 5.0,
                    "day {j}: cases-coloured pixel at row {y}; the median {m:.0} maps to \
                     {y_median:.0}, the model curve {:.0} to {y_model:.0}",
                    forecast.cases[j]
                );
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn the_dashed_forecast_is_the_published_median_not_the_model() {
    let (data, result, mut forecast) = outbreak(RegionKey::country("Italy"), TRAIN, 0, FORECAST);
    // Intervals whose median is a fifth of the model curve: a third of a
    // decade below it, tens of pixels apart on the log axis.
    let mut iv = intervals(&forecast, 1.5);
    for day in iv.values.iter_mut().flatten() {
        day.iter_mut().for_each(|v| *v /= 5.0);
    }
    forecast.intervals = Some(iv.clone());
    // The series the plot draws is the median, from the last observation.
    let line = plot::forecast_line(&data, &forecast, Target::Cases);
    assert_eq!(line.len(), FORECAST + 1);
    assert_eq!(line[0], (data.dates[TRAIN - 1], data.cases[TRAIN - 1]));
    let median = iv.quantile(Target::Cases, 0.5).unwrap();
    for ((d, v), (date, m)) in line[1..].iter().zip(iv.dates.iter().zip(&median)) {
        assert_eq!((d, v), (date, m));
    }
    // And that is where the dashes are.
    let img = render(&data, &result, &forecast);
    let checked = dashed_line_is_the_median(&img, &forecast, &median, [5, TRAIN - 5]);
    assert!(checked >= 8, "only {checked} columns with dashes");
}

#[test]
fn jiangsu_plot_draws_the_median_of_forecast_quantiles_csv() {
    let Some(dir) = crate::common::shared_data() else {
        return;
    };
    let ds = seird_fit::data::load(&dir.join("jhu"), &Default::default()).unwrap();
    let series = ds.find("China", Some("Jiangsu")).unwrap();
    let data = series.training_data(&Default::default()).unwrap();
    let result = seird_fit::fit::fit(&data, &seird_fit::fit::FitConfig::default()).unwrap();
    let (forecast, block) = seird_fit::forecast::forecast_with_intervals(
        &data,
        &result,
        &seird_fit::forecast::ForecastOptions::default(),
    )
    .unwrap();
    let result = seird_fit::fit::FitResult {
        forecast: Some(block),
        ..result
    };
    let tmp = tempfile::tempdir().unwrap();
    seird_fit::report::write_region(tmp.path(), &data, &result, &forecast).unwrap();
    // forecast_quantiles.csv's 0.5 rows of cumulative cases, by date.
    let csv = std::fs::read_to_string(tmp.path().join("forecast_quantiles.csv")).unwrap();
    let published: Vec<(String, f64)> = csv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1] == "cases" && f[2] == "0.5").then(|| (f[0].to_string(), f[3].parse().unwrap()))
        })
        .collect();
    assert_eq!(published.len(), 28);
    let line = plot::forecast_line(&data, &forecast, Target::Cases);
    assert_eq!(line.len(), 29, "the origin and 28 days");
    for ((d, v), (date, m)) in line[1..].iter().zip(&published) {
        assert_eq!(d.to_string(), *date);
        assert!((v - m).abs() <= 5e-4, "{date}: plotted {v}, published {m}");
    }
    // The model curve ends far from the median here (~3k against ~650), so
    // a plot that drew the curve dashed would put its dashes elsewhere.
    let n = forecast.dates.len();
    assert!(forecast.cases[n - 1] > 2.0 * published[27].1);
    let median: Vec<f64> = published.iter().map(|p| p.1).collect();
    let img = render(&data, &result, &forecast);
    // Reference days: early (the model flat near 1) and the last training day.
    let t = forecast.train_days;
    let checked = dashed_line_is_the_median(&img, &forecast, &median, [t - 120, t - 3]);
    assert!(checked >= 6, "only {checked} columns with dashes");
}

#[test]
fn single_digit_counts_show_model_band_and_zeros_in_the_daily_panel() {
    // A county: a case every 8 days, one death on day 20; the model adds
    // 0.125 cases and 0.02 deaths a day, all below 1 a day.
    let (mut data, result, mut forecast) =
        outbreak(RegionKey::country("Kenedy"), TRAIN, HELD, FORECAST);
    let obs_cases = |t: usize| (1 + t / 8) as f64;
    let obs_deaths = |t: usize| if t >= 20 { 1.0 } else { 0.0 };
    data.cases = (0..TRAIN).map(obs_cases).collect();
    data.deaths = (0..TRAIN).map(obs_deaths).collect();
    data.held_out_cases = (TRAIN..TRAIN + HELD).map(obs_cases).collect();
    data.held_out_deaths = (TRAIN..TRAIN + HELD).map(obs_deaths).collect();
    let n = forecast.dates.len();
    forecast.cases = (0..n).map(|t| 1.0 + 0.125 * t as f64).collect();
    forecast.deaths = (0..n).map(|t| 0.02 * t as f64).collect();
    forecast.trajectory.d = forecast.deaths.clone();
    let plain = render(&data, &result, &forecast);
    let [_, mid, _] = plain.panels();
    for (what, rgb) in [("cases", CASES), ("deaths", DEATHS)] {
        let px = plain.count(rgb, mid.0, mid.1);
        assert!(px > 400, "daily model {what}: {px} px");
    }
    // Days without a new death stay on the zero row.
    assert!(plain.count(DEATHS_OBS, mid.0, mid.1) > 200, "daily zeros");
    // Bands from the model's daily values (0.125 and 0.02) down to a third
    // of them: on the axis, in the daily panel's forecast days.
    forecast.intervals = Some(intervals(&forecast, 3.0));
    let banded = render(&data, &result, &forecast);
    let band_px = (mid.0..mid.1)
        .flat_map(|y| (0..plain.w - LEGEND).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let (a, b) = (plain.at(x, y), banded.at(x, y));
            a != b && b != CASES && b != DEATHS
        })
        .count();
    assert!(band_px > 2_000, "daily band: {band_px} px");
}

#[test]
fn profile_verdicts_stay_inside_their_panels() {
    use seird_fit::fit::identify::{Identifiability, Profile, Profiles};
    use seird_fit::model::PARAM_NAMES;
    use seird_fit::report::profile_plot;
    let (_, result, _) = outbreak(RegionKey::country("Italy"), TRAIN, HELD, FORECAST);
    let lo = result.config.bounds.lower.to_array();
    let hi = result.config.bounds.upper.to_array();
    let x = result.params.to_array();
    // The longest words there are: not identifiable, closed on one side
    // ("... the data do not determine it (at least 0.716)", Korea's L).
    let params = PARAM_NAMES
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let a = lo[j] + 0.1234 * (hi[j] - lo[j]);
            Profile {
                name,
                points: vec![(a, 2.0), (x[j], 1.0), (hi[j], 1.1)],
                interval: [a, hi[j]],
                status: Identifiability::NotIdentifiable,
            }
        })
        .collect();
    let profiles = Profiles {
        params,
        loss: 1.0,
        threshold: 1.5,
        n_eff: 10.0,
    };
    let (w, h) = profile_plot::PROFILES_SIZE;
    let img = Image {
        w,
        h,
        px: profile_plot::render_profiles_rgb(&profiles, &result).unwrap(),
    };
    // The verdict's brown (170, 60, 0), anti-aliased towards white: red
    // well above blue. The heads hold only it and the black title.
    let brownish = |p: [u8; 3]| p[0] as i32 - p[2] as i32 > 60;
    let (pw, ph) = (w / 4, h / 2);
    for (k, name) in PARAM_NAMES.iter().enumerate() {
        let (x0, y0) = ((k as u32 % 4) * pw, (k as u32 / 4) * ph);
        let xs: Vec<u32> = (y0..y0 + 46)
            .flat_map(|y| (x0..(x0 + pw + 60).min(w)).map(move |x| (x, y)))
            .filter(|&(x, y)| brownish(img.at(x, y)))
            .map(|(x, _)| x)
            .collect();
        assert!(!xs.is_empty(), "{name}: no verdict drawn");
        let right = *xs.iter().max().unwrap();
        assert!(
            right + 4 < x0 + pw,
            "{name}: verdict runs to x = {right}, past its panel's edge {}",
            x0 + pw
        );
    }
}

#[test]
fn the_thumbnail_dashes_the_published_median_too() {
    let (data, _, mut forecast) = outbreak(RegionKey::country("Italy"), TRAIN, 0, FORECAST);
    let iv = intervals(&forecast, 1.5);
    forecast.intervals = Some(iv.clone());
    let at_model = plot::thumbnail_svg(&data, &forecast).unwrap();
    // A median a fifth of the model's: the dashes move, nothing else does.
    let mut low = iv;
    for day in low.values.iter_mut().flatten() {
        day.iter_mut().for_each(|v| *v /= 5.0);
    }
    forecast.intervals = Some(low);
    let at_fifth = plot::thumbnail_svg(&data, &forecast).unwrap();
    assert_ne!(at_model, at_fifth, "the thumbnail ignores the median");
    // The first difference is in the cases' dashes: their observed and
    // model lines (the first two polylines) are identical.
    let common = at_model
        .bytes()
        .zip(at_fifth.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let third = at_model.match_indices("<polyline").nth(2).unwrap().0;
    assert!(
        common >= third,
        "differs from byte {common}, before {third}"
    );
}
