//! An augmented Lagrangian solver for smooth equality and inequality
//! constraints on top of a box,
//!
//! ```text
//! min f(x)  subject to  g(x) = 0,  h(x) <= 0,  l <= x <= u,
//! ```
//!
//! as an argmin [`Solver`] whose inner problems are solved by our
//! [`LBFGSB`] (argmin has no constrained solver). It is the safeguarded
//! Powell-Hestenes-Rockafellar scheme of ALGENCAN (Birgin and Martinez):
//! each argmin iteration minimises, over the box only,
//!
//! ```text
//! L(x) = f + sum_i lam_i g_i + rho/2 sum_i g_i^2
//!          + 1/(2 rho) sum_j (max(0, mu_j + rho h_j)^2 - mu_j^2),
//! grad L = grad f + sum_i (lam_i + rho g_i) grad g_i + sum_j max(0, mu_j + rho h_j) grad h_j,
//! ```
//!
//! to the projected-gradient tolerance `eps_k = max(tol, 0.1^(k+1))`, then
//! updates the multipliers `lam += rho g`, `mu = max(0, mu + rho h)`
//! (clamped to `[-1e20, 1e20]`) and multiplies the penalty `rho` by 10 when
//! the infeasibility-complementarity measure `max(|g|_inf, |max(h, -mu/rho)|_inf)`
//! did not fall below half its previous value. The start penalty is
//! ALGENCAN's `rho_0 = 10 max(1, |f(x0)|) / max(1, 1/2 |g|^2 + 1/2 |h_+|^2)`,
//! clamped to `[1e-8, 10]` (ALGENCAN allows up to `1e8`; on HS 100, whose
//! start is feasible, that gives `rho_0 = 7140` and an inner problem so
//! stiff that the line search fails at once). Inner line searches may take
//! 100 evaluations instead of 20, for the same reason: the kink in the
//! curvature where an inequality becomes active.
//!
//! After each outer iteration the KKT residuals of the current point and
//! multipliers are measured ([`Kkt`]): stationarity (the projected gradient
//! of the Lagrangian `f + lam'g + mu'h` on the box, infinity norm),
//! feasibility (`max(|g|_inf, |max(h, 0)|_inf)`) and complementarity
//! (`max_j |min(-h_j, mu_j)|`). The run ends with `SolverConverged` when
//! stationarity `<= tol` and the other two `<= feas_tol`, or with
//! `SolverExit(`[`MSG_INFEASIBLE`]`)` when the penalty has grown past
//! `1e20` (the constraints are probably inconsistent), or with
//! `SolverExit(`[`MSG_STALLED`]`)` when [`STALL_LIMIT`] outer iterations in
//! a row did not lower the KKT score `max(stationarity / tol, feasibility /
//! feas_tol, complementarity / feas_tol)` by 10 %: then the best point seen
//! and its multipliers are returned. Without that safeguard a run whose
//! inner solver can no longer move (HS 100 typed as expressions, whose
//! gradients differ from the hand-written ones by rounding, stalled at
//! stationarity 5e-6) went on updating the multipliers with the
//! penalty's huge `rho h` at rounding-level `h` until they collapsed to 0,
//! and ended 10 000 iterations later at stationarity 100.
//!
//! Every call of the objective and the constraints made by the inner
//! solver is added to the outer problem's `cost_count` and
//! `gradient_count` (constraint values and Jacobians are counted as
//! `constraint_count` and `jacobian_count`).
//!
//! ## Reference
//!
//! * E. G. Birgin and J. M. Martinez, *Practical Augmented Lagrangian
//!   Methods for Constrained Optimization*, SIAM (2014), Algorithm 4.1.
//! * A. R. Conn, N. I. M. Gould and Ph. L. Toint, "A globally convergent
//!   augmented Lagrangian algorithm for optimization with general
//!   constraints and simple bounds", SIAM J. Numer. Anal. 28 (1991).
//! * J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed. (2006),
//!   chapter 17.

use std::cell::Cell;

