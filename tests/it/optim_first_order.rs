//! First-order methods, SGD and Newton: hand-computed first iterates on a
//! quadratic, known minima of the shipped problems, Newton's quadratic
//! convergence, and projection onto a box.

use approx::assert_abs_diff_eq;
use argmin::core::{Executor, IterState, Solver, State, TerminationReason};
use seird_fit::optim::problems::{
    by_name, distance_to_minimum, DynProblem, LinearLeastSquares, ProblemOptions, Quadratic,
    TestProblem,
};
use seird_fit::optim::{
    AdaDelta, AdaGrad, Adam, Armijo, Bounds, FdHessian, GradientDescent, Momentum, Nesterov,
    Newton, RMSprop, LBFGSB, SGD,
};

type St = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// f = 1/2 (x - 1)^2 + 5 (y - 1)^2 (the quadratic bowl with lambda = [1, 10]),
/// started at the origin, where g0 = (-1, -10) and f0 = 5.5.
fn bowl() -> DynProblem {
    DynProblem(Box::new(Quadratic::new(2, 10.0).unwrap()))
}

/// The first `k` iterates of `solver` from the origin.
fn iterates<S: Solver<DynProblem, St> + Clone + 'static>(solver: S, k: u64) -> Vec<Vec<f64>> {
    (1..=k)
        .map(|iters| {
            let res = Executor::new(bowl(), solver.clone())
                .configure(|s| s.param(vec![0.0, 0.0]).max_iters(iters))
                .run()
                .unwrap();
            res.state().get_param().unwrap().clone()
        })
        .collect()
}

fn assert_iterate(x: &[f64], expected: [f64; 2], eps: f64) {
    assert_abs_diff_eq!(x[0], expected[0], epsilon = eps);
    assert_abs_diff_eq!(x[1], expected[1], epsilon = eps);
}

#[test]
fn gradient_descent_first_iterates() {
    // x1 = x0 - 0.05 g0 = (0.05, 0.5); g1 = (-0.95, -5);
    // x2 = x1 - 0.05 g1 = (0.0975, 0.75).
    let xs = iterates(GradientDescent::new(0.05).unwrap(), 2);
    assert_iterate(&xs[0], [0.05, 0.5], 1e-15);
    assert_iterate(&xs[1], [0.0975, 0.75], 1e-15);
}

#[test]
fn armijo_backtracking_first_iterate() {
    // From t = 1: f(1, 10) = 405, f(0.5, 5) = 80.125, f(0.25, 2.5) = 11.53
    // all fail f <= 5.5 - 1e-4 t |g0|^2; t = 0.125 gives (0.125, 1.25),
    // f = 0.6953, accepted after 4 trials.
    let solver = GradientDescent::new(1.0)
        .unwrap()
        .with_armijo(Armijo::default())
        .unwrap();
    let res = Executor::new(bowl(), solver)
        .configure(|s| s.param(vec![0.0, 0.0]).max_iters(1).counting(true))
        .run()
        .unwrap();
    assert_iterate(res.state().get_param().unwrap(), [0.125, 1.25], 1e-15);
    assert_eq!(res.state().get_func_counts()["cost_count"], 1 + 4);
}

#[test]
fn momentum_first_iterates() {
    // v1 = -0.05 g0 = (0.05, 0.5) = x1; v2 = 0.9 v1 - 0.05 g1 = (0.0925, 0.7);
    // x2 = (0.1425, 1.2).
    let xs = iterates(Momentum::new(0.05, 0.9).unwrap(), 2);
    assert_iterate(&xs[0], [0.05, 0.5], 1e-15);
    assert_iterate(&xs[1], [0.1425, 1.2], 1e-15);
}

