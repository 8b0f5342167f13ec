//! The optimizer stack at its edges (issue 16): every solver rejects bad
//! input with the same typed error, detects divergence, records which
//! stopping rule fired, computes condition numbers of any square matrix,
//! keeps finite-difference Hessians inside the box, and counts `maxfun` as
//! scipy does.

use std::sync::Mutex;

use approx::assert_relative_eq;
use argmin::core::{
    CostFunction, Error, Executor, Gradient, Hessian, IterState, Solver, State, TerminationReason,
    KV,
};
use seird_fit::optim::numerics::condition_number;
use seird_fit::optim::sgd::SumOfLosses;
use seird_fit::optim::stopping::{StopRule, StopRules, MSG_DIVERGED};
use seird_fit::optim::{
    Adam, Bounds, FdHessian, FiniteDiff, GradientDescent, Momentum, Newton, OptimError, LBFGSB, SGD,
};

type St = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// f(x) = 1/2 |x|^2 with a gradient of length `glen` and a Hessian of
/// `rows` rows of `cols` entries (the identity where it fits).
#[derive(Clone)]
struct Faulty {
    glen: usize,
    rows: usize,
    cols: usize,
}

impl CostFunction for Faulty {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(0.5 * x.iter().map(|v| v * v).sum::<f64>())
    }
}
impl Gradient for Faulty {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok((0..self.glen)
            .map(|i| x.get(i).copied().unwrap_or(1.0))
            .collect())
    }
}
impl Hessian for Faulty {
    type Param = Vec<f64>;
    type Hessian = Vec<Vec<f64>>;
    fn hessian(&self, _x: &Vec<f64>) -> Result<Vec<Vec<f64>>, Error> {
        Ok((0..self.rows)
            .map(|i| (0..self.cols).map(|j| f64::from(i == j)).collect())
            .collect())
    }
}
impl SumOfLosses for Faulty {
    fn n_samples(&self) -> usize {
        1
    }
    fn batch_cost(&self, x: &[f64], _idx: &[usize]) -> Result<f64, Error> {
        self.cost(&x.to_vec())
    }
    fn batch_gradient(&self, x: &[f64], _idx: &[usize]) -> Result<Vec<f64>, Error> {
        self.gradient(&x.to_vec())
    }
}

fn good(n: usize) -> Faulty {
    Faulty {
        glen: n,
        rows: n,
        cols: n,
    }
}

/// Runs `solver` on `problem` from `x0` and returns the typed error.
fn error_of<S: Solver<Faulty, St> + 'static>(
    problem: Faulty,
    solver: S,
    x0: Vec<f64>,
) -> OptimError {
    let err = Executor::new(problem, solver)
        .configure(|s| s.param(x0).max_iters(50))
        .run()
        .err()
        .expect("the run must fail");
    err.downcast::<OptimError>()
        .expect("the error must be an OptimError")
}

/// One case per solver family, each returning the error for `problem`
/// and `x0` (`bounds` given to the solvers that take a box).
fn all_solvers(
    problem: &Faulty,
    x0: &[f64],
    bounds: Option<Bounds>,
) -> Vec<(&'static str, OptimError)> {
    let n = x0.len();
    let b = bounds.clone().unwrap_or_else(|| Bounds::unbounded(n));
    let with = |s: GradientDescent| match &bounds {
        Some(b) => s.with_bounds(b.clone()),
        None => s,
    };
    let mut newton = Newton::new();
    let mut adam = Adam::new();
    let mut momentum = Momentum::new(0.1, 0.9).unwrap();
    let mut sgd = SGD::new(0.1).unwrap();
    if let Some(b) = &bounds {
        newton = newton.with_bounds(b.clone());
        adam = adam.with_bounds(b.clone());
        momentum = momentum.with_bounds(b.clone());
        sgd = sgd.with_bounds(b.clone());
    }
    vec![
        (
            "lbfgsb",
            error_of(problem.clone(), LBFGSB::new(b), x0.to_vec()),
        ),
        (
            "gd",
            error_of(
                problem.clone(),
                with(GradientDescent::new(0.1).unwrap()),
                x0.to_vec(),
            ),
        ),
        ("adam", error_of(problem.clone(), adam, x0.to_vec())),
        ("momentum", error_of(problem.clone(), momentum, x0.to_vec())),
        ("newton", error_of(problem.clone(), newton, x0.to_vec())),
        ("sgd", error_of(problem.clone(), sgd, x0.to_vec())),
    ]
}

