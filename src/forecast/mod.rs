//! How a fit becomes a forecast, with honest uncertainty: the point forecast
//! methods ([`Method`]), their calibrated quantiles ([`predict`]), the
//! persistence baseline ([`baseline`]), the scores ([`score`]) and the
//! rolling-origin evaluation behind `seird-fit backtest` ([`backtest`]).
//!
//! The fitted model and its loss are untouched: this module only decides what
//! the fit says about the days after the training window.
//!
//! **Calibration without look-ahead.** The intervals come from the tool's own
//! past errors: the same region is refitted, with the same configuration, at
//! pseudo-origins `spacing`, `2 spacing`, ... days before the origin, each of
//! those fits forecasts the days up to the origin, and the log errors of those
//! forecasts, by horizon, give the spread (and the bias correction) of the
//! forecast made at the origin. Everything is cut from the training window
//! itself ([`TrainingData::dates`], never the held-out days), so nothing after
//! the origin can reach a forecast or its interval. They cover parameter and
//! structural error alike, since both show in past errors. No randomness.

pub mod backtest;
pub mod baseline;
pub mod score;
pub mod trend;

use std::collections::HashMap;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::data::TrainingData;
use crate::error::FitError;
use crate::fit::{
    self, FitConfig, FitResult, Forecast, ForecastReport, HorizonQuantiles, Intervals, Target,
    HUB_LEVELS,
};

/// How a fit becomes a point forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The fitted curve itself, as the prior art forecasts (it need not pass
    /// through the last observation).
    Model,
    /// The last observation plus the model's increments after the origin.
    Anchored,
    /// The last observation plus the model's increments rescaled so that
    /// its last week's mean daily increase matches the observed one: the
    /// model supplies the shape (acceleration, saturation), the data the level
    /// and the current rate.
    Scaled,
    /// The last observation plus a blend of the scaled model increments
    /// ([`Method::Scaled`]) and the persistence baseline's, weighted by each
    /// one's skill at earlier pseudo-origins of the same region.
    Blend,
    /// No model: the last observation plus the data-only increases of
    /// [`trend`] (a damped trend of the weekly rate for cases, the lagged
    /// cases for deaths), calibrated on daily pseudo-origins that need no
    /// refit.
    Trend,
    /// The last observation plus a blend of the scaled model increments and
    /// [`Method::Trend`]'s, weighted by skill at earlier pseudo-origins.
    Ensemble,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 6] = [
        Method::Model,
        Method::Anchored,
        Method::Scaled,
        Method::Blend,
        Method::Trend,
        Method::Ensemble,
    ];

    /// The name on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Method::Model => "model",
            Method::Anchored => "anchored",
            Method::Scaled => "scaled",
            Method::Blend => "blend",
            Method::Trend => "trend",
            Method::Ensemble => "ensemble",
        }
    }

    /// Whether the forecast uses the fitted model (and so its calibration
    /// refits the region at each pseudo-origin).
    pub fn uses_model(self) -> bool {
        self != Method::Trend
    }

    /// Whether the model's increments are blended with a data-only
    /// member by a skill weight.
    fn blends(self) -> bool {
        matches!(self, Method::Blend | Method::Ensemble)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown forecast method '{s}' (model, anchored, scaled, blend, trend, ensemble)"
                )
            })
    }
}

/// Forecast settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastOptions {
    /// The point forecast method.
    pub method: Method,
    /// How many earlier pseudo-origins calibrate the intervals (each one
    /// fit of the region).
    pub calibration_origins: usize,
    /// Days between pseudo-origins.
    pub calibration_spacing: usize,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        ForecastOptions {
            method: Method::Trend,
            calibration_origins: 8,
            calibration_spacing: 7,
        }
    }
}

/// The fewest training days a pseudo-origin's fit gets.
pub const MIN_CALIBRATION_DAYS: usize = 14;

