//! Data hygiene: what to do with cumulative series that go down.
//!
//! A cumulative count can only grow, yet 96 regions of the real JHU data
//! report days where it falls: reporting corrections (cases de-duplicated,
//! deaths re-attributed). The policy is chosen in the config (`keep` is the
//! default, because the Python prior art fits the numbers as reported) and
//! the report says how many days were affected
//! ([`count_decline_days`]).
//!
//! | policy | what it does | the last value (total) |
//! |---|---|---|
//! | `keep` | nothing | kept |
//! | `running-max` | each day becomes the largest value so far: a drop is ignored until the series climbs back | may end above the reported total |
//! | `redistribute` | each drop is spread back over the earlier days in proportion to their daily counts, so the series stays monotone | kept |
//!
//! `redistribute` is the usual back-distribution of a correction: if a region
//! reports 40 cases and the next day corrects the total to 34, the 6 cases
//! that should never have been counted are taken out of the earlier days'
//! new cases in proportion, i.e. every earlier cumulative value is scaled by
//! 34/40. Applied left to right, the series before a drop is monotone with
//! its maximum on the day before the drop, so the factor of a drop on day
//! `i` is `raw[i] / raw[i-1]`, and day `j` ends up as `raw[j]` times the
//! factors of every drop after it — computed in one backward pass. A
//! one-day spike (100, 500, 100) is thus read as a retraction and scales the
//! history down; `running-max` keeps the spike instead, and neither guesses
//! which reading is right.

use serde::{Deserialize, Serialize};

/// How to treat cumulative series that go down (reporting corrections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeclinePolicy {
    /// Keep the numbers as reported (what the prior art does).
    #[default]
    Keep,
    /// Replace each value by the running maximum so far.
    RunningMax,
    /// Spread each correction back over the earlier days, in proportion to
    /// their daily counts, so the series stays monotone and the final total
    /// is kept.
    Redistribute,
}

impl DeclinePolicy {
    /// Every policy, in the order the command line lists them.
    pub const ALL: [DeclinePolicy; 3] = [
        DeclinePolicy::Keep,
        DeclinePolicy::RunningMax,
        DeclinePolicy::Redistribute,
    ];

    /// The name used in configs, on the command line and in fit.json.
    pub fn name(self) -> &'static str {
        match self {
            DeclinePolicy::Keep => "keep",
            DeclinePolicy::RunningMax => "running-max",
            DeclinePolicy::Redistribute => "redistribute",
        }
    }
}

impl std::fmt::Display for DeclinePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Counts the days on which cases or deaths fell below the day before.
pub fn count_decline_days(cases: &[f64], deaths: &[f64]) -> usize {
    (1..cases.len())
        .filter(|&i| cases[i] < cases[i - 1] || deaths.get(i) < deaths.get(i - 1))
        .count()
}

/// Applies a [`DeclinePolicy`] to one cumulative series in place. The
/// policies only look back in time except `redistribute`, which moves a
/// correction onto the days before it: apply it to the data up to the end
/// of a training window, so no later correction leaks into the fit.
pub fn apply_decline_policy(series: &mut [f64], policy: DeclinePolicy) {
    match policy {
        DeclinePolicy::Keep => {}
        DeclinePolicy::RunningMax => {
            let mut max = f64::NEG_INFINITY;
            for v in series.iter_mut() {
                max = max.max(*v);
                *v = max;
            }
        }
        DeclinePolicy::Redistribute => {
            // Backward pass: `scale` is the product of the factors
            // raw[i]/raw[i-1] of every drop i after the current day.
            let mut scale = 1.0;
            for j in (0..series.len()).rev() {
                let raw = series[j];
                if j > 0 && raw < series[j - 1] {
                    // raw < series[j-1] implies series[j-1] > 0 for counts.
                    let factor = raw.max(0.0) / series[j - 1];
                    series[j] = raw * scale;
                    scale *= factor;
                } else {
                    series[j] = raw * scale;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn applied(raw: &[f64], policy: DeclinePolicy) -> Vec<f64> {
        let mut s = raw.to_vec();
        apply_decline_policy(&mut s, policy);
        s
    }

    #[test]
    fn keep_changes_nothing() {
        let raw = [1., 5., 3., 4., 10.];
        assert_eq!(applied(&raw, DeclinePolicy::Keep), raw);
    }

    #[test]
    fn running_max_holds_the_peak_until_the_series_climbs_back() {
        let raw = [1., 5., 3., 4., 10.];
        assert_eq!(
            applied(&raw, DeclinePolicy::RunningMax),
            [1., 5., 5., 5., 10.]
        );
    }

    #[test]
    fn redistribute_scales_earlier_days_by_the_correction() {
        // 5 -> 3 removes 2 of the 5 cases counted so far: every earlier value
        // is scaled by 3/5, so earlier daily counts (1, 4) become (0.6, 2.4).
        let raw = [1., 5., 3., 4., 10.];
        let out = applied(&raw, DeclinePolicy::Redistribute);
        let want = [0.6, 3., 3., 4., 10.];
        for (o, w) in out.iter().zip(want) {
            assert_relative_eq!(*o, w, max_relative = 1e-12);
        }
    }

    #[test]
    fn redistribute_compounds_successive_drops() {
        // Drop on day 2 (10 -> 8, factor 0.8) and day 4 (12 -> 6, factor 0.5):
        // day 0..1 get both factors, day 2..3 only the second.
        let raw = [2., 10., 8., 12., 6., 7.];
        let out = applied(&raw, DeclinePolicy::Redistribute);
        let want = [2. * 0.4, 10. * 0.4, 8. * 0.5, 12. * 0.5, 6., 7.];
        for (o, w) in out.iter().zip(want) {
            assert_relative_eq!(*o, w, max_relative = 1e-12);
        }
    }

    #[test]
    fn a_retraction_to_zero_clears_the_history() {
        let out = applied(&[0., 1., 1., 0., 0., 2.], DeclinePolicy::Redistribute);
        assert_eq!(out, [0., 0., 0., 0., 0., 2.]);
    }

    #[test]
    fn decline_days_count_cases_or_deaths() {
        assert_eq!(count_decline_days(&[1., 5., 3., 4., 10.], &[0.; 5]), 1);
        // Day 2 falls in cases, day 3 in deaths, day 4 in both: 3 days.
        assert_eq!(
            count_decline_days(&[1., 5., 3., 4., 3.], &[0., 2., 2., 1., 0.]),
            3
        );
    }
}
