//! Running a solver of the stack by name on a test problem, recording every
//! iterate: the engine of `seird-fit optimize`, of `--compare` and of the
//! optimizer report, here so that it is tested without the binary.
//!
//! [`run_solver`] runs one box solver ([`SOLVERS`]) on a [`TestProblem`]
//! under a [`RunSpec`] and returns an [`Outcome`] (answer, counts, the
//! termination reason, the trace); [`second_order_at`] and
//! [`start_hessian_warning`] are the diagnostics around it; [`run_auglag`]
//! runs the augmented Lagrangian solver on a constrained [`Nlp`].

use std::sync::{Arc, Mutex};
use std::time::Instant;

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{Executor, IterState, Solver, State, KV};

use super::numerics::condition_number;
use super::problems::constrained::Nlp;
use super::problems::{distance_to_minimum, DynProblem, TestProblem};
use super::second_order::{self, SecondOrder};
use super::stopping::MSG_DIVERGED;
use super::{
    AdaDelta, AdaGrad, Adam, Armijo, AugLag, Bounds, GradientDescent, Kkt, Momentum, Nesterov,
    Newton, OptimError, RMSprop, LBFGSB, SGD,
};

/// Every box solver [`run_solver`] knows, in `--compare` order.
pub const SOLVERS: &[&str] = &[
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
    "sgd",
    "minibatch-sgd",
];

/// The state every solver of [`SOLVERS`] runs on.
pub type St = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// One recorded iterate.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Completed iterations at this point (0: the start).
    pub iter: u64,
    /// The loss there.
    pub cost: f64,
    /// The iterate.
    pub x: Vec<f64>,
}

/// An argmin observer that records every iterate; clones share the record.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Point>>>);

impl Recorder {
    /// `iter` is the number of completed iterations at this point.
    fn push(&self, state: &St, iter: u64) {
        if let (Ok(mut v), Some(x)) = (self.0.lock(), state.get_param()) {
            v.push(Point {
                iter,
                cost: state.get_cost(),
                x: x.clone(),
            });
        }
    }

    /// The iterates recorded so far.
    pub fn points(&self) -> Vec<Point> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Observe<St> for Recorder {
    fn observe_init(
        &mut self,
        _name: &str,
        state: &St,
        _kv: &KV,
    ) -> Result<(), argmin::core::Error> {
        self.push(state, 0);
        Ok(())
    }
    fn observe_iter(&mut self, state: &St, _kv: &KV) -> Result<(), argmin::core::Error> {
        // Observers see the state before the executor counts the iteration.
        self.push(state, state.get_iter() + 1);
        Ok(())
    }
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Solver name (one of [`SOLVERS`]).
    pub solver: String,
    /// Problem name.
    pub problem: String,
    /// Number of variables.
    pub dim: usize,
    /// The best point found.
    pub x: Vec<f64>,
    /// The loss there.
    pub f: f64,
    /// Iterations (epochs for SGD).
    pub iterations: u64,
    /// Loss evaluations (argmin's count).
    pub cost_evals: u64,
    /// Gradient evaluations, full or mini-batch.
    pub gradient_evals: u64,
    /// Hessian evaluations.
    pub hessian_evals: u64,
    /// argmin's termination text (the scipy-style message for L-BFGS-B).
    pub termination: String,
    /// Wall time of the run.
    pub seconds: f64,
    /// Distance to the nearest known minimiser, if one is known.
    pub error: Option<f64>,
    /// Every iterate.
    pub trace: Vec<Point>,
}

impl Outcome {
    /// True when the run ended by divergence (detected, or a non-finite cost).
    pub fn diverged(&self) -> bool {
        let t = &self.termination;
        t.contains(MSG_DIVERGED) || t.contains("non-finite cost")
    }

    /// Advice for a run that ended badly, e.g. a smaller learning rate
    /// after divergence.
    pub fn hint(&self) -> Option<String> {
        self.diverged()
            .then(|| format!("{} diverged: lower the learning rate (--lr)", self.solver))
    }

    /// The run as JSON (the fields of `optimize --json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "problem": self.problem,
            "dim": self.dim,
            "solver": self.solver,
            "x": self.x,
            "f": self.f,
            "iterations": self.iterations,
            "loss_evals": self.cost_evals,
            "gradient_evals": self.gradient_evals,
            "hessian_evals": self.hessian_evals,
            "termination": self.termination,
            "seconds": self.seconds,
            "distance_to_minimum": self.error,
            "hint": self.hint(),
        })
    }
}

