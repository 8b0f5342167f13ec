//! `seird-fit optimize`: minimise a shipped test problem, or one typed in
//! as expressions, with any solver of the optimizer stack, or compare them
//! all (`--compare`). Only wiring: the runs are [`crate::optim::run`], the
//! plots [`crate::report::optim_plot`].
//!
//! Prints x*, f*, iterations, loss and gradient evaluations, termination
//! reason and time (or JSON with `--json`, a Markdown table with
//! `--markdown`); `--trace` writes every iterate as CSV; `--plot` draws the
//! loss curve and, for 2-D problems, the contour map with the path of the
//! iterates.
//!
//! `--problem seird` is the SEIRD fit loss itself: by default on a built-in
//! noise-free demo (known minimum at the true parameters; a note on stderr
//! says so), or with `--country` on a region of `--data` read like
//! `seird-fit fit` reads it (same data flags, window and configuration
//! file), with the L-BFGS-B optimum of the fit as the reference minimum.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use std::path::PathBuf;

use super::DataArgs;
use crate::data;
use crate::error::Error;
use crate::fit::problem::{by_name, names, SeirdProblem};
use crate::optim::problems::constrained::{self, ExprRole, Nlp};
use crate::optim::problems::{DynProblem, ProblemOptions, TestProblem};
use crate::optim::run::{self, ConstrainedOutcome, Outcome, RunSpec, SOLVERS};
use crate::optim::{Bounds, OptimError};
use crate::report::optim_plot;

/// The examples of `optimize --help`, one command a line (each is run by
/// the tests, from a directory holding the demo `data/`).
pub const EXAMPLES: &str = r#"seird-fit optimize --problem rosenbrock --dim 2 --solver adam --lr 0.01 --max-iters 5000 --x0 -1.5,1.5
seird-fit optimize --problem himmelblau --solver rmsprop --trace reports/optimize/trace.csv --plot reports/optimize/path.png
seird-fit optimize --problem rosenbrock --dim 100 --solver lbfgsb --bounds -2:2 --json
seird-fit optimize --compare --problem rosenbrock --plot reports/optimize/compare.png
seird-fit optimize --problem seird --solver adam --max-iters 2000
seird-fit optimize --compare --problem seird --data data/ --country Demoland --max-iters 200
seird-fit optimize --solver auglag --problem hs71
seird-fit optimize --compare --problem constrained --markdown
seird-fit optimize --solver auglag --objective "0.5*((x0-2*x1+x2)^2 + (2*x1-8*x2-8)^2 + (-4*x0+5*x1+9*x2+9)^2)" --ineq "x0^2+x1^2+x2^2-1"
seird-fit optimize --solver auglag --objective "(1-x0)^2" --eq "10*(x1-x0^2)" --x0 -1.2,1"#;

/// The text after the options in `optimize --help`.
const AFTER_HELP: &str = concat!(
    "Constraint syntax (--objective, --eq, --ineq; --solver auglag):\n",
    "  numbers (2, 0.5, 1e-3), variables x0 x1 ... or x[0] x[1] ..., the constant pi,\n",
    "  + - * / and ^ (also **; right-associative, above unary minus: -x0^2 = -(x0^2)),\n",
    "  parentheses, and sin cos tan exp ln sqrt abs. --eq g means g(x) = 0, --ineq h\n",
    "  means h(x) <= 0; both repeat. The dimension is the largest index used + 1 (or\n",
    "  --dim); the start is the origin (or --x0), the box unbounded (or --bounds).\n",
    "  Gradients are exact (forward-mode dual numbers).\n",
    "\n",
    "--compare runs every box solver on --problem; with a constrained problem\n",
    "(ball-lsq, hs6, hs7, hs71, hs100, `constrained` for all of them, or --objective)\n",
    "it runs auglag, the one solver here that takes general constraints, and\n",
    "tables the reached against the published optimum with the KKT residuals.\n",
    "\n",
    "Examples:\n",
);

