//! Data-only point forecasts of the daily increase, the members that need no
//! fit: a damped log-linear trend of the 7-day mean daily increase (Holt's
//! damped trend in the log of the weekly rate, Gardner & McKenzie 1985, with
//! the trend estimated over two weeks), and for deaths the cases' recent
//! course, lagged.
//!
//! Why these: persistence (the last week's mean, continued) is late by half
//! a week and blind to growth; the growth of the weekly rate over the last
//! two weeks, damped so that it fades within a few weeks, corrects most of
//! that without chasing noise. Deaths follow cases by about 10 days, so the
//! cases already observed tell where deaths go 1-2 weeks ahead. Every
//! constant below was chosen on the JHU global data at origins 2020-04-15 +
//! 14 k and checked on the interleaved origins 2020-04-22 + 14 k (ratios to
//! persistence's median absolute log error within 0.04 of each other).
//!
//! ## Reference
//! Gardner & McKenzie (1985), "Forecasting trends in time series",
//! Management Science 31(10): 1237-1246 (damped trend).

use super::baseline::recent_rate;

/// Days over which the growth of the weekly rate is measured.
pub const TREND_SPAN: usize = 14;
/// Damping of the growth per week: the growth rate after `w` weeks is
/// `TREND_DAMPING^w` of today's. Strong on purpose: waves turn within
/// weeks, and an undamped trend loses to persistence at 28 days.
pub const TREND_DAMPING: f64 = 0.3;
/// Damping per week of a decline. Weaker than [`TREND_DAMPING`]: growth is
/// stopped by interventions and behaviour within weeks, while the decay after
/// a peak goes on for a month or more. Measured on the JHU backtest (origins
/// 2020-04-15 + 14 k; checked on 2020-04-22 + 14 k): with 0.3 for both
/// signs the cases' median absolute log error was 0.93, 0.92 and 0.94 of
/// persistence's at 7, 14 and 28 days; with 0.8 for declines 0.91, 0.91 and
/// 0.94 (on the check origins 0.91, 0.94, 0.97 before and 0.90, 0.93, 0.94
/// after).
pub const DECLINE_DAMPING: f64 = 0.8;
/// Over-dispersion of weekly counts against Poisson noise, used to shrink a
/// trend that noise could explain. Reporting (weekday batches, backlogs)
/// makes weekly counts far noisier than Poisson; 10 is a typical negative
/// binomial over-dispersion for these series. Measured as above, the
/// cases' errors at 14 days fell from 0.91 to 0.89 of persistence's (0.93
/// to 0.92 on the check origins), and the deaths' at 7 days from 0.98 to
/// 0.93 (0.96 to 0.95).
pub const OVERDISPERSION: f64 = 10.0;
/// Largest growth rate per day, either way (a doubling in a week).
pub const MAX_GROWTH: f64 = 0.1;
/// Days by which deaths follow cases.
pub const DEATH_LAG: usize = 10;
/// Largest factor the lagged cases may move the deaths' rate, either way.
const MAX_LAG_FACTOR: f64 = 4.0;

/// The rate (mean daily increase of the last 7 days) of `cum[..=i]`.
fn rate_at(cum: &[f64], i: usize) -> f64 {
    recent_rate(&cum[..=i])
}

