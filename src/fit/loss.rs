//! The prior art's loss: a recency-weighted mean squared log error over the
//! last `min(window, n)` days, weights `1/w, 1/(w-1), ..., 1/1` (the newest
//! day weighs most), on `log1p` of cumulative counts; the objective is the
//! mean of the cases and deaths errors, or the cases error alone.
//!
//! It is scikit-learn's `mean_squared_log_error(y, yhat, sample_weight=w)`,
//! i.e. `sum w (log1p(y) - log1p(yhat))^2 / sum w`, with predictions
//! clipped at 0 as the prior art clips them.

use super::LossConfig;
use crate::model::{SensitivityTrajectory, Trajectory, N_PARAMS};

/// The weights of the last `min(window, n)` days, oldest first:
/// `1/m, 1/(m-1), ..., 1/1` with `m = min(window, n)`.
pub fn recency_weights(window: usize, n: usize) -> Vec<f64> {
    let m = window.min(n);
    (0..m).map(|j| 1.0 / (m - j) as f64).collect()
}

/// Weighted MSLE of the last `weights.len()` entries of `observed` and
/// `predicted` (predictions below 0 count as 0).
pub fn weighted_msle(observed: &[f64], predicted: &[f64], weights: &[f64]) -> f64 {
    let m = weights.len();
    let (obs, pred) = (
        &observed[observed.len() - m..],
        &predicted[predicted.len() - m..],
    );
    let total: f64 = weights.iter().sum();
    weights
        .iter()
        .zip(obs.iter().zip(pred))
        .map(|(w, (y, p))| {
            let e = y.ln_1p() - p.max(0.0).ln_1p();
            w * e * e
        })
        .sum::<f64>()
        / total
}

/// Gradient of [`weighted_msle`] with respect to the predictions, through
/// their parameter sensitivities `dpred[d][j] = d pred_d / d p_j`:
///
/// `dL/dp_j = sum_d -2 w_d (log1p(y_d) - log1p(p_d)) / (1 + p_d) dp_d/dp_j / sum w`,
///
/// where a prediction clipped at 0 contributes nothing (the clip is flat).
fn weighted_msle_gradient(
    observed: &[f64],
    predicted: &[f64],
    dpred: &[[f64; N_PARAMS]],
    weights: &[f64],
) -> [f64; N_PARAMS] {
    let m = weights.len();
    let off = observed.len() - m;
    let total: f64 = weights.iter().sum();
    let mut grad = [0.0; N_PARAMS];
    for (k, w) in weights.iter().enumerate() {
        let p = predicted[off + k];
        if p < 0.0 {
            continue;
        }
        let e = observed[off + k].ln_1p() - p.ln_1p();
        let coef = -2.0 * w * e / ((1.0 + p) * total);
        for (g, dp) in grad.iter_mut().zip(dpred[off + k]) {
            *g += coef * dp;
        }
    }
    grad
}

/// The loss and its two parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossValue {
    /// The objective.
    pub msle: f64,
    /// Weighted MSLE of cumulative cases.
    pub msle_cases: f64,
    /// Weighted MSLE of cumulative deaths.
    pub msle_deaths: f64,
}

/// Observed series the loss compares against.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Cumulative cases, one per training day.
    pub cases: &'a [f64],
    /// Cumulative deaths, one per training day.
    pub deaths: &'a [f64],
}

impl LossConfig {
    fn combine(&self, cases: f64, deaths: f64) -> f64 {
        if self.cases_only {
            cases
        } else {
            0.5 * (cases + deaths)
        }
    }

    /// Scores a trajectory covering (at least) the training days.
    pub fn evaluate(&self, obs: Observed<'_>, tr: &Trajectory) -> LossValue {
        let n = obs.cases.len();
        let w = recency_weights(self.window, n);
        let cases = tr.cases();
        let deaths = tr.deaths();
        let msle_cases = weighted_msle(obs.cases, &cases[..n], &w);
        let msle_deaths = weighted_msle(obs.deaths, &deaths[..n], &w);
        LossValue {
            msle: self.combine(msle_cases, msle_deaths),
            msle_cases,
            msle_deaths,
        }
    }

    /// Scores a trajectory and returns the exact gradient of the objective
    /// with respect to the seven parameters, from the forward sensitivities.
    pub fn evaluate_with_gradient(
        &self,
        obs: Observed<'_>,
        st: &SensitivityTrajectory,
    ) -> (LossValue, [f64; N_PARAMS]) {
        let tr = &st.trajectory;
        let n = obs.cases.len();
        let value = self.evaluate(obs, tr);
        let w = recency_weights(self.window, n);
        // Cases = I + R + D, deaths = D, before clipping.
        let raw_cases: Vec<f64> = (0..n).map(|d| tr.i[d] + tr.r[d] + tr.d[d]).collect();
        let (dcases, ddeaths): (Vec<_>, Vec<_>) = st.sensitivities[..n]
            .iter()
            .map(|s| {
                let mut dc = [0.0; N_PARAMS];
                for (j, v) in dc.iter_mut().enumerate() {
                    *v = s[2][j] + s[3][j] + s[4][j];
                }
                (dc, s[4])
            })
            .unzip();
        let gc = weighted_msle_gradient(obs.cases, &raw_cases, &dcases, &w);
        let mut grad = gc;
        if !self.cases_only {
            let gd = weighted_msle_gradient(obs.deaths, &tr.d[..n], &ddeaths, &w);
            for (g, (c, d)) in grad.iter_mut().zip(gc.iter().zip(gd)) {
                *g = 0.5 * (c + d);
            }
        }
        (value, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn weights_are_recency_ordered() {
        let w = recency_weights(20, 30);
        assert_eq!(w.len(), 20);
        assert_relative_eq!(w[0], 1.0 / 20.0);
        assert_relative_eq!(w[19], 1.0);
        assert_eq!(recency_weights(20, 3), vec![1.0 / 3.0, 0.5, 1.0]);
    }

    #[test]
    fn msle_matches_hand_computation() {
        // Three days, weights 1/3, 1/2, 1; errors log1p(y) - log1p(p):
        // day 1: y=e-1, p=0 -> 1; day 2: y=0, p=e^2-1 -> -2; day 3: exact -> 0.
        let e = std::f64::consts::E;
        let obs = [e - 1.0, 0.0, 5.0];
        let pred = [0.0, e * e - 1.0, 5.0];
        let w = recency_weights(20, 3);
        let expected = (1.0 / 3.0 * 1.0 + 0.5 * 4.0 + 0.0) / (1.0 / 3.0 + 0.5 + 1.0);
        assert_relative_eq!(
            weighted_msle(&obs, &pred, &w),
            expected,
            max_relative = 1e-14
        );
        // Negative predictions are clipped to 0.
        let clipped = [-3.0, e * e - 1.0, 5.0];
        assert_relative_eq!(
            weighted_msle(&obs, &clipped, &w),
            expected,
            max_relative = 1e-14
        );
    }

    #[test]
    fn only_the_last_window_days_count() {
        let obs = [100.0, 1.0, 2.0];
        let pred = [0.0, 1.0, 2.0];
        let w = recency_weights(2, 3);
        assert_eq!(weighted_msle(&obs, &pred, &w), 0.0);
    }
}
