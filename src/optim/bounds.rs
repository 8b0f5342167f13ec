//! A box `l <= x <= u` of simple bounds, the feasible set of every
//! bound-constrained solver in [`crate::optim`]. Bounds may be infinite, so
//! an unbounded problem is a box too.

use super::OptimError;

/// Simple bounds `lower[i] <= x[i] <= upper[i]`; either side may be infinite.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl Bounds {
    /// A box from its lower and upper corners. Fails when the lengths differ,
    /// a bound is NaN, or `lower[i] > upper[i]`; `lower[i] == upper[i]` fixes
    /// variable `i`.
    pub fn new(lower: Vec<f64>, upper: Vec<f64>) -> Result<Self, OptimError> {
        if lower.len() != upper.len() {
            return Err(OptimError::Length {
                what: "upper bounds",
                expected: lower.len(),
                got: upper.len(),
            });
        }
        for (index, (&l, &u)) in lower.iter().zip(&upper).enumerate() {
            if l.is_nan() || u.is_nan() || l > u || l == f64::INFINITY || u == f64::NEG_INFINITY {
                return Err(OptimError::InvalidBound {
                    index,
                    lower: l,
                    upper: u,
                });
            }
        }
        Ok(Bounds { lower, upper })
    }

    /// No bounds at all on `n` variables.
    pub fn unbounded(n: usize) -> Self {
        Bounds {
            lower: vec![f64::NEG_INFINITY; n],
            upper: vec![f64::INFINITY; n],
        }
    }

    /// The same interval `[lo, hi]` for each of `n` variables.
    pub fn uniform(n: usize, lo: f64, hi: f64) -> Result<Self, OptimError> {
        Bounds::new(vec![lo; n], vec![hi; n])
    }

    /// The lower corner.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }

    /// The upper corner.
    pub fn upper(&self) -> &[f64] {
        &self.upper
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.lower.len()
    }

    /// Whether the box has no variables.
    pub fn is_empty(&self) -> bool {
        self.lower.is_empty()
    }

    /// Whether at least one bound is finite (otherwise solvers may take their
    /// unconstrained path, as L-BFGS-B does).
    pub fn is_constrained(&self) -> bool {
        self.lower.iter().any(|l| l.is_finite()) || self.upper.iter().any(|u| u.is_finite())
    }

    /// Whether every variable has both a finite lower and a finite upper bound.
    pub fn is_boxed(&self) -> bool {
        self.lower.iter().all(|l| l.is_finite()) && self.upper.iter().all(|u| u.is_finite())
    }

    /// Whether `x` has the right length and lies in the box (bounds included).
    pub fn contains(&self, x: &[f64]) -> bool {
        x.len() == self.len()
            && x.iter()
                .zip(self.lower.iter().zip(&self.upper))
                .all(|(&xi, (&l, &u))| l <= xi && xi <= u)
    }

    /// Checks the length of `x` against the box.
    pub fn check_len(&self, x: &[f64]) -> Result<(), OptimError> {
        if x.len() != self.len() {
            return Err(OptimError::Length {
                what: "parameter vector",
                expected: self.len(),
                got: x.len(),
            });
        }
        Ok(())
    }

    /// Moves `x` to the nearest point of the box (componentwise clamp).
    pub fn project(&self, x: &mut [f64]) {
        for (xi, (&l, &u)) in x.iter_mut().zip(self.lower.iter().zip(&self.upper)) {
            *xi = xi.max(l).min(u);
        }
    }

    /// The infinity norm of the projected gradient, `max_i |P(x - g)_i - x_i|`,
    /// which is L-BFGS-B's stopping quantity (`projgr` in the Fortran code):
    /// it is zero exactly at a first-order (KKT) point of the box problem.
    pub fn projected_gradient_norm(&self, x: &[f64], g: &[f64]) -> f64 {
        x.iter()
            .zip(g)
            .zip(self.lower.iter().zip(&self.upper))
            .map(|((&xi, &gi), (&l, &u))| {
                // Same branches as `projgr`: a negative gradient moves x up,
                // so only the upper bound can cut it, and vice versa.
                let pg = if gi < 0.0 {
                    (xi - u).max(gi)
                } else {
                    (xi - l).min(gi)
                };
                pg.abs()
            })
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn rejects_bad_boxes() {
        assert!(matches!(
            Bounds::new(vec![0.0, 2.0], vec![1.0, 1.0]),
            Err(OptimError::InvalidBound { index: 1, .. })
        ));
        assert!(Bounds::new(vec![f64::NAN], vec![1.0]).is_err());
        assert!(Bounds::new(vec![0.0], vec![1.0, 2.0]).is_err());
        assert!(Bounds::new(vec![f64::INFINITY], vec![f64::INFINITY]).is_err());
        assert!(Bounds::new(vec![1.0], vec![1.0]).is_ok());
    }

    #[test]
    fn projects_and_contains() {
        let b = Bounds::new(vec![0.0, f64::NEG_INFINITY], vec![1.0, 2.0]).unwrap();
        let mut x = [-3.0, 5.0];
        assert!(!b.contains(&x));
        b.project(&mut x);
        assert_eq!(x, [0.0, 2.0]);
        assert!(b.contains(&x));
        assert!(b.is_constrained());
        assert!(!b.is_boxed());
        assert!(!Bounds::unbounded(3).is_constrained());
    }

    #[test]
    fn projected_gradient_matches_definition() {
        // At the lower bound with a gradient pushing outward, the projected
        // gradient is zero; inside it is the gradient; near a bound it is cut
        // at the distance to the bound.
        let b = Bounds::uniform(3, 0.0, 1.0).unwrap();
        let x = [0.0, 0.5, 0.9];
        let g = [2.0, -0.25, -3.0];
        // P(x - g) - x = [0 - 0, 0.75 - 0.5, 1 - 0.9]
        assert_abs_diff_eq!(b.projected_gradient_norm(&x, &g), 0.25, epsilon = 1e-15);
        let g = [2.0, -0.05, -3.0];
        assert_abs_diff_eq!(b.projected_gradient_norm(&x, &g), 0.1, epsilon = 1e-15);
        let free = Bounds::unbounded(2);
        assert_abs_diff_eq!(free.projected_gradient_norm(&[1.0, 2.0], &[-4.0, 3.0]), 4.0);
    }
}
