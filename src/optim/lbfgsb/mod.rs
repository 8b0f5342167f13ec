//! L-BFGS-B: limited-memory BFGS for problems with simple bounds
//! `l <= x <= u`, as an argmin [`Solver`].
//!
//! argmin has no bound-constrained quasi-Newton method (its `LBFGS` is
//! unconstrained), so this one is written by hand after the reference
//! Fortran code (`lbfgsb.f` 3.0, as scipy ships it). Each iteration:
//!
//! 1. **Generalized Cauchy point.** Along the projected steepest-descent
//!    path `x(t) = P(x - t g)`, a piecewise-linear path with a breakpoint
//!    wherever a variable hits a bound, the quadratic model
//!    `m(x) = f + g'(x - x_k) + 1/2 (x - x_k)' B (x - x_k)` is minimised
//!    segment by segment. `B = theta I - W M W'` is the compact
//!    limited-memory BFGS matrix with `W = [Y, theta S]` and
//!    `M = [[-D, L'], [L, theta S'S]]^-1` (`D` the diagonal and `L` the
//!    strictly lower triangle of `S'Y`). `M` is never formed: it is applied
//!    through the `m x m` Cholesky factor of `T = theta S'S + L D^-1 L'`,
//!    so each segment costs `O(m^2)`. Variables that reached a bound at the
//!    Cauchy point are held there.
//! 2. **Subspace minimization** over the free variables `F` (direct primal
//!    method): the Newton step of the model restricted to `F`,
//!    `d = B_F^-1 r` with `r = -Z'(g + B (x_c - x_k))`, computed with the
//!    Sherman-Morrison-Woodbury formula
//!    `B_F^-1 = I/theta + W_F K^-1 W_F' / theta^2`,
//!    `K = M^-1 - W_F'W_F/theta`. `K` is indefinite; it is built block by
//!    block and factored as `L E L'`, `E = diag(-I, I)`, by two `m x m`
//!    Cholesky factorisations. If a factorisation fails (not positive
//!    definite), the memory is cleared and the iteration starts again from
//!    the steepest-descent model, as the Fortran code does.
//! 3. **The 2011 correction** (Morales and Nocedal): the subspace minimiser
//!    is projected onto the box; if that projected point is not a descent
//!    direction from `x_k`, fall back to the longest feasible step along
//!    `d` from the Cauchy point (the 1995 rule).
//! 4. **Line search** (More-Thuente, `ftol = 1e-3`, `gtol = 0.9`,
//!    `xtol = 0.1`) along `x_k + stp (x_hat - x_k)`, with the step capped
//!    so the iterate stays in the box; on the first iteration the step is
//!    `min(1/|d|, stpmax)` unless every variable is bounded, as in the
//!    Fortran code. At most 20 evaluations per search (scipy's `maxls`).
//! 5. **Update** of `S`, `Y` and `theta = y'y / s'y`, skipped when
//!    `s'y <= eps * (-g's)` (the curvature is not safely positive).
//!
//! Stopping tests, as in scipy: the projected-gradient infinity norm
//! `<= pgtol` ([`Bounds::projected_gradient_norm`]), or the relative
//! reduction `(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol`; both end
//! with [`TerminationReason::SolverConverged`](argmin::core::TerminationReason::SolverConverged) and the Fortran message is
//! available from [`LBFGSB::message`]. A failed line search first clears the
//! memory and retries along the steepest-descent path, then ends the run
//! with `SolverExit("ABNORMAL_TERMINATION_IN_LNSRCH")`, which is a reason,
//! not an error.
//!
//! # Evaluations
//!
//! Every point the solver tries is evaluated by `problem.cost(&x)` followed
//! at once by `problem.gradient(&x)` at the same `x` (an objective that gets
//! both from one expensive solve may cache). Every evaluated point lies in
//! the box. A cost or gradient that is not finite means the objective
//! cannot be evaluated there: the line search halves the step towards the
//! current iterate and goes on (counted in the `nonfinite` key); at the
//! start point it is an error. Counts go through argmin's `Problem`, so
//! `cost_count` compares with scipy's `nfev`.
//!
//! # Example
//!
//! ```
//! use argmin::core::{CostFunction, Error, Executor, Gradient, State};
//! use seird_fit::optim::{Bounds, LBFGSB};
//!
//! /// f(x) = (x0 - 3)^2 + (x1 + 1)^2 on [0, 2] x [0, 2]: minimum at the corner (2, 0).
//! struct Bowl;
//! impl CostFunction for Bowl {
//!     type Param = Vec<f64>;
//!     type Output = f64;
//!     fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
//!         Ok((x[0] - 3.0).powi(2) + (x[1] + 1.0).powi(2))
//!     }
//! }
//! impl Gradient for Bowl {
//!     type Param = Vec<f64>;
//!     type Gradient = Vec<f64>;
//!     fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
//!         Ok(vec![2.0 * (x[0] - 3.0), 2.0 * (x[1] + 1.0)])
//!     }
//! }
//!
//! let solver = LBFGSB::new(Bounds::uniform(2, 0.0, 2.0)?);
//! let res = Executor::new(Bowl, solver)
//!     .configure(|s| s.param(vec![1.0, 1.0]).max_iters(100))
//!     .run()?;
//! let x = res.state().get_best_param().unwrap();
//! assert!((x[0] - 2.0).abs() < 1e-12 && x[1].abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Reference
//!
//! * R. H. Byrd, P. Lu, J. Nocedal and C. Zhu, "A limited memory algorithm
//!   for bound constrained optimization", SIAM Journal on Scientific
//!   Computing 16 (1995), 1190-1208.
//! * C. Zhu, R. H. Byrd, P. Lu and J. Nocedal, "Algorithm 778: L-BFGS-B:
//!   Fortran subroutines for large-scale bound-constrained optimization",
//!   ACM TOMS 23 (1997), 550-560.
//! * J. L. Morales and J. Nocedal, "Remark on Algorithm 778", ACM TOMS 38
//!   (2011), article 7.
//! * R. H. Byrd, J. Nocedal and R. B. Schnabel, "Representations of
//!   quasi-Newton matrices and their use in limited memory methods",
//!   Mathematical Programming 63 (1994), 129-156 (the compact form).
//!
//! Each part mirrors a routine of `lbfgsb.f` 3.0 (the 2011 code that scipy
//! ships, translated to C since scipy 1.15), in the same order of
//! operations where that decides the rounding:
//!
//! | here | Fortran |
//! |------|---------|
//! | `cauchy::cauchy` | `cauchy` (breakpoints sorted instead of a heap) |
//! | `memory::formt` in `refresh_compact` | `formt` (`T`, `dpofa`) |
//! | `memory::Compact::bmv` | `bmv` (`M v` with two `dtrsl`) |
//! | `subspace::SubspaceK::freev` | `freev` (entering and leaving variables) |
//! | `subspace::SubspaceK::formk` | `formk` (`wn1` kept and updated, `K = L E L'`) |
//! | `subspace::subspace_min` | `cmprlb` and `subsm` (with the 2011 projection) |
//! | `driver`: `line_search` | `lnsrlb` with `dcsrch` |
//! | `driver`: `Solver::next_iter` | `mainlb` |
//! | `memory::Memory::push` | `matupd` |
//! | `dpofa`, `dtrsl` (in `linalg`) | LINPACK `dpofa`, `dtrsl` |

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

