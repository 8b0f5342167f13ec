//! The real `seird-fit` binary, run in a directory of the test's choosing
//! (ripgrep style): one runner for every test that drives the binary.

use std::path::Path;
use std::process::{Command, Output};

/// A `Command` for the binary, run in `dir`.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seird-fit"));
    cmd.current_dir(dir);
    cmd
}

/// Runs the binary in `dir` with `args` and returns its output.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir).args(args).output().expect("the binary runs")
}

/// [`run`], as (exit code, stdout, stderr).
pub fn run3(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = run(dir, args);
    (
        out.status.code().unwrap_or(-1),
        stdout(&out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The output's stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The output's stderr, asserted to be one line `seird-fit: ...`.
pub fn one_error_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(err.starts_with("seird-fit: "), "stderr: {err}");
    err
}
