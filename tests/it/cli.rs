//! The single-region fit, `seird-fit [fit] --country X`, run as the real
//! binary in a fresh temp dir (ripgrep style): stdout, the one-line stderr
//! and the exit code, for the happy path on data the program simulates
//! itself, for the real data of `../shared/data` (or `SEIRD_DATA_DIR`), and
//! for every bad input that issue 2 lists.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use approx::assert_relative_eq;
use serde_json::Value;

use crate::bin::{run, stdout};

/// [`run`] with the arguments of one whitespace-separated line.
fn sh(dir: &Path, line: &str) -> Output {
    run(dir, &line.split_whitespace().collect::<Vec<_>>())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    assert_eq!(stderr(o), "");
}

/// Asserts exit code 2, nothing on stdout and exactly one stderr line,
/// `seird-fit: <want>`.
fn assert_fails_with(o: &Output, want: &str) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
    assert_eq!(stderr(o), format!("seird-fit: {want}\n"));
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(o));
}

/// Asserts exit code 2 and one `seird-fit: ` stderr line holding every
/// piece of `parts` (for messages too long to spell out whole).
fn assert_fails_mentioning(o: &Output, parts: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
    let err = stderr(o);
    assert!(err.starts_with("seird-fit: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end_matches('\n').lines().count(), 1, "{err}");
    for p in parts {
        assert!(err.contains(p), "stderr lacks {p:?}: {err}");
    }
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The real data directory; `None` (skip) when absent, a failure under CI.
/// The shared real data (see `common::shared_data`).
fn real_data() -> Option<PathBuf> {
    common::shared_data()
}

// ------------------------------------------------------- synthetic data

const PARAMS: [&str; 7] = ["r_0", "theta", "k", "l", "r_t", "d_rec", "d_inc"];
/// The default box of DEVELOPERS.md (the prior art's bounds).
const LOWER: [f64; 7] = [0.0, 0.01, 0.0, 0.0, 0.0, 3.48, 4.9];
const UPPER: [f64; 7] = [6.49, 0.15, 5.0, 200.0, 6.49, 18.0, 5.9];

/// `seird-fit simulate` writes 80 days from 2020-03-01 into `data/`. The
/// epidemic is made large (c0 = 100 in 50 million) so that daily deaths
/// soon exceed 1 and simulate's rounding of each day's increment loses
/// little: see `simulate_without_noise_...` below for the demo defaults.
fn simulated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = sh(
        dir.path(),
        "simulate --out data --days 80 --c0 100 --population 5e7",
    );
    assert_ok(&o);
    dir
}

/// Training window of the synthetic fits: 71 days, 9 held out.
const END: &str = "2020-05-10";
const TRAIN_DAYS: usize = 71;

/// Fits the simulated Demoland (into the default `reports/`), training up
/// to [`END`], with the flags of `extra` (whitespace-separated).
fn fit_demoland(dir: &Path, extra: &str) -> Output {
    sh(
        dir,
        &format!("--country Demoland --data data --end {END} {extra}"),
    )
}

fn fit_json(dir: &Path) -> Value {
    read_json(&dir.join("reports/demoland/fit.json"))
}

/// The rows of a CSV file as cells, header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Writes a config that pins every parameter to `p` (start = lower =
/// upper), so the "fit" scores `p` itself.
fn write_pinned_config(path: &Path, p: &Value) {
    let mut t = String::new();
    for table in ["start", "bounds.lower", "bounds.upper"] {
        t.push_str(&format!("[{table}]\n"));
        for name in PARAMS {
            t.push_str(&format!("{name} = {:?}\n", f(&p[name])));
        }
    }
    std::fs::write(path, t).unwrap();
}

#[test]
fn fit_writes_the_four_files_and_a_sensible_fit_json() {
    let dir = simulated();
    let o = fit_demoland(dir.path(), "");
    assert_ok(&o);
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "Demoland: 2020-03-01 .. 2020-05-10 (71 training days), population 50,000,000\n"
        ),
        "{out}"
    );
    assert!(
        out.ends_with(
            "Wrote reports/demoland/{fit.json,forecast.csv,forecast_quantiles.csv,forecast_hub.csv,forecast.png,report.md,report.html,thumb.svg}\n"
        ),
        "{out}"
    );
    let region = dir.path().join("reports/demoland");
    let png = std::fs::read(region.join("forecast.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let md = std::fs::read_to_string(region.join("report.md")).unwrap();
    assert!(md.starts_with("# SEIRD fit: Demoland\n"), "{md}");

    let j = fit_json(dir.path());
    assert_eq!(j["region"]["country"], "Demoland");
    assert_eq!(j["region"]["province"], Value::Null);
    assert_eq!(f(&j["population"]), 5e7);
    assert_eq!(j["start_date"], "2020-03-01");
    assert_eq!(j["end_date"], END);
    assert_eq!(j["train_days"], TRAIN_DAYS);
    let at_bound = j["at_bound"].as_array().unwrap();
    for (i, name) in PARAMS.iter().enumerate() {
        let v = f(&j["params"][name]);
        assert!((LOWER[i]..=UPPER[i]).contains(&v), "{name} = {v}");
        let on_bound = v == LOWER[i] || v == UPPER[i];
        assert_eq!(
            on_bound,
            at_bound.contains(&Value::from(*name)),
            "{name} = {v}"
        );
    }
    // Model-generated data with 5 % noise: the recency-weighted MSLE of a
    // good fit is ~2e-5 (the noise); 1e-3 would be a 3 % miss on every day.
    let loss = |k: &str| f(&j["loss"][k]);
    let (msle, cases, deaths) = (loss("msle"), loss("msle_cases"), loss("msle_deaths"));
    assert!(msle.is_finite() && msle < 1e-3, "msle {msle}");
    assert_relative_eq!(msle, (cases + deaths) / 2.0, max_relative = 1e-12);
    let opt = &j["optimizer"];
    assert_eq!(opt["method"], "L-BFGS-B");
    assert_eq!(opt["gradient"], "sensitivity");
    let termination = opt["termination"].as_str().unwrap();
    assert!(termination.starts_with("CONVERGENCE"), "{termination}");
    assert!(opt["iterations"].as_u64().unwrap() >= 1);
    assert!(opt["loss_evals"].as_u64().unwrap() >= opt["iterations"].as_u64().unwrap());
    assert!(opt["gradient_evals"].as_u64().unwrap() >= 1);
    assert!(f(&opt["seconds"]) >= 0.0);
    assert_eq!(j["config"]["forecast_days"], 28);
    assert_eq!(f(&j["config"]["start"]["r_0"]), 1.8);

    let rows = csv_rows(&region.join("forecast.csv"));
    let header = "date,observed_cases,observed_deaths,fitted_cases,fitted_deaths";
    assert_eq!(rows[0][..5].join(","), header);
    assert_eq!(rows.len(), 1 + TRAIN_DAYS + 28);
    assert_eq!(rows[1][0], "2020-03-01");
    assert_eq!(rows[TRAIN_DAYS][0], END);
    assert_eq!(rows[TRAIN_DAYS + 28][0], "2020-06-07");
    // The 9 held-out days of the data are shown beside the forecast.
    let observed = rows[1..].iter().filter(|r| !r[1].is_empty()).count();
    assert_eq!(observed, 80);
}

#[test]
fn the_fit_is_as_good_as_the_truth_it_was_simulated_from() {
    let dir = simulated();
    let truth = read_json(&dir.path().join("data/truth.json"));
    assert_eq!(f(&truth["population"]), 5e7);
    write_pinned_config(&dir.path().join("truth.toml"), &truth["params"]);
    let flags = "--out truth --config truth.toml --json";
    let o = fit_demoland(dir.path(), flags);
    assert_ok(&o);
    let at_truth: Value = serde_json::from_slice(&o.stdout).unwrap();
    for name in PARAMS {
        assert_eq!(at_truth["params"][name], truth["params"][name], "{name}");
    }
    let o = fit_demoland(dir.path(), "--quiet");
    assert_ok(&o);
    let fitted = fit_json(dir.path());
    // The optimizer minimises the loss, so it must do no worse than the
    // parameters that made the data (the default window of 20 days cannot
    // pin every parameter, so they are not compared one by one).
    let (fit_loss, truth_loss) = (f(&fitted["loss"]["msle"]), f(&at_truth["loss"]["msle"]));
    assert!(
        fit_loss <= truth_loss * (1.0 + 1e-9),
        "{fit_loss} > {truth_loss}"
    );
    // Both curves meet the data on the last training day within 2 %.
    for out in ["reports/demoland", "truth/demoland"] {
        let rows = csv_rows(&dir.path().join(out).join("forecast.csv"));
        let last = &rows[TRAIN_DAYS];
        assert_eq!(last[0], END);
        let num = |i: usize| last[i].parse::<f64>().unwrap();
        assert_relative_eq!(num(3), num(1), max_relative = 0.02);
        assert_relative_eq!(num(4), num(2), max_relative = 0.02);
    }
}

#[test]
fn simulate_without_noise_gives_data_its_own_parameters_fit() {
    let dir = tempfile::tempdir().unwrap();
    assert_ok(&sh(dir.path(), "simulate --out data --days 80 --noise 0"));
    let truth = read_json(&dir.path().join("data/truth.json"));
    write_pinned_config(&dir.path().join("truth.toml"), &truth["params"]);
    let o = fit_demoland(dir.path(), "--config truth.toml --json");
    assert_ok(&o);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    // Noise-free data differ from the model by integer rounding alone.
    let msle = f(&j["loss"]["msle"]);
    assert!(msle < 1e-3, "msle at the true parameters: {msle}");
}

#[test]
fn forecast_days_sets_the_rows_of_forecast_csv() {
    let dir = simulated();
    assert_ok(&fit_demoland(dir.path(), "--forecast-days 10 --quiet"));
    let rows = csv_rows(&dir.path().join("reports/demoland/forecast.csv"));
    assert_eq!(rows.len(), 1 + TRAIN_DAYS + 10);
    assert_eq!(rows[TRAIN_DAYS + 10][0], "2020-05-20");
    assert_eq!(fit_json(dir.path())["config"]["forecast_days"], 10);
}

#[test]
fn json_prints_fit_json_and_quiet_prints_nothing() {
    let dir = simulated();
    let o = fit_demoland(dir.path(), "--json");
    assert_ok(&o);
    let printed: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed, fit_json(dir.path()));

    std::fs::remove_dir_all(dir.path().join("reports")).unwrap();
    let o = fit_demoland(dir.path(), "--quiet");
    assert_ok(&o);
    assert_eq!(stdout(&o), "");
    for file in ["fit.json", "forecast.csv", "forecast.png", "report.md"] {
        assert!(
            dir.path().join("reports/demoland").join(file).is_file(),
            "{file}"
        );
    }
}

#[test]
fn cases_only_scores_confirmed_cases_alone() {
    let dir = simulated();
    assert_ok(&fit_demoland(dir.path(), "--cases-only --quiet"));
    let j = fit_json(dir.path());
    assert_eq!(j["config"]["loss"]["cases_only"], true);
    let (msle, cases) = (f(&j["loss"]["msle"]), f(&j["loss"]["msle_cases"]));
    assert_relative_eq!(msle, cases, max_relative = 1e-12);
    assert!(msle < 1e-3, "msle {msle}");
    // Deaths are still reported, though not scored.
    assert!(f(&j["loss"]["msle_deaths"]).is_finite());
}

#[test]
fn gradient_flag_is_recorded_and_every_method_fits() {
    let dir = simulated();
    for g in ["2-point", "3-point", "sensitivity"] {
        assert_ok(&fit_demoland(
            dir.path(),
            &format!("--gradient {g} --quiet"),
        ));
        let j = fit_json(dir.path());
        assert_eq!(j["optimizer"]["gradient"], g);
        assert_eq!(j["config"]["optimizer"]["gradient"], g);
        let msle = f(&j["loss"]["msle"]);
        assert!(msle < 1e-3, "{g}: msle {msle}");
    }
    let o = fit_demoland(dir.path(), "--gradient 4-point");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid value '4-point' for '--gradient"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let dir = simulated();
    let mut child = crate::bin::command(dir.path())
        .args("--country Demoland --data data --json".split(' '))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end long before the fit is done and prints.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.lines().count() <= 1, "{err}");
}

