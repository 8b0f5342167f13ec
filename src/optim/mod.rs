//! The optimizer stack: bound-constrained L-BFGS-B and the first-order
//! family, as argmin solvers that work on any loss.
//!
//! * [`bounds`] holds the box `l <= x <= u` every solver accepts,
//! * [`finite_diff`] computes gradients by finite differences that never
//!   leave that box,
//! * [`lbfgsb`] is the bound-constrained limited-memory BFGS method of
//!   Byrd, Lu, Nocedal and Zhu, with its More-Thuente line search in
//!   [`line_search`],
//! * [`first_order`] holds gradient descent (fixed or Armijo step),
//!   momentum, Nesterov, AdaGrad, AdaDelta, RMSprop and Adam, [`sgd`] the
//!   stochastic methods over a [`SumOfLosses`], [`newton`] Newton's method,
//! * [`auglag`] is the augmented Lagrangian method for general smooth
//!   constraints (on L-BFGS-B), and [`expr`] the small expression language
//!   in which a user types an objective and its constraints,
//! * [`run`] runs any of them by name on a test problem and records the
//!   iterates (the engine of `seird-fit optimize`),
//! * [`problems`] ships test problems with known minima, and [`numerics`]
//!   the stable log-sum-exp family and a condition-number estimate.
//!
//! Every solver is an argmin [`Solver`](argmin::core::Solver) on
//! `Vec<f64>`, so argmin's `Executor`, observers and termination criteria
//! work with all of them.

pub mod auglag;
pub mod bounds;
pub mod expr;
pub mod finite_diff;
pub mod first_order;
pub mod lbfgsb;
mod linalg;
pub mod line_search;
pub mod newton;
pub mod numerics;
pub mod problems;
pub mod run;
pub mod second_order;
pub mod sgd;
pub mod stopping;
pub mod validate;

pub use auglag::{AugLag, Constraints, Kkt};
pub use bounds::Bounds;
pub use finite_diff::{fd_gradient, FdGradient, FdScheme, FdStep, FiniteDiff};
pub use first_order::{
    AdaDelta, AdaGrad, Adam, Armijo, GradientDescent, Momentum, Nesterov, RMSprop,
};
pub use lbfgsb::{Stopping, LBFGSB};
pub use newton::{FdHessian, Newton};
pub use sgd::{SumOfLosses, SGD};

/// Invalid settings or inputs given to an optimizer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimError {
    /// Two vectors that must have the same length do not.
    #[error("{what}: expected length {expected}, got {got}")]
    Length {
        /// Which vector.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        got: usize,
    },
    /// A lower bound is above its upper bound, or a bound is NaN.
    #[error("bounds of variable {index}: [{lower}, {upper}] is not an interval")]
    InvalidBound {
        /// 0-based index of the variable.
        index: usize,
        /// Its lower bound.
        lower: f64,
        /// Its upper bound.
        upper: f64,
    },
    /// A solver setting is outside the range it may take.
    #[error("{solver}: {setting} = {value}: {problem}")]
    InvalidSetting {
        /// The solver's name.
        solver: &'static str,
        /// The setting, e.g. `m` or `pgtol`.
        setting: &'static str,
        /// The offending value.
        value: String,
        /// Why it is invalid.
        problem: &'static str,
    },
    /// The objective cannot be evaluated at the start point.
    #[error("the objective is not finite at the start point: {what} = {value} at x = {x:?}")]
    NonFiniteStart {
        /// `cost` or `gradient[i]`.
        what: String,
        /// The value found.
        value: f64,
        /// The start point.
        x: Vec<f64>,
    },
    /// No shipped problem has this name.
    #[error("unknown problem '{name}'; known problems: {known}")]
    UnknownProblem {
        /// The name asked for.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// A problem was asked for in a dimension it does not have.
    #[error("problem '{problem}' {problem_says}, not dimension {dim}")]
    Dimension {
        /// The problem.
        problem: String,
        /// What dimensions it supports, e.g. "is 2-D only".
        problem_says: &'static str,
        /// The dimension asked for.
        dim: usize,
    },
    /// The problem has no variables (scipy raises here too).
    #[error("{solver}: the problem has no variables")]
    EmptyProblem {
        /// The solver's name.
        solver: &'static str,
    },
    /// The start point has a NaN or infinite entry.
    #[error("{solver}: start point x0[{index}] = {value} is not finite")]
    NonFiniteParam {
        /// The solver's name.
        solver: &'static str,
        /// 0-based index of the entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The objective returned a gradient with the wrong number of entries.
    #[error("{solver}: the gradient has {got} entries for {expected} variables")]
    GradientLength {
        /// The solver's name.
        solver: &'static str,
        /// The number of variables.
        expected: usize,
        /// The gradient's length.
        got: usize,
    },
    /// The objective returned a Hessian (or a caller a matrix) that is not
    /// `n x n`.
    #[error("{solver}: the Hessian must be {expected} x {expected}, got {rows} rows{}", .bad_row.map(|(i, l)| format!(", row {i} has {l} entries")).unwrap_or_default())]
    HessianShape {
        /// The solver's name (`matrix` for a bare matrix).
        solver: &'static str,
        /// The order it must have.
        expected: usize,
        /// The number of rows given.
        rows: usize,
        /// The first row of the wrong length, and its length.
        bad_row: Option<(usize, usize)>,
    },
    /// No solver has this name.
    #[error("unknown solver '{name}'; known solvers: {known}")]
    UnknownSolver {
        /// The name asked for.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// A stochastic solver was asked to run on a loss that is not a sum
    /// over samples.
    #[error(
        "--solver {solver}: '{problem}' is not a sum over samples (use least-squares or logistic)"
    )]
    NotASum {
        /// The solver's name.
        solver: String,
        /// The problem's name.
        problem: String,
    },
    /// A run failed for a reason the objective gave (argmin's error).
    #[error("{what}: {message}")]
    Run {
        /// Problem and solver.
        what: String,
        /// The error's text.
        message: String,
    },
    /// The solver was run without a start point.
    #[error("{solver}: no start point given (use Executor::configure(|s| s.param(x0)))")]
    NoStartPoint {
        /// The solver's name.
        solver: &'static str,
    },
}
