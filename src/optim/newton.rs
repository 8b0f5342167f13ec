//! Newton's method with a Hessian modification when the Hessian is not
//! positive definite, and an Armijo backtracking line search; plus
//! [`FdHessian`], a finite-difference Hessian from the gradient.
//!
//! Each iteration solves `(H + tau I) d = -g` where `tau = 0` when the
//! Cholesky factorisation of `H` succeeds, and otherwise grows from
//! `beta = 1e-3 * max(1, max |H_ii|)` by factors of 10 until it does
//! (Nocedal and Wright, Algorithm 3.3), so `d` is always a descent
//! direction. The step `t` starts at 1 and halves until
//! `f(x(t)) <= f(x) + 1e-4 g'(x(t) - x)`, with `x(t) = P(x + t d)` the
//! projection onto the box if there is one (a projected Newton heuristic:
//! exact for interior solutions). Near a strict minimum the full step is
//! accepted and convergence is quadratic.
//!
//! ## Reference
//!
//! J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed.,
//! Springer (2006), sections 3.4 and 3.5.

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

use std::sync::atomic::{AtomicU64, Ordering};

use argmin::core::{
    CostFunction, Error, Gradient, Hessian, IterState, Problem, Solver, TerminationReason,
    TerminationStatus, KV,
};

use super::linalg::{cholesky, cholesky_solve, dot, Matrix};
use super::{Bounds, OptimError};

/// The argmin state of [`Newton`].
pub type NewtonState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

const NAME: &str = "newton";

/// Newton's method; see the module docs.
#[derive(Debug, Clone)]
pub struct Newton {
    bounds: Option<Bounds>,
    tol: f64,
    max_backtracks: u32,
    stop: Option<TerminationReason>,
}

impl Default for Newton {
    fn default() -> Self {
        Newton::new()
    }
}

impl Newton {
    /// Tolerance 1e-8 on the projected-gradient infinity norm, no box.
    pub fn new() -> Self {
        Newton {
            bounds: None,
            tol: 1e-8,
            max_backtracks: 50,
            stop: None,
        }
    }

    /// Projects every iterate onto `bounds`.
    #[must_use]
    pub fn with_bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = Some(bounds);
        self
    }

    /// Stops when the projected-gradient infinity norm is `<= tol`.
    pub fn with_tolerance(mut self, tol: f64) -> Result<Self, OptimError> {
        if !tol.is_finite() || tol < 0.0 {
            return Err(OptimError::InvalidSetting {
                solver: NAME,
                setting: "tol",
                value: tol.to_string(),
                problem: "must be finite and >= 0",
            });
        }
        self.tol = tol;
        Ok(self)
    }

    fn pg_norm(&self, x: &[f64], g: &[f64]) -> f64 {
        match &self.bounds {
            Some(b) => b.projected_gradient_norm(x, g),
            None => g.iter().fold(0.0, |m, v| m.max(v.abs())),
        }
    }
}

/// Solves `(H + tau I) d = -g` with the smallest `tau` of the sequence
/// 0, beta, 10 beta, ... for which the Cholesky factorisation succeeds.
/// Returns `(d, tau)`, or `None` if `H` has non-finite entries.
pub(crate) fn modified_newton_direction(h: &[Vec<f64>], g: &[f64]) -> Option<(Vec<f64>, f64)> {
    let n = g.len();
    let mut m = Matrix::zeros(n);
    let mut max_diag = 0.0f64;
    for i in 0..n {
        for j in 0..n {
            // Symmetrise: finite-difference Hessians are only nearly symmetric.
            let v = 0.5 * (h[i][j] + h[j][i]);
            if !v.is_finite() {
                return None;
            }
            m.set(i, j, v);
        }
        max_diag = max_diag.max(h[i][i].abs());
    }
    let beta = 1e-3 * max_diag.max(1.0);
    let mut tau = 0.0;
    for _ in 0..60 {
        let mut shifted = m.clone();
        for i in 0..n {
            shifted.set(i, i, m.get(i, i) + tau);
        }
        if let Some(l) = cholesky(&shifted) {
            let minus_g: Vec<f64> = g.iter().map(|v| -v).collect();
            return Some((cholesky_solve(&l, &minus_g), tau));
        }
        tau = if tau == 0.0 { beta } else { 10.0 * tau };
    }
    None
}

