//! Fitting: the recency-weighted MSLE loss, the objective handed to the
//! optimizer, and [`fit`], which turns [`TrainingData`] into a [`FitResult`].

use std::sync::Arc;
use std::time::Instant;

use argmin::core::{Executor, State};
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{DeclinePolicy, TrainingData};
use crate::error::FitError;
use crate::model::{simulate, OdeSettings, Params, Rates, Trajectory, PARAM_NAMES};
use crate::optim::{Stopping, LBFGSB};

pub mod identify;
pub mod loss;
pub mod objective;
pub mod problem;
mod validate;

pub use objective::SeirdObjective;

/// How the loss gradient is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GradientMethod {
    /// Forward differences (one extra solve per parameter), one-sided at a bound.
    #[serde(rename = "2-point")]
    TwoPoint,
    /// Central differences (two extra solves per parameter), one-sided at a bound.
    #[serde(rename = "3-point")]
    ThreePoint,
    /// Exact gradients from forward sensitivities integrated with the state.
    Sensitivity,
}

impl GradientMethod {
    /// Every method, in the order the command line lists them.
    pub const ALL: [GradientMethod; 3] = [
        GradientMethod::TwoPoint,
        GradientMethod::ThreePoint,
        GradientMethod::Sensitivity,
    ];

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
    /// Relative reduction of f that stops the run (scipy `ftol` = factr *
    /// eps under `stopping = "scipy"`; without scipy's floor of 1 under
    /// `relative`).
    pub ftol: f64,
    /// Projected-gradient infinity norm that stops the run (scipy `gtol`;
    /// under [`Stopping::Relative`] relative to the loss).
    pub gtol: f64,
    /// Which convergence tests apply: `relative` (scale-invariant, the
    /// default) or `scipy` (scipy's exact tests, for parity runs).
    pub stopping: Stopping,
    /// Iteration limit (scipy `maxiter`).
    pub max_iters: u64,
    /// Evaluation limit (scipy `maxfun`).
    pub max_evals: u64,
    /// How many start points L-BFGS-B polishes to convergence (1 to
    /// [`MAX_STARTS`]): the configured start and the best of the screened
    /// candidates (see [`start_points`]). The loss has several local minima
    /// on real data; the best run wins.
    pub starts: usize,
    /// Sobol points over the box screened besides the configured start and
    /// [`ALTERNATE_STARTS`] (0 to [`MAX_SCREEN`]). With 0 and `starts <= 4`
    /// the fit polishes the configured start and the first alternates, as
    /// before screening existed.
    #[serde(default)]
    pub screen: usize,
    /// L-BFGS-B iterations of each screening run (cheap: a few solves each).
    #[serde(default = "default_screen_iters")]
    pub screen_iters: u64,
}

/// Largest `optimizer.starts`.
pub const MAX_STARTS: usize = 256;
/// Largest `optimizer.screen`.
pub const MAX_SCREEN: usize = 4096;

fn default_screen_iters() -> u64 {
    8
}

