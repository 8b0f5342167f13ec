//! The optimizer stack: bound-constrained L-BFGS-B and the first-order
//! family, as argmin solvers that work on any loss.
//!
//! * [`bounds`] holds the box `l <= x <= u` every solver accepts,
//! * [`finite_diff`] computes gradients by finite differences that never
//!   leave that box,
//! * [`lbfgsb`] is the bound-constrained limited-memory BFGS method of
//!   Byrd, Lu, Nocedal and Zhu, with its More-Thuente line search in
//!   [`line_search`].

pub mod bounds;
pub mod finite_diff;
pub mod lbfgsb;
mod linalg;
pub mod line_search;

pub use bounds::Bounds;
pub use finite_diff::{fd_gradient, FdGradient, FdScheme, FdStep, FiniteDiff};
pub use lbfgsb::LBFGSB;

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
    /// The solver was run without a start point.
    #[error("{solver}: no start point given (use Executor::configure(|s| s.param(x0)))")]
    NoStartPoint {
        /// The solver's name.
        solver: &'static str,
    },
}