use argmin::core::IterState;

use super::{Bounds, OptimError};

mod cauchy;
mod driver;
mod memory;
mod subspace;
#[cfg(test)]
mod tests;

use memory::{Compact, Memory};
use subspace::SubspaceK;

/// The argmin state L-BFGS-B works with.
pub type LbfgsbState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// Message of a projected-gradient convergence.
pub const MSG_PGTOL: &str = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL";
/// Message of a relative-reduction convergence.
pub const MSG_FTOL: &str = "CONVERGENCE: REL_REDUCTION_OF_F <= FACTR*EPSMCH";
/// Message (and `SolverExit` reason) of a failed line search.
pub const MSG_ABNORMAL: &str = "ABNORMAL_TERMINATION_IN_LNSRCH";
/// Message (and `SolverExit` reason) when the evaluation budget is spent.
pub const MSG_MAXFUN: &str = "STOP: TOTAL NO. of f AND g EVALUATIONS EXCEEDS LIMIT";

const NAME: &str = "L-BFGS-B";
/// Line search constants of `lnsrlb`.
const LS_FTOL: f64 = 1e-3;
const LS_GTOL: f64 = 0.9;
const LS_XTOL: f64 = 0.1;
/// `big` of `lnsrlb`: the step cap without bounds.
const BIG_STEP: f64 = 1e10;