/// Start points tried after the configured one when `optimizer.starts > 1`.
/// Chosen on the 12 regions of reports/gradients.md as points that lead
/// L-BFGS-B into other basins than the prior art's start: a fast early
/// epidemic with short infectious period, a moderate one, and a slow decay.
pub const ALTERNATE_STARTS: [Params; 3] = [
    Params {
        r_0: 6.0,
        theta: 0.08,
        k: 2.0,
        l: 20.0,
        r_t: 0.5,
        d_rec: 4.0,
        d_inc: 5.0,
    },
    Params {
        r_0: 4.0,
        theta: 0.04,
        k: 2.0,
        l: 30.0,
        r_t: 0.8,
        d_rec: 8.0,
        d_inc: 5.0,
    },
    Params {
        r_0: 3.0,
        theta: 0.1,
        k: 1.0,
        l: 40.0,
        r_t: 1.0,
        d_rec: 6.0,
        d_inc: 5.5,
    },
];

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            gradient: GradientMethod::Sensitivity,
            memory: 10,
            // Under the default relative test; scipy's 2.22e-9 (factr 1e7)
            // stops the US fit (end 2020-04-30) at 3x its minimum's loss.
            ftol: 1e-12,
            gtol: 1e-5,
            stopping: Stopping::Relative,
            max_iters: 15_000,
            max_evals: 15_000,
            starts: 4,
            screen: 32,
            screen_iters: default_screen_iters(),
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    /// Compute the profile-likelihood intervals (`params_ci`,
    /// `identifiable`; see [`identify`]) after each fit. They cost about
    /// ten fits' work (about 1 s per region on a loaded 2-core machine);
    /// `false` leaves both `null`.
    pub intervals: bool,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            start: Params::DEFAULT_START,
            bounds: ParamBounds::default(),
            loss: LossConfig::default(),
            ode: OdeSettings::default(),
            optimizer: OptimizerConfig::default(),
            forecast_days: 28,
            decline_policy: DeclinePolicy::Keep,
            intervals: true,
        }
    }
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
    /// County (JHU US `Admin2`), if any.
    #[serde(default)]
    pub county: Option<String>,
    /// The county's 5-digit FIPS code (JHU US data), if known; the caller
    /// that knows the series fills it in, [`fit`] leaves it `None`.
    #[serde(default)]
    pub fips: Option<String>,
}

impl RegionInfo {
    /// The region's key.
    pub fn key(&self) -> crate::data::RegionKey {
        crate::data::RegionKey {
            country: self.country.clone(),
            province: self.province.clone(),
            county: self.county.clone(),
        }
    }
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
    /// Which test ended the winning run: `pgtol`, `ftol`, `max_evals`,
    /// `max_iters`, `line_search` or `other` (empty in fit.json files
    /// written before it existed).
    #[serde(default)]
    pub stopped_by: String,
    /// Which stopping rule applied (`relative` or `scipy`).
    #[serde(default)]
    pub stopping: Stopping,
    /// Projected-gradient infinity norm at the winning run's final point.
    #[serde(default)]
    pub pg_norm: f64,
    /// Wall time of the fit in seconds.
    pub seconds: f64,
    /// ODE solves that failed during the fit (the line search backed off).
    pub solve_failures: u64,
    /// Why the last of those solves failed (of the winning run if it had
    /// failures, else of any run); `null` when none failed.
    #[serde(default)]
    pub solve_failure: Option<String>,
    /// Number of start points L-BFGS-B ran from (counts above are totals).
    pub starts: usize,
    /// Which candidate start won (0 = the configured start, 1..=3 the
    /// alternates, then the Sobol points; see [`start_points`]).
    pub best_start: usize,
    /// Final loss of the run from each polished start, in order (NaN if
    /// it failed).
    pub start_losses: Vec<f64>,
    /// Candidate starts screened by short runs before polishing (0: none,
    /// every candidate was polished).
    #[serde(default)]
    pub screened: usize,
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
    #[serde(serialize_with = "whole_persons")]
    pub population: f64,
    /// First training day (model time 0).
    pub start_date: NaiveDate,
    /// Last training day.
    pub end_date: NaiveDate,
    /// Number of training days.
    pub train_days: usize,
    /// Fitted parameters.
    pub params: Params,
    /// Names of parameters that ended on a bound (within 1e-6 of the box
    /// width, [`identify::BOUND_TOL`]).
    pub at_bound: Vec<String>,
    /// 90 % profile-likelihood interval of each parameter, name -> `[low,
    /// high]` (see [`identify`]); `None` until [`identify::identify`] ran.
    #[serde(default)]
    pub params_ci: Option<std::collections::BTreeMap<String, [f64; 2]>>,
    /// What the data say about each parameter: `estimated`, `on_bound` or
    /// `not_identifiable`; `None` until [`identify::identify`] ran.
    #[serde(default)]
    pub identifiable: Option<std::collections::BTreeMap<String, identify::Identifiability>>,
    /// Final loss.
    pub loss: LossReport,
    /// Optimizer summary.
    pub optimizer: OptimizerReport,
    /// Data facts.
    pub data: DataReport,
    /// The configuration used.
    pub config: FitConfig,
    /// The forecast with its intervals (`crate::forecast`), when made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastReport>,
}