use argmin::core::{
    CostFunction, Error, Executor, Gradient, IterState, Problem, Solver, State, TerminationReason,
    KV,
};

use super::{validate, Bounds, OptimError, LBFGSB};

/// The argmin state of [`AugLag`].
pub type AugLagState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// Message (and `SolverExit` reason) when the penalty outgrew `1e20`.
pub const MSG_INFEASIBLE: &str =
    "penalty parameter exceeded 1e20: the constraints may be infeasible";

/// Message (and `SolverExit` reason) when the KKT residuals stopped
/// decreasing; the best point seen is returned.
pub const MSG_STALLED: &str =
    "STALLED: the KKT residuals stopped decreasing (the best point seen is returned)";

/// Outer iterations without a 10 % lower KKT score that end the run.
pub const STALL_LIMIT: u32 = 10;

const NAME: &str = "augmented Lagrangian";
const MULT_MAX: f64 = 1e20;
const RHO_MAX: f64 = 1e20;

/// Smooth constraints `g(x) = 0` and `h(x) <= 0`, with their Jacobians
/// (one row per constraint). Either family may be empty (the defaults).
pub trait Constraints {
    /// Number of equality constraints.
    fn n_eq(&self) -> usize {
        0
    }
    /// Number of inequality constraints.
    fn n_ineq(&self) -> usize {
        0
    }
    /// `g(x)`, zero at a feasible point.
    fn equalities(&self, _x: &[f64]) -> Result<Vec<f64>, Error> {
        Ok(Vec::new())
    }
    /// The Jacobian of `g`, `n_eq` rows of `n` entries.
    fn equality_jacobian(&self, _x: &[f64]) -> Result<Vec<Vec<f64>>, Error> {
        Ok(Vec::new())
    }
    /// `h(x)`, `<= 0` at a feasible point.
    fn inequalities(&self, _x: &[f64]) -> Result<Vec<f64>, Error> {
        Ok(Vec::new())
    }
    /// The Jacobian of `h`, `n_ineq` rows of `n` entries.
    fn inequality_jacobian(&self, _x: &[f64]) -> Result<Vec<Vec<f64>>, Error> {
        Ok(Vec::new())
    }
}

/// The KKT residuals of a point and its multipliers (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Kkt {
    /// Projected gradient of the Lagrangian, infinity norm.
    pub stationarity: f64,
    /// Constraint violation, infinity norm.
    pub feasibility: f64,
    /// `max_j |min(-h_j, mu_j)|`.
    pub complementarity: f64,
}

/// The augmented Lagrangian solver; see the module docs.
#[derive(Debug, Clone)]
pub struct AugLag {
    bounds: Bounds,
    tol: f64,
    feas_tol: f64,
    inner_max_iters: u64,
    lam: Vec<f64>,
    mu: Vec<f64>,
    rho: f64,
    prev_measure: f64,
    kkt: Kkt,
    inner_iters: u64,
    best: Option<Best>,
    stall: u32,
}

/// The point with the lowest KKT score so far, with its multipliers.
#[derive(Debug, Clone)]
struct Best {
    x: Vec<f64>,
    f: f64,
    lam: Vec<f64>,
    mu: Vec<f64>,
    kkt: Kkt,
    score: f64,
}

impl AugLag {
    /// On the box `bounds`, stationarity tolerance `1e-6`, feasibility and
    /// complementarity tolerance `1e-8`, at most 5000 L-BFGS-B iterations
    /// per inner problem.
    pub fn new(bounds: Bounds) -> Self {
        AugLag {
            bounds,
            tol: 1e-6,
            feas_tol: 1e-8,
            inner_max_iters: 5000,
            lam: Vec::new(),
            mu: Vec::new(),
            rho: 1.0,
            prev_measure: f64::INFINITY,
            kkt: Kkt::default(),
            inner_iters: 0,
            best: None,
            stall: 0,
        }
    }

    fn invalid(setting: &'static str, v: f64) -> OptimError {
        OptimError::InvalidSetting {
            solver: NAME,
            setting,
            value: v.to_string(),
            problem: "must be finite and > 0",
        }
    }

