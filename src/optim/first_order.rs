//! First-order methods as argmin solvers: gradient descent (fixed step or
//! Armijo backtracking), momentum, Nesterov, AdaGrad, AdaDelta, RMSprop and
//! Adam. Each takes an optional box; with one, every iterate is projected
//! onto it (projected gradient methods), so the objective is only ever
//! evaluated inside.
//!
//! All of them stop with [`TerminationReason::SolverConverged`] when a
//! stopping rule of [`crate::optim::stopping`] holds (by default the
//! projected-gradient infinity norm `<= 1e-6`, [`with_tolerance`]; the
//! 2-norm, `|df|`, relative `df` and `|dx|` tests with `with_stop_rules`),
//! and record which rule fired (`stop_rule()`). A run that diverges ends
//! early with `SolverExit(`[`MSG_DIVERGED`](crate::optim::stopping::MSG_DIVERGED)`)`, one whose cost becomes
//! non-finite with `SolverExit(`[`MSG_NONFINITE`]`)`: the step is too large
//! for the problem, lower the learning rate. Each iteration evaluates cost
//! and gradient once (Armijo: once per trial step), through argmin's
//! `Problem`; inputs are checked by [`crate::optim::validate`].
//!
//! argmin ships gradient descent with line searches but not the adaptive
//! methods, and none of its solvers project onto a box; these are small
//! enough to write here, sharing one solver body.
//!
//! [`with_tolerance`]: Adam::with_tolerance
//!
//! ## Reference
//!
//! * Polyak (1964) for momentum; Nesterov (1983), in the form of Sutskever
//!   et al., "On the importance of initialization and momentum in deep
//!   learning" (ICML 2013), written with the gradient at the current point as
//!   PyTorch does;
//! * Duchi, Hazan, Singer (2011) for AdaGrad; Zeiler (2012) for AdaDelta;
//!   Tieleman and Hinton (2012, Coursera lecture 6.5) for RMSprop;
//!   Kingma and Ba, "Adam: a method for stochastic optimization" (ICLR 2015);
//! * Armijo (1966) for backtracking; Nocedal and Wright, *Numerical
//!   Optimization* (2006), Algorithm 3.1.

use argmin::core::{
    CostFunction, Error, Gradient, IterState, Problem, Solver, State, TerminationReason, KV,
};

use super::stopping::{
    diverged, pg_norms, step_inf, DivergenceWatch, Progress, StopRule, StopRules, MSG_NONFINITE,
};
use super::{validate, Bounds, OptimError};

/// The argmin state of the first-order solvers.
pub type FirstOrderState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

fn invalid(
    solver: &'static str,
    setting: &'static str,
    value: f64,
    problem: &'static str,
) -> OptimError {
    OptimError::InvalidSetting {
        solver,
        setting,
        value: value.to_string(),
        problem,
    }
}

fn positive(solver: &'static str, setting: &'static str, v: f64) -> Result<f64, OptimError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(invalid(solver, setting, v, "must be finite and > 0"))
    }
}

fn unit_interval(solver: &'static str, setting: &'static str, v: f64) -> Result<f64, OptimError> {
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err(invalid(solver, setting, v, "must be in [0, 1)"))
    }
}

/// Settings every first-order solver shares, and the run's watch on
/// divergence.
#[derive(Debug, Clone)]
struct Common {
    bounds: Option<Bounds>,
    rules: StopRules,
    watch: DivergenceWatch,
    fired: Option<StopRule>,
}

impl Default for Common {
    fn default() -> Self {
        Common {
            bounds: None,
            rules: StopRules::grad_inf(1e-6),
            watch: DivergenceWatch::default(),
            fired: None,
        }
    }
}

impl Common {
    fn project(&self, x: &mut [f64]) {
        if let Some(b) = &self.bounds {
            b.project(x);
        }
    }