#[test]
fn nesterov_first_iterates() {
    // b1 = g0; x1 = -0.05 (g0 + 0.9 b1) = (0.095, 0.95); g1 = (-0.905, -0.5);
    // b2 = 0.9 b1 + g1 = (-1.805, -9.5); x2 = x1 - 0.05 (g1 + 0.9 b2)
    // = (0.221475, 1.4025).
    let xs = iterates(Nesterov::new(0.05, 0.9).unwrap(), 2);
    assert_iterate(&xs[0], [0.095, 0.95], 1e-15);
    assert_iterate(&xs[1], [0.221475, 1.4025], 1e-14);
}

#[test]
fn adagrad_first_iterates() {
    // G1 = g0^2, step lr |g| / |g| = 0.1 in each coordinate: x1 = (0.1, 0.1);
    // g1 = (-0.9, -9), G2 = (1.81, 181): step 0.09 / sqrt(1.81) = 0.0668965
    // in both coordinates.
    let xs = iterates(AdaGrad::new(0.1).unwrap(), 2);
    assert_iterate(&xs[0], [0.1, 0.1], 1e-8);
    let s2 = 0.1 + 0.09 / 1.81f64.sqrt();
    assert_iterate(&xs[1], [s2, s2], 1e-8);
}

#[test]
fn rmsprop_first_iterate() {
    // E[g^2] = 0.1 g0^2: step 0.01 |g| / sqrt(0.1 g^2) = 0.01 / sqrt(0.1).
    let xs = iterates(RMSprop::new(0.01).unwrap(), 1);
    let s = 0.01 / 0.1f64.sqrt();
    assert_iterate(&xs[0], [s, s], 1e-8);
}

#[test]
fn adadelta_first_iterate() {
    // E[g^2] = 0.1 g0^2, E[dx^2] = 0: dx = sqrt(1e-6) |g| / sqrt(0.1 g^2 + 1e-6).
    let xs = iterates(AdaDelta::new(), 1);
    assert_iterate(
        &xs[0],
        [
            1e-3 / (0.1f64 + 1e-6).sqrt(),
            1e-2 / (10.0f64 + 1e-6).sqrt(),
        ],
        1e-15,
    );
}

#[test]
fn adam_first_iterates() {
    // Bias correction makes the first step lr sign(g): x1 = (0.1, 0.1).
    // Then m = (-0.18, -1.8), m_hat = m / 0.19, v = (0.001809, 0.1809),
    // v_hat = v / 0.001999: step 0.1 * 0.947368 / 0.951290 = 0.0995877.
    let xs = iterates(Adam::new().with_lr(0.1).unwrap(), 2);
    assert_iterate(&xs[0], [0.1, 0.1], 1e-8);
    let m_hat = 0.18 / 0.19;
    let v_hat: f64 = 0.001809 / (1.0 - 0.999f64.powi(2));
    let x2 = 0.1 + 0.1 * m_hat / v_hat.sqrt();
    assert_iterate(&xs[1], [x2, x2], 1e-8);
}

/// Runs a solver on a problem from its usual start; returns (x, iterations, reason).
fn solve<S: Solver<DynProblem, St> + 'static>(
    p: Box<dyn TestProblem>,
    solver: S,
    max_iters: u64,
) -> (Vec<f64>, u64, TerminationReason) {
    let x0 = p.x0();
    let res = Executor::new(DynProblem(p), solver)
        .configure(|s| s.param(x0).max_iters(max_iters))
        .run()
        .unwrap();
    let st = res.state();
    (
        st.get_best_param().unwrap().clone(),
        st.get_iter(),
        st.get_termination_reason().unwrap().clone(),
    )
}