    /// Stationarity tolerance `tol > 0` and feasibility/complementarity
    /// tolerance `feas_tol > 0`.
    pub fn with_tolerances(mut self, tol: f64, feas_tol: f64) -> Result<Self, OptimError> {
        if !(tol.is_finite() && tol > 0.0) {
            return Err(Self::invalid("tol", tol));
        }
        if !(feas_tol.is_finite() && feas_tol > 0.0) {
            return Err(Self::invalid("feas_tol", feas_tol));
        }
        self.tol = tol;
        self.feas_tol = feas_tol;
        Ok(self)
    }

    /// Multipliers of the equality constraints (`grad f + J_g' lam + J_h' mu = 0`).
    pub fn multipliers_eq(&self) -> &[f64] {
        &self.lam
    }

    /// Multipliers of the inequality constraints (all `>= 0`).
    pub fn multipliers_ineq(&self) -> &[f64] {
        &self.mu
    }

    /// The KKT residuals after the last outer iteration.
    pub fn kkt(&self) -> Kkt {
        self.kkt
    }

    /// The current penalty parameter.
    pub fn penalty(&self) -> f64 {
        self.rho
    }

    /// L-BFGS-B iterations spent on all inner problems.
    pub fn inner_iterations(&self) -> u64 {
        self.inner_iters
    }
}

/// Constraint values and Jacobians at one point, checked for shape.
struct ConstraintEval {
    g: Vec<f64>,
    h: Vec<f64>,
    jg: Vec<Vec<f64>>,
    jh: Vec<Vec<f64>>,
}

fn check_rows(what: &'static str, v: &[f64], m: usize) -> Result<(), OptimError> {
    if v.len() != m {
        return Err(OptimError::Length {
            what,
            expected: m,
            got: v.len(),
        });
    }
    Ok(())
}

fn eval_constraints<O: Constraints>(o: &O, x: &[f64], jac: bool) -> Result<ConstraintEval, Error> {
    let (me, mi) = (o.n_eq(), o.n_ineq());
    let g = o.equalities(x)?;
    check_rows("equality constraints", &g, me)?;
    let h = o.inequalities(x)?;
    check_rows("inequality constraints", &h, mi)?;
    let (jg, jh) = if jac {
        let jg = o.equality_jacobian(x)?;
        let jh = o.inequality_jacobian(x)?;
        for (what, j, m) in [
            ("equality Jacobian", &jg, me),
            ("inequality Jacobian", &jh, mi),
        ] {
            if j.len() != m || j.iter().any(|r| r.len() != x.len()) {
                return Err(OptimError::Length {
                    what,
                    expected: m * x.len(),
                    got: j.iter().map(Vec::len).sum(),
                }
                .into());
            }
        }
        (jg, jh)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(ConstraintEval { g, h, jg, jh })
}

/// `grad f + J_g' a + J_h' b`.
fn combine(grad: &[f64], c: &ConstraintEval, a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = grad.to_vec();
    for (row, ai) in c.jg.iter().zip(a) {
        for (o, r) in out.iter_mut().zip(row) {
            *o += ai * r;
        }
    }
    for (row, bj) in c.jh.iter().zip(b) {
        for (o, r) in out.iter_mut().zip(row) {
            *o += bj * r;
        }
    }
    out
}

/// The inner problem: the augmented Lagrangian at fixed multipliers and
/// penalty, counting the calls it makes.
struct Inner<'a, O> {
    o: &'a O,
    lam: &'a [f64],
    mu: &'a [f64],
    rho: f64,
    costs: Cell<u64>,
    grads: Cell<u64>,
}

impl<O> CostFunction for Inner<'_, O>
where
    O: CostFunction<Param = Vec<f64>, Output = f64> + Constraints,
{
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        self.costs.set(self.costs.get() + 1);
        let f = self.o.cost(x)?;
        let c = eval_constraints(self.o, x, false)?;
        let rho = self.rho;
        let eq: f64 =
            c.g.iter()
                .zip(self.lam)
                .map(|(gi, li)| li * gi + 0.5 * rho * gi * gi)
                .sum();
        let ineq: f64 =
            c.h.iter()
                .zip(self.mu)
                .map(|(hj, mj)| ((mj + rho * hj).max(0.0).powi(2) - mj * mj) / (2.0 * rho))
                .sum();
        Ok(f + eq + ineq)
    }
}