    /// The stopping reason, if any, for the new point `x` (cost `f`,
    /// gradient `g`) reached from `prev` with cost `f_prev`, and the
    /// projected-gradient infinity norm there.
    fn check(
        &mut self,
        prev: Option<(&[f64], f64)>,
        x: &[f64],
        f: f64,
        g: &[f64],
    ) -> (f64, Option<TerminationReason>) {
        let (pg_inf, pg_2) = pg_norms(self.bounds.as_ref(), x, g);
        if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return (
                pg_inf,
                Some(TerminationReason::SolverExit(MSG_NONFINITE.into())),
            );
        }
        if let Some((xp, _)) = prev {
            let step = xp
                .iter()
                .zip(x)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
            if self.watch.diverged(f, step) {
                return (pg_inf, Some(diverged()));
            }
        }
        let progress = Progress {
            pg_inf,
            pg_2,
            f_prev: prev.map(|p| p.1),
            f,
            step_inf: prev.map(|p| step_inf(p.0, x)),
        };
        self.fired = self.rules.check(&progress);
        (
            pg_inf,
            self.fired.map(|_| TerminationReason::SolverConverged),
        )
    }
}

/// The state after a step, with its stopping reason and the record for
/// observers (`stop_rule` names the rule that fired).
fn finish(
    state: FirstOrderState,
    stop: Option<TerminationReason>,
    fired: Option<StopRule>,
    kv: KV,
) -> (FirstOrderState, Option<KV>) {
    let kv = match fired {
        Some(rule) => kv.merge(argmin::kv!("stop_rule" => rule.name().to_string();)),
        None => kv,
    };
    match stop {
        Some(reason) => (state.terminate_with(reason), Some(kv)),
        None => (state, Some(kv)),
    }
}

/// Takes the start point, checks and projects it, and evaluates cost and
/// gradient unless the caller supplied them for a point already inside the
/// box.
fn init_state<O>(
    name: &'static str,
    common: &mut Common,
    problem: &mut Problem<O>,
    mut state: FirstOrderState,
) -> Result<(FirstOrderState, Option<KV>), Error>
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
{
    let mut x = state
        .take_param()
        .ok_or(OptimError::NoStartPoint { solver: name })?;
    validate::start_point(name, &x, common.bounds.as_ref())?;
    let before = x.clone();
    common.project(&mut x);
    common.fired = None;
    let given = state
        .take_gradient()
        .filter(|g| before == x && state.get_cost().is_finite() && g.len() == x.len());
    let (f, g) = match given {
        Some(g) => (state.get_cost(), g),
        None => validate::cost_and_gradient(name, problem, &x)?,
    };
    if !f.is_finite() {
        return Err(OptimError::NonFiniteStart {
            what: "cost".into(),
            value: f,
            x,
        }
        .into());
    }
    if let Some((i, &v)) = g.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(OptimError::NonFiniteStart {
            what: format!("gradient[{i}]"),
            value: v,
            x,
        }
        .into());
    }
    common.watch = DivergenceWatch::start(f);
    let (pg, stop) = common.check(None, &x, f, &g);
    let fired = common.fired;
    Ok(finish(
        state.param(x).cost(f).gradient(g),
        stop,
        fired,
        argmin::kv!("pg_norm" => pg;),
    ))
}

/// A step rule `x_{k+1} = x_k + rule(x_k, g_k)` (before projection).
trait StepRule {
    /// The displacement for gradient `g` at iteration `k` (0-based).
    fn delta(&mut self, g: &[f64], k: u64) -> Vec<f64>;
    /// Forgets the history (called by `init`).
    fn reset(&mut self);
}

