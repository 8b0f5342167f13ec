//! Finite-difference gradients that respect a box: no point outside the
//! bounds is ever evaluated.
//!
//! Step sizes follow `scipy.optimize._numdiff.approx_derivative`, so a
//! gradient computed here matches what scipy's `minimize(..., jac=None)`
//! would use:
//!
//! * 2-point (forward) differences, `g_i = (f(x + h e_i) - f(x)) / h`, with
//!   the relative step `sqrt(eps)`; 3-point (central) differences,
//!   `g_i = (f(x + h e_i) - f(x - h e_i)) / 2h`, with `eps^(1/3)`; in both,
//!   `h = rel * max(1, |x_i|)`, pointing in the direction of `sign(x_i)` for
//!   the one-sided scheme;
//! * an absolute step instead (scipy's L-BFGS-B uses `eps = 1e-8`) with
//!   [`FdStep::Absolute`];
//! * near a bound (scipy's `_adjust_scheme_to_bounds`): a forward step that
//!   would leave the box is reversed, or shrunk to the room there is; a
//!   central difference that does not fit becomes the one-sided 3-point
//!   formula `(-3 f(x) + 4 f(x + h) - f(x + 2h)) / 2h` towards the side with
//!   more room, or a central difference with a smaller step.
//!
//! Evaluation points are finally clamped into the box, and the actual
//! distance `x' - x` (an exactly representable number) is used as the step,
//! so rounding can never put a point outside. A variable whose bounds are
//! equal has nothing to differentiate; its component is 0 and costs no
//! evaluation.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use argmin::core::{CostFunction, Error, Gradient};

use super::Bounds;

/// Which difference formula to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FdScheme {
    /// Forward (or, at an upper bound, backward) differences: one extra
    /// evaluation per variable, error `O(h)`.
    #[default]
    TwoPoint,
    /// Central differences (one-sided 3-point at a bound): two extra
    /// evaluations per variable, error `O(h^2)`.
    ThreePoint,
}

/// How the step `h` is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum FdStep {
    /// scipy's default relative step: `sqrt(eps)` (2-point) or `eps^(1/3)`
    /// (3-point), times `max(1, |x_i|)`.
    #[default]
    Default,
    /// A relative step `r`: `h = r * max(1, |x_i|)`.
    Relative(f64),
    /// The same absolute step for every variable (scipy's L-BFGS-B `eps`).
    Absolute(f64),
}

/// A finite-difference gradient and the number of function evaluations it
/// took (not counting a supplied `f0`).
#[derive(Debug, Clone, PartialEq)]
pub struct FdGradient {
    /// The gradient estimate.
    pub grad: Vec<f64>,
    /// Function evaluations made.
    pub evals: usize,
}

/// The finite-difference gradient of `f` at `x` with scipy's default steps.
///
/// `f0` is `f(x)` when the caller already has it (the 2-point and one-sided
/// 3-point formulas need it). With `bounds`, no point outside the box is
/// evaluated; `x` itself is clamped into the box first.
pub fn fd_gradient<F: FnMut(&[f64]) -> f64>(
    f: F,
    x: &[f64],
    f0: Option<f64>,
    bounds: Option<&Bounds>,
    scheme: FdScheme,
) -> FdGradient {
    fd_gradient_with_step(f, x, f0, bounds, scheme, FdStep::Default)
}

/// [`fd_gradient`] with an explicit step rule.
pub fn fd_gradient_with_step<F: FnMut(&[f64]) -> f64>(
    mut f: F,
    x: &[f64],
    f0: Option<f64>,
    bounds: Option<&Bounds>,
    scheme: FdScheme,
    step: FdStep,
) -> FdGradient {
    let res: Result<FdGradient, Infallible> =
        try_fd_gradient(|x| Ok(f(x)), x, f0, bounds, scheme, step);
    match res {
        Ok(g) => g,
        Err(never) => match never {},
    }
}