/// Where a variable stands (`iwhere` of the Fortran code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    /// No bounds at all: always free.
    Unbounded,
    /// Free (inside its bounds).
    Free,
    /// Free with a zero gradient.
    FreeZeroGrad,
    /// Held at its lower bound.
    AtLower,
    /// Held at its upper bound.
    AtUpper,
    /// Lower bound equals upper bound.
    Fixed,
}

impl Where {
    fn is_free(self) -> bool {
        matches!(self, Where::Unbounded | Where::Free | Where::FreeZeroGrad)
    }
}

/// L-BFGS-B: bound-constrained limited-memory BFGS (see the module docs).
#[derive(Debug, Clone)]
pub struct LBFGSB {
    bounds: Bounds,
    ftol: f64,
    pgtol: f64,
    max_ls: usize,
    max_evals: u64,
    /// Objective calls per evaluation of cost and gradient, for `max_evals`.
    calls_per_eval: u64,
    mem: Memory,
    theta: f64,
    iwhere: Vec<Where>,
    /// The compact form of `mem`, rebuilt at the start of each iteration
    /// into the same buffers.
    cm: Compact,
    /// `K` of the subspace step and its factor.
    kmat: SubspaceK,
    scratch: Scratch,
    /// Completed iterations (the Fortran `iter`; the first step depends on it).
    iters: u64,
    evals: u64,
    nonfinite: u64,
    skipped: u64,
    message: Option<&'static str>,
}

/// One evaluation of cost and gradient.
struct Eval {
    x: Vec<f64>,
    f: f64,
    g: Vec<f64>,
}

impl Eval {
    fn is_finite(&self) -> bool {
        self.f.is_finite() && self.g.iter().all(|v| v.is_finite())
    }
}

/// Buffers for the vectors and matrices of one iteration, kept in the
/// solver so that an iteration does not allocate them afresh (with `n`
/// small, as in the SEIRD fits, allocation and copying cost as much as the
/// arithmetic). Nothing in here carries over from one iteration to the next.
#[derive(Debug, Clone, Default)]
struct Scratch {
    /// The generalized Cauchy point.
    xcp: Vec<f64>,
    /// `c = W'(xcp - x)`.
    c: Vec<f64>,
    /// `p = W'd` along the Cauchy path.
    p: Vec<f64>,
    /// The Cauchy direction, zeroed as variables reach their bounds.
    d: Vec<f64>,
    /// The row of `W` of a breakpoint's variable (`wbp`).
    wbp: Vec<f64>,
    /// `M v` for the current `v` (size `2 col`).
    mv: Vec<f64>,
    /// Breakpoints `(t, variable)` of the Cauchy path.
    breaks: Vec<(f64, usize)>,
    /// The free variables at the Cauchy point, in increasing order.
    free: Vec<usize>,
    /// The variables held at a bound at the Cauchy point, in decreasing
    /// order (the order of the Fortran `index(nfree+1..n)`, whose sums
    /// `formk` mirrors).
    active: Vec<usize>,
    /// The reduced gradient of the model at the Cauchy point, one entry
    /// per free variable.
    r: Vec<f64>,
    /// The subspace step, one entry per free variable.
    du: Vec<f64>,
    /// `W'Z r`, then `K^-1 W'Z r`.
    wv: Vec<f64>,
    /// The point the line search aims at.
    xhat: Vec<f64>,
}

/// What a line search ended with.
enum LineSearch {
    Accepted { eval: Eval, stp: f64, evals: u64 },
    Failed { evals: u64 },
}

impl LBFGSB {
    /// L-BFGS-B on the box `bounds` with scipy's defaults: memory `m = 10`,
    /// `ftol = factr * eps = 1e7 * 2.22e-16`, `pgtol = 1e-5`, at most 20
    /// evaluations per line search and 15000 in total (`maxfun`).
    pub fn new(bounds: Bounds) -> Self {
        let n = bounds.len();
        LBFGSB {
            bounds,
            ftol: 1e7 * f64::EPSILON,
            pgtol: 1e-5,
            max_ls: 20,
            max_evals: 15000,
            calls_per_eval: 1,
            mem: Memory::new(10),
            kmat: SubspaceK::new(10),
            theta: 1.0,
            iwhere: vec![Where::Free; n],
            cm: Compact::default(),
            scratch: Scratch::default(),
            iters: 0,
            evals: 0,
            nonfinite: 0,
            skipped: 0,
            message: None,
        }
    }

