//! Rolling-origin evaluation (`seird-fit backtest`): at each origin, fit a
//! region on the data up to that day only, forecast, and score the forecast
//! and the persistence baseline against what happened next.
//!
//! One region is one unit of work ([`region_rows`]): its fits are cached by
//! training window ([`FitCache`]), so an origin's pseudo-origins, which are
//! often earlier origins, are fitted once. [`summarize`] pools the rows by
//! target and horizon.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{baseline, predict, score, FitCache, ForecastOptions, Method};
use crate::data::{RegionSeries, WindowOptions};
use crate::fit::{FitConfig, Target, HUB_LEVELS};

/// What a backtest evaluates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestSettings {
    /// Forecast origins (last training days).
    pub origins: Vec<NaiveDate>,
    /// Horizons scored, in days.
    pub horizons: Vec<usize>,
    /// The forecast methods compared (each scored on the same fits) and
    /// their calibration (`forecast.method` is ignored).
    pub methods: Vec<Method>,
    /// The calibration settings.
    pub forecast: ForecastOptions,
    /// The fit configuration.
    pub config: FitConfig,
    /// Seed of the baseline's sample paths.
    pub seed: u64,
    /// Sample paths per baseline forecast.
    pub baseline_samples: usize,
}

/// One region x origin x target x horizon: the forecast, the baseline and
/// their scores. A row of `backtest.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// `Country` or `Country/Province`.
    pub region: String,
    /// The origin (last training day).
    pub origin: NaiveDate,
    /// The forecast method.
    pub method: Method,
    /// `cases`, `deaths`, `new_cases` or `new_deaths`.
    pub target: Target,
    /// Days after the origin.
    pub horizon: usize,
    /// The day forecast.
    pub date: NaiveDate,
    /// What was observed that day.
    pub observed: f64,
    /// The forecast's point value (its median).
    pub point: f64,
    /// 5 % quantile.
    pub q05: f64,
    /// 25 % quantile.
    pub q25: f64,
    /// 75 % quantile.
    pub q75: f64,
    /// 95 % quantile.
    pub q95: f64,
    /// Persistence: the last 7 days' mean daily increase, continued.
    pub baseline_point: f64,
    /// `|log1p(observed) - log1p(point)|`.
    pub abs_log_error: f64,
    /// The same for the baseline.
    pub baseline_abs_log_error: f64,
    /// Observed inside the 50 % interval.
    pub covered_50: bool,
    /// Observed inside the 90 % interval.
    pub covered_90: bool,
    /// The same for the baseline's 50 % interval.
    pub baseline_covered_50: bool,
    /// The same for the baseline's 90 % interval.
    pub baseline_covered_90: bool,
    /// Weighted interval score (23 quantiles, counts).
    pub wis: f64,
    /// The baseline's WIS.
    pub baseline_wis: f64,
    /// WIS on the log1p scale (quantiles and observation transformed).
    pub wis_log: f64,
    /// The baseline's WIS on the log1p scale.
    pub baseline_wis_log: f64,
    /// Probability integral transform of the observation.
    pub pit: f64,
    /// The 50 % interval's coverage with ties split
    /// ([`score::covered_randomized`]): 0 or 1 except where the observation
    /// equals quantiles (e.g. no new deaths forecast and none observed).
    #[serde(default)]
    pub covered_50_randomized: f64,
    /// The same for the 90 % interval.
    #[serde(default)]
    pub covered_90_randomized: f64,
    /// The same for the baseline's 50 % interval.
    #[serde(default)]
    pub baseline_covered_50_randomized: f64,
    /// The same for the baseline's 90 % interval.
    #[serde(default)]
    pub baseline_covered_90_randomized: f64,
}

/// Why a region x origin was not scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skip {
    /// The origin.
    pub origin: NaiveDate,
    /// Why.
    pub reason: String,
}

/// A stable 64-bit hash (FNV-1a), so seeds derived from names do not depend
/// on the standard library's randomised hasher.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The baseline seed of one region, origin and target.
pub fn baseline_seed(seed: u64, region: &str, origin: NaiveDate, cum: usize) -> u64 {
    seed ^ fnv(format!("{region}|{origin}|{cum}").as_bytes())
}