/// Laplace scale (log1p units) assumed at 7 days when a region has no
/// pseudo-origin to calibrate on (too short a series); the intervals say
/// `calibrated: false`. Wide on purpose: the 90 % interval spans a factor
/// of 5 either way.
const UNCALIBRATED_B_7: f64 = 0.7;

/// Largest Laplace scale (log1p units) of the intervals. A region whose
/// reports stop for a week and then arrive in one lump has past log errors
/// of 5 to 10, and the scale they imply would put the 99 % quantile at
/// e^40 times the forecast (measured: relative WIS of 1e9 on the backtest);
/// at 1 the 90 % interval spans a factor 5 of the forecast increase either
/// way and the 99 % a factor 50.
const MAX_B: f64 = 1.0;

/// How much narrower than the Laplace law the centre of the error law is
/// (see [`offsets`]). Past errors are more peaked than a Laplace law whose
/// scale matches their median: measured on the JHU backtest with the
/// `trend` method, pure Laplace quantiles covered 65 % (cases, 7 days) for
/// the 50 % interval and 93 % for the 90 %; with a core of 0.6, 53 % and
/// 92 %, and the WIS fell by 5-8 %. Once cumulative quantiles were floored
/// at the last observation (a count does not fall), 0.6 covered 45 % with
/// ties split ([`score::covered_randomized`]); 0.66 covers 53 % raw and 47 %
/// split (cases, 7 days), the WIS unchanged to 0.01.
const CORE: f64 = 0.66;

/// [`CORE`] at 28 days and beyond (linear from 7 days): at long horizons
/// the past errors are fewer and older, and their centre is less peaked.
/// Measured on the JHU backtest with `trend` (origins 2020-04-15 + 14 k;
/// checked on 2020-04-22 + 14 k): with a core of 0.6 at every horizon the
/// cases' 50 % interval covered 41 % at 28 days (42 %), with the Laplace
/// law's own centre (1.0) at 28 days 52 % raw and 47 % with ties split
/// (52 %, 47 %); the 7-day intervals are unchanged.
const CORE_28: f64 = 1.0;

/// Tail factor of the deaths' intervals: the levels outside the core are
/// narrowed towards [`CORE`] by this much less than the Laplace law (1 is
/// the Laplace tail). Deaths' past errors have lighter tails than cases':
/// measured as for [`CORE_28`], Laplace tails covered 93 % for the 90 %
/// interval at 7 days and the WIS was 1.13 times the baseline's; with 0.8,
/// 94 % (the activity filter below also acting) and 0.97.
const DEATHS_TAIL: f64 = 0.8;

/// A pseudo-origin whose target's weekly rate was below this share of the
/// origin's does not calibrate that target's intervals, once
/// [`MIN_KEPT`] pseudo-origins have. Log errors at counts ten times smaller
/// are mostly small-count noise and early explosive growth, and would
/// widen today's interval (measured: the US deaths' 7-day interval at
/// 2020-04-15 spanned 37 k-185 k for an outcome of 50 k, calibrated on
/// March). With it the deaths' 7-day WIS fell from 1.13 to 1.03 times the
/// baseline's.
pub const MIN_ACTIVITY: f64 = 0.3;

/// Pseudo-origins kept whatever their activity (the most recent ones).
pub const MIN_KEPT: usize = 14;

/// Largest factor [`Method::Scaled`] applies to the model's increments.
const MAX_SCALE: f64 = 10.0;

/// The fitted model's cumulative cases and deaths from the first training
/// day, over the training days and some days after.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPath {
    /// Cumulative cases per day.
    pub cases: Vec<f64>,
    /// Cumulative deaths per day.
    pub deaths: Vec<f64>,
}

impl ModelPath {
    /// The path of `target` (cases or deaths; daily targets use the cumulative one).
    fn of(&self, cum: usize) -> &[f64] {
        if cum == 0 {
            &self.cases
        } else {
            &self.deaths
        }
    }
}

