//! Hand-built fits for report and batch tests: an exponential outbreak whose
//! every number is known in closed form, so the files written from it can be
//! checked value by value.

use chrono::NaiveDate;
use seird_fit::data::{DeclinePolicy, RegionKey, TrainingData};
use seird_fit::fit::{
    DataReport, FitConfig, FitResult, Forecast, LossReport, OptimizerReport, RegionInfo,
};
use seird_fit::model::{Params, Trajectory};

/// Growth rate of the synthetic outbreak, per day.
pub const GROWTH: f64 = 0.15;
/// Infection fatality share used for the synthetic deaths.
pub const FATALITY: f64 = 0.02;

/// Observed cumulative cases on day `t`: `round(10 e^{0.15 t})`.
pub fn observed_cases(t: usize) -> f64 {
    (10.0 * (GROWTH * t as f64).exp()).round()
}

/// Observed cumulative deaths on day `t`: 2% of the cases a week earlier.
pub fn observed_deaths(t: usize) -> f64 {
    if t < 7 {
        0.0
    } else {
        (FATALITY * observed_cases(t - 7)).round()
    }
}

/// Model cumulative cases on day `t` (5% above the observations' trend).
pub fn model_cases(t: usize) -> f64 {
    10.5 * (GROWTH * t as f64).exp()
}

/// Model cumulative deaths on day `t`.
pub fn model_deaths(t: usize) -> f64 {
    FATALITY * 10.5 * (GROWTH * (t as f64 - 7.0)).exp()
}

/// Model R(t): 3 falling to 0.8 around day 20.
pub fn model_r(t: usize) -> f64 {
    0.8 + (3.0 - 0.8) / (1.0 + (t as f64 / 20.0).powi(2))
}

/// A region's training data, fit and forecast: `train` training days,
/// `held` observed days after them, and a forecast of `forecast_days`.
pub fn outbreak(
    key: RegionKey,
    train: usize,
    held: usize,
    forecast_days: usize,
) -> (TrainingData, FitResult, Forecast) {
    let d0 = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
    let day = |t: usize| d0 + chrono::Duration::days(t as i64);
    let population = 1e7;
    let data = TrainingData {
        key: key.clone(),
        population,
        dates: (0..train).map(day).collect(),
        cases: (0..train).map(observed_cases).collect(),
        deaths: (0..train).map(observed_deaths).collect(),
        held_out_dates: (train..train + held).map(day).collect(),
        held_out_cases: (train..train + held).map(observed_cases).collect(),
        held_out_deaths: (train..train + held).map(observed_deaths).collect(),
        decline_days: 2,
        decline_policy: DeclinePolicy::Keep,
    };
    let n = train + forecast_days;
    let cases: Vec<f64> = (0..n).map(model_cases).collect();
    let deaths: Vec<f64> = (0..n).map(model_deaths).collect();
    // Compartments consistent with the cumulative counts: I + R + D = cases,
    // and S + E + I + R + D = N.
    let i: Vec<f64> = cases.iter().map(|c| 0.3 * c).collect();
    let d = deaths.clone();
    let r: Vec<f64> = (0..n).map(|j| cases[j] - i[j] - d[j]).collect();
    let e: Vec<f64> = cases.iter().map(|c| 0.2 * c).collect();
    let s: Vec<f64> = (0..n).map(|j| population - e[j] - cases[j]).collect();
    let forecast = Forecast {
        dates: (0..n).map(day).collect(),
        trajectory: Trajectory {
            t: (0..n).map(|j| j as f64).collect(),
            s,
            e,
            i,
            r,
            d,
        },
        cases,
        deaths,
        reproduction: (0..n).map(model_r).collect(),
        train_days: train,
        intervals: None,
    };
    let config = FitConfig {
        forecast_days,
        ..FitConfig::default()
    };
    let result = FitResult {
        region: RegionInfo {
            country: key.country.clone(),
            province: key.province.clone(),
            county: key.county.clone(),
            fips: None,
        },
        population,
        start_date: day(0),
        end_date: day(train - 1),
        train_days: train,
        params: Params {
            r_0: 3.0,
            theta: 0.15,
            k: 2.0,
            l: 20.0,
            r_t: 0.8,
            d_rec: 10.0,
            d_inc: 5.2,
        },
        at_bound: vec!["theta".into()],
        params_ci: None,
        identifiable: None,
        loss: LossReport {
            msle: 0.0125,
            msle_cases: 0.01,
            msle_deaths: 0.015,
        },
        optimizer: OptimizerReport {
            method: "L-BFGS-B".into(),
            gradient: "sensitivity".into(),
            iterations: 42,
            loss_evals: 57,
            gradient_evals: 50,
            termination: "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH".into(),
            stopped_by: "ftol".into(),
            stopping: seird_fit::optim::Stopping::Scipy,
            pg_norm: 2.5e-6,
            seconds: 0.75,
            solve_failures: 1,
            solve_failure: Some("more than 20000 steps before t = 3.5".into()),
            starts: 2,
            best_start: 1,
            start_losses: vec![2.0e-4, 1.234e-4],
            screened: 0,
        },
        data: DataReport {
            decline_days: 2,
            decline_policy: DeclinePolicy::Keep,
            held_out_days: held,
        },
        config,
        forecast: None,
    };
    (data, result, forecast)
}
