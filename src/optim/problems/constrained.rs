//! Constrained test problems with published solutions, for the
//! [`AugLag`](crate::optim::AugLag) solver: each is an [`Nlp`] (objective,
//! gradient, equality constraints `g(x) = 0`, inequality constraints
//! `h(x) <= 0`, a box) with its known optimum in its doc. [`by_name`] gets
//! them by the names in [`NAMES`].

use argmin::core::{CostFunction, Error, Gradient};

use crate::optim::expr::{Expr, ParseError};
use crate::optim::{Bounds, Constraints, OptimError};

/// A scalar function of `x`.
pub type Scalar = Box<dyn Fn(&[f64]) -> f64 + Send + Sync>;
/// A vector function of `x` (a gradient).
pub type Vector = Box<dyn Fn(&[f64]) -> Vec<f64> + Send + Sync>;

/// One smooth constraint: its value and gradient.
pub struct Constraint {
    /// The constraint function.
    pub value: Scalar,
    /// Its gradient.
    pub gradient: Vector,
}

impl Constraint {
    /// A constraint from its value and gradient.
    pub fn new(
        value: impl Fn(&[f64]) -> f64 + Send + Sync + 'static,
        gradient: impl Fn(&[f64]) -> Vec<f64> + Send + Sync + 'static,
    ) -> Self {
        Constraint {
            value: Box::new(value),
            gradient: Box::new(gradient),
        }
    }
}

/// A nonlinear program `min f(x)` s.t. `g(x) = 0`, `h(x) <= 0`, `x` in the box.
pub struct Nlp {
    /// Registry name.
    pub name: &'static str,
    /// The customary start point.
    pub x0: Vec<f64>,
    /// The box.
    pub bounds: Bounds,
    /// The objective.
    pub f: Scalar,
    /// Its gradient.
    pub grad: Vector,
    /// Equality constraints `g_i(x) = 0`.
    pub eq: Vec<Constraint>,
    /// Inequality constraints `h_j(x) <= 0`.
    pub ineq: Vec<Constraint>,
    /// The published minimiser.
    pub x_star: Vec<f64>,
    /// The published minimum.
    pub f_star: f64,
}

impl std::fmt::Debug for Nlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nlp({})", self.name)
    }
}

impl CostFunction for Nlp {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok((self.f)(x))
    }
}

impl Gradient for Nlp {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok((self.grad)(x))
    }
}

impl Constraints for Nlp {
    fn n_eq(&self) -> usize {
        self.eq.len()
    }
    fn n_ineq(&self) -> usize {
        self.ineq.len()
    }
    fn equalities(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        Ok(self.eq.iter().map(|c| (c.value)(x)).collect())
    }
    fn equality_jacobian(&self, x: &[f64]) -> Result<Vec<Vec<f64>>, Error> {
        Ok(self.eq.iter().map(|c| (c.gradient)(x)).collect())
    }
    fn inequalities(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        Ok(self.ineq.iter().map(|c| (c.value)(x)).collect())
    }
    fn inequality_jacobian(&self, x: &[f64]) -> Result<Vec<Vec<f64>>, Error> {
        Ok(self.ineq.iter().map(|c| (c.gradient)(x)).collect())
    }
}

/// Which expression of a typed-in problem an [`ExprError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprRole {
    /// The objective.
    Objective,
    /// The equality constraint of this 0-based index.
    Eq(usize),
    /// The inequality constraint of this 0-based index.
    Ineq(usize),
}

/// A typed-in expression that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct ExprError {
    /// Which expression.
    pub role: ExprRole,
    /// Where and why.
    pub error: ParseError,
}

