//! Numerical tools that keep losses finite: stable log-sum-exp, softmax and
//! log-softmax, and the condition number of a square matrix with a warning
//! when a problem is ill-conditioned.

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

use super::linalg::{cholesky, cholesky_solve, dot, Matrix};
use super::{validate, OptimError};

/// `log(sum_i exp(v_i))` without overflow or underflow, by shifting by the
/// maximum: `m + log(sum exp(v_i - m))`. Empty input gives `-inf`; any
/// `+inf` gives `+inf`; NaN propagates.
pub fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if v.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// `softmax(v)_i = exp(v_i) / sum_j exp(v_j)`, computed as
/// `exp(v_i - m) / sum_j exp(v_j - m)` with `m = max v`: the differences
/// are exact for nearby large values, nothing overflows, and the
/// denominator is at least 1.
pub fn softmax(v: &[f64]) -> Vec<f64> {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        // All -inf (or a +inf/NaN): no meaningful shift; fall back to the
        // log-sum-exp form, which propagates NaN.
        let lse = log_sum_exp(v);
        return v.iter().map(|x| (x - lse).exp()).collect();
    }
    let e: Vec<f64> = v.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|x| x / s).collect()
}

/// `log softmax(v)_i = (v_i - m) - log(sum_j exp(v_j - m))`, `m = max v`:
/// finite even where the softmax itself underflows to 0.
pub fn log_softmax(v: &[f64]) -> Vec<f64> {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        let lse = log_sum_exp(v);
        return v.iter().map(|x| x - lse).collect();
    }
    let ls = v.iter().map(|x| (x - m).exp()).sum::<f64>().ln();
    v.iter().map(|x| (x - m) - ls).collect()
}

/// Condition numbers above this are reported as ill-conditioned: at about
/// `1e8 = 1/sqrt(eps)` a gradient method's progress along the flattest
/// direction is lost in rounding of the steepest one.
pub const ILL_CONDITIONED: f64 = 1e8;

/// The 2-norm condition number `kappa(A) = sigma_max / sigma_min` of a
/// square matrix, with what was learnt on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionEstimate {
    /// Largest eigenvalue when the matrix is symmetric (power iteration on
    /// the positive definite path, exact otherwise); for a non-symmetric
    /// matrix, the largest singular value.
    pub lambda_max: f64,
    /// Smallest eigenvalue (inverse iteration), or `None` when the matrix is
    /// not symmetric positive definite.
    pub lambda_min: Option<f64>,
    /// `sigma_max / sigma_min` (for a symmetric positive definite matrix
    /// `lambda_max / lambda_min`), infinite when the matrix is singular.
    pub kappa: f64,
    /// Whether the matrix is symmetric positive definite (the fast path).
    pub positive_definite: bool,
    /// A one-line warning when a symmetric matrix is not positive definite
    /// or `kappa > ILL_CONDITIONED`.
    pub warning: Option<String>,
}

/// The 2-norm condition number of the square matrix `a` (given by rows).
///
/// A symmetric positive definite matrix (the Hessian at a strict minimum)
/// takes the fast path: 200 steps of power iteration for `lambda_max` and
/// of inverse iteration (Cholesky solves) for `lambda_min`. Any other
/// square matrix gets `sigma_max / sigma_min` from nalgebra's SVD; a
/// symmetric one that is not positive definite is also flagged, since as a
/// Hessian it means no strict minimum. A matrix that is empty, not square
/// or ragged is an error, not a panic.
pub fn condition_number(a: &[Vec<f64>]) -> Result<ConditionEstimate, OptimError> {
    let n = validate::square(a)?;
    if let Some((i, j)) = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .find(|&(i, j)| !a[i][j].is_finite())
    {
        return Err(OptimError::InvalidSetting {
            solver: "condition_number",
            setting: "matrix entry",
            value: format!("a[{i}][{j}] = {}", a[i][j]),
            problem: "must be finite",
        });
    }
    let symmetric = (0..n).all(|i| (0..i).all(|j| a[i][j] == a[j][i]));
    let mut m = Matrix::zeros(n);
    for i in 0..n {
        for j in 0..n {
            m.set(i, j, a[i][j]);
        }
    }
    let ill = |kappa: f64| {
        (kappa > ILL_CONDITIONED).then(|| {
            format!("ill-conditioned: condition number about {kappa:.1e} (> {ILL_CONDITIONED:.0e}); expect slow or inaccurate convergence")
        })
    };
    if symmetric {
        if let Some(l) = cholesky(&m) {
            let (lambda_max, lambda_min) = spd_extremes(a, &l);
            if lambda_min > 0.0 {
                let kappa = lambda_max / lambda_min;
                return Ok(ConditionEstimate {
                    lambda_max,
                    lambda_min: Some(lambda_min),
                    kappa,
                    positive_definite: true,
                    warning: ill(kappa),
                });
            }
        }
    }
    let dm = nalgebra::DMatrix::from_fn(n, n, |i, j| a[i][j]);
    let sv = dm.clone().singular_values();
    let smax = sv.max();
    let smin = sv.min();
    let kappa = if smin > 0.0 {
        smax / smin
    } else {
        f64::INFINITY
    };
    let (lambda_max, warning) = if symmetric {
        let eig = dm.symmetric_eigenvalues();
        (
            eig.max(),
            Some("the matrix is not positive definite (no strict minimum here)".to_string()),
        )
    } else if kappa.is_infinite() {
        (smax, Some("the matrix is singular".to_string()))
    } else {
        (smax, ill(kappa))
    };
    Ok(ConditionEstimate {
        lambda_max,
        lambda_min: None,
        kappa,
        positive_definite: false,
        warning,
    })
}

