//! The SEIRD loss as an argmin problem: [`SeirdObjective`] implements
//! `CostFunction` and `Gradient` over the seven parameters, so any solver of
//! the optimizer stack can minimise it.
//!
//! One ODE solve with sensitivities gives both the loss and its exact
//! gradient, so the objective caches the last point: L-BFGS-B evaluates the
//! cost and then the gradient at the same trial point and pays one solve.
//! A solve that fails (step budget used up, non-finite state) yields a NaN
//! cost, which the line search treats as "cannot evaluate here" and backs
//! off from; every failure is counted and the last one kept for the report.

use std::cell::RefCell;
use std::sync::Arc;

use argmin::core::{CostFunction, Error as ArgminError, Gradient};

use super::loss::{LossSums, LossValue, Observed, ScoredDays};
use super::{FitConfig, GradientMethod};
use crate::data::TrainingData;
use crate::error::{ConfigError, FitError, SolveError};
use crate::model::{
    for_each_day, for_each_day_with_sensitivities, simulate, Params, Trajectory, N_PARAMS,
};
use crate::optim::{fd_gradient, Bounds, FdScheme};

/// Most evaluated points an objective keeps for
/// [`SeirdObjective::scored_loss`].
const SCORED_KEPT: usize = 1024;

#[derive(Debug, Default, Clone)]
struct Tally {
    /// Last evaluated point, its loss (NaN when the solve failed) and, when
    /// computed, its gradient.
    last: Option<(Vec<f64>, f64, Option<Vec<f64>>)>,
    /// Every point solved successfully and its loss, in order (bit patterns
    /// of the parameters), for [`SeirdObjective::scored_loss`].
    scored: Vec<([u64; N_PARAMS], LossValue)>,
    solves: u64,
    failures: u64,
    last_failure: Option<SolveError>,
}

/// The fit loss of one region as an optimisation problem. It owns (a shared
/// handle to) its data, so it can be kept, moved into a solver and wrapped
/// (as [`super::problem::SeirdProblem`] does) without a second cache.
#[derive(Debug, Clone)]
pub struct SeirdObjective {
    data: Arc<TrainingData>,
    config: FitConfig,
    bounds: Bounds,
    scored: ScoredDays,
    tally: RefCell<Tally>,
}

impl SeirdObjective {
    /// The objective for (a copy of) `data` under `config` (bounds, loss,
    /// ODE settings and gradient method are taken from it). Bounds that do
    /// not form a box (NaN, or a lower bound above its upper bound) are an
    /// error.
    pub fn new(data: &TrainingData, config: &FitConfig) -> Result<Self, FitError> {
        Self::from_shared(Arc::new(data.clone()), config)
    }

    /// [`SeirdObjective::new`] on data shared with other objectives (the
    /// start points of one fit).
    pub fn from_shared(data: Arc<TrainingData>, config: &FitConfig) -> Result<Self, FitError> {
        check_data(&data)?;
        let bounds = Bounds::new(
            config.bounds.lower.to_array().to_vec(),
            config.bounds.upper.to_array().to_vec(),
        )
        .map_err(|e| {
            FitError::Config(ConfigError::Invalid {
                origin: "configuration".into(),
                key: "bounds".into(),
                value: format!(
                    "lower [{}], upper [{}]",
                    config.bounds.lower.describe(),
                    config.bounds.upper.describe()
                ),
                problem: e.to_string(),
            })
        })?;
        let scored = ScoredDays::new(
            &config.loss,
            Observed {
                cases: &data.cases,
                deaths: &data.deaths,
            },
        );
        Ok(SeirdObjective {
            data,
            config: *config,
            bounds,
            scored,
            tally: RefCell::new(Tally::default()),
        })
    }

    /// The parameter box.
    pub fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    /// The training data.
    pub fn data(&self) -> &TrainingData {
        &self.data
    }

    /// The configuration the loss is evaluated under.
    pub fn config(&self) -> &FitConfig {
        &self.config
    }

