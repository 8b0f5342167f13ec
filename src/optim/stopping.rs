//! Stopping rules and divergence detection shared by the first-order,
//! Newton and stochastic solvers, and the record of which rule ended a run.
//!
//! The textbook tests (Nocedal and Wright, section 3; scipy's `gtol`,
//! `ftol`, `xtol`) are offered side by side; any that is set may end the
//! run, checked in the order of [`StopRule`]'s variants, and the solver
//! keeps the one that fired ([`StopRule`], also under the `stop_rule` key
//! of the last iteration's record):
//!
//! | rule | stops when |
//! |------|------------|
//! | `grad_inf` | `max_i |P(x - g)_i - x_i| <= tol` (the projected gradient; `|g|_inf` without a box) |
//! | `grad_2` | `|P(x - g) - x|_2 <= tol` |
//! | `f_abs` | `|f_k - f_{k+1}| <= tol` |
//! | `f_rel` | `|f_k - f_{k+1}| <= tol max(|f_k|, |f_{k+1}|, 1)` (scipy L-BFGS-B's `ftol`) |
//! | `x_abs` | `|x_{k+1} - x_k|_inf <= tol` |
//!
//! The `f` and `x` rules compare successive iterates, so they never fire
//! on the start point.
//!
//! **Divergence.** A run whose cost grows by orders of magnitude over the
//! best it has seen, or whose steps grow geometrically while the cost
//! rises above its start value, is not going to converge: it ends with
//! `SolverExit(`[`MSG_DIVERGED`]`)` long before the numbers overflow, and
//! the remedy is a smaller learning rate.

use argmin::core::TerminationReason;

use super::OptimError;

/// Message (and `SolverExit` reason) of a run detected to diverge.
pub const MSG_DIVERGED: &str = "DIVERGED: the cost grows without bound (lower the learning rate)";
/// Message (and `SolverExit` reason) when the cost or gradient became
/// non-finite.
pub const MSG_NONFINITE: &str = "non-finite cost or gradient (step too large?)";

/// How much the cost may exceed the best seen before the run counts as
/// diverged: `f - best > DIVERGE_FACTOR * max(1, |best|, f0 - best)`.
/// Four orders of magnitude: far beyond the overshoot of momentum or
/// Adam on a curved valley, and reached within a few tens of iterations
/// by any geometric blow-up.
pub const DIVERGE_FACTOR: f64 = 1e4;
/// Consecutive iterations with a growing step and a rising cost above the
/// start's that count as divergence.
pub const DIVERGE_STREAK: u32 = 20;

/// One stopping rule (see the module docs for the formulas).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRule {
    /// Projected-gradient infinity norm.
    GradInf,
    /// Projected-gradient 2-norm.
    Grad2,
    /// Absolute change of the cost.
    FAbs,
    /// Relative change of the cost.
    FRel,
    /// Infinity norm of the step.
    XAbs,
}

impl StopRule {
    /// The rule's name, as in the module docs and the `stop_rule` key.
    pub fn name(self) -> &'static str {
        match self {
            StopRule::GradInf => "grad_inf",
            StopRule::Grad2 => "grad_2",
            StopRule::FAbs => "f_abs",
            StopRule::FRel => "f_rel",
            StopRule::XAbs => "x_abs",
        }
    }
}

impl std::fmt::Display for StopRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The tolerances of the rules that are switched on (`None` = off).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StopRules {
    /// `grad_inf` tolerance.
    pub grad_inf: Option<f64>,
    /// `grad_2` tolerance.
    pub grad_2: Option<f64>,
    /// `f_abs` tolerance.
    pub f_abs: Option<f64>,
    /// `f_rel` tolerance.
    pub f_rel: Option<f64>,
    /// `x_abs` tolerance.
    pub x_abs: Option<f64>,
}

/// What one iteration measured, for [`StopRules::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Projected-gradient infinity norm at the new point.
    pub pg_inf: f64,
    /// Projected-gradient 2-norm at the new point.
    pub pg_2: f64,
    /// The previous cost (`None` at the start point).
    pub f_prev: Option<f64>,
    /// The new cost.
    pub f: f64,
    /// Infinity norm of the step just taken (`None` at the start point).
    pub step_inf: Option<f64>,
}

