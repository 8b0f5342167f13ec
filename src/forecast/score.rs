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

/// How many of the quantile `values` lie below `y`, and how many equal it
/// (ties), the one rule [`pit`] and [`covered_randomized`] share.
fn rank(values: &[f64], y: f64) -> (usize, usize) {
    let below = values.iter().filter(|&&v| v < y).count();
    let equal = values.iter().filter(|&&v| v == y).count();
    (below, equal)
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

/// The coverage of the central interval of nominal `coverage` with ties
/// split: the share of the observation's randomized PIT (Czado, Gneiting &
/// Held 2009, "Predictive model assessment for count data", Biometrics
/// 65(4): 1254-1261) that falls inside `[a, 1 - a]`, `a = (1 - coverage) / 2`.
/// The randomized PIT of `y` is uniform between the forecast CDF just below
/// `y` and at `y`. From quantiles only, those are known to lie between
/// levels: where quantiles equal `y`, the CDF jumps somewhere between the
/// level below the tied ones and the lowest tied one, and again between the
/// highest tied one and the level above; the midpoints of those gaps are
/// taken. Where no quantile equals `y`, the PIT lies between the two levels
/// around it. Counts tie: a region with no deaths, forecast to stay
/// without, has every central interval equal to its observation, and
/// counting it as covered puts any honest forecast above nominal; split, a
/// calibrated forecast averages the nominal coverage. Away from ties it is
/// 0 or 1 as [`covered`] is. `None` when `levels` lack either end.
pub fn covered_randomized(levels: &[f64], values: &[f64], y: f64, coverage: f64) -> Option<f64> {
    let a = (1.0 - coverage) / 2.0;
    level_index(levels, a)?;
    level_index(levels, 1.0 - a)?;
    let (below, equal) = rank(values, y);
    let level = |i: usize| levels.get(i).copied();
    let (lo, hi) = if equal == 0 {
        (
            if below == 0 { 0.0 } else { levels[below - 1] },
            level(below).unwrap_or(1.0),
        )
    } else {
        let first = levels[below];
        let last = levels[below + equal - 1];
        let before = if below == 0 { 0.0 } else { levels[below - 1] };
        let after = level(below + equal).unwrap_or(1.0);
        (0.5 * (before + first), 0.5 * (last + after))
    };
    if hi <= lo {
        // Crossed quantiles; cannot happen for a sorted forecast.
        return covered(levels, values, y, coverage).map(f64::from);
    }
    let inside = (hi.min(1.0 - a) - lo.max(a)).max(0.0);
    Some(inside / (hi - lo))
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
    let (below, equal) = rank(values, y);
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
    fn randomized_coverage_splits_ties_and_agrees_elsewhere() {
        let levels = [0.05, 0.25, 0.5, 0.75, 0.95];
        let values = [1.0, 2.0, 3.0, 4.0, 5.0];
        // Away from ties: the indicator.
        for y in [0.5, 1.5, 2.5, 3.5, 4.5, 5.5] {
            let c = covered(&levels, &values, y, 0.5).unwrap();
            assert_eq!(
                covered_randomized(&levels, &values, y, 0.5),
                Some(f64::from(c))
            );
        }
        // A point mass at the observation: the CDF jumps from below the
        // 5 % level to above the 95 %, taken at 2.5 % and 97.5 %: the
        // nominal coverage over 0.95.
        let mass = [7.0; 5];
        assert_relative_eq!(
            covered_randomized(&levels, &mass, 7.0, 0.5).unwrap(),
            0.5 / 0.95
        );
        assert_relative_eq!(
            covered_randomized(&levels, &mass, 7.0, 0.9).unwrap(),
            0.9 / 0.95
        );
        assert_eq!(covered(&levels, &mass, 7.0, 0.5), Some(true));
        // Missing ends: None, as for `covered`.
        assert_eq!(covered_randomized(&levels, &values, 3.0, 0.8), None);
    }

    #[test]
    fn randomized_coverage_of_a_calibrated_count_forecast_is_nominal() {
        // y ~ Poisson(0.3), forecast by its own exact quantiles at the 23
        // Hub levels: the raw coverage of the 50 % interval is P(y = 0) =
        // 0.74, since every central interval up to 48 % is [0, 0]; split,
        // it is near 0.5 (not exactly: the level grid puts F(0) = 0.741 at
        // 0.725, the middle of the levels 0.7 and 0.75 around it).
        let lambda: f64 = 0.3;
        let pmf = |k: u32| {
            (-lambda).exp() * lambda.powi(k as i32) / (1..=k).product::<u32>().max(1) as f64
        };
        let cdf = |k: u32| (0..=k).map(pmf).sum::<f64>();
        let levels = crate::forecast::HUB_LEVELS;
        let q: Vec<f64> = levels
            .iter()
            .map(|&l| (0..).find(|&k| cdf(k) >= l).unwrap() as f64)
            .collect();
        for (nominal, lo, hi) in [(0.5, 0.47, 0.53), (0.9, 0.87, 0.93)] {
            let (mut raw, mut split) = (0.0, 0.0);
            for k in 0..12u32 {
                let y = k as f64;
                raw += pmf(k) * f64::from(u8::from(covered(&levels, &q, y, nominal).unwrap()));
                split += pmf(k) * covered_randomized(&levels, &q, y, nominal).unwrap();
            }
            assert!(split > lo && split < hi, "{nominal}: {split}");
            assert!(raw > nominal + 0.05, "{nominal}: raw {raw}");
        }
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