/// Fits made for one region, by training window, so a backtest fits each
/// window once however many origins use it as a pseudo-origin. An entry is
/// reused only when the window's data are bit-identical.
#[derive(Debug, Default)]
pub struct FitCache {
    map: HashMap<(NaiveDate, usize, usize), CacheEntry>,
    /// Fits run.
    pub fits: usize,
    /// Fits reused.
    pub hits: usize,
}

#[derive(Debug)]
struct CacheEntry {
    cases: Vec<f64>,
    deaths: Vec<f64>,
    path: Result<ModelPath, String>,
}

impl FitCache {
    /// The model path of `data`'s fit over its days plus `h`, fitting it
    /// if needed. A failed fit is remembered as its message.
    pub fn path(
        &mut self,
        data: &TrainingData,
        config: &FitConfig,
        h: usize,
    ) -> Result<ModelPath, String> {
        let key = (data.dates[0], data.dates.len(), h);
        if let Some(e) = self.map.get(&key) {
            if e.cases == data.cases && e.deaths == data.deaths {
                self.hits += 1;
                return e.path.clone();
            }
        }
        self.fits += 1;
        let path = fit_path(data, config, h).map_err(|e| crate::error::cause_chain(&e));
        self.map.insert(
            key,
            CacheEntry {
                cases: data.cases.clone(),
                deaths: data.deaths.clone(),
                path: path.clone(),
            },
        );
        path
    }
}

/// Fits `data` and runs the fit `h` days past its window.
pub fn fit_path(data: &TrainingData, config: &FitConfig, h: usize) -> Result<ModelPath, FitError> {
    let result = fit::fit(data, config)?;
    let mut c = *config;
    c.forecast_days = h;
    let f = fit::forecast(data, &result.params, &c)?;
    Ok(ModelPath {
        cases: f.cases,
        deaths: f.deaths,
    })
}

/// The first `n` training days of `data`, as a fit at that earlier origin
/// would have seen them (no held-out days: they are not needed).
pub fn prefix(data: &TrainingData, n: usize) -> TrainingData {
    TrainingData {
        key: data.key.clone(),
        population: data.population,
        dates: data.dates[..n].to_vec(),
        cases: data.cases[..n].to_vec(),
        deaths: data.deaths[..n].to_vec(),
        held_out_dates: Vec::new(),
        held_out_cases: Vec::new(),
        held_out_deaths: Vec::new(),
        decline_days: data.decline_days,
        decline_policy: data.decline_policy,
    }
}

/// A forecast's point values and calibrated quantiles for days 1..=h after
/// the origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The quantiles (levels [`HUB_LEVELS`]).
    pub intervals: Intervals,
    /// The method's raw point forecast per target (before the bias
    /// correction the median carries), `[target][day]`.
    pub point: [Vec<f64>; 4],
    /// Blend weight of the model per cumulative target (cases, deaths).
    pub blend_weights: Option<[f64; 2]>,
    /// Pseudo-origins whose fits calibrated the intervals.
    pub pseudo_origins: usize,
}

