//! The prior art's loss: a recency-weighted mean squared log error over the
//! last `min(window, n)` days, weights `1/w, 1/(w-1), ..., 1/1` (the newest
//! day weighs most), on `log1p` of cumulative counts; the objective is the
//! mean of the cases and deaths errors, or the cases error alone.
//!
//! It is scikit-learn's `mean_squared_log_error(y, yhat, sample_weight=w)`,
//! i.e. `sum w (log1p(y) - log1p(yhat))^2 / sum w`, with predictions
//! clipped at 0 as the prior art clips them.

use super::LossConfig;
use crate::model::{DaySensitivity, SensitivityTrajectory, Trajectory, N_PARAMS};

/// The weights of the last `min(window, n)` days, oldest first:
/// `1/m, 1/(m-1), ..., 1/1` with `m = min(window, n)`.
pub fn recency_weights(window: usize, n: usize) -> Vec<f64> {
    let m = window.min(n);
    (0..m).map(|j| 1.0 / (m - j) as f64).collect()
}

/// Weighted MSLE of the last `weights.len()` entries of `observed` and
/// `predicted` (predictions below 0 count as 0); `None` when either series
/// is shorter than the weights or there is no weight.
pub fn weighted_msle(observed: &[f64], predicted: &[f64], weights: &[f64]) -> Option<f64> {
    let m = weights.len();
    if m == 0 || observed.len() < m || predicted.len() < m {
        return None;
    }
    let (obs, pred) = (
        &observed[observed.len() - m..],
        &predicted[predicted.len() - m..],
    );
    let total: f64 = weights.iter().sum();
    Some(
        weights
            .iter()
            .zip(obs.iter().zip(pred))
            .map(|(w, (y, p))| {
                let e = y.ln_1p() - p.max(0.0).ln_1p();
                w * e * e
            })
            .sum::<f64>()
            / total,
    )
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
    /// Scores a trajectory covering (at least) the training days, through
    /// [`ScoredDays`] like the fit.
    pub fn evaluate(&self, obs: Observed<'_>, tr: &Trajectory) -> LossValue {
        let scored = ScoredDays::new(self, obs);
        let mut sums = LossSums::default();
        for d in scored.first_day()..obs.cases.len() {
            scored.add(&mut sums, d, &day_state(tr, d));
        }
        scored.value(&sums)
    }

    /// Scores a trajectory and returns the exact gradient of the objective
    /// with respect to the seven parameters, from the forward sensitivities.
    pub fn evaluate_with_gradient(
        &self,
        obs: Observed<'_>,
        st: &SensitivityTrajectory,
    ) -> (LossValue, [f64; N_PARAMS]) {
        let scored = ScoredDays::new(self, obs);
        let mut sums = LossSums::default();
        for d in scored.first_day()..obs.cases.len() {
            scored.add_with_gradient(
                &mut sums,
                d,
                &day_state(&st.trajectory, d),
                &st.sensitivities[d],
            );
        }
        scored.value_and_gradient(&sums)
    }
}

/// `[S, E, I, R, D]` of day `d`.
fn day_state(tr: &Trajectory, d: usize) -> [f64; 5] {
    [tr.s[d], tr.e[d], tr.i[d], tr.r[d], tr.d[d]]
}

/// The loss prepared for one region's observations: the weights and the
/// `log1p` of the observed days it scores, computed once per fit, so that
/// scoring a solve needs no allocation and no logarithm of the data. It
/// takes the days one by one as the solver hands them out
/// ([`crate::model::for_each_day`]); [`LossConfig::evaluate`] feeds it a
/// whole trajectory. It agrees with [`weighted_msle`] and the gradient
/// formula to the last bit (tested below). Measured: building trajectories
/// spent a fifth of a loss evaluation allocating vectors and taking `log1p`
/// of the observations.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredDays {
    first: usize,
    weights: Vec<f64>,
    total: f64,
    log_cases: Vec<f64>,
    log_deaths: Vec<f64>,
    cases_only: bool,
}

/// Running sums of one scoring pass (see [`ScoredDays`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct LossSums {
    cases: f64,
    deaths: f64,
    grad_cases: [f64; N_PARAMS],
    grad_deaths: [f64; N_PARAMS],
}