/// The daily increases of a cumulative series for days 1..=h after its last
/// day: the last week's mean daily increase `r1`, grown by the damped
/// log-linear trend `g` of the rate over [`TREND_SPAN`] days. `g` is shrunk
/// towards 0 by its (over-dispersed) noise (`g^2 / (g^2 + se^2)`), so a few counts a
/// week make no trend. Too short a series, or no recent increase: plain
/// persistence.
pub fn trend_rates(cum: &[f64], h: usize) -> Vec<f64> {
    let n = cum.len();
    let r1 = recent_rate(cum);
    if n < TREND_SPAN + 8 || r1 <= 0.0 {
        return vec![r1; h];
    }
    let r0 = rate_at(cum, n - 1 - TREND_SPAN);
    let span = TREND_SPAN as f64;
    let mut g = ((r1 + 0.5) / (r0 + 0.5)).ln() / span;
    // Variance of the log of a weekly count of k: about 1/k for Poisson
    // noise, OVERDISPERSION times that for reported counts.
    let se2 = OVERDISPERSION * (1.0 / (7.0 * r1 + 1.0) + 1.0 / (7.0 * r0 + 1.0)) / (span * span);
    if g != 0.0 {
        g *= g * g / (g * g + se2);
    }
    let g = g.clamp(-MAX_GROWTH, MAX_GROWTH);
    let damping = if g < 0.0 {
        DECLINE_DAMPING
    } else {
        TREND_DAMPING
    };
    let phi = damping.powf(1.0 / 7.0);
    // The last week's mean is centred 3 days before the last day: day d is
    // d + 3 days of (damped) growth after it.
    let mut damp: f64 = (1..=3).map(|j| phi.powi(j)).sum();
    (1..=h)
        .map(|d| {
            damp += phi.powi(d as i32 + 3);
            r1 * (g * damp).exp()
        })
        .collect()
}

/// The daily increases of deaths for days 1..=h after the last day, from
/// the deaths and cases observed up to it (same length). The first week is
/// half trend, half persistence (deaths a week ahead are mostly already
/// determined; measured, anything bolder loses to persistence at 7 days);
/// from day 14 on, the deaths' rate moves as the cases' rate did
/// [`DEATH_LAG`] days earlier (observed cases up to day `DEATH_LAG`, the
/// cases' trend after), with a linear hand-over in between.
pub fn death_rates(deaths: &[f64], cases: &[f64], h: usize) -> Vec<f64> {
    let n = deaths.len().min(cases.len());
    let r1 = recent_rate(deaths);
    let own = trend_rates(deaths, h);
    if n < DEATH_LAG + 8 {
        return own.iter().map(|t| 0.5 * t + 0.5 * r1).collect();
    }
    let base = rate_at(cases, n - 1 - DEATH_LAG);
    let case_trend = trend_rates(&cases[..n], h);
    (1..=h)
        .map(|day| {
            // Index of the cases day whose rate leads this deaths day.
            let j = n - 1 + day - DEATH_LAG;
            let rc = if j < n {
                rate_at(cases, j)
            } else {
                case_trend[j - n]
            };
            let lagged =
                r1 * ((rc + 1.0) / (base + 1.0)).clamp(1.0 / MAX_LAG_FACTOR, MAX_LAG_FACTOR);
            let a = ((day as f64 - 7.0) / 7.0).clamp(0.0, 1.0);
            a * lagged + (1.0 - a) * (0.5 * own[day - 1] + 0.5 * r1)
        })
        .collect()
}