/// The learning rate a solver uses on a problem when none is given.
pub fn default_lr(solver: &str, problem: &str) -> f64 {
    match (problem, solver) {
        (_, "gd-armijo") => 1.0,
        // The SEIRD loss is badly scaled (at the default start |df/dtheta|
        // is ~250 times |df/dL| while theta's box is ~1400 times narrower),
        // so one rate cannot suit every parameter; these come from a sweep
        // over 1e-4 .. 1 at 2000 iterations on the demo problem, the best
        // few re-run at 10 000. Unlisted solvers keep their defaults.
        ("seird", "gd" | "momentum" | "nesterov") => 3e-3,
        ("seird", "adagrad") => 0.3,
        ("seird", "adam") => 3e-2,
        (_, "adagrad") => 0.1,
        (_, "sgd" | "minibatch-sgd") => 0.01,
        _ => 1e-3,
    }
}

/// Settings of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Solver name (one of [`SOLVERS`]).
    pub solver: String,
    /// Learning rate; `None`: [`default_lr`].
    pub lr: Option<f64>,
    /// Maximum iterations (epochs for SGD).
    pub max_iters: u64,
    /// Start point.
    pub x0: Vec<f64>,
    /// Box; `None`: unbounded.
    pub bounds: Option<Bounds>,
    /// Mini-batch size of `minibatch-sgd`.
    pub batch_size: usize,
    /// Seed of SGD's shuffling.
    pub seed: u64,
}

impl RunSpec {
    /// A run of `solver` from `x0` with the problem's own box and defaults
    /// elsewhere (10 000 iterations, batch 10, seed 42).
    pub fn new(solver: &str, problem: &dyn TestProblem) -> RunSpec {
        RunSpec {
            solver: solver.to_string(),
            lr: None,
            max_iters: 10_000,
            x0: problem.x0(),
            bounds: problem.bounds(),
            batch_size: 10,
            seed: 42,
        }
    }
}

fn run_err(what: String, e: impl std::fmt::Display) -> OptimError {
    OptimError::Run {
        what,
        message: e.to_string(),
    }
}

/// Runs `solver` on `problem` under `spec`, recording every iterate.
pub fn execute<S>(
    problem: Box<dyn TestProblem>,
    solver: S,
    spec: &RunSpec,
) -> Result<Outcome, OptimError>
where
    S: Solver<DynProblem, St> + 'static,
{
    let recorder = Recorder::default();
    let name = problem.name().to_string();
    let dim = problem.dim();
    let what = format!("{name} with {}", spec.solver);
    let start = Instant::now();
    let res = Executor::new(DynProblem(problem), solver)
        .configure(|s| {
            s.param(spec.x0.clone())
                .max_iters(spec.max_iters)
                .counting(true)
        })
        .add_observer(recorder.clone(), ObserverMode::Always)
        .run()
        .map_err(|e| match e.downcast::<OptimError>() {
            Ok(oe) => oe,
            Err(e) => run_err(what.clone(), e),
        })?;
    let seconds = start.elapsed().as_secs_f64();
    let state = res.state();
    let counts = state.get_func_counts();
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    let x = state
        .get_best_param()
        .or_else(|| state.get_param())
        .cloned()
        .unwrap_or_default();
    let problem = res
        .problem
        .problem
        .as_ref()
        .ok_or_else(|| run_err(what.clone(), "problem lost by the executor"))?;
    let error = distance_to_minimum(problem.0.as_ref(), &x);
    Ok(Outcome {
        solver: spec.solver.clone(),
        problem: name,
        dim,
        f: state.get_best_cost(),
        x,
        iterations: state.get_iter(),
        cost_evals: count("cost_count"),
        gradient_evals: count("gradient_count") + count("batch_gradient_count"),
        hessian_evals: count("hessian_count"),
        termination: state
            .get_termination_reason()
            .map_or_else(|| "running".to_string(), |r| r.text().to_string()),
        seconds,
        error,
        trace: recorder.points(),
    })
}

/// Runs the solver `spec.solver` (one of [`SOLVERS`]) on `problem`.
pub fn run_solver(problem: Box<dyn TestProblem>, spec: &RunSpec) -> Result<Outcome, OptimError> {
    let lr = spec
        .lr
        .unwrap_or_else(|| default_lr(&spec.solver, problem.name()));
    let n = problem.dim();
    macro_rules! go {
        ($solver:expr) => {{
            let s = $solver;
            match &spec.bounds {
                Some(b) => execute(problem, s.with_bounds(b.clone()), spec),
                None => execute(problem, s, spec),
            }
        }};
    }
    match spec.solver.as_str() {
        "lbfgsb" => {
            let b = spec.bounds.clone().unwrap_or_else(|| Bounds::unbounded(n));
            execute(problem, LBFGSB::new(b), spec)
        }
        "newton" => go!(Newton::new()),
        "gd" => go!(GradientDescent::new(lr)?),
        "gd-armijo" => {
            go!(GradientDescent::new(lr).and_then(|g| g.with_armijo(Armijo::default()))?)
        }
        "momentum" => go!(Momentum::new(lr, 0.9)?),
        "nesterov" => go!(Nesterov::new(lr, 0.9)?),
        "adagrad" => go!(AdaGrad::new(lr)?),
        "adadelta" => go!(AdaDelta::new()),
        "rmsprop" => go!(RMSprop::new(lr)?),
        "adam" => go!(Adam::new().with_lr(lr)?),
        "sgd" | "minibatch-sgd" => {
            if problem.as_sum().is_none() {
                return Err(OptimError::NotASum {
                    solver: spec.solver.clone(),
                    problem: problem.name().to_string(),
                });
            }
            let batch = if spec.solver == "sgd" {
                1
            } else {
                spec.batch_size
            };
            go!(SGD::new(lr)
                .and_then(|s| s.with_batch_size(batch))?
                .with_seed(spec.seed))
        }
        other => Err(OptimError::UnknownSolver {
            name: other.to_string(),
            known: SOLVERS.join(", "),
        }),
    }
}

