//! Issue 12: fits that reach the true minimum, and say what the data cannot
//! determine. The stopping test's invariance to the scale of the loss, the
//! real Germany and US fits against the minima an independent search found
//! (ftol = 0, gtol = 1e-10 from four starts: 1.2119e-3 and 6.766e-5), the
//! start design, the profile-likelihood intervals on the demo, and the
//! recovery of known parameters from simulated noisy regions.

use crate::common;

use argmin::core::{CostFunction, Error, Executor, Gradient, State};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use seird_fit::data::TrainingData;
use seird_fit::fit::identify::{self, Identifiability};
use seird_fit::fit::{fit, start_points, FitConfig, SeirdObjective};
use seird_fit::model::{OdeSettings, OdeSolver, Params, PARAM_NAMES};
use seird_fit::optim::{Bounds, Stopping, LBFGSB};

/// `c * (1 + Rosenbrock(x))` in 4 variables: a minimum of `c` at (1, 1, 1, 1).
struct Scaled {
    c: f64,
}

impl Scaled {
    fn fg(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let mut f = 1.0;
        let mut g = vec![0.0; x.len()];
        for i in 0..x.len() - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            f += 100.0 * a * a + b * b;
            g[i] += -400.0 * a * x[i] - 2.0 * b;
            g[i + 1] += 200.0 * a;
        }
        (self.c * f, g.iter().map(|v| self.c * v).collect())
    }
}

impl CostFunction for Scaled {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(self.fg(x).0)
    }
}

impl Gradient for Scaled {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.fg(x).1)
    }
}

/// Runs L-BFGS-B on `c * (1 + Rosenbrock)`; returns (iterations, x, f / c).
fn run_scaled(c: f64, stopping: Stopping) -> (u64, Vec<f64>, f64) {
    let bounds = Bounds::new(vec![-2.0; 4], vec![2.0; 4]).unwrap();
    let solver = LBFGSB::new(bounds)
        .with_ftol(1e-12)
        .unwrap()
        .with_stopping(stopping);
    let res = Executor::new(Scaled { c }, solver)
        .configure(|s| s.param(vec![-1.2, 1.0, -1.2, 1.0]).max_iters(2000))
        .run()
        .unwrap();
    let st = res.state();
    (
        st.get_iter(),
        st.get_best_param().unwrap().clone(),
        st.get_best_cost() / c,
    )
}

#[test]
fn relative_stopping_is_invariant_to_the_scale_of_the_loss() {
    // L-BFGS-B's first step is not scale-invariant (its initial Hessian is
    // the identity), but where it stops must be: every scale of the same
    // function must end at its minimum, f / c = 1 at (1, 1, 1, 1).
    for c in [2f64.powi(-20), 1e-6, 1e-3, 1.0] {
        let (_, x, f) = run_scaled(c, Stopping::Relative);
        assert!((f - 1.0).abs() < 1e-9, "scale {c}: f/c {f}");
        for v in &x {
            assert!((v - 1.0).abs() < 1e-4, "scale {c}: x {x:?}");
        }
    }
    // scipy's test is absolute below 1: on the small-scale copy it stops
    // far earlier, short of the minimum.
    let (it_small, _, f_small) = run_scaled(2f64.powi(-20), Stopping::Scipy);
    let (it_one, _, f_one) = run_scaled(1.0, Stopping::Scipy);
    assert!(it_small < it_one, "{it_small} vs {it_one}");
    assert!(
        f_small - 1.0 > 1e-6,
        "scipy at 2^-20 stopped at f/c = {f_small}"
    );
    assert!((f_one - 1.0).abs() < 1e-9, "scipy at scale 1: {f_one}");
}

/// The loss of `p` by one tight solve (rtol 1e-12).
fn rescored(data: &TrainingData, p: &Params) -> f64 {
    let cfg = FitConfig {
        ode: OdeSettings {
            rtol: 1e-12,
            atol: 1e-10,
            max_steps: 1_000_000,
            solver: OdeSolver::Native,
        },
        ..FitConfig::default()
    };
    SeirdObjective::new(data, &cfg)
        .unwrap()
        .loss(p)
        .unwrap()
        .msle
}

#[test]
fn germany_and_us_reach_the_minima_of_an_exhaustive_search() {
    // Issue 12: scipy's test stopped Germany at 3.1e-3 and US at 3.5e-4.
    for (name, best) in [("Germany", 1.2119e-3), ("US", 6.766e-5)] {
        let Some(d) = common::jhu_to_2020_04_30(name) else {
            eprintln!("skipped: no shared data");
            return;
        };
        let r = fit(&d, &FitConfig::default()).unwrap();
        let l = rescored(&d, &r.params);
        assert!(
            l <= best * 1.01,
            "{name}: re-scored {l:e}, best known {best:e}"
        );
        assert!(
            l >= best * 0.99,
            "{name}: {l:e} below the best known {best:e}?"
        );
        assert_eq!(r.optimizer.stopping, Stopping::Relative);
        assert!(
            ["pgtol", "ftol", "line_search"].contains(&r.optimizer.stopped_by.as_str()),
            "{name}: {}",
            r.optimizer.stopped_by
        );
        // The final projected gradient is recorded (US ends by the
        // reduction test with pg ~ f: the loss is flat along L).
        assert!(r.optimizer.pg_norm.is_finite() && r.optimizer.pg_norm >= 0.0);
        // Under scipy's test the same fit stops short (the finding).
        let mut scipy = FitConfig::default();
        scipy.optimizer.stopping = Stopping::Scipy;
        scipy.optimizer.ftol = 2.220_446_049_250_313e-9;
        scipy.optimizer.screen = 0;
        let s = fit(&d, &scipy).unwrap();
        assert!(rescored(&d, &s.params) > 1.5 * best, "{name} under scipy");
        assert_eq!(s.optimizer.stopped_by, "ftol");
    }
}