impl ScoredDays {
    /// Prepares the loss of `config` for the observations `obs`.
    pub fn new(config: &LossConfig, obs: Observed<'_>) -> Self {
        let n = obs.cases.len();
        let weights = recency_weights(config.window, n);
        let first = n - weights.len();
        ScoredDays {
            first,
            total: weights.iter().sum(),
            weights,
            log_cases: obs.cases[first..].iter().map(|y| y.ln_1p()).collect(),
            log_deaths: obs.deaths[first..].iter().map(|y| y.ln_1p()).collect(),
            cases_only: config.cases_only,
        }
    }

    /// The first day that is scored; earlier days need not be handed in.
    pub fn first_day(&self) -> usize {
        self.first
    }

    /// Adds day `day` with compartments `y = [S, E, I, R, D]`.
    #[inline]
    pub fn add(&self, sums: &mut LossSums, day: usize, y: &[f64; 5]) {
        let Some(k) = day.checked_sub(self.first) else {
            return;
        };
        let w = self.weights[k];
        let e = self.log_cases[k] - (y[2] + y[3] + y[4]).max(0.0).ln_1p();
        sums.cases += w * e * e;
        let e = self.log_deaths[k] - y[4].max(0.0).ln_1p();
        sums.deaths += w * e * e;
    }

    /// Adds day `day` with compartments `y` and their sensitivities `s`.
    #[inline]
    pub fn add_with_gradient(
        &self,
        sums: &mut LossSums,
        day: usize,
        y: &[f64; 5],
        s: &DaySensitivity,
    ) {
        let Some(k) = day.checked_sub(self.first) else {
            return;
        };
        let w = self.weights[k];
        // Cases = I + R + D and deaths = D, clipped at 0 for the value; a
        // negative prediction has no gradient. One log1p each serves both
        // (for p >= 0 the clipped and raw predictions are the same number).
        let p = y[2] + y[3] + y[4];
        let e = self.log_cases[k] - p.max(0.0).ln_1p();
        sums.cases += w * e * e;
        if p >= 0.0 {
            let coef = -2.0 * w * e / ((1.0 + p) * self.total);
            for (j, g) in sums.grad_cases.iter_mut().enumerate() {
                *g += coef * (s[2][j] + s[3][j] + s[4][j]);
            }
        }
        let p = y[4];
        let e = self.log_deaths[k] - p.max(0.0).ln_1p();
        sums.deaths += w * e * e;
        if p >= 0.0 {
            let coef = -2.0 * w * e / ((1.0 + p) * self.total);
            for (g, dp) in sums.grad_deaths.iter_mut().zip(s[4]) {
                *g += coef * dp;
            }
        }
    }

    /// The loss of the days added.
    pub fn value(&self, sums: &LossSums) -> LossValue {
        let (msle_cases, msle_deaths) = (sums.cases / self.total, sums.deaths / self.total);
        LossValue {
            msle: if self.cases_only {
                msle_cases
            } else {
                0.5 * (msle_cases + msle_deaths)
            },
            msle_cases,
            msle_deaths,
        }
    }