/// The method's cumulative point forecast for days 1..=h of one cumulative
/// target (0 cases, 1 deaths), from a model path over data of `n` days
/// whose last observation is `last`; `rate` is the persistence rate.
fn cum_point(
    method: Method,
    path: Option<&[f64]>,
    n: usize,
    last: f64,
    rate: f64,
    partner: &[f64],
    w: f64,
) -> Vec<f64> {
    let Some(path) = path.filter(|_| method.uses_model()) else {
        return partner.iter().map(|p| last + p).collect();
    };
    let base = path[n - 1];
    // The model's own mean daily increase over the same last days as
    // `rate`; below a hundredth of a person a day there is no shape to scale.
    let w7 = 7.min(n - 1);
    let model_rate = if w7 > 0 {
        (base - path[n - 1 - w7]) / w7 as f64
    } else {
        0.0
    };
    // Capped: a model whose last week is nearly flat would otherwise turn
    // a small observed rate into an explosive forecast.
    let scale = if model_rate > 0.01 {
        (rate / model_rate).min(MAX_SCALE)
    } else {
        1.0
    };
    // The partner's increases set the horizon.
    (1..=partner.len())
        .map(|d| {
            let m = path[n - 1 + d];
            match method {
                Method::Model => m,
                Method::Anchored => last + (m - base).max(0.0),
                Method::Scaled => last + scale * (m - base).max(0.0),
                Method::Blend | Method::Ensemble => {
                    last + w * scale * (m - base).max(0.0) + (1.0 - w) * partner[d - 1]
                }
                Method::Trend => last + partner[d - 1],
            }
        })
        .collect()
}

/// Daily values of a cumulative forecast whose day 0 is `day0`.
fn daily(cum: &[f64], day0: f64) -> Vec<f64> {
    let mut prev = day0;
    cum.iter()
        .map(|&c| {
            let d = c - prev;
            prev = c;
            d
        })
        .collect()
}

/// Log error of a forecast of target `t` on one day: cumulative targets of
/// the anchored methods are scored on the increase since the origin
/// (`last`), the model's on the level; daily targets on the daily count.
fn log_err(t: usize, method: Method, obs: f64, pred: f64, last: f64) -> f64 {
    let l = |x: f64| x.max(0.0).ln_1p();
    if t < 2 && method != Method::Model {
        l(obs - last) - l(pred - last)
    } else {
        l(obs) - l(pred)
    }
}

/// Inverse of the log error: the value whose error against `pred` is `e`.
fn apply_err(t: usize, method: Method, pred: f64, e: f64, last: f64) -> f64 {
    let l = |x: f64| x.max(0.0).ln_1p();
    if t < 2 && method != Method::Model {
        last + (l(pred - last) + e).exp_m1()
    } else {
        (l(pred) + e).exp_m1().max(0.0)
    }
}

/// One pseudo-origin's ingredients.
struct Past {
    /// Days in its window.
    n: usize,
    /// Its fit's model path (none for methods without the model).
    path: Option<ModelPath>,
}

/// The data-only increases since day `n - 1` (days 1..=h) that `method`
/// blends with, or continues, for cumulative target `c`: the [`trend`]
/// member for [`Method::Trend`] and [`Method::Ensemble`], persistence's
/// `rate * d` otherwise. Uses the first `n` days only.
fn partner(method: Method, data: &TrainingData, n: usize, c: usize, h: usize) -> Vec<f64> {
    match method {
        Method::Trend | Method::Ensemble => {
            let rates = if c == 0 {
                trend::trend_rates(&data.cases[..n], h)
            } else {
                trend::death_rates(&data.deaths[..n], &data.cases[..n], h)
            };
            trend::accumulate(&rates)
        }
        _ => {
            let series = if c == 0 { &data.cases } else { &data.deaths };
            let rate = baseline::recent_rate(&series[..n]);
            (1..=h).map(|d| rate * d as f64).collect()
        }
    }
}

/// Everything the point forecast of a window of `n` days needs, for
/// cumulative target `c`.
fn points_at(
    method: Method,
    data: &TrainingData,
    n: usize,
    path: Option<&ModelPath>,
    w: [f64; 2],
    h: usize,
) -> [Vec<f64>; 4] {
    let mut cum = [Vec::new(), Vec::new()];
    let mut day0 = [0.0; 2];
    for c in 0..2 {
        let series = if c == 0 { &data.cases } else { &data.deaths };
        let last = series[n - 1];
        let rate = baseline::recent_rate(&series[..n]);
        let part = partner(method, data, n, c, h);
        cum[c] = cum_point(method, path.map(|p| p.of(c)), n, last, rate, &part, w[c]);
        day0[c] = match (method, path) {
            (Method::Model, Some(p)) => p.of(c)[n - 1],
            _ => last,
        };
    }
    let dc = daily(&cum[0], day0[0]);
    let dd = daily(&cum[1], day0[1]);
    let [a, b] = cum;
    [a, b, dc, dd]
}

