//! The SEIRD fit loss as a test problem of the optimizer stack: the
//! recency-weighted MSLE of [`crate::fit`] over the seven model parameters,
//! with exact gradients from forward sensitivities, so every solver of
//! [`crate::optim`] can be run on the loss this crate exists to minimise.
//!
//! It lives in `fit`, above `optim`: `optim` ships only generic problems,
//! and [`by_name`] here extends its registry with `seird`.
//!
//! ## Known minimum
//!
//! The SEIRD loss has no closed-form minimum. [`SeirdProblem::demo`] scores
//! noise-free data simulated from [`DEMO_TRUTH`] over every day, so the true
//! parameters are a minimiser with loss 0 (up to the ODE tolerance: the data
//! come from a plain Dopri5 solve, the loss from one with sensitivities). On
//! real data, [`SeirdProblem::with_reference_fit`] records the optimum that
//! [`crate::fit::fit`] (L-BFGS-B with exact gradients from the default start)
//! reaches as the "known" minimum: a reference, not a certified global
//! minimum, and another solver may end lower.

use argmin::core::Error;
use chrono::NaiveDate;

use super::{FitConfig, GradientMethod, SeirdObjective};
use crate::data::{DeclinePolicy, RegionKey, TrainingData};
use crate::error::FitError;
use crate::model::demo::{DEMO_DAYS, DEMO_POPULATION, DEMO_TRUTH};
use crate::model::{simulate, OdeSettings, N_PARAMS};
use crate::optim::problems::{ProblemOptions, TestProblem};
use crate::optim::{Bounds, OptimError};

/// Confirmed cases on the first day of the demo problem's data: 3, not the
/// shipped demo data's [`crate::model::demo::DEMO_C0`] of 20. The problem
/// predates the shipped data, and its iteration and evaluation counts are
/// pinned in the tests.
pub const PROBLEM_C0: f64 = 3.0;

/// The demo outbreak (Demoland, 5 million people, [`PROBLEM_C0`] = 3 cases
/// on 2020-03-01, 100 days, the parameters [`DEMO_TRUTH`]), built in memory
/// and without noise or rounding, so that the truth fits it exactly.
pub fn demo_data() -> Result<TrainingData, FitError> {
    let tr = simulate(
        &DEMO_TRUTH,
        DEMO_POPULATION,
        PROBLEM_C0,
        DEMO_DAYS,
        &OdeSettings::default(),
    )
    .map_err(|source| FitError::StartPoint {
        params: DEMO_TRUTH.describe(),
        source,
    })?;
    // A constant date, valid by construction.
    let d0 = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap_or_default();
    Ok(TrainingData {
        key: RegionKey::country("Demoland"),
        population: DEMO_POPULATION,
        dates: (0..DEMO_DAYS as i64)
            .map(|d| d0 + chrono::Duration::days(d))
            .collect(),
        cases: tr.cases(),
        deaths: tr.deaths(),
        held_out_dates: vec![],
        held_out_cases: vec![],
        held_out_deaths: vec![],
        decline_days: 0,
        decline_policy: DeclinePolicy::Keep,
    })
}

/// The SEIRD fit loss of one data set, as a [`TestProblem`] that owns its
/// data.
///
/// `f(p) = mean of the recency-weighted MSLE of cumulative cases and deaths`
/// (see [`crate::fit::loss`]) over `p = (R_0, theta, k, L, R_t, D_rec,
/// D_inc)`, on the configured box, from the configured start. Loss and
/// gradient are those of a [`SeirdObjective`] with
/// [`GradientMethod::Sensitivity`], which this problem wraps: one ODE solve
/// with forward sensitivities gives both, the objective's one-point cache
/// makes a cost followed by a gradient at the same point cost one solve, and
/// a failed solve gives a NaN loss (and gradient), which line searches back
/// off from and the first-order methods stop on.
#[derive(Debug, Clone)]
pub struct SeirdProblem {
    objective: SeirdObjective,
    bounds: Bounds,
    minimum: Option<(Vec<f64>, f64)>,
}

impl SeirdProblem {
    /// The loss of `data` under `config` (loss window, scoring mode, ODE
    /// settings, box and start point); the gradient is always the exact one,
    /// whatever `config.optimizer.gradient` says. No known minimum.
    pub fn new(data: TrainingData, config: &FitConfig) -> Result<Self, FitError> {
        let mut config = *config;
        config.optimizer.gradient = GradientMethod::Sensitivity;
        config.validate("seird problem")?;
        let objective = SeirdObjective::from_shared(std::sync::Arc::new(data), &config)?;
        Ok(SeirdProblem {
            bounds: objective.bounds().clone(),
            objective,
            minimum: None,
        })
    }

