//! The input checks every solver makes, in one place, so that each solver
//! rejects the same mistakes with the same typed [`OptimError`]: an empty
//! problem, a start point that is not finite or does not match the box, a
//! gradient of the wrong length, a Hessian of the wrong shape. (Inverted or
//! NaN bounds are refused earlier, by [`Bounds::new`].)
//!
//! The checks run before anything is projected onto the box: clamping a NaN
//! gives the lower bound, and a solver would then report convergence from a
//! start the caller never gave.

use argmin::core::{CostFunction, Error, Gradient, Problem};

use super::{Bounds, OptimError};

/// Checks a start point: not empty, the box's length, every entry finite.
pub fn start_point(
    solver: &'static str,
    x: &[f64],
    bounds: Option<&Bounds>,
) -> Result<(), OptimError> {
    if x.is_empty() {
        return Err(OptimError::EmptyProblem { solver });
    }
    if let Some(b) = bounds {
        b.check_len(x)?;
    }
    if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(OptimError::NonFiniteParam {
            solver,
            index,
            value,
        });
    }
    Ok(())
}

/// Checks that a gradient has one entry per variable.
pub fn gradient(solver: &'static str, g: &[f64], n: usize) -> Result<(), OptimError> {
    if g.len() != n {
        return Err(OptimError::GradientLength {
            solver,
            expected: n,
            got: g.len(),
        });
    }
    Ok(())
}

/// Checks that a Hessian is `n x n` (rows of length `n`).
pub fn hessian(solver: &'static str, h: &[Vec<f64>], n: usize) -> Result<(), OptimError> {
    let bad_row = h.iter().enumerate().find(|(_, r)| r.len() != n);
    if h.len() != n || bad_row.is_some() {
        return Err(OptimError::HessianShape {
            solver,
            expected: n,
            rows: h.len(),
            bad_row: bad_row.map(|(i, r)| (i, r.len())),
        });
    }
    Ok(())
}

/// Checks that `a` is a non-empty square matrix given by rows, and returns
/// its order.
pub fn square(a: &[Vec<f64>]) -> Result<usize, OptimError> {
    let n = a.len();
    if n == 0 {
        return Err(OptimError::EmptyProblem { solver: "matrix" });
    }
    hessian("matrix", a, n)?;
    Ok(n)
}

/// The cost and the gradient at `x` through argmin's counting `Problem`,
/// the gradient checked for length.
pub fn cost_and_gradient<O>(
    solver: &'static str,
    problem: &mut Problem<O>,
    x: &Vec<f64>,
) -> Result<(f64, Vec<f64>), Error>
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
{
    let f = problem.cost(x)?;
    let g = problem.gradient(x)?;
    gradient(solver, &g, x.len())?;
    Ok((f, g))
}
