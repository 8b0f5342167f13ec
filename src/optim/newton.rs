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
    CostFunction, Error, Gradient, Hessian, IterState, Problem, Solver, State, TerminationReason,
    KV,
};

use super::linalg::{cholesky, cholesky_solve, dot, Matrix};
use super::stopping::{pg_norms, step_inf, Progress, StopRule, StopRules};
use super::{validate, Bounds, OptimError};

/// The argmin state of [`Newton`].
pub type NewtonState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

const NAME: &str = "newton";

/// Newton's method; see the module docs.
#[derive(Debug, Clone)]
pub struct Newton {
    bounds: Option<Bounds>,
    rules: StopRules,
    max_backtracks: u32,
    fired: Option<StopRule>,
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
            rules: StopRules::grad_inf(1e-8),
            max_backtracks: 50,
            fired: None,
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
        self.rules.grad_inf = Some(tol);
        Ok(self)
    }

    /// Replaces all stopping rules (see [`crate::optim::stopping`]).
    pub fn with_stop_rules(mut self, rules: StopRules) -> Result<Self, OptimError> {
        rules.validate(NAME)?;
        self.rules = rules;
        Ok(self)
    }

    /// The rule that ended the last run, if one did.
    pub fn stop_rule(&self) -> Option<StopRule> {
        self.fired
    }

    /// Checks the rules at `x` (reached from `prev`), returning the
    /// projected-gradient infinity norm and the record for observers.
    fn check(
        &mut self,
        prev: Option<(&[f64], f64)>,
        x: &[f64],
        f: f64,
        g: &[f64],
        kv: KV,
    ) -> (f64, KV) {
        let (pg_inf, pg_2) = pg_norms(self.bounds.as_ref(), x, g);
        self.fired = self.rules.check(&Progress {
            pg_inf,
            pg_2,
            f_prev: prev.map(|p| p.1),
            f,
            step_inf: prev.map(|p| step_inf(p.0, x)),
        });
        let kv = match self.fired {
            Some(rule) => kv.merge(argmin::kv!("stop_rule" => rule.name().to_string();)),
            None => kv,
        };
        (pg_inf, kv)
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
        self.fired = None;
        let mut x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        validate::start_point(NAME, &x, self.bounds.as_ref())?;
        if let Some(b) = &self.bounds {
            b.project(&mut x);
        }
        let (f, g) = validate::cost_and_gradient(NAME, problem, &x)?;
        if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(OptimError::NonFiniteStart {
                what: "cost or gradient".into(),
                value: f,
                x,
            }
            .into());
        }
        let (_, kv) = self.check(None, &x, f, &g, KV::new());
        let state = state.param(x).cost(f).gradient(g);
        Ok(match self.fired {
            Some(_) => (
                state.terminate_with(TerminationReason::SolverConverged),
                Some(kv),
            ),
            None => (state, Some(kv)),
        })
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
        validate::hessian(NAME, &h, x.len())?;
        let Some((d, tau)) = modified_newton_direction(&h, &g) else {
            let reason = TerminationReason::SolverExit("non-finite Hessian".into());
            return Ok((
                state.param(x).cost(f0).gradient(g).terminate_with(reason),
                None,
            ));
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
                let reason = TerminationReason::SolverExit("line search found no decrease".into());
                let kv = argmin::kv!("tau" => tau; "step" => 0.0;);
                return Ok((
                    state.param(x).cost(f0).gradient(g).terminate_with(reason),
                    Some(kv),
                ));
            }
            t *= 0.5;
            backtracks += 1;
            xn = trial(t);
            f = problem.cost(&xn)?;
        }
        let gn = problem.gradient(&xn)?;
        validate::gradient(NAME, &gn, xn.len())?;
        let (pg, kv) = self.check(Some((&x, f0)), &xn, f, &gn, KV::new());
        let kv = kv.merge(argmin::kv!("tau" => tau; "step" => t; "pg_norm" => pg;));
        let state = state.param(xn).cost(f).gradient(gn);
        Ok(match self.fired {
            Some(_) => (
                state.terminate_with(TerminationReason::SolverConverged),
                Some(kv),
            ),
            None => (state, Some(kv)),
        })
    }
}

/// Adds a Hessian by central differences of the analytic gradient to any
/// problem with cost and gradient:
/// `H[:, j] = (g(x + h e_j) - g(x - h e_j)) / 2h`, `h = eps^(1/3) max(1, |x_j|)`,
/// symmetrised. Gradient calls it makes are counted by [`FdHessian::gradient_evals`].
#[derive(Debug)]
pub struct FdHessian<P> {
    problem: P,
    bounds: Option<Bounds>,
    evals: AtomicU64,
}