/// The `forecast` block of fit.json: how the forecast was made and its
/// quantiles at a few horizons (every day's are in forecast_quantiles.csv).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastReport {
    /// The forecast method (`model`, `anchored`, `blend`).
    pub method: String,
    /// The last training day; horizons count from it.
    pub origin: NaiveDate,
    /// Earlier pseudo-origins whose refits calibrated the intervals.
    pub pseudo_origins: usize,
    /// Days between pseudo-origins.
    pub spacing_days: usize,
    /// The blend's weight of the model for cases and deaths (blend only).
    pub blend_weights: Option<[f64; 2]>,
    /// Whether the intervals rest on at least two pseudo-origins (if not,
    /// they use a wide default spread).
    pub calibrated: bool,
    /// Quantiles at 7, 14 and 28 days (those within the forecast).
    pub horizons: Vec<HorizonQuantiles>,
}

/// Quantiles of one target at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HorizonQuantiles {
    /// Days after the origin.
    pub horizon: usize,
    /// The day forecast.
    pub date: NaiveDate,
    /// Which target.
    pub target: Target,
    /// 5 % quantile.
    pub q05: f64,
    /// 25 % quantile.
    pub q25: f64,
    /// Median.
    pub q50: f64,
    /// 75 % quantile.
    pub q75: f64,
    /// 95 % quantile.
    pub q95: f64,
}

/// Populations are whole persons: `38928341`, not `38928341.0`.
fn whole_persons<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
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
    /// Forecast quantiles for the days after the training window, when they
    /// have been computed (`None` from [`forecast`] itself).
    pub intervals: Option<Intervals>,
}

/// The COVID-19 Forecast Hub's 23 quantile levels.
pub const HUB_LEVELS: [f64; 23] = [
    0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75,
    0.8, 0.85, 0.9, 0.95, 0.975, 0.99,
];

/// A forecast target: cumulative or daily, cases or deaths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Cumulative confirmed cases.
    Cases,
    /// Cumulative deaths.
    Deaths,
    /// Daily new confirmed cases.
    NewCases,
    /// Daily new deaths.
    NewDeaths,
}

impl Target {
    /// Every target, in the order of [`Intervals::values`].
    pub const ALL: [Target; 4] = [
        Target::Cases,
        Target::Deaths,
        Target::NewCases,
        Target::NewDeaths,
    ];

    /// The name used in files (`cases`, `deaths`, `new_cases`, `new_deaths`).
    pub fn name(self) -> &'static str {
        match self {
            Target::Cases => "cases",
            Target::Deaths => "deaths",
            Target::NewCases => "new_cases",
            Target::NewDeaths => "new_deaths",
        }
    }
}

/// Forecast quantiles of every [`Target`] on the days after the training
/// window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    /// Quantile levels, ascending (normally [`HUB_LEVELS`]).
    pub levels: Vec<f64>,
    /// The forecast days the quantiles are for.
    pub dates: Vec<NaiveDate>,
    /// `values[target][day][level]`, targets in [`Target::ALL`] order; each
    /// day's values are non-decreasing in the level.
    pub values: [Vec<Vec<f64>>; 4],
}

impl Intervals {
    /// The quantiles of `target` on every day, `[day][level]`.
    pub fn of(&self, target: Target) -> &[Vec<f64>] {
        let i = Target::ALL.iter().position(|&t| t == target).unwrap_or(0);
        &self.values[i]
    }

    /// The value of `target` at quantile `level` on every day, if `level` is
    /// one of [`Intervals::levels`] (to within 1e-9).
    pub fn quantile(&self, target: Target, level: f64) -> Option<Vec<f64>> {
        let j = self.levels.iter().position(|&l| (l - level).abs() < 1e-9)?;
        Some(self.of(target).iter().map(|day| day[j]).collect())
    }
}

/// One L-BFGS-B run from one start point.
struct Run {
    params: Params,
    loss: loss::LossValue,
    iterations: u64,
    loss_evals: u64,
    gradient_evals: u64,
    failures: u64,
    last_failure: Option<crate::error::SolveError>,
    termination: String,
    stopped_by: &'static str,
    pg_norm: f64,
}

