//! End-to-end fits: recovery of known parameters from synthetic data, the
//! real Italy fit against the scipy prior art's loss, and the failure modes.

use crate::common;

use approx::assert_relative_eq;
use seird_fit::data::{self, LoadOptions, WindowOptions};
use seird_fit::error::FitError;
use seird_fit::fit::{fit, forecast, FitConfig, GradientMethod};
use seird_fit::model::{OdeSettings, OdeSolver, Params};

fn config(gradient: GradientMethod) -> FitConfig {
    let mut c = FitConfig::default();
    c.optimizer.gradient = gradient;
    c
}

#[test]
fn recovers_the_parameters_of_noise_free_synthetic_data() {
    // Scored over every day, cases and deaths pin down the epidemic curve.
    let truth = Params {
        r_0: 3.2,
        theta: 0.03,
        k: 2.5,
        l: 30.0,
        r_t: 0.7,
        d_rec: 9.0,
        d_inc: 5.2,
    };
    let data = common::synthetic(&truth, 5e6, 3.0, 100, false);
    let mut cfg = config(GradientMethod::Sensitivity);
    cfg.loss.window = 100;
    cfg.ode = OdeSettings {
        rtol: 1e-10,
        atol: 1e-8,
        max_steps: 100_000,
        solver: OdeSolver::Native,
    };
    cfg.optimizer.ftol = 1e-15;
    cfg.optimizer.gtol = 1e-10;
    let r = fit(&data, &cfg).unwrap();
    assert!(r.loss.msle < 1e-10, "loss {}", r.loss.msle);
    let (got, want) = (r.params.to_array(), truth.to_array());
    for j in 0..7 {
        assert_relative_eq!(got[j], want[j], max_relative = 1e-3);
    }
}

fn italy() -> Option<seird_fit::data::TrainingData> {
    let dir = common::shared_data()?;
    let ds = data::load(&dir.join("kaggle/train.csv"), &LoadOptions::default()).unwrap();
    let series = ds.find("italy", None).unwrap();
    Some(
        series
            .training_data(&WindowOptions {
                end: chrono::NaiveDate::from_ymd_opt(2020, 4, 30),
                ..Default::default()
            })
            .unwrap(),
    )
}

#[test]
fn italy_fit_reaches_the_prior_arts_loss() {
    let Some(data) = italy() else { return };
    assert_eq!(data.dates.len(), 91);
    // scipy L-BFGS-B (solve_ivp RK45, rtol 1e-3) from the same start reports
    // 1.51e-5 with its own loose solver; re-scored by a tight DOP853 solve
    // its parameters are worth 1.47e-4 (reports/prior_art_12.json).
    let r = fit(&data, &FitConfig::default()).unwrap();
    assert!(r.loss.msle <= 1.47e-4, "msle {}", r.loss.msle);
    assert_eq!(r.optimizer.solve_failures, 0);
    assert!(
        r.optimizer.termination.starts_with("CONVERGENCE"),
        "{}",
        r.optimizer.termination
    );
    let f = forecast(&data, &r.params, &r.config).unwrap();
    assert_eq!(f.dates.len(), 91 + 28);
    assert_relative_eq!(f.cases[90], data.cases[90], max_relative = 0.02);
}

#[test]
fn every_gradient_method_fits_italy() {
    let Some(data) = italy() else { return };
    for g in [GradientMethod::TwoPoint, GradientMethod::ThreePoint] {
        let r = fit(&data, &config(g)).unwrap();
        assert!(r.loss.msle < 1e-3, "{g:?}: msle {}", r.loss.msle);
        assert_eq!(r.optimizer.gradient, g.name());
        // Finite differences spend one (2-point) or two (3-point) solves per parameter.
        assert!(r.optimizer.loss_evals >= 7 * r.optimizer.gradient_evals);
    }
}

#[test]
fn fitted_parameters_stay_inside_the_box() {
    let Some(data) = italy() else { return };
    let r = fit(&data, &FitConfig::default()).unwrap();
    let (p, lo, hi) = (
        r.params.to_array(),
        r.config.bounds.lower.to_array(),
        r.config.bounds.upper.to_array(),
    );
    for j in 0..7 {
        assert!(
            lo[j] <= p[j] && p[j] <= hi[j],
            "param {j} = {} outside",
            p[j]
        );
    }
    for name in &r.at_bound {
        let j = seird_fit::model::PARAM_NAMES
            .iter()
            .position(|n| n == name)
            .unwrap();
        assert!(
            p[j] == lo[j]
                || p[j] == hi[j]
                || (p[j] - lo[j]).abs() < 1e-9
                || (hi[j] - p[j]).abs() < 1e-9
        );
    }
}

