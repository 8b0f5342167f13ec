//! Writes `reports/optimizers.md` to stdout: every box solver on every
//! shipped problem, the augmented Lagrangian solver on the problems with
//! published solutions (reached against published optimum, multipliers,
//! KKT residuals), and the diagnostics (divergence, saddle points,
//! stopping rules, condition numbers). Also draws
//! `reports/optimizers_seird_demo.png` and, when the shared data are found,
//! `reports/optimizers_seird_italy.png`.
//!
//! ```text
//! cargo run --release --example optimizer_report > reports/optimizers.md
//! ```

use std::error::Error;
use std::path::{Path, PathBuf};

use argmin::core::{Executor, State};
use seird_fit::fit::problem::{by_name, names, SeirdProblem};
use seird_fit::optim::numerics::condition_number;
use seird_fit::optim::problems::constrained::{self, Nlp};
use seird_fit::optim::problems::{DynProblem, ProblemOptions, Quadratic, TestProblem};
use seird_fit::optim::run::{
    self, constrained_markdown_table, default_lr, markdown_table, run_auglag, run_solver,
    ConstrainedOutcome, Outcome, RunSpec, SOLVERS,
};
use seird_fit::optim::second_order::escape_direction;
use seird_fit::optim::stopping::StopRules;
use seird_fit::optim::{Bounds, GradientDescent};
use seird_fit::report::optim_plot::write_compare_plot;

type Res<T> = Result<T, Box<dyn Error>>;

/// A problem typed in the expression syntax: the published problem's name,
/// the typed-in problem, its start and box, and the CLI flags that type it.
type Typed = (
    &'static str,
    Nlp,
    Option<Vec<f64>>,
    Option<Bounds>,
    &'static str,
);

/// Every applicable solver on `p` (a fresh copy per run from `make`).
fn compare(make: &dyn Fn() -> Res<Box<dyn TestProblem>>) -> Res<Vec<Outcome>> {
    let mut out = Vec::new();
    for solver in SOLVERS {
        let p = make()?;
        if solver.contains("sgd") && p.as_sum().is_none() {
            continue;
        }
        let spec = RunSpec::new(solver, p.as_ref());
        out.push(run_solver(p, &spec)?);
    }
    Ok(out)
}

/// `f(x, y) = x^2 - y^2`: a saddle at the origin, which every descent
/// method started on the x-axis converges to.
struct Saddle;

impl TestProblem for Saddle {
    fn name(&self) -> &str {
        "saddle"
    }
    fn dim(&self) -> usize {
        2
    }
    fn x0(&self) -> Vec<f64> {
        vec![1.0, 0.0]
    }
    fn minima(&self) -> Vec<Vec<f64>> {
        Vec::new()
    }
    fn min_value(&self) -> Option<f64> {
        None
    }
    fn cost(&self, x: &[f64]) -> Result<f64, argmin::core::Error> {
        Ok(x[0] * x[0] - x[1] * x[1])
    }
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(vec![2.0 * x[0], -2.0 * x[1]])
    }
    fn hessian(&self, _x: &[f64]) -> Option<Result<Vec<Vec<f64>>, argmin::core::Error>> {
        Some(Ok(vec![vec![2.0, 0.0], vec![0.0, -2.0]]))
    }
}

fn fmt_vec(x: &[f64]) -> String {
    let v: Vec<String> = x.iter().map(|v| format!("{v:.6}")).collect();
    format!("({})", v.join(", "))
}