/// `(lambda_max, lambda_min)` of the symmetric positive definite `a` with
/// Cholesky factor `l`, by power and inverse iteration.
fn spd_extremes(a: &[Vec<f64>], l: &Matrix) -> (f64, f64) {
    let n = a.len();
    let mul = |v: &[f64]| -> Vec<f64> { (0..n).map(|i| dot(&a[i], v)).collect() };
    // A start vector with components in every eigendirection (generically).
    let start: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.1 * ((i * 7919) % 13) as f64)
        .collect();
    let normalise = |v: Vec<f64>| -> Vec<f64> {
        let s = dot(&v, &v).sqrt();
        v.into_iter().map(|x| x / s).collect()
    };
    let mut v = normalise(start.clone());
    let mut lambda_max = 0.0;
    for _ in 0..200 {
        let w = mul(&v);
        lambda_max = dot(&v, &w);
        if dot(&w, &w) == 0.0 {
            break;
        }
        v = normalise(w);
    }
    let mut v = normalise(start);
    let mut lambda_min = 0.0;
    for _ in 0..200 {
        let w = cholesky_solve(l, &v);
        // Rayleigh quotient of A^-1 is 1 / lambda_min.
        lambda_min = 1.0 / dot(&v, &w);
        v = normalise(w);
    }
    (lambda_max, lambda_min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn log_sum_exp_neither_overflows_nor_underflows() {
        // log(e^1e8 + e^1e8) = 1e8 + log 2.
        assert_relative_eq!(
            log_sum_exp(&[1e8, 1e8]),
            1e8 + 2f64.ln(),
            max_relative = 1e-15
        );
        // log(e^-1e10 + e^-1e10) = -1e10 + log 2 (naively: log 0 = -inf).
        assert_relative_eq!(
            log_sum_exp(&[-1e10, -1e10]),
            -1e10 + 2f64.ln(),
            max_relative = 1e-15
        );
        assert_relative_eq!(
            log_sum_exp(&[0.0, 2f64.ln()]),
            3f64.ln(),
            max_relative = 1e-15
        );
        assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
    }

    #[test]
    fn softmax_is_stable_and_sums_to_one() {
        // 1e8 - 1 is exact, so p = (1, e^-1) / (1 + e^-1); naively e^1e8 = inf.
        let p = softmax(&[1e8, 1e8 - 1.0]);
        let e1 = (-1.0f64).exp();
        assert_relative_eq!(p[0], 1.0 / (1.0 + e1), max_relative = 1e-12);
        assert_relative_eq!(p[1], e1 / (1.0 + e1), max_relative = 1e-12);
        let p = softmax(&[-1e10, -1e10, -1e10]);
        assert!(p.iter().all(|&x| (x - 1.0 / 3.0).abs() < 1e-15));
        let lp = log_softmax(&[0.0, -1e10]);
        assert_eq!(lp[0], 0.0);
        assert_relative_eq!(lp[1], -1e10, max_relative = 1e-15);
    }

    #[test]
    fn condition_number_of_known_matrices() {
        let d = vec![vec![1e4, 0.0], vec![0.0, 1.0]];
        let c = condition_number(&d).unwrap();
        assert_relative_eq!(c.kappa, 1e4, max_relative = 1e-9);
        assert!(c.warning.is_none());
        let ill = vec![vec![1e9, 0.0], vec![0.0, 1.0]];
        assert!(condition_number(&ill).unwrap().warning.is_some());
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1.
        let c = condition_number(&[vec![2.0, 1.0], vec![1.0, 2.0]]).unwrap();
        assert_relative_eq!(c.kappa, 3.0, max_relative = 1e-9);
        let indefinite = condition_number(&[vec![1.0, 2.0], vec![2.0, 1.0]]).unwrap();
        // Eigenvalues 3 and -1: singular values 3 and 1.
        assert_relative_eq!(indefinite.kappa, 3.0, max_relative = 1e-12);
        assert!(!indefinite.positive_definite && indefinite.warning.is_some());
    }
}
