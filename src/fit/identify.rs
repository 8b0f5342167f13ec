//! What the data determine: profile-likelihood intervals for each fitted
//! parameter, and whether it is estimated, on a bound, or not identifiable.
//!
//! The weighted MSLE is read as a Gaussian log-likelihood of the log
//! residuals with one noise scale estimated from them: with `S(p)` the
//! loss and `n` the effective number of scored residuals,
//! `-2 log L(p) = n log S(p) + const` once sigma is profiled out, so the
//! likelihood-ratio interval at level 90 % is the set of values of one
//! parameter whose profile loss (the loss minimised over the others) stays
//! below `S_min * exp(chi2_1(0.90) / n)`. `n` is the effective number of
//! independent residuals ([`effective_residuals`]): the recency weights and
//! the day-to-day correlation of a cumulative series' errors both make it
//! far smaller than the number of scored days, and so the intervals wider.
//!
//! A profile is walked out from the estimate on each side (1/64 of the box
//! width first, then where the quadratic shape of the profile predicts the
//! threshold), each point a 6-parameter L-BFGS-B fit warm-started from the
//! last point inside; the crossing of the threshold is then refined by
//! regula falsi to 5 % of its distance from the estimate. The
//! walk stops at the bound, which then is the end of the interval.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{run_lbfgsb, FitConfig, FitResult};
use crate::data::TrainingData;
use crate::fit::loss::recency_weights;
use crate::model::{Params, N_PARAMS, PARAM_NAMES};
use crate::optim::Stopping;

/// The 0.90 quantile of the chi-square distribution with one degree of
/// freedom.
pub const CHI2_1_90: f64 = 2.705_543_454_095_404;

/// Relative tolerance (of the box width) within which a value is on a bound.
pub const BOUND_TOL: f64 = 1e-6;

/// Share of the box width above which an interval counts as "flat over
/// much of the box": the parameter is not identifiable.
pub const FLAT_SHARE: f64 = 0.5;

/// What the data say about one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identifiability {
    /// Estimated, with an interval inside the box that is not too wide.
    Estimated,
    /// The estimate sits on a bound of the box (within [`BOUND_TOL`] of the
    /// width); the interval runs from there.
    OnBound,
    /// The profile is flat over much of the box, or the interval reaches a
    /// bound on both sides: the data do not determine it.
    NotIdentifiable,
}

impl Identifiability {
    /// The name used in files (`estimated`, `on_bound`, `not_identifiable`).
    pub fn name(self) -> &'static str {
        match self {
            Identifiability::Estimated => "estimated",
            Identifiability::OnBound => "on_bound",
            Identifiability::NotIdentifiable => "not_identifiable",
        }
    }
}

/// One parameter's profile: the points walked and the interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Parameter name.
    pub name: &'static str,
    /// `(value, profile loss)` pairs, ascending in value, the estimate included.
    pub points: Vec<(f64, f64)>,
    /// The 90 % interval.
    pub interval: [f64; 2],
    /// The verdict.
    pub status: Identifiability,
}

/// Profiles of every parameter of a fit, and the loss threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Profiles {
    /// One per parameter, in [`PARAM_NAMES`] order.
    pub params: Vec<Profile>,
    /// The fitted loss.
    pub loss: f64,
    /// Loss below which a profile point is inside the interval.
    pub threshold: f64,
    /// Effective number of residuals used for the threshold.
    pub n_eff: f64,
}

impl Profiles {
    /// `params_ci` for fit.json: name -> `[low, high]`.
    pub fn intervals(&self) -> BTreeMap<String, [f64; 2]> {
        self.params
            .iter()
            .map(|p| (p.name.to_string(), p.interval))
            .collect()
    }

    /// `identifiable` for fit.json: name -> verdict.
    pub fn verdicts(&self) -> BTreeMap<String, Identifiability> {
        self.params
            .iter()
            .map(|p| (p.name.to_string(), p.status))
            .collect()
    }
}