/// Observed value of target `t` on day `i` (0-based index into the window).
fn observed(data: &TrainingData, t: usize, i: usize) -> f64 {
    let s = if t.is_multiple_of(2) {
        &data.cases
    } else {
        &data.deaths
    };
    if t < 2 {
        s[i]
    } else {
        s[i] - s[i - 1]
    }
}

/// The blend weight of the model for cumulative target `c` that would have
/// forecast the pseudo-origins best (least squared log error of the
/// increase, over every horizon they can be checked at), on a grid of 0.05.
fn best_weight(method: Method, data: &TrainingData, pasts: &[Past], c: usize, h: usize) -> f64 {
    if pasts.is_empty() {
        return 0.5;
    }
    let n = data.dates.len();
    let series = if c == 0 { &data.cases } else { &data.deaths };
    // What does not depend on the weight, once per pseudo-origin.
    let fixed: Vec<(f64, f64, Vec<f64>)> = pasts
        .iter()
        .map(|p| {
            let hh = h.min(n - p.n);
            let last = series[p.n - 1];
            let rate = baseline::recent_rate(&series[..p.n]);
            (last, rate, partner(method, data, p.n, c, hh))
        })
        .collect();
    let mut best = (f64::INFINITY, 0.5);
    for g in 0..=20 {
        let w = g as f64 / 20.0;
        let mut sse = 0.0;
        for (p, (last, rate, part)) in pasts.iter().zip(&fixed) {
            let path = p.path.as_ref().map(|q| q.of(c));
            let pts = cum_point(method, path, p.n, *last, *rate, part, w);
            for (d, pt) in pts.iter().enumerate() {
                let e = log_err(c, method, series[p.n + d], *pt, *last);
                sse += e * e;
            }
        }
        // Ties go to the lower weight, found first: persistence is the
        // simpler forecast.
        if sse < best.0 - 1e-12 {
            best = (sse, w);
        }
    }
    best.1
}

/// Median of a non-empty slice (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    baseline::sample_quantile(v, 0.5)
}

/// Error offsets `[day][level]` for one target from its past errors
/// `errs[day]`, centred on 0 (the median is the point forecast): Laplace
/// quantiles `b * ln(2 p)` / `-b * ln(2 (1 - p))` in the log scale, with the
/// scale `b` from the median absolute past error (`median |e| = b ln 2` for a
/// Laplace law; robust to the odd huge error of a week without reports).
/// Past errors are heavy-tailed: measured on the backtest, normal quantiles
/// with the same spread covered 66 % for the 50 % interval; they are also
/// more peaked than a Laplace law, so its central quantiles are narrowed
/// ([`CORE`]). Each horizon
/// pools the errors at horizons within a quarter of it, so a few
/// pseudo-origins give a usable spread; `b` is inflated by `sqrt(1 + 1/m)`
/// for m origins (a predictive, not a fitted, spread) and never shrinks with
/// the horizon; past the calibrated horizons it grows like a random walk's.
fn offsets(errs: &[Vec<f64>], levels: &[f64], tail: f64) -> Vec<Vec<f64>> {
    let h = errs.len();
    let unit_at = |core: f64| -> Vec<f64> {
        levels
            .iter()
            .map(|&p| {
                let p = p.clamp(1e-12, 1.0 - 1e-12);
                let laplace = if p < 0.5 {
                    (2.0 * p).ln()
                } else {
                    -(2.0 * (1.0 - p)).ln()
                };
                // The peaked core: the central interval of coverage c is
                // narrowed by core + (tail - core) c^2 (with CORE and a Laplace
                // tail: the 50 % one by 0.74, the 90 % one by 0.93, the tails
                // barely).
                let c = (2.0 * p - 1.0).abs();
                laplace * (core + (tail - core) * c * c)
            })
            .collect()
    };
    let mut out = Vec::with_capacity(h);
    let mut prev: Option<(f64, usize)> = None; // (b, day)
    for d in 0..h {
        let f = ((d as f64 - 6.0) / 21.0).clamp(0.0, 1.0);
        let unit = unit_at(CORE + (CORE_28 - CORE) * f);
        let r = ((d + 1) / 4).max(1);
        let lo = d.saturating_sub(r);
        let hi = (d + r).min(h - 1);
        let mut pool: Vec<f64> = errs[lo..=hi].iter().flatten().map(|e| e.abs()).collect();
        let m = errs[d].len();
        let b = if m >= 2 && pool.len() >= 3 {
            let b = median(&mut pool) / std::f64::consts::LN_2 * (1.0 + 1.0 / m as f64).sqrt();
            let b = prev.map_or(b, |(pb, _)| b.max(pb)).min(MAX_B);
            prev = Some((b, d));
            b
        } else {
            match prev {
                Some((pb, pd)) => (pb * ((d + 1) as f64 / (pd + 1) as f64).sqrt()).min(MAX_B),
                None => (UNCALIBRATED_B_7 * ((d + 1) as f64 / 7.0).sqrt()).min(MAX_B),
            }
        };
        out.push(unit.iter().map(|&u| b * u).collect());
    }
    out
}