    fn days(&self) -> usize {
        self.data.cases.len()
    }

    /// Solves the model at `params` over the training days.
    pub fn trajectory(&self, params: &Params) -> Result<Trajectory, SolveError> {
        simulate(
            params,
            self.data.population,
            self.data.cases[0],
            self.days(),
            &self.config.ode,
        )
    }

    /// The loss at `params` (one plain solve).
    pub fn loss(&self, params: &Params) -> Result<LossValue, SolveError> {
        let mut sums = LossSums::default();
        for_each_day(
            params,
            self.data.population,
            self.data.cases[0],
            self.days(),
            self.scored.first_day(),
            &self.config.ode,
            |d, y| self.scored.add(&mut sums, d, y),
        )?;
        Ok(self.scored.value(&sums))
    }

    /// The loss and its exact gradient at `params` (one solve with
    /// sensitivities).
    pub fn loss_and_gradient(
        &self,
        params: &Params,
    ) -> Result<(LossValue, [f64; N_PARAMS]), SolveError> {
        let mut sums = LossSums::default();
        for_each_day_with_sensitivities(
            params,
            self.data.population,
            self.data.cases[0],
            self.days(),
            self.scored.first_day(),
            &self.config.ode,
            |d, y, s| self.scored.add_with_gradient(&mut sums, d, y, s),
        )?;
        Ok(self.scored.value_and_gradient(&sums))
    }

    /// Number of ODE solves so far (as scipy's `nfev` counts them: the
    /// evaluations made for finite-difference gradients included).
    pub fn solves(&self) -> u64 {
        self.tally.borrow().solves
    }

    /// Number of solves that failed.
    pub fn failures(&self) -> u64 {
        self.tally.borrow().failures
    }

    /// The most recent solve failure, if any.
    pub fn last_failure(&self) -> Option<SolveError> {
        self.tally.borrow().last_failure.clone()
    }

    fn record<T>(&self, r: &Result<T, SolveError>) {
        let mut t = self.tally.borrow_mut();
        t.solves += 1;
        if let Err(e) = r {
            t.failures += 1;
            t.last_failure = Some(e.clone());
        }
    }

    fn remember(&self, p: &Params, v: LossValue) {
        let mut t = self.tally.borrow_mut();
        // Bounded for long runs (the optimize command's first-order
        // methods); a point dropped is only solved again.
        if t.scored.len() >= SCORED_KEPT {
            t.scored.drain(..SCORED_KEPT / 2);
        }
        t.scored.push((bits(p), v));
    }