/// Implements argmin's `Solver` for a step rule with the shared body.
macro_rules! first_order_solver {
    ($ty:ident, $name:expr) => {
        impl $ty {
            /// Projects every iterate onto `bounds` (projected method).
            #[must_use]
            pub fn with_bounds(mut self, bounds: Bounds) -> Self {
                self.common.bounds = Some(bounds);
                self
            }

            /// Stops when the projected-gradient infinity norm is `<= tol`
            /// (the other rules keep their settings).
            pub fn with_tolerance(mut self, tol: f64) -> Result<Self, OptimError> {
                if !tol.is_finite() || tol < 0.0 {
                    return Err(invalid($name, "tol", tol, "must be finite and >= 0"));
                }
                self.common.rules.grad_inf = Some(tol);
                Ok(self)
            }

            /// Replaces all stopping rules (see [`crate::optim::stopping`]).
            pub fn with_stop_rules(mut self, rules: StopRules) -> Result<Self, OptimError> {
                rules.validate($name)?;
                self.common.rules = rules;
                Ok(self)
            }

            /// The rule that ended the last run, if one did.
            pub fn stop_rule(&self) -> Option<StopRule> {
                self.common.fired
            }
        }

        impl<O> Solver<O, FirstOrderState> for $ty
        where
            O: CostFunction<Param = Vec<f64>, Output = f64>
                + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
        {
            fn name(&self) -> &str {
                $name
            }

            fn init(
                &mut self,
                problem: &mut Problem<O>,
                state: FirstOrderState,
            ) -> Result<(FirstOrderState, Option<KV>), Error> {
                StepRule::reset(self);
                init_state($name, &mut self.common, problem, state)
            }

            fn next_iter(
                &mut self,
                problem: &mut Problem<O>,
                mut state: FirstOrderState,
            ) -> Result<(FirstOrderState, Option<KV>), Error> {
                let x = state
                    .take_param()
                    .ok_or(OptimError::NoStartPoint { solver: $name })?;
                let g = state
                    .take_gradient()
                    .ok_or(OptimError::NoStartPoint { solver: $name })?;
                let k = state.get_iter();
                let delta = StepRule::delta(self, &g, k);
                let mut xn: Vec<f64> = x.iter().zip(&delta).map(|(a, d)| a + d).collect();
                self.common.project(&mut xn);
                let step = xn
                    .iter()
                    .zip(&x)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
                let (f, gn) = validate::cost_and_gradient($name, problem, &xn)?;
                let (pg, stop) = self.common.check(Some((&x, state.get_cost())), &xn, f, &gn);
                let kv = argmin::kv!("pg_norm" => pg; "step_norm" => step;);
                let fired = self.common.fired;
                Ok(finish(state.param(xn).cost(f).gradient(gn), stop, fired, kv))
            }
        }
    };
}

/// Gradient descent, `x_{k+1} = x_k - lr g_k`; with [`GradientDescent::with_armijo`]
/// the step is found by backtracking from `lr` instead.
#[derive(Debug, Clone)]
pub struct GradientDescent {
    lr: f64,
    armijo: Option<Armijo>,
    common: Common,
}

/// Backtracking (Armijo) settings: accept step `t` when
/// `f(x - t g) <= f(x) - c1 t |g|^2`, else `t *= shrink`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Armijo {
    /// Sufficient-decrease constant, in (0, 1); default 1e-4.
    pub c1: f64,
    /// Step reduction factor, in (0, 1); default 0.5.
    pub shrink: f64,
    /// Trial steps per iteration before giving up; default 50.
    pub max_trials: u32,
}

impl Default for Armijo {
    fn default() -> Self {
        Armijo {
            c1: 1e-4,
            shrink: 0.5,
            max_trials: 50,
        }
    }
}

impl GradientDescent {
    /// Fixed learning rate `lr > 0`.
    pub fn new(lr: f64) -> Result<Self, OptimError> {
        Ok(GradientDescent {
            lr: positive("gradient descent", "lr", lr)?,
            armijo: None,
            common: Common::default(),
        })
    }

    /// Backtracking line search starting from `lr` each iteration (with a
    /// box, along the projection arc `P(x - t g)`, Bertsekas' rule).
    pub fn with_armijo(mut self, armijo: Armijo) -> Result<Self, OptimError> {
        if !(armijo.c1 > 0.0 && armijo.c1 < 1.0) {
            return Err(invalid(
                "gradient descent",
                "c1",
                armijo.c1,
                "must be in (0, 1)",
            ));
        }
        if !(armijo.shrink > 0.0 && armijo.shrink < 1.0) {
            return Err(invalid(
                "gradient descent",
                "shrink",
                armijo.shrink,
                "must be in (0, 1)",
            ));
        }
        self.armijo = Some(armijo);
        Ok(self)
    }

    /// Projects every iterate onto `bounds` (projected gradient descent).
    #[must_use]
    pub fn with_bounds(mut self, bounds: Bounds) -> Self {
        self.common.bounds = Some(bounds);
        self
    }

    /// Stops when the projected-gradient infinity norm is `<= tol` (the
    /// other rules keep their settings).
    pub fn with_tolerance(mut self, tol: f64) -> Result<Self, OptimError> {
        if !tol.is_finite() || tol < 0.0 {
            return Err(invalid(
                "gradient descent",
                "tol",
                tol,
                "must be finite and >= 0",
            ));
        }
        self.common.rules.grad_inf = Some(tol);
        Ok(self)
    }