impl<P> FdHessian<P> {
    /// Wraps `problem`.
    pub fn new(problem: P) -> Self {
        FdHessian {
            problem,
            bounds: None,
            evals: AtomicU64::new(0),
        }
    }

    /// Keeps every gradient evaluation of the differences inside `bounds`
    /// (see [`central_hessian_in_box`]).
    #[must_use]
    pub fn with_bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = Some(bounds);
        self
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
        central_hessian_in_box(
            |p| {
                self.evals.fetch_add(1, Ordering::Relaxed);
                self.problem.gradient(&p.to_vec())
            },
            x,
            self.bounds.as_ref(),
        )
    }
}

/// The Hessian by central differences of a gradient function,
/// `H[:, j] = (g(x + h e_j) - g(x - h e_j)) / 2h` with
/// `h = eps^(1/3) max(1, |x_j|)`, symmetrised.
pub fn central_hessian<F>(grad: F, x: &[f64]) -> Result<Vec<Vec<f64>>, Error>
where
    F: FnMut(&[f64]) -> Result<Vec<f64>, Error>,
{
    central_hessian_in_box(grad, x, None)
}

/// [`central_hessian`] that never evaluates the gradient outside `bounds`:
/// where `x_j +- h` would leave the box, the column is the one-sided
/// difference `(g(x + h e_j) - g(x)) / h` (or backward) towards the side
/// with room, and where neither side has room for `h`, the step shrinks to
/// the room there is (a variable with equal bounds gets a zero column).
/// Objectives such as the SEIRD loss are undefined outside their box
/// (negative rates), so a Hessian taken at a bound must not step out.
pub fn central_hessian_in_box<F>(
    mut grad: F,
    x: &[f64],
    bounds: Option<&Bounds>,
) -> Result<Vec<Vec<f64>>, Error>
where
    F: FnMut(&[f64]) -> Result<Vec<f64>, Error>,
{
    let n = x.len();
    let mut cols = Vec::with_capacity(n);
    let mut xt = x.to_vec();
    let mut g0: Option<Vec<f64>> = None;
    for j in 0..n {
        let h = f64::EPSILON.cbrt() * x[j].abs().max(1.0);
        let (lo, hi) = match bounds {
            Some(b) => (b.lower()[j], b.upper()[j]),
            None => (f64::NEG_INFINITY, f64::INFINITY),
        };
        let (up, down) = (hi - x[j], x[j] - lo);
        // (forward step, backward step); 0 means "use x itself".
        let (hp, hm) = if up >= h && down >= h {
            (h, h)
        } else if up >= h {
            (h, 0.0)
        } else if down >= h {
            (0.0, h)
        } else if up.min(down) > 0.0 {
            let r = up.min(down);
            (r, r)
        } else if up > 0.0 {
            (up, 0.0)
        } else if down > 0.0 {
            (0.0, down)
        } else {
            cols.push(vec![0.0; n]);
            continue;
        };
        let mut side =
            |step: f64, sign: f64, xt: &mut Vec<f64>| -> Result<(Vec<f64>, f64), Error> {
                if step == 0.0 {
                    if g0.is_none() {
                        g0 = Some(grad(x)?);
                    }
                    return Ok((g0.clone().unwrap_or_default(), x[j]));
                }
                let mut xj = x[j] + sign * step;
                if let Some(_b) = bounds {
                    xj = xj.max(lo).min(hi);
                }
                xt[j] = xj;
                let g = grad(xt)?;
                xt[j] = x[j];
                Ok((g, xj))
            };
        let (gp, xp) = side(hp, 1.0, &mut xt)?;
        let (gm, xm) = side(hm, -1.0, &mut xt)?;
        // The actual (representable) distance between the two points.
        let width = xp - xm;
        cols.push(
            gp.iter()
                .zip(&gm)
                .map(|(a, b)| (a - b) / width)
                .collect::<Vec<f64>>(),
        );
    }
    for c in &cols {
        if c.len() != n {
            return Err(OptimError::GradientLength {
                solver: "finite-difference Hessian",
                expected: n,
                got: c.len(),
            }
            .into());
        }
    }
    Ok((0..n)
        .map(|i| (0..n).map(|j| 0.5 * (cols[j][i] + cols[i][j])).collect())
        .collect())
}
