//! CLI conventions (ripgrep and cargo style) through the real binary:
//! short flags, shell completions, a man page, and dates that say what is
//! wrong with them.

use crate::bin::{one_error_line, run, run3};

/// The repository's synthetic Demoland data (data/, made by `simulate`).
fn demo_data() -> String {
    format!("{}/data", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn completions_and_man_page_are_generated() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, bash, _) = run3(tmp.path(), &["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(
        bash.contains("_seird-fit()") || bash.contains("_seird__fit()"),
        "{bash}"
    );
    assert!(bash.contains("--forecast-days") && bash.contains("batch"));
    let (code, zsh, _) = run3(tmp.path(), &["completions", "zsh"]);
    assert_eq!(code, 0);
    assert!(zsh.starts_with("#compdef seird-fit"), "{zsh}");
    let (code, man, _) = run3(tmp.path(), &["man"]);
    assert_eq!(code, 0);
    assert!(man.contains(".TH seird-fit 1"), "{man}");
    assert!(man.contains("\\-\\-country"), "flags are documented");
    let bad = run(tmp.path(), &["completions", "cmd.exe"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn short_flags_and_a_warning_for_an_end_past_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data();
    let (code, out, err) = run3(
        tmp.path(),
        &[
            "--country",
            "Demoland",
            "--data",
            &data,
            "--end",
            "2030-01-01",
            "-q",
            "-o",
            "out",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "", "-q prints nothing");
    assert!(
        tmp.path().join("out/demoland/fit.json").is_file(),
        "-o is --out"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("seird-fit: warning: --end 2030-01-01 is after the last day of data"),
        "{err}"
    );
}

#[test]
fn start_after_end_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data();
    let out = run(
        tmp.path(),
        &[
            "--country",
            "Demoland",
            "--data",
            &data,
            "--start",
            "2020-05-01",
            "--end",
            "2020-04-01",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = one_error_line(&out);
    assert!(
        err.contains("--start 2020-05-01 is after --end 2020-04-01"),
        "{err}"
    );
}