// ------------------------------------------------------------ real data

/// [`sh`] with `--data <data>` first (the path may hold spaces).
fn run_on(dir: &Path, data: &Path, line: &str) -> Output {
    let data = data.to_str().expect("a UTF-8 data path");
    run(
        dir,
        &[
            &["--data", data],
            &line.split_whitespace().collect::<Vec<_>>()[..],
        ]
        .concat(),
    )
}

#[test]
fn italy_from_the_kaggle_file_by_a_lower_case_name() {
    let Some(real) = real_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = real.join("kaggle/train.csv");
    let o = run_on(dir.path(), &data, "--country italy --end 2020-04-30 --json");
    assert_ok(&o);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["region"]["country"], "Italy");
    assert_eq!(j["train_days"], 91);
    assert_eq!(j["start_date"], "2020-01-31");
    assert_eq!(j["end_date"], "2020-04-30");
    // JHU lookup table (found in ../jhu beside the Kaggle file).
    assert_eq!(f(&j["population"]), 60461828.0);
    // The scipy prior art's L-BFGS-B reaches 1.47e-4 (tests/fit.rs).
    assert!(f(&j["loss"]["msle"]) <= 1.47e-4, "{}", j["loss"]);
    // The default --out is reports/.
    assert_eq!(read_json(&dir.path().join("reports/italy/fit.json")), j);
}

