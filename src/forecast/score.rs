//! Scores of point and quantile forecasts against what happened: the
//! absolute log1p error, interval coverage, the weighted interval score
//! (WIS) and the probability integral transform (PIT).
//!
//! ## Reference
//! Bracher, Ray, Gneiting & Reich (2021), "Evaluating epidemic forecasts in
//! an interval format", PLoS Comput Biol 17(2): e1008618, eq. (1)-(3).

/// `|log1p(y) - log1p(x)|`, both clipped at 0 (cumulative counts cannot be
/// negative; a daily count below 0 is a reporting correction).
pub fn abs_log_error(observed: f64, predicted: f64) -> f64 {
    (observed.max(0.0).ln_1p() - predicted.max(0.0).ln_1p()).abs()
}

/// Index of `level` in `levels` (to 1e-9).
fn level_index(levels: &[f64], level: f64) -> Option<usize> {
    levels.iter().position(|l| (l - level).abs() < 1e-9)
}

/// Whether `y` lies in the central interval of nominal coverage `coverage`
/// (e.g. 0.5: between the 0.25 and 0.75 quantiles, ends included). `None`
/// when `levels` lack either end.
pub fn covered(levels: &[f64], values: &[f64], y: f64, coverage: f64) -> Option<bool> {
    let a = (1.0 - coverage) / 2.0;
    let lo = values[level_index(levels, a)?];
    let hi = values[level_index(levels, 1.0 - a)?];
    Some(lo <= y && y <= hi)
}

/// The interval score of the central `(1 - alpha)` interval `[l, u]`:
/// `(u - l) + 2/alpha (l - y)_+ + 2/alpha (y - u)_+` (Bracher et al. eq. 1).
pub fn interval_score(l: f64, u: f64, y: f64, alpha: f64) -> f64 {
    (u - l) + 2.0 / alpha * (l - y).max(0.0) + 2.0 / alpha * (y - u).max(0.0)
}

/// The weighted interval score of a quantile forecast (Bracher et al. eq. 2,
/// weights `w_0 = 1/2`, `w_k = alpha_k / 2`):
/// `WIS = (|y - m| / 2 + sum_k alpha_k / 2 * IS_alpha_k) / (K + 1/2)`,
/// over the K central intervals whose two ends are both in `levels`, with
/// `m` the median. `levels` must be ascending and hold 0.5; `None` otherwise.
pub fn wis(levels: &[f64], values: &[f64], y: f64) -> Option<f64> {
    let m = values[level_index(levels, 0.5)?];
    let mut sum = 0.5 * (y - m).abs();
    let mut k = 0usize;
    for (j, &a) in levels.iter().enumerate() {
        if a >= 0.5 - 1e-12 {
            break;
        }
        let Some(u) = level_index(levels, 1.0 - a) else {
            continue;
        };
        let alpha = 2.0 * a;
        sum += alpha / 2.0 * interval_score(values[j], values[u], y, alpha);
        k += 1;
    }
    Some(sum / (k as f64 + 0.5))
}

/// The PIT of `y` under a quantile forecast: the forecast CDF at `y`,
/// interpolated linearly between the quantiles, 0 below the lowest and 1
/// above the highest. Where several quantiles equal `y` (e.g. a region with
/// no deaths forecast to stay at 0), the middle of their levels.
pub fn pit(levels: &[f64], values: &[f64], y: f64) -> f64 {
    let n = levels.len();
    if n == 0 {
        return f64::NAN;
    }
    let below = values.iter().filter(|&&v| v < y).count();
    let equal = values.iter().filter(|&&v| v == y).count();
    if equal > 0 {
        let lo = levels[below];
        let hi = levels[below + equal - 1];
        return (lo + hi) / 2.0;
    }
    if below == 0 {
        return 0.0;
    }
    if below == n {
        return 1.0;
    }
    let (x0, x1) = (values[below - 1], values[below]);
    let (l0, l1) = (levels[below - 1], levels[below]);
    l0 + (l1 - l0) * (y - x0) / (x1 - x0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn interval_score_by_hand() {
        // Inside: the width alone.
        assert_relative_eq!(interval_score(2.0, 6.0, 3.0, 0.5), 4.0);
        // Below: 4 + 2/0.5 * (2 - 1) = 8.
        assert_relative_eq!(interval_score(2.0, 6.0, 1.0, 0.5), 8.0);
        // Above: 4 + 2/0.2 * (7 - 6) = 14.
        assert_relative_eq!(interval_score(2.0, 6.0, 7.0, 0.2), 14.0);
    }

    #[test]
    fn pit_interpolates_between_quantiles() {
        let levels = [0.25, 0.5, 0.75];
        let values = [10.0, 20.0, 30.0];
        assert_relative_eq!(pit(&levels, &values, 15.0), 0.375);
        assert_relative_eq!(pit(&levels, &values, 20.0), 0.5);
        assert_eq!(pit(&levels, &values, 5.0), 0.0);
        assert_eq!(pit(&levels, &values, 31.0), 1.0);
        // Ties: the middle of the tied levels.
        assert_relative_eq!(pit(&levels, &[0.0, 0.0, 1.0], 0.0), 0.375);
    }
}