#[test]
fn a_gradient_of_the_wrong_length_is_an_error_in_every_solver() {
    // Before: the first-order solvers, Newton and SGD "converged" to a
    // 1-element x on this 3-variable problem.
    let p = Faulty {
        glen: 1,
        rows: 3,
        cols: 3,
    };
    for (name, e) in all_solvers(&p, &[1.0, 2.0, 3.0], None) {
        assert!(
            matches!(
                e,
                OptimError::GradientLength {
                    expected: 3,
                    got: 1,
                    ..
                }
            ),
            "{name}: {e}"
        );
    }
    // A gradient longer than the Hessian (which used to panic in Newton).
    let long = Faulty {
        glen: 4,
        rows: 3,
        cols: 3,
    };
    let e = error_of(long, Newton::new(), vec![1.0, 2.0, 3.0]);
    assert!(
        matches!(
            e,
            OptimError::GradientLength {
                expected: 3,
                got: 4,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn a_hessian_of_the_wrong_shape_is_an_error_not_a_panic() {
    let short = Faulty {
        glen: 3,
        rows: 2,
        cols: 3,
    };
    let e = error_of(short, Newton::new(), vec![1.0, 2.0, 3.0]);
    assert!(
        matches!(
            e,
            OptimError::HessianShape {
                expected: 3,
                rows: 2,
                bad_row: None,
                ..
            }
        ),
        "{e}"
    );
    let ragged = Faulty {
        glen: 3,
        rows: 3,
        cols: 2,
    };
    let e = error_of(ragged, Newton::new(), vec![1.0, 2.0, 3.0]);
    assert!(
        matches!(
            e,
            OptimError::HessianShape {
                bad_row: Some((0, 2)),
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("row 0 has 2 entries"), "{e}");
}

#[test]
fn a_non_finite_start_is_an_error_even_inside_a_box() {
    // Before: the NaN was clamped to the lower bound and L-BFGS-B reported
    // convergence from a start the caller never gave.
    let b = Bounds::uniform(2, 0.0, 1.0).unwrap();
    for x0 in [vec![f64::NAN, 0.5], vec![0.5, f64::INFINITY]] {
        let bad = x0.iter().position(|v| !v.is_finite()).unwrap();
        for (name, e) in all_solvers(&good(2), &x0, Some(b.clone())) {
            assert!(
                matches!(e, OptimError::NonFiniteParam { index, .. } if index == bad),
                "{name}: {e}"
            );
        }
    }
}

#[test]
fn an_empty_problem_is_an_error_as_in_scipy() {
    for (name, e) in all_solvers(&good(0), &[], None) {
        assert!(matches!(e, OptimError::EmptyProblem { .. }), "{name}: {e}");
    }
}

#[test]
fn inverted_bounds_and_a_start_of_the_wrong_length_are_errors() {
    assert!(matches!(
        Bounds::new(vec![0.0, 2.0], vec![1.0, 1.0]),
        Err(OptimError::InvalidBound { index: 1, .. })
    ));
    assert!(matches!(
        Bounds::new(vec![f64::NAN], vec![1.0]),
        Err(OptimError::InvalidBound { index: 0, .. })
    ));
    let b = Bounds::uniform(3, -1.0, 1.0).unwrap();
    for (name, e) in all_solvers(&good(2), &[0.5, 0.5], Some(b)) {
        assert!(
            matches!(
                e,
                OptimError::Length {
                    expected: 3,
                    got: 2,
                    ..
                }
            ),
            "{name}: {e}"
        );
    }
}

/// f(x) = 1/2 x^2.
struct HalfSquare;
impl CostFunction for HalfSquare {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(0.5 * x[0] * x[0])
    }
}
impl Gradient for HalfSquare {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(vec![x[0]])
    }
}

#[test]
fn gradient_descent_with_too_large_a_step_is_reported_as_diverged() {
    // x_{k+1} = x_k - 2.5 x_k = -1.5 x_k, so f_k = 2 * 2.25^k from x0 = 2.
    // Before: MaxItersReached after 1000 iterations at f = 3.3e35. The cost
    // first exceeds best + 1e4 * max(1, |best|) = 2 + 2e4 at k = 12
    // (2 * 2.25^12 = 3.3e4; 2.25^11 * 2 = 1.5e4 is still below).
    let res = Executor::new(HalfSquare, GradientDescent::new(2.5).unwrap())
        .configure(|s| s.param(vec![2.0]).max_iters(1000))
        .run()
        .unwrap();
    let st = res.state();
    assert_eq!(
        st.get_termination_reason(),
        Some(&TerminationReason::SolverExit(MSG_DIVERGED.into()))
    );
    assert_eq!(st.get_iter(), 12);
    assert_relative_eq!(st.get_cost(), 2.0 * 2.25f64.powi(12), max_relative = 1e-12);
    // A stable step is not flagged: lr 1.9 oscillates but contracts.
    let res = Executor::new(HalfSquare, GradientDescent::new(1.9).unwrap())
        .configure(|s| s.param(vec![2.0]).max_iters(1000))
        .run()
        .unwrap();
    assert_eq!(
        res.state().get_termination_reason(),
        Some(&TerminationReason::SolverConverged)
    );
}

#[test]
fn sgd_with_too_large_a_step_is_reported_as_diverged() {
    // One sample, full batch: SGD is GD, x_{k+1} = -1.5 x_k again.
    let p = Faulty {
        glen: 1,
        rows: 1,
        cols: 1,
    };
    let res = Executor::new(p, SGD::new(2.5).unwrap())
        .configure(|s| s.param(vec![2.0]).max_iters(1000))
        .run()
        .unwrap();
    assert_eq!(
        res.state().get_termination_reason(),
        Some(&TerminationReason::SolverExit(MSG_DIVERGED.into()))
    );
    assert_eq!(res.state().get_iter(), 12);
}

/// Iterations GD with step 0.1 needs on 1/2 x^2 from x0 = 1 until `done(k)`
/// holds, with x_k = 0.9^k exactly as the analytic recursion says.
fn first_k(done: impl Fn(f64, f64, f64) -> bool) -> u64 {
    // (x_{k-1}, x_k, f_k), x_k = 0.9^k.
    (1..10_000u64)
        .find(|&k| {
            let xp = 0.9f64.powi(k as i32 - 1);
            let x = 0.9f64.powi(k as i32);
            done(xp, x, 0.5 * x * x)
        })
        .unwrap()
}

#[test]
fn each_stopping_rule_fires_where_its_formula_says_and_is_recorded() {
    let f = |x: f64| 0.5 * x * x;
    let cases: Vec<(StopRules, StopRule, u64)> = vec![
        (
            StopRules::grad_inf(1e-3),
            StopRule::GradInf,
            first_k(|_, x, _| x <= 1e-3),
        ),
        (
            StopRules {
                grad_2: Some(1e-4),
                ..StopRules::default()
            },
            StopRule::Grad2,
            first_k(|_, x, _| x <= 1e-4),
        ),
        (
            StopRules {
                f_abs: Some(1e-6),
                ..StopRules::default()
            },
            StopRule::FAbs,
            first_k(|xp, x, _| f(xp) - f(x) <= 1e-6),
        ),
        (
            StopRules {
                f_rel: Some(1e-9),
                ..StopRules::default()
            },
            StopRule::FRel,
            first_k(|xp, x, _| (f(xp) - f(x)) / f(xp).max(1.0) <= 1e-9),
        ),
        (
            StopRules {
                x_abs: Some(1e-5),
                ..StopRules::default()
            },
            StopRule::XAbs,
            first_k(|xp, x, _| xp - x <= 1e-5),
        ),
    ];
    for (rules, rule, k) in cases {
        let solver = GradientDescent::new(0.1)
            .unwrap()
            .with_stop_rules(rules)
            .unwrap();
        let res = Executor::new(HalfSquare, solver)
            .configure(|s| s.param(vec![1.0]).max_iters(10_000))
            .run()
            .unwrap();
        assert_eq!(res.solver().stop_rule(), Some(rule), "{rule}");
        assert_eq!(res.state().get_iter(), k, "{rule}");
        assert_eq!(
            res.state().get_termination_reason(),
            Some(&TerminationReason::SolverConverged)
        );
    }
    // Newton records its rule too (one step solves a quadratic exactly).
    let p = good(2);
    let res = Executor::new(p, Newton::new())
        .configure(|s| s.param(vec![1.0, -2.0]).max_iters(10))
        .run()
        .unwrap();
    assert_eq!(res.solver().stop_rule(), Some(StopRule::GradInf));
    assert_eq!(res.state().get_iter(), 1);
    assert!(GradientDescent::new(0.1)
        .unwrap()
        .with_stop_rules(StopRules {
            f_abs: Some(-1.0),
            ..StopRules::default()
        })
        .is_err());
}

#[test]
fn condition_number_is_the_two_norm_one_for_any_square_matrix() {
    // The textbook's non-symmetric example: A'A = [[800000, -401200],
    // [-401200, 201202]], whose eigenvalues s^2 solve
    // s^4 - tr s^2 + det^2 = 0 with tr = 1001202 and det(A) = 400*401 - 201*800 = -400.
    let a = vec![vec![400.0, -201.0], vec![-800.0, 401.0]];
    let tr: f64 = 400.0f64.powi(2) + 201.0f64.powi(2) + 800.0f64.powi(2) + 401.0f64.powi(2);
    let det: f64 = 400.0 * 401.0 - 201.0 * 800.0;
    let disc = (tr * tr - 4.0 * det * det).sqrt();
    let kappa = ((tr + disc) / (tr - disc)).sqrt();
    let c = condition_number(&a).unwrap();
    assert_relative_eq!(c.kappa, kappa, max_relative = 1e-9);
    assert_relative_eq!(c.kappa, 2503.0046, max_relative = 1e-8);
    assert!(!c.positive_definite);
    // The SPD path still applies where it should: diag(1e4, 1).
    let spd = condition_number(&[vec![1e4, 0.0], vec![0.0, 1.0]]).unwrap();
    assert!(spd.positive_definite);
    assert_relative_eq!(spd.kappa, 1e4, max_relative = 1e-9);
    // A singular matrix: infinite.
    let sing = condition_number(&[vec![1.0, 2.0], vec![2.0, 4.0]]).unwrap();
    assert!(sing.kappa.is_infinite() && sing.warning.is_some());
    // Non-square, ragged, empty and NaN input: errors, never a panic.
    assert!(matches!(
        condition_number(&[vec![1.0, 2.0]]),
        Err(OptimError::HessianShape { .. })
    ));
    assert!(matches!(
        condition_number(&[vec![1.0, 2.0], vec![3.0]]),
        Err(OptimError::HessianShape {
            bad_row: Some((1, 1)),
            ..
        })
    ));
    assert!(matches!(
        condition_number(&[]),
        Err(OptimError::EmptyProblem { .. })
    ));
    assert!(condition_number(&[vec![f64::NAN]]).is_err());
}

/// f(x) = sum_i (x_i + 1)^3 / 3 + x_0 x_1, which records every gradient
/// point and is undefined (an error) below 0, like the SEIRD loss at
/// negative rates. H = diag(2 (x_i + 1)) + the x_0 x_1 coupling.
struct PositiveOnly(Mutex<Vec<Vec<f64>>>);
impl CostFunction for PositiveOnly {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(x.iter().map(|v| (v + 1.0).powi(3) / 3.0).sum::<f64>() + x[0] * x[1])
    }
}
impl Gradient for PositiveOnly {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        self.0.lock().unwrap().push(x.clone());
        if x.iter().any(|&v| v < 0.0) {
            return Err(Error::msg(format!("evaluated outside the box at {x:?}")));
        }
        Ok(vec![
            (x[0] + 1.0).powi(2) + x[1],
            (x[1] + 1.0).powi(2) + x[0],
        ])
    }
}

#[test]
fn the_finite_difference_hessian_stays_in_the_box() {
    let b = Bounds::new(vec![0.0, 0.0], vec![f64::INFINITY, 1e-7]).unwrap();
    let fd = FdHessian::new(PositiveOnly(Mutex::new(Vec::new()))).with_bounds(b.clone());
    // At the lower bound of x0 and squeezed x1 (room 1e-7 < h = 6e-6).
    let x = vec![0.0, 0.0];
    let h = fd.hessian(&x).unwrap();
    for p in fd.inner().0.lock().unwrap().iter() {
        assert!(b.contains(p), "evaluated at {p:?}");
    }
    // H = [[2 (x0 + 1), 1], [1, 2 (x1 + 1)]] = [[2, 1], [1, 2]]; one-sided
    // differences of a quadratic gradient have error h (the cubic term).
    assert_relative_eq!(h[0][0], 2.0, max_relative = 1e-5);
    assert_relative_eq!(h[1][1], 2.0, max_relative = 1e-5);
    assert_relative_eq!(h[0][1], 1.0, max_relative = 1e-5);
    assert_relative_eq!(h[1][0], 1.0, max_relative = 1e-5);
    // Newton on the box from the bound: every Hessian stays inside.
    let fd = FdHessian::new(PositiveOnly(Mutex::new(Vec::new()))).with_bounds(b.clone());
    let res = Executor::new(fd, Newton::new().with_bounds(b.clone()))
        .configure(|s| s.param(vec![0.0, 0.0]).max_iters(20))
        .run()
        .unwrap();
    assert!(b.contains(res.state().get_param().unwrap()));
}

/// f(x) = sum_i (x_i - i)^2 / (i + 1) + 0.1 (x_0 x_1)^2, 3 variables, with
/// no gradient: L-BFGS-B gets it by 2-point differences.
#[derive(Clone)]
struct NoGradient;
impl CostFunction for NoGradient {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(x.iter()
            .enumerate()
            .map(|(i, v)| (v - i as f64).powi(2) / (i as f64 + 1.0))
            .sum::<f64>()
            + 0.1 * (x[0] * x[1]).powi(2))
    }
}

#[test]
fn max_fun_counts_objective_calls_as_scipy_does() {
    // scipy stops once nfev > maxfun, checking after each iteration; with
    // 2-point differences an evaluation is 1 + n = 4 calls.
    let run = |solver: LBFGSB| {
        let fd = FiniteDiff::new(NoGradient);
        let res = Executor::new(fd, solver.with_pgtol(0.0).unwrap().with_ftol(0.0).unwrap())
            .configure(|s| s.param(vec![5.0, -5.0, 5.0]).max_iters(10_000))
            .run()
            .unwrap();
        let calls = res.problem().problem.as_ref().unwrap().evals();
        let pairs = res.problem().counts["cost_count"];
        (calls, pairs, res.state().get_termination_reason().cloned())
    };
    let (calls, pairs, reason) = run(LBFGSB::new(Bounds::unbounded(3))
        .with_max_fun(40, 4)
        .unwrap());
    assert_eq!(calls, 4 * pairs);
    // Over the budget after the last iteration, within the at most 20 + 1
    // evaluations one iteration can make.
    assert!(calls > 40 && calls <= 40 + 21 * 4, "{calls}");
    assert!(
        matches!(reason, Some(TerminationReason::SolverExit(ref m)) if m.starts_with("STOP: TOTAL NO. of f AND g")),
        "{reason:?}"
    );
    // with_max_evals counts pairs: the same budget allows four times the calls.
    let (calls_pairs, pairs_pairs, _) = run(LBFGSB::new(Bounds::unbounded(3))
        .with_max_evals(40)
        .unwrap());
    assert!(pairs_pairs > 40 && calls_pairs == 4 * pairs_pairs);
    assert!(LBFGSB::new(Bounds::unbounded(3))
        .with_max_fun(10, 0)
        .is_err());
}

/// What an observer saw at one iteration: the reason and the message.
type Sighting = (Option<TerminationReason>, Option<String>);

/// Keeps the termination reason and record that observers see.
#[derive(Default)]
struct Seen(std::sync::Arc<Mutex<Vec<Sighting>>>);
impl argmin::core::observers::Observe<St> for Seen {
    fn observe_iter(&mut self, state: &St, kv: &KV) -> Result<(), Error> {
        let msg = kv.get("message").map(|v| format!("{v}"));
        self.0
            .lock()
            .unwrap()
            .push((state.get_termination_reason().cloned(), msg));
        Ok(())
    }
}

#[test]
fn observers_see_the_termination_and_the_scipy_message() {
    let seen = Seen::default();
    let log = seen.0.clone();
    let res = Executor::new(good(2), LBFGSB::new(Bounds::unbounded(2)))
        .configure(|s| s.param(vec![3.0, -4.0]).max_iters(100))
        .add_observer(seen, argmin::core::observers::ObserverMode::Always)
        .run()
        .unwrap();
    let log = log.lock().unwrap();
    let (reason, msg) = log.last().unwrap();
    assert_eq!(reason.as_ref(), Some(&TerminationReason::SolverConverged));
    assert!(
        msg.as_deref().is_some_and(|m| m.contains("CONVERGENCE")),
        "{msg:?}"
    );
    assert_eq!(
        res.solver().message(),
        Some(seird_fit::optim::lbfgsb::MSG_PGTOL)
    );
    // Only the last iteration carries a reason.
    assert!(log[..log.len() - 1].iter().all(|(r, _)| r.is_none()));
}
