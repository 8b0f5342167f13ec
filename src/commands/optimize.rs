//! `seird-fit optimize`: minimise a shipped test problem with any solver of
//! the optimizer stack, or compare them all (`--compare`).
//!
//! Prints x*, f*, iterations, loss and gradient evaluations, termination
//! reason and time (or JSON with `--json`, a Markdown table with
//! `--markdown`); `--trace` writes every iterate as CSV; `--plot` draws the
//! loss curve and, for 2-D problems, the contour map with the path of the
//! iterates.
//!
//! `--problem seird` is the SEIRD fit loss itself: by default on the demo
//! data of `seird-fit simulate` (noise-free, known minimum at the true
//! parameters), or with `--country` on a real region read like `seird-fit
//! fit` reads it (same data flags, window and configuration file), with the
//! L-BFGS-B optimum of the fit as the reference minimum.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, Once};
use std::time::Instant;

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{Executor, IterState, Solver, State, KV};
use chrono::NaiveDate;
use clap::Args;
use plotters::prelude::*;

use super::DataArgs;
use crate::data;
use crate::error::{Error, FitError};
use crate::fit::problem::{by_name, names, SeirdProblem};
use crate::optim::numerics::condition_number;
use crate::optim::problems::{
    constrained, distance_to_minimum, DynProblem, ProblemOptions, TestProblem,
};
use crate::optim::second_order;
use crate::optim::stopping::MSG_DIVERGED;
use crate::optim::{
    AdaDelta, AdaGrad, Adam, Armijo, AugLag, Bounds, GradientDescent, Momentum, Nesterov, Newton,
    OptimError, RMSprop, LBFGSB, SGD,
};

/// Every solver name `--solver` accepts, in `--compare` order.
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

/// Arguments of `seird-fit optimize`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:\n  \
    seird-fit optimize --problem rosenbrock --dim 2 --solver adam --lr 0.01 --max-iters 5000 --x0 -1.5,1.5\n  \
    seird-fit optimize --problem himmelblau --solver rmsprop --trace trace.csv --plot path.png\n  \
    seird-fit optimize --problem rosenbrock --dim 100 --solver lbfgsb --bounds -2:2 --json\n  \
    seird-fit optimize --compare --problem rosenbrock\n  \
    seird-fit optimize --problem seird --solver adam --max-iters 2000\n  \
    seird-fit optimize --compare --problem seird --data data/train.csv --country Italy --end 2020-04-30")]
pub struct OptimizeArgs {
    /// Test problem: quadratic, rosenbrock, himmelblau, beale, booth,
    /// least-squares, logistic, seird (the SEIRD fit loss; with --compare
    /// also `all`).
    #[arg(long, default_value = "rosenbrock")]
    pub problem: String,
    /// Dimension (problems that have one; default: the problem's own).
    #[arg(long)]
    pub dim: Option<usize>,
    /// Condition number of the quadratic bowl.
    #[arg(long, default_value_t = 10.0)]
    pub cond: f64,
    /// Solver: lbfgsb, newton, gd, gd-armijo, momentum, nesterov, adagrad,
    /// adadelta, rmsprop, adam, sgd, minibatch-sgd; or auglag (augmented
    /// Lagrangian) with a constrained problem: ball-lsq, hs6, hs7, hs71, hs100.
    #[arg(long, default_value = "lbfgsb")]
    pub solver: String,
    /// Learning rate (initial step for gd-armijo); default per solver (and,
    /// for seird, per problem).
    #[arg(long, allow_hyphen_values = true)]
    pub lr: Option<f64>,
    /// Maximum iterations (epochs for SGD).
    #[arg(long, default_value_t = 10_000)]
    pub max_iters: u64,
    /// Start point, comma-separated (default: the problem's own).
    #[arg(long, allow_hyphen_values = true)]
    pub x0: Option<String>,
    /// Box: `lo:hi` for every variable, or one `lo:hi` per variable,
    /// comma-separated; `inf`/`-inf` allowed.
    #[arg(long, allow_hyphen_values = true)]
    pub bounds: Option<String>,
    /// Mini-batch size for minibatch-sgd.
    #[arg(long, default_value_t = 10)]
    pub batch_size: usize,
    /// Seed of SGD's shuffling and of the synthetic data sets.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write every iterate to this CSV file.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Draw the loss curve (and, in 2-D, the path on the contour map) to this PNG or SVG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Run every solver on the problem: a table and one convergence plot.
    #[arg(long)]
    pub compare: bool,
    /// With --compare, print the table as Markdown.
    #[arg(long)]
    pub markdown: bool,
    /// seird: fit this country or region of the data instead of the demo
    /// data (`Country/Province` also works).
    #[arg(long)]
    pub country: Option<String>,
    /// seird: province or state within the country.
    #[arg(long)]
    pub province: Option<String>,
    /// Where the data comes from.
    #[command(flatten)]
    pub data: DataArgs,
    /// seird: first training day (default: the first day with confirmed cases).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub start: Option<NaiveDate>,
    /// seird: last training day (default: the last day of data).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub end: Option<NaiveDate>,
    /// seird: configuration file of the loss (window, scoring, ODE
    /// tolerances, box, start), as for `seird-fit fit`.
    #[arg(long, default_value = crate::config::DEFAULT_PATH, value_name = "FILE")]
    pub config: PathBuf,
    /// seird: score confirmed cases alone (default: mean of cases and deaths).
    #[arg(long)]
    pub cases_only: bool,
}