/// Arguments of `seird-fit optimize`.
#[derive(Debug, Clone, Args)]
#[command(
    after_long_help = after_long_help(),
    after_help = "Examples and the constraint syntax: --help",
    term_width = 0
)]
pub struct OptimizeArgs {
    /// Test problem: quadratic, rosenbrock, himmelblau, beale, booth,
    /// least-squares, logistic, seird (the SEIRD fit loss; with --compare
    /// also `all`); with --solver auglag a constrained one: ball-lsq, hs6,
    /// hs7, hs71, hs100 (with --compare also `constrained`).
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
    /// Lagrangian) with a constrained problem or --objective.
    #[arg(long, default_value = "lbfgsb")]
    pub solver: String,
    /// auglag: the objective, typed as an expression in x0, x1, ... (syntax
    /// below); replaces --problem.
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    pub objective: Option<String>,
    /// auglag: an equality constraint g(x) = 0, as an expression; repeat
    /// for several.
    #[arg(long = "eq", value_name = "EXPR", allow_hyphen_values = true)]
    pub eq: Vec<String>,
    /// auglag: an inequality constraint h(x) <= 0, as an expression; repeat
    /// for several.
    #[arg(long = "ineq", value_name = "EXPR", allow_hyphen_values = true)]
    pub ineq: Vec<String>,
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
    /// seird: the training window, the configuration file of the loss
    /// (window, scoring, ODE tolerances, box, start) and the flags that
    /// override it, as for `seird-fit fit` (`--forecast-days` does not apply).
    #[command(flatten)]
    pub settings: super::FitSettingsArgs,
}

/// The examples, indented under the syntax notes (printed verbatim: clap
/// does not wrap `after_long_help`, so no command is broken mid-line).
fn after_long_help() -> String {
    let mut s = AFTER_HELP.to_string();
    for line in EXAMPLES.lines() {
        s.push_str("  ");
        s.push_str(line);
        s.push('\n');
    }
    s
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
    let settings = &args.settings;
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
        ("--aggregate", args.data.aggregate.is_some()),
        ("--country", args.country.is_some()),
        ("--province", args.province.is_some()),
        ("--start", args.settings.window.start.is_some()),
        ("--end", args.settings.window.end.is_some()),
        ("--cases-only", args.settings.cases_only),
        (
            "--decline-policy",
            args.settings.window.config.decline_policy.is_some(),
        ),
        ("--gradient", args.settings.gradient.is_some()),
        (
            "--config",
            args.settings.window.config.config != Path::new(crate::config::DEFAULT_PATH),
        ),
    ];
    if args.settings.forecast_days.is_some() {
        return Err(usage(
            "--forecast-days applies to fit, batch and backtest, not to optimize",
        ));
    }
    if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
        if !seird {
            return Err(usage(format!(
                "{flag} applies to --problem seird only, not '{}'",
                args.problem
            )));
        }
        if args.country.is_none() {
            return Err(usage(format!(
                "{flag} needs --country (without it, seird runs on a built-in demo, not on --data)"
            )));
        }
    }
    Ok(())
}

/// The note on stderr that `--problem seird` without `--country` runs on
/// the built-in demo, not on `--data`.
const DEMO_NOTE: &str = "seird-fit: note: --problem seird without --country runs on a built-in \
     noise-free demo (Demoland, 5 million people, 100 days simulated at the demo truth), not on \
     --data; give --country to use a region of --data";

fn spec_for(args: &OptimizeArgs, solver: &str, p: &dyn TestProblem) -> Result<RunSpec, Error> {
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
        solver: solver.to_string(),
        lr: args.lr,
        max_iters: args.max_iters,
        x0,
        bounds,
        batch_size: args.batch_size,
        seed: args.seed,
    })
}

