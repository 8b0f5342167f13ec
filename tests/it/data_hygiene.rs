//! The decline policies on the real regions that need them (96 regions of
//! the JHU data have cumulative counts that fall), and through the training
//! window that the fit sees.

use crate::common;

use std::path::PathBuf;

use approx::assert_relative_eq;
use chrono::NaiveDate;
use seird_fit::data::{self, apply_decline_policy, DeclinePolicy, LoadOptions, WindowOptions};

/// The shared real data (see `common::shared_data`).
fn real_data() -> Option<PathBuf> {
    common::shared_data()
}

fn is_monotone(s: &[f64]) -> bool {
    s.windows(2).all(|w| w[1] >= w[0])
}

#[test]
fn every_policy_does_what_it_says_on_every_declining_real_region() {
    let Some(dir) = real_data() else { return };
    let ds = data::load(&dir.join("jhu"), &LoadOptions::default()).unwrap();
    let declining: Vec<_> = ds
        .regions
        .iter()
        .filter(|r| data::count_decline_days(&r.cases, &r.deaths) > 0)
        .collect();
    assert_eq!(declining.len(), 96);
    for r in declining {
        for raw in [&r.cases, &r.deaths] {
            let mut keep = raw.clone();
            apply_decline_policy(&mut keep, DeclinePolicy::Keep);
            assert_eq!(&keep, raw);

            let mut rm = raw.clone();
            apply_decline_policy(&mut rm, DeclinePolicy::RunningMax);
            assert!(is_monotone(&rm), "{}", r.key);
            for (m, v) in rm.iter().zip(raw.iter()) {
                assert!(m >= v, "{}: running max below the data", r.key);
            }

            let mut rd = raw.clone();
            apply_decline_policy(&mut rd, DeclinePolicy::Redistribute);
            // Monotone up to rounding of the scale factors.
            assert!(
                rd.windows(2).all(|w| w[1] >= w[0] * (1.0 - 1e-12)),
                "{}: redistributed series falls",
                r.key
            );
            // The total (last value) is kept exactly, nothing rises above the
            // data and nothing goes negative.
            assert_eq!(rd.last(), raw.last());
            for (d, v) in rd.iter().zip(raw.iter()) {
                assert!(*d <= *v && *d >= 0.0, "{}", r.key);
            }
        }
    }
}

#[test]
fn italy_corrections_under_each_policy() {
    // Italy's cumulative cases fell once, 238159 -> 238011 on 2020-06-19,
    // and its deaths once, 34675 -> 34644 on 2020-06-24.
    let Some(dir) = real_data() else { return };
    let ds = data::load(&dir.join("kaggle/train.csv"), &LoadOptions::default()).unwrap();
    let it = ds.find("Italy", None).unwrap();
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let window = |policy| WindowOptions {
        end: Some(day("2020-06-30")),
        decline_policy: policy,
        ..Default::default()
    };
    let keep = it.training_data(&window(DeclinePolicy::Keep)).unwrap();
    let rm = it
        .training_data(&window(DeclinePolicy::RunningMax))
        .unwrap();
    let rd = it
        .training_data(&window(DeclinePolicy::Redistribute))
        .unwrap();
    assert_eq!(keep.decline_days, 2);
    let at = |t: &data::TrainingData, s: &str| t.dates.iter().position(|d| *d == day(s)).unwrap();

    assert_eq!(keep.cases[at(&keep, "2020-06-19")], 238011.0);
    assert_eq!(rm.cases[at(&rm, "2020-06-19")], 238159.0);
    // Redistribute scales every earlier day by 238011/238159; 2020-04-30
    // had 205463 cases as reported.
    assert_relative_eq!(
        rd.cases[at(&rd, "2020-04-30")],
        205463.0 * 238011.0 / 238159.0,
        max_relative = 1e-12
    );
    assert_eq!(rd.cases[at(&rd, "2020-06-19")], 238011.0);
    assert_relative_eq!(
        rd.deaths[at(&rd, "2020-06-23")],
        34644.0,
        max_relative = 1e-12
    );
    // Days after the last correction are untouched by every policy.
    let last = at(&keep, "2020-06-30");
    assert_eq!(keep.cases[last], rd.cases[at(&rd, "2020-06-30")]);
    assert_eq!(keep.cases[last], rm.cases[at(&rm, "2020-06-30")]);
}
