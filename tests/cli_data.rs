//! `seird-fit regions` run as the real binary in a fresh temp dir: stdout,
//! the one-line stderr and the exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seird-fit"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a failure with exit code 2 and exactly one stderr line, `want`.
fn assert_fails_with(o: &Output, want: &str) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
    assert_eq!(stderr(o), format!("seird-fit: {want}\n"));
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(o));
}

fn real_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SEIRD_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.join("jhu").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "real data missing at {}",
        dir.display()
    );
    None
}

/// A small Kaggle-layout data set with a lookup table beside it: Italy has
/// 6 days with cases (one a correction), the ship has no population, and
/// Latecomer's first case is on the last day.
fn small_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut train =
        String::from("Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\n");
    let italy = [0., 1., 3., 7., 6., 12., 20.];
    let ship = [1., 2., 3., 4., 5., 6., 7.];
    let late = [0., 0., 0., 0., 0., 0., 2.];
    let mut id = 0;
    for (name, series) in [("Italy", italy), ("Ship", ship), ("Latecomer", late)] {
        for (i, c) in series.iter().enumerate() {
            id += 1;
            train.push_str(&format!("{id},,{name},2020-03-0{},{c},0\n", i + 1));
        }
    }
    std::fs::write(data.join("train.csv"), train).unwrap();
    std::fs::write(
        data.join("UID_ISO_FIPS_LookUp_Table.csv"),
        "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,Population\n\
         1,,,,,,,Italy,,,Italy,60461828\n\
         2,,,,,,,Latecomer,,,Latecomer,1000\n\
         3,,,,,,,Ship,,,Ship,\n",
    )
    .unwrap();
    dir
}

#[test]
fn regions_lists_population_first_case_days_corrections_and_eligibility() {
    let dir = small_data();
    // Default --data is data/.
    let o = run(dir.path(), &["regions"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let want = "\
region       population  first case   days  corrections  eligible
Italy          60461828  2020-03-02      7            1  yes (6 training days)
Latecomer          1000  2020-03-07      7            0  no: too few days (1 < 5)
Ship                  -  2020-03-01      7            0  no: no population
3 regions (kaggle layout; populations: data/UID_ISO_FIPS_LookUp_Table.csv); 1 eligible; 1 with corrections
";
    assert_eq!(stdout(&o), want);
}

#[test]
fn regions_window_and_population_value_change_eligibility() {
    let dir = small_data();
    let o = run(
        dir.path(),
        &[
            "regions",
            "--end",
            "2020-03-01",
            "--population-value",
            "5000",
            "--csv",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let want = "\
region,country,province,population,first_case,first_date,last_date,days,corrections,train_days,eligible,reason
Italy,Italy,,5000.0,2020-03-02,2020-03-01,2020-03-07,7,1,,false,no cases before --end
Latecomer,Latecomer,,5000.0,2020-03-07,2020-03-01,2020-03-07,7,0,,false,no cases before --end
Ship,Ship,,5000.0,2020-03-01,2020-03-01,2020-03-07,7,0,,false,too few days (1 < 5)
";
    assert_eq!(stdout(&o), want);
}

#[test]
fn regions_json_is_machine_readable() {
    let dir = small_data();
    let o = run(
        dir.path(),
        &["regions", "--json", "--decline-policy", "running-max"],
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["layout"], "kaggle");
    assert_eq!(v["decline_policy"], "running-max");
    let italy = &v["regions"][0];
    assert_eq!(italy["region"], "Italy");
    assert_eq!(italy["population"], 60461828.0);
    assert_eq!(italy["first_case"], "2020-03-02");
    assert_eq!(italy["corrections"], 1);
    assert_eq!(italy["train_days"], 6);
    assert_eq!(italy["eligible"], true);
    assert_eq!(v["regions"][2]["reason"], "no population");
}

#[test]
fn missing_data_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["regions", "--data", "nope.csv"]);
    assert_fails_with(&o, "nope.csv: No such file or directory (os error 2)");
}

#[test]
fn unknown_layout_is_one_line_listing_the_layouts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.csv"), "a,b\n1,2\n").unwrap();
    let o = run(dir.path(), &["regions", "--data", "x.csv"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with(
            "seird-fit: x.csv: unknown layout (header: a,b); expected one of: kaggle ("
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn a_bad_number_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "date,cases,deaths\n2020-03-01,1,0\n2020-03-02,two,0\n",
    )
    .unwrap();
    let o = run(dir.path(), &["regions", "--data", "t.csv"]);
    assert_fails_with(
        &o,
        "t.csv:3:2: field 'cases': cannot parse 'two' as a number",
    );
}

#[test]
fn regions_on_the_real_jhu_data() {
    let Some(real) = real_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = real.join("jhu");
    let o = run(
        dir.path(),
        &[
            "regions",
            "--data",
            data.to_str().unwrap(),
            "--end",
            "2020-04-30",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let regions = v["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 274);
    let by_name = |n: &str| regions.iter().find(|r| r["region"] == n).unwrap();
    let it = by_name("Italy");
    // JHU's first Italian cases: 2 on 2020-01-31.
    assert_eq!(it["first_case"], "2020-01-31");
    assert_eq!(it["train_days"], 91);
    assert_eq!(by_name("Diamond Princess")["reason"], "no population");
    assert_eq!(
        by_name("Canada/Repatriated Travellers")["reason"],
        "no population"
    );
    let corrected = regions
        .iter()
        .filter(|r| r["corrections"].as_u64() > Some(0))
        .count();
    assert_eq!(corrected, 96);
}