/// Every row of one region, and the origins it could not be scored at.
/// Each origin sees only the data up to itself (cut by
/// [`RegionSeries::training_data`] with `end = origin`); the days after it
/// are used only to score.
pub fn region_rows(
    series: &RegionSeries,
    window: &WindowOptions,
    s: &BacktestSettings,
) -> (Vec<Row>, Vec<Skip>) {
    let region = series.key.display_name();
    let h = s.horizons.iter().copied().max().unwrap_or(0);
    let mut cache = FitCache::default();
    let mut rows = Vec::new();
    let mut skips = Vec::new();
    let levels = &HUB_LEVELS;
    for &origin in &s.origins {
        let mut w = window.clone();
        w.end = Some(origin);
        let skip = |reason: String| Skip { origin, reason };
        let data = match series.training_data(&w) {
            Ok(d) => d,
            Err(e) => {
                skips.push(skip(crate::error::cause_chain(&e)));
                continue;
            }
        };
        let n = data.dates.len();
        if data.dates[n - 1] != origin {
            skips.push(skip(format!("the data end before the origin {origin}")));
            continue;
        }
        // Only methods that use the model need the fit; the others are
        // scored whether or not it would have converged.
        let main = if s.methods.iter().any(|m| m.uses_model()) {
            match cache.path(&data, &s.config, h) {
                Ok(p) => p,
                Err(e) => {
                    skips.push(skip(format!("fit failed: {e}")));
                    continue;
                }
            }
        } else {
            super::ModelPath {
                cases: Vec::new(),
                deaths: Vec::new(),
            }
        };
        for &method in &s.methods {
            let opts = ForecastOptions {
                method,
                ..s.forecast
            };
            let pred = predict(&data, &main, &s.config, &opts, h, &mut cache);
            for (ti, target) in Target::ALL.into_iter().enumerate() {
                let cum = ti % 2;
                let series_cum = if cum == 0 { &data.cases } else { &data.deaths };
                let held = if cum == 0 {
                    &data.held_out_cases
                } else {
                    &data.held_out_deaths
                };
                let seed = baseline_seed(s.seed, &region, origin, cum);
                let (bq_cum, bq_daily) =
                    baseline::quantiles(series_cum, h, levels, s.baseline_samples, seed);
                let persist = baseline::persistence(series_cum, h);
                let rate = baseline::recent_rate(series_cum);
                for &hz in &s.horizons {
                    if hz == 0 || hz > data.held_out_dates.len() {
                        continue;
                    }
                    let date = origin + chrono::Duration::days(hz as i64);
                    if data.held_out_dates[hz - 1] != date {
                        continue;
                    }
                    let prev = if hz == 1 {
                        series_cum[n - 1]
                    } else {
                        held[hz - 2]
                    };
                    let (y, bpoint, bq) = if ti < 2 {
                        (held[hz - 1], persist[hz - 1], &bq_cum[hz - 1])
                    } else {
                        (held[hz - 1] - prev, rate, &bq_daily[hz - 1])
                    };
                    let q = &pred.intervals.of(target)[hz - 1];
                    let at = |l: f64| {
                        levels
                            .iter()
                            .position(|x| (x - l).abs() < 1e-9)
                            .map_or(f64::NAN, |j| q[j])
                    };
                    let logq: Vec<f64> = q.iter().map(|v| v.max(0.0).ln_1p()).collect();
                    let logb: Vec<f64> = bq.iter().map(|v| v.max(0.0).ln_1p()).collect();
                    let ly = y.max(0.0).ln_1p();
                    let point = at(0.5);
                    rows.push(Row {
                        region: region.clone(),
                        origin,
                        method,
                        target,
                        horizon: hz,
                        date,
                        observed: y,
                        point,
                        q05: at(0.05),
                        q25: at(0.25),
                        q75: at(0.75),
                        q95: at(0.95),
                        baseline_point: bpoint,
                        abs_log_error: score::abs_log_error(y, point),
                        baseline_abs_log_error: score::abs_log_error(y, bpoint),
                        covered_50: score::covered(levels, q, y, 0.5).unwrap_or(false),
                        covered_90: score::covered(levels, q, y, 0.9).unwrap_or(false),
                        baseline_covered_50: score::covered(levels, bq, y, 0.5).unwrap_or(false),
                        baseline_covered_90: score::covered(levels, bq, y, 0.9).unwrap_or(false),
                        wis: score::wis(levels, q, y).unwrap_or(f64::NAN),
                        baseline_wis: score::wis(levels, bq, y).unwrap_or(f64::NAN),
                        wis_log: score::wis(levels, &logq, ly).unwrap_or(f64::NAN),
                        baseline_wis_log: score::wis(levels, &logb, ly).unwrap_or(f64::NAN),
                        pit: score::pit(levels, q, y),
                        covered_50_randomized: score::covered_randomized(levels, q, y, 0.5)
                            .unwrap_or(f64::NAN),
                        covered_90_randomized: score::covered_randomized(levels, q, y, 0.9)
                            .unwrap_or(f64::NAN),
                        baseline_covered_50_randomized: score::covered_randomized(
                            levels, bq, y, 0.5,
                        )
                        .unwrap_or(f64::NAN),
                        baseline_covered_90_randomized: score::covered_randomized(
                            levels, bq, y, 0.9,
                        )
                        .unwrap_or(f64::NAN),
                    });
                }
            }
        }
    }
    (rows, skips)
}