/// The Hessian of `problem` at `x` (analytic, or central differences of
/// the gradient inside the problem's box).
pub fn hessian_at(problem: &DynProblem, x: &[f64]) -> Option<Vec<Vec<f64>>> {
    argmin::core::Hessian::hessian(problem, &x.to_vec()).ok()
}

/// Largest dimension for which the dense Hessian diagnostics are computed.
pub const DENSE_LIMIT: usize = 200;

/// The warning about the Hessian's conditioning at the start point, for
/// the one solver that uses the Hessian, Newton; `None` for every other
/// solver (first-order runs never form it), for a well-conditioned start,
/// and above [`DENSE_LIMIT`] variables.
pub fn start_hessian_warning(solver: &str, problem: &DynProblem, x0: &[f64]) -> Option<String> {
    if solver != "newton" || problem.0.dim() > DENSE_LIMIT {
        return None;
    }
    hessian_at(problem, x0).and_then(|h| condition_number(&h).ok()?.warning)
}

/// The second-order check at the end point `x` (up to [`DENSE_LIMIT`]
/// variables): a strict minimum, a saddle, or not a strict minimum.
pub fn second_order_at(
    problem: &DynProblem,
    x: &[f64],
    bounds: Option<&Bounds>,
) -> Option<SecondOrder> {
    if problem.0.dim() > DENSE_LIMIT {
        return None;
    }
    let g = argmin::core::Gradient::gradient(problem, &x.to_vec()).ok()?;
    let h = hessian_at(problem, x)?;
    second_order::check(x, &g, &h, bounds, 1e-8).ok()
}

/// What [`run_auglag`] produced.
#[derive(Debug, Clone)]
pub struct ConstrainedOutcome {
    /// Problem name (`expression` for a typed-in one).
    pub problem: String,
    /// Number of variables.
    pub dim: usize,
    /// The point reached.
    pub x: Vec<f64>,
    /// The objective there.
    pub f: f64,
    /// The published minimum (NaN if unknown).
    pub published_f: f64,
    /// Distance to the published minimiser, if one is known.
    pub distance_to_published: Option<f64>,
    /// Multipliers of the equality constraints.
    pub multipliers_eq: Vec<f64>,
    /// Multipliers of the inequality constraints (`>= 0`).
    pub multipliers_ineq: Vec<f64>,
    /// The KKT residuals at `x`.
    pub kkt: Kkt,
    /// The final penalty parameter.
    pub penalty: f64,
    /// Outer (multiplier) iterations.
    pub iterations: u64,
    /// Inner L-BFGS-B iterations, summed.
    pub inner_iterations: u64,
    /// Objective evaluations.
    pub cost_evals: u64,
    /// Objective gradient evaluations.
    pub gradient_evals: u64,
    /// argmin's termination text.
    pub termination: String,
    /// Wall time.
    pub seconds: f64,
}

impl ConstrainedOutcome {
    /// The run as JSON (the fields of `optimize --solver auglag --json`).
    pub fn to_json(&self) -> serde_json::Value {
        let finite = |v: f64| v.is_finite().then_some(v);
        serde_json::json!({
            "problem": self.problem,
            "dim": self.dim,
            "solver": "auglag",
            "x": self.x,
            "f": self.f,
            "published_f": finite(self.published_f),
            "distance_to_published": self.distance_to_published,
            "multipliers_eq": self.multipliers_eq,
            "multipliers_ineq": self.multipliers_ineq,
            "kkt": {
                "stationarity": self.kkt.stationarity,
                "feasibility": self.kkt.feasibility,
                "complementarity": self.kkt.complementarity,
            },
            "penalty": self.penalty,
            "iterations": self.iterations,
            "inner_iterations": self.inner_iterations,
            "loss_evals": self.cost_evals,
            "gradient_evals": self.gradient_evals,
            "termination": self.termination,
            "seconds": self.seconds,
        })
    }
}