/// [`fd_gradient_with_step`] for a function that can fail: the first error
/// stops the computation and is returned.
pub fn try_fd_gradient<E, F: FnMut(&[f64]) -> Result<f64, E>>(
    mut f: F,
    x: &[f64],
    f0: Option<f64>,
    bounds: Option<&Bounds>,
    scheme: FdScheme,
    step: FdStep,
) -> Result<FdGradient, E> {
    let n = x.len();
    let mut base = x.to_vec();
    if let Some(b) = bounds {
        b.project(&mut base);
    }
    let mut evals = 0usize;
    let mut f0 = f0;
    let mut grad = vec![0.0; n];
    let mut xt = base.clone();
    for i in 0..n {
        let xi = base[i];
        let (lo, hi) = bounds
            .map(|b| (b.lower()[i], b.upper()[i]))
            .unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
        let h = nominal_step(xi, scheme, step);
        let plan = plan_step(xi, h, lo, hi, scheme);
        let clamp = |v: f64| v.max(lo).min(hi);
        grad[i] = match plan {
            Plan::Fixed => 0.0,
            Plan::OneSided(h) => {
                let fx0 = match f0 {
                    Some(v) => v,
                    None => {
                        evals += 1;
                        let v = f(&base)?;
                        f0 = Some(v);
                        v
                    }
                };
                let x1 = clamp(xi + h);
                let h1 = x1 - xi;
                xt[i] = x1;
                evals += 1;
                let f1 = f(&xt)?;
                match scheme {
                    FdScheme::TwoPoint => (f1 - fx0) / h1,
                    FdScheme::ThreePoint => {
                        let x2 = clamp(xi + 2.0 * h);
                        let h2 = x2 - xi;
                        xt[i] = x2;
                        evals += 1;
                        let f2 = f(&xt)?;
                        // Derivative at 0 of the parabola through (0, f0),
                        // (h1, f1), (h2, f2); with h2 = 2 h1 this is
                        // (-3 f0 + 4 f1 - f2) / (2 h1). Written for any
                        // spacing because clamping may perturb h2 by an ulp.
                        -fx0 * (h1 + h2) / (h1 * h2) + f1 * h2 / (h1 * (h2 - h1))
                            - f2 * h1 / (h2 * (h2 - h1))
                    }
                }
            }
            Plan::Central(h) => {
                let x1 = clamp(xi - h);
                let x2 = clamp(xi + h);
                xt[i] = x1;
                evals += 1;
                let f1 = f(&xt)?;
                xt[i] = x2;
                evals += 1;
                let f2 = f(&xt)?;
                (f2 - f1) / (x2 - x1)
            }
        };
        xt[i] = xi;
    }
    Ok(FdGradient { grad, evals })
}

/// The signed step before looking at the bounds.
fn nominal_step(xi: f64, scheme: FdScheme, step: FdStep) -> f64 {
    let rel_default = match scheme {
        FdScheme::TwoPoint => f64::EPSILON.sqrt(),
        FdScheme::ThreePoint => f64::EPSILON.cbrt(),
    };
    let sign = if xi >= 0.0 { 1.0 } else { -1.0 };
    let relative = |r: f64| r * sign * xi.abs().max(1.0);
    let h = match step {
        FdStep::Default => relative(rel_default),
        FdStep::Relative(r) => relative(r.abs()),
        FdStep::Absolute(h) => h.abs(),
    };
    // A step lost to rounding at large |x| falls back to the default
    // relative step, as scipy does.
    if (xi + h) - xi == 0.0 || !h.is_finite() {
        relative(rel_default)
    } else {
        h
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    /// The variable cannot move (equal bounds).
    Fixed,
    /// One-sided difference with this signed step.
    OneSided(f64),
    /// Central difference with this positive step.
    Central(f64),
}

/// scipy's `_adjust_scheme_to_bounds` for one variable.
fn plan_step(xi: f64, h: f64, lo: f64, hi: f64, scheme: FdScheme) -> Plan {
    let lower_dist = xi - lo;
    let upper_dist = hi - xi;
    if upper_dist <= 0.0 && lower_dist <= 0.0 {
        return Plan::Fixed;
    }
    match scheme {
        FdScheme::TwoPoint => {
            let target = xi + h;
            let violated = target < lo || target > hi;
            let fitting = h.abs() <= lower_dist.max(upper_dist);
            if fitting {
                Plan::OneSided(if violated { -h } else { h })
            } else if upper_dist >= lower_dist {
                Plan::OneSided(upper_dist)
            } else {
                Plan::OneSided(-lower_dist)
            }
        }
        FdScheme::ThreePoint => {
            let h = h.abs();
            if lower_dist >= h && upper_dist >= h {
                return Plan::Central(h);
            }
            let adjusted = if upper_dist >= lower_dist {
                h.min(0.5 * upper_dist)
            } else {
                -h.min(0.5 * lower_dist)
            };
            let min_dist = upper_dist.min(lower_dist);
            if adjusted.abs() <= min_dist {
                Plan::Central(min_dist)
            } else {
                Plan::OneSided(adjusted)
            }
        }
    }
}

/// Gives any argmin cost function a finite-difference [`Gradient`] that
/// respects an optional box.
///
/// The cost of the last point is cached, so the solver's usual
/// `cost(x)` then `gradient(x)` costs `1 + n` (2-point) evaluations of the
/// wrapped function, not `2 + n`. [`FiniteDiff::evals`] counts every
/// evaluation of the wrapped function, comparable with scipy's `nfev` for a
/// problem without an analytic gradient.
#[derive(Debug)]
pub struct FiniteDiff<P> {
    problem: P,
    bounds: Option<Bounds>,
    scheme: FdScheme,
    step: FdStep,
    last: Mutex<Option<(Vec<f64>, f64)>>,
    evals: AtomicU64,
}

impl<P> FiniteDiff<P> {
    /// Wraps `problem`: 2-point differences, default steps, no bounds.
    pub fn new(problem: P) -> Self {
        FiniteDiff {
            problem,
            bounds: None,
            scheme: FdScheme::TwoPoint,
            step: FdStep::Default,
            last: Mutex::new(None),
            evals: AtomicU64::new(0),
        }
    }

    /// Keeps every evaluation inside `bounds`.
    #[must_use]
    pub fn with_bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = Some(bounds);
        self
    }

    /// Chooses the difference formula.
    #[must_use]
    pub fn with_scheme(mut self, scheme: FdScheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Chooses the step rule.
    #[must_use]
    pub fn with_step(mut self, step: FdStep) -> Self {
        self.step = step;
        self
    }

    /// Number of evaluations of the wrapped cost function so far.
    pub fn evals(&self) -> u64 {
        self.evals.load(Ordering::Relaxed)
    }

    /// The wrapped problem.
    pub fn inner(&self) -> &P {
        &self.problem
    }

    /// Unwraps the problem.
    pub fn into_inner(self) -> P {
        self.problem
    }
}

impl<P> FiniteDiff<P>
where
    P: CostFunction<Param = Vec<f64>, Output = f64>,
{
    fn eval(&self, x: &[f64]) -> Result<f64, Error> {
        self.evals.fetch_add(1, Ordering::Relaxed);
        self.problem.cost(&x.to_vec())
    }
}

impl<P> CostFunction for FiniteDiff<P>
where
    P: CostFunction<Param = Vec<f64>, Output = f64>,
{
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        let fx = self.eval(x)?;
        if let Ok(mut last) = self.last.lock() {
            *last = Some((x.clone(), fx));
        }
        Ok(fx)
    }
}