/// The candidate start points of a fit, in order: the configured start,
/// the [`ALTERNATE_STARTS`] (projected into the box), then
/// `optimizer.screen` points of a scrambled Sobol sequence over the box.
///
/// The Sobol points are drawn in the unit cube and mapped linearly onto the
/// box, so every parameter is covered evenly over its own range whatever its
/// units (L spans 0..200 days, theta 0.01..0.15). The sequence is
/// deterministic (fixed seed): the same data and configuration give the same
/// fit. When there is no screening and `starts <= 4`, only the first
/// `starts` candidates are returned, as before screening existed.
pub fn start_points(config: &FitConfig) -> Vec<Params> {
    let (lo, hi) = (
        config.bounds.lower.to_array(),
        config.bounds.upper.to_array(),
    );
    let opt = &config.optimizer;
    let fixed = std::iter::once(config.start).chain(ALTERNATE_STARTS.iter().map(|p| {
        let mut x = p.to_array();
        for j in 0..x.len() {
            x[j] = x[j].clamp(lo[j], hi[j]);
        }
        Params::from_array(x)
    }));
    if opt.screen == 0 {
        return fixed.take(opt.starts.max(1)).collect();
    }
    let sobol = (0..opt.screen as u32).map(|i| {
        let mut x = [0.0; crate::model::N_PARAMS];
        for (j, v) in x.iter_mut().enumerate() {
            // Index 0 of a scrambled sequence is as good as any other point.
            let u = f64::from(sobol_burley::sample(i, j as u32, SOBOL_SEED));
            *v = lo[j] + u * (hi[j] - lo[j]);
        }
        Params::from_array(x)
    });
    fixed.chain(sobol).collect()
}

/// Seed of the Owen scrambling of the screening design.
const SOBOL_SEED: u32 = 0x5e1d;

fn run_lbfgsb(
    data: &Arc<TrainingData>,
    config: &FitConfig,
    start: &Params,
    max_iters: u64,
) -> Result<Run, FitError> {
    let objective = SeirdObjective::from_shared(Arc::clone(data), config)?;
    let bounds = objective.bounds().clone();
    // A start point where the model cannot be solved is an error naming it,
    // not a huge cost. A start inside the box is checked only when the run
    // fails: the solver's first evaluation solves that very point with the
    // same steps and state (see `SeirdObjective::scored_loss`), so it fails
    // exactly when this check would, and a run that succeeds saves a solve.
    let check_start = |objective: &SeirdObjective| match objective.loss(start) {
        Err(source) => Err(FitError::StartPoint {
            params: start.describe(),
            source,
        }),
        Ok(_) => Ok(()),
    };
    if !bounds.contains(&start.to_array()) {
        check_start(&objective)?;
    }
    let opt = &config.optimizer;
    let solver = LBFGSB::new(bounds)
        .with_memory(opt.memory)
        .and_then(|s| s.with_ftol(opt.ftol))
        .and_then(|s| s.with_pgtol(opt.gtol))
        .and_then(|s| s.with_max_evals(opt.max_evals))?
        .with_stopping(opt.stopping);
    let x0 = start.to_array().to_vec();
    let res = match Executor::new(objective, solver)
        .configure(|s| s.param(x0).max_iters(max_iters))
        .run()
    {
        Ok(res) => res,
        Err(e) => {
            check_start(&SeirdObjective::from_shared(Arc::clone(data), config)?)?;
            return Err(FitError::Solver(e.into()));
        }
    };
    // The problem's own counters are authoritative (the state's copy is
    // only refreshed between iterations).
    let gradient_evals = res
        .problem
        .counts
        .get("gradient_count")
        .copied()
        .unwrap_or(0);
    let state = res.state();
    let termination = res
        .solver
        .message()
        .map(str::to_string)
        .or_else(|| state.get_termination_reason().map(|r| r.text().to_string()))
        .unwrap_or_else(|| "unknown".into());
    let stopped_by = stopped_by(res.solver.message(), state.get_termination_reason());
    let pg_norm = res.solver.final_pg_norm();
    let iterations = state.get_iter();
    let best = state
        .get_best_param()
        .cloned()
        .ok_or_else(|| FitError::Optimizer("no parameter was evaluated".into()))?;
    let objective = res
        .problem
        .problem
        .ok_or_else(|| FitError::Optimizer("the problem was lost by the executor".into()))?;
    let params = Params::from_slice(&best)
        .map_err(|e| FitError::Optimizer(format!("the solver's best point: {e}")))?;
    // The best point was solved during the run: its loss is kept, to the
    // bit what one more solve would give.
    let loss = match objective.scored_loss(&params) {
        Some(v) => v,
        None => objective
            .loss(&params)
            .map_err(|source| FitError::FinalPoint {
                params: params.describe(),
                source,
            })?,
    };
    Ok(Run {
        params,
        loss,
        iterations,
        // The final re-scoring solve is not part of the optimisation.
        loss_evals: objective.solves(),
        gradient_evals,
        failures: objective.failures(),
        last_failure: objective.last_failure(),
        termination,
        stopped_by,
        pg_norm,
    })
}