/// Pooled scores of one target at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The forecast method.
    pub method: Method,
    /// Which target.
    pub target: Target,
    /// Days after the origin.
    pub horizon: usize,
    /// Region x origin pairs scored.
    pub n: usize,
    /// Median absolute log1p error of the forecast.
    pub median_abs_log_error: f64,
    /// The same for persistence.
    pub baseline_median_abs_log_error: f64,
    /// Their ratio (below 1: the forecast is better).
    pub abs_log_error_ratio: f64,
    /// Share of rows where the forecast's error is below persistence's.
    pub beats_baseline: f64,
    /// Empirical coverage of the 50 % interval.
    pub coverage_50: f64,
    /// Empirical coverage of the 90 % interval.
    pub coverage_90: f64,
    /// The baseline's 50 % coverage.
    pub baseline_coverage_50: f64,
    /// The baseline's 90 % coverage.
    pub baseline_coverage_90: f64,
    /// Mean WIS.
    pub mean_wis: f64,
    /// The baseline's mean WIS.
    pub baseline_mean_wis: f64,
    /// Mean WIS over the baseline's (below 1: better), as the Forecast Hub
    /// reports it; the large regions weigh most.
    pub relative_wis: f64,
    /// The same ratio on the log1p scale, where every region counts alike.
    pub relative_wis_log: f64,
    /// PIT histogram: counts in 10 equal bins.
    pub pit_histogram: [usize; 10],
    /// Coverage of the 50 % interval with ties split (the mean of
    /// [`Row::covered_50_randomized`]): what a calibrated count forecast
    /// brings to the nominal level.
    #[serde(default)]
    pub coverage_50_randomized: f64,
    /// The same for the 90 % interval.
    #[serde(default)]
    pub coverage_90_randomized: f64,
    /// The baseline's 50 % coverage with ties split.
    #[serde(default)]
    pub baseline_coverage_50_randomized: f64,
    /// The baseline's 90 % coverage with ties split.
    #[serde(default)]
    pub baseline_coverage_90_randomized: f64,
    /// Share of rows whose 50 % interval is a single value equal to the
    /// observation (a tie: typically no new deaths, forecast and observed).
    #[serde(default)]
    pub ties_50: f64,
}

/// Pools `rows` by method, target and horizon (methods in the order
/// given, targets in [`Target::ALL`] order).
pub fn summarize(rows: &[Row], methods: &[Method], horizons: &[usize]) -> Vec<Cell> {
    let mut out = Vec::new();
    for &method in methods {
        for target in Target::ALL {
            for &h in horizons {
                let sel: Vec<&Row> = rows
                    .iter()
                    .filter(|r| r.method == method && r.target == target && r.horizon == h)
                    .collect();
                let n = sel.len();
                let mean = |f: &dyn Fn(&Row) -> f64| {
                    if n == 0 {
                        f64::NAN
                    } else {
                        sel.iter().map(|r| f(r)).sum::<f64>() / n as f64
                    }
                };
                let med = |f: &dyn Fn(&Row) -> f64| {
                    let mut v: Vec<f64> = sel.iter().map(|r| f(r)).collect();
                    v.sort_by(f64::total_cmp);
                    baseline::sample_quantile(&v, 0.5)
                };
                let share = |f: &dyn Fn(&Row) -> bool| {
                    if n == 0 {
                        f64::NAN
                    } else {
                        sel.iter().filter(|r| f(r)).count() as f64 / n as f64
                    }
                };
                let mut pit = [0usize; 10];
                for r in &sel {
                    if r.pit.is_finite() {
                        pit[((r.pit * 10.0).floor() as usize).min(9)] += 1;
                    }
                }
                let (ma, mb) = (
                    med(&|r| r.abs_log_error),
                    med(&|r| r.baseline_abs_log_error),
                );
                let (wa, wb) = (mean(&|r| r.wis), mean(&|r| r.baseline_wis));
                let (la, lb) = (mean(&|r| r.wis_log), mean(&|r| r.baseline_wis_log));
                out.push(Cell {
                    method,
                    target,
                    horizon: h,
                    n,
                    median_abs_log_error: ma,
                    baseline_median_abs_log_error: mb,
                    abs_log_error_ratio: ma / mb,
                    beats_baseline: share(&|r| r.abs_log_error < r.baseline_abs_log_error),
                    coverage_50: share(&|r| r.covered_50),
                    coverage_90: share(&|r| r.covered_90),
                    baseline_coverage_50: share(&|r| r.baseline_covered_50),
                    baseline_coverage_90: share(&|r| r.baseline_covered_90),
                    mean_wis: wa,
                    baseline_mean_wis: wb,
                    relative_wis: wa / wb,
                    relative_wis_log: la / lb,
                    pit_histogram: pit,
                    coverage_50_randomized: mean(&|r| r.covered_50_randomized),
                    coverage_90_randomized: mean(&|r| r.covered_90_randomized),
                    baseline_coverage_50_randomized: mean(&|r| r.baseline_covered_50_randomized),
                    baseline_coverage_90_randomized: mean(&|r| r.baseline_covered_90_randomized),
                    ties_50: share(&|r| r.q25 == r.q75 && r.q25 == r.observed),
                });
            }
        }
    }
    out
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BacktestSummary {
    /// The settings of the run.
    pub settings: BacktestSettings,
    /// Regions evaluated (with at least one scored origin).
    pub regions: usize,
    /// Region x origin pairs scored.
    pub forecasts: usize,
    /// Region x origin pairs skipped (no fit possible, data too short, ...).
    pub skipped: usize,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Pooled scores by target and horizon.
    pub cells: Vec<Cell>,
}
