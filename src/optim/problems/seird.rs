//! The SEIRD fit loss as a shipped test problem: the recency-weighted MSLE
//! of [`crate::fit`] over the seven model parameters, with exact gradients
//! from forward sensitivities, so every solver of the stack can be run on
//! the loss this crate exists to minimise.
//!
//! This module reaches "up" from `optim` into `fit` (which itself uses
//! `optim`): the registry of shipped problems lives here, and the SEIRD loss
//! is one of them. Nothing in `fit` depends on this module.
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

use std::cell::RefCell;

use argmin::core::Error;
use chrono::NaiveDate;

use super::TestProblem;
use crate::commands::simulate::DEMO_TRUTH;
use crate::data::{DeclinePolicy, RegionKey, TrainingData};
use crate::error::FitError;
use crate::fit::{FitConfig, GradientMethod, SeirdObjective};
use crate::model::{simulate, OdeSettings, Params, N_PARAMS};
use crate::optim::Bounds;

/// Population of the demo country (as `seird-fit simulate` defaults it).
pub const DEMO_POPULATION: f64 = 5_000_000.0;
/// Confirmed cases on the demo's first day.
pub const DEMO_C0: f64 = 3.0;
/// Number of demo days.
pub const DEMO_DAYS: usize = 100;

/// The demo data set of `seird-fit simulate` (Demoland, 5 million people,
/// 3 cases on 2020-03-01, 100 days, the parameters [`DEMO_TRUTH`]), built in
/// memory and without noise or rounding, so that the truth fits it exactly.
pub fn demo_data() -> Result<TrainingData, FitError> {
    let tr = simulate(
        &DEMO_TRUTH,
        DEMO_POPULATION,
        DEMO_C0,
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

/// Last evaluated point, its loss (NaN when the solve failed) and gradient.
type Cached = (Vec<f64>, f64, Vec<f64>);

/// The SEIRD fit loss of one data set, as a [`TestProblem`] that owns its
/// data.
///
/// `f(p) = mean of the recency-weighted MSLE of cumulative cases and deaths`
/// (see [`crate::fit::loss`]) over `p = (R_0, theta, k, L, R_t, D_rec,
/// D_inc)`, on the configured box, from the configured start. Loss and
/// gradient are evaluated exactly as [`SeirdObjective`] does with
/// [`GradientMethod::Sensitivity`]: one ODE solve with forward sensitivities
/// gives both, the last point is cached so that a cost followed by a
/// gradient at the same point costs one solve, and a failed solve gives a
/// NaN loss (and gradient), which line searches back off from and the
/// first-order methods stop on.
#[derive(Debug, Clone)]
pub struct SeirdProblem {
    data: TrainingData,
    config: FitConfig,
    bounds: Bounds,
    minimum: Option<(Vec<f64>, f64)>,
    cache: RefCell<Option<Cached>>,
    solves: RefCell<u64>,
}

impl SeirdProblem {
    /// The loss of `data` under `config` (loss window, scoring mode, ODE
    /// settings, box and start point); the gradient is always the exact one,
    /// whatever `config.optimizer.gradient` says. No known minimum.
    pub fn new(data: TrainingData, config: &FitConfig) -> Result<Self, FitError> {
        let mut config = *config;
        config.optimizer.gradient = GradientMethod::Sensitivity;
        crate::config::validate(&config, "seird problem")?;
        if data.cases.len() < 2 || data.deaths.len() != data.cases.len() {
            return Err(FitError::Optimizer(format!(
                "seird problem: {} has {} days of cases and {} of deaths (need at least 2 of each)",
                data.key.display_name(),
                data.cases.len(),
                data.deaths.len()
            )));
        }
        let bounds = SeirdObjective::new(&data, &config)?.bounds().clone();
        Ok(SeirdProblem {
            data,
            config,
            bounds,
            minimum: None,
            cache: RefCell::new(None),
            solves: RefCell::new(0),
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
        let r = crate::fit::fit(&self.data, &self.config)?;
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
        &self.data
    }

    /// The configuration the loss is evaluated under.
    pub fn config(&self) -> &FitConfig {
        &self.config
    }

    /// The parameter box.
    pub fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    /// ODE solves so far (a cost and a gradient at one point share one).
    pub fn solves(&self) -> u64 {
        *self.solves.borrow()
    }

    /// Loss and gradient at `x`, from the cache or one solve.
    fn evaluate(&self, x: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        if x.len() != N_PARAMS {
            return Err(crate::optim::OptimError::Length {
                what: "seird parameters",
                expected: N_PARAMS,
                got: x.len(),
            }
            .into());
        }
        if let Some((cx, f, g)) = self.cache.borrow().as_ref() {
            if cx.as_slice() == x {
                return Ok((*f, g.clone()));
            }
        }
        // Building the objective is cheap next to the solve (it borrows the
        // data, copies the config and takes log1p of the 20 scored days);
        // keeping one alive would make this struct self-referential, so the
        // one-point cache lives here instead.
        let objective = SeirdObjective::new(&self.data, &self.config)?;
        *self.solves.borrow_mut() += 1;
        let (f, g) = match objective.loss_and_gradient(&Params::from_slice(x)) {
            Ok((v, g)) => (v.msle, g.to_vec()),
            Err(_) => (f64::NAN, vec![f64::NAN; N_PARAMS]),
        };
        *self.cache.borrow_mut() = Some((x.to_vec(), f, g.clone()));
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
        self.config.start.to_array().to_vec()
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