/// Runs the augmented Lagrangian solver on `p` from `x0` in `bounds`
/// (`None`: the problem's own start and box).
pub fn run_auglag(
    p: Nlp,
    x0: Option<Vec<f64>>,
    bounds: Option<Bounds>,
    max_iters: u64,
) -> Result<ConstrainedOutcome, OptimError> {
    let x0 = x0.unwrap_or_else(|| p.x0.clone());
    let bounds = bounds.unwrap_or_else(|| p.bounds.clone());
    let (name, x_star, f_star) = (p.name.to_string(), p.x_star.clone(), p.f_star);
    let dim = p.x0.len();
    let what = format!("{name} with auglag");
    let started = Instant::now();
    let res = Executor::new(p, AugLag::new(bounds))
        .configure(|s| s.param(x0).max_iters(max_iters))
        .run()
        .map_err(|e| match e.downcast::<OptimError>() {
            Ok(oe) => oe,
            Err(e) => run_err(what.clone(), e),
        })?;
    let seconds = started.elapsed().as_secs_f64();
    let state = res.state();
    let x = state.get_param().cloned().unwrap_or_default();
    let s = res.solver();
    let counts = &res.problem().counts;
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    let distance_to_published = (x_star.len() == x.len()).then(|| {
        x.iter()
            .zip(&x_star)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
    });
    Ok(ConstrainedOutcome {
        problem: name,
        dim,
        f: state.get_cost(),
        published_f: f_star,
        distance_to_published,
        multipliers_eq: s.multipliers_eq().to_vec(),
        multipliers_ineq: s.multipliers_ineq().to_vec(),
        kkt: s.kkt(),
        penalty: s.penalty(),
        iterations: state.get_iter(),
        inner_iterations: s.inner_iterations(),
        cost_evals: count("cost_count"),
        gradient_evals: count("gradient_count"),
        termination: state
            .get_termination_reason()
            .map_or_else(|| "running".to_string(), |r| r.text().to_string()),
        seconds,
        x,
    })
}

/// `runs` as a Markdown table (the `optimize --compare --markdown` table).
pub fn markdown_table(runs: &[Outcome]) -> String {
    let mut s = String::from(
        "| problem | n | solver | iterations | loss evals | gradient evals | f* | distance to minimum | time (ms) | termination |\n\
         |---|---:|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for o in runs {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.3e} | {} | {:.2} | {} |\n",
            o.problem,
            o.dim,
            o.solver,
            o.iterations,
            o.cost_evals,
            o.gradient_evals,
            o.f,
            o.error.map_or("-".into(), |e| format!("{e:.1e}")),
            o.seconds * 1e3,
            o.termination
        ));
    }
    s
}

/// Constrained runs as a Markdown table: reached against published optimum,
/// multipliers and KKT residuals.
pub fn constrained_markdown_table(runs: &[ConstrainedOutcome]) -> String {
    let mut s = String::from(
        "| problem | n | f reached | f published | distance to published x* | multipliers | stationarity | feasibility | complementarity | outer / inner iterations | loss evals | time (ms) | termination |\n\
         |---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for o in runs {
        let mult: Vec<String> = o
            .multipliers_eq
            .iter()
            .map(|v| format!("λ {v:.5}"))
            .chain(o.multipliers_ineq.iter().map(|v| format!("μ {v:.5}")))
            .collect();
        s.push_str(&format!(
            "| {} | {} | {:.7} | {} | {} | {} | {:.1e} | {:.1e} | {:.1e} | {} / {} | {} | {:.2} | {} |\n",
            o.problem,
            o.dim,
            o.f,
            if o.published_f.is_finite() {
                format!("{:.7}", o.published_f)
            } else {
                "-".into()
            },
            o.distance_to_published
                .map_or("-".into(), |d| format!("{d:.1e}")),
            mult.join(", "),
            o.kkt.stationarity,
            o.kkt.feasibility,
            o.kkt.complementarity,
            o.iterations,
            o.inner_iterations,
            o.cost_evals,
            o.seconds * 1e3,
            o.termination
        ));
    }
    s
}

/// The iterates of `o` as CSV: `iter,loss,x0,x1,...`, one row per point.
pub fn trace_csv(o: &Outcome) -> String {
    let mut s = String::from("iter,loss");
    for i in 0..o.dim {
        s.push_str(&format!(",x{i}"));
    }
    s.push('\n');
    for p in &o.trace {
        s.push_str(&format!("{},{:e}", p.iter, p.cost));
        for v in &p.x {
            s.push_str(&format!(",{v:e}"));
        }
        s.push('\n');
    }
    s
}