#[test]
fn a_start_point_that_cannot_be_solved_is_an_error_naming_it() {
    let truth = Params::DEFAULT_START;
    let data = common::synthetic(&truth, 1e6, 5.0, 40, true);
    let mut cfg = FitConfig::default();
    cfg.ode.max_steps = 10;
    match fit(&data, &cfg) {
        Err(FitError::StartPoint { params, source }) => {
            assert!(params.contains("r_0=1.8"), "{params}");
            assert!(source.to_string().contains("steps"), "{source}");
        }
        other => panic!("expected a start-point error, got {other:?}"),
    }
}

#[test]
fn a_start_point_outside_the_box_is_a_config_error() {
    let data = common::synthetic(&Params::DEFAULT_START, 1e6, 5.0, 40, true);
    let mut cfg = FitConfig::default();
    cfg.start.theta = 0.5;
    let e = fit(&data, &cfg).unwrap_err().to_string();
    assert!(e.contains("start.theta"), "{e}");
}

#[test]
fn an_objective_with_bounds_that_are_not_a_box_is_a_config_error() {
    let data = common::synthetic(&Params::DEFAULT_START, 1e6, 3.0, 30, false);
    let mut cfg = FitConfig::default();
    // Lower above upper for theta.
    cfg.bounds.lower.theta = 0.2;
    let err = seird_fit::fit::SeirdObjective::new(&data, &cfg).unwrap_err();
    assert!(matches!(err, FitError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("bounds"), "{err}");
    // The default box is one.
    assert!(seird_fit::fit::SeirdObjective::new(&data, &FitConfig::default()).is_ok());
}

/// Malformed input to the public API is an error, never a panic.
#[test]
fn malformed_input_is_an_error_not_a_panic() {
    use seird_fit::batch::Shard;
    use seird_fit::data::{DeclinePolicy, RegionKey, TrainingData};
    use seird_fit::error::FitError as E;

    assert!(Params::from_slice(&[1.0, 2.0]).is_err());
    assert_eq!(
        Params::from_slice(&Params::DEFAULT_START.to_array()).unwrap(),
        Params::DEFAULT_START
    );
    assert!(Shard { index: 1, count: 0 }.select(vec![]).is_err());
    assert!(Shard { index: 3, count: 2 }.select(vec![]).is_err());

    let empty = TrainingData {
        key: RegionKey::country("Nowhere"),
        population: 1e6,
        dates: vec![],
        cases: vec![],
        deaths: vec![],
        held_out_dates: vec![],
        held_out_cases: vec![],
        held_out_deaths: vec![],
        decline_days: 0,
        decline_policy: DeclinePolicy::Keep,
    };
    let cfg = FitConfig::default();
    assert!(matches!(fit(&empty, &cfg), Err(E::Data { .. })));
    assert!(matches!(
        forecast(&empty, &Params::DEFAULT_START, &cfg),
        Err(E::Data { .. })
    ));
    assert!(matches!(
        seird_fit::fit::SeirdObjective::new(&empty, &cfg),
        Err(E::Data { .. })
    ));
}

/// A forecast whose solve fails says so; it used to be reported as a
/// failure of the start point.
#[test]
fn a_failed_forecast_is_reported_as_a_forecast_failure() {
    let truth = Params::DEFAULT_START;
    let data = common::synthetic(&truth, 1e7, 20.0, 30, true);
    let mut cfg = FitConfig::default();
    cfg.ode.max_steps = 10;
    cfg.forecast_days = 3000;
    let err = forecast(&data, &truth, &cfg).unwrap_err();
    assert!(matches!(err, FitError::Forecast { .. }), "{err}");
    assert!(err.to_string().contains("forecast"), "{err}");
}

/// fit.json says why solves failed, not only how many did.
#[test]
fn the_reason_of_failed_solves_is_reported() {
    let truth = seird_fit::model::DEMO_TRUTH;
    let data = common::synthetic(&truth, 1e7, 20.0, 60, true);
    for max_steps in [28, 30, 32, 35, 40, 45, 50, 60] {
        let mut cfg = FitConfig::default();
        cfg.ode.max_steps = max_steps;
        let Ok(r) = fit(&data, &cfg) else { continue };
        if r.optimizer.solve_failures > 0 {
            let why = r.optimizer.solve_failure.expect("a reason with the count");
            assert!(
                why.contains(&format!("more than {max_steps} steps")),
                "{why}"
            );
            return;
        }
        assert_eq!(r.optimizer.solve_failure, None);
    }
    panic!("no step budget made some solves fail and the fit succeed");
}
