//! Negative numbers given to numeric flags (issue 15): a one-line
//! `seird-fit: ...` error naming the flag and what is wrong, never clap's
//! "unexpected argument '-5' found".

use crate::bin::{one_error_line, run};

#[test]
fn negative_values_name_the_flag_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data/train.csv");
    for (args, want) in [
        (
            &["--country", "Demoland", "--forecast-days", "-5"][..],
            "seird-fit: invalid value '-5' for '--forecast-days <N>': must be a whole number, not negative",
        ),
        (
            &["batch", "--all", "--jobs", "-2"],
            "seird-fit: invalid value '-2' for '--jobs <N>': must be a whole number, not negative",
        ),
        (
            &["backtest", "--every", "-7"],
            "seird-fit: invalid value '-7' for '--every <DAYS>': must be a whole number, not negative",
        ),
        (
            &["--country", "Demoland", "--calibration-origins", "-1"],
            "seird-fit: invalid value '-1' for '--calibration-origins <N>': must be a whole number, not negative",
        ),
        (
            &["download", "--max-bytes", "-5"],
            "seird-fit: invalid value '-5' for '--max-bytes <SIZE>': '-5' must be a size of at least 1 byte",
        ),
        (
            &["download", "--timeout", "-30s"],
            "seird-fit: invalid value '-30s' for '--timeout <DURATION>': '-30s' must be a duration > 0",
        ),
        (
            &["--country", "Demoland", "--data", data, "--population-value", "-5"],
            "seird-fit: region 'Demoland': population -5 given with --population-value must be a finite number > 0",
        ),
    ] {
        let o = run(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = one_error_line(&o);
        assert_eq!(err.trim_end(), want, "{args:?}");
        assert!(!err.contains("unexpected argument"), "{err}");
    }
}
