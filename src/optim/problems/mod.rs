//! Test problems with known minima, and a registry to get them by name.
//!
//! Each problem's doc gives its formula and its known minimum. They
//! implement [`TestProblem`]; [`DynProblem`] turns any of them into an
//! argmin problem (`CostFunction`, `Gradient`, `Hessian`, and
//! [`SumOfLosses`] for the data-fitting ones). To ship one more problem,
//! implement [`TestProblem`] and add a line to [`by_name`] and [`NAMES`].
//!
//! The problems here are generic; the SEIRD fit loss is registered one layer
//! up, in `crate::fit::problem`, which extends [`by_name`] with `seird`.

mod classic;
mod data;

pub use classic::{Beale, Booth, Himmelblau, Quadratic, Rosenbrock};
pub use data::{LinearLeastSquares, LogisticRegression};

use argmin::core::{CostFunction, Error, Gradient, Hessian};

use super::newton::central_hessian_in_box;
use super::sgd::SumOfLosses;
use super::{Bounds, OptimError};

/// A loss with what we know about it.
pub trait TestProblem {
    /// Registry name, e.g. `rosenbrock`.
    fn name(&self) -> &str;
    /// Number of variables.
    fn dim(&self) -> usize;
    /// The customary start point.
    fn x0(&self) -> Vec<f64>;
    /// Known global minimisers (several for Himmelblau); empty if unknown.
    fn minima(&self) -> Vec<Vec<f64>>;
    /// The minimum value, if known.
    fn min_value(&self) -> Option<f64>;
    /// The loss.
    fn cost(&self, x: &[f64]) -> Result<f64, Error>;
    /// Its gradient.
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, Error>;
    /// Its Hessian, when the problem supplies one analytically.
    fn hessian(&self, _x: &[f64]) -> Option<Result<Vec<Vec<f64>>, Error>> {
        None
    }
    /// The per-sample view, for losses that are means over samples.
    fn as_sum(&self) -> Option<&dyn SumOfLosses> {
        None
    }
    /// The box the problem is posed on (solvers use it unless told
    /// otherwise); `None` for unconstrained problems.
    fn bounds(&self) -> Option<Bounds> {
        None
    }
}

/// Names [`by_name`] knows.
pub const NAMES: &[&str] = &[
    "quadratic",
    "rosenbrock",
    "himmelblau",
    "beale",
    "booth",
    "least-squares",
    "logistic",
];

/// Settings for [`by_name`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProblemOptions {
    /// Dimension (`None`: the problem's default).
    pub dim: Option<usize>,
    /// Condition number of the quadratic bowl.
    pub cond: f64,
    /// Seed of the synthetic data sets.
    pub seed: u64,
}

impl Default for ProblemOptions {
    fn default() -> Self {
        ProblemOptions {
            dim: None,
            cond: 10.0,
            seed: 42,
        }
    }
}

fn two_d(name: &str, dim: Option<usize>) -> Result<(), OptimError> {
    match dim {
        None | Some(2) => Ok(()),
        Some(d) => Err(OptimError::Dimension {
            problem: name.into(),
            problem_says: "is 2-D only",
            dim: d,
        }),
    }
}

fn at_least(name: &str, dim: usize, min: usize) -> Result<usize, OptimError> {
    if dim < min {
        return Err(OptimError::Dimension {
            problem: name.into(),
            problem_says: if min == 1 {
                "needs at least 1 variable"
            } else {
                "needs at least 2 variables"
            },
            dim,
        });
    }
    Ok(dim)
}

/// The shipped problem called `name` (case-insensitive); `seird` is
/// [`SeirdProblem::demo`] (7 variables, so `opts.dim` must be `None` or 7).
pub fn by_name(name: &str, opts: ProblemOptions) -> Result<Box<dyn TestProblem>, OptimError> {
    let lname = name.to_ascii_lowercase();
    Ok(match lname.as_str() {
        "quadratic" => Box::new(Quadratic::new(
            at_least(&lname, opts.dim.unwrap_or(2), 1)?,
            opts.cond,
        )?),
        "rosenbrock" => Box::new(Rosenbrock::new(at_least(&lname, opts.dim.unwrap_or(2), 2)?)),
        "himmelblau" => {
            two_d(&lname, opts.dim)?;
            Box::new(Himmelblau)
        }
        "beale" => {
            two_d(&lname, opts.dim)?;
            Box::new(Beale)
        }
        "booth" => {
            two_d(&lname, opts.dim)?;
            Box::new(Booth)
        }
        "least-squares" => Box::new(LinearLeastSquares::new(
            200,
            at_least(&lname, opts.dim.unwrap_or(10), 1)?,
            opts.seed,
        )),
        "logistic" => Box::new(LogisticRegression::new(
            500,
            at_least(&lname, opts.dim.unwrap_or(5), 1)?,
            opts.seed,
        )),
        _ => {
            return Err(OptimError::UnknownProblem {
                name: name.into(),
                known: NAMES.join(", "),
            })
        }
    })
}

