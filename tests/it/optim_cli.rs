//! `seird-fit optimize` run as a real binary in a temporary directory:
//! stdout, the one-line stderr, exit codes and written files.

use crate::bin::run3 as seird_fit;

#[test]
fn lbfgsb_json_on_bounded_rosenbrock() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = seird_fit(
        dir.path(),
        &[
            "optimize",
            "--problem",
            "rosenbrock",
            "--dim",
            "10",
            "--solver",
            "lbfgsb",
            "--bounds",
            "-2:2",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The chained Rosenbrock minimum (1, ..., 1) is inside [-2, 2]^10; scipy
    // needs 62 iterations from the same start (tests/fixtures).
    assert!(v["distance_to_minimum"].as_f64().unwrap() < 1e-4);
    assert_eq!(v["iterations"], 62);
    assert_eq!(v["termination"], "Solver converged");
    assert_eq!(v["loss_evals"], v["gradient_evals"]);
}

#[test]
fn trace_and_plot_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = seird_fit(
        dir.path(),
        &[
            "optimize",
            "--problem",
            "himmelblau",
            "--solver",
            "adam",
            "--lr",
            "0.05",
            "--max-iters",
            "300",
            "--trace",
            "trace.csv",
            "--plot",
            "path.png",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("iterations   300"), "{out}");
    let trace = std::fs::read_to_string(dir.path().join("trace.csv")).unwrap();
    let lines: Vec<&str> = trace.lines().collect();
    assert_eq!(lines[0], "iter,loss,x0,x1");
    // The start point and one row per iteration.
    assert_eq!(lines.len(), 1 + 301);
    assert!(
        lines[1].starts_with("0,1.7e2,"),
        "f(0, 0) = 170: {}",
        lines[1]
    );
    let png = std::fs::read(dir.path().join("path.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
}

#[test]
fn compare_lists_every_applicable_solver() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = seird_fit(
        dir.path(),
        &[
            "optimize",
            "--compare",
            "--problem",
            "booth",
            "--max-iters",
            "2000",
            "--markdown",
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
        assert!(
            out.contains(&format!("| booth | 2 | {s} |")),
            "{s} missing:\n{out}"
        );
    }
    // Booth is not a sum over samples: no SGD rows.
    assert!(!out.contains("sgd"));
}

#[test]
fn bad_flags_give_one_line_errors_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["optimize", "--x0", "1,abc"],
            "--x0: cannot parse 'abc' as a number",
        ),
        (
            vec!["optimize", "--x0", "1,2,3"],
            "--x0: 3 values given, the problem has 2 variables",
        ),
        (
            vec!["optimize", "--problem", "rosenbrok"],
            "unknown problem 'rosenbrok'",
        ),
        (
            vec!["optimize", "--solver", "bfgs"],
            "unknown solver 'bfgs'",
        ),
        (vec!["optimize", "--bounds", "2:1"], "--bounds"),
        (
            vec!["optimize", "--problem", "beale", "--dim", "3"],
            "2-D only",
        ),
        (
            vec!["optimize", "--solver", "sgd"],
            "not a sum over samples",
        ),
        (vec!["optimize", "--solver", "gd", "--lr", "-1"], "lr"),
    ] {
        let (code, out, err) = seird_fit(dir.path(), &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn auglag_solves_a_named_constrained_problem_with_multipliers_and_kkt() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = seird_fit(
        dir.path(),
        &[
            "optimize",
            "--solver",
            "auglag",
            "--problem",
            "hs71",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Hock & Schittkowski's listed optimum of problem 71.
    assert!((v["f"].as_f64().unwrap() - 17.0140173).abs() < 1e-6);
    assert!(v["distance_to_published"].as_f64().unwrap() < 1e-5);
    assert!(v["kkt"]["feasibility"].as_f64().unwrap() <= 1e-8);
    assert!(v["multipliers_ineq"][0].as_f64().unwrap() > 0.0);
    assert_eq!(v["termination"], "Solver converged");
    let (code, _, err) = seird_fit(
        dir.path(),
        &["optimize", "--solver", "auglag", "--problem", "rosenbrock"],
    );
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("hs71"), "{err}");
}

#[test]
fn a_diverging_run_says_so_and_suggests_a_smaller_learning_rate() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = seird_fit(
        dir.path(),
        &[
            "optimize",
            "--problem",
            "quadratic",
            "--solver",
            "gd",
            "--lr",
            "2.5",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("DIVERGED"), "{out}");
    assert!(err.contains("lower the learning rate (--lr)"), "{err}");
}

#[test]
fn first_order_runs_print_no_newton_hessian_warning() {
    let dir = tempfile::tempdir().unwrap();
    // An ill-conditioned bowl: Newton is warned about its Hessian, Adam
    // and RMSprop (which never form one) are not.
    for (solver, warned) in [("newton", true), ("adam", false), ("rmsprop", false)] {
        let (code, _, err) = seird_fit(
            dir.path(),
            &[
                "optimize",
                "--problem",
                "quadratic",
                "--cond",
                "1e9",
                "--solver",
                solver,
                "--max-iters",
                "5",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            err.contains("Hessian at the start point"),
            warned,
            "{solver}: {err}"
        );
    }
}

/// The example lines of `optimize --help`, as printed.
fn help_examples(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Examples:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn every_example_of_optimize_help_runs_and_none_is_wrapped() {
    let dir = tempfile::tempdir().unwrap();
    // The examples read the demo data in data/, as from the repository.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for f in ["train.csv", "UID_ISO_FIPS_LookUp_Table.csv"] {
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data")
                .join(f),
            data.join(f),
        )
        .unwrap();
    }
    // A narrow terminal must not break a command over two lines.
    let out = crate::bin::command(dir.path())
        .args(["optimize", "--help"])
        .env("COLUMNS", "60")
        .output()
        .unwrap();
    let examples = help_examples(&String::from_utf8_lossy(&out.stdout));
    let expected: Vec<&str> = seird_fit::commands::optimize::EXAMPLES.lines().collect();
    assert_eq!(examples, expected);
    assert!(examples.len() >= 8);
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_seird-fit"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for ex in &examples {
        // Through the shell, so the quoted expressions are one argument each.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(ex)
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{ex}: {err}");
        assert!(!err.contains("error"), "{ex}: {err}");
        assert!(!out.stdout.is_empty(), "{ex}");
    }
    assert!(dir.path().join("reports/optimize/path.png").exists());
    assert!(dir.path().join("reports/optimize/compare.png").exists());
}

#[test]
fn seird_without_country_says_on_stderr_that_it_uses_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = seird_fit(
        dir.path(),
        &[
            "optimize",
            "--problem",
            "seird",
            "--max-iters",
            "3",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("built-in noise-free demo"), "{err}");
    assert!(err.contains("not on --data"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["problem"], "seird");
    // --data without --country is refused, not silently replaced by the demo.
    let (code, _, err) = seird_fit(
        dir.path(),
        &["optimize", "--problem", "seird", "--data", "elsewhere/"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--data needs --country"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// `optimize --problem seird` takes the fit's shared flags (one argument
/// group, not a copy): `--decline-policy` changes the loss exactly as the
/// config file's `decline_policy` does, and `--forecast-days`, which a loss
/// has no use for, is refused.
#[test]
fn seird_takes_the_fits_shared_flags() {
    let Some(data) = crate::common::shared_data() else {
        return;
    };
    let jhu = data.join("jhu");
    let jhu = jhu.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rm.toml");
    std::fs::write(&config, "decline_policy = \"running-max\"\n").unwrap();
    let cost = |extra: &[&str]| {
        let mut args = vec![
            "optimize",
            "--problem",
            "seird",
            "--country",
            "France",
            "--data",
            jhu,
            "--end",
            "2020-04-30",
            "--solver",
            "lbfgsb",
            "--json",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = seird_fit(dir.path(), &args);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["f"].as_f64().unwrap()
    };
    // France's cumulative counts fall on 4 days of this window.
    let keep = cost(&[]);
    let flag = cost(&["--decline-policy", "running-max"]);
    let file = cost(&["--config", config.to_str().unwrap()]);
    assert_eq!(flag.to_bits(), file.to_bits());
    assert_ne!(flag.to_bits(), keep.to_bits());

    let (code, _, err) = seird_fit(
        dir.path(),
        &["optimize", "--problem", "seird", "--forecast-days", "3"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--forecast-days"), "{err}");
}