    /// The loss of the days added and its gradient.
    pub fn value_and_gradient(&self, sums: &LossSums) -> (LossValue, [f64; N_PARAMS]) {
        let mut grad = sums.grad_cases;
        if !self.cases_only {
            for (g, (c, d)) in grad
                .iter_mut()
                .zip(sums.grad_cases.iter().zip(sums.grad_deaths))
            {
                *g = 0.5 * (c + d);
            }
        }
        (self.value(sums), grad)
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
            weighted_msle(&obs, &pred, &w).unwrap(),
            expected,
            max_relative = 1e-14
        );
        // Negative predictions are clipped to 0.
        let clipped = [-3.0, e * e - 1.0, 5.0];
        assert_relative_eq!(
            weighted_msle(&obs, &clipped, &w).unwrap(),
            expected,
            max_relative = 1e-14
        );
    }

    #[test]
    fn only_the_last_window_days_count() {
        let obs = [100.0, 1.0, 2.0];
        let pred = [0.0, 1.0, 2.0];
        let w = recency_weights(2, 3);
        assert_eq!(weighted_msle(&obs, &pred, &w), Some(0.0));
        assert_eq!(weighted_msle(&obs[..1], &pred, &w), None);
        assert_eq!(weighted_msle(&obs, &pred, &[]), None);
    }

    /// A made-up trajectory with made-up sensitivities (some predictions
    /// negative), scored both ways.
    fn made_up(n: usize) -> (Vec<f64>, Vec<f64>, SensitivityTrajectory) {
        let f = |d: usize, c: f64| ((d as f64 + 1.0) * c).sin() * 50.0 + d as f64 * c;
        let trajectory = Trajectory {
            t: (0..n).map(|d| d as f64).collect(),
            s: (0..n).map(|d| 1e6 - f(d, 3.0)).collect(),
            e: (0..n).map(|d| f(d, 1.5)).collect(),
            i: (0..n).map(|d| f(d, 2.0)).collect(),
            r: (0..n).map(|d| f(d, 0.7)).collect(),
            d: (0..n).map(|d| f(d, 0.1) - 3.0).collect(),
        };
        let sensitivities = (0..n)
            .map(|d| {
                let mut s = [[0.0; N_PARAMS]; 5];
                for (i, row) in s.iter_mut().enumerate() {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = f(d, 0.3 + i as f64 + 0.1 * j as f64);
                    }
                }
                s
            })
            .collect();
        let cases = (0..n).map(|d| 10.0 * d as f64 + 1.0).collect();
        let deaths = (0..n).map(|d| d as f64 / 3.0).collect();
        (
            cases,
            deaths,
            SensitivityTrajectory {
                trajectory,
                sensitivities,
            },
        )
    }

    /// Reference: the gradient of [`weighted_msle`] with respect to the predictions, through
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

    #[test]
    fn scored_days_agree_with_the_reference_formulas_to_the_bit() {
        for (n, cases_only) in [(35, false), (35, true), (7, false)] {
            let (cases, deaths, st) = made_up(n);
            let config = LossConfig {
                window: 20,
                cases_only,
            };
            let obs = Observed {
                cases: &cases,
                deaths: &deaths,
            };
            let tr = &st.trajectory;
            // The reference: whole series through weighted_msle and its gradient.
            let w = recency_weights(config.window, n);
            let (msle_cases, msle_deaths) = (
                weighted_msle(&cases, &tr.cases(), &w).unwrap(),
                weighted_msle(&deaths, &tr.deaths(), &w).unwrap(),
            );
            let value = LossValue {
                msle: if cases_only {
                    msle_cases
                } else {
                    0.5 * (msle_cases + msle_deaths)
                },
                msle_cases,
                msle_deaths,
            };
            let raw_cases: Vec<f64> = (0..n).map(|d| tr.i[d] + tr.r[d] + tr.d[d]).collect();
            let dcases: Vec<[f64; N_PARAMS]> = st
                .sensitivities
                .iter()
                .map(|s| std::array::from_fn(|j| s[2][j] + s[3][j] + s[4][j]))
                .collect();
            let ddeaths: Vec<[f64; N_PARAMS]> = st.sensitivities.iter().map(|s| s[4]).collect();
            let gc = weighted_msle_gradient(&cases, &raw_cases, &dcases, &w);
            let mut grad = gc;
            if !cases_only {
                let gd = weighted_msle_gradient(&deaths, &tr.d, &ddeaths, &w);
                for (g, (c, d)) in grad.iter_mut().zip(gc.iter().zip(gd)) {
                    *g = 0.5 * (c + d);
                }
            }

            let scored = ScoredDays::new(&config, obs);
            assert_eq!(scored.first_day(), n.saturating_sub(20));
            let mut plain = LossSums::default();
            let mut with_grad = LossSums::default();
            // Days before the window may be handed in and are ignored.
            for d in 0..n {
                scored.add(&mut plain, d, &day_state(tr, d));
                scored.add_with_gradient(
                    &mut with_grad,
                    d,
                    &day_state(tr, d),
                    &st.sensitivities[d],
                );
            }
            assert_eq!(scored.value(&plain), value);
            assert_eq!(scored.value_and_gradient(&with_grad), (value, grad));
            assert_eq!(config.evaluate(obs, tr), value);
            assert_eq!(config.evaluate_with_gradient(obs, &st), (value, grad));
        }
    }
}