#[test]
fn start_design_is_deterministic_in_the_box_and_configurable() {
    let mut cfg = FitConfig::default();
    cfg.optimizer.screen = 64;
    cfg.optimizer.starts = 10;
    let a = start_points(&cfg);
    assert_eq!(a, start_points(&cfg));
    // The configured start, the three alternates, then the Sobol points.
    assert_eq!(a.len(), 4 + 64);
    assert_eq!(a[0], cfg.start);
    let (lo, hi) = (cfg.bounds.lower.to_array(), cfg.bounds.upper.to_array());
    for p in &a {
        let x = p.to_array();
        for j in 0..7 {
            assert!(x[j] >= lo[j] && x[j] <= hi[j], "{x:?}");
        }
    }
    // A (0, m, s)-net's stratification: of the first 64 Sobol points, each
    // eighth of every parameter's range holds exactly 8.
    for j in 0..7 {
        let mut counts = [0; 8];
        for p in &a[4..] {
            let u = (p.to_array()[j] - lo[j]) / (hi[j] - lo[j]);
            counts[((u * 8.0) as usize).min(7)] += 1;
        }
        assert_eq!(counts, [8; 8], "parameter {}", PARAM_NAMES[j]);
    }
    // Without screening the old design: the first `starts` fixed points.
    cfg.optimizer.screen = 0;
    cfg.optimizer.starts = 2;
    assert_eq!(start_points(&cfg).len(), 2);
    // More than 4 polished starts is a valid configuration.
    let c = seird_fit::config::from_toml("[optimizer]\nstarts = 12\nscreen = 100\n").unwrap();
    assert!(c.validate("t").is_ok());
    let c = seird_fit::config::from_toml("[optimizer]\nstarts = 0\n").unwrap();
    assert!(c.validate("t").is_err());
    let c = seird_fit::config::from_toml("[optimizer]\nstopping = \"scipy\"\n").unwrap();
    assert_eq!(c.optimizer.stopping, Stopping::Scipy);
    assert!(seird_fit::config::from_toml("[optimizer]\nstopping = \"loose\"\n").is_err());
}

#[test]
fn on_bound_is_relative_to_the_box_width() {
    // Italy's R_0 = 6.48999 in a box of width 6.49 was missed by 1e-10.
    assert!(identify::on_bound(6.49 - 1e-6, 0.0, 6.49));
    assert!(identify::on_bound(200.0 - 1e-4, 0.0, 200.0));
    assert!(!identify::on_bound(6.48, 0.0, 6.49));
    assert!(identify::on_bound(0.0, 0.0, 5.0));
}

/// Seeded multiplicative log-normal noise, independent from day to day,
/// on each cumulative count: the error model the profile likelihood
/// assumes (Gaussian log residuals of one scale). Noise on the daily
/// increments instead (as `seird-fit simulate` makes) accumulates into a
/// random walk that the fit partly absorbs; the intervals are then too
/// narrow (see the report of issue 12).
fn noisy(series: &[f64], sd: f64, rng: &mut rand::rngs::StdRng) -> Vec<f64> {
    let n = Normal::new(0.0, sd).unwrap();
    series
        .iter()
        .map(|y| (y * (n.sample(rng) - sd * sd / 2.0).exp()).round())
        .collect()
}

fn simulated(truth: &Params, days: usize, seed: u64) -> TrainingData {
    let mut d = common::synthetic(truth, 5e6, 20.0, days, false);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    d.cases = noisy(&d.cases, 0.05, &mut rng);
    d.deaths = noisy(&d.deaths, 0.05, &mut rng);
    d
}

