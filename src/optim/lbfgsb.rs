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
//! Stopping tests, by default as in scipy ([`Stopping::Scipy`]; the
//! scale-invariant [`Stopping::Relative`] is chosen by `with_stopping`): the projected-gradient infinity norm
//! `<= pgtol` ([`Bounds::projected_gradient_norm`]), or the relative
//! reduction `(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol`; both end
//! with [`TerminationReason::SolverConverged`] and the Fortran message is
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
//! | `cauchy` | `cauchy` (breakpoints sorted instead of a heap) |
//! | `formt` in `refresh_compact` | `formt` (`T`, `dpofa`) |
//! | `Compact::bmv` | `bmv` (`M v` with two `dtrsl`) |
//! | `SubspaceK::freev` | `freev` (entering and leaving variables) |
//! | `SubspaceK::formk` | `formk` (`wn1` kept and updated, `K = L E L'`) |
//! | `subspace_min` | `cmprlb` and `subsm` (with the 2011 projection) |
//! | `line_search` | `lnsrlb` with `dcsrch` |
//! | `Memory::push` | `matupd` |
//! | `dpofa`, `dtrsl` (in `linalg`) | LINPACK `dpofa`, `dtrsl` |

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

use std::collections::VecDeque;

use argmin::core::{
    CostFunction, Error, Gradient, IterState, Problem, Solver, TerminationReason,
    TerminationStatus, KV,
};

use super::linalg::{dot, dpofa, dtrsl, dtrsl_trans};
use super::line_search::{Dcsrch, Task};
use super::{Bounds, OptimError};

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
/// Message of the scale-invariant relative-reduction stop ([`Stopping::Relative`]).
pub const MSG_REL_FTOL: &str = "CONVERGENCE: REL_REDUCTION_OF_F <= FTOL (NO FLOOR)";
/// Message of the scale-invariant projected-gradient stop ([`Stopping::Relative`]).
pub const MSG_REL_PGTOL: &str = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL*|F|";

/// Which convergence tests end a run.
///
/// scipy's tests are absolute for small losses: the reduction test divides
/// by `max(|f_k|, |f_{k+1}|, 1)`, so for a loss of 1e-3 it stops once f falls
/// by less than `ftol` in absolute terms, while it is still falling by parts
/// per thousand; and `pgtol` is an absolute gradient size. Multiplying the
/// loss by a constant changes where either test fires. [`Stopping::Relative`]
/// drops the floor of 1 and measures the projected gradient against `|f|`,
/// so the stopping point does not depend on the scale of the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stopping {
    /// scipy's exact tests: `pg <= pgtol` or
    /// `(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol`.
    #[default]
    Scipy,
    /// Scale-invariant tests: `pg <= pgtol * |f_{k+1}|` or
    /// `(f_k - f_{k+1}) <= ftol * max(|f_k|, |f_{k+1}|)`.
    Relative,
}

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
    stopping: Stopping,
    /// Projected-gradient infinity norm at the last accepted iterate.
    last_pg: f64,
    max_ls: usize,
    max_evals: u64,
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
    pending: Option<TerminationReason>,
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

/// The last `m` correction pairs `s = x_{k+1} - x_k`, `y = g_{k+1} - g_k`,
/// oldest first, with their inner products.
///
/// An update adds one pair (and may drop the oldest), so only the newest
/// row of `S'Y` and column of `S'S` are new. Keeping the products, as the
/// Fortran `matupd` does, costs `O(m n)` per iteration instead of the
/// `O(m^2 n)` of recomputing them all; each product is computed once by
/// the same [`dot`], so the values are the ones a recomputation would give.
#[derive(Debug, Clone)]
struct Memory {
    /// Capacity `m`; also the row stride of `sy` and `ss`.
    m: usize,
    s: VecDeque<Vec<f64>>,
    y: VecDeque<Vec<f64>>,
    /// `s_i'y_j` at `sy[i * m + j]`, kept for `j <= i` (`D` and `L`).
    sy: Vec<f64>,
    /// `s_i's_j` at `ss[i * m + j]`, kept for `i <= j`.
    ss: Vec<f64>,
    /// Pairs added since the memory was last cleared (`iupdat`); more than
    /// `m` means the last one pushed out the oldest.
    updates: usize,
    /// Whether the last iteration added a pair (`updatd`).
    updated: bool,
}

impl Memory {
    fn new(m: usize) -> Self {
        Memory {
            m,
            s: VecDeque::with_capacity(m + 1),
            y: VecDeque::with_capacity(m + 1),
            sy: vec![0.0; m * m],
            ss: vec![0.0; m * m],
            updates: 0,
            updated: false,
        }
    }

    fn len(&self) -> usize {
        self.s.len()
    }

    fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    fn clear(&mut self) {
        self.s.clear();
        self.y.clear();
        self.updates = 0;
        self.updated = false;
    }

    fn sy(&self, i: usize, j: usize) -> f64 {
        self.sy[i * self.m + j]
    }

    fn ss(&self, i: usize, j: usize) -> f64 {
        self.ss[i * self.m + j]
    }

    /// Appends the pair `(s, y)` with `s'y = sy`, dropping the oldest pair
    /// when the memory is full.
    fn push(&mut self, s: Vec<f64>, y: Vec<f64>, sy: f64) {
        let m = self.m;
        if self.s.len() == m {
            self.s.pop_front();
            self.y.pop_front();
            // Every kept product moves up one row and one column.
            for i in 0..m - 1 {
                for j in 0..m - 1 {
                    self.sy[i * m + j] = self.sy[(i + 1) * m + j + 1];
                    self.ss[i * m + j] = self.ss[(i + 1) * m + j + 1];
                }
            }
        }
        let k = self.s.len();
        for j in 0..k {
            self.sy[k * m + j] = dot(&s, &self.y[j]);
            self.ss[j * m + k] = dot(&self.s[j], &s);
        }
        self.sy[k * m + k] = sy;
        self.ss[k * m + k] = dot(&s, &s);
        self.s.push_back(s);
        self.y.push_back(y);
        self.updates += 1;
        self.updated = true;
    }
}

/// The compact representation `B = theta I - W M W'` of the current memory,
/// `W = [Y, theta S]`, with the middle matrix `M` held the way the Fortran
/// code holds it (`formt`): `M^-1 = [[-D, L'], [L, theta S'S]]` factors as
///
/// ```text
/// M^-1 = [  D^(1/2)      0 ] [ -D^(1/2)   D^(-1/2) L' ]
///        [ -L D^(-1/2)   J ] [  0         J'          ]
/// ```
///
/// with `J J'` the Cholesky factorisation of the positive definite
/// `T = theta S'S + L D^-1 L'`. Applying `M` ([`Compact::bmv`]) is then two
/// `col x col` triangular solves instead of a `2col x 2col` LU
/// factorisation and solve.
#[derive(Debug, Clone, Default)]
struct Compact {
    col: usize,
    theta: f64,
    /// `[Y | S]` stored by rows (`n x 2col`), unscaled like the Fortran
    /// `wy` and `ws`: the Cauchy search, `cmprlb`, `formk` and `subsm` read
    /// one row per variable, so a row is a slice.
    ys: Vec<f64>,
    /// `s_i'y_j` for `j <= i` (`D` and `L`), row-major `col x col`.
    sy: Vec<f64>,
    /// `sqrt(s_i'y_i)`, the diagonal of `D^(1/2)`.
    sqrt_d: Vec<f64>,
    /// `J'`: the upper Cholesky factor of `T`, column-major `col x col`
    /// (the Fortran `wt`).
    jt: Vec<f64>,
}

