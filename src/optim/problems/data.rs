//! Data-fitting problems on seeded synthetic data sets: losses that are
//! means over samples, so the stochastic methods apply.

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

use argmin::core::Error;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::TestProblem;
use crate::optim::linalg::{cholesky, cholesky_solve, dot, Matrix};
use crate::optim::newton::modified_newton_direction;
use crate::optim::numerics::log_sum_exp;
use crate::optim::sgd::SumOfLosses;

fn normal_matrix(rng: &mut StdRng, m: usize, n: usize) -> Vec<Vec<f64>> {
    (0..m)
        .map(|_| (0..n).map(|_| StandardNormal.sample(rng)).collect())
        .collect()
}

/// Linear least squares `f(x) = 1/(2m) |A x - b|^2` with `A` (m x n) and
/// `x_true` standard normal and `b = A x_true + 0.1 e`, `e` standard normal,
/// all from a seeded RNG. Minimum at the solution of the normal equations
/// `A'A x = A'b`, computed by Cholesky at construction.
#[derive(Debug, Clone)]
pub struct LinearLeastSquares {
    a: Vec<Vec<f64>>,
    b: Vec<f64>,
    solution: Vec<f64>,
}

impl LinearLeastSquares {
    /// `m` samples, `n` unknowns, data from `seed`.
    pub fn new(m: usize, n: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let a = normal_matrix(&mut rng, m, n);
        let x_true: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let b: Vec<f64> = a
            .iter()
            .map(|row| {
                let noise: f64 = StandardNormal.sample(&mut rng);
                dot(row, &x_true) + 0.1 * noise
            })
            .collect();
        let mut ata = Matrix::zeros(n);
        let mut atb = vec![0.0; n];
        for (row, bi) in a.iter().zip(&b) {
            for i in 0..n {
                atb[i] += row[i] * bi;
                for j in 0..n {
                    ata.set(i, j, ata.get(i, j) + row[i] * row[j]);
                }
            }
        }
        // A'A is positive definite for a Gaussian A with m >= n (with
        // probability one); NaN marks the degenerate case m < n.
        let solution = cholesky(&ata)
            .map(|l| cholesky_solve(&l, &atb))
            .unwrap_or_else(|| vec![f64::NAN; n]);
        LinearLeastSquares { a, b, solution }
    }

    /// The normal-equations solution.
    pub fn solution(&self) -> &[f64] {
        &self.solution
    }

    fn residual(&self, x: &[f64], i: usize) -> f64 {
        dot(&self.a[i], x) - self.b[i]
    }
}

impl SumOfLosses for LinearLeastSquares {
    fn n_samples(&self) -> usize {
        self.a.len()
    }
    // f_I = 1/(2|I|) sum_{i in I} r_i^2
    fn batch_cost(&self, x: &[f64], idx: &[usize]) -> Result<f64, Error> {
        let s: f64 = idx.iter().map(|&i| self.residual(x, i).powi(2)).sum();
        Ok(0.5 * s / idx.len().max(1) as f64)
    }
    // grad f_I = 1/|I| sum r_i a_i
    fn batch_gradient(&self, x: &[f64], idx: &[usize]) -> Result<Vec<f64>, Error> {
        let mut g = vec![0.0; x.len()];
        for &i in idx {
            let r = self.residual(x, i);
            for (gj, aij) in g.iter_mut().zip(&self.a[i]) {
                *gj += r * aij;
            }
        }
        let k = idx.len().max(1) as f64;
        Ok(g.into_iter().map(|v| v / k).collect())
    }
}

impl TestProblem for LinearLeastSquares {
    fn name(&self) -> &str {
        "least-squares"
    }
    fn dim(&self) -> usize {
        self.solution.len()
    }
    fn x0(&self) -> Vec<f64> {
        vec![0.0; self.dim()]
    }
    fn minima(&self) -> Vec<Vec<f64>> {
        vec![self.solution.clone()]
    }
    fn min_value(&self) -> Option<f64> {
        let all: Vec<usize> = (0..self.a.len()).collect();
        self.batch_cost(&self.solution, &all).ok()
    }
    fn cost(&self, x: &[f64]) -> Result<f64, Error> {
        let all: Vec<usize> = (0..self.a.len()).collect();
        self.batch_cost(x, &all)
    }
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        let all: Vec<usize> = (0..self.a.len()).collect();
        self.batch_gradient(x, &all)
    }
    // H = A'A / m
    fn hessian(&self, _x: &[f64]) -> Option<Result<Vec<Vec<f64>>, Error>> {
        let n = self.dim();
        let m = self.a.len() as f64;
        let mut h = vec![vec![0.0; n]; n];
        for row in &self.a {
            for i in 0..n {
                for j in 0..n {
                    h[i][j] += row[i] * row[j] / m;
                }
            }
        }
        Some(Ok(h))
    }
    fn as_sum(&self) -> Option<&dyn SumOfLosses> {
        Some(self)
    }
}

