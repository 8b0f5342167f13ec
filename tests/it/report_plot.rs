//! The region plot, decoded pixel by pixel: its three panels (cumulative,
//! daily, reproduction numbers), the forecast bands drawn from
//! `fit::Intervals` (hand-made here, so where they must appear is known),
//! and zeros that a log axis would otherwise hide.

use crate::report_common::*;

use seird_fit::data::RegionKey;
use seird_fit::fit::{Intervals, HUB_LEVELS};
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
    let mut changed = |spread: f64| {
        forecast.intervals = Some(intervals(&forecast, spread));
        let banded = render(&data, &result, &forecast);
        let mut per_panel = [0usize; 3];
        for y in 0..plain.h {
            for x in 0..plain.w - LEGEND {
                if plain.at(x, y) != banded.at(x, y) {
                    // The forecast line (3 px wide) starts at the last
                    // training day: with bands it is their median, which
                    // leaves that point in another direction than the
                    // model curve, so its stroke may differ a few pixels
                    // before the shade.
                    assert!(
                        x + 4 >= fc_x,
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
