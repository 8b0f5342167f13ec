//! Small dense linear algebra for the `m x m` and `2m x 2m` systems of
//! L-BFGS-B and the `n x n` Newton systems. Hand-written, although nalgebra
//! is a dependency (for SVDs and eigenvalues in `numerics`), because
//! L-BFGS-B's counts match scipy's only with the reference code's rounding:
//! these kernels keep LINPACK's storage and loop order, which a general
//! crate's factorisations do not.
//!
//! L-BFGS-B's kernels ([`dpofa`], [`dtrsl`], [`dtrsl_trans`]) follow the
//! LINPACK routines of the same names that L-BFGS-B 3.0 calls: column-major
//! storage of an upper triangle with a leading dimension, and the same loop
//! order, so the rounding is that of the reference code.

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

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.a[i * self.n + j]
    }

    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.a[i * self.n + j] = v;
    }
}

/// `dpofa` (LINPACK): Cholesky factorisation `A = R'R` in place, of the
/// symmetric `n x n` matrix whose upper triangle is stored column-major in
/// `a` with leading dimension `lda` (element `(i, j)` at `a[i + j * lda]`, so
/// a trailing block is factored by passing the slice that starts at it).
/// On success the upper triangle holds `R`; the strict lower triangle is
/// never touched. `false` when a leading minor is not positive definite
/// (or not finite), and then `a` is partly overwritten.
///
/// The loop order is LINPACK's (column by column, each entry an inner
/// product of two columns), as L-BFGS-B 3.0's `formt` and `formk` use it.
pub(crate) fn dpofa(a: &mut [f64], lda: usize, n: usize) -> bool {
    for j in 0..n {
        let mut s = 0.0;
        for k in 0..j {
            let (ck, cj) = (k * lda, j * lda);
            let t = a[k + cj] - dot(&a[ck..ck + k], &a[cj..cj + k]);
            let t = t / a[k + ck];
            a[k + cj] = t;
            s += t * t;
        }
        let s = a[j + j * lda] - s;
        // LINPACK stops on s <= 0; a NaN or infinite pivot is no better.
        if !(s > 0.0 && s.is_finite()) {
            return false;
        }
        a[j + j * lda] = s.sqrt();
    }
    true
}

/// `dtrsl` job 11 (LINPACK): solves `R'x = b` in place for the upper
/// triangular `n x n` matrix `R` stored column-major in `r` (leading
/// dimension `ldr`), by forward substitution with column inner products.
/// The diagonal must be nonzero (as it is after a successful [`dpofa`]).
pub(crate) fn dtrsl_trans(r: &[f64], ldr: usize, n: usize, b: &mut [f64]) {
    for j in 0..n {
        let c = j * ldr;
        let s = dot(&r[c..c + j], &b[..j]);
        b[j] = (b[j] - s) / r[j + c];
    }
}

/// `dtrsl` job 01 (LINPACK): solves `R x = b` in place for the upper
/// triangular `R` of [`dtrsl_trans`], by back substitution that subtracts
/// each solved component's column from the rest (LINPACK's `daxpy` order).
pub(crate) fn dtrsl(r: &[f64], ldr: usize, n: usize, b: &mut [f64]) {
    for j in (0..n).rev() {
        let c = j * ldr;
        b[j] /= r[j + c];
        let bj = b[j];
        for (bi, rij) in b[..j].iter_mut().zip(&r[c..c + j]) {
            *bi -= bj * rij;
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

    /// `A = R'R` for `R = [[2, 1, -1], [0, 3, 2], [0, 0, 1]]`, column-major,
    /// inside a leading dimension of 4 with a sentinel in the unused row.
    fn spd3() -> Vec<f64> {
        // A = [[4, 2, -2], [2, 10, 5], [-2, 5, 6]]
        let mut a = vec![99.0; 12];
        for (j, col) in [[4.0, 2.0, -2.0], [2.0, 10.0, 5.0], [-2.0, 5.0, 6.0]]
            .iter()
            .enumerate()
        {
            a[j * 4..j * 4 + 3].copy_from_slice(col);
        }
        a
    }

    #[test]
    fn dpofa_factors_an_spd_matrix_in_place() {
        let mut a = spd3();
        assert!(dpofa(&mut a, 4, 3));
        let r = [[2.0, 1.0, -1.0], [0.0, 3.0, 2.0], [0.0, 0.0, 1.0]];
        for i in 0..3 {
            for j in i..3 {
                assert_abs_diff_eq!(a[i + j * 4], r[i][j], epsilon = 1e-14);
            }
        }
        // The strict lower triangle and the padding row are untouched.
        assert_eq!(a[1], 2.0);
        assert_eq!(a[3], 99.0);
        // Indefinite: [[1, 2], [2, 1]] has eigenvalues 3 and -1.
        assert!(!dpofa(&mut [1.0, 2.0, 2.0, 1.0], 2, 2));
        // Singular: [[1, 1], [1, 1]].
        assert!(!dpofa(&mut [1.0, 1.0, 1.0, 1.0], 2, 2));
        assert!(!dpofa(&mut [f64::NAN], 1, 1));
    }

    #[test]
    fn dpofa_factors_a_trailing_block() {
        // The 2 x 2 block [[10, 5], [5, 6]] of spd3 at (1, 1): R = [[sqrt 10,
        // 5 / sqrt 10], [0, sqrt(6 - 2.5)]].
        let mut a = spd3();
        assert!(dpofa(&mut a[1 + 4..], 4, 2));
        assert_abs_diff_eq!(a[1 + 4], 10f64.sqrt(), epsilon = 1e-14);
        assert_abs_diff_eq!(a[1 + 2 * 4], 5.0 / 10f64.sqrt(), epsilon = 1e-14);
        assert_abs_diff_eq!(a[2 + 2 * 4], 3.5f64.sqrt(), epsilon = 1e-14);
        assert_eq!(a[0], 4.0, "outside the block");
    }

    #[test]
    fn dtrsl_solves_with_the_factor_and_its_transpose() {
        // With R of spd3: R'R x = A x = b for x = [1, -1, 2], b = [-2, 2, 5].
        let mut a = spd3();
        assert!(dpofa(&mut a, 4, 3));
        let mut b = [-2.0, 2.0, 5.0];
        dtrsl_trans(&a, 4, 3, &mut b);
        // R'z = b: z = R x = [2 - 1 - 2, -3 + 4, 2].
        for (zi, want) in b.iter().zip([-1.0, 1.0, 2.0]) {
            assert_abs_diff_eq!(*zi, want, epsilon = 1e-14);
        }
        dtrsl(&a, 4, 3, &mut b);
        for (xi, want) in b.iter().zip([1.0, -1.0, 2.0]) {
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