/// Effective number of independent scored residuals of `data` at
/// `params` under `config`.
///
/// Two corrections to counting days: the recency weights (Kish's
/// `(sum w)^2 / sum w^2`, 8.1 of the default 20 days), and the correlation
/// of successive residuals of a cumulative series (one day's error carries
/// into every later day), by the AR(1) factor `(1 - rho) / (1 + rho)` with
/// `rho` the weighted lag-1 autocorrelation of the log residuals, clamped
/// to `[0, 0.95]`. Without the second, simulated regions with 5 % noise on
/// the daily counts had their truths outside the 90 % intervals in half of
/// the cases. Summed over cases and deaths (cases alone under
/// `cases_only`); at least 1.
pub fn effective_residuals(data: &TrainingData, config: &FitConfig, params: &Params) -> f64 {
    let w = recency_weights(config.loss.window, data.cases.len());
    let first = data.cases.len() - w.len();
    let (s1, s2) = w.iter().fold((0.0, 0.0), |(a, b), &x| (a + x, b + x * x));
    let kish = if s2 > 0.0 { s1 * s1 / s2 } else { 0.0 };
    let days = data.cases.len();
    let tr = crate::model::simulate(params, data.population, data.cases[0], days, &config.ode);
    let (pc, pd) = match &tr {
        Ok(t) => (t.cases(), t.deaths()),
        Err(_) => return kish.max(1.0),
    };
    let series: Vec<(&[f64], Vec<f64>)> = if config.loss.cases_only {
        vec![(&data.cases, pc)]
    } else {
        vec![(&data.cases, pc), (&data.deaths, pd)]
    };
    let mut n = 0.0;
    for (obs, pred) in series {
        let r: Vec<f64> = (first..days)
            .map(|d| obs[d].ln_1p() - pred[d].max(0.0).ln_1p())
            .collect();
        let rho = lag1_autocorrelation(&r, &w).clamp(0.0, 0.95);
        n += kish * (1.0 - rho) / (1.0 + rho);
    }
    n.max(1.0)
}

/// Weighted lag-1 autocorrelation of `r` (weights `w`, same length).
fn lag1_autocorrelation(r: &[f64], w: &[f64]) -> f64 {
    let sw: f64 = w.iter().sum();
    if r.len() < 3 || sw <= 0.0 {
        return 0.0;
    }
    let mean = r.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw;
    let var: f64 = r
        .iter()
        .zip(w)
        .map(|(a, b)| b * (a - mean) * (a - mean))
        .sum();
    if var <= 0.0 {
        return 0.0;
    }
    let cov: f64 = (1..r.len())
        .map(|i| w[i] * (r[i] - mean) * (r[i - 1] - mean))
        .sum();
    cov / var
}

/// Whether `x` is within [`BOUND_TOL`] of the box width from `lo` or `hi`.
pub fn on_bound(x: f64, lo: f64, hi: f64) -> bool {
    let tol = BOUND_TOL * (hi - lo).max(f64::MIN_POSITIVE);
    (x - lo).abs() <= tol || (hi - x).abs() <= tol
}

/// The profile loss with parameter `j` fixed at `v`, warm-started from `warm`.
fn profile_point(
    data: &Arc<TrainingData>,
    config: &FitConfig,
    j: usize,
    v: f64,
    warm: &Params,
) -> Option<(f64, Params)> {
    let mut c = *config;
    let mut lo = c.bounds.lower.to_array();
    let mut hi = c.bounds.upper.to_array();
    lo[j] = v;
    hi[j] = v;
    c.bounds.lower = Params::from_array(lo);
    c.bounds.upper = Params::from_array(hi);
    let mut x = warm.to_array();
    x[j] = v;
    for i in 0..N_PARAMS {
        x[i] = x[i].clamp(lo[i], hi[i]);
    }
    let x = Params::from_array(x);
    c.optimizer.stopping = Stopping::Relative;
    c.optimizer.ftol = PROFILE_FTOL;
    let run = run_lbfgsb(data, &c, &x, 300).ok()?;
    run.loss
        .msle
        .is_finite()
        .then_some((run.loss.msle, run.params))
}

/// Relative stopping tolerance (`ftol` under the relative test) of the
/// profile re-optimisations. A profile point only has to say on which side
/// of the threshold it lies, and the threshold is `exp(2.706 / n_eff)`
/// times the fitted loss, at least 18 % above it (`n_eff` is at most 16.2
/// with the default 20-day window); a re-optimisation stopped when one
/// iteration gains less than 1e-8 of the loss is off by far less than that
/// margin, and the crossing is then misplaced only by that error over the
/// profile's slope. Measured on 12 real regions (the old walk, end
/// 2020-04-30): 1e-10 took 27 % more evaluations, the median interval end
/// did not move, and one of 84 verdicts changed.
pub const PROFILE_FTOL: f64 = 1e-8;