#[test]
fn hubei_from_the_jhu_directory() {
    let Some(real) = real_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = real.join("jhu");
    let flags = "--country China --province Hubei --end 2020-03-15 --quiet";
    let o = run_on(dir.path(), &data, flags);
    assert_ok(&o);
    assert_eq!(stdout(&o), "");
    let j = read_json(&dir.path().join("reports/china-hubei/fit.json"));
    assert_eq!(j["region"]["country"], "China");
    assert_eq!(j["region"]["province"], "Hubei");
    // JHU starts on 2020-01-22 with Hubei already reporting cases.
    assert_eq!(j["start_date"], "2020-01-22");
    assert_eq!(j["train_days"], 54);
    assert!(f(&j["loss"]["msle"]) < 1e-3, "{}", j["loss"]);
}

#[test]
fn an_unknown_region_suggests_the_closest_name() {
    let Some(real) = real_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = real.join("jhu");
    let o = run_on(dir.path(), &data, "--country Itly");
    assert_fails_with(&o, "unknown region 'Itly'; did you mean 'Italy'?");
}

// ------------------------------------------------------------ bad input

const KAGGLE: &str = "Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\n";

/// `data/train.csv` holding `text` verbatim, with a lookup table beside it
/// that gives Testland (only) a population.
fn data_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("train.csv"), text).unwrap();
    std::fs::write(
        data.join("UID_ISO_FIPS_LookUp_Table.csv"),
        "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,Population\n\
         1,,,,,,,Testland,,,Testland,1000000\n",
    )
    .unwrap();
    dir
}