impl<O> Gradient for Inner<'_, O>
where
    O: Gradient<Param = Vec<f64>, Gradient = Vec<f64>> + Constraints,
{
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        self.grads.set(self.grads.get() + 1);
        let gf = self.o.gradient(x)?;
        validate::gradient(NAME, &gf, x.len())?;
        let c = eval_constraints(self.o, x, true)?;
        let rho = self.rho;
        let a: Vec<f64> = c.g.iter().zip(self.lam).map(|(g, l)| l + rho * g).collect();
        let b: Vec<f64> =
            c.h.iter()
                .zip(self.mu)
                .map(|(h, m)| (m + rho * h).max(0.0))
                .collect();
        Ok(combine(&gf, &c, &a, &b))
    }
}

fn bump<O>(problem: &mut Problem<O>, key: &'static str, by: u64) {
    *problem.counts.entry(key).or_insert(0) += by;
}

impl AugLag {
    /// The KKT residuals at `x` with the current multipliers.
    fn measure<O>(&self, o: &O, x: &[f64], c: &ConstraintEval) -> Result<Kkt, Error>
    where
        O: Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
    {
        let gf = o.gradient(&x.to_vec())?;
        validate::gradient(NAME, &gf, x.len())?;
        let gl = combine(&gf, c, &self.lam, &self.mu);
        let feas_eq = c.g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let feas_in = c.h.iter().fold(0.0f64, |m, v| m.max(v.max(0.0)));
        let compl =
            c.h.iter()
                .zip(&self.mu)
                .fold(0.0f64, |m, (h, mu)| m.max((-h).min(*mu).abs()));
        Ok(Kkt {
            stationarity: self.bounds.projected_gradient_norm(x, &gl),
            feasibility: feas_eq.max(feas_in),
            complementarity: compl,
        })
    }

    fn record(&self, inner_iters: u64) -> KV {
        argmin::kv!(
            "stationarity" => self.kkt.stationarity;
            "feasibility" => self.kkt.feasibility;
            "complementarity" => self.kkt.complementarity;
            "rho" => self.rho;
            "inner_iters" => inner_iters;
        )
    }
}

