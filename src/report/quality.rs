//! How well the fitted model follows the data over the whole training
//! window, and what it cannot represent, in numbers and words for
//! `report.md`.
//!
//! The loss the optimizer minimises covers only the last days of the window
//! (and cumulative counts, which hide misfits): a fit can score 1e-5 while
//! missing March by 27-fold. These numbers are computed from the data and
//! the forecast alone, after the fit, so they never change it.

use chrono::NaiveDate;

use crate::data::TrainingData;
use crate::fit::Forecast;

/// Cumulative counts below this are too small for a fold error to mean
/// much (1 vs 3 cases is "3-fold").
const MIN_COUNT_FOR_FOLD: f64 = 10.0;

/// The training day on which model and data disagree most.
#[derive(Debug, Clone, PartialEq)]
pub struct Misfit {
    /// The day.
    pub date: NaiveDate,
    /// `cases` or `deaths` (cumulative).
    pub series: &'static str,
    /// Observed cumulative count.
    pub observed: f64,
    /// Model cumulative count.
    pub model: f64,
    /// `max(model/observed, observed/model)`, >= 1.
    pub fold: f64,
}

/// Fit quality over the whole training window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowQuality {
    /// Root mean squared log error of daily new cases,
    /// `sqrt(mean((ln(1 + obs) - ln(1 + model))^2))` over training days
    /// 1..n (daily counts are differences of the cumulative ones; negative
    /// ones, reporting corrections, count as 0).
    pub rmsle_daily_cases: f64,
    /// The same for daily deaths; `None` when no death was observed.
    pub rmsle_daily_deaths: Option<f64>,
    /// The median day's fold error of daily new cases,
    /// `exp(median |ln(1 + obs) - ln(1 + model)|)`: what a typical day
    /// looks like. The RMSLE is not that: a few days reported as 0 (a
    /// correction, a day without a report) dominate it (Hubei to
    /// 2020-02-15: RMSLE 2.44, "11.5-fold", while most days are within 2-fold).
    pub median_fold_daily_cases: f64,
    /// The 90th percentile of the same fold errors: one day in ten is
    /// missed by this much or more.
    pub p90_fold_daily_cases: f64,
    /// The largest fold error on a day with at least 10 cumulative counts.
    pub worst: Option<Misfit>,
    /// Waves of daily cases in the window (see [`count_waves`]).
    pub waves: usize,
    /// New cases over the window (last minus first cumulative count).
    pub new_cases: f64,
}

/// Computes [`WindowQuality`] of `forecast` against the training data.
pub fn window_quality(data: &TrainingData, forecast: &Forecast) -> WindowQuality {
    let n = data
        .dates
        .len()
        .min(forecast.train_days)
        .min(forecast.cases.len());
    let daily = |v: &[f64]| -> Vec<f64> { (1..n).map(|j| (v[j] - v[j - 1]).max(0.0)).collect() };
    let rmsle = |obs: &[f64], model: &[f64]| -> f64 {
        if obs.is_empty() {
            return 0.0;
        }
        let ss: f64 = obs
            .iter()
            .zip(model)
            .map(|(o, m)| (o.ln_1p() - m.ln_1p()).powi(2))
            .sum();
        (ss / obs.len() as f64).sqrt()
    };
    let obs_cases = daily(&data.cases);
    let obs_deaths = daily(&data.deaths);
    let model_cases = daily(&forecast.cases);
    let rmsle_daily_cases = rmsle(&obs_cases, &model_cases);
    let mut log_errors: Vec<f64> = obs_cases
        .iter()
        .zip(&model_cases)
        .map(|(o, m)| (o.ln_1p() - m.ln_1p()).abs())
        .filter(|e| e.is_finite())
        .collect();
    log_errors.sort_by(f64::total_cmp);
    // Nearest-rank percentiles: a day's own error, not an interpolation.
    let fold_at = |q: f64| -> f64 {
        if log_errors.is_empty() {
            return 1.0;
        }
        let k = ((q * log_errors.len() as f64).ceil() as usize).clamp(1, log_errors.len());
        log_errors[k - 1].exp()
    };
    let (median_fold_daily_cases, p90_fold_daily_cases) = (fold_at(0.5), fold_at(0.9));
    let any_death = data.deaths[..n].iter().any(|d| *d > 0.0);
    let rmsle_daily_deaths = any_death.then(|| rmsle(&obs_deaths, &daily(&forecast.deaths)));

    let mut worst: Option<Misfit> = None;
    for (series, obs, model) in [
        ("cases", &data.cases, &forecast.cases),
        ("deaths", &data.deaths, &forecast.deaths),
    ] {
        for j in 0..n {
            let (o, m) = (obs[j], model[j]);
            if o < MIN_COUNT_FOR_FOLD || !m.is_finite() || m <= 0.0 {
                continue;
            }
            let fold = (m / o).max(o / m);
            if worst.as_ref().is_none_or(|w| fold > w.fold) {
                worst = Some(Misfit {
                    date: data.dates[j],
                    series,
                    observed: o,
                    model: m,
                    fold,
                });
            }
        }
    }
    let new_cases = if n > 0 {
        data.cases[n - 1] - data.cases[0]
    } else {
        0.0
    };
    WindowQuality {
        rmsle_daily_cases,
        rmsle_daily_deaths,
        median_fold_daily_cases,
        p90_fold_daily_cases,
        worst,
        waves: count_waves(&obs_cases),
        new_cases,
    }
}