    /// The demo problem: [`demo_data`] scored over all of its days (so the
    /// seven parameters are identifiable), default settings otherwise. Its
    /// known minimum is [`DEMO_TRUTH`] with loss 0.
    pub fn demo() -> Result<Self, FitError> {
        let mut config = FitConfig::default();
        config.loss.window = DEMO_DAYS;
        Self::demo_with(&config)
    }

    /// The demo data under another configuration (e.g. a tighter ODE
    /// tolerance); the known minimum is still [`DEMO_TRUTH`] with loss 0,
    /// which holds for any loss window since the data are the model's own.
    pub fn demo_with(config: &FitConfig) -> Result<Self, FitError> {
        let mut p = Self::new(demo_data()?, config)?;
        p.minimum = Some((DEMO_TRUTH.to_array().to_vec(), 0.0));
        Ok(p)
    }

    /// Runs [`crate::fit::fit`] on the data (L-BFGS-B, exact gradients, the
    /// configured start and tolerances) and records its optimum as the known
    /// minimum: a reference for the other solvers, not a proof of global
    /// optimality.
    pub fn with_reference_fit(mut self) -> Result<Self, FitError> {
        let r = crate::fit::fit(self.objective.data(), self.objective.config())?;
        let x = r.params.to_array().to_vec();
        // The loss as this problem evaluates it (with sensitivities), so
        // that f - f* is measured in one currency.
        let (f, _) = self
            .evaluate(&x)
            .map_err(|e| FitError::Optimizer(e.to_string()))?;
        self.minimum = Some((x, f));
        Ok(self)
    }

    /// The training data.
    pub fn data(&self) -> &TrainingData {
        self.objective.data()
    }

    /// The configuration the loss is evaluated under.
    pub fn config(&self) -> &FitConfig {
        self.objective.config()
    }

    /// The parameter box.
    pub fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    /// ODE solves so far (a cost and a gradient at one point share one).
    pub fn solves(&self) -> u64 {
        self.objective.solves()
    }

    /// Loss and gradient at `x`, from the objective's cache or one solve.
    fn evaluate(&self, x: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        use argmin::core::{CostFunction, Gradient};
        let x = x.to_vec();
        let f = self.objective.cost(&x)?;
        let g = self.objective.gradient(&x)?;
        Ok((f, g))
    }
}

impl TestProblem for SeirdProblem {
    fn name(&self) -> &str {
        "seird"
    }
    fn dim(&self) -> usize {
        N_PARAMS
    }
    fn x0(&self) -> Vec<f64> {
        self.objective.config().start.to_array().to_vec()
    }
    fn minima(&self) -> Vec<Vec<f64>> {
        self.minimum.iter().map(|(x, _)| x.clone()).collect()
    }
    fn min_value(&self) -> Option<f64> {
        self.minimum.as_ref().map(|(_, f)| *f)
    }
    fn cost(&self, x: &[f64]) -> Result<f64, Error> {
        Ok(self.evaluate(x)?.0)
    }
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        Ok(self.evaluate(x)?.1)
    }
    fn bounds(&self) -> Option<Bounds> {
        Some(self.bounds.clone())
    }
}

/// Names [`by_name`] knows: the generic problems of
/// [`crate::optim::problems::NAMES`], then `seird`.
pub fn names() -> Vec<&'static str> {
    let mut n = crate::optim::problems::NAMES.to_vec();
    n.push("seird");
    n
}

/// A shipped problem by name: `seird` is [`SeirdProblem::demo`] (7
/// variables, so `opts.dim` must be `None` or 7); every other name goes to
/// [`crate::optim::problems::by_name`].
pub fn by_name(name: &str, opts: ProblemOptions) -> Result<Box<dyn TestProblem>, OptimError> {
    if !name.eq_ignore_ascii_case("seird") {
        return crate::optim::problems::by_name(name, opts).map_err(|e| match e {
            OptimError::UnknownProblem { name, .. } => OptimError::UnknownProblem {
                name,
                known: names().join(", "),
            },
            e => e,
        });
    }
    if let Some(d) = opts.dim.filter(|&d| d != N_PARAMS) {
        return Err(OptimError::Dimension {
            problem: "seird".into(),
            problem_says: "has the 7 model parameters",
            dim: d,
        });
    }
    Ok(Box::new(SeirdProblem::demo().map_err(|e| {
        OptimError::NonFiniteStart {
            what: format!("cost (the demo data cannot be simulated: {e})"),
            value: f64::NAN,
            x: DEMO_TRUTH.to_array().to_vec(),
        }
    })?))
}