/// The forecast of `data`'s region at its last training day for days
/// 1..=h, from `main` (the model path of the fit of `data`, over at least
/// `n + h` days), with quantiles calibrated on pseudo-origins refitted
/// through `cache`. Uses `data`'s training days only.
pub fn predict(
    data: &TrainingData,
    main: &ModelPath,
    config: &FitConfig,
    opts: &ForecastOptions,
    h: usize,
    cache: &mut FitCache,
) -> Prediction {
    let n = data.dates.len();
    let method = opts.method;
    let spacing = opts.calibration_spacing.max(1);
    let mut pasts = Vec::new();
    if method.uses_model() {
        for k in 1..=opts.calibration_origins {
            let Some(nk) = n.checked_sub(k * spacing) else {
                break;
            };
            if nk < MIN_CALIBRATION_DAYS {
                break;
            }
            // A pseudo-origin whose fit fails is left out; the others suffice.
            if let Ok(path) = cache.path(&prefix(data, nk), config, h) {
                pasts.push(Past {
                    n: nk,
                    path: Some(path),
                });
            }
        }
    } else {
        // Without a model a pseudo-origin costs no fit: one every day over
        // the same span as the refits'.
        for k in 1..=opts.calibration_origins * spacing {
            let Some(nk) = n.checked_sub(k) else {
                break;
            };
            if nk < MIN_CALIBRATION_DAYS {
                break;
            }
            pasts.push(Past { n: nk, path: None });
        }
    }
    let w = if method.blends() {
        [
            best_weight(method, data, &pasts, 0, h),
            best_weight(method, data, &pasts, 1, h),
        ]
    } else {
        [1.0, 1.0]
    };
    // errs[target][day] = past log errors at that horizon.
    let mut errs: [Vec<Vec<f64>>; 4] = std::array::from_fn(|_| vec![Vec::new(); h]);
    let now = [
        baseline::recent_rate(&data.cases[..n]),
        baseline::recent_rate(&data.deaths[..n]),
    ];
    let mut kept = [0usize; 2];
    for p in &pasts {
        let hh = h.min(n - p.n);
        let pts = points_at(method, data, p.n, p.path.as_ref(), w, hh);
        // Which cumulative targets this pseudo-origin calibrates (pasts run
        // from the most recent back).
        let mut keep = [true; 2];
        for (c, k) in keep.iter_mut().enumerate() {
            let series = if c == 0 { &data.cases } else { &data.deaths };
            let then = baseline::recent_rate(&series[..p.n]);
            *k = kept[c] < MIN_KEPT || then >= MIN_ACTIVITY * now[c];
            kept[c] += usize::from(*k);
        }
        for (t, errs_t) in errs.iter_mut().enumerate() {
            if !keep[t % 2] {
                continue;
            }
            let last = observed(data, t % 2, p.n - 1);
            for d in 0..hh {
                let e = log_err(t, method, observed(data, t, p.n + d), pts[t][d], last);
                errs_t[d].push(e);
            }
        }
    }
    let point = points_at(method, data, n, Some(main), w, h);
    let levels = HUB_LEVELS.to_vec();
    let values: [Vec<Vec<f64>>; 4] = std::array::from_fn(|t| {
        let last = observed(data, t % 2, n - 1);
        let off = offsets(
            &errs[t],
            &levels,
            if t % 2 == 0 { 1.0 } else { DEATHS_TAIL },
        );
        let anchored = t < 2 && method != Method::Model;
        let mut prev: Option<Vec<f64>> = None;
        (0..h)
            .map(|d| {
                let mut v: Vec<f64> = off[d]
                    .iter()
                    .map(|&e| apply_err(t, method, point[t][d], e, last))
                    .collect();
                // Rounding can break ties the wrong way; quantiles must not cross.
                for j in 1..v.len() {
                    if v[j] < v[j - 1] {
                        v[j] = v[j - 1];
                    }
                }
                if t < 2 {
                    for (j, x) in v.iter_mut().enumerate() {
                        // An anchored cumulative count does not fall below
                        // its last observation (the log law of the increase
                        // reaches down to -1)...
                        if anchored {
                            *x = x.max(last);
                        }
                        // ...and no cumulative quantile falls with the
                        // horizon: a path that is above a level at day d is
                        // above it at d + 1.
                        if let Some(p) = &prev {
                            *x = x.max(p[j]);
                        }
                    }
                    prev = Some(v.clone());
                }
                v
            })
            .collect()
    });
    let t_end = data.dates[n - 1];
    Prediction {
        intervals: Intervals {
            levels,
            dates: (1..=h as i64)
                .map(|d| t_end + chrono::Duration::days(d))
                .collect(),
            values,
        },
        point,
        blend_weights: method.blends().then_some(w),
        pseudo_origins: pasts.len(),
    }
}