impl<O> Solver<O, NewtonState> for Newton
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>
        + Hessian<Param = Vec<f64>, Hessian = Vec<Vec<f64>>>,
{
    fn name(&self) -> &str {
        NAME
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        mut state: NewtonState,
    ) -> Result<(NewtonState, Option<KV>), Error> {
        self.stop = None;
        let mut x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        if let Some(b) = &self.bounds {
            b.check_len(&x)?;
            b.project(&mut x);
        }
        let f = problem.cost(&x)?;
        let g = problem.gradient(&x)?;
        if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(OptimError::NonFiniteStart {
                what: "cost or gradient".into(),
                value: f,
                x,
            }
            .into());
        }
        if self.pg_norm(&x, &g) <= self.tol {
            self.stop = Some(TerminationReason::SolverConverged);
        }
        Ok((state.param(x).cost(f).gradient(g), None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: NewtonState,
    ) -> Result<(NewtonState, Option<KV>), Error> {
        let x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        let g = state
            .take_gradient()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        let f0 = state.get_cost();
        let h = problem.hessian(&x)?;
        let Some((d, tau)) = modified_newton_direction(&h, &g) else {
            self.stop = Some(TerminationReason::SolverExit("non-finite Hessian".into()));
            return Ok((state.param(x).cost(f0).gradient(g), None));
        };
        let trial = |t: f64| -> Vec<f64> {
            let mut xn: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + t * b).collect();
            if let Some(b) = &self.bounds {
                b.project(&mut xn);
            }
            xn
        };
        let mut t = 1.0;
        let mut xn = trial(t);
        let mut f = problem.cost(&xn)?;
        let mut backtracks = 0u32;
        loop {
            let moved: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
            if f.is_finite() && f <= f0 + 1e-4 * dot(&g, &moved) {
                break;
            }
            if backtracks >= self.max_backtracks {
                self.stop = Some(TerminationReason::SolverExit(
                    "line search found no decrease".into(),
                ));
                let kv = argmin::kv!("tau" => tau; "step" => 0.0;);
                return Ok((state.param(x).cost(f0).gradient(g), Some(kv)));
            }
            t *= 0.5;
            backtracks += 1;
            xn = trial(t);
            f = problem.cost(&xn)?;
        }
        let gn = problem.gradient(&xn)?;
        let pg = self.pg_norm(&xn, &gn);
        if pg <= self.tol {
            self.stop = Some(TerminationReason::SolverConverged);
        }
        let kv = argmin::kv!("tau" => tau; "step" => t; "pg_norm" => pg;);
        Ok((state.param(xn).cost(f).gradient(gn), Some(kv)))
    }

    fn terminate(&mut self, _state: &NewtonState) -> TerminationStatus {
        match self.stop.take() {
            Some(r) => TerminationStatus::Terminated(r),
            None => TerminationStatus::NotTerminated,
        }
    }
}

/// Adds a Hessian by central differences of the analytic gradient to any
/// problem with cost and gradient:
/// `H[:, j] = (g(x + h e_j) - g(x - h e_j)) / 2h`, `h = eps^(1/3) max(1, |x_j|)`,
/// symmetrised. Gradient calls it makes are counted by [`FdHessian::gradient_evals`].
#[derive(Debug)]
pub struct FdHessian<P> {
    problem: P,
    evals: AtomicU64,
}

impl<P> FdHessian<P> {
    /// Wraps `problem`.
    pub fn new(problem: P) -> Self {
        FdHessian {
            problem,
            evals: AtomicU64::new(0),
        }
    }

    /// Gradient evaluations made for Hessians so far.
    pub fn gradient_evals(&self) -> u64 {
        self.evals.load(Ordering::Relaxed)
    }

    /// The wrapped problem.
    pub fn inner(&self) -> &P {
        &self.problem
    }
}

impl<P: CostFunction<Param = Vec<f64>, Output = f64>> CostFunction for FdHessian<P> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        self.problem.cost(x)
    }
}

impl<P: Gradient<Param = Vec<f64>, Gradient = Vec<f64>>> Gradient for FdHessian<P> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        self.problem.gradient(x)
    }
}

impl<P: Gradient<Param = Vec<f64>, Gradient = Vec<f64>>> Hessian for FdHessian<P> {
    type Param = Vec<f64>;
    type Hessian = Vec<Vec<f64>>;
    fn hessian(&self, x: &Vec<f64>) -> Result<Vec<Vec<f64>>, Error> {
        central_hessian(
            |p| {
                self.evals.fetch_add(1, Ordering::Relaxed);
                self.problem.gradient(&p.to_vec())
            },
            x,
        )
    }
}

/// The Hessian by central differences of a gradient function,
/// `H[:, j] = (g(x + h e_j) - g(x - h e_j)) / 2h` with
/// `h = eps^(1/3) max(1, |x_j|)`, symmetrised.
pub fn central_hessian<F>(mut grad: F, x: &[f64]) -> Result<Vec<Vec<f64>>, Error>
where
    F: FnMut(&[f64]) -> Result<Vec<f64>, Error>,
{
    let n = x.len();
    let mut cols = Vec::with_capacity(n);
    let mut xt = x.to_vec();
    for j in 0..n {
        let h = f64::EPSILON.cbrt() * x[j].abs().max(1.0);
        xt[j] = x[j] + h;
        let gp = grad(&xt)?;
        xt[j] = x[j] - h;
        let gm = grad(&xt)?;
        xt[j] = x[j];
        let width = (x[j] + h) - (x[j] - h);
        cols.push(
            gp.iter()
                .zip(&gm)
                .map(|(a, b)| (a - b) / width)
                .collect::<Vec<f64>>(),
        );
    }
    Ok((0..n)
        .map(|i| (0..n).map(|j| 0.5 * (cols[j][i] + cols[i][j])).collect())
        .collect())
}