/// A crossing is located to within this share of its distance from the
/// estimate (the end of the interval is the last point found inside). The
/// bisections this replaces ended within 1/32 to 1/2 of it, depending on
/// where the doubling steps fell.
pub const CROSSING_RTOL: f64 = 0.05;

/// Most refinement steps of one crossing after it is bracketed.
const MAX_REFINE: usize = 6;

/// Walks one side of the profile of parameter `j` (`dir` = +1 or -1) from
/// the estimate; returns the points walked and the end of the interval.
///
/// Near the optimum the profile loss is about quadratic in the distance
/// from the estimate, `l(v) ~ l0 + c (v - x0)^2`, so every point inside
/// predicts where the threshold is crossed: the next point is put a
/// quarter beyond that prediction, at least 1.5 and at most 2 times the
/// distance so far: farther jumps (up to 3 or 4 times) lost the valley of
/// the demo's R_0 profile, whose two basins the interval must join. Once a point
/// lies outside, the crossing is refined by regula falsi of the log loss
/// in the squared distance `s = (v - x0)^2` (near the estimate the profile
/// is about linear in `s`; past the crossing it rises like a wall, which
/// the log tames), with a bisection instead whenever the last step did not halve the bracket or
/// the outer point could not be solved, until the bracket is within
/// [`CROSSING_RTOL`] of the distance. Each re-optimisation starts from the
/// other parameters predicted along the profile's path (extrapolated from
/// the last two points inside, or interpolated between the ends of the
/// bracket): a continuation that keeps to the valley of the last point
/// inside and needs fewer iterations than a start from that point alone;
/// a first point outside found from an extrapolated start is re-run from
/// the last point inside, and the lower loss kept.
fn walk(
    data: &Arc<TrainingData>,
    config: &FitConfig,
    best: &Params,
    loss: f64,
    j: usize,
    dir: f64,
    threshold: f64,
) -> (Vec<(f64, f64)>, f64) {
    let (lo, hi) = (
        config.bounds.lower.to_array()[j],
        config.bounds.upper.to_array()[j],
    );
    let x0 = best.to_array()[j];
    let width = hi - lo;
    let limit = if dir > 0.0 { hi } else { lo };
    let mut points = Vec::new();
    if (limit - x0).abs() <= BOUND_TOL * width {
        return (points, limit);
    }
    let at = |d: f64| (x0 + dir * d).clamp(lo, hi);
    // `a + t (b - a)` on every parameter.
    let along = |a: &Params, b: &Params, t: f64| {
        let (a, b) = (a.to_array(), b.to_array());
        Params::from_array(std::array::from_fn(|i| a[i] + t * (b[i] - a[i])))
    };
    // (value, profile loss, parameters) of the last point inside, and the
    // value and parameters of the one before it.
    let mut inside = (x0, loss, *best);
    let mut before: Option<(f64, Params)> = None;
    let mut dist = width / 64.0;
    // The first point outside: (value, loss and parameters if solved).
    let (mut b, mut outer) = loop {
        let v = at(dist);
        let warm = match before {
            Some((u, p)) if inside.0 != u => {
                let t = ((v - u) / (inside.0 - u)).clamp(1.0, 2.0);
                Some(along(&p, &inside.2, t))
            }
            _ => None,
        };
        let mut found = profile_point(data, config, j, v, warm.as_ref().unwrap_or(&inside.2));
        if warm.is_some() && found.is_none_or(|(l, _)| l > threshold) {
            // An extrapolated start can land in another valley far out:
            // before calling the point outside, start it from the last
            // point inside too and keep the lower loss (the profile is a
            // minimum over the other parameters).
            let plain = profile_point(data, config, j, v, &inside.2);
            if plain.is_some_and(|(l, _)| found.is_none_or(|(f, _)| l < f)) {
                found = plain;
            }
        }
        match found {
            Some((l, p)) if l <= threshold => {
                points.push((v, l));
                before = Some((inside.0, inside.2));
                inside = (v, l, p);
                if (limit - v).abs() <= BOUND_TOL * width {
                    return (points, limit);
                }
                let d = (v - x0).abs();
                let rise = l - loss;
                let predicted = if rise > 0.0 {
                    1.25 * d * ((threshold - loss) / rise).sqrt()
                } else {
                    f64::INFINITY
                };
                dist = predicted.clamp(1.5 * d, 2.0 * d);
            }
            outside => {
                if let Some((l, _)) = outside {
                    points.push((v, l));
                }
                break (v, outside);
            }
        }
    };
    let sq = |v: f64| (v - x0) * (v - x0);
    let mut last_width = f64::INFINITY;
    for _ in 0..MAX_REFINE {
        let a = inside.0;
        let bracket = (b - a).abs();
        if bracket <= CROSSING_RTOL * (b - x0).abs() {
            break;
        }
        let m = match outer {
            Some((lb, _)) if lb > inside.1 && inside.1 > 0.0 && bracket <= 0.5 * last_width => {
                // In log loss: profiles rise like a wall past the crossing,
                // where a linear interpolation of the loss itself would
                // creep along the inner end.
                let t = (threshold / inside.1).ln() / (lb / inside.1).ln();
                let s = sq(a) + t * (sq(b) - sq(a));
                let m = x0 + dir * s.max(0.0).sqrt();
                // Strictly inside the bracket.
                let (near, far) = (a + 0.05 * (b - a), a + 0.95 * (b - a));
                if dir > 0.0 {
                    m.clamp(near, far)
                } else {
                    m.clamp(far, near)
                }
            }
            _ => 0.5 * (a + b),
        };
        last_width = bracket;
        let warm = match &outer {
            Some((_, pb)) => along(&inside.2, pb, (m - a) / (b - a)),
            None => inside.2,
        };
        match profile_point(data, config, j, m, &warm) {
            Some((l, p)) if l <= threshold => {
                points.push((m, l));
                inside = (m, l, p);
            }
            other => {
                if let Some((l, _)) = other {
                    points.push((m, l));
                }
                b = m;
                outer = other;
            }
        }
    }
    (points, inside.0)
}