/// Kaggle rows (header included) of `country`, one a day from 2020-03-01,
/// deaths a tenth of the cases.
fn kaggle(country: &str, cases: &[u32]) -> String {
    let mut t = KAGGLE.to_string();
    for (i, c) in cases.iter().enumerate() {
        let (id, deaths) = (i + 1, c / 10);
        t.push_str(&format!("{id},,{country},2020-03-{id:02},{c},{deaths}\n"));
    }
    t
}

/// Testland with 6 days of cases: a data set that fits.
const GOOD: [u32; 6] = [1, 2, 4, 8, 16, 32];

fn good_data() -> tempfile::TempDir {
    data_dir(&kaggle("Testland", &GOOD))
}

fn fit_testland(dir: &Path, extra: &str) -> Output {
    sh(dir, &format!("--country Testland --data data {extra}"))
}

/// Fits Testland from `train.csv` = `text` with `flags`: exit 2 and `want`.
fn fails_on(text: &str, flags: &str, want: &str) {
    assert_fails_with(&fit_testland(data_dir(text).path(), flags), want);
}

/// Fits the good Testland with `--config c.toml` = `toml`: exit 2 and `want`.
fn config_fails(toml: &str, want: &str) {
    let dir = good_data();
    std::fs::write(dir.path().join("c.toml"), toml).unwrap();
    assert_fails_with(&fit_testland(dir.path(), "--config c.toml"), want);
}

#[test]
fn missing_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = sh(dir.path(), "--country Italy --data nope.csv");
    assert_fails_with(&o, "nope.csv: No such file or directory (os error 2)");
}

#[test]
fn unknown_layout_lists_the_expected_headers() {
    let o = fit_testland(data_dir("a,b\n1,2\n").path(), "");
    assert_fails_mentioning(
        &o,
        &[
            "data/train.csv: unknown layout (header: a,b); expected one of: ",
            "kaggle (Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities)",
            "jhu-wide (Province/State,Country/Region,Lat,Long,1/22/20,",
        ],
    );
}