    /// Replaces all stopping rules (see [`crate::optim::stopping`]).
    pub fn with_stop_rules(mut self, rules: StopRules) -> Result<Self, OptimError> {
        rules.validate("gradient descent")?;
        self.common.rules = rules;
        Ok(self)
    }

    /// The rule that ended the last run, if one did.
    pub fn stop_rule(&self) -> Option<StopRule> {
        self.common.fired
    }
}

impl<O> Solver<O, FirstOrderState> for GradientDescent
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
{
    fn name(&self) -> &str {
        if self.armijo.is_some() {
            "gradient descent (Armijo)"
        } else {
            "gradient descent"
        }
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: FirstOrderState,
    ) -> Result<(FirstOrderState, Option<KV>), Error> {
        init_state("gradient descent", &mut self.common, problem, state)
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: FirstOrderState,
    ) -> Result<(FirstOrderState, Option<KV>), Error> {
        let name = "gradient descent";
        let x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: name })?;
        let g = state
            .take_gradient()
            .ok_or(OptimError::NoStartPoint { solver: name })?;
        let f0 = state.get_cost();
        let trial = |t: f64| -> Vec<f64> {
            let mut xn: Vec<f64> = x.iter().zip(&g).map(|(a, b)| a - t * b).collect();
            self.common.project(&mut xn);
            xn
        };
        let mut t = self.lr;
        let mut trials = 1u64;
        let mut xn = trial(t);
        let mut f = problem.cost(&xn)?;
        if let Some(a) = self.armijo {
            // Sufficient decrease along the projection arc:
            // f(x(t)) <= f(x) + c1 g'(x(t) - x)  (= f - c1 t |g|^2 without a box).
            let decrease = |xn: &[f64]| -> f64 {
                xn.iter()
                    .zip(&x)
                    .zip(&g)
                    .map(|((a, b), gi)| gi * (a - b))
                    .sum()
            };
            while !(f.is_finite() && f <= f0 + a.c1 * decrease(&xn)) {
                if trials >= u64::from(a.max_trials) {
                    let reason = TerminationReason::SolverExit(
                        "Armijo backtracking found no decrease".into(),
                    );
                    let kv = argmin::kv!("step" => 0.0; "trials" => trials;);
                    return Ok((
                        state.param(x).cost(f0).gradient(g).terminate_with(reason),
                        Some(kv),
                    ));
                }
                t *= a.shrink;
                trials += 1;
                xn = trial(t);
                f = problem.cost(&xn)?;
            }
        }
        let gn = problem.gradient(&xn)?;
        validate::gradient(name, &gn, xn.len())?;
        let (pg, stop) = self.common.check(Some((&x, f0)), &xn, f, &gn);
        let kv = argmin::kv!("pg_norm" => pg; "step" => t; "trials" => trials;);
        let fired = self.common.fired;
        Ok(finish(
            state.param(xn).cost(f).gradient(gn),
            stop,
            fired,
            kv,
        ))
    }
}

/// Heavy-ball momentum: `v = mu v - lr g`, `x = x + v`.
#[derive(Debug, Clone)]
pub struct Momentum {
    lr: f64,
    mu: f64,
    v: Vec<f64>,
    common: Common,
}

impl Momentum {
    /// Learning rate `lr > 0` and momentum `mu` in `[0, 1)` (usual: 0.9).
    pub fn new(lr: f64, mu: f64) -> Result<Self, OptimError> {
        Ok(Momentum {
            lr: positive("momentum", "lr", lr)?,
            mu: unit_interval("momentum", "mu", mu)?,
            v: Vec::new(),
            common: Common::default(),
        })
    }
}

impl StepRule for Momentum {
    fn delta(&mut self, g: &[f64], _k: u64) -> Vec<f64> {
        self.v.resize(g.len(), 0.0);
        for (v, gi) in self.v.iter_mut().zip(g) {
            *v = self.mu * *v - self.lr * gi;
        }
        self.v.clone()
    }
    fn reset(&mut self) {
        self.v.clear();
    }
}
first_order_solver!(Momentum, "momentum");