fn problem(name: &str, dim: Option<usize>) -> Box<dyn TestProblem> {
    by_name(
        name,
        ProblemOptions {
            dim,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn first_order_methods_reach_known_minima() {
    // Each method on the 5-D quadratic bowl (condition number 10), Booth and
    // least squares (normal-equations solution), converging to a gradient
    // infinity norm of 1e-6; distance to the minimiser within 1e-4 (the
    // gradient tolerance over the smallest curvature, with margin). RMSprop
    // and Adam with a constant learning rate normalise the step, so near the
    // minimum they keep taking steps of about lr per coordinate and may settle
    // in a ball of radius about lr * sqrt(n) instead of converging: that is
    // their tolerance (n = 10 for least squares).
    type Make = fn() -> Box<dyn Fn(Box<dyn TestProblem>) -> (Vec<f64>, u64, TerminationReason)>;
    let tolerance = |name: &str| match name {
        "rmsprop" => 1e-3 * 10f64.sqrt(),
        "adam" => 1e-2 * 10f64.sqrt(),
        _ => 1e-4,
    };
    let cases: Vec<(&str, Make)> = vec![
        ("gd", || {
            Box::new(|p| solve(p, GradientDescent::new(0.02).unwrap(), 100_000))
        }),
        ("gd-armijo", || {
            Box::new(|p| {
                solve(
                    p,
                    GradientDescent::new(1.0)
                        .unwrap()
                        .with_armijo(Armijo::default())
                        .unwrap(),
                    100_000,
                )
            })
        }),
        ("momentum", || {
            Box::new(|p| solve(p, Momentum::new(0.01, 0.9).unwrap(), 100_000))
        }),
        ("nesterov", || {
            Box::new(|p| solve(p, Nesterov::new(0.01, 0.9).unwrap(), 100_000))
        }),
        ("adagrad", || {
            Box::new(|p| solve(p, AdaGrad::new(0.5).unwrap(), 100_000))
        }),
        // AdaDelta's first steps are about sqrt(eps): Zeiler's eps = 1e-6 needs
        // well over 1e5 iterations on Booth, so use 1e-4 here.
        ("adadelta", || {
            Box::new(|p| solve(p, AdaDelta::new().with_eps(1e-4).unwrap(), 200_000))
        }),
        ("rmsprop", || {
            Box::new(|p| solve(p, RMSprop::new(1e-3).unwrap(), 20_000))
        }),
        ("adam", || {
            Box::new(|p| solve(p, Adam::new().with_lr(0.01).unwrap(), 20_000))
        }),
    ];
    for (name, make) in cases {
        for (pname, dim) in [
            ("quadratic", Some(5)),
            ("booth", None),
            ("least-squares", None),
        ] {
            let p = problem(pname, dim);
            let reference = problem(pname, dim);
            let (x, iters, reason) = make()(p);
            let err = distance_to_minimum(reference.as_ref(), &x).unwrap();
            eprintln!("{name:10} {pname:14} iters {iters:7} err {err:.2e} {reason:?}");
            assert!(
                err < tolerance(name),
                "{name} on {pname}: distance {err:e} after {iters} iterations ({reason:?})"
            );
        }
    }
}

#[test]
fn newton_converges_quadratically_on_logistic_regression() {
    // Strictly convex: errors e_k = |x_k - x*| must satisfy
    // e_{k+1} <= C e_k^2 once close; we check the ratio e_{k+1} / e_k^2 stays
    // bounded while e_k shrinks by orders of magnitude.
    let p = problem("logistic", None);
    let xstar = p.minima()[0].clone();
    let mut errors = Vec::new();
    for iters in 1..=8 {
        let res = Executor::new(
            DynProblem(problem("logistic", None)),
            Newton::new().with_tolerance(0.0).unwrap(),
        )
        .configure(|s| s.param(vec![0.0; 5]).max_iters(iters))
        .run()
        .unwrap();
        let x = res.state().get_param().unwrap();
        let e = x
            .iter()
            .zip(&xstar)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        errors.push(e);
    }
    eprintln!("newton errors {errors:?}");
    let mut checked = 0;
    for w in errors.windows(2) {
        if w[0] > 1e-7 && w[0] < 0.1 {
            let ratio = w[1] / (w[0] * w[0]);
            assert!(ratio < 10.0, "e_(k+1)/e_k^2 = {ratio} (errors {errors:?})");
            checked += 1;
        }
    }
    assert!(
        checked >= 2,
        "too few steps in the quadratic regime: {errors:?}"
    );
    assert!(errors.last().copied().unwrap_or(1.0) < 1e-10);
}

#[test]
fn newton_is_exact_in_one_step_on_a_quadratic() {
    let (x, iters, reason) = solve(problem("quadratic", Some(10)), Newton::new(), 10);
    assert!(iters <= 2, "{iters}");
    assert_eq!(reason, TerminationReason::SolverConverged);
    for xi in x {
        assert_abs_diff_eq!(xi, 1.0, epsilon = 1e-12);
    }
}

#[test]
fn newton_falls_back_when_the_hessian_is_not_positive_definite() {
    // At Himmelblau's origin the Hessian is diag(-42, -26): pure Newton would
    // head for the maximum at (-0.27, -0.92). The modified Hessian gives a
    // descent direction and the run ends at a minimum.
    let p = problem("himmelblau", None);
    let (x, _, reason) = solve(problem("himmelblau", None), Newton::new(), 100);
    assert_eq!(reason, TerminationReason::SolverConverged);
    assert!(distance_to_minimum(p.as_ref(), &x).unwrap() < 1e-8, "{x:?}");
}

#[test]
fn newton_with_finite_difference_hessian_solves_rosenbrock() {
    let p = problem("rosenbrock", Some(4));
    let x0 = p.x0();
    let res = Executor::new(FdHessian::new(DynProblem(p)), Newton::new())
        .configure(|s| s.param(x0).max_iters(200))
        .run()
        .unwrap();
    let x = res.state().get_best_param().unwrap();
    for xi in x {
        assert_abs_diff_eq!(*xi, 1.0, epsilon = 1e-6);
    }
}

#[test]
fn projected_methods_stay_in_the_box_and_find_the_face_minimum() {
    // The bowl's minimum (1, 1) is outside [-1, 0.5]^2; the constrained
    // minimum is the corner (0.5, 0.5).
    let b = Bounds::uniform(2, -1.0, 0.5).unwrap();
    let check = |x: Vec<f64>| {
        assert!(b.contains(&x));
        assert_iterate(&x, [0.5, 0.5], 1e-9);
    };
    let p = || Box::new(Quadratic::new(2, 10.0).unwrap()) as Box<dyn TestProblem>;
    check(
        solve(
            p(),
            GradientDescent::new(0.05).unwrap().with_bounds(b.clone()),
            10_000,
        )
        .0,
    );
    check(
        solve(
            p(),
            Adam::new().with_lr(0.05).unwrap().with_bounds(b.clone()),
            10_000,
        )
        .0,
    );
    check(
        solve(
            p(),
            Momentum::new(0.05, 0.5).unwrap().with_bounds(b.clone()),
            10_000,
        )
        .0,
    );
    check(solve(p(), Newton::new().with_bounds(b.clone()), 100).0);
    check(solve(p(), LBFGSB::new(b.clone()), 100).0);
}

#[test]
fn sgd_is_reproducible_and_reaches_the_least_squares_solution() {
    let run = |seed: u64, batch: usize| -> Vec<f64> {
        let p = LinearLeastSquares::new(200, 10, 42);
        let res = Executor::new(
            DynProblem(Box::new(p)),
            SGD::new(0.005)
                .unwrap()
                .with_batch_size(batch)
                .unwrap()
                .with_seed(seed),
        )
        .configure(|s| s.param(vec![0.0; 10]).max_iters(300))
        .run()
        .unwrap();
        res.state().get_param().unwrap().clone()
    };
    let exact = LinearLeastSquares::new(200, 10, 42).solution().to_vec();
    for batch in [1, 10] {
        let a = run(7, batch);
        assert_eq!(a, run(7, batch), "same seed, same run");
        assert_ne!(a, run(8, batch), "another seed shuffles differently");
        // Constant-step SGD ends in a noise ball of radius ~ lr * noise;
        // with noise sd 0.1 and lr 0.005 that is well under 1e-2.
        let err = a
            .iter()
            .zip(&exact)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(err < 1e-2, "batch {batch}: {err}");
    }
}
