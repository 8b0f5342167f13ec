//! The persistence baseline every forecasting hub compares against.
//!
//! Point: the last 7 days' mean daily increase, continued. Quantiles: the
//! COVID-19 Forecast Hub baseline's construction (Cramer et al. 2022,
//! "Evaluation of individual and ensemble probabilistic forecasts of COVID-19
//! mortality in the United States", PNAS 119(15), baseline model): the
//! incidence is a random walk whose steps are drawn from the empirical,
//! symmetrised distribution of its past changes. We step the 7-day mean
//! daily increase week by week (weekly means do not carry the weekday
//! reporting pattern that daily changes would), truncate it at 0, and
//! accumulate sample paths. Seeded, so the same seed gives the same numbers.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Mean daily increase over the last `min(7, n - 1)` days of a cumulative
/// series (0 when it has a single day).
pub fn recent_rate(cum: &[f64]) -> f64 {
    let n = cum.len();
    if n < 2 {
        return 0.0;
    }
    let w = 7.min(n - 1);
    ((cum[n - 1] - cum[n - 1 - w]) / w as f64).max(0.0)
}

/// The persistence forecast of a cumulative series for horizons 1..=h:
/// `last + rate * day`.
pub fn persistence(cum: &[f64], h: usize) -> Vec<f64> {
    let last = cum.last().copied().unwrap_or(0.0);
    let rate = recent_rate(cum);
    (1..=h).map(|d| last + rate * d as f64).collect()
}

/// Changes between consecutive non-overlapping weekly mean daily increases,
/// counted back from the last day, with their negatives (symmetrised).
fn weekly_changes(cum: &[f64]) -> Vec<f64> {
    let n = cum.len();
    let mut rates = Vec::new();
    let mut end = n - 1;
    while end >= 7 {
        rates.push((cum[end] - cum[end - 7]) / 7.0);
        end -= 7;
    }
    let mut out = Vec::new();
    for w in rates.windows(2) {
        let d = w[0] - w[1];
        out.push(d);
        out.push(-d);
    }
    out
}

/// Baseline quantiles of a cumulative series at horizons 1..=h, as
/// `(cumulative[day][level], daily[day][level])`, from `samples` seeded
/// sample paths.
pub fn quantiles(
    cum: &[f64],
    h: usize,
    levels: &[f64],
    samples: usize,
    seed: u64,
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let last = cum.last().copied().unwrap_or(0.0);
    let rate = recent_rate(cum);
    let steps = if cum.is_empty() {
        Vec::new()
    } else {
        weekly_changes(cum)
    };
    let samples = samples.max(1);
    let mut rng = StdRng::seed_from_u64(seed);
    // paths[day][sample]
    let mut cum_paths = vec![Vec::with_capacity(samples); h];
    let mut daily_paths = vec![Vec::with_capacity(samples); h];
    for _ in 0..samples {
        let mut r = rate;
        let mut total = last;
        for d in 0..h {
            if d % 7 == 0 && d > 0 && !steps.is_empty() {
                r = (r + steps[rng.gen_range(0..steps.len())]).max(0.0);
            }
            // The first week moves too: the Hub baseline's one-step-ahead
            // spread is one change.
            if d == 0 && !steps.is_empty() {
                r = (r + steps[rng.gen_range(0..steps.len())]).max(0.0);
            }
            total += r;
            cum_paths[d].push(total);
            daily_paths[d].push(r);
        }
    }
    let q = |paths: Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        paths
            .into_iter()
            .map(|mut v| {
                v.sort_by(f64::total_cmp);
                levels.iter().map(|&l| sample_quantile(&v, l)).collect()
            })
            .collect()
    };
    (q(cum_paths), q(daily_paths))
}

/// The `level` quantile of sorted values, linearly interpolated (numpy's
/// default, "type 7").
pub fn sample_quantile(sorted: &[f64], level: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = level.clamp(0.0, 1.0) * (n - 1) as f64;
    let i = pos.floor() as usize;
    let frac = pos - i as f64;
    if i + 1 < n {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    } else {
        sorted[n - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persistence_continues_the_last_week() {
        let cum: Vec<f64> = (0..10).map(|d| 100.0 + 5.0 * d as f64).collect();
        assert_eq!(persistence(&cum, 3), [150.0, 155.0, 160.0]);
    }

    #[test]
    fn a_steady_series_has_a_degenerate_baseline_around_persistence() {
        // Constant growth: every weekly change is 0, so every path is the
        // persistence line.
        let cum: Vec<f64> = (0..40).map(|d| 3.0 * d as f64).collect();
        let (c, d) = quantiles(&cum, 14, &[0.05, 0.5, 0.95], 100, 1);
        assert_eq!(c[13], vec![117.0 + 42.0; 3]);
        assert_eq!(d[0], vec![3.0; 3]);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(sample_quantile(&v, 0.5), 2.5);
        assert_eq!(sample_quantile(&v, 0.0), 1.0);
        assert_eq!(sample_quantile(&v, 1.0), 4.0);
    }
}