/// Counts the waves in a daily series: rises of its 7-day centred mean to a
/// peak, each separated from the next by a fall to half the peak or less.
///
/// A new wave needs the mean to climb back to twice its trough and to a
/// tenth of the series' highest mean (so weekly reporting rhythms and blips
/// in tiny counts are not waves); a wave still rising at the end counts.
/// The model's transmission declines once, from R_0 to R_t, so it can
/// follow one wave of daily cases at most.
pub fn count_waves(daily: &[f64]) -> usize {
    let n = daily.len();
    if n == 0 {
        return 0;
    }
    let smooth: Vec<f64> = (0..n)
        .map(|j| {
            let (a, b) = (j.saturating_sub(3), (j + 4).min(n));
            daily[a..b].iter().sum::<f64>() / (b - a) as f64
        })
        .collect();
    let top = smooth.iter().copied().fold(0.0, f64::max);
    let min_peak = (top / 10.0).max(5.0);
    let mut waves = 0;
    let mut peak = 0.0_f64;
    let mut trough = f64::INFINITY;
    let mut rising = true;
    for &v in &smooth {
        if rising {
            peak = peak.max(v);
            if peak >= min_peak && v <= peak / 2.0 {
                waves += 1;
                rising = false;
                trough = v;
            }
        } else {
            trough = trough.min(v);
            if v >= 2.0 * trough && v >= min_peak {
                rising = true;
                peak = v;
            }
        }
    }
    if rising && peak >= min_peak {
        waves += 1;
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Gaussian wave of daily counts centred on `c`, `h` high.
    fn wave(t: f64, c: f64, h: f64) -> f64 {
        h * (-((t - c) / 12.0).powi(2)).exp()
    }

    #[test]
    fn waves_are_counted_and_noise_is_not() {
        let one: Vec<f64> = (0..120).map(|t| wave(t as f64, 50.0, 1000.0)).collect();
        assert_eq!(count_waves(&one), 1);
        let two: Vec<f64> = (0..200)
            .map(|t| wave(t as f64, 50.0, 1000.0) + wave(t as f64, 150.0, 600.0))
            .collect();
        assert_eq!(count_waves(&two), 2);
        // Still rising at the end: one wave, not none.
        let rising: Vec<f64> = (0..60).map(|t| (t as f64 * 0.1).exp()).collect();
        assert_eq!(count_waves(&rising), 1);
        // A weekly reporting rhythm on a single wave is not a second wave.
        let weekly: Vec<f64> = (0..120)
            .map(|t| wave(t as f64, 50.0, 1000.0) * if t % 7 == 6 { 0.2 } else { 1.0 })
            .collect();
        assert_eq!(count_waves(&weekly), 1);
        // A handful of cases is no wave at all.
        assert_eq!(count_waves(&[0.0, 1.0, 0.0, 0.0, 2.0, 0.0]), 0);
    }
}