/// L2-regularised logistic regression,
/// `f(w) = 1/m sum_i [log(1 + exp(a_i'w)) - y_i a_i'w] + lambda/2 |w|^2`,
/// `lambda = 1e-3`, on seeded synthetic data: `a_i` standard normal,
/// `y_i ~ Bernoulli(sigmoid(a_i'w_true))`, `w_true` standard normal.
/// Strictly convex; its minimum has no closed form, so it is computed at
/// construction by Newton's method to a gradient norm below 1e-12 (every
/// other solver is checked against that point).
#[derive(Debug, Clone)]
pub struct LogisticRegression {
    a: Vec<Vec<f64>>,
    y: Vec<f64>,
    lambda: f64,
    solution: Vec<f64>,
}

fn sigmoid(z: f64) -> f64 {
    // 0.5 (1 + tanh(z/2)) never overflows.
    0.5 * (1.0 + (0.5 * z).tanh())
}

impl LogisticRegression {
    /// `m` samples, `n` features, data from `seed`.
    pub fn new(m: usize, n: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let a = normal_matrix(&mut rng, m, n);
        let w_true: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let y = a
            .iter()
            .map(|row| {
                let u: f64 = rand::Rng::gen(&mut rng);
                if u < sigmoid(dot(row, &w_true)) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let mut p = LogisticRegression {
            a,
            y,
            lambda: 1e-3,
            solution: vec![0.0; n],
        };
        p.solution = p.newton_solution();
        p
    }

    fn newton_solution(&self) -> Vec<f64> {
        let mut w = vec![0.0; self.a.first().map_or(0, Vec::len)];
        for _ in 0..100 {
            let g = self.full_gradient(&w);
            if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < 1e-12 {
                break;
            }
            let h = self.full_hessian(&w);
            match modified_newton_direction(&h, &g) {
                // The loss is strictly convex, so full Newton steps from 0
                // converge (no line search needed at this conditioning).
                Some((d, _)) => w.iter_mut().zip(&d).for_each(|(wi, di)| *wi += di),
                None => break,
            }
        }
        w
    }

    fn full_gradient(&self, w: &[f64]) -> Vec<f64> {
        let all: Vec<usize> = (0..self.a.len()).collect();
        self.batch_grad(w, &all)
    }

    fn batch_grad(&self, w: &[f64], idx: &[usize]) -> Vec<f64> {
        let mut g: Vec<f64> = w.iter().map(|wi| self.lambda * wi).collect();
        let k = idx.len().max(1) as f64;
        for &i in idx {
            let s = sigmoid(dot(&self.a[i], w)) - self.y[i];
            for (gj, aij) in g.iter_mut().zip(&self.a[i]) {
                *gj += s * aij / k;
            }
        }
        g
    }

    // H = 1/m sum s_i (1 - s_i) a_i a_i' + lambda I
    fn full_hessian(&self, w: &[f64]) -> Vec<Vec<f64>> {
        let n = w.len();
        let m = self.a.len() as f64;
        let mut h = vec![vec![0.0; n]; n];
        for row in &self.a {
            let s = sigmoid(dot(row, w));
            let c = s * (1.0 - s) / m;
            for i in 0..n {
                for j in 0..n {
                    h[i][j] += c * row[i] * row[j];
                }
            }
        }
        for (i, r) in h.iter_mut().enumerate() {
            r[i] += self.lambda;
        }
        h
    }
}

impl SumOfLosses for LogisticRegression {
    fn n_samples(&self) -> usize {
        self.a.len()
    }
    // log(1 + e^z) = log_sum_exp(0, z): no overflow for large z.
    fn batch_cost(&self, w: &[f64], idx: &[usize]) -> Result<f64, Error> {
        let s: f64 = idx
            .iter()
            .map(|&i| {
                let z = dot(&self.a[i], w);
                log_sum_exp(&[0.0, z]) - self.y[i] * z
            })
            .sum();
        Ok(s / idx.len().max(1) as f64 + 0.5 * self.lambda * dot(w, w))
    }
    // grad = 1/|I| sum (sigmoid(z_i) - y_i) a_i + lambda w
    fn batch_gradient(&self, w: &[f64], idx: &[usize]) -> Result<Vec<f64>, Error> {
        Ok(self.batch_grad(w, idx))
    }
}

impl TestProblem for LogisticRegression {
    fn name(&self) -> &str {
        "logistic"
    }
    fn dim(&self) -> usize {
        self.solution.len()
    }
    fn x0(&self) -> Vec<f64> {
        vec![0.0; self.dim()]
    }
    fn minima(&self) -> Vec<Vec<f64>> {
        vec![self.solution.clone()]
    }
    fn min_value(&self) -> Option<f64> {
        self.cost(&self.solution).ok()
    }
    fn cost(&self, w: &[f64]) -> Result<f64, Error> {
        let all: Vec<usize> = (0..self.a.len()).collect();
        self.batch_cost(w, &all)
    }
    fn gradient(&self, w: &[f64]) -> Result<Vec<f64>, Error> {
        Ok(self.full_gradient(w))
    }
    fn hessian(&self, w: &[f64]) -> Option<Result<Vec<Vec<f64>>, Error>> {
        Some(Ok(self.full_hessian(w)))
    }
    fn as_sum(&self) -> Option<&dyn SumOfLosses> {
        Some(self)
    }
}