impl Nlp {
    /// A problem typed in the [`expr`](crate::optim::expr) syntax: the
    /// objective, equality constraints `g(x) = 0` and inequality constraints
    /// `h(x) <= 0`, with exact gradients. The dimension is one more than the
    /// largest variable index any expression uses, or `dim` when that is
    /// larger; the start is the origin, the box unbounded (callers override
    /// both), and the optimum is unknown (`x_star` empty, `f_star` NaN).
    pub fn from_expressions(
        objective: &str,
        eq: &[String],
        ineq: &[String],
        dim: Option<usize>,
    ) -> Result<Nlp, ExprError> {
        let parse = |s: &str, role| Expr::parse(s).map_err(|error| ExprError { role, error });
        let f = parse(objective, ExprRole::Objective)?;
        let eq = eq
            .iter()
            .enumerate()
            .map(|(i, s)| parse(s, ExprRole::Eq(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let ineq = ineq
            .iter()
            .enumerate()
            .map(|(i, s)| parse(s, ExprRole::Ineq(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let n = eq
            .iter()
            .chain(&ineq)
            .map(Expr::n_vars)
            .fold(f.n_vars(), usize::max)
            .max(dim.unwrap_or(0));
        let constraint = |e: Expr| {
            let g = e.clone();
            Constraint::new(move |x| e.value(x), move |x| g.gradient(x))
        };
        let g = f.clone();
        Ok(Nlp {
            name: "expression",
            x0: vec![0.0; n],
            bounds: Bounds::unbounded(n),
            f: Box::new(move |x| f.value(x)),
            grad: Box::new(move |x| g.gradient(x)),
            eq: eq.into_iter().map(constraint).collect(),
            ineq: ineq.into_iter().map(constraint).collect(),
            x_star: Vec::new(),
            f_star: f64::NAN,
        })
    }
}

/// Names [`by_name`] knows.
pub const NAMES: &[&str] = &["ball-lsq", "hs6", "hs7", "hs71", "hs100"];

/// The constrained problem called `name`.
pub fn by_name(name: &str) -> Result<Nlp, OptimError> {
    match name.to_ascii_lowercase().as_str() {
        "ball-lsq" => Ok(ball_least_squares()),
        "hs6" => Ok(hs6()),
        "hs7" => Ok(hs7()),
        "hs71" => Ok(hs71()),
        "hs100" => Ok(hs100()),
        _ => Err(OptimError::UnknownProblem {
            name: name.to_string(),
            known: NAMES.join(", "),
        }),
    }
}

const A: [[f64; 3]; 3] = [[1.0, -2.0, 1.0], [0.0, 2.0, -8.0], [-4.0, 5.0, 9.0]];
const B: [f64; 3] = [0.0, 8.0, -9.0];

fn residual(x: &[f64]) -> [f64; 3] {
    let mut r = [0.0; 3];
    for i in 0..3 {
        r[i] = (0..3).map(|j| A[i][j] * x[j]).sum::<f64>() - B[i];
    }
    r
}

/// Least squares in the unit ball: `min 1/2 |Ax - b|^2` s.t. `x'x <= 1`,
/// `A = [[1,-2,1],[0,2,-8],[-4,5,9]]`, `b = [0,8,-9]`, from the origin.
/// KKT point `(0.349246, 0.114607, -0.929996)` with multiplier `0.04914`
/// on `h = x'x - 1` (scipy SLSQP and the trust-region secular equation,
/// `(A'A + 2 mu I) x = A'b`, `|x| = 1`, agree to 1e-8).
pub fn ball_least_squares() -> Nlp {
    Nlp {
        name: "ball-lsq",
        x0: vec![0.0; 3],
        bounds: Bounds::unbounded(3),
        f: Box::new(|x| 0.5 * residual(x).iter().map(|r| r * r).sum::<f64>()),
        grad: Box::new(|x| {
            let r = residual(x);
            (0..3)
                .map(|j| (0..3).map(|i| A[i][j] * r[i]).sum())
                .collect()
        }),
        eq: Vec::new(),
        ineq: vec![Constraint::new(
            |x| x.iter().map(|v| v * v).sum::<f64>() - 1.0,
            |x| x.iter().map(|v| 2.0 * v).collect(),
        )],
        x_star: vec![0.349246, 0.114607, -0.929996],
        // f at the listed x*.
        f_star: 0.401542241,
    }
}

/// Hock & Schittkowski problem 6: `min (1 - x1)^2` s.t.
/// `10 (x2 - x1^2) = 0`, from `(-1.2, 1)`; `x* = (1, 1)`, `f* = 0`.
pub fn hs6() -> Nlp {
    Nlp {
        name: "hs6",
        x0: vec![-1.2, 1.0],
        bounds: Bounds::unbounded(2),
        f: Box::new(|x| (1.0 - x[0]).powi(2)),
        grad: Box::new(|x| vec![-2.0 * (1.0 - x[0]), 0.0]),
        eq: vec![Constraint::new(
            |x| 10.0 * (x[1] - x[0] * x[0]),
            |x| vec![-20.0 * x[0], 10.0],
        )],
        ineq: Vec::new(),
        x_star: vec![1.0, 1.0],
        f_star: 0.0,
    }
}

/// Hock & Schittkowski problem 7: `min ln(1 + x1^2) - x2` s.t.
/// `(1 + x1^2)^2 + x2^2 - 4 = 0`, from `(2, 2)`; `x* = (0, sqrt 3)`,
/// `f* = -sqrt 3`.
pub fn hs7() -> Nlp {
    Nlp {
        name: "hs7",
        x0: vec![2.0, 2.0],
        bounds: Bounds::unbounded(2),
        f: Box::new(|x| (1.0 + x[0] * x[0]).ln() - x[1]),
        grad: Box::new(|x| vec![2.0 * x[0] / (1.0 + x[0] * x[0]), -1.0]),
        eq: vec![Constraint::new(
            |x| (1.0 + x[0] * x[0]).powi(2) + x[1] * x[1] - 4.0,
            |x| vec![4.0 * x[0] * (1.0 + x[0] * x[0]), 2.0 * x[1]],
        )],
        ineq: Vec::new(),
        x_star: vec![0.0, 3f64.sqrt()],
        f_star: -(3f64.sqrt()),
    }
}

/// Hock & Schittkowski problem 71: `min x1 x4 (x1 + x2 + x3) + x3` s.t.
/// `x1 x2 x3 x4 >= 25`, `x1^2 + x2^2 + x3^2 + x4^2 = 40`, `1 <= x <= 5`,
/// from `(1, 5, 5, 1)`; `x* = (1, 4.7429994, 3.8211503, 1.3794082)`,
/// `f* = 17.0140173`.
pub fn hs71() -> Nlp {
    let bounds = Bounds::uniform(4, 1.0, 5.0).unwrap_or_else(|_| Bounds::unbounded(4));
    Nlp {
        name: "hs71",
        x0: vec![1.0, 5.0, 5.0, 1.0],
        bounds,
        f: Box::new(|x| x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2]),
        grad: Box::new(|x| {
            vec![
                x[3] * (2.0 * x[0] + x[1] + x[2]),
                x[0] * x[3],
                x[0] * x[3] + 1.0,
                x[0] * (x[0] + x[1] + x[2]),
            ]
        }),
        eq: vec![Constraint::new(
            |x| x.iter().map(|v| v * v).sum::<f64>() - 40.0,
            |x| x.iter().map(|v| 2.0 * v).collect(),
        )],
        ineq: vec![Constraint::new(
            |x| 25.0 - x[0] * x[1] * x[2] * x[3],
            |x| {
                vec![
                    -x[1] * x[2] * x[3],
                    -x[0] * x[2] * x[3],
                    -x[0] * x[1] * x[3],
                    -x[0] * x[1] * x[2],
                ]
            },
        )],
        x_star: vec![1.0, 4.7429994, 3.8211503, 1.3794082],
        f_star: 17.0140173,
    }
}

/// Hock & Schittkowski problem 100:
/// `min (x1-10)^2 + 5(x2-12)^2 + x3^4 + 3(x4-11)^2 + 10 x5^6 + 7 x6^2 + x7^4 - 4 x6 x7 - 10 x6 - 8 x7`
/// s.t. `127 - 2x1^2 - 3x2^4 - x3 - 4x4^2 - 5x5 >= 0`,
/// `282 - 7x1 - 3x2 - 10x3^2 - x4 + x5 >= 0`,
/// `196 - 23x1 - x2^2 - 6x6^2 + 8x7 >= 0`,
/// `-4x1^2 - x2^2 + 3x1x2 - 2x3^2 - 5x6 + 11x7 >= 0`, from
/// `(1, 2, 0, 4, 0, 1, 1)`; `f* = 680.6300573` at
/// `x* = (2.330499, 1.951372, -0.4775414, 4.365726, -0.6244870, 1.038131, 1.594227)`.
pub fn hs100() -> Nlp {
    Nlp {
        name: "hs100",
        x0: vec![1.0, 2.0, 0.0, 4.0, 0.0, 1.0, 1.0],
        bounds: Bounds::unbounded(7),
        f: Box::new(|x| {
            (x[0] - 10.0).powi(2)
                + 5.0 * (x[1] - 12.0).powi(2)
                + x[2].powi(4)
                + 3.0 * (x[3] - 11.0).powi(2)
                + 10.0 * x[4].powi(6)
                + 7.0 * x[5].powi(2)
                + x[6].powi(4)
                - 4.0 * x[5] * x[6]
                - 10.0 * x[5]
                - 8.0 * x[6]
        }),
        grad: Box::new(|x| {
            vec![
                2.0 * (x[0] - 10.0),
                10.0 * (x[1] - 12.0),
                4.0 * x[2].powi(3),
                6.0 * (x[3] - 11.0),
                60.0 * x[4].powi(5),
                14.0 * x[5] - 4.0 * x[6] - 10.0,
                4.0 * x[6].powi(3) - 4.0 * x[5] - 8.0,
            ]
        }),
        eq: Vec::new(),
        // Written as h <= 0: the negated HS forms.
        ineq: vec![
            Constraint::new(
                |x| {
                    -(127.0
                        - 2.0 * x[0] * x[0]
                        - 3.0 * x[1].powi(4)
                        - x[2]
                        - 4.0 * x[3] * x[3]
                        - 5.0 * x[4])
                },
                |x| {
                    vec![
                        4.0 * x[0],
                        12.0 * x[1].powi(3),
                        1.0,
                        8.0 * x[3],
                        5.0,
                        0.0,
                        0.0,
                    ]
                },
            ),
            Constraint::new(
                |x| -(282.0 - 7.0 * x[0] - 3.0 * x[1] - 10.0 * x[2] * x[2] - x[3] + x[4]),
                |_x| vec![7.0, 3.0, 20.0 * _x[2], 1.0, -1.0, 0.0, 0.0],
            ),
            Constraint::new(
                |x| -(196.0 - 23.0 * x[0] - x[1] * x[1] - 6.0 * x[5] * x[5] + 8.0 * x[6]),
                |x| vec![23.0, 2.0 * x[1], 0.0, 0.0, 0.0, 12.0 * x[5], -8.0],
            ),
            Constraint::new(
                |x| {
                    -(-4.0 * x[0] * x[0] - x[1] * x[1] + 3.0 * x[0] * x[1]
                        - 2.0 * x[2] * x[2]
                        - 5.0 * x[5]
                        + 11.0 * x[6])
                },
                |x| {
                    vec![
                        8.0 * x[0] - 3.0 * x[1],
                        2.0 * x[1] - 3.0 * x[0],
                        4.0 * x[2],
                        0.0,
                        0.0,
                        5.0,
                        -11.0,
                    ]
                },
            ),
        ],
        x_star: vec![
            2.330499, 1.951372, -0.4775414, 4.365726, -0.6244870, 1.038131, 1.594227,
        ],
        f_star: 680.6300573,
    }
}
