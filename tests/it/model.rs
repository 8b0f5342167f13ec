//! Model tests against independently known facts: conservation of N,
//! the linearised growth rate, forward sensitivities against central
//! differences, and finite solves at the bounds L = 0 and k = 0.

use approx::assert_relative_eq;
use proptest::prelude::*;
use seird_fit::fit::loss::Observed;
use seird_fit::fit::LossConfig;
use seird_fit::model::{
    simulate, simulate_with_sensitivities, OdeSettings, OdeSolver, Params, DEFAULT_LOWER,
    DEFAULT_UPPER,
};

const TIGHT: OdeSettings = OdeSettings {
    rtol: 1e-11,
    atol: 1e-9,
    max_steps: 100_000,
    solver: OdeSolver::Native,
};

fn params(p: [f64; 7]) -> Params {
    Params::from_array(p)
}

#[test]
fn population_is_conserved() {
    let n = 6.0e7;
    for p in [
        [1.8, 0.04, 2.0, 20.0, 1.0, 15.0, 4.9],
        [6.49, 0.15, 5.0, 200.0, 6.49, 3.48, 5.9],
        [3.0, 0.01, 0.0, 0.0, 0.2, 10.0, 5.0],
    ] {
        let ode = OdeSettings::default();
        let native = simulate(&params(p), n, 20.0, 300, &ode).unwrap();
        let oracle = crate::ode_oracle::simulate(&params(p), n, 20.0, 300, &ode).unwrap();
        for tr in [native, oracle] {
            for d in 0..tr.t.len() {
                let total = tr.s[d] + tr.e[d] + tr.i[d] + tr.r[d] + tr.d[d];
                assert_relative_eq!(total, n, max_relative = 1e-9);
            }
        }
    }
}

#[test]
fn constant_beta_grows_at_the_linearised_rate() {
    // With R_0 = R_t, beta = R_0 rho is constant and, while S ~ N, (E, I)
    // grows like exp(r t) with r the positive root of
    // (r + alpha)(r + rho) = alpha beta.
    let p = params([2.5, 0.03, 2.0, 20.0, 2.5, 8.0, 5.0]);
    let (rho, alpha) = (1.0 / p.d_rec, 1.0 / p.d_inc);
    let beta = p.r_0 * rho;
    let b = alpha + rho;
    let c = alpha * rho - alpha * beta;
    let r = (-b + (b * b - 4.0 * c).sqrt()) / 2.0;
    let tr = simulate(&p, 1e15, 1.0, 101, &TIGHT).unwrap();
    let measured = (tr.i[100] / tr.i[70]).ln() / 30.0;
    assert_relative_eq!(measured, r, max_relative = 1e-6);
}

#[test]
fn deaths_are_theta_of_removed() {
    let p = params([3.0, 0.07, 2.0, 30.0, 0.8, 12.0, 5.2]);
    let tr = simulate(&p, 1e7, 10.0, 120, &OdeSettings::default()).unwrap();
    for d in 1..120 {
        assert_relative_eq!(
            tr.d[d],
            p.theta / (1.0 - p.theta) * tr.r[d],
            max_relative = 1e-7
        );
    }
}

#[test]
fn solves_at_the_bounds_l0_k0_are_finite_and_bounded() {
    // The prior art gets NaN here and its solver never returns.
    let ode = OdeSettings::default();
    for (k, l) in [(0.0, 0.0), (2.0, 0.0), (0.0, 20.0), (5.0, 0.0)] {
        let p = params([6.49, 0.15, k, l, 0.0, 3.48, 4.9]);
        let st = simulate_with_sensitivities(&p, 1e6, 3.0, 150, &ode).unwrap();
        let tr = &st.trajectory;
        assert_eq!(tr.t.len(), 150);
        assert!(tr.s.iter().chain(&tr.i).chain(&tr.d).all(|v| v.is_finite()));
        assert!(st
            .sensitivities
            .iter()
            .flatten()
            .flatten()
            .all(|v| v.is_finite()));
    }
}

#[test]
fn a_tiny_step_budget_fails_with_a_reason() {
    let ode = OdeSettings {
        max_steps: 3,
        ..OdeSettings::default()
    };
    let err = simulate(&Params::DEFAULT_START, 1e7, 5.0, 200, &ode).unwrap_err();
    assert!(err.to_string().contains("more than 3 steps"), "{err}");
    assert!(crate::ode_oracle::simulate(&Params::DEFAULT_START, 1e7, 5.0, 200, &ode).is_none());
}

#[test]
fn sensitivities_sum_to_zero_like_the_state() {
    // S + E + I + R + D = N for every parameter, so the column sums of dy/dp vanish.
    let p = params([2.2, 0.05, 1.5, 25.0, 0.7, 11.0, 5.5]);
    let st = simulate_with_sensitivities(&p, 1e7, 5.0, 90, &TIGHT).unwrap();
    for day in &st.sensitivities {
        for j in 0..7 {
            let sum: f64 = day.iter().map(|row| row[j]).sum();
            let scale: f64 = day.iter().map(|row| row[j].abs()).sum::<f64>() + 1.0;
            assert!(sum.abs() <= 1e-8 * scale, "j={j} sum={sum}");
        }
    }
}

/// Synthetic observations: the model at `truth`, perturbed by a fixed pattern.
fn synthetic(truth: &Params, n: f64, days: usize) -> (Vec<f64>, Vec<f64>) {
    let tr = simulate(truth, n, 10.0, days, &TIGHT).unwrap();
    let wiggle = |d: usize| 1.0 + 0.1 * ((d as f64) * 1.3).sin();
    let cases = tr
        .cases()
        .iter()
        .enumerate()
        .map(|(d, c)| (c * wiggle(d)).round())
        .collect();
    let deaths = tr
        .deaths()
        .iter()
        .enumerate()
        .map(|(d, c)| (c * wiggle(d + 7)).round())
        .collect();
    (cases, deaths)
}