impl<O> Solver<O, AugLagState> for AugLag
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>
        + Constraints,
{
    fn name(&self) -> &str {
        NAME
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        mut state: AugLagState,
    ) -> Result<(AugLagState, Option<KV>), Error> {
        let mut x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        validate::start_point(NAME, &x, Some(&self.bounds))?;
        self.bounds.project(&mut x);
        let o = problem
            .problem
            .as_ref()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        self.lam = vec![0.0; o.n_eq()];
        self.mu = vec![0.0; o.n_ineq()];
        self.inner_iters = 0;
        self.prev_measure = f64::INFINITY;
        self.best = None;
        self.stall = 0;
        let f = o.cost(&x)?;
        let c = eval_constraints(o, &x, true)?;
        if !f.is_finite() {
            return Err(OptimError::NonFiniteStart {
                what: "cost".into(),
                value: f,
                x,
            }
            .into());
        }
        let viol = 0.5 * c.g.iter().map(|v| v * v).sum::<f64>()
            + 0.5 * c.h.iter().map(|v| v.max(0.0).powi(2)).sum::<f64>();
        self.rho = (10.0 * f.abs().max(1.0) / viol.max(1.0)).clamp(1e-8, 10.0);
        self.kkt = self.measure(o, &x, &c)?;
        bump(problem, "cost_count", 1);
        bump(problem, "gradient_count", 1);
        bump(problem, "constraint_count", 1);
        bump(problem, "jacobian_count", 1);
        let kv = self.record(0);
        Ok((state.param(x).cost(f), Some(kv)))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: AugLagState,
    ) -> Result<(AugLagState, Option<KV>), Error> {
        let x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        let k = state.get_iter();
        let eps = self.tol.max(0.1f64.powi(k as i32 + 1));
        let o = problem
            .problem
            .as_ref()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        let inner = Inner {
            o,
            lam: &self.lam,
            mu: &self.mu,
            rho: self.rho,
            costs: Cell::new(0),
            grads: Cell::new(0),
        };
        let lbfgsb = LBFGSB::new(self.bounds.clone())
            .with_pgtol(eps)?
            .with_ftol(0.0)?
            .with_max_line_search(100)?
            .with_max_evals(20 * self.inner_max_iters)?;
        let res = Executor::new(inner, lbfgsb)
            .configure(|s| s.param(x.clone()).max_iters(self.inner_max_iters))
            .run()?;
        let inner_iters = res.state().get_iter();
        let xn = res
            .state()
            .get_best_param()
            .cloned()
            .unwrap_or_else(|| x.clone());
        let (costs, grads) = {
            let p = res.problem().problem.as_ref();
            (
                p.map_or(0, |p| p.costs.get()),
                p.map_or(0, |p| p.grads.get()),
            )
        };
        drop(res);
        self.inner_iters += inner_iters;
        let f = o.cost(&xn)?;
        let c = eval_constraints(o, &xn, true)?;
        // Infeasibility-complementarity measure with the old multipliers.
        let measure =
            c.g.iter()
                .map(|v| v.abs())
                .chain(
                    c.h.iter()
                        .zip(&self.mu)
                        .map(|(h, mu)| h.max(-mu / self.rho).abs()),
                )
                .fold(0.0f64, f64::max);
        let rho = self.rho;
        for (l, g) in self.lam.iter_mut().zip(&c.g) {
            *l = (*l + rho * g).clamp(-MULT_MAX, MULT_MAX);
        }
        for (m, h) in self.mu.iter_mut().zip(&c.h) {
            *m = (*m + rho * h).clamp(0.0, MULT_MAX);
        }
        if measure > 0.5 * self.prev_measure {
            self.rho *= 10.0;
        }
        self.prev_measure = measure;
        self.kkt = self.measure(o, &xn, &c)?;
        bump(problem, "cost_count", costs + 1);
        bump(problem, "gradient_count", grads + 1);
        bump(problem, "constraint_count", costs + grads + 1);
        bump(problem, "jacobian_count", grads + 1);
        let kv = self.record(inner_iters);
        let score = (self.kkt.stationarity / self.tol)
            .max(self.kkt.feasibility / self.feas_tol)
            .max(self.kkt.complementarity / self.feas_tol);
        let best_score = self.best.as_ref().map_or(f64::INFINITY, |b| b.score);
        if score < 0.9 * best_score {
            self.stall = 0;
        } else {
            self.stall += 1;
        }
        if score < best_score {
            self.best = Some(Best {
                x: xn.clone(),
                f,
                lam: self.lam.clone(),
                mu: self.mu.clone(),
                kkt: self.kkt,
                score,
            });
        }
        if self.stall >= STALL_LIMIT {
            if let Some(b) = self.best.clone() {
                self.lam = b.lam;
                self.mu = b.mu;
                self.kkt = b.kkt;
                let state = state.param(b.x).cost(b.f);
                return Ok((
                    state.terminate_with(TerminationReason::SolverExit(MSG_STALLED.into())),
                    Some(kv),
                ));
            }
        }
        let state = state.param(xn).cost(f);
        let done = self.kkt.stationarity <= self.tol
            && self.kkt.feasibility <= self.feas_tol
            && self.kkt.complementarity <= self.feas_tol;
        Ok(if done {
            (
                state.terminate_with(TerminationReason::SolverConverged),
                Some(kv),
            )
        } else if self.rho > RHO_MAX {
            (
                state.terminate_with(TerminationReason::SolverExit(MSG_INFEASIBLE.into())),
                Some(kv),
            )
        } else {
            (state, Some(kv))
        })
    }
}
