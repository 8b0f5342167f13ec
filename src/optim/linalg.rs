//! Small dense linear algebra for the `2m x 2m` systems of L-BFGS-B and the
//! `n x n` Newton systems. Hand-written because the matrices are tiny and
//! pulling in a linear-algebra crate for LU and Cholesky would cost more in
//! build time than these few lines.

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

/// A square matrix stored row-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matrix {
    pub n: usize,
    pub a: Vec<f64>,
}

impl Matrix {
    pub fn zeros(n: usize) -> Self {
        Matrix {
            n,
            a: vec![0.0; n * n],
        }
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.a[i * self.n + j]
    }

    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.a[i * self.n + j] = v;
    }
}

/// An LU factorisation with partial pivoting, `P A = L U`.
#[derive(Debug, Clone)]
pub(crate) struct Lu {
    lu: Matrix,
    perm: Vec<usize>,
}

impl Lu {
    /// Factorises `a`; `None` when a pivot is zero or not finite, or tiny
    /// relative to the largest entry (numerically singular).
    pub fn new(mut a: Matrix) -> Option<Lu> {
        let n = a.n;
        let scale = a.a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if !scale.is_finite() {
            return None;
        }
        let tiny = scale * f64::EPSILON * (n.max(1) as f64);
        let mut perm: Vec<usize> = (0..n).collect();
        for k in 0..n {
            let (p, pv) = (k..n)
                .map(|i| (i, a.get(i, k).abs()))
                .fold((k, -1.0), |best, c| if c.1 > best.1 { c } else { best });
            if pv.is_nan() || pv <= tiny {
                return None;
            }
            if p != k {
                for j in 0..n {
                    a.a.swap(k * n + j, p * n + j);
                }
                perm.swap(k, p);
            }
            let d = a.get(k, k);
            for i in k + 1..n {
                let l = a.get(i, k) / d;
                a.set(i, k, l);
                for j in k + 1..n {
                    let v = a.get(i, j) - l * a.get(k, j);
                    a.set(i, j, v);
                }
            }
        }
        Some(Lu { lu: a, perm })
    }

    /// Solves `A x = b`.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.lu.n;
        let mut x: Vec<f64> = self.perm.iter().map(|&p| b[p]).collect();
        for i in 0..n {
            let s: f64 = (0..i).map(|j| self.lu.get(i, j) * x[j]).sum();
            x[i] -= s;
        }
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|j| self.lu.get(i, j) * x[j]).sum();
            x[i] = (x[i] - s) / self.lu.get(i, i);
        }
        x
    }
}

/// The Cholesky factor `L` of a symmetric matrix, `A = L L'`; `None` when `A`
/// is not (numerically) positive definite.
pub(crate) fn cholesky(a: &Matrix) -> Option<Matrix> {
    let n = a.n;
    let mut l = Matrix::zeros(n);
    for j in 0..n {
        let s: f64 = (0..j).map(|k| l.get(j, k) * l.get(j, k)).sum();
        let d = a.get(j, j) - s;
        if !d.is_finite() || d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        l.set(j, j, d);
        for i in j + 1..n {
            let s: f64 = (0..j).map(|k| l.get(i, k) * l.get(j, k)).sum();
            l.set(i, j, (a.get(i, j) - s) / d);
        }
    }
    Some(l)
}

/// Solves `L L' x = b` given the Cholesky factor `L`.
pub(crate) fn cholesky_solve(l: &Matrix, b: &[f64]) -> Vec<f64> {
    let n = l.n;
    let mut y = b.to_vec();
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l.get(i, k) * y[k]).sum();
        y[i] = (y[i] - s) / l.get(i, i);
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l.get(k, i) * y[k]).sum();
        y[i] = (y[i] - s) / l.get(i, i);
    }
    y
}

/// Dot product.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn lu_solves_a_pivoting_system() {
        // [0 2; 3 1] x = [4; 5]  ->  x = [1, 2]
        let m = Matrix {
            n: 2,
            a: vec![0.0, 2.0, 3.0, 1.0],
        };
        let x = Lu::new(m).unwrap().solve(&[4.0, 5.0]);
        assert_abs_diff_eq!(x[0], 1.0, epsilon = 1e-15);
        assert_abs_diff_eq!(x[1], 2.0, epsilon = 1e-15);
        assert!(Lu::new(Matrix {
            n: 2,
            a: vec![1.0, 2.0, 2.0, 4.0]
        })
        .is_none());
    }

    #[test]
    fn cholesky_solves_and_rejects_indefinite() {
        let m = Matrix {
            n: 2,
            a: vec![4.0, 2.0, 2.0, 3.0],
        };
        let l = cholesky(&m).unwrap();
        let x = cholesky_solve(&l, &[6.0, 5.0]);
        assert_abs_diff_eq!(x[0], 1.0, epsilon = 1e-14);
        assert_abs_diff_eq!(x[1], 1.0, epsilon = 1e-14);
        let bad = Matrix {
            n: 2,
            a: vec![1.0, 2.0, 2.0, 1.0],
        };
        assert!(cholesky(&bad).is_none());
    }
}
