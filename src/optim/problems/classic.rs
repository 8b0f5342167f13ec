//! Classic analytic test functions.

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

use argmin::core::Error;

use super::TestProblem;
use crate::optim::OptimError;

/// Quadratic bowl `f(x) = 1/2 sum_i lambda_i (x_i - 1)^2` with
/// `lambda_i = cond^(i/(n-1))` (so the Hessian's condition number is
/// `cond`). Minimum `f = 0` at `x = (1, ..., 1)`; start at the origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Quadratic {
    lambda: Vec<f64>,
}

impl Quadratic {
    /// `n >= 1` variables, condition number `cond >= 1`.
    pub fn new(n: usize, cond: f64) -> Result<Self, OptimError> {
        if !cond.is_finite() || cond < 1.0 {
            return Err(OptimError::InvalidSetting {
                solver: "quadratic",
                setting: "cond",
                value: cond.to_string(),
                problem: "must be finite and >= 1",
            });
        }
        let lambda = (0..n)
            .map(|i| {
                if n == 1 {
                    1.0
                } else {
                    cond.powf(i as f64 / (n - 1) as f64)
                }
            })
            .collect();
        Ok(Quadratic { lambda })
    }

    /// The eigenvalues `lambda_i`.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.lambda
    }
}

impl TestProblem for Quadratic {
    fn name(&self) -> &str {
        "quadratic"
    }
    fn dim(&self) -> usize {
        self.lambda.len()
    }
    fn x0(&self) -> Vec<f64> {
        vec![0.0; self.dim()]
    }
    fn minima(&self) -> Vec<Vec<f64>> {
        vec![vec![1.0; self.dim()]]
    }
    fn min_value(&self) -> Option<f64> {
        Some(0.0)
    }
    fn cost(&self, x: &[f64]) -> Result<f64, Error> {
        Ok(0.5
            * x.iter()
                .zip(&self.lambda)
                .map(|(xi, l)| l * (xi - 1.0).powi(2))
                .sum::<f64>())
    }
    // df/dx_i = lambda_i (x_i - 1)
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        Ok(x.iter()
            .zip(&self.lambda)
            .map(|(xi, l)| l * (xi - 1.0))
            .collect())
    }
    // H = diag(lambda)
    fn hessian(&self, _x: &[f64]) -> Option<Result<Vec<Vec<f64>>, Error>> {
        let n = self.dim();
        Some(Ok((0..n)
            .map(|i| {
                let mut row = vec![0.0; n];
                row[i] = self.lambda[i];
                row
            })
            .collect()))
    }
}

/// Chained Rosenbrock, `f(x) = sum_{i<n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2`
/// (n = 2 is the classic banana). Minimum `f = 0` at `x = (1, ..., 1)`;
/// start at `(-1.2, 1, -1.2, 1, ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rosenbrock {
    n: usize,
}

impl Rosenbrock {
    /// `n >= 2` variables.
    pub fn new(n: usize) -> Self {
        Rosenbrock { n: n.max(2) }
    }
}

impl TestProblem for Rosenbrock {
    fn name(&self) -> &str {
        "rosenbrock"
    }
    fn dim(&self) -> usize {
        self.n
    }
    fn x0(&self) -> Vec<f64> {
        (0..self.n)
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect()
    }
    fn minima(&self) -> Vec<Vec<f64>> {
        vec![vec![1.0; self.n]]
    }
    fn min_value(&self) -> Option<f64> {
        Some(0.0)
    }
    fn cost(&self, x: &[f64]) -> Result<f64, Error> {
        Ok(x.windows(2)
            .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
            .sum())
    }
    // df/dx_i = -400 x_i (x_{i+1} - x_i^2) - 2 (1 - x_i) + 200 (x_i - x_{i-1}^2)
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        let mut g = vec![0.0; x.len()];
        for i in 0..x.len() - 1 {
            let t = x[i + 1] - x[i] * x[i];
            g[i] += -400.0 * x[i] * t - 2.0 * (1.0 - x[i]);
            g[i + 1] += 200.0 * t;
        }
        Ok(g)
    }
    // d2f/dx_i^2 = 1200 x_i^2 - 400 x_{i+1} + 2 (i < n-1) + 200 (i > 0),
    // d2f/dx_i dx_{i+1} = -400 x_i.
    fn hessian(&self, x: &[f64]) -> Option<Result<Vec<Vec<f64>>, Error>> {
        let n = x.len();
        let mut h = vec![vec![0.0; n]; n];
        for i in 0..n - 1 {
            h[i][i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
            h[i + 1][i + 1] += 200.0;
            h[i][i + 1] = -400.0 * x[i];
            h[i + 1][i] = -400.0 * x[i];
        }
        Some(Ok(h))
    }
}

/// Himmelblau, `f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`. Four minima
/// with `f = 0`: (3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186),
/// (3.584428, -1.848126); start at the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Himmelblau;