#[test]
fn missing_column() {
    let text = "Id,Province_State,Country_Region,Date,ConfirmedCases\n1,,Testland,2020-03-01,1\n";
    fails_on(text, "", "data/train.csv: missing column 'Fatalities'");
}

#[test]
fn unparsable_date_names_file_line_and_column() {
    let text = kaggle("Testland", &GOOD).replace("2020-03-02", "2020-13-02");
    let want = "data/train.csv:3:4: field 'Date': cannot parse '2020-13-02' as a date (YYYY-MM-DD or M/D/YY)";
    fails_on(&text, "", want);
}

#[test]
fn unparsable_number_names_file_line_and_column() {
    let text = kaggle("Testland", &GOOD).replace(",32,3\n", ",32,three\n");
    let want = "data/train.csv:7:6: field 'Fatalities': cannot parse 'three' as a number";
    fails_on(&text, "", want);
}

#[test]
fn empty_file() {
    fails_on("", "", "data/train.csv: empty file");
    fails_on(KAGGLE, "", "data/train.csv: no data rows after the header");
}

#[test]
fn duplicate_dates_for_a_region() {
    let text = kaggle("Testland", &GOOD) + "7,,Testland,2020-03-02,3,0\n";
    let want = "data/train.csv:8: duplicate date 2020-03-02 for region 'Testland'";
    fails_on(&text, "", want);
}

#[test]
fn rows_out_of_date_order_are_sorted() {
    let text = kaggle("Testland", &GOOD);
    let mut lines: Vec<&str> = text.lines().skip(1).collect();
    lines.reverse();
    let dir = data_dir(&format!("{KAGGLE}{}\n", lines.join("\n")));
    assert_ok(&fit_testland(dir.path(), "--quiet"));
    let j = read_json(&dir.path().join("reports/testland/fit.json"));
    assert_eq!(j["train_days"], 6);
    assert_eq!(j["start_date"], "2020-03-01");
}

#[test]
fn negative_counts() {
    let text = kaggle("Testland", &GOOD).replace(",8,0\n", ",-8,0\n");
    let want = "data/train.csv:5:5: field 'ConfirmedCases': negative count -8";
    fails_on(&text, "", want);
}

#[test]
fn nan_and_infinite_counts() {
    for bad in ["NaN", "inf"] {
        let text = kaggle("Testland", &GOOD).replace(",32,3\n", &format!(",32,{bad}\n"));
        let want =
            format!("data/train.csv:7:6: field 'Fatalities': '{bad}' is not a finite number");
        fails_on(&text, "", &want);
    }
}

#[test]
fn no_population_unless_population_value_gives_one() {
    let dir = data_dir(&kaggle("Shipland", &GOOD));
    let o = sh(dir.path(), "--country shipland --data data");
    let want = "region 'Shipland': no population known (give --population-value N or a lookup table with --population)";
    assert_fails_with(&o, want);
    let o = sh(
        dir.path(),
        "--country shipland --data data --population-value 2500 --quiet",
    );
    assert_ok(&o);
    let j = read_json(&dir.path().join("reports/shipland/fit.json"));
    assert_eq!(f(&j["population"]), 2500.0);
    // It also overrides the lookup table's population.
    let dir = good_data();
    assert_ok(&fit_testland(dir.path(), "--population-value 3e6 --quiet"));
    let j = read_json(&dir.path().join("reports/testland/fit.json"));
    assert_eq!(f(&j["population"]), 3e6);
}

#[test]
fn an_impossible_population_value_names_the_flag() {
    for bad in ["0", "-5", "nan"] {
        let o = fit_testland(good_data().path(), &format!("--population-value={bad}"));
        assert_fails_mentioning(&o, &["--population-value"]);
        // The parsed value is echoed (`NaN` for `nan`).
        assert!(stderr(&o).to_lowercase().contains(bad), "{}", stderr(&o));
    }
}

#[test]
fn a_population_below_the_confirmed_cases_is_refused() {
    let o = fit_testland(good_data().path(), "--population-value 3");
    assert_fails_mentioning(&o, &["population"]);
}

