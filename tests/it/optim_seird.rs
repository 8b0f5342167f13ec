//! The SEIRD fit loss as a shipped problem of the optimizer stack: its exact
//! gradient against central differences, L-BFGS-B on it against
//! `seird_fit::fit::fit`, the projected first-order methods against the
//! box, the known minimum (the demo truth), and `seird-fit optimize
//! --problem seird` as a real binary.

use crate::common;

use std::sync::{Arc, Mutex};

use approx::assert_relative_eq;
use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{Executor, IterState, State, KV};
use seird_fit::data::{self, LoadOptions, TrainingData, WindowOptions};
use seird_fit::fit::problem::{by_name, SeirdProblem};
use seird_fit::fit::{fit, FitConfig};
use seird_fit::model::DEMO_TRUTH;
use seird_fit::model::{OdeSettings, Params, DEFAULT_LOWER, DEFAULT_UPPER};
use seird_fit::optim::problems::{DynProblem, ProblemOptions, TestProblem};
use seird_fit::optim::{fd_gradient, Adam, Bounds, FdScheme, Momentum, LBFGSB};

/// ODE tolerances tight enough that central differences of the loss are
/// accurate to ~1e-8 of the gradient (the solver's error in the loss,
/// ~1e-12 relative, divided by the ~1e-5 relative step).
fn tight(mut c: FitConfig) -> FitConfig {
    c.ode = OdeSettings {
        rtol: 1e-12,
        atol: 1e-10,
        max_steps: 1_000_000,
        ..OdeSettings::default()
    };
    c
}

fn demo_config() -> FitConfig {
    let mut c = FitConfig::default();
    c.loss.window = 100;
    c
}

fn italy() -> Option<(std::path::PathBuf, TrainingData)> {
    let dir = common::shared_data()?;
    let path = dir.join("kaggle/train.csv");
    let ds = data::load(&path, &LoadOptions::default()).unwrap();
    let training = ds
        .find("italy", None)
        .unwrap()
        .training_data(&WindowOptions {
            end: chrono::NaiveDate::from_ymd_opt(2020, 4, 30),
            ..Default::default()
        })
        .unwrap();
    Some((path, training))
}

/// Asserts that the problem's gradient agrees with central differences of
/// its cost (one-sided at a bound) to 1e-5 of the largest component.
fn check_gradient(p: &SeirdProblem, x: &[f64]) {
    check_gradient_to(p, x, 1e-5);
}

/// [`check_gradient`] to `tol` of the largest component.
fn check_gradient_to(p: &SeirdProblem, x: &[f64], tol: f64) {
    let g = p.gradient(x).unwrap();
    let fd = fd_gradient(
        |y| p.cost(y).unwrap(),
        x,
        None,
        Some(p.bounds()),
        FdScheme::ThreePoint,
    );
    let scale = fd.grad.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    assert!(scale > 0.0 && scale.is_finite(), "gradient {:?}", fd.grad);
    for (j, (a, b)) in g.iter().zip(&fd.grad).enumerate() {
        assert!(
            (a - b).abs() <= tol * scale,
            "d/dp{j} at {x:?}: exact {a}, central differences {b} (scale {scale})"
        );
    }
}

/// Points inside the box, near the optimum, and on bounds (theta and D_inc
/// at their limits; L = 0 is `l_zero_point`, k = 0 `k_zero_point`).
fn probe_points() -> Vec<Vec<f64>> {
    let lo = DEFAULT_LOWER.to_array();
    let hi = DEFAULT_UPPER.to_array();
    let mut on_bounds = Params::DEFAULT_START.to_array();
    on_bounds[1] = lo[1];
    on_bounds[6] = hi[6];
    vec![
        Params::DEFAULT_START.to_array().to_vec(),
        vec![3.0, 0.05, 1.5, 45.0, 1.2, 11.0, 5.5],
        DEMO_TRUTH
            .to_array()
            .iter()
            .map(|v| v * 1.01)
            .collect::<Vec<_>>(),
        on_bounds.to_vec(),
    ]
}