/// Nesterov accelerated gradient in the form with the gradient at the
/// current point: `b = mu b + g`, `x = x - lr (g + mu b)` (the look-ahead
/// of the classical form `v = mu v - lr g(x + mu v)` after a change of
/// variables).
#[derive(Debug, Clone)]
pub struct Nesterov {
    lr: f64,
    mu: f64,
    b: Vec<f64>,
    common: Common,
}

impl Nesterov {
    /// Learning rate `lr > 0` and momentum `mu` in `[0, 1)` (usual: 0.9).
    pub fn new(lr: f64, mu: f64) -> Result<Self, OptimError> {
        Ok(Nesterov {
            lr: positive("nesterov", "lr", lr)?,
            mu: unit_interval("nesterov", "mu", mu)?,
            b: Vec::new(),
            common: Common::default(),
        })
    }
}

impl StepRule for Nesterov {
    fn delta(&mut self, g: &[f64], _k: u64) -> Vec<f64> {
        self.b.resize(g.len(), 0.0);
        self.b
            .iter_mut()
            .zip(g)
            .map(|(b, gi)| {
                *b = self.mu * *b + gi;
                -self.lr * (gi + self.mu * *b)
            })
            .collect()
    }
    fn reset(&mut self) {
        self.b.clear();
    }
}
first_order_solver!(Nesterov, "nesterov");

/// AdaGrad: `G += g^2`, `x -= lr g / (sqrt(G) + eps)`.
#[derive(Debug, Clone)]
pub struct AdaGrad {
    lr: f64,
    eps: f64,
    sum_sq: Vec<f64>,
    common: Common,
}

impl AdaGrad {
    /// Learning rate `lr > 0` (usual: 0.01), `eps = 1e-8`.
    pub fn new(lr: f64) -> Result<Self, OptimError> {
        Ok(AdaGrad {
            lr: positive("adagrad", "lr", lr)?,
            eps: 1e-8,
            sum_sq: Vec::new(),
            common: Common::default(),
        })
    }
}

impl StepRule for AdaGrad {
    fn delta(&mut self, g: &[f64], _k: u64) -> Vec<f64> {
        self.sum_sq.resize(g.len(), 0.0);
        self.sum_sq
            .iter_mut()
            .zip(g)
            .map(|(s, gi)| {
                *s += gi * gi;
                -self.lr * gi / (s.sqrt() + self.eps)
            })
            .collect()
    }
    fn reset(&mut self) {
        self.sum_sq.clear();
    }
}
first_order_solver!(AdaGrad, "adagrad");

/// AdaDelta: `E[g^2] = rho E[g^2] + (1 - rho) g^2`,
/// `dx = -sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) g`,
/// `E[dx^2] = rho E[dx^2] + (1 - rho) dx^2`; no learning rate.
#[derive(Debug, Clone)]
pub struct AdaDelta {
    rho: f64,
    eps: f64,
    eg: Vec<f64>,
    edx: Vec<f64>,
    common: Common,
}

impl AdaDelta {
    /// `rho = 0.9`, `eps = 1e-6` (Zeiler's defaults).
    pub fn new() -> Self {
        AdaDelta {
            rho: 0.9,
            eps: 1e-6,
            eg: Vec::new(),
            edx: Vec::new(),
            common: Common::default(),
        }
    }

    /// Decay rate `rho` in `[0, 1)`.
    pub fn with_rho(mut self, rho: f64) -> Result<Self, OptimError> {
        self.rho = unit_interval("adadelta", "rho", rho)?;
        Ok(self)
    }

    /// Conditioning constant `eps > 0` (it also sets the first step size,
    /// about `sqrt(eps)`).
    pub fn with_eps(mut self, eps: f64) -> Result<Self, OptimError> {
        self.eps = positive("adadelta", "eps", eps)?;
        Ok(self)
    }
}

impl Default for AdaDelta {
    fn default() -> Self {
        AdaDelta::new()
    }
}