/// Profiles every parameter of `result` (a fit of `data`), at level 90 %.
/// The walks of the fourteen sides run in parallel.
pub fn profiles(data: &TrainingData, result: &FitResult) -> Profiles {
    let config = &result.config;
    let n_eff = effective_residuals(data, config, &result.params);
    let loss = result.loss.msle;
    let threshold = loss * (CHI2_1_90 / n_eff.max(1.0)).exp();
    let best = result.params;
    let shared = Arc::new(data.clone());
    let sides: Vec<(Vec<(f64, f64)>, f64)> = (0..2 * N_PARAMS)
        .into_par_iter()
        .map(|k| {
            let dir = if k % 2 == 0 { -1.0 } else { 1.0 };
            walk(&shared, config, &best, loss, k / 2, dir, threshold)
        })
        .collect();
    let lo = config.bounds.lower.to_array();
    let hi = config.bounds.upper.to_array();
    let x = best.to_array();
    let params = (0..N_PARAMS)
        .map(|j| {
            let (left, a) = &sides[2 * j];
            let (right, b) = &sides[2 * j + 1];
            let mut points: Vec<(f64, f64)> = left
                .iter()
                .chain(right)
                .copied()
                .chain(std::iter::once((x[j], loss)))
                .collect();
            points.sort_by(|p, q| p.0.total_cmp(&q.0));
            let width = hi[j] - lo[j];
            let reaches_lo = (a - lo[j]).abs() <= BOUND_TOL * width;
            let reaches_hi = (hi[j] - b).abs() <= BOUND_TOL * width;
            let status = if width <= 0.0 {
                Identifiability::Estimated
            } else if (reaches_lo && reaches_hi) || (b - a) > FLAT_SHARE * width {
                Identifiability::NotIdentifiable
            } else if on_bound(x[j], lo[j], hi[j]) {
                Identifiability::OnBound
            } else {
                Identifiability::Estimated
            };
            Profile {
                name: PARAM_NAMES[j],
                points,
                interval: [*a, *b],
                status,
            }
        })
        .collect();
    Profiles {
        params,
        loss,
        threshold,
        n_eff,
    }
}

/// Fills `result.params_ci` and `result.identifiable` from the profiles of
/// `data`, and returns the profiles (for plotting).
pub fn identify(data: &TrainingData, result: &mut FitResult) -> Profiles {
    let p = profiles(data, result);
    result.params_ci = Some(p.intervals());
    result.identifiable = Some(p.verdicts());
    p
}