type St = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// One recorded iterate.
#[derive(Debug, Clone)]
struct Point {
    iter: u64,
    cost: f64,
    x: Vec<f64>,
}

/// Records every iterate; shared with the caller through the `Arc`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Point>>>);

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
struct Outcome {
    solver: String,
    problem: String,
    dim: usize,
    x: Vec<f64>,
    f: f64,
    iterations: u64,
    cost_evals: u64,
    gradient_evals: u64,
    hessian_evals: u64,
    termination: String,
    seconds: f64,
    error: Option<f64>,
    trace: Vec<Point>,
}

impl Outcome {
    /// Advice for a run that ended badly, e.g. a smaller learning rate
    /// after divergence.
    fn hint(&self) -> Option<String> {
        let t = &self.termination;
        (t.contains(MSG_DIVERGED) || t.contains("non-finite cost"))
            .then(|| format!("{} diverged: lower the learning rate (--lr)", self.solver))
    }

    fn to_json(&self) -> serde_json::Value {
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

/// Prints a line to stdout; a closed pipe (`| head`) ends output quietly
/// instead of panicking like `println!`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

fn optim(e: OptimError) -> Error {
    usage(e.to_string())
}

fn parse_f64(flag: &str, s: &str) -> Result<f64, Error> {
    let t = s.trim();
    match t {
        "inf" | "+inf" => Ok(f64::INFINITY),
        "-inf" => Ok(f64::NEG_INFINITY),
        _ => t
            .parse::<f64>()
            .ok()
            .filter(|v| !v.is_nan())
            .ok_or_else(|| usage(format!("{flag}: cannot parse '{t}' as a number"))),
    }
}

fn parse_x0(s: &str, n: usize) -> Result<Vec<f64>, Error> {
    let x = s
        .split(',')
        .map(|p| parse_f64("--x0", p))
        .collect::<Result<Vec<_>, _>>()?;
    if x.len() != n {
        return Err(usage(format!(
            "--x0: {} values given, the problem has {n} variables",
            x.len()
        )));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(usage("--x0: values must be finite"));
    }
    Ok(x)
}

fn parse_bounds(s: &str, n: usize) -> Result<Bounds, Error> {
    let pairs = s
        .split(',')
        .map(|p| {
            let (lo, hi) = p
                .split_once(':')
                .ok_or_else(|| usage(format!("--bounds: '{p}' is not lo:hi")))?;
            Ok((parse_f64("--bounds", lo)?, parse_f64("--bounds", hi)?))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let (lo, hi): (Vec<f64>, Vec<f64>) = match pairs.len() {
        1 => (vec![pairs[0].0; n], vec![pairs[0].1; n]),
        k if k == n => pairs.into_iter().unzip(),
        k => {
            return Err(usage(format!(
                "--bounds: {k} intervals given, the problem has {n} variables (give one for all, or one each)"
            )))
        }
    };
    Bounds::new(lo, hi).map_err(|e| usage(format!("--bounds: {e}")))
}

/// The learning rate a solver uses on a problem when `--lr` is not given.
fn default_lr(solver: &str, problem: &str) -> f64 {
    match (problem, solver) {
        (_, "gd-armijo") => 1.0,
        // The SEIRD loss is badly scaled (at the default start |df/dtheta|
        // is ~250 times |df/dL| while theta's box is ~1400 times narrower),
        // so one rate cannot suit every parameter; these come from a sweep
        // over 1e-4 .. 1 at 2000 iterations on the demo problem, the best
        // few re-run at 10 000 (reports/optimizers.md). Unlisted solvers
        // keep their defaults.
        ("seird", "gd" | "momentum" | "nesterov") => 3e-3,
        ("seird", "adagrad") => 0.3,
        ("seird", "adam") => 3e-2,
        (_, "adagrad") => 0.1,
        (_, "sgd" | "minibatch-sgd") => 0.01,
        _ => 1e-3,
    }
}

/// Settings of one run.
struct RunSpec<'a> {
    solver: &'a str,
    lr: Option<f64>,
    max_iters: u64,
    x0: Vec<f64>,
    bounds: Option<Bounds>,
    batch_size: usize,
    seed: u64,
}

fn execute<S>(
    problem: Box<dyn TestProblem>,
    solver: S,
    spec: &RunSpec<'_>,
) -> Result<Outcome, Error>
where
    S: Solver<DynProblem, St> + 'static,
{
    let recorder = Recorder::default();
    let name = problem.name().to_string();
    let dim = problem.dim();
    let start = Instant::now();
    let res = Executor::new(DynProblem(problem), solver)
        .configure(|s| {
            s.param(spec.x0.clone())
                .max_iters(spec.max_iters)
                .counting(true)
        })
        .add_observer(recorder.clone(), ObserverMode::Always)
        .run()
        .map_err(|e| {
            Error::Fit(FitError::Optimizer(format!(
                "{name} with {}: {e}",
                spec.solver
            )))
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
    let problem =
        res.problem.problem.as_ref().ok_or_else(|| {
            Error::Fit(FitError::Optimizer("problem lost by the executor".into()))
        })?;
    let error = distance_to_minimum(problem.0.as_ref(), &x);
    let trace = recorder.0.lock().map(|v| v.clone()).unwrap_or_default();
    Ok(Outcome {
        solver: spec.solver.to_string(),
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
        trace,
    })
}

fn run_solver(problem: Box<dyn TestProblem>, spec: &RunSpec<'_>) -> Result<Outcome, Error> {
    let lr = spec
        .lr
        .unwrap_or_else(|| default_lr(spec.solver, problem.name()));
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
    match spec.solver {
        "lbfgsb" => {
            let b = spec.bounds.clone().unwrap_or_else(|| Bounds::unbounded(n));
            execute(problem, LBFGSB::new(b), spec)
        }
        "newton" => go!(Newton::new()),
        "gd" => go!(GradientDescent::new(lr).map_err(optim)?),
        "gd-armijo" => go!(GradientDescent::new(lr)
            .and_then(|g| g.with_armijo(Armijo::default()))
            .map_err(optim)?),
        "momentum" => go!(Momentum::new(lr, 0.9).map_err(optim)?),
        "nesterov" => go!(Nesterov::new(lr, 0.9).map_err(optim)?),
        "adagrad" => go!(AdaGrad::new(lr).map_err(optim)?),
        "adadelta" => go!(AdaDelta::new()),
        "rmsprop" => go!(RMSprop::new(lr).map_err(optim)?),
        "adam" => go!(Adam::new().with_lr(lr).map_err(optim)?),
        "sgd" | "minibatch-sgd" => {
            if problem.as_sum().is_none() {
                return Err(usage(format!(
                    "--solver {}: '{}' is not a sum over samples (use least-squares or logistic)",
                    spec.solver,
                    problem.name()
                )));
            }
            let batch = if spec.solver == "sgd" {
                1
            } else {
                spec.batch_size
            };
            go!(SGD::new(lr)
                .and_then(|s| s.with_batch_size(batch))
                .map_err(optim)?
                .with_seed(spec.seed))
        }
        other => Err(usage(format!(
            "unknown solver '{other}'; known solvers: {}",
            SOLVERS.join(", ")
        ))),
    }
}

/// Where a problem comes from: the registry, or (`--problem seird
/// --country ...`) a SEIRD loss on real data, built once (its reference fit
/// is not free) and cloned for every run.
enum Source {
    Registry(String),
    Seird(Box<SeirdProblem>),
}

impl Source {
    fn new(args: &OptimizeArgs, name: &str) -> Result<Source, Error> {
        if !name.eq_ignore_ascii_case("seird") || args.country.is_none() {
            return Ok(Source::Registry(name.to_string()));
        }
        Ok(Source::Seird(Box::new(real_seird(args)?)))
    }

    fn make(&self, args: &OptimizeArgs) -> Result<Box<dyn TestProblem>, Error> {
        match self {
            Source::Registry(name) => by_name(
                name,
                ProblemOptions {
                    dim: args.dim,
                    cond: args.cond,
                    seed: args.seed,
                },
            )
            .map_err(optim),
            Source::Seird(p) => Ok(Box::new(p.as_ref().clone())),
        }
    }
}

/// The SEIRD loss of the region `--country`/`--province`, read and cut as
/// `seird-fit fit` does, with the fit's optimum as its reference minimum.
fn real_seird(args: &OptimizeArgs) -> Result<SeirdProblem, Error> {
    let Some(country) = args.country.as_deref() else {
        return Err(usage(
            "--country is required for the seird problem on real data",
        ));
    };
    let settings = super::FitSettingsArgs {
        window: super::WindowArgs {
            start: args.start,
            end: args.end,
            config: super::ConfigArgs {
                config: args.config.clone(),
                decline_policy: None,
            },
        },
        forecast_days: None,
        cases_only: args.cases_only,
        gradient: None,
    };
    let config = settings.resolve()?;
    let dataset = data::load(&args.data.data, &args.data.load_options())?;
    let series = dataset.find(country, args.province.as_deref())?;
    let training = series.training_data(&settings.window.options(&config, &args.data))?;
    Ok(SeirdProblem::new(training, &config)?.with_reference_fit()?)
}

/// Flags that only the seird problem reads must not be silently ignored.
fn check_seird_flags(args: &OptimizeArgs) -> Result<(), Error> {
    let seird = ["seird", "all"]
        .iter()
        .any(|n| args.problem.eq_ignore_ascii_case(n));
    // `--data` has a default (as for `fit`), so only a different path
    // shows that it was given.
    let given = [
        ("--data", args.data.data != Path::new("data/")),
        ("--population", args.data.population.is_some()),
        ("--population-value", args.data.population_value.is_some()),
        ("--incident", args.data.incident),
        ("--country", args.country.is_some()),
        ("--province", args.province.is_some()),
        ("--start", args.start.is_some()),
        ("--end", args.end.is_some()),
        ("--cases-only", args.cases_only),
        (
            "--config",
            args.config != Path::new(crate::config::DEFAULT_PATH),
        ),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
        if !seird {
            return Err(usage(format!(
                "{flag} applies to --problem seird only, not '{}'",
                args.problem
            )));
        }
        if args.country.is_none() {
            return Err(usage(format!(
                "{flag} needs --country (without it, seird runs on the demo data)"
            )));
        }
    }
    Ok(())
}

fn spec_for<'a>(
    args: &'a OptimizeArgs,
    solver: &'a str,
    p: &dyn TestProblem,
) -> Result<RunSpec<'a>, Error> {
    let n = p.dim();
    let x0 = match &args.x0 {
        Some(s) => parse_x0(s, n)?,
        None => p.x0(),
    };
    // The problem's own box (the SEIRD parameter box) unless --bounds says
    // otherwise.
    let bounds = match args.bounds.as_deref() {
        Some(s) => Some(parse_bounds(s, n)?),
        None => p.bounds(),
    };
    if args.batch_size == 0 {
        return Err(usage("--batch-size must be at least 1"));
    }
    Ok(RunSpec {
        solver,
        lr: args.lr,
        max_iters: args.max_iters,
        x0,
        bounds,
        batch_size: args.batch_size,
        seed: args.seed,
    })
}

/// Runs `seird-fit optimize`.
pub fn run(args: &OptimizeArgs) -> Result<ExitCode, Error> {
    check_seird_flags(args)?;
    if args.solver == "auglag" {
        return run_constrained(args);
    }
    if args.compare {
        return compare(args);
    }
    let source = Source::new(args, &args.problem)?;
    let p = source.make(args)?;
    let spec = spec_for(args, &args.solver, p.as_ref())?;
    // Warn about the Hessian at the start point for Newton, the one solver
    // that uses it (small problems only: the estimate needs the dense
    // Hessian). First-order runs never form it, so they get no such note.
    let warning = if args.solver == "newton" && p.dim() <= 200 {
        DynProblem(source.make(args)?)
            .hessian_at(&spec.x0)
            .and_then(|h| condition_number(&h).ok()?.warning)
    } else {
        None
    };
    let out = run_solver(p, &spec)?;
    // Second-order check at the end point (small problems: dense Hessian).
    let second = if out.dim <= 200 {
        let dp = DynProblem(source.make(args)?);
        let g = argmin::core::Gradient::gradient(&dp, &out.x).ok();
        match (g, dp.hessian_at(&out.x)) {
            (Some(g), Some(h)) => {
                second_order::check(&out.x, &g, &h, spec.bounds.as_ref(), 1e-8).ok()
            }
            _ => None,
        }
    } else {
        None
    };
    if let Some(path) = &args.trace {
        write_trace(path, &out)?;
    }
    if let Some(path) = &args.plot {
        let p = source.make(args)?;
        plot_run(path, &out, p.as_ref(), spec.bounds.as_ref())?;
    }
    if args.json {
        let mut v = out.to_json();
        v["warning"] = serde_json::json!(warning);
        v["second_order"] = serde_json::json!(second.as_ref().map(|s| serde_json::json!({
            "verdict": s.verdict.text(),
            "min_eigenvalue": s.min_eigenvalue,
        })));
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        if let Some(w) = warning {
            eprintln!("seird-fit: warning: Hessian at the start point: {w}");
        }
        print_summary(&out);
        if let Some(s) = &second {
            outln!(
                "second order {} (smallest reduced-Hessian eigenvalue {:.3e})",
                s.verdict.text(),
                s.min_eigenvalue
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl DynProblem {
    fn hessian_at(&self, x: &[f64]) -> Option<Vec<Vec<f64>>> {
        argmin::core::Hessian::hessian(self, &x.to_vec()).ok()
    }
}

fn fmt_vec(x: &[f64]) -> String {
    const SHOW: usize = 8;
    let mut parts: Vec<String> = x.iter().take(SHOW).map(|v| format!("{v:.6}")).collect();
    if x.len() > SHOW {
        parts.push(format!("... ({} values)", x.len()));
    }
    format!("[{}]", parts.join(", "))
}

fn print_summary(o: &Outcome) {
    outln!("problem      {} (n = {})", o.problem, o.dim);
    outln!("solver       {}", o.solver);
    outln!("x*           {}", fmt_vec(&o.x));
    outln!("f*           {:.10e}", o.f);
    if let Some(e) = o.error {
        outln!("|x* - xmin|  {e:.3e}");
    }
    outln!("iterations   {}", o.iterations);
    outln!(
        "evaluations  {} loss, {} gradient{}",
        o.cost_evals,
        o.gradient_evals,
        if o.hessian_evals > 0 {
            format!(", {} Hessian", o.hessian_evals)
        } else {
            String::new()
        }
    );
    outln!("termination  {}", o.termination);
    outln!("time         {:.3} s", o.seconds);
    if let Some(h) = o.hint() {
        eprintln!("seird-fit: hint: {h}");
    }
}

fn write_trace(path: &Path, o: &Outcome) -> Result<(), Error> {
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
    crate::io::write_atomic(path, s.as_bytes())
}

fn compare(args: &OptimizeArgs) -> Result<ExitCode, Error> {
    let problems: Vec<String> = if args.problem.eq_ignore_ascii_case("all") {
        names().iter().map(|s| s.to_string()).collect()
    } else {
        vec![args.problem.clone()]
    };
    let mut outcomes = Vec::new();
    for name in &problems {
        let source = Source::new(args, name)?;
        for solver in SOLVERS {
            let p = source.make(args)?;
            if solver.contains("sgd") && p.as_sum().is_none() {
                continue;
            }
            let spec = spec_for(args, solver, p.as_ref())?;
            match run_solver(p, &spec) {
                Ok(o) => outcomes.push(o),
                Err(e) => eprintln!("seird-fit: {name} with {solver}: {e}"),
            }
        }
    }
    if let Some(path) = &args.plot {
        plot_compare(path, &outcomes)?;
    }
    if args.json {
        let v: Vec<_> = outcomes.iter().map(Outcome::to_json).collect();
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if args.markdown {
        outln!("| problem | n | solver | iterations | loss evals | gradient evals | f* | distance to minimum | time (ms) | termination |");
        outln!("|---|---:|---|---:|---:|---:|---:|---:|---:|---|");
        for o in &outcomes {
            outln!(
                "| {} | {} | {} | {} | {} | {} | {:.3e} | {} | {:.2} | {} |",
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
            );
        }
    } else {
        outln!(
            "{:<14} {:>5} {:<14} {:>9} {:>9} {:>9} {:>13} {:>10} {:>10}  termination",
            "problem",
            "n",
            "solver",
            "iters",
            "loss",
            "grad",
            "f*",
            "error",
            "ms"
        );
        for o in &outcomes {
            outln!(
                "{:<14} {:>5} {:<14} {:>9} {:>9} {:>9} {:>13.5e} {:>10} {:>10.2}  {}",
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
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

// ------------------------------------------------------------------ plots

static FONT: Once = Once::new();

/// Registers the embedded DejaVu Sans as plotters' "sans-serif" (no system
/// fonts are used, so plots look the same everywhere).
fn register_font() {
    FONT.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Report(format!("plot: {e}"))
}

/// log10 of the loss above the best value seen, floored so it stays finite.
fn log_gap(f: f64, fmin: f64) -> f64 {
    (f - fmin).max(1e-16).log10()
}

fn plot_run(
    path: &Path,
    o: &Outcome,
    p: &dyn TestProblem,
    bounds: Option<&Bounds>,
) -> Result<(), Error> {
    register_font();
    let is_svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let (w, h) = if o.dim == 2 { (1400, 600) } else { (800, 600) };
    let tmp = tempfile::Builder::new()
        .suffix(if is_svg { ".svg" } else { ".png" })
        .tempfile()
        .map_err(plot_err)?;
    if is_svg {
        draw_run(
            SVGBackend::new(tmp.path(), (w, h)).into_drawing_area(),
            o,
            p,
            bounds,
        )?;
    } else {
        draw_run(
            BitMapBackend::new(tmp.path(), (w, h)).into_drawing_area(),
            o,
            p,
            bounds,
        )?;
    }
    let bytes = std::fs::read(tmp.path()).map_err(|source| Error::Io {
        path: tmp.path().to_path_buf(),
        source,
    })?;
    crate::io::write_atomic(path, &bytes)
}

fn draw_run<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    o: &Outcome,
    p: &dyn TestProblem,
    bounds: Option<&Bounds>,
) -> Result<(), Error> {
    root.fill(&WHITE).map_err(plot_err)?;
    let panels: Vec<_> = if o.dim == 2 {
        root.split_evenly((1, 2))
    } else {
        vec![root.clone()]
    };
    let fmin = p
        .min_value()
        .unwrap_or_else(|| o.trace.iter().map(|t| t.cost).fold(f64::INFINITY, f64::min));
    loss_panel(&panels[0], &[o], fmin)?;
    if o.dim == 2 {
        contour_panel(&panels[1], o, p, bounds)?;
    }
    root.present().map_err(plot_err)
}

fn draw_compare<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    runs: &[&Outcome],
    fmin: f64,
) -> Result<(), Error> {
    root.fill(&WHITE).map_err(plot_err)?;
    loss_panel(&root, runs, fmin)?;
    root.present().map_err(plot_err)
}

fn loss_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    runs: &[&Outcome],
    fmin: f64,
) -> Result<(), Error> {
    let max_iter = runs
        .iter()
        .flat_map(|o| o.trace.last().map(|t| t.iter))
        .max()
        .unwrap_or(1)
        .max(1);
    let ys: Vec<f64> = runs
        .iter()
        .flat_map(|o| o.trace.iter().map(|t| log_gap(t.cost, fmin)))
        .filter(|v| v.is_finite())
        .collect();
    let (ylo, yhi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (ylo, yhi) = if ylo.is_finite() {
        (ylo - 0.5, yhi + 0.5)
    } else {
        (-16.0, 1.0)
    };
    let mut chart = ChartBuilder::on(area)
        .caption("loss above the minimum", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..max_iter as f64, ylo..yhi)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc("log10(f - f*)")
        .draw()
        .map_err(plot_err)?;
    for (k, o) in runs.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        chart
            .draw_series(LineSeries::new(
                o.trace
                    .iter()
                    .map(|t| (t.iter as f64, log_gap(t.cost, fmin)))
                    .filter(|(_, y)| y.is_finite()),
                color.stroke_width(2),
            ))
            .map_err(plot_err)?
            .label(o.solver.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

fn contour_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    o: &Outcome,
    p: &dyn TestProblem,
    bounds: Option<&Bounds>,
) -> Result<(), Error> {
    // The view covers the path, the known minima and the box (if finite).
    let mut xs: Vec<f64> = o.trace.iter().map(|t| t.x[0]).collect();
    let mut ys: Vec<f64> = o.trace.iter().map(|t| t.x[1]).collect();
    for m in p.minima() {
        xs.push(m[0]);
        ys.push(m[1]);
    }
    if let Some(b) = bounds {
        for i in 0..2 {
            for v in [b.lower()[i], b.upper()[i]] {
                if v.is_finite() {
                    if i == 0 {
                        xs.push(v)
                    } else {
                        ys.push(v)
                    }
                }
            }
        }
    }
    let span = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = 0.15 * (hi - lo).max(1.0);
        (lo - pad, hi + pad)
    };
    let (x0, x1) = span(&xs);
    let (y0, y1) = span(&ys);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{}: path of {}", p.name(), o.solver),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("x0")
        .y_desc("x1")
        .draw()
        .map_err(plot_err)?;
    // Heat map of log(1 + f - f*) on a grid: the contour structure of the
    // landscape without a contouring library.
    const GRID: usize = 120;
    let fmin = p.min_value().unwrap_or(0.0);
    let mut cells = Vec::with_capacity(GRID * GRID);
    let (dx, dy) = ((x1 - x0) / GRID as f64, (y1 - y0) / GRID as f64);
    let mut vmax = 0.0f64;
    for i in 0..GRID {
        for j in 0..GRID {
            let (cx, cy) = (x0 + (i as f64 + 0.5) * dx, y0 + (j as f64 + 0.5) * dy);
            let v = p
                .cost(&[cx, cy])
                .map_or(f64::NAN, |f| (1.0 + (f - fmin).max(0.0)).ln());
            if v.is_finite() {
                vmax = vmax.max(v);
            }
            cells.push((i, j, v));
        }
    }
    chart
        .draw_series(cells.into_iter().map(|(i, j, v)| {
            let t = if v.is_finite() && vmax > 0.0 {
                v / vmax
            } else {
                1.0
            };
            // Ten bands so level sets show as contours.
            let band = (t * 10.0).floor() / 10.0;
            let c = HSLColor(0.66 - 0.66 * band, 0.7, 0.35 + 0.4 * band);
            let (ax, ay) = (x0 + i as f64 * dx, y0 + j as f64 * dy);
            Rectangle::new([(ax, ay), (ax + dx, ay + dy)], c.filled())
        }))
        .map_err(plot_err)?;
    chart
        .draw_series(LineSeries::new(
            o.trace.iter().map(|t| (t.x[0], t.x[1])),
            BLACK.stroke_width(2),
        ))
        .map_err(plot_err)?;
    chart
        .draw_series(
            o.trace
                .first()
                .map(|t| Circle::new((t.x[0], t.x[1]), 5, WHITE.filled())),
        )
        .map_err(plot_err)?;
    chart
        .draw_series(
            p.minima()
                .into_iter()
                .map(|m| Cross::new((m[0], m[1]), 6, RED.stroke_width(2))),
        )
        .map_err(plot_err)?;
    Ok(())
}

fn plot_compare(path: &Path, outcomes: &[Outcome]) -> Result<(), Error> {
    register_font();
    let is_svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let tmp = tempfile::Builder::new()
        .suffix(if is_svg { ".svg" } else { ".png" })
        .tempfile()
        .map_err(plot_err)?;
    let runs: Vec<&Outcome> = outcomes.iter().collect();
    let fmin = outcomes
        .iter()
        .flat_map(|o| o.trace.iter().map(|t| t.cost))
        .fold(f64::INFINITY, f64::min);
    if is_svg {
        draw_compare(
            SVGBackend::new(tmp.path(), (1000, 700)).into_drawing_area(),
            &runs,
            fmin,
        )?;
    } else {
        draw_compare(
            BitMapBackend::new(tmp.path(), (1000, 700)).into_drawing_area(),
            &runs,
            fmin,
        )?;
    }
    let bytes = std::fs::read(tmp.path()).map_err(|source| Error::Io {
        path: tmp.path().to_path_buf(),
        source,
    })?;
    crate::io::write_atomic(path, &bytes)
}

/// `--solver auglag`: the augmented Lagrangian solver on a named
/// constrained problem (`--problem ball-lsq|hs6|hs7|hs71|hs100`), printing
/// the solution, the multipliers and the KKT residuals.
fn run_constrained(args: &OptimizeArgs) -> Result<ExitCode, Error> {
    if args.compare {
        return Err(usage(
            "--solver auglag runs one constrained problem; --compare compares the box solvers",
        ));
    }
    let p = constrained::by_name(&args.problem).map_err(|_| {
        usage(format!(
            "--solver auglag: unknown constrained problem '{}'; known: {}",
            args.problem,
            constrained::NAMES.join(", ")
        ))
    })?;
    let n = p.x0.len();
    let x0 = match &args.x0 {
        Some(s) => parse_x0(s, n)?,
        None => p.x0.clone(),
    };
    let bounds = match &args.bounds {
        Some(s) => parse_bounds(s, n)?,
        None => p.bounds.clone(),
    };
    let (name, x_star, f_star) = (p.name, p.x_star.clone(), p.f_star);
    let started = std::time::Instant::now();
    let res = Executor::new(p, AugLag::new(bounds))
        .configure(|s| s.param(x0).max_iters(args.max_iters))
        .run()
        .map_err(|e| match e.downcast::<OptimError>() {
            Ok(oe) => optim(oe),
            Err(e) => usage(format!("--solver auglag: {e}")),
        })?;
    let seconds = started.elapsed().as_secs_f64();
    let state = res.state();
    let x = state.get_param().cloned().unwrap_or_default();
    let f = state.get_cost();
    let s = res.solver();
    let kkt = s.kkt();
    let counts = &res.problem().counts;
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    let termination = state
        .get_termination_reason()
        .map_or_else(|| "running".to_string(), |r| r.text().to_string());
    let distance = (x_star.len() == x.len()).then(|| {
        x.iter()
            .zip(&x_star)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
    });
    if args.json {
        let v = serde_json::json!({
            "problem": name,
            "dim": n,
            "solver": "auglag",
            "x": x,
            "f": f,
            "published_f": f_star,
            "distance_to_published": distance,
            "multipliers_eq": s.multipliers_eq(),
            "multipliers_ineq": s.multipliers_ineq(),
            "kkt": {
                "stationarity": kkt.stationarity,
                "feasibility": kkt.feasibility,
                "complementarity": kkt.complementarity,
            },
            "penalty": s.penalty(),
            "iterations": state.get_iter(),
            "inner_iterations": s.inner_iterations(),
            "loss_evals": count("cost_count"),
            "gradient_evals": count("gradient_count"),
            "termination": termination,
            "seconds": seconds,
        });
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        outln!("problem      {name} (n = {n})");
        outln!("solver       augmented Lagrangian (inner L-BFGS-B)");
        outln!("x*           {}", fmt_vec(&x));
        outln!("f*           {f:.10e}   (published {f_star:.10e})");
        if let Some(d) = distance {
            outln!("|x* - xpub|  {d:.3e}");
        }
        if !s.multipliers_eq().is_empty() {
            outln!("lambda (eq)  {}", fmt_vec(s.multipliers_eq()));
        }
        if !s.multipliers_ineq().is_empty() {
            outln!("mu (ineq)    {}", fmt_vec(s.multipliers_ineq()));
        }
        outln!(
            "KKT          stationarity {:.2e}, feasibility {:.2e}, complementarity {:.2e}",
            kkt.stationarity,
            kkt.feasibility,
            kkt.complementarity
        );
        outln!(
            "iterations   {} outer, {} inner (L-BFGS-B)",
            state.get_iter(),
            s.inner_iterations()
        );
        outln!(
            "evaluations  {} loss, {} gradient",
            count("cost_count"),
            count("gradient_count")
        );
        outln!("termination  {termination}");
        outln!("time         {seconds:.3} s");
    }
    Ok(ExitCode::SUCCESS)
}
