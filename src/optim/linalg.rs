//! Small dense linear algebra for the `2m x 2m` systems of L-BFGS-B and the
//! `n x n` Newton systems. Hand-written because the matrices are tiny and
//! pulling in a linear-algebra crate for LU and Cholesky would cost more in
//! build time than these few lines.

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

/// A square matrix stored row-major.
#[derive(Debug, Clone, Default, PartialEq)]
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

    /// Makes this the `n x n` zero matrix, reusing the storage (L-BFGS-B
    /// rebuilds its `2m x 2m` matrices every iteration).
    pub fn reset(&mut self, n: usize) {
        self.n = n;
        self.a.clear();
        self.a.resize(n * n, 0.0);
    }

    /// Makes this a copy of `other`, reusing the storage.
    pub fn copy_from(&mut self, other: &Matrix) {
        self.n = other.n;
        self.a.clear();
        self.a.extend_from_slice(&other.a);
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.a[i * self.n + j]
    }

    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.a[i * self.n + j] = v;
    }
}

/// An LU factorisation with partial pivoting, `P A = L U`.
///
/// The loops run over row slices rather than `get`/`set` so that they
/// compile without bounds checks and vectorise; each entry still sees the
/// same operations in the same order as the textbook loops, so results are
/// bit-for-bit those of a straightforward implementation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lu {
    lu: Matrix,
    perm: Vec<usize>,
}

impl Lu {
    /// Factorises a copy of `a` into `self`, reusing its storage; `false`
    /// when a pivot is zero or not finite, or tiny relative to the largest
    /// entry (numerically singular), and then `self` must not be used to
    /// solve until a later factorisation succeeds.
    pub fn factor(&mut self, a: &Matrix) -> bool {
        self.lu.copy_from(a);
        self.factor_in_place()
    }

    fn factor_in_place(&mut self) -> bool {
        let n = self.lu.n;
        let a = &mut self.lu.a;
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if !scale.is_finite() {
            return false;
        }
        let tiny = scale * f64::EPSILON * (n.max(1) as f64);
        self.perm.clear();
        self.perm.extend(0..n);
        for k in 0..n {
            let (p, pv) = (k..n)
                .map(|i| (i, a[i * n + k].abs()))
                .fold((k, -1.0), |best, c| if c.1 > best.1 { c } else { best });
            if pv.is_nan() || pv <= tiny {
                return false;
            }
            if p != k {
                let (upper, lower) = a.split_at_mut(p * n);
                upper[k * n..(k + 1) * n].swap_with_slice(&mut lower[..n]);
                self.perm.swap(k, p);
            }
            // Eliminate column k below the pivot: row_i -= l_i * row_k.
            let (upper, below) = a.split_at_mut((k + 1) * n);
            let pivot_row = &upper[k * n..];
            let d = pivot_row[k];
            for row in below.chunks_exact_mut(n) {
                let l = row[k] / d;
                row[k] = l;
                for (v, &u) in row[k + 1..].iter_mut().zip(&pivot_row[k + 1..]) {
                    *v -= l * u;
                }
            }
        }
        true
    }

    /// Solves `A x = b` into `x` (of the matrix's size), allocating nothing.
    pub fn solve_into(&self, b: &[f64], x: &mut [f64]) {
        let n = self.lu.n;
        if n == 0 {
            return;
        }
        for (xi, &p) in x.iter_mut().zip(&self.perm) {
            *xi = b[p];
        }
        for (i, row) in self.lu.a.chunks_exact(n).enumerate() {
            let (solved, rest) = x.split_at_mut(i);
            let s: f64 = row[..i]
                .iter()
                .zip(solved.iter())
                .map(|(l, xj)| l * xj)
                .sum();
            rest[0] -= s;
        }
        for (i, row) in self.lu.a.chunks_exact(n).enumerate().rev() {
            let (head, solved) = x.split_at_mut(i + 1);
            let s: f64 = row[i + 1..]
                .iter()
                .zip(solved.iter())
                .map(|(u, xj)| u * xj)
                .sum();
            head[i] = (head[i] - s) / row[i];
        }
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
        let mut lu = Lu::default();
        assert!(lu.factor(&m));
        let mut x = [0.0; 2];
        lu.solve_into(&[4.0, 5.0], &mut x);
        assert_abs_diff_eq!(x[0], 1.0, epsilon = 1e-15);
        assert_abs_diff_eq!(x[1], 2.0, epsilon = 1e-15);
        assert!(!lu.factor(&Matrix {
            n: 2,
            a: vec![1.0, 2.0, 2.0, 4.0]
        }));
    }

    #[test]
    fn lu_reused_storage_solves_a_larger_system() {
        // A factorisation reused for a matrix of another size must not
        // keep anything of the old one. A = [[2, 1, 0], [1, 3, 1], [0, 1, 4]],
        // x = [1, -1, 2] gives b = A x = [1, 0, 7].
        let mut lu = Lu::default();
        assert!(lu.factor(&Matrix {
            n: 2,
            a: vec![5.0, 1.0, 1.0, 5.0]
        }));
        let a = Matrix {
            n: 3,
            a: vec![2.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 4.0],
        };
        assert!(lu.factor(&a));
        let mut x = [0.0; 3];
        lu.solve_into(&[1.0, 0.0, 7.0], &mut x);
        for (xi, want) in x.iter().zip([1.0, -1.0, 2.0]) {
            assert_abs_diff_eq!(*xi, want, epsilon = 1e-14);
        }
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