impl StepRule for AdaDelta {
    fn delta(&mut self, g: &[f64], _k: u64) -> Vec<f64> {
        self.eg.resize(g.len(), 0.0);
        self.edx.resize(g.len(), 0.0);
        let (rho, eps) = (self.rho, self.eps);
        self.eg
            .iter_mut()
            .zip(self.edx.iter_mut())
            .zip(g)
            .map(|((eg, edx), gi)| {
                *eg = rho * *eg + (1.0 - rho) * gi * gi;
                let dx = -((*edx + eps).sqrt() / (*eg + eps).sqrt()) * gi;
                *edx = rho * *edx + (1.0 - rho) * dx * dx;
                dx
            })
            .collect()
    }
    fn reset(&mut self) {
        self.eg.clear();
        self.edx.clear();
    }
}
first_order_solver!(AdaDelta, "adadelta");

/// RMSprop: `E[g^2] = rho E[g^2] + (1 - rho) g^2`, `x -= lr g / (sqrt(E[g^2]) + eps)`.
#[derive(Debug, Clone)]
pub struct RMSprop {
    lr: f64,
    rho: f64,
    eps: f64,
    eg: Vec<f64>,
    common: Common,
}

impl RMSprop {
    /// Learning rate `lr > 0` (usual: 1e-3), `rho = 0.9`, `eps = 1e-8`.
    pub fn new(lr: f64) -> Result<Self, OptimError> {
        Ok(RMSprop {
            lr: positive("rmsprop", "lr", lr)?,
            rho: 0.9,
            eps: 1e-8,
            eg: Vec::new(),
            common: Common::default(),
        })
    }

    /// Decay rate `rho` in `[0, 1)`.
    pub fn with_rho(mut self, rho: f64) -> Result<Self, OptimError> {
        self.rho = unit_interval("rmsprop", "rho", rho)?;
        Ok(self)
    }
}

impl StepRule for RMSprop {
    fn delta(&mut self, g: &[f64], _k: u64) -> Vec<f64> {
        self.eg.resize(g.len(), 0.0);
        let (lr, rho, eps) = (self.lr, self.rho, self.eps);
        self.eg
            .iter_mut()
            .zip(g)
            .map(|(eg, gi)| {
                *eg = rho * *eg + (1.0 - rho) * gi * gi;
                -lr * gi / (eg.sqrt() + eps)
            })
            .collect()
    }
    fn reset(&mut self) {
        self.eg.clear();
    }
}
first_order_solver!(RMSprop, "rmsprop");

/// Adam with bias correction: `m = b1 m + (1 - b1) g`,
/// `v = b2 v + (1 - b2) g^2`, `x -= lr m_hat / (sqrt(v_hat) + eps)` with
/// `m_hat = m / (1 - b1^t)`, `v_hat = v / (1 - b2^t)`.
#[derive(Debug, Clone)]
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    common: Common,
}

impl Adam {
    /// Kingma and Ba's defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8.
    pub fn new() -> Self {
        Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            m: Vec::new(),
            v: Vec::new(),
            common: Common::default(),
        }
    }

    /// Learning rate `lr > 0`.
    pub fn with_lr(mut self, lr: f64) -> Result<Self, OptimError> {
        self.lr = positive("adam", "lr", lr)?;
        Ok(self)
    }

    /// Decay rates `beta1`, `beta2` in `[0, 1)`.
    pub fn with_betas(mut self, beta1: f64, beta2: f64) -> Result<Self, OptimError> {
        self.beta1 = unit_interval("adam", "beta1", beta1)?;
        self.beta2 = unit_interval("adam", "beta2", beta2)?;
        Ok(self)
    }
}

impl Default for Adam {
    fn default() -> Self {
        Adam::new()
    }
}

impl StepRule for Adam {
    fn delta(&mut self, g: &[f64], k: u64) -> Vec<f64> {
        self.m.resize(g.len(), 0.0);
        self.v.resize(g.len(), 0.0);
        let t = (k + 1) as i32;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(t);
        let c2 = 1.0 - b2.powi(t);
        let (lr, eps) = (self.lr, self.eps);
        self.m
            .iter_mut()
            .zip(self.v.iter_mut())
            .zip(g)
            .map(|((m, v), gi)| {
                *m = b1 * *m + (1.0 - b1) * gi;
                *v = b2 * *v + (1.0 - b2) * gi * gi;
                -lr * (*m / c1) / ((*v / c2).sqrt() + eps)
            })
            .collect()
    }
    fn reset(&mut self) {
        self.m.clear();
        self.v.clear();
    }
}
first_order_solver!(Adam, "adam");