#[test]
fn a_population_value_that_is_not_a_number_is_a_usage_error() {
    let o = fit_testland(good_data().path(), "--population-value abc");
    assert_eq!(o.status.code(), Some(2));
    // clap's usage message, as one line.
    let err = crate::bin::one_error_line(&o);
    let want = "seird-fit: invalid value 'abc' for '--population-value <N>'";
    assert!(err.starts_with(want), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn fewer_than_5_training_days() {
    let want = "region 'Testland': only 4 training days (at least 5 needed)";
    fails_on(&kaggle("Testland", &[0, 0, 1, 2, 4, 8]), "", want);
    fails_on(&kaggle("Testland", &GOOD), "--start 2020-03-03", want);
}

#[test]
fn end_before_the_first_case() {
    let text = kaggle("Testland", &[0, 0, 1, 2, 4, 8, 16, 32]);
    let want =
        "region 'Testland': --end 2020-03-02 is before the first confirmed case (2020-03-03)";
    fails_on(&text, "--end 2020-03-02", want);
}

#[test]
fn config_value_outside_its_bounds() {
    let want = "c.toml: 'start.theta' = 0.5: is outside its bounds [0.01, 0.15]";
    config_fails("[start]\ntheta = 0.5\n", want);
    let want = "c.toml: 'bounds.lower.d_rec' = 0: must be finite and > 0";
    config_fails("[bounds.lower]\nd_rec = 0\n", want);
    // A flag's value names the flag, as typed (issue 17).
    let want = "--forecast-days 5000: must be at most 3650";
    fails_on(&kaggle("Testland", &GOOD), "--forecast-days 5000", want);
}

#[test]
fn start_point_outside_the_box() {
    // The default start has r_0 = 1.8; a narrower box leaves it outside.
    let want = "c.toml: 'start.r_0' = 1.8: is outside its bounds [0, 1.5]";
    config_fails("[bounds.upper]\nr_0 = 1.5\n", want);
}

#[test]
fn unknown_config_key() {
    let want = "c.toml: unknown field `r0`, expected one of `r_0`, `theta`, `k`, `l`, `r_t`, `d_rec`, `d_inc` in `start`";
    config_fails("[start]\nr0 = 2.5\n", want);
}

#[test]
fn missing_config_file() {
    let o = fit_testland(good_data().path(), "--config missing.toml");
    assert_fails_with(&o, "missing.toml: No such file or directory (os error 2)");
}

#[test]
fn no_country_and_no_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let want = "--country is required to fit a region (see `seird-fit --help` for the subcommands)";
    assert_fails_with(&sh(dir.path(), ""), want);
    assert_fails_with(&sh(dir.path(), "--data x.csv --end 2020-04-30"), want);
}

/// A country name with a comma used to be written unquoted, and the loader
/// then rejected the file it had just written.
#[test]
fn simulate_quotes_a_country_with_a_comma_and_fits_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "simulate",
            "--out",
            "d",
            "--country",
            "Korea, South",
            "--days",
            "40",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run(
        dir.path(),
        &[
            "--country",
            "Korea, South",
            "--data",
            "d",
            "--out",
            "o",
            "--quiet",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let fit: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("o/korea-south/fit.json")).unwrap())
            .unwrap();
    assert_eq!(fit["region"]["country"], "Korea, South");
    assert_eq!(fit["population"], 5e6);
}

/// Clap's own usage errors are one line `seird-fit: ...` too, with their
/// details (possible values, missing flags) and without escape sequences.
#[test]
fn usage_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--country", "X", "--gradient", "4-point"]);
    assert_eq!(out.status.code(), Some(2));
    let err = crate::bin::one_error_line(&out);
    assert!(
        err.contains("'--gradient <GRADIENT>'") && err.contains("2-point, 3-point, sensitivity"),
        "{err}"
    );
    let out = run(dir.path(), &["--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::bin::one_error_line(&out).contains("'--bogus'"));
    let out = run(dir.path(), &["batch", "--data", "x.csv"]);
    let err = crate::bin::one_error_line(&out);
    assert!(
        err.contains("--all") && err.contains("--countries"),
        "{err}"
    );
    let out = run(
        dir.path(),
        &["--country", "X", "--gradient", "\u{1b}]0;pwned\u{7}"],
    );
    let err = crate::bin::one_error_line(&out);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    // --help still prints clap's page and exits 0.
    let out = run(dir.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Usage:"));
}