fn loss_at(p: &[f64; 7], cfg: &LossConfig, cases: &[f64], deaths: &[f64], n: f64) -> f64 {
    let tr = simulate(&params(*p), n, cases[0], cases.len(), &TIGHT).unwrap();
    cfg.evaluate(Observed { cases, deaths }, &tr).msle
}

/// Central differences, one-sided (3-point) at a bound, never leaving the box.
fn fd_gradient(p: &[f64; 7], cfg: &LossConfig, cases: &[f64], deaths: &[f64], n: f64) -> [f64; 7] {
    let (lo, hi) = (DEFAULT_LOWER.to_array(), DEFAULT_UPPER.to_array());
    let mut g = [0.0; 7];
    for j in 0..7 {
        let h = 1e-5 * (1.0 + p[j].abs());
        let f = |x: f64| {
            let mut q = *p;
            q[j] = x;
            loss_at(&q, cfg, cases, deaths, n)
        };
        g[j] = if p[j] - h < lo[j] {
            (-3.0 * f(p[j]) + 4.0 * f(p[j] + h) - f(p[j] + 2.0 * h)) / (2.0 * h)
        } else if p[j] + h > hi[j] {
            (3.0 * f(p[j]) - 4.0 * f(p[j] - h) + f(p[j] - 2.0 * h)) / (2.0 * h)
        } else {
            (f(p[j] + h) - f(p[j] - h)) / (2.0 * h)
        };
    }
    g
}

fn check_gradient(p: [f64; 7], cases_only: bool, cases: &[f64], deaths: &[f64], n: f64) {
    let cfg = LossConfig {
        window: 20,
        cases_only,
    };
    let st = simulate_with_sensitivities(&params(p), n, cases[0], cases.len(), &TIGHT).unwrap();
    let (value, exact) = cfg.evaluate_with_gradient(Observed { cases, deaths }, &st);
    assert_relative_eq!(
        value.msle,
        loss_at(&p, &cfg, cases, deaths, n),
        // The augmented solve takes other steps than the plain one.
        max_relative = 1e-7
    );
    let fd = fd_gradient(&p, &cfg, cases, deaths, n);
    let scale = exact.iter().map(|g| g.abs()).fold(0.0, f64::max).max(1e-8);
    for j in 0..7 {
        // Relative to the largest component: the ODE error at tight
        // tolerance and the O(h^2) difference error are ~1e-8 of it.
        assert!(
            (exact[j] - fd[j]).abs() <= 1e-5 * scale,
            "p={p:?} cases_only={cases_only} j={j}: exact {} vs fd {} (scale {scale})",
            exact[j],
            fd[j]
        );
    }
}

#[test]
fn loss_gradient_matches_central_differences_on_the_bounds() {
    let truth = params([3.2, 0.05, 2.5, 30.0, 0.6, 10.0, 5.3]);
    let (cases, deaths) = synthetic(&truth, 5e6, 60);
    for p in [
        [1.8, 0.04, 2.0, 20.0, 1.0, 15.0, 4.9],
        [0.0, 0.01, 0.0, 0.0, 0.0, 3.48, 4.9],
        [6.49, 0.15, 5.0, 200.0, 6.49, 18.0, 5.9],
        [4.0, 0.15, 1.0, 200.0, 0.0, 3.48, 5.9],
    ] {
        check_gradient(p, false, &cases, &deaths, 5e6);
        check_gradient(p, true, &cases, &deaths, 5e6);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn loss_gradient_matches_central_differences_inside_the_box(
        u in proptest::array::uniform7(0.0f64..1.0),
        v in proptest::array::uniform7(0.05f64..0.95),
        days in 25usize..90,
        cases_only in any::<bool>(),
    ) {
        let (lo, hi) = (DEFAULT_LOWER.to_array(), DEFAULT_UPPER.to_array());
        let at = |w: [f64; 7]| {
            let mut p = [0.0; 7];
            for j in 0..7 { p[j] = lo[j] + w[j] * (hi[j] - lo[j]); }
            p
        };
        // Keep the synthetic epidemic in a realistic range (R_0 up to ~4).
        let mut truth = at(v);
        truth[0] = 1.2 + 3.0 * v[0];
        let (cases, deaths) = synthetic(&params(truth), 1e7, days);
        check_gradient(at(u), cases_only, &cases, &deaths, 1e7);
    }
}

#[test]
fn the_sensitivity_solve_and_the_plain_solve_agree() {
    // Two integrators (the native one on the reduced system with
    // sensitivities, ode_solvers' on the plain five compartments) give the
    // same trajectory to the tolerance.
    let p = params([3.1, 0.04, 2.2, 28.0, 0.6, 9.0, 5.1]);
    let ode = OdeSettings::default();
    let plain = crate::ode_oracle::simulate(&p, 6e7, 3.0, 120, &ode).unwrap();
    let st = simulate_with_sensitivities(&p, 6e7, 3.0, 120, &ode).unwrap();
    for d in 0..120 {
        let (a, b) = (plain.cases()[d], st.trajectory.cases()[d]);
        assert!((a - b).abs() <= 1e-4 * a.max(1.0), "day {d}: {a} vs {b}");
        let tr = &st.trajectory;
        let total = tr.s[d] + tr.e[d] + tr.i[d] + tr.r[d] + tr.d[d];
        assert_relative_eq!(total, 6e7, max_relative = 1e-9);
    }
}