impl<P> Gradient for FiniteDiff<P>
where
    P: CostFunction<Param = Vec<f64>, Output = f64>,
{
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        let f0 = self.last.lock().ok().and_then(|last| match last.as_ref() {
            Some((lx, fx)) if lx == x => Some(*fx),
            _ => None,
        });
        let g = try_fd_gradient(
            |p| self.eval(p),
            x,
            f0,
            self.bounds.as_ref(),
            self.scheme,
            self.step,
        )?;
        Ok(g.grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn plan_matches_scipy_adjustment() {
        let h = 1e-3;
        // Interior: untouched.
        assert_eq!(
            plan_step(0.5, h, 0.0, 1.0, FdScheme::TwoPoint),
            Plan::OneSided(h)
        );
        assert_eq!(
            plan_step(0.5, h, 0.0, 1.0, FdScheme::ThreePoint),
            Plan::Central(h)
        );
        // On the upper bound: forward step reversed / one-sided backwards.
        assert_eq!(
            plan_step(1.0, h, 0.0, 1.0, FdScheme::TwoPoint),
            Plan::OneSided(-h)
        );
        assert_eq!(
            plan_step(1.0, h, 0.0, 1.0, FdScheme::ThreePoint),
            Plan::OneSided(-h)
        );
        // Box narrower than the step: use the room there is.
        assert_eq!(
            plan_step(0.0, h, 0.0, 4e-4, FdScheme::TwoPoint),
            Plan::OneSided(4e-4)
        );
        assert_eq!(
            plan_step(0.0, h, 0.0, 4e-4, FdScheme::ThreePoint),
            Plan::OneSided(2e-4)
        );
        // Room on both sides but less than h: smaller central step.
        assert_eq!(
            plan_step(3e-4, h, 0.0, 8e-4, FdScheme::ThreePoint),
            Plan::Central(3e-4)
        );
        assert_eq!(
            plan_step(1.0, h, 1.0, 1.0, FdScheme::ThreePoint),
            Plan::Fixed
        );
    }

    #[test]
    fn one_sided_three_point_is_second_order() {
        // f = exp(x) at the upper bound 0: exact derivative 1.
        let b = Bounds::uniform(1, -1.0, 0.0).unwrap();
        let g = fd_gradient(|x| x[0].exp(), &[0.0], None, Some(&b), FdScheme::ThreePoint);
        assert_relative_eq!(g.grad[0], 1.0, epsilon = 1e-9);
        assert_eq!(g.evals, 3);
    }

    #[test]
    fn absolute_step_like_scipy_lbfgsb() {
        let g = fd_gradient_with_step(
            |x| x[0] * x[0],
            &[3.0],
            Some(9.0),
            None,
            FdScheme::TwoPoint,
            FdStep::Absolute(1e-8),
        );
        assert_relative_eq!(g.grad[0], 6.0, epsilon = 1e-6);
        assert_eq!(g.evals, 1);
    }
}
