//! The augmented Lagrangian solver on problems with published solutions:
//! the ball-constrained least squares of issue 16, Hock & Schittkowski 6,
//! 7, 71 and 100 (Hock & Schittkowski 1981, "Test Examples for Nonlinear
//! Programming Codes"), and an equality-constrained quadratic solved
//! exactly through its KKT system.

use approx::assert_abs_diff_eq;
use argmin::core::{Executor, State, TerminationReason};
use seird_fit::optim::problems::constrained::{by_name, Constraint, Nlp, NAMES};
use seird_fit::optim::{AugLag, Bounds, Constraints};

/// Runs the solver on `p` from its start point; returns (x, f, solver).
fn solve(p: Nlp) -> (Vec<f64>, f64, AugLag) {
    let x0 = p.x0.clone();
    let solver = AugLag::new(p.bounds.clone());
    let res = Executor::new(p, solver)
        .configure(|s| s.param(x0).max_iters(50))
        .run()
        .unwrap();
    assert_eq!(
        res.state().get_termination_reason(),
        Some(&TerminationReason::SolverConverged),
        "KKT {:?}",
        res.solver().kkt()
    );
    let x = res.state().get_param().unwrap().clone();
    let f = res.state().get_cost();
    let kkt = res.solver().kkt();
    assert!(
        kkt.stationarity <= 1e-6 && kkt.feasibility <= 1e-8,
        "{kkt:?}"
    );
    assert!(kkt.complementarity <= 1e-8, "{kkt:?}");
    (x, f, res.solver().clone())
}

#[test]
fn ball_constrained_least_squares_reaches_the_published_kkt_point() {
    let (x, f, s) = solve(by_name("ball-lsq").unwrap());
    for (a, b) in x.iter().zip([0.349246, 0.114607, -0.929996]) {
        assert_abs_diff_eq!(*a, b, epsilon = 1e-6);
    }
    assert_abs_diff_eq!(s.multipliers_ineq()[0], 0.04914, epsilon = 1e-5);
    assert_abs_diff_eq!(x.iter().map(|v| v * v).sum::<f64>(), 1.0, epsilon = 1e-8);
    assert_abs_diff_eq!(f, 0.401542241, epsilon = 1e-5);
}

#[test]
fn hock_schittkowski_problems_reach_their_listed_optima() {
    for name in ["hs6", "hs7", "hs71", "hs100"] {
        let p = by_name(name).unwrap();
        let (x_star, f_star) = (p.x_star.clone(), p.f_star);
        let (x, f, _) = solve(p);
        assert_abs_diff_eq!(f, f_star, epsilon = 1e-6 * f_star.abs().max(1.0));
        for (a, b) in x.iter().zip(&x_star) {
            assert_abs_diff_eq!(*a, *b, epsilon = 2e-6);
        }
    }
    assert!(by_name("hs999").is_err());
    assert_eq!(NAMES.len(), 5);
}

#[test]
fn hs71_respects_its_box_and_has_a_positive_inequality_multiplier() {
    let (x, _, s) = solve(by_name("hs71").unwrap());
    assert!(x.iter().all(|&v| (1.0..=5.0).contains(&v)));
    // x1 = 1 sits on its bound; the product constraint is active.
    assert!(s.multipliers_ineq()[0] > 0.0);
    assert_abs_diff_eq!(x.iter().product::<f64>(), 25.0, epsilon = 1e-7);
}

/// min 1/2 x'Qx + c'x s.t. Ax = b, with Q = [[4,1,0],[1,3,1],[0,1,2]],
/// c = [-1,-2,3], A = [[1,1,1],[1,-1,2]], b = [1, 2].
#[test]
fn an_equality_constrained_quadratic_matches_its_kkt_system() {
    let q = [[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]];
    let c = [-1.0, -2.0, 3.0];
    let a = [[1.0, 1.0, 1.0], [1.0, -1.0, 2.0]];
    let b = [1.0, 2.0];
    // [[Q, A'], [A, 0]] [x; lam] = [-c; b], solved by LU.
    let kkt = nalgebra::DMatrix::from_fn(5, 5, |i, j| match (i < 3, j < 3) {
        (true, true) => q[i][j],
        (true, false) => a[j - 3][i],
        (false, true) => a[i - 3][j],
        (false, false) => 0.0,
    });
    let rhs = nalgebra::DVector::from_vec(vec![-c[0], -c[1], -c[2], b[0], b[1]]);
    let sol = kkt.lu().solve(&rhs).unwrap();
    let nlp = Nlp {
        name: "qp",
        x0: vec![0.0; 3],
        bounds: Bounds::unbounded(3),
        f: Box::new(move |x| {
            let qx: f64 = (0..3)
                .map(|i| x[i] * (0..3).map(|j| q[i][j] * x[j]).sum::<f64>())
                .sum();
            0.5 * qx + (0..3).map(|i| c[i] * x[i]).sum::<f64>()
        }),
        grad: Box::new(move |x| {
            (0..3)
                .map(|i| (0..3).map(|j| q[i][j] * x[j]).sum::<f64>() + c[i])
                .collect()
        }),
        eq: (0..2)
            .map(|k| {
                Constraint::new(
                    move |x| (0..3).map(|j| a[k][j] * x[j]).sum::<f64>() - b[k],
                    move |_| a[k].to_vec(),
                )
            })
            .collect(),
        ineq: Vec::new(),
        x_star: Vec::new(),
        f_star: 0.0,
    };
    assert_eq!(nlp.n_eq(), 2);
    let (x, _, s) = solve(nlp);
    // Stationarity 1e-6 on a problem whose reduced Hessian has eigenvalues
    // of order 1 puts x within about 1e-6 of the solution.
    for i in 0..3 {
        assert_abs_diff_eq!(x[i], sol[i], epsilon = 1e-6);
    }
    for k in 0..2 {
        assert_abs_diff_eq!(s.multipliers_eq()[k], sol[3 + k], epsilon = 1e-6);
    }
}

#[test]
fn inconsistent_constraints_end_with_a_reason_not_a_hang() {
    // x = 1 and x = -1 at once.
    let nlp = Nlp {
        name: "infeasible",
        x0: vec![0.0],
        bounds: Bounds::unbounded(1),
        f: Box::new(|x| x[0] * x[0]),
        grad: Box::new(|x| vec![2.0 * x[0]]),
        eq: vec![
            Constraint::new(|x| x[0] - 1.0, |_| vec![1.0]),
            Constraint::new(|x| x[0] + 1.0, |_| vec![1.0]),
        ],
        ineq: Vec::new(),
        x_star: Vec::new(),
        f_star: 0.0,
    };
    let res = Executor::new(nlp, AugLag::new(Bounds::unbounded(1)))
        .configure(|s| s.param(vec![0.0]).max_iters(60))
        .run()
        .unwrap();
    assert_ne!(
        res.state().get_termination_reason(),
        Some(&TerminationReason::SolverConverged)
    );
    assert!(res.solver().kkt().feasibility >= 0.99);
}