/// The demo truth with `L` on its lower bound 0.
fn k_zero_point() -> Vec<f64> {
    let mut x = Params::DEFAULT_START.to_array();
    x[2] = DEFAULT_LOWER.k;
    x.to_vec()
}

/// The documented limit at k = 0 (L > 0): there `h = 1/2` for all t > 0 and
/// `dh/dk = -ln(t/L)/4`, a logarithmic singularity at t = 0. It is
/// integrable, but the first Runge-Kutta stages sample it at t = 0 (where
/// the limit t -> 0+ is used) and at the first small stage times, so the
/// exact d/dk carries a quadrature error the state does not (and the
/// one-sided difference at the bound its own O(step) error). Measured at the
/// prior art's start with k = 0 on the demo problem: d/dk is 0.32942 exact
/// against 0.34047 from one-sided differences, 3.3 % of that component and
/// 3.25e-4 of the gradient's largest component (34.01); every other
/// component agrees to 1e-5. The test pins that limit (4e-4 of the largest
/// component): it fails if the discrepancy grows, and the gradient passes
/// at 1e-5 away from k = 0
/// (`gradient_matches_central_differences_on_the_demo_data`).
#[test]
fn gradient_at_k_zero_agrees_to_the_documented_limit() {
    let p = SeirdProblem::demo_with(&tight(demo_config())).unwrap();
    check_gradient_to(&p, &k_zero_point(), 4e-4);
}

fn l_zero_point() -> Vec<f64> {
    let mut x = DEMO_TRUTH.to_array();
    x[3] = DEFAULT_LOWER.l;
    x.to_vec()
}