impl Compact {
    /// Row `i` of `[Y | S]`.
    fn ys_row(&self, i: usize) -> &[f64] {
        let k2 = 2 * self.col;
        &self.ys[i * k2..(i + 1) * k2]
    }

    fn sy(&self, i: usize, j: usize) -> f64 {
        self.sy[i * self.col + j]
    }

    /// `p = M v` for `v` and `p` of length `2 col` (`bmv`), by the two
    /// block-triangular solves of the factorisation in the type's docs:
    ///
    /// 1. `[D^(1/2), 0; -L D^(-1/2), J] [p1; p2] = [v1; v2]`, i.e.
    ///    `J p2 = v2 + L D^-1 v1` and `p1 = D^(-1/2) v1`;
    /// 2. `[-D^(1/2), D^(-1/2) L'; 0, J'] [p1; p2] = [p1; p2]`, i.e.
    ///    `J' p2 = p2` and `p1 = -D^(-1/2) p1 + D^-1 L' p2`.
    ///
    /// Operations are in the Fortran order, so the rounding is its.
    fn bmv(&self, v: &[f64], p: &mut [f64]) {
        let col = self.col;
        if col == 0 {
            return;
        }
        let (v1, v2) = v[..2 * col].split_at(col);
        let (p1, p2) = p[..2 * col].split_at_mut(col);
        p2[0] = v2[0];
        for i in 1..col {
            let mut sum = 0.0;
            for k in 0..i {
                sum += self.sy(i, k) * v1[k] / self.sy(k, k);
            }
            p2[i] = v2[i] + sum;
        }
        dtrsl_trans(&self.jt, col, col, p2);
        for i in 0..col {
            p1[i] = v1[i] / self.sqrt_d[i];
        }
        dtrsl(&self.jt, col, col, p2);
        for i in 0..col {
            p1[i] = -p1[i] / self.sqrt_d[i];
        }
        for i in 0..col {
            let mut sum = 0.0;
            for k in i + 1..col {
                sum += self.sy(k, i) * p2[k] / self.sy(i, i);
            }
            p1[i] += sum;
        }
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
            stopping: Stopping::Scipy,
            last_pg: f64::NAN,
            max_ls: 20,
            max_evals: 15000,
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
            pending: None,
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

    /// Which convergence tests apply (default [`Stopping::Scipy`]).
    pub fn with_stopping(mut self, stopping: Stopping) -> Self {
        self.stopping = stopping;
        self
    }

    /// Projected-gradient infinity norm at the last accepted iterate (NaN
    /// before the first evaluation).
    pub fn final_pg_norm(&self) -> f64 {
        self.last_pg
    }

    /// Whether the projected gradient `pg` at a point of cost `f` passes the
    /// gradient test.
    fn pg_converged(&self, pg: f64, f: f64) -> bool {
        match self.stopping {
            Stopping::Scipy => pg <= self.pgtol,
            Stopping::Relative => pg <= self.pgtol * f.abs(),
        }
    }

    /// Whether the step from `fold` to `f` passes the reduction test.
    fn f_converged(&self, fold: f64, f: f64) -> bool {
        match self.stopping {
            Stopping::Scipy => fold - f <= self.ftol * fold.abs().max(f.abs()).max(1.0),
            Stopping::Relative => fold - f <= self.ftol * fold.abs().max(f.abs()),
        }
    }

    fn pg_message(&self) -> &'static str {
        match self.stopping {
            Stopping::Scipy => MSG_PGTOL,
            Stopping::Relative => MSG_REL_PGTOL,
        }
    }

