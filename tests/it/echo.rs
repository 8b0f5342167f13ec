//! Untrusted text on the real binary's stdout and stderr (issue 15): a
//! quoted newline in a cell, a 10 MB cell, and terminal escape sequences in
//! a region name never reach the terminal raw; every error stays one short
//! line.

use std::path::Path;

use crate::bin::{one_error_line, run, run3};

const KAGGLE: &str = "Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\n";

/// A Kaggle file whose row 3 (line 4) has `cell` as its confirmed count.
fn bad_cell(dir: &Path, cell: &str) {
    let text = format!(
        "{KAGGLE}1,,Italy,2020-03-01,1,0\n2,,Italy,2020-03-02,2,0\n3,,Italy,2020-03-03,\"{cell}\",0\n"
    );
    std::fs::write(dir.join("train.csv"), text).unwrap();
}

#[test]
fn a_quoted_newline_in_a_cell_gives_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    bad_cell(dir.path(), "12\n\u{1b}[2J34");
    let o = run(dir.path(), &["regions", "--data", "train.csv"]);
    assert_eq!(o.status.code(), Some(2));
    let err = one_error_line(&o);
    assert_eq!(
        err,
        "seird-fit: train.csv:4:5: field 'ConfirmedCases': cannot parse '12\\n\\u{1b}[2J34' as a number\n"
    );
}

#[test]
fn a_ten_megabyte_cell_gives_a_short_line() {
    let dir = tempfile::tempdir().unwrap();
    bad_cell(dir.path(), &"9x".repeat(5_000_000));
    let o = run(dir.path(), &["regions", "--data", "train.csv"]);
    assert_eq!(o.status.code(), Some(2));
    let err = one_error_line(&o);
    assert!(
        err.len() < 300,
        "{} bytes: {}",
        err.len(),
        &err[..300.min(err.len())]
    );
    assert!(err.starts_with("seird-fit: train.csv:4:5: field 'ConfirmedCases': cannot parse '9x9x"));
    assert!(err.ends_with("...' as a number\n"), "{err}");
    // A 10 MB header cell (a column name) too.
    let long = "c".repeat(10_000_000);
    std::fs::write(
        dir.path().join("train.csv"),
        format!("Province/State,Country/Region,Lat,Long,{long}\n,Italy,0,0,1\n"),
    )
    .unwrap();
    let o = run(dir.path(), &["regions", "--data", "train.csv"]);
    let err = one_error_line(&o);
    assert!(err.len() < 1000, "{} bytes", err.len());
}

/// A name with an OSC title sequence, a screen clear, a newline and a
/// right-to-left override in it.
const EVIL: &str = "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J\nland\u{202e}";

fn assert_clean(what: &str, text: &str) {
    for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!text.contains(bad), "{what} holds {bad:?}: {text:?}");
    }
}

#[test]
fn an_escape_sequence_in_a_region_name_never_reaches_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from(KAGGLE);
    let d0 = chrono::NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
    for t in 0..30 {
        let cases = (10.0 * f64::exp(0.15 * t as f64)).round();
        let date = d0 + chrono::Duration::days(t);
        csv.push_str(&format!("{t},,\"{EVIL}\",{date},{cases},0\n"));
    }
    std::fs::write(dir.path().join("train.csv"), csv).unwrap();
    std::fs::write(dir.path().join("cfg.toml"), "intervals = false\n").unwrap();

    // The regions table, its CSV, and a one-line error suggesting the name.
    for args in [
        &[
            "regions",
            "--data",
            "train.csv",
            "--population-value",
            "1e6",
        ][..],
        &["regions", "--data", "train.csv", "--csv"],
    ] {
        let (code, out, err) = run3(dir.path(), args);
        assert_eq!(code, 0, "{err}");
        assert_clean("regions", &out);
        assert!(out.contains("Evil\\u{1b}]0;pwned"), "{out}");
    }
    let o = run(dir.path(), &["--data", "train.csv", "--country", "Evil"]);
    let err = one_error_line(&o);
    assert_clean("error", &err);
    assert!(err.contains("did you mean 'Evil\\u{1b}"), "{err}");
    // A fit's summary, and an error naming the region (no population).
    let (code, out, err) = run3(
        dir.path(),
        &[
            "--data",
            "train.csv",
            "--country",
            EVIL,
            "--population-value",
            "1e6",
            "--config",
            "cfg.toml",
            "--out",
            "o",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_clean("fit stdout", &out);
    assert_clean("fit stderr", &err);
    let o = run(dir.path(), &["--data", "train.csv", "--country", EVIL]);
    let err = one_error_line(&o);
    assert_clean("error", &err);
    assert!(err.contains("no population known"), "{err}");
    // Batch progress lines.
    let (_, out, err) = run3(
        dir.path(),
        &[
            "batch",
            "--all",
            "--data",
            "train.csv",
            "--population-value",
            "1e6",
            "--config",
            "cfg.toml",
            "--plots",
            "none",
            "--out",
            "b",
            "--jobs",
            "1",
        ],
    );
    assert_clean("batch stdout", &out);
    assert_clean("batch stderr", &err);
    assert!(err.contains("Evil\\u{1b}"), "{err}");
}