    /// The loss at `params` as an earlier evaluation of this objective
    /// found it, if `params` (to the bit) was evaluated and solved; else
    /// `None`.
    ///
    /// It is the value [`SeirdObjective::loss`] returns, to the bit: the
    /// solve with sensitivities integrates the state with the same
    /// arithmetic and the same steps (the error control measures the state
    /// alone, and `beta` is the same expression), and the loss sums the
    /// same terms in the same order (tested in tests/it/speed.rs on real
    /// data). A fit re-scores its best point with this instead of one more
    /// solve.
    pub fn scored_loss(&self, params: &Params) -> Option<LossValue> {
        let key = bits(params);
        let t = self.tally.borrow();
        // The best point is usually one of the last evaluated.
        t.scored
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// The loss as a plain number: NaN when the solve fails (and counted).
    fn loss_value(&self, x: &[f64]) -> f64 {
        // The length was checked by `cost`/`gradient` (`check_len`).
        let Ok(p) = Params::from_slice(x) else {
            return f64::NAN;
        };
        let r = self.loss(&p);
        self.record(&r);
        if let Ok(v) = r {
            self.remember(&p, v);
        }
        r.map(|v| v.msle).unwrap_or(f64::NAN)
    }

    fn cached(&self, x: &[f64]) -> Option<(f64, Option<Vec<f64>>)> {
        match &self.tally.borrow().last {
            Some((cx, v, g)) if cx.as_slice() == x => Some((*v, g.clone())),
            _ => None,
        }
    }

    /// Evaluates loss and exact gradient at `x` and caches both.
    fn evaluate_exact(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let Ok(p) = Params::from_slice(x) else {
            return (f64::NAN, vec![f64::NAN; N_PARAMS]);
        };
        let r = self.loss_and_gradient(&p);
        self.record(&r);
        let (v, g) = match r {
            Ok((v, g)) => {
                self.remember(&p, v);
                (v.msle, g.to_vec())
            }
            Err(_) => (f64::NAN, vec![f64::NAN; N_PARAMS]),
        };
        self.tally.borrow_mut().last = Some((x.to_vec(), v, Some(g.clone())));
        (v, g)
    }
}

/// The bit patterns of a parameter vector: a key that tells `0.0` from
/// `-0.0`, as a solve might.
fn bits(p: &Params) -> [u64; N_PARAMS] {
    p.to_array().map(f64::to_bits)
}

/// The one check of training data before it is solved or scored: at least
/// two days, as many deaths as cases and dates, and a finite positive
/// population above the first day's cases (the model starts at
/// `S = N - C0`, `I = C0`).
pub fn check_data(data: &TrainingData) -> Result<(), FitError> {
    let fail = |problem: String| {
        Err(FitError::Data {
            region: data.key.display_name(),
            problem,
        })
    };
    let n = data.cases.len();
    if n < 2 || data.deaths.len() != n || data.dates.len() != n {
        return fail(format!(
            "{n} days of cases, {} of deaths and {} dates (need at least 2, the same number of each)",
            data.deaths.len(),
            data.dates.len()
        ));
    }
    if !(data.population.is_finite() && data.population > data.cases[0] && data.cases[0] >= 0.0) {
        return fail(format!(
            "population {} and first-day cases {} (need 0 <= cases < population)",
            data.population, data.cases[0]
        ));
    }
    Ok(())
}

/// A parameter vector of the wrong length is the caller's error, not a
/// panic in [`Params::from_slice`].
fn check_len(x: &[f64]) -> Result<(), ArgminError> {
    if x.len() != N_PARAMS {
        return Err(crate::optim::OptimError::Length {
            what: "seird parameters",
            expected: N_PARAMS,
            got: x.len(),
        }
        .into());
    }
    Ok(())
}

impl CostFunction for SeirdObjective {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Self::Param) -> Result<f64, ArgminError> {
        check_len(x)?;
        if let Some((v, _)) = self.cached(x) {
            return Ok(v);
        }
        if self.config.optimizer.gradient == GradientMethod::Sensitivity {
            return Ok(self.evaluate_exact(x).0);
        }
        let v = self.loss_value(x);
        self.tally.borrow_mut().last = Some((x.clone(), v, None));
        Ok(v)
    }
}

impl Gradient for SeirdObjective {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, x: &Self::Param) -> Result<Vec<f64>, ArgminError> {
        check_len(x)?;
        let cached = self.cached(x);
        if let Some((_, Some(g))) = &cached {
            return Ok(g.clone());
        }
        let scheme = match self.config.optimizer.gradient {
            GradientMethod::Sensitivity => return Ok(self.evaluate_exact(x).1),
            GradientMethod::TwoPoint => FdScheme::TwoPoint,
            GradientMethod::ThreePoint => FdScheme::ThreePoint,
        };
        let f0 = match cached {
            Some((v, _)) => v,
            None => self.loss_value(x),
        };
        if !f0.is_finite() {
            return Ok(vec![f64::NAN; N_PARAMS]);
        }
        let g = fd_gradient(
            |q| self.loss_value(q),
            x,
            Some(f0),
            Some(&self.bounds),
            scheme,
        )
        .grad;
        self.tally.borrow_mut().last = Some((x.clone(), f0, Some(g.clone())));
        Ok(g)
    }
}
