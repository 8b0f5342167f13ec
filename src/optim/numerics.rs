//! Numerical tools that keep losses finite: stable log-sum-exp, softmax and
//! log-softmax, and a condition-number estimate of a symmetric matrix with a
//! warning when a problem is ill-conditioned.

// Matrix code reads best with explicit indices (a[i][j], h[i][j]).
#![allow(clippy::needless_range_loop)]

use super::linalg::{cholesky, cholesky_solve, dot, Matrix};

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

/// An estimate of `kappa(A) = lambda_max / lambda_min` for a symmetric
/// matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionEstimate {
    /// Largest eigenvalue (power iteration).
    pub lambda_max: f64,
    /// Smallest eigenvalue (inverse iteration), or `None` when the matrix is
    /// not positive definite.
    pub lambda_min: Option<f64>,
    /// `lambda_max / lambda_min`, infinite when not positive definite.
    pub kappa: f64,
    /// A one-line warning when the matrix is not positive definite or
    /// `kappa > ILL_CONDITIONED`.
    pub warning: Option<String>,
}

/// Estimates the condition number of the symmetric positive definite
/// matrix `a` (rows) by 200 steps of power iteration for `lambda_max` and of
/// inverse iteration (Cholesky solves) for `lambda_min`.
pub fn condition_number(a: &[Vec<f64>]) -> ConditionEstimate {
    let n = a.len();
    let mut m = Matrix::zeros(n);
    for i in 0..n {
        for j in 0..n {
            m.set(i, j, a[i][j]);
        }
    }
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
    let lambda_min = cholesky(&m).map(|l| {
        let mut v = normalise(start);
        let mut lam = 0.0;
        for _ in 0..200 {
            let w = cholesky_solve(&l, &v);
            // Rayleigh quotient of A^-1 is 1 / lambda_min.
            lam = 1.0 / dot(&v, &w);
            v = normalise(w);
        }
        lam
    });
    let (kappa, warning) = match lambda_min {
        Some(lmin) if lmin > 0.0 => {
            let kappa = lambda_max / lmin;
            let warning = (kappa > ILL_CONDITIONED).then(|| {
                format!("ill-conditioned: condition number about {kappa:.1e} (> {ILL_CONDITIONED:.0e}); expect slow or inaccurate convergence")
            });
            (kappa, warning)
        }
        _ => (
            f64::INFINITY,
            Some("the matrix is not positive definite (no strict minimum here)".to_string()),
        ),
    };
    ConditionEstimate {
        lambda_max,
        lambda_min,
        kappa,
        warning,
    }
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
        let c = condition_number(&d);
        assert_relative_eq!(c.kappa, 1e4, max_relative = 1e-9);
        assert!(c.warning.is_none());
        let ill = vec![vec![1e9, 0.0], vec![0.0, 1.0]];
        assert!(condition_number(&ill).warning.is_some());
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1.
        let c = condition_number(&[vec![2.0, 1.0], vec![1.0, 2.0]]);
        assert_relative_eq!(c.kappa, 3.0, max_relative = 1e-9);
        let indefinite = condition_number(&[vec![1.0, 2.0], vec![2.0, 1.0]]);
        assert!(indefinite.kappa.is_infinite() && indefinite.warning.is_some());
    }
}