    fn invalid(setting: &'static str, value: impl ToString, problem: &'static str) -> OptimError {
        OptimError::InvalidSetting {
            solver: NAME,
            setting,
            value: value.to_string(),
            problem,
        }
    }

    /// Number of correction pairs kept (`m >= 1`).
    pub fn with_memory(mut self, m: usize) -> Result<Self, OptimError> {
        if m == 0 {
            return Err(Self::invalid("m", m, "must be at least 1"));
        }
        self.mem = Memory::new(m);
        self.kmat = SubspaceK::new(m);
        Ok(self)
    }

    /// Relative-reduction tolerance (scipy's `ftol`, `factr * eps`), `>= 0`.
    pub fn with_ftol(mut self, ftol: f64) -> Result<Self, OptimError> {
        if !ftol.is_finite() || ftol < 0.0 {
            return Err(Self::invalid("ftol", ftol, "must be finite and >= 0"));
        }
        self.ftol = ftol;
        Ok(self)
    }

    /// Projected-gradient tolerance (scipy's `gtol`/`pgtol`), `>= 0`.
    pub fn with_pgtol(mut self, pgtol: f64) -> Result<Self, OptimError> {
        if !pgtol.is_finite() || pgtol < 0.0 {
            return Err(Self::invalid("pgtol", pgtol, "must be finite and >= 0"));
        }
        self.pgtol = pgtol;
        Ok(self)
    }

    /// Stops once more than `n` evaluations of cost *and* gradient were
    /// made (checked after each iteration, as scipy does). With an
    /// analytic gradient this is scipy's `maxfun`. With a finite-difference
    /// gradient scipy's `maxfun` counts every call of the objective,
    /// differences included; use [`LBFGSB::with_max_fun`] for that.
    pub fn with_max_evals(mut self, n: u64) -> Result<Self, OptimError> {
        if n == 0 {
            return Err(Self::invalid("max_evals", n, "must be at least 1"));
        }
        self.max_evals = n;
        self.calls_per_eval = 1;
        Ok(self)
    }

    /// scipy's `maxfun` counted as scipy counts it: stops once more than
    /// `maxfun` calls of the objective were made, where one evaluation of
    /// cost and gradient costs `calls_per_eval` calls: 1 with an analytic
    /// gradient, `1 + n` with 2-point differences ([`FiniteDiff`] reuses
    /// `f(x)`), `1 + 2n` with 3-point ones (`n` the free variables).
    ///
    /// [`FiniteDiff`]: crate::optim::FiniteDiff
    pub fn with_max_fun(mut self, maxfun: u64, calls_per_eval: u64) -> Result<Self, OptimError> {
        if maxfun == 0 {
            return Err(Self::invalid("maxfun", maxfun, "must be at least 1"));
        }
        if calls_per_eval == 0 {
            return Err(Self::invalid(
                "calls_per_eval",
                calls_per_eval,
                "must be at least 1",
            ));
        }
        self.max_evals = maxfun;
        self.calls_per_eval = calls_per_eval;
        Ok(self)
    }

    /// Maximum evaluations per line search (scipy's `maxls`, default 20).
    pub fn with_max_line_search(mut self, n: usize) -> Result<Self, OptimError> {
        if n == 0 {
            return Err(Self::invalid("max_ls", n, "must be at least 1"));
        }
        self.max_ls = n;
        Ok(self)
    }

    /// The box.
    pub fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    /// The Fortran-style message of the last termination decided by the
    /// solver itself (`None` while running or after an external stop such
    /// as `max_iters`).
    pub fn message(&self) -> Option<&'static str> {
        self.message
    }

    /// Trial points where the cost or gradient was not finite.
    pub fn nonfinite_evals(&self) -> u64 {
        self.nonfinite
    }

    /// BFGS updates skipped for lack of positive curvature.
    pub fn skipped_updates(&self) -> u64 {
        self.skipped
    }

    fn reset_memory(&mut self) {
        self.mem.clear();
        self.kmat.factored = false;
        self.theta = 1.0;
    }
}

/// Makes `buf` a zero vector of length `len`, reusing its storage.
fn zero(buf: &mut Vec<f64>, len: usize) {
    buf.clear();
    buf.resize(len, 0.0);
}

/// Makes `buf` a copy of `v`, reusing its storage.
fn copy(buf: &mut Vec<f64>, v: &[f64]) {
    buf.clear();
    buf.extend_from_slice(v);
}