/// Any [`TestProblem`] as an argmin problem. Without an analytic Hessian,
/// [`Hessian`] is computed by central differences of the gradient.
pub struct DynProblem(pub Box<dyn TestProblem>);

impl std::fmt::Debug for DynProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DynProblem({})", self.0.name())
    }
}

impl CostFunction for DynProblem {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        self.0.cost(x)
    }
}

impl Gradient for DynProblem {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        self.0.gradient(x)
    }
}

impl Hessian for DynProblem {
    type Param = Vec<f64>;
    type Hessian = Vec<Vec<f64>>;
    fn hessian(&self, x: &Vec<f64>) -> Result<Vec<Vec<f64>>, Error> {
        match self.0.hessian(x) {
            Some(h) => h,
            // Inside the problem's own box: the SEIRD loss, for one, is
            // undefined at negative rates.
            None => central_hessian_in_box(|p| self.0.gradient(p), x, self.0.bounds().as_ref()),
        }
    }
}

impl SumOfLosses for DynProblem {
    fn n_samples(&self) -> usize {
        self.0.as_sum().map_or(0, |s| s.n_samples())
    }
    fn batch_cost(&self, x: &[f64], idx: &[usize]) -> Result<f64, Error> {
        match self.0.as_sum() {
            Some(s) => s.batch_cost(x, idx),
            None => Err(not_a_sum(self.0.name())),
        }
    }
    fn batch_gradient(&self, x: &[f64], idx: &[usize]) -> Result<Vec<f64>, Error> {
        match self.0.as_sum() {
            Some(s) => s.batch_gradient(x, idx),
            None => Err(not_a_sum(self.0.name())),
        }
    }
}

fn not_a_sum(name: &str) -> Error {
    OptimError::InvalidSetting {
        solver: "sgd",
        setting: "problem",
        value: name.into(),
        problem: "is not a sum over samples (use least-squares or logistic)",
    }
    .into()
}

/// Distance from `x` to the nearest known minimiser, if any is known.
pub fn distance_to_minimum(p: &dyn TestProblem, x: &[f64]) -> Option<f64> {
    p.minima()
        .iter()
        .map(|m| {
            m.iter()
                .zip(x)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt()
        })
        .min_by(f64::total_cmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::fd_gradient;
    use crate::optim::FdScheme;
    use proptest::prelude::*;

    /// Every problem's gradient agrees with central differences of its cost,
    /// and its Hessian (analytic or not) with central differences of the
    /// gradient.
    fn check_derivatives(p: &dyn TestProblem, x: &[f64]) -> Result<(), TestCaseError> {
        let g = p.gradient(x).unwrap();
        let fd = fd_gradient(|y| p.cost(y).unwrap(), x, None, None, FdScheme::ThreePoint);
        for (a, b) in g.iter().zip(&fd.grad) {
            prop_assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{}: {} vs {}",
                p.name(),
                a,
                b
            );
        }
        if let Some(h) = p.hessian(x) {
            let h = h.unwrap();
            let fdh = crate::optim::newton::central_hessian(|y| p.gradient(y), x).unwrap();
            for (ra, rb) in h.iter().zip(&fdh) {
                for (a, b) in ra.iter().zip(rb) {
                    prop_assert!(
                        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                        "{}: H {} vs {}",
                        p.name(),
                        a,
                        b
                    );
                }
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn derivatives_match_finite_differences(
            x in prop::collection::vec(-2.0f64..2.0, 4),
            which in 0usize..7,
        ) {
            let name = NAMES[which];
            let dim = match name { "quadratic" | "rosenbrock" | "least-squares" | "logistic" => Some(4), _ => None };
            let p = by_name(name, ProblemOptions { dim, ..Default::default() }).unwrap();
            let x = &x[..p.dim()];
            check_derivatives(p.as_ref(), x)?;
        }
    }

    #[test]
    fn known_minima_have_zero_gradient_and_the_stated_value() {
        for name in NAMES {
            let p = by_name(name, ProblemOptions::default()).unwrap();
            for m in p.minima() {
                let g = p.gradient(&m).unwrap();
                let gmax = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                assert!(gmax < 1e-5, "{name}: |g| = {gmax} at {m:?}");
                if let Some(v) = p.min_value() {
                    let f = p.cost(&m).unwrap();
                    assert!(
                        (f - v).abs() < 1e-9 * v.abs().max(1.0),
                        "{name}: {f} vs {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn registry_rejects_unknown_names_and_dimensions() {
        let e = by_name("rosenbrok", ProblemOptions::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("rosenbrock"));
        let e = by_name(
            "beale",
            ProblemOptions {
                dim: Some(3),
                ..Default::default()
            },
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("2-D"));
    }
}
