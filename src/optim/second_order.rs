//! The second-order check after convergence: is a first-order point a
//! strict minimum, a saddle, or neither for sure?
//!
//! At a point where the projected gradient vanishes, the variables held at
//! a bound with the gradient pushing into it are fixed; on the others (the
//! free ones) the reduced Hessian `Z'HZ` decides (Nocedal and Wright,
//! Theorems 2.3-2.4 and 12.5-12.6): a smallest eigenvalue `> tol` means a
//! strict local minimum, `< -tol` a saddle point (a direction of negative
//! curvature leads downhill), and anything in between "not a strict
//! minimum" as far as the Hessian can tell. The Hessian is the problem's
//! own where it has one, or bound-aware finite differences of the gradient
//! ([`central_hessian_in_box`](super::newton::central_hessian_in_box)).
//! The eigenvalues come from nalgebra's symmetric eigensolver.
//!
//! [`escape_direction`] returns the unit eigenvector of the most negative
//! eigenvalue (zero on fixed variables), the step a solver can take to
//! leave a saddle.

use super::{validate, Bounds, OptimError};

/// What the second-order conditions say about a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The reduced Hessian is positive definite.
    StrictMinimum,
    /// The reduced Hessian has a negative eigenvalue.
    SaddlePoint,
    /// The smallest eigenvalue is zero within the tolerance.
    NotStrict,
}

impl Verdict {
    /// `strict minimum`, `saddle point` or `not a strict minimum`.
    pub fn text(self) -> &'static str {
        match self {
            Verdict::StrictMinimum => "strict minimum",
            Verdict::SaddlePoint => "saddle point",
            Verdict::NotStrict => "not a strict minimum",
        }
    }
}

/// The result of [`check`].
#[derive(Debug, Clone, PartialEq)]
pub struct SecondOrder {
    /// Smallest eigenvalue of the reduced Hessian (`+inf` when no variable
    /// is free: a vertex of the box).
    pub min_eigenvalue: f64,
    /// The verdict at tolerance `tol`.
    pub verdict: Verdict,
    /// The free variables the reduced Hessian is taken over.
    pub free: Vec<usize>,
    /// The unit eigenvector of `min_eigenvalue` on the free variables,
    /// zero elsewhere.
    pub direction: Vec<f64>,
}

/// The free variables at `x` with gradient `g`: not at a bound that the
/// gradient pushes against.
pub fn free_variables(x: &[f64], g: &[f64], bounds: Option<&Bounds>) -> Vec<usize> {
    (0..x.len())
        .filter(|&i| match bounds {
            Some(b) => {
                let (l, u) = (b.lower()[i], b.upper()[i]);
                !(l == u || (x[i] <= l && g[i] >= 0.0) || (x[i] >= u && g[i] <= 0.0))
            }
            None => true,
        })
        .collect()
}

/// Checks the second-order conditions at `x` (gradient `g`, Hessian `h`)
/// with eigenvalue tolerance `tol` (relative to `max(1, |H|_max)`).
pub fn check(
    x: &[f64],
    g: &[f64],
    h: &[Vec<f64>],
    bounds: Option<&Bounds>,
    tol: f64,
) -> Result<SecondOrder, OptimError> {
    let n = x.len();
    validate::gradient("second-order check", g, n)?;
    validate::hessian("second-order check", h, n)?;
    let free = free_variables(x, g, bounds);
    let k = free.len();
    if k == 0 {
        return Ok(SecondOrder {
            min_eigenvalue: f64::INFINITY,
            verdict: Verdict::StrictMinimum,
            free,
            direction: vec![0.0; n],
        });
    }
    let reduced = nalgebra::DMatrix::from_fn(k, k, |i, j| {
        0.5 * (h[free[i]][free[j]] + h[free[j]][free[i]])
    });
    let scale = reduced.iter().fold(1f64, |m, v| m.max(v.abs()));
    let eig = reduced.symmetric_eigen();
    let (imin, &lmin) = eig
        .eigenvalues
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .ok_or(OptimError::EmptyProblem {
            solver: "second-order check",
        })?;
    let mut direction = vec![0.0; n];
    for (r, &i) in free.iter().enumerate() {
        direction[i] = eig.eigenvectors[(r, imin)];
    }
    let verdict = if lmin > tol * scale {
        Verdict::StrictMinimum
    } else if lmin < -tol * scale {
        Verdict::SaddlePoint
    } else {
        Verdict::NotStrict
    };
    Ok(SecondOrder {
        min_eigenvalue: lmin,
        verdict,
        free,
        direction,
    })
}

/// The negative-curvature direction to escape a saddle, `None` unless the
/// verdict is [`Verdict::SaddlePoint`]. Either sign descends to second
/// order at a first-order point; the sign returned makes `g'd <= 0`.
pub fn escape_direction(so: &SecondOrder, g: &[f64]) -> Option<Vec<f64>> {
    if so.verdict != Verdict::SaddlePoint {
        return None;
    }
    let gd: f64 = g.iter().zip(&so.direction).map(|(a, b)| a * b).sum();
    let sign = if gd > 0.0 { -1.0 } else { 1.0 };
    Some(so.direction.iter().map(|d| sign * d).collect())
}