/// The horizons `fit.json` and `report.md` summarise.
pub const SUMMARY_HORIZONS: [usize; 3] = [7, 14, 28];

/// The fit's forecast with intervals: the model run of [`fit::forecast`]
/// (its `cases`/`deaths` stay the fitted curve) with `intervals` filled in
/// by [`predict`], and the `forecast` block of `fit.json`.
pub fn forecast_with_intervals(
    data: &TrainingData,
    result: &FitResult,
    opts: &ForecastOptions,
) -> Result<(Forecast, ForecastReport), FitError> {
    let config = &result.config;
    let mut forecast = fit::forecast(data, &result.params, config)?;
    let h = config.forecast_days;
    let report_base = ForecastReport {
        method: opts.method.name().into(),
        origin: data.dates[data.dates.len() - 1],
        pseudo_origins: 0,
        // Methods without the model calibrate on every day.
        spacing_days: if opts.method.uses_model() {
            opts.calibration_spacing
        } else {
            1
        },
        blend_weights: None,
        calibrated: false,
        horizons: Vec::new(),
    };
    if h == 0 {
        return Ok((forecast, report_base));
    }
    let main = ModelPath {
        cases: forecast.cases.clone(),
        deaths: forecast.deaths.clone(),
    };
    let mut cache = FitCache::default();
    let p = predict(data, &main, config, opts, h, &mut cache);
    let horizons = horizon_quantiles(&p.intervals);
    forecast.intervals = Some(p.intervals);
    Ok((
        forecast,
        ForecastReport {
            pseudo_origins: p.pseudo_origins,
            blend_weights: p.blend_weights,
            calibrated: p.pseudo_origins >= 2,
            horizons,
            ..report_base
        },
    ))
}