/// Running sums of `rates`: the increase since the last day, days 1..=h.
pub fn accumulate(rates: &[f64]) -> Vec<f64> {
    let mut total = 0.0;
    rates
        .iter()
        .map(|r| {
            total += r;
            total
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// A cumulative series whose daily increase is `a e^(g t)` on day t.
    fn exponential(a: f64, g: f64, n: usize) -> Vec<f64> {
        let mut cum = vec![0.0];
        for t in 1..n {
            cum.push(cum[t - 1] + a * (g * t as f64).exp());
        }
        cum
    }

    #[test]
    fn a_linear_series_is_continued_exactly() {
        // Constant daily increase: no growth, the forecast is persistence.
        let cum: Vec<f64> = (0..60).map(|t| 500.0 * t as f64).collect();
        for r in trend_rates(&cum, 28) {
            assert_relative_eq!(r, 500.0, max_relative = 1e-12);
        }
    }

    #[test]
    fn a_decline_is_damped_less_than_growth() {
        // Daily increases of 1e8 e^(-0.03 t): the decline's log slope is
        // recovered and fades at DECLINE_DAMPING per week, not TREND_DAMPING.
        let g = -0.03;
        let cum = exponential(1e8, g, 80);
        let r = trend_rates(&cum, 28);
        let r1 = recent_rate(&cum);
        let phi = DECLINE_DAMPING.powf(1.0 / 7.0);
        let damp = |d: usize| (1..=d + 3).map(|j| phi.powi(j as i32)).sum::<f64>();
        for d in [1usize, 7, 28] {
            assert_relative_eq!(r[d - 1], r1 * (g * damp(d)).exp(), max_relative = 1e-6);
        }
        // Growth at the same speed is damped harder: its rate after 28
        // days is further from today's than the decline's is.
        let up = trend_rates(&exponential(1e8, -g, 80), 28);
        let up1 = recent_rate(&exponential(1e8, -g, 80));
        assert!((up[27] / up1).ln() < (r1 / r[27]).ln());
    }

    #[test]
    fn exponential_growth_is_recovered_and_damped() {
        // Daily increases of 1e8 e^(0.03 t): large counts, so the shrinkage
        // leaves g; the weekly mean's log grows at exactly 0.03 a day.
        let g = 0.03;
        let cum = exponential(1e8, g, 80);
        let r = trend_rates(&cum, 28);
        let r1 = recent_rate(&cum);
        let phi = TREND_DAMPING.powf(1.0 / 7.0);
        let damp = |d: usize| (1..=d + 3).map(|j| phi.powi(j as i32)).sum::<f64>();
        for d in [1usize, 7, 28] {
            assert_relative_eq!(r[d - 1], r1 * (g * damp(d)).exp(), max_relative = 1e-6);
        }
        // The damped growth stays below the undamped: 3 days + 28 days of
        // growth at 0.03 would be e^0.93.
        assert!(r[27] < r1 * (g * 31.0).exp());
        assert!(r[27] > r1);
        // The total growth is bounded: sum of phi^j = phi / (1 - phi).
        assert!(r[27] < r1 * (g * phi / (1.0 - phi)).exp());
    }

    #[test]
    fn a_few_counts_make_no_trend() {
        // 1 death a week, then 3 a week: Poisson noise, not a trend.
        let mut cum = vec![0.0; 40];
        for t in 1..40 {
            cum[t] = cum[t - 1] + if t >= 33 { 3.0 / 7.0 } else { 1.0 / 7.0 };
        }
        let r = trend_rates(&cum, 14);
        let r1 = recent_rate(&cum);
        assert!(r[13] < r1 * 1.2, "{} vs {r1}", r[13]);
    }

    #[test]
    fn deaths_follow_the_cases_with_a_lag() {
        // Cases doubled 10 days ago (rate 1000 -> 2000) and stayed there;
        // deaths ran at 10 a day. From day 14 on, the deaths' rate moves as
        // the cases' did 10 days before: day 14 follows case day +4, which
        // is the cases' trend, against the base rate 1000 of day -10.
        let n = 60;
        let mut cases = vec![0.0; n];
        let mut deaths = vec![0.0; n];
        for t in 1..n {
            let rc = if t + 10 >= n { 2000.0 } else { 1000.0 };
            cases[t] = cases[t - 1] + rc;
            deaths[t] = deaths[t - 1] + 10.0;
        }
        let r = death_rates(&deaths, &cases, 28);
        let ct = trend_rates(&cases, 28);
        assert!(ct[3] > 2000.0);
        assert_relative_eq!(r[13], 10.0 * (ct[3] + 1.0) / 1001.0, max_relative = 1e-12);
        // Day 10 is half-way through the hand-over, led by the observed
        // cases of the last day (rate 2000).
        let lagged = 10.0 * 2001.0 / 1001.0;
        assert_relative_eq!(
            r[9],
            3.0 / 7.0 * lagged + 4.0 / 7.0 * 10.0,
            max_relative = 1e-12
        );
        // Day 1: half persistence, half the deaths' own (flat) trend.
        assert_relative_eq!(r[0], 10.0, max_relative = 1e-9);
        assert_eq!(accumulate(&[1.0, 2.0, 3.0]), [1.0, 3.0, 6.0]);
    }
}