/// True when the run is a constrained one (auglag on a named constrained
/// problem or on typed-in expressions).
fn is_constrained(args: &OptimizeArgs) -> bool {
    args.solver == "auglag"
        || args.objective.is_some()
        || args.problem.eq_ignore_ascii_case("constrained")
        || constrained::NAMES
            .iter()
            .any(|n| args.problem.eq_ignore_ascii_case(n))
}

/// Runs `seird-fit optimize`.
pub fn run(args: &OptimizeArgs) -> Result<ExitCode, Error> {
    check_seird_flags(args)?;
    if (!args.eq.is_empty() || !args.ineq.is_empty()) && args.objective.is_none() {
        return Err(usage("--eq and --ineq need --objective"));
    }
    if is_constrained(args) {
        return run_constrained(args);
    }
    if args.compare {
        return compare(args);
    }
    let source = Source::new(args, &args.problem)?;
    let p = source.make(args)?;
    let spec = spec_for(args, &args.solver, p.as_ref())?;
    // After the flags are checked, so that a usage error stays one line.
    if args.problem.eq_ignore_ascii_case("seird") && args.country.is_none() {
        eprintln!("{DEMO_NOTE}");
    }
    // Newton, the one solver that uses the Hessian, is warned about its
    // conditioning at the start; first-order runs never form it.
    let warning =
        run::start_hessian_warning(&spec.solver, &DynProblem(source.make(args)?), &spec.x0);
    let out = run::run_solver(p, &spec).map_err(optim)?;
    let second = run::second_order_at(
        &DynProblem(source.make(args)?),
        &out.x,
        spec.bounds.as_ref(),
    );
    if let Some(path) = &args.trace {
        crate::io::write_atomic(path, run::trace_csv(&out).as_bytes())?;
    }
    if let Some(path) = &args.plot {
        let p = source.make(args)?;
        optim_plot::write_run_plot(path, &out, p.as_ref(), spec.bounds.as_ref())?;
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
            match run::run_solver(p, &spec) {
                Ok(o) => outcomes.push(o),
                Err(e) => eprintln!("seird-fit: {name} with {solver}: {e}"),
            }
        }
    }
    if problems.iter().any(|p| p.eq_ignore_ascii_case("seird")) && args.country.is_none() {
        eprintln!("{DEMO_NOTE}");
    }
    if let Some(path) = &args.plot {
        optim_plot::write_compare_plot(path, &outcomes)?;
    }
    if args.json {
        let v: Vec<_> = outcomes.iter().map(Outcome::to_json).collect();
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if args.markdown {
        outln!("{}", run::markdown_table(&outcomes).trim_end());
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

/// The flag an expression came from, for its error line.
fn flag_of(role: ExprRole, args: &OptimizeArgs) -> String {
    match role {
        ExprRole::Objective => "--objective".into(),
        ExprRole::Eq(i) if args.eq.len() == 1 => {
            let _ = i;
            "--eq".into()
        }
        ExprRole::Eq(i) => format!("--eq (#{})", i + 1),
        ExprRole::Ineq(_) if args.ineq.len() == 1 => "--ineq".into(),
        ExprRole::Ineq(i) => format!("--ineq (#{})", i + 1),
    }
}

/// The constrained problems a run asks for: the typed-in one, a named one,
/// or (`--compare`, `constrained`) every named one.
fn constrained_problems(args: &OptimizeArgs) -> Result<Vec<Nlp>, Error> {
    if let Some(obj) = &args.objective {
        let p = Nlp::from_expressions(obj, &args.eq, &args.ineq, args.dim)
            .map_err(|e| usage(format!("{}: {}", flag_of(e.role, args), e.error)))?;
        return Ok(vec![p]);
    }
    if args.problem.eq_ignore_ascii_case("constrained") {
        if !args.compare {
            return Err(usage(
                "--problem constrained (every named constrained problem) needs --compare",
            ));
        }
        return constrained::NAMES
            .iter()
            .map(|n| constrained::by_name(n).map_err(optim))
            .collect();
    }
    let p = constrained::by_name(&args.problem).map_err(|_| {
        usage(format!(
            "--solver auglag: unknown constrained problem '{}'; known: {}, or --objective",
            args.problem,
            constrained::NAMES.join(", ")
        ))
    })?;
    Ok(vec![p])
}

/// `--solver auglag` (or a constrained problem): the augmented Lagrangian
/// solver, printing the solution, the multipliers and the KKT residuals;
/// with `--compare`, a table of every problem asked for.
fn run_constrained(args: &OptimizeArgs) -> Result<ExitCode, Error> {
    if args.solver != "auglag" && args.solver != "lbfgsb" {
        return Err(usage(format!(
            "--solver {}: constrained problems are solved by --solver auglag (the box solvers cannot take general constraints)",
            args.solver
        )));
    }
    let problems = constrained_problems(args)?;
    if args.objective.is_some() {
        if let Some(d) = args.dim.filter(|&d| d < problems[0].x0.len()) {
            return Err(usage(format!(
                "--dim {d}: the expressions use {} variables",
                problems[0].x0.len()
            )));
        }
    }
    let several = problems.len() > 1;
    let mut outcomes = Vec::new();
    for p in problems {
        let n = p.x0.len();
        let x0 = match (&args.x0, several) {
            (Some(_), true) => return Err(usage("--x0 applies to one problem, not `constrained`")),
            (Some(s), false) => Some(parse_x0(s, n)?),
            (None, _) => None,
        };
        let bounds = match (&args.bounds, several) {
            (Some(_), true) => {
                return Err(usage("--bounds applies to one problem, not `constrained`"))
            }
            (Some(s), false) => Some(parse_bounds(s, n)?),
            (None, _) => None,
        };
        // A start outside the box would be projected silently.
        let x0 = match (x0, &bounds) {
            (None, Some(b)) if args.objective.is_some() => Some(
                (0..n)
                    .map(|i| 0f64.clamp(b.lower()[i], b.upper()[i]))
                    .collect(),
            ),
            (x0, _) => x0,
        };
        outcomes.push(run::run_auglag(p, x0, bounds, args.max_iters).map_err(optim)?);
    }
    if args.json {
        let v: Vec<_> = outcomes.iter().map(ConstrainedOutcome::to_json).collect();
        let v = if several {
            serde_json::Value::Array(v)
        } else {
            v.into_iter().next().unwrap_or_default()
        };
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if args.compare || args.markdown {
        outln!("{}", run::constrained_markdown_table(&outcomes).trim_end());
    } else {
        for o in &outcomes {
            print_constrained(o);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_constrained(o: &ConstrainedOutcome) {
    outln!("problem      {} (n = {})", o.problem, o.dim);
    outln!("solver       augmented Lagrangian (inner L-BFGS-B)");
    outln!("x*           {}", fmt_vec(&o.x));
    if o.published_f.is_finite() {
        outln!(
            "f*           {:.10e}   (published {:.10e})",
            o.f,
            o.published_f
        );
    } else {
        outln!("f*           {:.10e}", o.f);
    }
    if let Some(d) = o.distance_to_published {
        outln!("|x* - xpub|  {d:.3e}");
    }
    if !o.multipliers_eq.is_empty() {
        outln!("lambda (eq)  {}", fmt_vec(&o.multipliers_eq));
    }
    if !o.multipliers_ineq.is_empty() {
        outln!("mu (ineq)    {}", fmt_vec(&o.multipliers_ineq));
    }
    outln!(
        "KKT          stationarity {:.2e}, feasibility {:.2e}, complementarity {:.2e}",
        o.kkt.stationarity,
        o.kkt.feasibility,
        o.kkt.complementarity
    );
    outln!(
        "iterations   {} outer, {} inner (L-BFGS-B)",
        o.iterations,
        o.inner_iterations
    );
    outln!(
        "evaluations  {} loss, {} gradient",
        o.cost_evals,
        o.gradient_evals
    );
    outln!("termination  {}", o.termination);
    outln!("time         {:.3} s", o.seconds);
}