impl StopRules {
    /// Only the projected-gradient infinity-norm test, at `tol`.
    pub fn grad_inf(tol: f64) -> Self {
        StopRules {
            grad_inf: Some(tol),
            ..StopRules::default()
        }
    }

    /// Checks every tolerance: finite and `>= 0`.
    pub fn validate(&self, solver: &'static str) -> Result<(), OptimError> {
        let all = [
            ("grad_inf", self.grad_inf),
            ("grad_2", self.grad_2),
            ("f_abs", self.f_abs),
            ("f_rel", self.f_rel),
            ("x_abs", self.x_abs),
        ];
        for (setting, v) in all {
            if let Some(v) = v {
                if !v.is_finite() || v < 0.0 {
                    return Err(OptimError::InvalidSetting {
                        solver,
                        setting,
                        value: v.to_string(),
                        problem: "must be finite and >= 0",
                    });
                }
            }
        }
        Ok(())
    }

    /// The first rule, in declaration order, that `p` satisfies.
    pub fn check(&self, p: &Progress) -> Option<StopRule> {
        let le = |v: f64, tol: Option<f64>| tol.is_some_and(|t| v <= t);
        if le(p.pg_inf, self.grad_inf) {
            return Some(StopRule::GradInf);
        }
        if le(p.pg_2, self.grad_2) {
            return Some(StopRule::Grad2);
        }
        if let Some(fp) = p.f_prev {
            let df = (fp - p.f).abs();
            if le(df, self.f_abs) {
                return Some(StopRule::FAbs);
            }
            if le(df / fp.abs().max(p.f.abs()).max(1.0), self.f_rel) {
                return Some(StopRule::FRel);
            }
        }
        if p.step_inf.is_some_and(|s| le(s, self.x_abs)) {
            return Some(StopRule::XAbs);
        }
        None
    }
}

/// Watches the cost and step sizes of a run for divergence (see the module
/// docs).
#[derive(Debug, Clone, Default)]
pub struct DivergenceWatch {
    f0: f64,
    best: f64,
    prev_f: f64,
    prev_step: f64,
    streak: u32,
}

impl DivergenceWatch {
    /// Starts watching from the start point's cost.
    pub fn start(f0: f64) -> Self {
        DivergenceWatch {
            f0,
            best: f0,
            prev_f: f0,
            prev_step: 0.0,
            streak: 0,
        }
    }

    /// Records an iteration with cost `f` and step 2-norm `step`; `true`
    /// when the run diverges.
    pub fn diverged(&mut self, f: f64, step: f64) -> bool {
        let scale = 1f64.max(self.best.abs()).max(self.f0 - self.best);
        let blown = f - self.best > DIVERGE_FACTOR * scale;
        // The streak counts only above the start's cost: near a minimum,
        // RMSprop and Adam take steps of about lr whatever the gradient, so
        // their cost rises and their steps grow for a while as they jitter
        // around it (RMSprop on Himmelblau at f ~ 1e-6), which is not
        // divergence.
        if f > self.prev_f && f > self.f0 && step > self.prev_step && self.prev_step > 0.0 {
            self.streak += 1;
        } else {
            self.streak = 0;
        }
        self.best = self.best.min(f);
        self.prev_f = f;
        self.prev_step = step;
        blown || self.streak >= DIVERGE_STREAK
    }
}

/// The `SolverExit` reason of a diverged run.
pub fn diverged() -> TerminationReason {
    TerminationReason::SolverExit(MSG_DIVERGED.into())
}

/// Norms of the projected gradient `P(x - g) - x` (`g` itself without a
/// box): `(infinity norm, 2-norm)`.
pub fn pg_norms(bounds: Option<&super::Bounds>, x: &[f64], g: &[f64]) -> (f64, f64) {
    let mut inf = 0f64;
    let mut two = 0f64;
    for (i, (&xi, &gi)) in x.iter().zip(g).enumerate() {
        let pg = match bounds {
            Some(b) => {
                let (l, u) = (b.lower()[i], b.upper()[i]);
                if gi < 0.0 {
                    (xi - u).max(gi)
                } else {
                    (xi - l).min(gi)
                }
            }
            None => gi,
        };
        inf = inf.max(pg.abs());
        two += pg * pg;
    }
    (inf, two.sqrt())
}

/// Infinity norm of `a - b`.
pub fn step_inf(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
