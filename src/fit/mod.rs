//! Fitting: the recency-weighted MSLE loss, the objective handed to the
//! optimizer, and [`fit`], which turns [`TrainingData`] into a [`FitResult`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::data::{DeclinePolicy, TrainingData};
use crate::model::{OdeSettings, Params, Trajectory};

/// How the loss gradient is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum GradientMethod {
    /// Forward differences (one extra solve per parameter), one-sided at a bound.
    #[serde(rename = "2-point")]
    #[value(name = "2-point")]
    TwoPoint,
    /// Central differences (two extra solves per parameter), one-sided at a bound.
    #[serde(rename = "3-point")]
    #[value(name = "3-point")]
    ThreePoint,
    /// Exact gradients from forward sensitivities integrated with the state.
    Sensitivity,
}

impl GradientMethod {
    /// The name used on the command line and in fit.json.
    pub fn name(self) -> &'static str {
        match self {
            GradientMethod::TwoPoint => "2-point",
            GradientMethod::ThreePoint => "3-point",
            GradientMethod::Sensitivity => "sensitivity",
        }
    }
}

/// Loss settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossConfig {
    /// How many of the last days are scored (weights 1/w, ..., 1/1).
    pub window: usize,
    /// Score confirmed cases only (otherwise the mean of cases and deaths).
    pub cases_only: bool,
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig {
            window: 20,
            cases_only: false,
        }
    }
}

/// L-BFGS-B settings (scipy's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    /// How the gradient is computed.
    pub gradient: GradientMethod,
    /// Number of correction pairs kept (scipy `maxcor`).
    pub memory: usize,
    /// Relative reduction of f that stops the run (scipy `ftol` = factr * eps).
    pub ftol: f64,
    /// Projected-gradient infinity norm that stops the run (scipy `gtol`).
    pub gtol: f64,
    /// Iteration limit (scipy `maxiter`).
    pub max_iters: u64,
    /// Evaluation limit (scipy `maxfun`).
    pub max_evals: u64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            gradient: GradientMethod::Sensitivity,
            memory: 10,
            ftol: 2.220_446_049_250_313e-9,
            gtol: 1e-5,
            max_iters: 15_000,
            max_evals: 15_000,
        }
    }
}

/// Lower and upper bounds of the seven parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamBounds {
    /// Lower bounds.
    pub lower: Params,
    /// Upper bounds.
    pub upper: Params,
}

impl Default for ParamBounds {
    fn default() -> Self {
        ParamBounds {
            lower: crate::model::DEFAULT_LOWER,
            upper: crate::model::DEFAULT_UPPER,
        }
    }
}

/// Everything a fit needs besides the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FitConfig {
    /// Start point of the optimizer.
    pub start: Params,
    /// Box of the parameters.
    pub bounds: ParamBounds,
    /// Loss settings.
    pub loss: LossConfig,
    /// ODE solver settings.
    pub ode: OdeSettings,
    /// Optimizer settings.
    pub optimizer: OptimizerConfig,
    /// Days to forecast past the training window.
    pub forecast_days: usize,
    /// Policy for declining cumulative series.
    pub decline_policy: DeclinePolicy,
}

impl Default for Params {
    fn default() -> Self {
        Params::DEFAULT_START
    }
}

/// The region of a fit, as written to fit.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionInfo {
    /// Country.
    pub country: String,
    /// Province or state, if any.
    pub province: Option<String>,
}

/// Final loss values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossReport {
    /// The objective: mean of cases and deaths MSLE (or cases alone).
    pub msle: f64,
    /// Weighted MSLE of cumulative cases.
    pub msle_cases: f64,
    /// Weighted MSLE of cumulative deaths.
    pub msle_deaths: f64,
}

/// What the optimizer did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerReport {
    /// `L-BFGS-B`.
    pub method: String,
    /// `2-point`, `3-point` or `sensitivity`.
    pub gradient: String,
    /// Iterations.
    pub iterations: u64,
    /// Loss evaluations (one ODE solve each, including those made for
    /// finite-difference gradients, as scipy's nfev counts them).
    pub loss_evals: u64,
    /// Gradient evaluations.
    pub gradient_evals: u64,
    /// Why it stopped.
    pub termination: String,
    /// Wall time of the fit in seconds.
    pub seconds: f64,
    /// ODE solves that failed during the fit (the line search backed off).
    pub solve_failures: u64,
}

/// Data facts recorded with a fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataReport {
    /// Days whose cumulative counts fell below the day before.
    pub decline_days: usize,
    /// Policy applied to them.
    pub decline_policy: DeclinePolicy,
    /// Observed days after the training window.
    pub held_out_days: usize,
}

/// The result of one fit; serialises to `fit.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitResult {
    /// Which region.
    pub region: RegionInfo,
    /// Population used.
    pub population: f64,
    /// First training day (model time 0).
    pub start_date: NaiveDate,
    /// Last training day.
    pub end_date: NaiveDate,
    /// Number of training days.
    pub train_days: usize,
    /// Fitted parameters.
    pub params: Params,
    /// Names of parameters that ended on a bound.
    pub at_bound: Vec<String>,
    /// Final loss.
    pub loss: LossReport,
    /// Optimizer summary.
    pub optimizer: OptimizerReport,
    /// Data facts.
    pub data: DataReport,
    /// The configuration used.
    pub config: FitConfig,
}

/// The fitted model run over the training window and the forecast days.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// One date per day, from the first training day.
    pub dates: Vec<NaiveDate>,
    /// Compartments on those days.
    pub trajectory: Trajectory,
    /// Predicted cumulative cases.
    pub cases: Vec<f64>,
    /// Predicted cumulative deaths.
    pub deaths: Vec<f64>,
    /// Effective reproduction number R(t) = beta(t) / rho on those days.
    pub reproduction: Vec<f64>,
    /// Number of leading days that were in the training window.
    pub train_days: usize,
}

/// Fits the model to one region's training data.
pub fn fit(data: &TrainingData, config: &FitConfig) -> Result<FitResult, crate::error::FitError> {
    let _ = (data, config);
    Err(crate::error::FitError::Optimizer(
        "not implemented yet".into(),
    ))
}

/// Runs the model with `params` over the training window plus
/// `config.forecast_days` days.
pub fn forecast(
    data: &TrainingData,
    params: &Params,
    config: &FitConfig,
) -> Result<Forecast, crate::error::FitError> {
    let _ = (data, params, config);
    Err(crate::error::FitError::Optimizer(
        "not implemented yet".into(),
    ))
}