#[test]
fn registry_entry_is_the_demo_problem() {
    let p = by_name("seird", ProblemOptions::default()).unwrap();
    let demo = SeirdProblem::demo().unwrap();
    assert_eq!(p.name(), "seird");
    assert_eq!(p.dim(), 7);
    assert_eq!(p.x0(), Params::DEFAULT_START.to_array().to_vec());
    let b = p.bounds().unwrap();
    assert_eq!(b.lower(), DEFAULT_LOWER.to_array());
    assert_eq!(b.upper(), DEFAULT_UPPER.to_array());
    for x in probe_points() {
        assert_eq!(p.cost(&x).unwrap(), demo.cost(&x).unwrap());
    }
    let e = by_name(
        "seird",
        ProblemOptions {
            dim: Some(3),
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("7 model parameters"), "{e}");
}

#[test]
fn gradient_matches_central_differences_on_the_demo_data() {
    let p = SeirdProblem::demo_with(&tight(demo_config())).unwrap();
    for x in probe_points() {
        check_gradient(&p, &x);
    }
    let mut cases_only = tight(demo_config());
    cases_only.loss.cases_only = true;
    let p = SeirdProblem::demo_with(&cases_only).unwrap();
    for x in probe_points() {
        check_gradient(&p, &x);
    }
}

/// At `L = 0` the model takes `dh/dL = 0` (`Rates::hill`), which is the
/// pointwise limit for `t > 0`, but the loss depends on `L` to first order
/// through `integral of h dt = L (pi/k) / sin(pi/k)` (for `k > 1`): the
/// one-sided derivative is a Dirac-like source at `t = 0` the sensitivity
/// equations miss. Measured on the demo data at rtol 1e-12: exact
/// `df/dL = 0` at `L = 0`, while `(f(L) - f(0)) / L = -1.37114` for
/// `L = 1e-6` and the exact gradient at `L = 1e-6` is `-1.37114` too.
#[test]
fn gradient_matches_central_differences_at_l_zero() {
    // At L = 0 the L-sensitivity is an impulse at t = 0 (a jump of the
    // initial sensitivity, see model::ode); a solver resolves the narrow
    // decay of beta(t) of the perturbed L = h only approximately, so the
    // one-sided differences carry an error of ~1e-4 of this component.
    // Before the jump was added the exact component was 0 instead of -1.69.
    let p = SeirdProblem::demo_with(&tight(demo_config())).unwrap();
    let x = l_zero_point();
    let g = p.gradient(&x).unwrap();
    let fd = fd_gradient(
        |y| p.cost(y).unwrap(),
        &x,
        None,
        Some(p.bounds()),
        FdScheme::ThreePoint,
    );
    assert_relative_eq!(g[3], fd.grad[3], max_relative = 1e-3);
    let scale = fd.grad.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for j in (0..7).filter(|&j| j != 3) {
        assert!(
            (g[j] - fd.grad[j]).abs() <= 1e-5 * scale,
            "d/dp{j}: {} vs {}",
            g[j],
            fd.grad[j]
        );
    }
}

#[test]
fn gradient_matches_central_differences_on_italy() {
    let Some((_, data)) = italy() else { return };
    let p = SeirdProblem::new(data, &tight(FitConfig::default())).unwrap();
    for x in probe_points() {
        check_gradient(&p, &x);
    }
}

#[test]
fn the_demo_truth_is_a_minimum_with_zero_loss() {
    // The demo data are the model's own output at DEMO_TRUTH, so the loss
    // there is zero up to the ODE tolerance (data from a plain solve, loss
    // from one with sensitivities, both at rtol 1e-8).
    let p = by_name("seird", ProblemOptions::default()).unwrap();
    assert_eq!(p.minima(), vec![DEMO_TRUTH.to_array().to_vec()]);
    assert_eq!(p.min_value(), Some(0.0));
    let truth = DEMO_TRUTH.to_array();
    assert!(p.cost(&truth).unwrap() < 1e-14);
    let g = p.gradient(&truth).unwrap();
    assert!(g.iter().all(|v| v.abs() < 1e-6), "{g:?}");
    // ... and every other probe point is worse.
    for x in probe_points() {
        assert!(p.cost(&x).unwrap() > 1e-6, "{x:?}");
    }
}

#[test]
fn tight_lbfgsb_recovers_the_demo_truth() {
    // scipy's default ftol is relative to max(|f|, 1), so on a loss of 1e-3
    // it stops early (7.3e-4 from the default start; reports/optimizers.md).
    // Tightened, L-BFGS-B walks to the truth.
    let p = SeirdProblem::demo().unwrap();
    let solver = LBFGSB::new(p.bounds().clone())
        .with_ftol(1e-15)
        .unwrap()
        .with_pgtol(1e-10)
        .unwrap();
    let x0 = p.x0();
    let res = Executor::new(DynProblem(Box::new(p)), solver)
        .configure(|s| s.param(x0).max_iters(5000))
        .run()
        .unwrap();
    let st = res.state();
    assert!(st.get_best_cost() < 1e-14, "f* = {}", st.get_best_cost());
    let x = st.get_best_param().unwrap();
    for (got, want) in x.iter().zip(DEMO_TRUTH.to_array()) {
        assert_relative_eq!(*got, want, max_relative = 1e-4);
    }
}

/// L-BFGS-B with default settings on the problem, as `seird-fit optimize
/// --solver lbfgsb` runs it.
fn lbfgsb_on(p: SeirdProblem) -> (Vec<f64>, f64, u64) {
    let solver = LBFGSB::new(p.bounds().clone());
    let x0 = p.x0();
    let res = Executor::new(DynProblem(Box::new(p)), solver)
        .configure(|s| s.param(x0).max_iters(15_000))
        .run()
        .unwrap();
    let st = res.state();
    (
        st.get_best_param().unwrap().clone(),
        st.get_best_cost(),
        st.get_iter(),
    )
}

/// The fit's optimum, re-scored the way the problem scores (with
/// sensitivities): `fit` reports the loss of a plain solve, which differs
/// by the ODE tolerance (~1e-7 relative).
/// The fit from the same single start point as a plain L-BFGS-B run (the
/// default fit also tries alternate starts and keeps the best).
fn single_start(c: &FitConfig) -> FitConfig {
    let mut c = *c;
    c.optimizer.starts = 1;
    c
}

fn assert_same_optimum(p: &SeirdProblem, x: &[f64], f: f64, iters: u64) {
    let r = fit(p.data(), &single_start(p.config())).unwrap();
    assert_eq!(iters, r.optimizer.iterations);
    for (a, b) in x.iter().zip(r.params.to_array()) {
        assert_relative_eq!(*a, b, max_relative = 1e-9);
    }
    let f_fit = p.clone().cost(&r.params.to_array()).unwrap();
    assert_relative_eq!(f, f_fit, max_relative = 1e-9);
    assert_relative_eq!(f, r.loss.msle, max_relative = 1e-5);
}

#[test]
fn lbfgsb_reaches_the_fits_loss_on_the_demo_data() {
    let p = SeirdProblem::demo().unwrap();
    let (x, f, iters) = lbfgsb_on(p.clone());
    assert_same_optimum(&p, &x, f, iters);
}

#[test]
fn lbfgsb_reaches_the_fits_loss_on_italy() {
    let Some((_, data)) = italy() else { return };
    let p = SeirdProblem::new(data, &FitConfig::default()).unwrap();
    let (x, f, iters) = lbfgsb_on(p.clone());
    assert_same_optimum(&p, &x, f, iters);
}

type St = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// Records every iterate.
#[derive(Clone, Default)]
struct Path(Arc<Mutex<Vec<Vec<f64>>>>);

impl Observe<St> for Path {
    fn observe_init(&mut self, _: &str, s: &St, _: &KV) -> Result<(), argmin::core::Error> {
        self.observe_iter(s, &KV::new())
    }
    fn observe_iter(&mut self, s: &St, _: &KV) -> Result<(), argmin::core::Error> {
        if let Some(x) = s.get_param() {
            self.0.lock().unwrap().push(x.clone());
        }
        Ok(())
    }
}

fn assert_inside(path: &[Vec<f64>], b: &Bounds) -> usize {
    let mut touching = 0;
    for x in path {
        for (j, v) in x.iter().enumerate() {
            assert!(
                b.lower()[j] <= *v && *v <= b.upper()[j],
                "x[{j}] = {v} outside [{}, {}]",
                b.lower()[j],
                b.upper()[j]
            );
        }
        if x.iter()
            .enumerate()
            .any(|(j, v)| *v == b.lower()[j] || *v == b.upper()[j])
        {
            touching += 1;
        }
    }
    touching
}

#[test]
fn projected_first_order_methods_stay_inside_the_box() {
    // Learning rates far too large for this loss, so that unprojected steps
    // would leave the box at once (theta's box is 0.14 wide, its gradient
    // ~20 at the start): the projection must hold every iterate in it.
    let p = SeirdProblem::demo().unwrap();
    let b = p.bounds().clone();
    let x0 = p.x0();

    let path = Path::default();
    let res = Executor::new(
        DynProblem(Box::new(p.clone())),
        Adam::new().with_lr(0.5).unwrap().with_bounds(b.clone()),
    )
    .configure(|s| s.param(x0.clone()).max_iters(200))
    .add_observer(path.clone(), ObserverMode::Always)
    .run()
    .unwrap();
    let adam_path = path.0.lock().unwrap().clone();
    assert_eq!(adam_path.len(), 201);
    assert!(
        assert_inside(&adam_path, &b) > 0,
        "the box was never active"
    );
    assert!(res.state().get_best_cost().is_finite());

    let path = Path::default();
    Executor::new(
        DynProblem(Box::new(p)),
        Momentum::new(0.05, 0.9).unwrap().with_bounds(b.clone()),
    )
    .configure(|s| s.param(x0).max_iters(200))
    .add_observer(path.clone(), ObserverMode::Always)
    .run()
    .unwrap();
    let momentum_path = path.0.lock().unwrap().clone();
    assert!(momentum_path.len() > 1);
    assert!(
        assert_inside(&momentum_path, &b) > 0,
        "the box was never active"
    );
}

// ------------------------------------------------------------- the binary

use crate::bin::run3 as seird_fit;

#[test]
fn cli_lbfgsb_json_matches_the_fit_on_the_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = seird_fit(
        dir.path(),
        &[
            "optimize",
            "--problem",
            "seird",
            "--solver",
            "lbfgsb",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let p = SeirdProblem::demo().unwrap();
    let r = fit(p.data(), &single_start(p.config())).unwrap();
    let f_fit = p.cost(&r.params.to_array()).unwrap();
    assert_relative_eq!(v["f"].as_f64().unwrap(), f_fit, max_relative = 1e-9);
    assert_eq!(v["iterations"], r.optimizer.iterations);
    assert_eq!(v["dim"], 7);
    // Distance to the demo truth: the default tolerances stop far from it.
    assert!(v["distance_to_minimum"].as_f64().unwrap() > 1.0);
}

#[test]
fn cli_lbfgsb_json_matches_the_fit_on_italy() {
    let Some((path, data)) = italy() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = path.to_string_lossy().into_owned();
    let (code, out, err) = seird_fit(
        dir.path(),
        &[
            "optimize",
            "--problem",
            "seird",
            "--data",
            &path,
            "--country",
            "Italy",
            "--end",
            "2020-04-30",
            "--solver",
            "lbfgsb",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let p = SeirdProblem::new(data, &FitConfig::default()).unwrap();
    let r = fit(p.data(), &single_start(p.config())).unwrap();
    let f_fit = p.cost(&r.params.to_array()).unwrap();
    assert_relative_eq!(v["f"].as_f64().unwrap(), f_fit, max_relative = 1e-9);
    // The reference minimum is the default fit's optimum (best of its start
    // points): no single L-BFGS-B run from the default start is below it.
    let best = fit(p.data(), p.config()).unwrap();
    let f_best = p.cost(&best.params.to_array()).unwrap();
    assert!(v["f"].as_f64().unwrap() >= f_best * (1.0 - 1e-9));
    assert!(v["distance_to_minimum"].as_f64().unwrap().is_finite());
}

#[test]
fn cli_every_solver_runs_on_seird() {
    let f_start = SeirdProblem::demo()
        .unwrap()
        .cost(&Params::DEFAULT_START.to_array())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = seird_fit(
        dir.path(),
        &[
            "optimize",
            "--compare",
            "--problem",
            "seird",
            "--max-iters",
            "30",
            "--markdown",
            "--plot",
            "compare.png",
        ],
    );
    assert_eq!(code, 0, "{err}");
    for s in [
        "lbfgsb",
        "newton",
        "gd",
        "gd-armijo",
        "momentum",
        "nesterov",
        "adagrad",
        "adadelta",
        "rmsprop",
        "adam",
    ] {
        let row = out
            .lines()
            .find(|l| l.starts_with(&format!("| seird | 7 | {s} |")))
            .unwrap_or_else(|| panic!("{s} missing:\n{out}"));
        // Every solver improves on the start.
        let f: f64 = row.split('|').nth(7).unwrap().trim().parse().unwrap();
        assert!(f < f_start, "{row} (f(x0) = {f_start})");
    }
    // Not a sum over samples: no SGD rows.
    assert!(!out.contains("sgd"));
    let png = std::fs::read(dir.path().join("compare.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
}

#[test]
fn cli_seird_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["optimize", "--problem", "booth", "--country", "Italy"],
            "--country applies to --problem seird only",
        ),
        (
            vec!["optimize", "--problem", "seird", "--end", "2020-04-30"],
            "--end needs --country",
        ),
        (
            vec!["optimize", "--problem", "seird", "--data", "train.csv"],
            "--data needs --country",
        ),
        (
            vec![
                "optimize",
                "--problem",
                "seird",
                "--data",
                "nowhere.csv",
                "--country",
                "Italy",
            ],
            "nowhere.csv",
        ),
        (
            vec!["optimize", "--problem", "seird", "--x0", "1,2"],
            "--x0: 2 values given, the problem has 7 variables",
        ),
    ] {
        let (code, out, err) = seird_fit(dir.path(), &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}
