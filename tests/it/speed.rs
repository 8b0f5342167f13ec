//! Work the fit saves without changing its answer (issue 14): the loss of
//! the solve with sensitivities is, to the bit, the loss of the plain solve
//! that used to re-score every run's best point and check its start, so a
//! run keeps the value it already has instead of solving again.

use crate::common;

use seird_fit::fit::{fit, start_points, FitConfig, SeirdObjective};
use seird_fit::model::Params;

fn bits(v: &seird_fit::fit::loss::LossValue) -> [u64; 3] {
    [v.msle, v.msle_cases, v.msle_deaths].map(f64::to_bits)
}

/// The premise of `SeirdObjective::scored_loss`: at the 36 designed start
/// points of three real regions (their fits' first evaluations), under
/// both scoring modes, the two solves agree to the bit, or both fail.
#[test]
fn the_solve_with_sensitivities_gives_the_plain_loss_to_the_bit() {
    let mut compared = 0;
    for country in ["Italy", "Germany", "Brazil"] {
        let Some(data) = common::jhu_to_2020_04_30(country) else {
            return;
        };
        for cases_only in [false, true] {
            let mut cfg = FitConfig::default();
            cfg.loss.cases_only = cases_only;
            let obj = SeirdObjective::new(&data, &cfg).unwrap();
            for p in start_points(&cfg) {
                match (obj.loss(&p), obj.loss_and_gradient(&p)) {
                    (Ok(a), Ok((b, _))) => {
                        assert_eq!(bits(&a), bits(&b), "{country} at {}", p.describe());
                        compared += 1;
                    }
                    (Err(_), Err(_)) => {}
                    (a, b) => panic!(
                        "{country} at {}: {a:?} vs {:?}",
                        p.describe(),
                        b.map(|v| v.0)
                    ),
                }
            }
        }
    }
    assert!(compared >= 150, "only {compared} points solved");
}

/// A fit's reported loss is that of one more solve at its parameters (as it
/// was when every run re-scored its best point), to the bit.
#[test]
fn a_fit_reports_the_loss_one_more_solve_gives() {
    let Some(data) = common::jhu_to_2020_04_30("Italy") else {
        return;
    };
    let cfg = FitConfig::default();
    let r = fit(&data, &cfg).unwrap();
    let again = SeirdObjective::new(&data, &cfg)
        .unwrap()
        .loss(&r.params)
        .unwrap();
    assert_eq!(r.loss.msle.to_bits(), again.msle.to_bits());
    assert_eq!(r.loss.msle_cases.to_bits(), again.msle_cases.to_bits());
    assert_eq!(r.loss.msle_deaths.to_bits(), again.msle_deaths.to_bits());
    // Italy's known value at this window (README, tests/it/fit.rs).
    assert!((r.loss.msle - 3.566e-6).abs() < 5e-9, "{}", r.loss.msle);
}

/// `scored_loss` answers for points evaluated, by their exact bits, and
/// for no other.
#[test]
fn scored_loss_knows_exactly_the_points_evaluated() {
    use argmin::core::{CostFunction, Gradient};
    let Some(data) = common::jhu_to_2020_04_30("Italy") else {
        return;
    };
    let cfg = FitConfig::default();
    let obj = SeirdObjective::new(&data, &cfg).unwrap();
    let p = Params::DEFAULT_START;
    assert!(obj.scored_loss(&p).is_none());
    let x = p.to_array().to_vec();
    let f = obj.cost(&x).unwrap();
    obj.gradient(&x).unwrap();
    let kept = obj.scored_loss(&p).expect("evaluated");
    assert_eq!(kept.msle.to_bits(), f.to_bits());
    assert_eq!(bits(&kept), bits(&obj.loss(&p).unwrap()));
    // One ulp away is another point; so is -0.0 for 0.0.
    let mut q = p.to_array();
    q[0] = f64::from_bits(q[0].to_bits() + 1);
    assert!(obj.scored_loss(&Params::from_array(q)).is_none());
    let mut z = p.to_array();
    z[3] = 0.0;
    obj.cost(&z.to_vec()).unwrap();
    z[3] = -0.0;
    assert!(obj.scored_loss(&Params::from_array(z)).is_none());
}

/// The start point is checked only when a run fails, yet a start the model
/// cannot solve is still the error naming it, under every gradient method
/// (the exact one solves the start with sensitivities first, the
/// finite-difference ones with the plain solve).
#[test]
fn an_unsolvable_start_is_still_named_under_every_gradient_method() {
    use seird_fit::error::FitError;
    use seird_fit::fit::GradientMethod;
    let data = common::synthetic(&Params::DEFAULT_START, 1e6, 5.0, 40, true);
    for g in [
        GradientMethod::Sensitivity,
        GradientMethod::TwoPoint,
        GradientMethod::ThreePoint,
    ] {
        let mut cfg = FitConfig::default();
        cfg.ode.max_steps = 10;
        cfg.optimizer.gradient = g;
        match fit(&data, &cfg) {
            Err(FitError::StartPoint { params, source }) => {
                assert!(params.contains("r_0=1.8"), "{params}");
                assert!(source.to_string().contains("steps"), "{source}");
            }
            other => panic!("{}: expected a start-point error, got {other:?}", g.name()),
        }
    }
}