impl TestProblem for Himmelblau {
    fn name(&self) -> &str {
        "himmelblau"
    }
    fn dim(&self) -> usize {
        2
    }
    fn x0(&self) -> Vec<f64> {
        vec![0.0, 0.0]
    }
    fn minima(&self) -> Vec<Vec<f64>> {
        // The three irrational minima to double precision (roots of the
        // gradient, scipy.optimize.fsolve with xtol 1e-15).
        vec![
            vec![3.0, 2.0],
            vec![-2.805_118_086_952_745, 3.131_312_518_250_573],
            vec![-3.779_310_253_377_747, -3.283_185_991_286_169_6],
            vec![3.584_428_340_330_491_7, -1.848_126_526_964_403_6],
        ]
    }
    fn min_value(&self) -> Option<f64> {
        Some(0.0)
    }
    fn cost(&self, x: &[f64]) -> Result<f64, Error> {
        let a = x[0] * x[0] + x[1] - 11.0;
        let b = x[0] + x[1] * x[1] - 7.0;
        Ok(a * a + b * b)
    }
    // f_x = 4 a x + 2 b, f_y = 2 a + 4 b y
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        let a = x[0] * x[0] + x[1] - 11.0;
        let b = x[0] + x[1] * x[1] - 7.0;
        Ok(vec![4.0 * a * x[0] + 2.0 * b, 2.0 * a + 4.0 * b * x[1]])
    }
    // f_xx = 4 a + 8 x^2 + 2, f_xy = 4 (x + y), f_yy = 4 b + 8 y^2 + 2
    fn hessian(&self, x: &[f64]) -> Option<Result<Vec<Vec<f64>>, Error>> {
        let a = x[0] * x[0] + x[1] - 11.0;
        let b = x[0] + x[1] * x[1] - 7.0;
        let xy = 4.0 * (x[0] + x[1]);
        Some(Ok(vec![
            vec![4.0 * a + 8.0 * x[0] * x[0] + 2.0, xy],
            vec![xy, 4.0 * b + 8.0 * x[1] * x[1] + 2.0],
        ]))
    }
}

/// Beale, `f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2`.
/// Minimum `f = 0` at (3, 0.5); start at (1, 1). (Hessian by finite
/// differences.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beale;

impl TestProblem for Beale {
    fn name(&self) -> &str {
        "beale"
    }
    fn dim(&self) -> usize {
        2
    }
    fn x0(&self) -> Vec<f64> {
        vec![1.0, 1.0]
    }
    fn minima(&self) -> Vec<Vec<f64>> {
        vec![vec![3.0, 0.5]]
    }
    fn min_value(&self) -> Option<f64> {
        Some(0.0)
    }
    fn cost(&self, x: &[f64]) -> Result<f64, Error> {
        let (a, b) = (x[0], x[1]);
        Ok((1.5 - a + a * b).powi(2)
            + (2.25 - a + a * b * b).powi(2)
            + (2.625 - a + a * b.powi(3)).powi(2))
    }
    // With t_k = c_k - x + x y^k: f_x = sum 2 t_k (y^k - 1), f_y = sum 2 t_k k x y^(k-1).
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        let (a, b) = (x[0], x[1]);
        let t1 = 1.5 - a + a * b;
        let t2 = 2.25 - a + a * b * b;
        let t3 = 2.625 - a + a * b.powi(3);
        Ok(vec![
            2.0 * t1 * (b - 1.0) + 2.0 * t2 * (b * b - 1.0) + 2.0 * t3 * (b.powi(3) - 1.0),
            2.0 * t1 * a + 4.0 * t2 * a * b + 6.0 * t3 * a * b * b,
        ])
    }
}

/// Booth, `f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2`, a convex quadratic
/// with Hessian [[10, 8], [8, 10]]. Minimum `f = 0` at (1, 3); start at
/// the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booth;

impl TestProblem for Booth {
    fn name(&self) -> &str {
        "booth"
    }
    fn dim(&self) -> usize {
        2
    }
    fn x0(&self) -> Vec<f64> {
        vec![0.0, 0.0]
    }
    fn minima(&self) -> Vec<Vec<f64>> {
        vec![vec![1.0, 3.0]]
    }
    fn min_value(&self) -> Option<f64> {
        Some(0.0)
    }
    fn cost(&self, x: &[f64]) -> Result<f64, Error> {
        Ok((x[0] + 2.0 * x[1] - 7.0).powi(2) + (2.0 * x[0] + x[1] - 5.0).powi(2))
    }
    // f_x = 2a + 4b, f_y = 4a + 2b with a = x + 2y - 7, b = 2x + y - 5
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        let a = x[0] + 2.0 * x[1] - 7.0;
        let b = 2.0 * x[0] + x[1] - 5.0;
        Ok(vec![2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b])
    }
    fn hessian(&self, _x: &[f64]) -> Option<Result<Vec<Vec<f64>>, Error>> {
        Some(Ok(vec![vec![10.0, 8.0], vec![8.0, 10.0]]))
    }
}
