//! Stochastic gradient descent over losses that are means over samples,
//! with reproducible (seeded) shuffling.
//!
//! One argmin iteration is one epoch: the sample indices are shuffled with
//! a seeded RNG, cut into batches of `batch_size` (the last one may be
//! smaller), and `x -= lr * grad_batch(x)` is applied per batch, projected
//! onto the box if there is one. `batch_size = 1` is plain SGD; larger sizes
//! are mini-batch SGD; `batch_size >= n` is full-batch gradient descent.
//! After each epoch the full loss is evaluated once for the state (counted
//! as `cost_count`); batch gradients are counted as
//! `batch_gradient_count`.
//!
//! ## Reference
//!
//! H. Robbins and S. Monro, "A stochastic approximation method", Annals of
//! Mathematical Statistics 22 (1951); L. Bottou, F. E. Curtis, J. Nocedal,
//! "Optimization methods for large-scale machine learning", SIAM Review 60
//! (2018).

use argmin::core::{Error, IterState, Problem, Solver, State, TerminationReason, KV};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::stopping::{diverged, DivergenceWatch};
use super::{validate, Bounds, OptimError};

/// A loss that is the mean of per-sample losses, `f(x) = 1/n sum_i f_i(x)`,
/// evaluated on any subset ("batch") of samples.
pub trait SumOfLosses {
    /// Number of samples `n`.
    fn n_samples(&self) -> usize;
    /// Mean loss over the samples `idx`.
    fn batch_cost(&self, x: &[f64], idx: &[usize]) -> Result<f64, Error>;
    /// Gradient of the mean loss over the samples `idx`.
    fn batch_gradient(&self, x: &[f64], idx: &[usize]) -> Result<Vec<f64>, Error>;
}

/// The argmin state of [`SGD`] (no gradient is stored: there is no full one).
pub type SgdState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// (Mini-batch) stochastic gradient descent; see the module docs.
#[derive(Debug, Clone)]
pub struct SGD {
    lr: f64,
    batch_size: usize,
    seed: u64,
    rng: StdRng,
    bounds: Option<Bounds>,
    watch: DivergenceWatch,
}

impl SGD {
    /// Learning rate `lr > 0`, batch size 1, seed 0.
    pub fn new(lr: f64) -> Result<Self, OptimError> {
        if !lr.is_finite() || lr <= 0.0 {
            return Err(OptimError::InvalidSetting {
                solver: "sgd",
                setting: "lr",
                value: lr.to_string(),
                problem: "must be finite and > 0",
            });
        }
        Ok(SGD {
            lr,
            batch_size: 1,
            seed: 0,
            rng: StdRng::seed_from_u64(0),
            bounds: None,
            watch: DivergenceWatch::default(),
        })
    }

    /// Samples per gradient step (`>= 1`).
    pub fn with_batch_size(mut self, batch_size: usize) -> Result<Self, OptimError> {
        if batch_size == 0 {
            return Err(OptimError::InvalidSetting {
                solver: "sgd",
                setting: "batch_size",
                value: "0".into(),
                problem: "must be at least 1",
            });
        }
        self.batch_size = batch_size;
        Ok(self)
    }

    /// Seed of the shuffling RNG: the same seed gives the same run.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.rng = StdRng::seed_from_u64(seed);
        self
    }

    /// Projects every iterate onto `bounds`.
    #[must_use]
    pub fn with_bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = Some(bounds);
        self
    }
}

impl<O: SumOfLosses> Solver<O, SgdState> for SGD {
    fn name(&self) -> &str {
        if self.batch_size == 1 {
            "sgd"
        } else {
            "mini-batch sgd"
        }
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        mut state: SgdState,
    ) -> Result<(SgdState, Option<KV>), Error> {
        self.rng = StdRng::seed_from_u64(self.seed);
        let mut x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: "sgd" })?;
        validate::start_point("sgd", &x, self.bounds.as_ref())?;
        if let Some(b) = &self.bounds {
            b.project(&mut x);
        }
        let n = problem.problem("n_samples", |p| Ok(p.n_samples()))?;
        if n == 0 {
            return Err(OptimError::EmptyProblem { solver: "sgd" }.into());
        }
        let all: Vec<usize> = (0..n).collect();
        let f = problem.problem("cost_count", |p| p.batch_cost(&x, &all))?;
        if !f.is_finite() {
            return Err(OptimError::NonFiniteStart {
                what: "cost".into(),
                value: f,
                x,
            }
            .into());
        }
        self.watch = DivergenceWatch::start(f);
        Ok((state.param(x).cost(f), None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: SgdState,
    ) -> Result<(SgdState, Option<KV>), Error> {
        let mut x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: "sgd" })?;
        let n = problem.problem("n_samples", |p| Ok(p.n_samples()))?;
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut self.rng);
        let mut steps = 0u64;
        let x_prev = x.clone();
        for batch in order.chunks(self.batch_size) {
            let g = problem.problem("batch_gradient_count", |p| p.batch_gradient(&x, batch))?;
            validate::gradient("sgd", &g, x.len())?;
            for (xi, gi) in x.iter_mut().zip(&g) {
                *xi -= self.lr * gi;
            }
            if let Some(b) = &self.bounds {
                b.project(&mut x);
            }
            steps += 1;
        }
        order.sort_unstable();
        let f = problem.problem("cost_count", |p| p.batch_cost(&x, &order))?;
        let step = x
            .iter()
            .zip(&x_prev)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let stop = if !f.is_finite() {
            Some(TerminationReason::SolverExit(
                "non-finite cost (learning rate too large?)".into(),
            ))
        } else if self.watch.diverged(f, step) {
            Some(diverged())
        } else {
            None
        };
        let kv = argmin::kv!("batches" => steps;);
        let state = state.param(x).cost(f);
        Ok(match stop {
            Some(reason) => (state.terminate_with(reason), Some(kv)),
            None => (state, Some(kv)),
        })
    }
}