    fn f_message(&self) -> &'static str {
        match self.stopping {
            Stopping::Scipy => MSG_FTOL,
            Stopping::Relative => MSG_REL_FTOL,
        }
    }

    /// Stops once more than `n` evaluations were made (scipy's `maxfun`;
    /// checked after each iteration, as scipy does).
    pub fn with_max_evals(mut self, n: u64) -> Result<Self, OptimError> {
        if n == 0 {
            return Err(Self::invalid("max_evals", n, "must be at least 1"));
        }
        self.max_evals = n;
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

    fn finish(&mut self, reason: TerminationReason, message: &'static str) {
        self.pending = Some(reason);
        self.message = Some(message);
    }

    fn reset_memory(&mut self) {
        self.mem.clear();
        self.kmat.factored = false;
        self.theta = 1.0;
    }

    fn evaluate<O>(&mut self, problem: &mut Problem<O>, x: Vec<f64>) -> Result<Eval, Error>
    where
        O: CostFunction<Param = Vec<f64>, Output = f64>
            + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
    {
        let f = problem.cost(&x)?;
        let g = problem.gradient(&x)?;
        self.evals += 1;
        if g.len() != x.len() {
            return Err(OptimError::Length {
                what: "gradient",
                expected: x.len(),
                got: g.len(),
            }
            .into());
        }
        Ok(Eval { x, f, g })
    }

    /// Rebuilds `self.cm` from the stored pairs and their kept inner
    /// products, factoring `T` (`formt`); `false` when `T` is not positive
    /// definite, which the Fortran code answers by clearing the memory.
    /// The memory must not be empty.
    fn refresh_compact(&mut self) -> bool {
        let mem = &self.mem;
        let col = mem.len();
        let k2 = 2 * col;
        let n = mem.s[0].len();
        let cm = &mut self.cm;
        cm.col = col;
        cm.theta = self.theta;
        zero(&mut cm.sy, col * col);
        for i in 0..col {
            for j in 0..=i {
                cm.sy[i * col + j] = mem.sy(i, j);
            }
        }
        cm.sqrt_d.clear();
        cm.sqrt_d.extend((0..col).map(|i| mem.sy(i, i).sqrt()));
        zero(&mut cm.ys, n * k2);
        for (i, row) in cm.ys.chunks_exact_mut(k2).enumerate() {
            for (j, (s, y)) in mem.s.iter().zip(&mem.y).enumerate() {
                row[j] = y[i];
                row[col + j] = s[i];
            }
        }
        formt(mem, self.theta, &mut cm.jt)
    }

    /// The More-Thuente search along `d = xhat - x` (`lnsrlb`).
    fn line_search<O>(
        &mut self,
        problem: &mut Problem<O>,
        cur: &Eval,
        xhat: &[f64],
    ) -> Result<LineSearch, Error>
    where
        O: CostFunction<Param = Vec<f64>, Output = f64>
            + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
    {
        let n = cur.x.len();
        let d: Vec<f64> = xhat.iter().zip(&cur.x).map(|(a, b)| a - b).collect();
        let dnorm = dot(&d, &d).sqrt();
        let (lo, hi) = (self.bounds.lower(), self.bounds.upper());
        let mut stpmx = BIG_STEP;
        if self.bounds.is_constrained() {
            if self.iters == 0 {
                stpmx = 1.0;
            } else {
                for i in 0..n {
                    let a1 = d[i];
                    if a1 < 0.0 && lo[i].is_finite() {
                        let a2 = lo[i] - cur.x[i];
                        if a2 >= 0.0 {
                            stpmx = 0.0;
                        } else if a1 * stpmx < a2 {
                            stpmx = a2 / a1;
                        }
                    } else if a1 > 0.0 && hi[i].is_finite() {
                        let a2 = hi[i] - cur.x[i];
                        if a2 <= 0.0 {
                            stpmx = 0.0;
                        } else if a1 * stpmx > a2 {
                            stpmx = a2 / a1;
                        }
                    }
                }
            }
        }
        let mut stp = if self.iters == 0 && !self.bounds.is_boxed() {
            (1.0 / dnorm).min(stpmx)
        } else {
            1.0
        };
        let gd0 = dot(&cur.g, &d);
        if gd0.is_nan() || gd0 >= 0.0 {
            // Not a descent direction (info = -4 in the Fortran code).
            return Ok(LineSearch::Failed { evals: 0 });
        }
        let (mut ls, mut task) =
            Dcsrch::start(cur.f, gd0, stp, LS_FTOL, LS_GTOL, LS_XTOL, 0.0, stpmx);
        let mut evals = 0u64;
        let mut last: Option<Eval> = None;
        loop {
            match task {
                Task::Evaluate(s) => {
                    if evals as usize >= self.max_ls {
                        return Ok(LineSearch::Failed { evals });
                    }
                    stp = s;
                    let xt = if stp == 1.0 {
                        xhat.to_vec()
                    } else {
                        let mut xt: Vec<f64> =
                            cur.x.iter().zip(&d).map(|(xi, di)| xi + stp * di).collect();
                        // stp <= stpmax keeps x in the box up to rounding.
                        self.bounds.project(&mut xt);
                        xt
                    };
                    let e = self.evaluate(problem, xt)?;
                    evals += 1;
                    if !e.is_finite() {
                        // The objective cannot be evaluated here: back off
                        // towards the current point and restart the search
                        // with the smaller step as its upper limit.
                        self.nonfinite += 1;
                        let half = 0.5 * stp;
                        let (nls, ntask) =
                            Dcsrch::start(cur.f, gd0, half, LS_FTOL, LS_GTOL, LS_XTOL, 0.0, half);
                        ls = nls;
                        task = ntask;
                        continue;
                    }
                    let gd = dot(&e.g, &d);
                    task = ls.next(e.f, gd, stp);
                    last = Some(e);
                }
                Task::Converged | Task::Warning(_) => {
                    return Ok(match last {
                        Some(eval) => LineSearch::Accepted { eval, stp, evals },
                        None => LineSearch::Failed { evals },
                    });
                }
                Task::Error(_) => return Ok(LineSearch::Failed { evals }),
            }
        }
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

/// `formt`: the upper triangle of `T = theta S'S + L D^-1 L'` into `jt`
/// (column-major `col x col`), factored in place into `J'` with `T = J J'`
/// (`dpofa`). `false` when `T` is not positive definite.
///
/// `(L D^-1 L')_ij = sum_{k < min(i, j)} (s_i'y_k)(s_j'y_k) / s_k'y_k`, and
/// the first row is `theta S'S` alone (`L`'s first row is zero).
fn formt(mem: &Memory, theta: f64, jt: &mut Vec<f64>) -> bool {
    let col = mem.len();
    zero(jt, col * col);
    for j in 0..col {
        jt[j * col] = theta * mem.ss(0, j);
    }
    for i in 1..col {
        for j in i..col {
            let mut ddum = 0.0;
            for k in 0..i {
                ddum += mem.sy(i, k) * mem.sy(j, k) / mem.sy(k, k);
            }
            jt[i + j * col] = ddum + theta * mem.ss(i, j);
        }
    }
    dpofa(jt, col, col)
}

/// The generalized Cauchy point (`cauchy` of the Fortran code) into
/// `ws.xcp`, with `ws.c = W'(xcp - x)`; returns the number of segments
/// searched. Updates `iwhere` to the variables held at bounds.
fn cauchy(
    bounds: &Bounds,
    iwhere: &mut [Where],
    cm: Option<&Compact>,
    ws: &mut Scratch,
    x: &[f64],
    g: &[f64],
    pg_norm: f64,
) -> u64 {
    let n = x.len();
    let col = cm.map_or(0, |c| c.col);
    let theta = cm.map_or(1.0, |c| c.theta);
    let Scratch {
        xcp,
        c,
        p,
        d,
        wbp,
        mv,
        breaks,
        ..
    } = ws;
    copy(xcp, x);
    zero(c, 2 * col);
    if pg_norm <= 0.0 {
        return 0;
    }
    let (lo, hi) = (bounds.lower(), bounds.upper());
    zero(p, 2 * col);
    zero(d, n);
    zero(mv, 2 * col);
    breaks.clear();
    let mut n_unbroken = 0usize;
    let mut bounded = true;
    let mut f1 = 0.0;
    for i in 0..n {
        let neggi = -g[i];
        let has_lower = lo[i].is_finite();
        let has_upper = hi[i].is_finite();
        let (tl, tu) = (x[i] - lo[i], hi[i] - x[i]);
        if !matches!(iwhere[i], Where::Fixed | Where::Unbounded) {
            let xlower = has_lower && tl <= 0.0;
            let xupper = has_upper && tu <= 0.0;
            iwhere[i] = Where::Free;
            if xlower {
                if neggi <= 0.0 {
                    iwhere[i] = Where::AtLower;
                }
            } else if xupper {
                if neggi >= 0.0 {
                    iwhere[i] = Where::AtUpper;
                }
            } else if neggi == 0.0 {
                iwhere[i] = Where::FreeZeroGrad;
            }
        }
        if !matches!(iwhere[i], Where::Free | Where::Unbounded) {
            continue;
        }
        d[i] = neggi;
        f1 -= neggi * neggi;
        if let Some(cm) = cm {
            // p = [Y'd, S'd], accumulated row by row; the S half is scaled
            // by theta once d is complete, as in the Fortran code.
            for (pj, wj) in p.iter_mut().zip(cm.ys_row(i)) {
                *pj += wj * neggi;
            }
        }
        if has_lower && neggi < 0.0 {
            breaks.push((tl / -neggi, i));
        } else if has_upper && neggi > 0.0 {
            breaks.push((tu / neggi, i));
        } else {
            n_unbroken += 1;
            if neggi != 0.0 {
                bounded = false;
            }
        }
    }
    for pj in &mut p[col..] {
        *pj *= theta;
    }
    if breaks.is_empty() && n_unbroken == 0 {
        return 0;
    }
    // f1 = g'd = -|d|^2 is the slope, f2 = d'Bd the curvature, of the
    // model along the first segment.
    let mut f2 = -theta * f1;
    let f2_org = f2;
    if let Some(cm) = cm {
        cm.bmv(p, mv);
        f2 -= dot(mv, p);
    }
    let mut dtm = -f1 / f2;
    let mut tsum = 0.0;
    let mut nseg = 1;
    // Breakpoints in increasing order (the Fortran code uses a heap, so
    // ties may be taken in a different order; the model value is the same).
    breaks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let nbreak = breaks.len();
    let mut tj = 0.0;
    let mut all_fixed = false;
    for (k, &(t, ibp)) in breaks.iter().enumerate() {
        let tj0 = tj;
        tj = t;
        let dt = tj - tj0;
        if dtm < dt {
            break;
        }
        // The model still decreases past this breakpoint: fix variable
        // ibp at its bound and update slope and curvature.
        tsum += dt;
        let nleft = nbreak - k - 1;
        let dibp = d[ibp];
        d[ibp] = 0.0;
        let zibp = if dibp > 0.0 {
            xcp[ibp] = hi[ibp];
            iwhere[ibp] = Where::AtUpper;
            hi[ibp] - x[ibp]
        } else {
            xcp[ibp] = lo[ibp];
            iwhere[ibp] = Where::AtLower;
            lo[ibp] - x[ibp]
        };
        if nleft == 0 && nbreak == n {
            dtm = dt;
            all_fixed = true;
            break;
        }
        nseg += 1;
        let dibp2 = dibp * dibp;
        f1 += dt * f2 + dibp2 - theta * dibp * zibp;
        f2 -= theta * dibp2;
        if let Some(cm) = cm {
            for (cj, pj) in c.iter_mut().zip(p.iter()) {
                *cj += dt * pj;
            }
            // wbp = the row of W = [Y, theta S] of variable ibp.
            let row = cm.ys_row(ibp);
            wbp.clear();
            wbp.extend_from_slice(&row[..col]);
            wbp.extend(row[col..].iter().map(|s| theta * s));
            cm.bmv(wbp, mv);
            let wmc = dot(c, mv);
            let wmp = dot(p, mv);
            let wmw = dot(wbp, mv);
            for (pj, wj) in p.iter_mut().zip(wbp.iter()) {
                *pj -= dibp * wj;
            }
            f1 += dibp * wmc;
            f2 += 2.0 * dibp * wmp - dibp2 * wmw;
        }
        f2 = f2.max(f64::EPSILON * f2_org);
        if nleft > 0 {
            dtm = -f1 / f2;
        } else if bounded {
            dtm = 0.0;
        } else {
            dtm = -f1 / f2;
        }
    }
    if !all_fixed {
        dtm = dtm.max(0.0);
        tsum += dtm;
        for i in 0..n {
            xcp[i] += tsum * d[i];
        }
        // Rounding in x + tsum d must not leave the box.
        bounds.project(xcp);
    }
    if col > 0 {
        for (cj, pj) in c.iter_mut().zip(p.iter()) {
            *cj += dtm * pj;
        }
    }
    nseg
}

/// The matrix `K` of the subspace step and its factorisation (`formk`),
/// with the state the Fortran code keeps for it from one iteration to the
/// next: the inner products it is assembled from (`wn1`), the factor
/// itself (`wn`) and the free set it was last measured against (`index`).
///
/// ```text
/// K = [ -D - Y'ZZ'Y / theta   L_a' - R_z'  ]      E = [ -I  0 ]
///     [ L_a - R_z             theta S'AA'S ],         [  0  I ],
/// ```
///
/// with `Z` the free and `A` the active variables at the Cauchy point,
/// `L_a` the strictly lower triangle of `S'AA'Y` and `R_z` the upper
/// triangle (with the diagonal) of `S'ZZ'Y`. `K` equals
/// `M^-1 - W_F'W_F / theta`, but built from these blocks, each an inner
/// product over its own variables, nothing is lost to cancellation (with
/// no active variable the `S'AA'S` block is exactly zero). It is factored
/// as `K = L E L'`, `L` block lower triangular, by two `col x col`
/// Cholesky factorisations (see [`SubspaceK::formk`]).
///
/// # The reference code's bookkeeping, kept on purpose
///
/// `wn1` is updated, not recomputed: when the memory gains a pair, its
/// newest row and column are formed over the current free and active
/// sets; the older entries are corrected by the variables that entered or
/// left the free set since the previous iteration (`freev`). The Fortran
/// code measures those changes against the free set of the previous
/// *iteration*, but skips `formk` in an iteration where no variable is
/// free; the next update is then made against a set `wn1` was never formed
/// for. `tridiag20_mixed` in `tests/optim.rs` meets this: with one pair
/// in memory and no free variable, then a second pair and three free
/// variables, `S'AA'S` gets a zero where `s_1's_1` belongs, the second
/// factorisation fails and the memory is cleared. Doing the same as the
/// reference keeps our iterates (and scipy's counts) in step with it; the
/// price is a steepest-descent restart, which is also what the reference
/// pays.
#[derive(Debug, Clone, Default)]
struct SubspaceK {
    /// Capacity of the memory (the stride of the `wn1` blocks).
    m: usize,
    /// `Y'ZZ'Y` (lower triangle), row-major `m x m`.
    yzy: Vec<f64>,
    /// `S'AA'S` (lower triangle), row-major `m x m`.
    sas: Vec<f64>,
    /// `L_a + R_z`: `s_i'AA'y_j` for `j < i` and `s_i'ZZ'y_j` for `j >= i`,
    /// row-major `m x m`.
    lr: Vec<f64>,
    /// `L'` of `K = L E L'`: upper triangle, column-major `2col x 2col`.
    wn: Vec<f64>,
    /// Whether `wn` holds the factor of the current `K`.
    factored: bool,
    /// The free set of the last `freev` (`index(1..nfree)`), by variable.
    was_free: Vec<bool>,
    /// Variables that entered (`indx2(1..nenter)`) and left
    /// (`indx2(ileave..n)`) the free set at the last `freev`, each in
    /// decreasing order as the Fortran code lists them.
    entered: Vec<usize>,
    left: Vec<usize>,
}

impl SubspaceK {
    fn new(m: usize) -> Self {
        SubspaceK {
            m,
            yzy: vec![0.0; m * m],
            sas: vec![0.0; m * m],
            lr: vec![0.0; m * m],
            ..SubspaceK::default()
        }
    }

    /// `freev`: records the free set at the Cauchy point and, when `count`
    /// (after the first iteration, with bounds), which variables entered
    /// or left it since the last call. Returns whether any did.
    fn freev(&mut self, iwhere: &[Where], count: bool) -> bool {
        self.entered.clear();
        self.left.clear();
        let n = iwhere.len();
        self.was_free.resize(n, false);
        for i in (0..n).rev() {
            let free = iwhere[i].is_free();
            if count && free && !self.was_free[i] {
                self.entered.push(i);
            } else if count && !free && self.was_free[i] {
                self.left.push(i);
            }
            self.was_free[i] = free;
        }
        !self.entered.is_empty() || !self.left.is_empty()
    }

    /// `formk`: brings `wn1` up to date for the memory `cm` and the free
    /// and active sets `free` (increasing) and `active` (decreasing), then
    /// assembles and factors `K` into `wn`. `updated`: the memory gained a
    /// pair since the last call (`updatd`); `shifted`: that pair pushed out
    /// the oldest (`iupdat > m`). Returns `false` when either Cholesky
    /// factorisation fails (`K` numerically singular, or `wn1` stale as
    /// described on the type).
    ///
    /// The factorisation of the sign-adjusted
    /// `[D + Y'ZZ'Y / theta, -L_a' + R_z'; -L_a + R_z, theta S'AA'S]`:
    ///
    /// 1. `dpofa` of the (1,1) block: `L11 L11' = D + Y'ZZ'Y / theta`;
    /// 2. the (1,2) block becomes `U = L11^-1 (-L_a' + R_z')` (`dtrsl`);
    /// 3. `dpofa` of the (2,2) block `theta S'AA'S + U'U`: `L22 L22'`.
    ///
    /// Then `K = L E L'` with `L = [L11, 0; U', L22]`, and `wn` holds `L'`.
    fn formk(
        &mut self,
        cm: &Compact,
        free: &[usize],
        active: &[usize],
        updated: bool,
        shifted: bool,
    ) -> bool {
        let (m, col, theta) = (self.m, cm.col, cm.theta);
        let y = |k: usize, i: usize| cm.ys_row(k)[i];
        let s = |k: usize, i: usize| cm.ys_row(k)[col + i];
        let upcl = if updated {
            if shifted {
                // The oldest pair is gone: every kept product moves up one
                // row and one column.
                for blk in [&mut self.yzy, &mut self.sas, &mut self.lr] {
                    for a in 0..m - 1 {
                        for b in 0..m - 1 {
                            blk[a * m + b] = blk[(a + 1) * m + b + 1];
                        }
                    }
                }
            }
            // The newest pair's row of Y'ZZ'Y, S'AA'S and L_a, and its
            // column of R_z.
            let iy = col - 1;
            for jy in 0..col {
                self.yzy[iy * m + jy] = sum(free, |k| y(k, iy) * y(k, jy));
                self.sas[iy * m + jy] = sum(active, |k| s(k, iy) * s(k, jy));
                self.lr[iy * m + jy] = sum(active, |k| s(k, iy) * y(k, jy));
            }
            for i in 0..col {
                self.lr[i * m + iy] = sum(free, |k| s(k, i) * y(k, iy));
            }
            col - 1
        } else {
            col
        };
        // The older products, corrected for the variables that entered or
        // left the free set.
        let (entered, left) = (&self.entered, &self.left);
        for iy in 0..upcl {
            for jy in 0..=iy {
                let t1 = sum(entered, |k| y(k, iy) * y(k, jy));
                let t2 = sum(entered, |k| s(k, iy) * s(k, jy));
                let t3 = sum(left, |k| y(k, iy) * y(k, jy));
                let t4 = sum(left, |k| s(k, iy) * s(k, jy));
                self.yzy[iy * m + jy] = self.yzy[iy * m + jy] + t1 - t3;
                self.sas[iy * m + jy] = self.sas[iy * m + jy] - t2 + t4;
            }
        }
        for is in 0..upcl {
            for jy in 0..upcl {
                let t1 = sum(entered, |k| s(k, is) * y(k, jy));
                let t3 = sum(left, |k| s(k, is) * y(k, jy));
                let e = &mut self.lr[is * m + jy];
                // R_z (is <= jy) is over the free set, L_a over the active.
                *e = if is <= jy { *e + t1 - t3 } else { *e - t1 + t3 };
            }
        }

        // The upper triangle of the sign-adjusted K, column-major: entry
        // (a, b) at wn[a + b * k2].
        let k2 = 2 * col;
        let wn = &mut self.wn;
        zero(wn, k2 * k2);
        for iy in 0..col {
            let is = col + iy;
            for jy in 0..=iy {
                wn[jy + iy * k2] = self.yzy[iy * m + jy] / theta;
                wn[col + jy + is * k2] = self.sas[iy * m + jy] * theta;
            }
            for jy in 0..iy {
                wn[jy + is * k2] = -self.lr[iy * m + jy];
            }
            for jy in iy..col {
                wn[jy + is * k2] = self.lr[iy * m + jy];
            }
            wn[iy + iy * k2] += cm.sy(iy, iy);
        }
        self.factored = false;
        if !dpofa(wn, k2, col) {
            return false;
        }
        for js in col..k2 {
            let (factor, rest) = wn.split_at_mut(js * k2);
            dtrsl_trans(factor, k2, col, &mut rest[..col]);
        }
        for is in col..k2 {
            for js in is..k2 {
                let u = dot(&wn[is * k2..is * k2 + col], &wn[js * k2..js * k2 + col]);
                wn[is + js * k2] += u;
            }
        }
        self.factored = dpofa(&mut wn[col + col * k2..], k2, col);
        self.factored
    }
}

/// `sum_{k in vars} f(k)`, added in the order of `vars` from zero, as the
/// Fortran inner loops of `formk` do.
fn sum(vars: &[usize], f: impl Fn(usize) -> f64) -> f64 {
    let mut t = 0.0;
    for &k in vars {
        t += f(k);
    }
    t
}

/// Direct primal subspace minimization from the Cauchy point `ws.xcp`
/// over the free variables `ws.free`, with the Morales-Nocedal projection,
/// into `ws.xhat`: `cmprlb` (the reduced gradient) and `subsm`, given
/// `wn`, the factor `L'` of `K = L E L'` ([`SubspaceK`]). Returns `false`
/// when the step is not finite (the caller then clears the memory, as the
/// Fortran code does when a triangular solve fails).
fn subspace_min(
    bounds: &Bounds,
    cm: &Compact,
    wn: &[f64],
    ws: &mut Scratch,
    x: &[f64],
    g: &[f64],
) -> bool {
    let col = cm.col;
    let theta = cm.theta;
    let k2 = 2 * col;
    let Scratch {
        xcp,
        c,
        mv,
        free,
        r,
        du,
        wv,
        xhat,
        ..
    } = ws;
    // cmprlb: r = -Z'(g + B (xcp - x)) = -Z'(g + theta (xcp - x) - W M c).
    // Without bounds xcp = x and c = 0, so r = -g.
    r.clear();
    if bounds.is_constrained() {
        r.extend(free.iter().map(|&i| -theta * (xcp[i] - x[i]) - g[i]));
        zero(mv, k2);
        cm.bmv(c, mv);
        for (ri, &i) in r.iter_mut().zip(free.iter()) {
            let (y, s) = cm.ys_row(i).split_at(col);
            for j in 0..col {
                *ri = *ri + y[j] * mv[j] + s[j] * (theta * mv[col + j]);
            }
        }
    } else {
        r.extend(free.iter().map(|&i| -g[i]));
    }
    // subsm: du = r / theta + Z'W K^-1 W'Z r / theta^2, with K^-1 applied
    // as L'^-1 E L^-1 (E^-1 = E).
    zero(wv, k2);
    for (&i, &ri) in free.iter().zip(r.iter()) {
        let (y, s) = cm.ys_row(i).split_at(col);
        for j in 0..col {
            wv[j] += y[j] * ri;
            wv[col + j] += s[j] * ri;
        }
    }
    for v in &mut wv[col..] {
        *v *= theta;
    }
    dtrsl_trans(wn, k2, k2, wv);
    for v in &mut wv[..col] {
        *v = -*v;
    }
    dtrsl(wn, k2, k2, wv);
    let inv_theta = 1.0 / theta;
    du.clear();
    du.extend(free.iter().zip(r.iter()).map(|(&i, &ri)| {
        let (y, s) = cm.ys_row(i).split_at(col);
        let mut d = ri;
        for j in 0..col {
            d = d + y[j] * wv[j] / theta + s[j] * wv[col + j];
        }
        d * inv_theta
    }));
    if du.iter().any(|v| !v.is_finite()) {
        return false;
    }

    // The 2011 correction: project the subspace minimiser.
    let (lo, hi) = (bounds.lower(), bounds.upper());
    copy(xhat, xcp);
    let mut hit = false;
    for (&i, &di) in free.iter().zip(du.iter()) {
        let v = (xcp[i] + di).max(lo[i]).min(hi[i]);
        if v == lo[i] || v == hi[i] {
            hit = true;
        }
        xhat[i] = v;
    }
    if !hit {
        return true;
    }
    let slope: f64 = xhat
        .iter()
        .zip(x)
        .zip(g)
        .map(|((xh, xk), gk)| (xh - xk) * gk)
        .sum();
    if slope <= 0.0 {
        return true;
    }
    // Not a descent direction: the longest feasible step along d from
    // the Cauchy point (the 1995 rule).
    copy(xhat, xcp);
    let mut alpha = 1.0;
    let mut ibd = None;
    for (pos, (&i, &di)) in free.iter().zip(du.iter()).enumerate() {
        let mut t = alpha;
        if di < 0.0 && lo[i].is_finite() {
            let room = lo[i] - xhat[i];
            if room >= 0.0 {
                t = 0.0;
            } else if di * alpha < room {
                t = room / di;
            }
        } else if di > 0.0 && hi[i].is_finite() {
            let room = hi[i] - xhat[i];
            if room <= 0.0 {
                t = 0.0;
            } else if di * alpha > room {
                t = room / di;
            }
        }
        if t < alpha {
            alpha = t;
            ibd = Some(pos);
        }
    }
    if alpha < 1.0 {
        if let Some(pos) = ibd {
            let i = free[pos];
            if du[pos] > 0.0 {
                xhat[i] = hi[i];
            } else if du[pos] < 0.0 {
                xhat[i] = lo[i];
            }
            du[pos] = 0.0;
        }
    }
    for (&i, &di) in free.iter().zip(du.iter()) {
        xhat[i] += alpha * di;
    }
    bounds.project(xhat);
    true
}

impl<O> Solver<O, LbfgsbState> for LBFGSB
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
{
    fn name(&self) -> &str {
        NAME
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        mut state: LbfgsbState,
    ) -> Result<(LbfgsbState, Option<KV>), Error> {
        let mut x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        self.bounds.check_len(&x)?;
        let inside = self.bounds.contains(&x);
        // Like the Fortran `active`: start from the projection of x0.
        self.bounds.project(&mut x);
        self.iwhere = self
            .bounds
            .lower()
            .iter()
            .zip(self.bounds.upper())
            .map(|(&l, &u)| {
                if !l.is_finite() && !u.is_finite() {
                    Where::Unbounded
                } else if l == u {
                    Where::Fixed
                } else {
                    Where::Free
                }
            })
            .collect();
        self.reset_memory();
        // formk's kept products start from zero in every run, as the
        // Fortran workspace does (its stale-product path reads them), so a
        // solver that is run again repeats its first run.
        self.kmat = SubspaceK::new(self.mem.m);
        self.iters = 0;
        self.evals = 0;
        self.pending = None;
        self.message = None;

        let given = match (inside, state.take_gradient()) {
            (true, Some(g)) if state.get_cost().is_finite() => Some(Eval {
                x: x.clone(),
                f: state.get_cost(),
                g,
            }),
            _ => None,
        };
        let e = match given {
            Some(e) => e,
            None => self.evaluate(problem, x)?,
        };
        if !e.f.is_finite() {
            return Err(OptimError::NonFiniteStart {
                what: "cost".into(),
                value: e.f,
                x: e.x,
            }
            .into());
        }
        if let Some((i, &v)) = e.g.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(OptimError::NonFiniteStart {
                what: format!("gradient[{i}]"),
                value: v,
                x: e.x,
            }
            .into());
        }
        let pg = self.bounds.projected_gradient_norm(&e.x, &e.g);
        self.last_pg = pg;
        if self.pg_converged(pg, e.f) {
            self.finish(TerminationReason::SolverConverged, self.pg_message());
        }
        let kv = argmin::kv!("pg_norm" => pg;);
        Ok((state.param(e.x).cost(e.f).gradient(e.g), Some(kv)))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: LbfgsbState,
    ) -> Result<(LbfgsbState, Option<KV>), Error> {
        let x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        let g = state
            .take_gradient()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        let cur = Eval {
            x,
            f: state.get_cost(),
            g,
        };
        let n = cur.x.len();
        let pg0 = self.bounds.projected_gradient_norm(&cur.x, &cur.g);
        let mut ls_evals_total = 0u64;
        let mut restarts = 0u64;
        let (next, stp, nfree, nseg) = loop {
            let have_cm = if self.mem.is_empty() {
                false
            } else if self.refresh_compact() {
                true
            } else {
                // Singular middle matrix: refresh the memory.
                self.reset_memory();
                restarts += 1;
                continue;
            };
            let cm = have_cm.then_some(&self.cm);
            // 1. Generalized Cauchy point (skipped without bounds once there
            //    is a memory: the whole space is free then).
            let search_cauchy = cm.is_none() || self.bounds.is_constrained();
            let nseg = match cm {
                Some(cm) if !search_cauchy => {
                    copy(&mut self.scratch.xcp, &cur.x);
                    zero(&mut self.scratch.c, 2 * cm.col);
                    0
                }
                _ => cauchy(
                    &self.bounds,
                    &mut self.iwhere,
                    cm,
                    &mut self.scratch,
                    &cur.x,
                    &cur.g,
                    pg0,
                ),
            };
            // The free and active sets at the Cauchy point (`freev`, which
            // the Fortran code skips with the Cauchy search); `K` must be
            // formed again when they changed or the memory did (`wrk`).
            let iwhere = &self.iwhere;
            let free = &mut self.scratch.free;
            free.clear();
            free.extend((0..n).filter(|&i| iwhere[i].is_free()));
            let nfree = free.len();
            let active = &mut self.scratch.active;
            active.clear();
            active.extend((0..n).rev().filter(|&i| !iwhere[i].is_free()));
            let changed = search_cauchy
                && self
                    .kmat
                    .freev(iwhere, self.iters > 0 && self.bounds.is_constrained());
            let form_k = changed || self.mem.updated || !self.kmat.factored;
            // 2.-3. Subspace minimization with the projection fix.
            match cm {
                Some(cm) if nfree > 0 => {
                    let shifted = self.mem.updates > self.mem.m;
                    let ws = &mut self.scratch;
                    if form_k
                        && !self
                            .kmat
                            .formk(cm, &ws.free, &ws.active, self.mem.updated, shifted)
                    {
                        // Not positive definite: refresh the memory.
                        self.reset_memory();
                        restarts += 1;
                        continue;
                    }
                    if !subspace_min(&self.bounds, cm, &self.kmat.wn, ws, &cur.x, &cur.g) {
                        self.reset_memory();
                        restarts += 1;
                        continue;
                    }
                }
                _ => copy(&mut self.scratch.xhat, &self.scratch.xcp),
            }
            // 4. Line search (which needs `&mut self`, so `xhat` is lent out
            //    of the scratch space for it).
            let xhat = std::mem::take(&mut self.scratch.xhat);
            let searched = self.line_search(problem, &cur, &xhat);
            self.scratch.xhat = xhat;
            match searched? {
                LineSearch::Accepted { eval, stp, evals } => {
                    ls_evals_total += evals;
                    break (eval, stp, nfree, nseg);
                }
                LineSearch::Failed { evals } => {
                    ls_evals_total += evals;
                    if self.mem.is_empty() {
                        self.iters += 1;
                        self.finish(
                            TerminationReason::SolverExit(MSG_ABNORMAL.into()),
                            MSG_ABNORMAL,
                        );
                        let kv = argmin::kv!(
                            "step" => 0.0;
                            "pg_norm" => pg0;
                            "free" => nfree as u64;
                            "ls_evals" => ls_evals_total;
                            "restarts" => restarts;
                            "nonfinite" => self.nonfinite;
                        );
                        return Ok((state.param(cur.x).cost(cur.f).gradient(cur.g), Some(kv)));
                    }
                    // Refresh the memory and retry along steepest descent.
                    self.reset_memory();
                    restarts += 1;
                }
            }
        };
        self.iters += 1;

        // 5. Stopping tests, then the BFGS update.
        let pg = self.bounds.projected_gradient_norm(&next.x, &next.g);
        self.last_pg = pg;
        let fold = cur.f;
        let mut updated = false;
        if self.evals > self.max_evals {
            self.finish(TerminationReason::SolverExit(MSG_MAXFUN.into()), MSG_MAXFUN);
        } else if self.pg_converged(pg, next.f) {
            self.finish(TerminationReason::SolverConverged, self.pg_message());
        } else if self.f_converged(fold, next.f) {
            self.finish(TerminationReason::SolverConverged, self.f_message());
        } else {
            let s: Vec<f64> = next.x.iter().zip(&cur.x).map(|(a, b)| a - b).collect();
            let y: Vec<f64> = next.g.iter().zip(&cur.g).map(|(a, b)| a - b).collect();
            let sy = dot(&s, &y);
            let minus_gs = -dot(&cur.g, &s);
            if sy <= f64::EPSILON * minus_gs {
                self.skipped += 1;
                self.mem.updated = false;
            } else {
                self.theta = dot(&y, &y) / sy;
                self.mem.push(s, y, sy);
                updated = true;
            }
        }
        let kv = argmin::kv!(
            "step" => stp;
            "pg_norm" => pg;
            "free" => nfree as u64;
            "ls_evals" => ls_evals_total;
            "cauchy_segments" => nseg;
            "restarts" => restarts;
            "updated" => updated;
            "theta" => self.theta;
            "nonfinite" => self.nonfinite;
        );
        Ok((state.param(next.x).cost(next.f).gradient(next.g), Some(kv)))
    }

    fn terminate(&mut self, _state: &LbfgsbState) -> TerminationStatus {
        match self.pending.take() {
            Some(reason) => TerminationStatus::Terminated(reason),
            None => TerminationStatus::NotTerminated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic, irregular test vectors.
    fn vector(seed: usize, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| ((seed * 7 + i * 13) as f64 * 0.37).sin() + 0.1 * seed as f64)
            .collect()
    }

    /// Pairs with positive curvature: `y = A s` for the symmetric positive
    /// definite tridiagonal `A = tridiag(-1, 4, -1)`.
    fn pair(seed: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
        let s = vector(seed, n);
        let y = (0..n)
            .map(|i| {
                let left = if i > 0 { s[i - 1] } else { 0.0 };
                let right = if i + 1 < n { s[i + 1] } else { 0.0 };
                4.0 * s[i] - left - right
            })
            .collect();
        (s, y)
    }

    /// A solver whose memory holds `pairs` pairs pushed into a memory of
    /// capacity `m`, with its compact form built.
    fn solver_with_pairs(n: usize, m: usize, pairs: usize) -> LBFGSB {
        let mut solver = LBFGSB::new(Bounds::unbounded(n)).with_memory(m).unwrap();
        for k in 0..pairs {
            let (s, y) = pair(k, n);
            solver.theta = dot(&y, &y) / dot(&s, &y);
            solver.mem.push(s.clone(), y, dot(&s, &pair(k, n).1));
        }
        assert!(solver.refresh_compact());
        solver
    }

    /// `M^-1 = [[-D, L'], [L, theta S'S]]`, dense row-major, from the pairs.
    fn m_inverse(mem: &Memory, theta: f64) -> Vec<f64> {
        let col = mem.len();
        let k2 = 2 * col;
        let mut a = vec![0.0; k2 * k2];
        for i in 0..col {
            for j in 0..col {
                let sy = dot(&mem.s[i], &mem.y[j]);
                if i == j {
                    a[i * k2 + i] = -sy;
                } else if i > j {
                    a[(col + i) * k2 + j] = sy;
                    a[j * k2 + col + i] = sy;
                }
                a[(col + i) * k2 + col + j] = theta * dot(&mem.s[i], &mem.s[j]);
            }
        }
        a
    }

    fn mat_vec(a: &[f64], x: &[f64]) -> Vec<f64> {
        a.chunks_exact(x.len()).map(|row| dot(row, x)).collect()
    }

    #[test]
    fn bmv_applies_the_inverse_of_m_inverse() {
        // m = 3 with 5 pairs pushed: the memory has wrapped.
        let solver = solver_with_pairs(6, 3, 5);
        let cm = &solver.cm;
        let minv = m_inverse(&solver.mem, solver.theta);
        let v = vector(11, 6);
        let mut p = vec![0.0; 6];
        cm.bmv(&v, &mut p);
        for (got, want) in mat_vec(&minv, &p).iter().zip(&v) {
            assert!(
                (got - want).abs() < 1e-12 * (1.0 + want.abs()),
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn formk_factors_m_inverse_minus_the_free_gram_matrix() {
        // K = M^-1 - W_F'W_F / theta, W = [Y, theta S], checked through
        // K x = b with x from subsm's solve. The memory (m = 3) wraps and
        // the free set changes between calls, so the kept products are
        // shifted and corrected for entering and leaving variables.
        let (n, m) = (7, 3);
        let mut solver = LBFGSB::new(Bounds::unbounded(n)).with_memory(m).unwrap();
        let free_sets: [&[usize]; 5] = [
            &[0, 1, 2, 3, 4, 5, 6],
            &[0, 2, 3, 5],
            &[0, 2, 3, 5],
            &[1, 2, 5, 6],
            &[2],
        ];
        for (k, free) in free_sets.iter().enumerate() {
            let (s, y) = pair(k, n);
            solver.theta = dot(&y, &y) / dot(&s, &y);
            let sy = dot(&s, &y);
            solver.mem.push(s, y, sy);
            assert!(solver.refresh_compact());
            let iwhere: Vec<Where> = (0..n)
                .map(|i| {
                    if free.contains(&i) {
                        Where::Free
                    } else {
                        Where::AtLower
                    }
                })
                .collect();
            solver.kmat.freev(&iwhere, k > 0);
            let active: Vec<usize> = (0..n).rev().filter(|i| !free.contains(i)).collect();
            let shifted = solver.mem.updates > m;
            assert!(solver.kmat.formk(&solver.cm, free, &active, true, shifted));

            let cm = &solver.cm;
            let (col, theta) = (cm.col, cm.theta);
            let k2 = 2 * col;
            let mut kmat = m_inverse(&solver.mem, theta);
            for &i in free.iter() {
                let row = cm.ys_row(i);
                let w: Vec<f64> = (0..k2)
                    .map(|a| if a < col { row[a] } else { theta * row[a] })
                    .collect();
                for a in 0..k2 {
                    for b in 0..k2 {
                        kmat[a * k2 + b] -= w[a] * w[b] / theta;
                    }
                }
            }
            let b = vector(20 + k, k2);
            let mut x = b.clone();
            dtrsl_trans(&solver.kmat.wn, k2, k2, &mut x);
            for v in &mut x[..col] {
                *v = -*v;
            }
            dtrsl(&solver.kmat.wn, k2, k2, &mut x);
            for (got, want) in mat_vec(&kmat, &x).iter().zip(&b) {
                assert!(
                    (got - want).abs() < 1e-10 * (1.0 + want.abs()),
                    "step {k}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn formk_measures_changes_against_the_last_freev_like_the_reference() {
        // Variable 0 is held at a bound; the steps move only it. Two runs:
        // one where variables 1-3 are free at both updates, and one (as in
        // tridiag20_mixed) where no variable is free after the first
        // update, so formk is skipped then, and 1-3 are free after the
        // second. In the second run the reference code corrects products
        // for pair 1 that were never formed: S'AA'S gets 0 instead of
        // s_1's_1 = 1 and the factorisation fails, which clears the memory.
        let n = 4;
        let pairs = [
            (vec![1.0, 0.0, 0.0, 0.0], vec![1.0, 0.5, 0.5, 0.5]),
            (vec![2.0, 0.0, 0.0, 0.0], vec![2.0, 0.3, -0.2, 0.1]),
        ];
        let held = vec![Where::AtLower; n];
        let mut some_free = held.clone();
        some_free[1..].fill(Where::Free);
        let run = |first: &[Where]| -> bool {
            let mut solver = LBFGSB::new(Bounds::unbounded(n)).with_memory(2).unwrap();
            solver.kmat.freev(&held, false);
            let mut ok = true;
            let mut before = &held[..];
            for (k, (s, y)) in pairs.iter().enumerate() {
                solver.theta = dot(y, y) / dot(s, y);
                solver.mem.push(s.clone(), y.clone(), dot(s, y));
                assert!(solver.refresh_compact());
                let iwhere = if k == 0 { first } else { &some_free[..] };
                assert_eq!(solver.kmat.freev(iwhere, true), iwhere != before);
                before = iwhere;
                let free: Vec<usize> = (0..n).filter(|&i| iwhere[i].is_free()).collect();
                let active: Vec<usize> = (0..n).rev().filter(|&i| !iwhere[i].is_free()).collect();
                if !free.is_empty() {
                    ok = solver.kmat.formk(&solver.cm, &free, &active, true, false);
                }
            }
            ok
        };
        assert!(run(&some_free), "K is nonsingular: B is positive definite");
        assert!(!run(&held), "the reference's stale products");
    }

    #[test]
    fn kept_products_equal_recomputed_ones_after_the_memory_wraps() {
        let (m, n) = (3, 5);
        let mut mem = Memory::new(m);
        for k in 0..7 {
            let (s, y) = (vector(2 * k, n), vector(2 * k + 1, n));
            let sy = dot(&s, &y);
            mem.push(s, y, sy);
            assert_eq!(mem.len(), (k + 1).min(m));
            // The pairs kept are the newest ones, oldest first.
            assert_eq!(mem.s[mem.len() - 1], vector(2 * k, n));
            for i in 0..mem.len() {
                for j in 0..=i {
                    assert_eq!(mem.sy(i, j), dot(&mem.s[i], &mem.y[j]), "sy({i},{j})");
                    assert_eq!(mem.ss(j, i), dot(&mem.s[j], &mem.s[i]), "ss({j},{i})");
                }
            }
        }
    }
}