/// The short name of the test that ended a run, from the solver's message
/// (or argmin's reason when the solver did not decide, e.g. `max_iters`).
fn stopped_by(
    message: Option<&str>,
    reason: Option<&argmin::core::TerminationReason>,
) -> &'static str {
    use crate::optim::lbfgsb::{
        MSG_ABNORMAL, MSG_FTOL, MSG_MAXFUN, MSG_PGTOL, MSG_REL_FTOL, MSG_REL_PGTOL,
    };
    match message {
        Some(m) if m == MSG_PGTOL || m == MSG_REL_PGTOL => "pgtol",
        Some(m) if m == MSG_FTOL || m == MSG_REL_FTOL => "ftol",
        Some(m) if m == MSG_MAXFUN => "max_evals",
        Some(m) if m == MSG_ABNORMAL => "line_search",
        _ => match reason {
            Some(argmin::core::TerminationReason::MaxItersReached) => "max_iters",
            _ => "other",
        },
    }
}

/// Fits the model to one region's training data with L-BFGS-B under the
/// configured bounds, from the configured start point (and, when
/// `optimizer.starts > 1`, from the alternate starts too, in parallel),
/// keeping the run with the lowest loss.
pub fn fit(data: &TrainingData, config: &FitConfig) -> Result<FitResult, FitError> {
    let started = Instant::now();
    config.validate("configuration")?;
    let opt = &config.optimizer;
    let shared = Arc::new(data.clone());
    let candidates = start_points(config);
    // Screen: a few iterations from every candidate; polish the configured
    // start and the best of the others to convergence. Short runs rank the
    // basins far better than the loss at the raw points, which on this
    // model is dominated by the size of the early epidemic.
    let (screened, polish): (u64, Vec<(usize, Params)>) = if candidates.len() > opt.starts {
        let short: Vec<Option<Run>> = candidates
            .par_iter()
            .map(|s| run_lbfgsb(&shared, config, s, opt.screen_iters).ok())
            .collect();
        let work = short.iter().flatten().map(|r| r.loss_evals).sum::<u64>();
        let mut ranked: Vec<(usize, f64)> = short
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(i, r)| r.as_ref().map(|r| (i, r.loss.msle)))
            .filter(|(_, l)| l.is_finite())
            .collect();
        ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut polish = vec![(0, candidates[0])];
        polish.extend(ranked.iter().take(opt.starts - 1).map(|&(i, _)| {
            // Go on from where the short run got to.
            let p = short[i].as_ref().map_or(candidates[i], |r| r.params);
            (i, p)
        }));
        (work, polish)
    } else {
        (0, candidates.iter().copied().enumerate().collect())
    };
    let runs: Vec<Result<Run, FitError>> = polish
        .par_iter()
        .map(|(_, s)| run_lbfgsb(&shared, config, s, opt.max_iters))
        .collect();
    // The configured start must solve; an alternate that cannot is skipped.
    let mut ok = Vec::new();
    for (k, r) in runs.into_iter().enumerate() {
        match r {
            Ok(run) => ok.push((polish[k].0, run)),
            Err(e) if k == 0 => return Err(e),
            Err(_) => {}
        }
    }
    let start_losses: Vec<f64> = polish
        .iter()
        .map(|(i, _)| {
            ok.iter()
                .find(|(j, _)| j == i)
                .map(|(_, r)| r.loss.msle)
                .unwrap_or(f64::NAN)
        })
        .collect();
    let sum = |f: fn(&Run) -> u64| ok.iter().map(|(_, r)| f(r)).sum::<u64>();
    let (iterations, loss_evals, gradient_evals, failures) = (
        sum(|r| r.iterations),
        sum(|r| r.loss_evals) + screened,
        sum(|r| r.gradient_evals),
        sum(|r| r.failures),
    );
    let any_failure = ok.iter().rev().find_map(|(_, r)| r.last_failure.clone());
    let (best_start, best) = ok
        .into_iter()
        .min_by(|a, b| a.1.loss.msle.total_cmp(&b.1.loss.msle))
        .ok_or_else(|| FitError::Optimizer("no run finished".into()))?;
    let x = best.params.to_array();
    let (lo, hi) = (
        config.bounds.lower.to_array(),
        config.bounds.upper.to_array(),
    );
    let at_bound = PARAM_NAMES
        .iter()
        .enumerate()
        .filter(|&(j, _)| identify::on_bound(x[j], lo[j], hi[j]))
        .map(|(_, n)| n.to_string())
        .collect();
    Ok(FitResult {
        region: RegionInfo {
            country: data.key.country.clone(),
            province: data.key.province.clone(),
            county: data.key.county.clone(),
            fips: None,
        },
        population: data.population,
        start_date: data.dates[0],
        end_date: data.dates[data.dates.len() - 1],
        train_days: data.dates.len(),
        params: best.params,
        at_bound,
        params_ci: None,
        identifiable: None,
        loss: LossReport {
            msle: best.loss.msle,
            msle_cases: best.loss.msle_cases,
            msle_deaths: best.loss.msle_deaths,
        },
        optimizer: OptimizerReport {
            method: "L-BFGS-B".into(),
            gradient: opt.gradient.name().into(),
            iterations,
            loss_evals,
            gradient_evals,
            termination: best.termination,
            stopped_by: best.stopped_by.into(),
            stopping: opt.stopping,
            pg_norm: best.pg_norm,
            seconds: started.elapsed().as_secs_f64(),
            solve_failures: failures,
            solve_failure: best
                .last_failure
                .clone()
                .or(any_failure)
                .map(|e| e.to_string()),
            starts: polish.len(),
            best_start,
            start_losses,
            screened: if screened > 0 { candidates.len() } else { 0 },
        },
        data: DataReport {
            decline_days: data.decline_days,
            decline_policy: data.decline_policy,
            held_out_days: data.held_out_dates.len(),
        },
        config: *config,
        forecast: None,
    })
}

/// Runs the model with `params` over the training window plus
/// `config.forecast_days` days.
pub fn forecast(
    data: &TrainingData,
    params: &Params,
    config: &FitConfig,
) -> Result<Forecast, FitError> {
    objective::check_data(data)?;
    let c0 = data.cases[0];
    let days = data.dates.len() + config.forecast_days;
    let trajectory =
        simulate(params, data.population, c0, days, &config.ode).map_err(|source| {
            FitError::Forecast {
                params: params.describe(),
                source,
            }
        })?;
    let rates = Rates::new(params);
    let d0 = data.dates[0];
    Ok(Forecast {
        dates: (0..days as i64)
            .map(|d| d0 + chrono::Duration::days(d))
            .collect(),
        cases: trajectory.cases(),
        deaths: trajectory.deaths(),
        reproduction: trajectory
            .t
            .iter()
            .map(|&t| rates.reproduction(t))
            .collect(),
        trajectory,
        train_days: data.dates.len(),
        intervals: None,
    })
}