#[test]
fn the_demo_truth_lies_in_its_interval() {
    // data/ is the demo made by `seird-fit simulate` (truth in data/truth.json).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = common::demo_training_data();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("data/truth.json")).unwrap())
            .unwrap();
    let mut r = fit(&d, &FitConfig::default()).unwrap();
    let p = identify::identify(&d, &mut r);
    let ci = r.params_ci.as_ref().unwrap();
    let r0 = truth["params"]["r_0"].as_f64().unwrap();
    assert!(
        ci["r_0"][0] <= r0 && r0 <= ci["r_0"][1],
        "R_0 {r0} outside {:?}",
        ci["r_0"]
    );
    // The interval holds the estimate, and every profile point inside the
    // interval is below the threshold (the definition).
    for (j, prof) in p.params.iter().enumerate() {
        let x = r.params.to_array()[j];
        assert!(
            prof.interval[0] <= x && x <= prof.interval[1],
            "{}",
            prof.name
        );
        for &(v, l) in &prof.points {
            if v > prof.interval[0] && v < prof.interval[1] {
                assert!(l <= p.threshold * (1.0 + 1e-9), "{} at {v}: {l}", prof.name);
            }
        }
    }
    assert_eq!(r.identifiable.as_ref().unwrap().len(), 7);
}

/// Truths spread over the box: a Latin hypercube over its inner 80 % with
/// d_inc inside its narrow box, from a fixed seed.
fn truths(n: usize, seed: u64) -> Vec<Params> {
    use rand::seq::SliceRandom;
    use rand::Rng;
    let cfg = FitConfig::default();
    let (lo, hi) = (cfg.bounds.lower.to_array(), cfg.bounds.upper.to_array());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let cols: Vec<Vec<f64>> = (0..7)
        .map(|j| {
            let mut idx: Vec<usize> = (0..n).collect();
            idx.shuffle(&mut rng);
            idx.iter()
                .map(|&i| {
                    let u = (i as f64 + rng.gen::<f64>()) / n as f64;
                    lo[j] + (0.1 + 0.8 * u) * (hi[j] - lo[j])
                })
                .collect()
        })
        .collect();
    (0..n)
        .map(|i| Params::from_array(std::array::from_fn(|j| cols[j][i])))
        .collect()
}

/// Fits `n` simulated noisy regions; returns (covered, identifiable) counts
/// over (region, parameter) pairs, and the number reported not identifiable.
fn recovery(n: usize, days: usize) -> (usize, usize, usize) {
    let (mut covered, mut ident, mut not_ident) = (0, 0, 0);
    for (i, truth) in truths(n, 12).iter().enumerate() {
        let d = simulated(truth, days, 100 + i as u64);
        let mut r = fit(&d, &FitConfig::default()).unwrap();
        identify::identify(&d, &mut r);
        let ci = r.params_ci.unwrap();
        let verdict = r.identifiable.unwrap();
        let t = truth.to_array();
        for (j, name) in PARAM_NAMES.iter().enumerate() {
            if verdict[*name] == Identifiability::NotIdentifiable {
                not_ident += 1;
                continue;
            }
            ident += 1;
            let [a, b] = ci[*name];
            if a <= t[j] && t[j] <= b {
                covered += 1;
            } else {
                let lt = SeirdObjective::new(&d, &FitConfig::default())
                    .unwrap()
                    .loss(truth)
                    .unwrap()
                    .msle;
                eprintln!(
                    "region {i} {name}: truth {} not in [{a}, {b}] (loss {} at the fit, {lt} at the truth)",
                    t[j], r.loss.msle
                );
            }
        }
    }
    (covered, ident, not_ident)
}

#[test]
fn recovers_identifiable_parameters_of_twenty_simulated_regions() {
    // 20 regions, 80 days, 5 % noise: every parameter reported identifiable
    // must hold its truth in its 90 % interval in at least 90 % of cases.
    // Measured: 25 of 25; the other 115 of 140 are reported not
    // identifiable (20 scored days rarely pin down k, L or D_inc).
    let (covered, ident, not_ident) = recovery(20, 80);
    eprintln!("covered {covered} of {ident} identifiable; {not_ident} not identifiable");
    assert!(ident >= 10, "only {ident} identifiable");
    assert!(covered as f64 >= 0.9 * ident as f64, "{covered} of {ident}");
    assert_eq!(covered + (ident - covered) + not_ident, 140);
}

#[test]
fn cli_profiles_writes_one_png_and_the_intervals_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let data = data.to_string_lossy();
    let (code, _, err) = crate::bin::run3(
        dir.path(),
        &[
            "--country",
            "Demoland",
            "--data",
            &data,
            "--out",
            "out",
            "--profiles",
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let region = dir.path().join("out/demoland");
    let png = std::fs::read(region.join("profiles.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(region.join("fit.json")).unwrap()).unwrap();
    for name in PARAM_NAMES {
        let ci = &v["params_ci"][name];
        let (a, b) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
        let x = v["params"][name].as_f64().unwrap();
        assert!(a <= x && x <= b, "{name}: {x} outside [{a}, {b}]");
        let verdict = v["identifiable"][name].as_str().unwrap();
        assert!(
            ["estimated", "on_bound", "not_identifiable"].contains(&verdict),
            "{verdict}"
        );
    }
    assert!(v["optimizer"]["pg_norm"].as_f64().unwrap().is_finite());
    assert_eq!(v["optimizer"]["stopping"], "relative");
    let md = std::fs::read_to_string(region.join("report.md")).unwrap();
    assert!(md.contains("90 % profile-likelihood intervals"), "{md}");
}