/// The 5/25/50/75/95 % quantiles of every target at [`SUMMARY_HORIZONS`].
pub fn horizon_quantiles(iv: &Intervals) -> Vec<HorizonQuantiles> {
    let mut out = Vec::new();
    for &d in &SUMMARY_HORIZONS {
        if d == 0 || d > iv.dates.len() {
            continue;
        }
        for t in Target::ALL {
            let q = |l: f64| iv.quantile(t, l).map(|v| v[d - 1]).unwrap_or(f64::NAN);
            out.push(HorizonQuantiles {
                horizon: d,
                date: iv.dates[d - 1],
                target: t,
                q05: q(0.05),
                q25: q(0.25),
                q50: q(0.5),
                q75: q(0.75),
                q95: q(0.95),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_round_trip() {
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>(), Ok(m));
        }
        assert!("ruler".parse::<Method>().is_err());
    }

    #[test]
    fn offsets_recover_the_quantiles_of_a_known_laplace_sample() {
        // m errors at every horizon, the exact Laplace(0, b) quantiles at
        // (i + 1/2) / m: their median |e| is b ln 2 (m even: the two middle
        // |e| straddle it), so the offsets are the Laplace quantiles, times
        // the predictive inflation sqrt(1 + 1/m) and the core's narrowing.
        let (b, m, h) = (0.2, 40, 10);
        let sample: Vec<f64> = (0..m)
            .map(|i| {
                let p = (i as f64 + 0.5) / m as f64;
                if p < 0.5 {
                    b * (2.0 * p).ln()
                } else {
                    -b * (2.0 * (1.0 - p)).ln()
                }
            })
            .collect();
        let errs = vec![sample; h];
        let levels = [0.05, 0.25, 0.5, 0.75, 0.95];
        let off = offsets(&errs, &levels, 1.0);
        let mut abs: Vec<f64> = errs[0].iter().map(|e| e.abs()).collect();
        let med = median(&mut abs);
        // The sample median of |e| is within the grid's step of b ln 2.
        assert!((med - b * std::f64::consts::LN_2).abs() < 0.01);
        let b_hat = med / std::f64::consts::LN_2 * (1.0 + 1.0 / m as f64).sqrt();
        let thin = offsets(&errs, &levels, DEATHS_TAIL);
        for (d, o) in off.iter().enumerate() {
            // The core widens from CORE at 7 days towards CORE_28 at 28.
            let core = CORE + (CORE_28 - CORE) * ((d as f64 - 6.0) / 21.0).clamp(0.0, 1.0);
            assert_eq!(d < 7, core == CORE);
            let q95 = b_hat * 10f64.ln() * (core + (1.0 - core) * 0.81);
            let q75 = b_hat * 2f64.ln() * (core + (1.0 - core) * 0.25);
            assert!((o[4] - q95).abs() < 1e-12, "day {d}");
            assert!((o[3] - q75).abs() < 1e-12);
            assert!((o[0] + q95).abs() < 1e-12);
            // A lighter tail narrows the outer levels only towards the core.
            let t95 = b_hat * 10f64.ln() * (core + (DEATHS_TAIL - core) * 0.81);
            assert!((thin[d][4] - t95).abs() < 1e-12);
            assert!(thin[d][4] < o[4] && thin[d][3] < o[3]);
            assert_eq!(o[2], 0.0);
        }
        // No errors at all: the uncalibrated spread, growing with the horizon.
        let none = offsets(&vec![Vec::new(); h], &levels, 1.0);
        assert!(none[6][4] > none[0][4] && none[0][4] > 0.0);
    }
}
