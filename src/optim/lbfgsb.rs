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
//!    strictly lower triangle of `S'Y`), so each segment costs `O(m^2)`.
//!    Variables that reached a bound at the Cauchy point are held there.
//! 2. **Subspace minimization** over the free variables `F` (direct primal
//!    method): the Newton step of the model restricted to `F`,
//!    `d = B_F^-1 r` with `r = -Z'(g + B (x_c - x_k))`, computed with the
//!    Sherman-Morrison-Woodbury formula
//!    `B_F^-1 = I/theta + W_F (M^-1 - W_F'W_F/theta)^-1 W_F' / theta^2`.
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

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

use std::collections::VecDeque;

use argmin::core::{
    CostFunction, Error, Gradient, IterState, Problem, Solver, TerminationReason,
    TerminationStatus, KV,
};

use super::linalg::{dot, Lu, Matrix};
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
    mem: Memory,
    theta: f64,
    iwhere: Vec<Where>,
    /// The compact form of `mem`, rebuilt at the start of each iteration
    /// into the same buffers.
    cm: Compact,
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
}

impl Memory {
    fn new(m: usize) -> Self {
        Memory {
            m,
            s: VecDeque::with_capacity(m + 1),
            y: VecDeque::with_capacity(m + 1),
            sy: vec![0.0; m * m],
            ss: vec![0.0; m * m],
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
    }
}

/// The compact representation `B = theta I - W M W'` for the current memory.
#[derive(Debug, Clone, Default)]
struct Compact {
    col: usize,
    theta: f64,
    /// `W = [Y, theta S]` stored by rows (`n x 2col`): the Cauchy search and
    /// the subspace step read one row per variable, so a row is a slice.
    w: Vec<f64>,
    /// `M^-1 = [[-D, L'], [L, theta S'S]]`, size `2 col`.
    minv: Matrix,
    /// Its factorisation, to apply `M`.
    m_lu: Lu,
}

impl Compact {
    /// Row `i` of `W = [Y, theta S]`.
    fn w_row(&self, i: usize) -> &[f64] {
        let k2 = 2 * self.col;
        &self.w[i * k2..(i + 1) * k2]
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
    /// `M v` for the current `v` (size `2 col`).
    mv: Vec<f64>,
    /// Breakpoints `(t, variable)` of the Cauchy path.
    breaks: Vec<(f64, usize)>,
    /// The free variables at the Cauchy point.
    free: Vec<usize>,
    /// The reduced gradient of the model at the Cauchy point, one entry
    /// per free variable.
    r: Vec<f64>,
    /// The subspace step, one entry per free variable.
    du: Vec<f64>,
    /// `W_F'r`.
    wtr: Vec<f64>,
    /// `W_F'W_F` (upper triangle).
    gram: Vec<f64>,
    /// `K = M^-1 - W_F'W_F / theta` and its factorisation.
    k: Matrix,
    k_lu: Lu,
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
            mem: Memory::new(10),
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

    /// Rebuilds `self.cm` (`W`, `M^-1` and its factorisation) from the
    /// stored pairs and their kept inner products; `false` when `M^-1` is
    /// singular. The memory must not be empty.
    fn refresh_compact(&mut self) -> bool {
        let mem = &self.mem;
        let col = mem.len();
        let k2 = 2 * col;
        let n = mem.s[0].len();
        let theta = self.theta;
        let cm = &mut self.cm;
        cm.col = col;
        cm.theta = theta;
        let minv = &mut cm.minv;
        minv.reset(k2);
        for i in 0..col {
            for j in 0..col {
                if i == j {
                    minv.set(i, i, -mem.sy(i, i));
                } else if i > j {
                    // L (lower-left block) and L' (upper-right block).
                    let sy = mem.sy(i, j);
                    minv.set(col + i, j, sy);
                    minv.set(j, col + i, sy);
                }
                if i <= j {
                    let ss = theta * mem.ss(i, j);
                    minv.set(col + i, col + j, ss);
                    minv.set(col + j, col + i, ss);
                }
            }
        }
        cm.w.clear();
        cm.w.resize(n * k2, 0.0);
        for (i, row) in cm.w.chunks_exact_mut(k2).enumerate() {
            for (j, (s, y)) in mem.s.iter().zip(&mem.y).enumerate() {
                row[j] = y[i];
                row[col + j] = theta * s[i];
            }
        }
        cm.m_lu.factor(&cm.minv)
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
            // p = W'd, accumulated row by row.
            for (pj, wj) in p.iter_mut().zip(cm.w_row(i)) {
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
    if breaks.is_empty() && n_unbroken == 0 {
        return 0;
    }
    // f1 = g'd = -|d|^2 is the slope, f2 = d'Bd the curvature, of the
    // model along the first segment.
    let mut f2 = -theta * f1;
    let f2_org = f2;
    if let Some(cm) = cm {
        cm.m_lu.solve_into(p, mv);
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
            let wrow = cm.w_row(ibp);
            cm.m_lu.solve_into(wrow, mv);
            let wmc = dot(c, mv);
            let wmp = dot(p, mv);
            let wmw = dot(wrow, mv);
            for (pj, wj) in p.iter_mut().zip(wrow) {
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

/// Direct primal subspace minimization from the Cauchy point `ws.xcp`
/// over the free variables `ws.free`, with the Morales-Nocedal projection
/// (`cmprlb` + `subsm`), into `ws.xhat`. Returns `false` when the reduced
/// system is singular or the step is not finite.
fn subspace_min(bounds: &Bounds, cm: &Compact, ws: &mut Scratch, x: &[f64], g: &[f64]) -> bool {
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
        wtr,
        gram,
        k,
        k_lu,
        xhat,
        ..
    } = ws;
    // r = -Z'(g + theta (xcp - x) - W M c).
    zero(mv, k2);
    cm.m_lu.solve_into(c, mv);
    r.clear();
    r.extend(
        free.iter()
            .map(|&i| -theta * (xcp[i] - x[i]) - g[i] + dot(cm.w_row(i), mv)),
    );
    // K = M^-1 - W_F'W_F / theta. The Gram matrix is accumulated one free
    // row at a time, so the inner loop runs over contiguous memory; each
    // entry still adds its products in the order of the free variables,
    // starting from -0.0 (the exact additive identity), so the sums are
    // exactly those of summing each entry's products on its own.
    gram.clear();
    gram.resize(k2 * k2, -0.0);
    for &i in free.iter() {
        let w = cm.w_row(i);
        for a in 0..k2 {
            let wa = w[a];
            for (gab, wb) in gram[a * k2 + a..(a + 1) * k2].iter_mut().zip(&w[a..]) {
                *gab += wa * wb;
            }
        }
    }
    k.copy_from(&cm.minv);
    for a in 0..k2 {
        for b in a..k2 {
            let s = gram[a * k2 + b] / theta;
            k.set(a, b, k.get(a, b) - s);
            if b != a {
                k.set(b, a, k.get(b, a) - s);
            }
        }
    }
    if !k_lu.factor(k) {
        return false;
    }
    // d = r / theta + W_F K^-1 W_F' r / theta^2.
    zero(wtr, k2);
    for (&i, ri) in free.iter().zip(r.iter()) {
        for (acc, wj) in wtr.iter_mut().zip(cm.w_row(i)) {
            *acc += wj * ri;
        }
    }
    k_lu.solve_into(wtr, mv);
    du.clear();
    du.extend(
        free.iter()
            .zip(r.iter())
            .map(|(&i, ri)| ri / theta + dot(cm.w_row(i), mv) / (theta * theta)),
    );
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
        if pg <= self.pgtol {
            self.finish(TerminationReason::SolverConverged, MSG_PGTOL);
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
            let nseg = match cm {
                Some(cm) if !self.bounds.is_constrained() => {
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
            let iwhere = &self.iwhere;
            let free = &mut self.scratch.free;
            free.clear();
            free.extend((0..n).filter(|&i| iwhere[i].is_free()));
            let nfree = free.len();
            // 2.-3. Subspace minimization with the projection fix.
            match cm {
                Some(cm) if nfree > 0 => {
                    if !subspace_min(&self.bounds, cm, &mut self.scratch, &cur.x, &cur.g) {
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
        let fold = cur.f;
        let mut updated = false;
        if self.evals > self.max_evals {
            self.finish(TerminationReason::SolverExit(MSG_MAXFUN.into()), MSG_MAXFUN);
        } else if pg <= self.pgtol {
            self.finish(TerminationReason::SolverConverged, MSG_PGTOL);
        } else if fold - next.f <= self.ftol * fold.abs().max(next.f.abs()).max(1.0) {
            self.finish(TerminationReason::SolverConverged, MSG_FTOL);
        } else {
            let s: Vec<f64> = next.x.iter().zip(&cur.x).map(|(a, b)| a - b).collect();
            let y: Vec<f64> = next.g.iter().zip(&cur.g).map(|(a, b)| a - b).collect();
            let sy = dot(&s, &y);
            let minus_gs = -dot(&cur.g, &s);
            if sy <= f64::EPSILON * minus_gs {
                self.skipped += 1;
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