fn shared_kaggle() -> Option<PathBuf> {
    let dir = std::env::var_os("SEIRD_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let p = dir.join("kaggle/train.csv");
    p.exists().then_some(p)
}

/// The SEIRD loss of Italy trained to 2020-04-30, as `optimize --problem
/// seird --country Italy --end 2020-04-30` builds it.
fn italy(train: &Path) -> Res<SeirdProblem> {
    let config = seird_fit::config::load(Path::new(seird_fit::config::DEFAULT_PATH))?;
    config.validate("configs/default.toml")?;
    let dataset = seird_fit::data::load(train, &seird_fit::data::LoadOptions::default())?;
    let series = dataset.find("Italy", None)?;
    let window = seird_fit::data::WindowOptions {
        end: chrono::NaiveDate::from_ymd_opt(2020, 4, 30),
        decline_policy: config.decline_policy,
        ..Default::default()
    };
    let training = series.training_data(&window)?;
    Ok(SeirdProblem::new(training, &config)?.with_reference_fit()?)
}

fn main() -> Res<()> {
    let opts = ProblemOptions::default();
    let profile = if cfg!(debug_assertions) {
        "dev build (opt-level 1)"
    } else {
        "release build"
    };
    println!("# Optimizers: the stack on its test problems\n");
    println!(
        "Generated, numbers and all, by\n\n```\ncargo run --release --example optimizer_report > reports/optimizers.md\n```\n\n\
         (it also draws `reports/optimizers_seird_demo.png` and, with the shared data in \
         `../shared/data` or `$SEIRD_DATA_DIR`, `reports/optimizers_seird_italy.png`). \
         Times are wall-clock milliseconds of the {profile} on a shared 2-core machine: \
         compare them between rows, not with other programs. Iteration and evaluation counts \
         are exact and reproducible (the synthetic data sets and SGD's shuffles are seeded), \
         and the same in every build profile.\n"
    );

    // ---------------------------------------------------------- box solvers
    println!("## Box solvers on every shipped problem\n");
    let lrs: Vec<String> = SOLVERS
        .iter()
        .filter(|s| **s != "adadelta" && **s != "lbfgsb" && **s != "newton")
        .map(|s| format!("{s} {}", default_lr(s, "")))
        .collect();
    println!(
        "Every solver from each problem's customary start, default settings \
         (learning rates: {}; adadelta has none; gd-armijo's value is its first trial step; \
         on `seird` see below), at most 10 000 iterations (epochs for SGD), convergence at a \
         projected-gradient infinity norm of 1e-6 (Newton 1e-8; L-BFGS-B scipy's pgtol 1e-5 / \
         factr 1e7). \"distance to minimum\" is the distance to the nearest known minimiser \
         (for seird, the demo's true parameters). For SGD, \"gradient evals\" counts per-sample \
         (sgd) or per-batch (mini-batch of 10) gradients. The same table: \
         `seird-fit optimize --compare --problem all --markdown`.\n",
        lrs.join(", ")
    );
    let mut all = Vec::new();
    let mut demo = Vec::new();
    for name in names() {
        let rows = compare(&|| Ok(by_name(name, opts)?))?;
        if name == "seird" {
            demo = rows.clone();
        }
        all.extend(rows);
    }
    println!("{}", markdown_table(&all));
    println!("Fewest iterations to convergence, per problem:\n");
    for name in names() {
        let best = all
            .iter()
            .filter(|o| o.problem == *name && o.termination == "Solver converged")
            .min_by_key(|o| o.iterations);
        let slowest = all
            .iter()
            .filter(|o| o.problem == *name && o.termination == "Solver converged")
            .max_by_key(|o| o.iterations);
        let capped = all
            .iter()
            .filter(|o| o.problem == *name && o.termination.contains("Maximum number"))
            .count();
        let plural = if capped == 1 { "solver" } else { "solvers" };
        match (best, slowest) {
            (Some(b), Some(s)) if b.solver == s.solver => println!(
                "- {name}: only {} converged, in {}; {capped} {plural} hit the iteration limit",
                b.solver, b.iterations
            ),
            (Some(b), Some(s)) => println!(
                "- {name}: {} in {} (slowest to converge: {} in {}); {capped} {plural} hit the iteration limit",
                b.solver, b.iterations, s.solver, s.iterations
            ),
            _ => println!("- {name}: no solver converged; {capped} {plural} hit the iteration limit"),
        }
    }
    println!();

    // ------------------------------------------------------------ seird
    println!("## The SEIRD fit loss (`--problem seird`)\n");
    println!(
        "`seird` is the loss `seird-fit fit` minimises (the recency-weighted MSLE of cumulative \
         cases and deaths over `(R_0, theta, k, L, R_t, D_rec, D_inc)`, on the default box, from \
         the default start, exact gradients from forward sensitivities; Newton's Hessian is \
         central differences of the gradient). Without `--country` it scores a built-in \
         noise-free demo (Demoland, 5 million people, 3 cases on day 0, 100 days, simulated at \
         the demo truth, every day scored), so the truth is a minimiser with loss ~0 and \
         \"distance to minimum\" is the distance to it. The loss is badly scaled for one \
         learning rate, so seird has its own defaults (gd, momentum, nesterov {}; adagrad {}; \
         adam {}; rmsprop {}), from a sweep of 1e-4 .. 1 at 2000 iterations on the demo.\n",
        default_lr("gd", "seird"),
        default_lr("adagrad", "seird"),
        default_lr("adam", "seird"),
        default_lr("rmsprop", "seird"),
    );
    let png = Path::new("reports/optimizers_seird_demo.png");
    write_compare_plot(png, &demo)?;
    println!(
        "![Convergence of every solver on the demo seird problem](optimizers_seird_demo.png)\n"
    );
    println!(
        "(`log10(f - f_best)` against iteration + 1 on a log axis; the same plot: \
         `seird-fit optimize --compare --problem seird --plot reports/optimizers_seird_demo.png`.)\n"
    );
    if let Some(train) = shared_kaggle() {
        let p = italy(&train)?;
        let rows = compare(&|| Ok(Box::new(p.clone())))?;
        println!("### A real region: Italy to 2020-04-30\n");
        println!(
            "```\nseird-fit optimize --compare --problem seird --data ../shared/data/kaggle/train.csv \\\n    \
             --country Italy --end 2020-04-30 --markdown --plot reports/optimizers_seird_italy.png\n```\n\n\
             \"distance to minimum\" is the distance to the optimum `seird-fit fit` reaches on the \
             same loss (the best of its designed starts), which single-start runs need not find: \
             the loss has long flat valleys along which the parameters trade off.\n"
        );
        println!("{}", markdown_table(&rows));
        write_compare_plot(Path::new("reports/optimizers_seird_italy.png"), &rows)?;
        println!("![Convergence of every solver on Italy](optimizers_seird_italy.png)\n");
    }

    // ------------------------------------------------------- constrained
    println!("## General constraints: the augmented Lagrangian solver (`--solver auglag`)\n");
    println!(
        "`optim::AugLag` (ALGENCAN's safeguarded scheme, our L-BFGS-B on the inner problems) on \
         the problems with published solutions: the least squares in the unit ball of issue 16 \
         (KKT point (0.349246, 0.114607, -0.929996), multiplier 0.04914, scipy SLSQP and the \
         trust-region secular equation), and Hock & Schittkowski 6, 7, 71 and 100 (Hock & \
         Schittkowski 1981, listed optima). λ are the equality multipliers, μ the inequality \
         ones (`h(x) <= 0`); stationarity is the projected gradient of the Lagrangian, \
         feasibility the largest violation, complementarity `max |min(-h, μ)|`. It stops at \
         1e-6 / 1e-8 / 1e-8. The same table: `seird-fit optimize --compare --problem \
         constrained --markdown`.\n"
    );
    let mut rows: Vec<ConstrainedOutcome> = Vec::new();
    for name in constrained::NAMES {
        rows.push(run_auglag(constrained::by_name(name)?, None, None, 10_000)?);
    }
    println!("{}", constrained_markdown_table(&rows));
    println!(
        "The same problems typed in the expression syntax of `--objective/--eq/--ineq` (exact \
         gradients by forward-mode dual numbers), against the same published optima:\n"
    );
    let ball = "0.5*((x0-2*x1+x2)^2 + (2*x1-8*x2-8)^2 + (-4*x0+5*x1+9*x2+9)^2)";
    let typed: Vec<Typed> = vec![
        (
            "ball-lsq",
            Nlp::from_expressions(ball, &[], &["x0^2+x1^2+x2^2-1".into()], None)?,
            None,
            None,
            "--objective \"0.5*((x0-2*x1+x2)^2 + (2*x1-8*x2-8)^2 + (-4*x0+5*x1+9*x2+9)^2)\" --ineq \"x0^2+x1^2+x2^2-1\"",
        ),
        (
            "hs71",
            Nlp::from_expressions(
                "x0*x3*(x0+x1+x2) + x2",
                &["x0^2+x1^2+x2^2+x3^2-40".into()],
                &["25 - x0*x1*x2*x3".into()],
                None,
            )?,
            Some(vec![1.0, 5.0, 5.0, 1.0]),
            Some(Bounds::uniform(4, 1.0, 5.0)?),
            "--objective \"x0*x3*(x0+x1+x2) + x2\" --eq \"x0^2+x1^2+x2^2+x3^2-40\" --ineq \"25 - x0*x1*x2*x3\" --bounds 1:5 --x0 1,5,5,1",
        ),
    ];
    let mut typed_rows = Vec::new();
    let mut commands = Vec::new();
    for (name, mut nlp, x0, bounds, cmd) in typed {
        let published = constrained::by_name(name)?;
        nlp.x_star = published.x_star.clone();
        nlp.f_star = published.f_star;
        let mut o = run_auglag(nlp, x0, bounds, 10_000)?;
        o.problem = format!("{name} (typed)");
        typed_rows.push(o);
        commands.push(format!("seird-fit optimize --solver auglag {cmd}"));
    }
    println!("{}", constrained_markdown_table(&typed_rows));
    println!("```\n{}\n```\n", commands.join("\n"));

    // ------------------------------------------------------- diagnostics
    println!("## Diagnostics\n");
    println!("### Divergence\n");
    let bowl = || -> Res<Box<dyn TestProblem>> { Ok(Box::new(Quadratic::new(1, 1.0)?)) };
    let p = bowl()?;
    let f0 = p.cost(&p.x0())?;
    let mut spec = RunSpec::new("gd", p.as_ref());
    spec.lr = Some(2.5);
    let o = run_solver(p, &spec)?;
    println!(
        "GD with learning rate 2.5 on the bowl ½(x - 1)² (the step multiplies the error by \
         |1 - 2.5| = 1.5) from f(x0) = {f0}: ends after {} iterations at f = {:.1} with \
         \"{}\" (issue 16's run of this kind, before the watch, went on to the iteration limit \
         and f = 3.3e35). The watch fires \
         when the cost exceeds the best seen by 1e4 times max(1, |best|, f0 - best), or when \
         steps grow for 20 iterations while the cost rises above its start; the CLI then says \
         \"{}\".\n",
        o.iterations,
        o.trace.last().map_or(f64::NAN, |t| t.cost),
        o.termination,
        o.hint().unwrap_or_default()
    );
    let p = by_name("himmelblau", opts)?;
    let spec = RunSpec::new("rmsprop", p.as_ref());
    let o = run_solver(p, &spec)?;
    println!(
        "Not a divergence: RMSprop (lr 1e-3) on Himmelblau jitters at the minimum (3, 2) with \
         steps of about the learning rate; it ends at {} (distance {:.1e}, f = {:.1e}) with \
         \"{}\".\n",
        fmt_vec(&o.x),
        o.error.unwrap_or(f64::NAN),
        o.f,
        o.termination
    );

    println!("### Saddle points and non-minima\n");
    println!(
        "On f = x² - y² from (1, 0) (the gradient never has a y component there), every \
         solver converges to the saddle at the origin; the second-order check (the reduced \
         Hessian's smallest eigenvalue, analytic here, bound-aware central differences \
         otherwise) says what it is, and `escape_direction` gives the negative-curvature step:\n"
    );
    println!("| solver | iterations | x | termination | second order | smallest eigenvalue | escape direction |");
    println!("|---|---:|---|---|---|---:|---|");
    for solver in ["gd", "newton", "lbfgsb"] {
        let spec = RunSpec::new(solver, &Saddle);
        let o = run_solver(Box::new(Saddle), &spec)?;
        let dp = DynProblem(Box::new(Saddle));
        let so = run::second_order_at(&dp, &o.x, None);
        let g = Saddle.gradient(&o.x)?;
        println!(
            "| {solver} | {} | {} | {} | {} | {} | {} |",
            o.iterations,
            fmt_vec(&o.x),
            o.termination,
            so.as_ref().map_or("-", |s| s.verdict.text()),
            so.as_ref()
                .map_or("-".into(), |s| format!("{:.3}", s.min_eigenvalue)),
            so.as_ref()
                .and_then(|s| escape_direction(s, &g))
                .map_or("-".into(), |d| fmt_vec(&d)),
        );
    }
    println!();

    println!("### Stopping rules\n");
    println!(
        "`optim::stopping::StopRules` (first-order solvers and Newton, `with_stop_rules`); any \
         rule that is set may end the run, and the one that fired is kept (`stop_rule()`). GD \
         (lr 0.1) on the 2-D bowl with condition number 10, one rule at a time:\n"
    );
    println!("| rule | stops when | tolerance | iterations | f | distance to minimum | rule that fired |");
    println!("|---|---|---:|---:|---:|---:|---|");
    let rules: [(&str, &str, f64, StopRules); 5] = [
        (
            "grad_inf",
            "max_i |P(x - g)_i - x_i| <= tol",
            1e-6,
            StopRules {
                grad_inf: Some(1e-6),
                ..Default::default()
            },
        ),
        (
            "grad_2",
            "|P(x - g) - x|_2 <= tol",
            1e-6,
            StopRules {
                grad_2: Some(1e-6),
                ..Default::default()
            },
        ),
        (
            "f_abs",
            "|f_k - f_k+1| <= tol",
            1e-12,
            StopRules {
                f_abs: Some(1e-12),
                ..Default::default()
            },
        ),
        (
            "f_rel",
            "|f_k - f_k+1| <= tol max(|f_k|, |f_k+1|, 1)",
            1e-12,
            StopRules {
                f_rel: Some(1e-12),
                ..Default::default()
            },
        ),
        (
            "x_abs",
            "|x_k+1 - x_k|_inf <= tol",
            1e-9,
            StopRules {
                x_abs: Some(1e-9),
                ..Default::default()
            },
        ),
    ];
    for (name, formula, tol, r) in rules {
        let p = Quadratic::new(2, 10.0)?;
        let x0 = p.x0();
        let solver = GradientDescent::new(0.1)?.with_stop_rules(r)?;
        let res = Executor::new(DynProblem(Box::new(p)), solver)
            .configure(|s| s.param(x0).max_iters(10_000))
            .run()?;
        let x = res.state().get_best_param().cloned().unwrap_or_default();
        let dist = x.iter().map(|v| (v - 1.0).powi(2)).sum::<f64>().sqrt();
        println!(
            "| `{name}` | `{formula}` | {tol:e} | {} | {:.3e} | {dist:.1e} | {} |",
            res.state().get_iter(),
            res.state().get_best_cost(),
            res.solver().stop_rule().map_or("-", |r| r.name()),
        );
    }
    println!(
        "\nL-BFGS-B keeps scipy's two tests (`pgtol`, and `factr` on the relative decrease; \
         `[optimizer] stopping = \"relative\"` in a fit drops scipy's floor of 1) and its \
         messages, which observers see with the last iteration.\n"
    );

    println!("### Condition numbers\n");
    let textbook = vec![vec![400.0, -201.0], vec![-800.0, 401.0]];
    let c = condition_number(&textbook)?;
    let spd = vec![vec![2.0, 1.0], vec![1.0, 2.0]];
    let s = condition_number(&spd)?;
    let q = Quadratic::new(2, 1e9)?;
    let x0 = q.x0();
    let warn = run::start_hessian_warning("newton", &DynProblem(Box::new(q)), &x0);
    println!(
        "`optim::numerics::condition_number` is the 2-norm condition number from nalgebra's SVD \
         for any square matrix, with a Cholesky fast path for symmetric positive definite ones: \
         the textbook's non-symmetric [[400, -201], [-800, 401]] gives {:.4} (positive definite \
         path: {}); [[2, 1], [1, 2]] gives {:.4} (fast path: {}). Newton, the one solver that \
         uses the Hessian, is warned about it at its start (first-order runs never form it): on \
         the bowl with condition number 1e9, \"{}\".\n",
        c.kappa,
        c.positive_definite,
        s.kappa,
        s.positive_definite,
        warn.unwrap_or_default()
    );

    // --------------------------------------------------------- reference
    println!("## L-BFGS-B against the reference implementation\n");
    println!(
        "Our L-BFGS-B is checked against scipy's `minimize(method=\"L-BFGS-B\")` (the \
         Byrd-Lu-Nocedal-Zhu code) on the 20 bounded problems of \
         `tests/fixtures/lbfgsb_reference.json` (written by `python3 \
         scripts/lbfgsb_reference.py`): the test `lbfgsb_agrees_with_scipy_reference` checks f \
         and x and pins our iteration and evaluation counts, which are identical to scipy's on \
         18 of 20; on the two ill-conditioned quadratics (`illcond100_1e6`, `illcond1000_1e4`) the \
         paths agree for hundreds of iterations and then part by rounding in the long tail, to \
         the same minimum (`cargo test --test it lbfgsb_agrees -- --nocapture` prints the \
         comparison)."
    );
    Ok(())
}
