//! The `seird-fit` binary: parse the command line, run, print one error line.

use std::process::ExitCode;

fn main() -> ExitCode {
    match seird_fit::cli::main_with_args(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("seird-fit: {}", seird_fit::error::cause_chain(&err));
            ExitCode::from(2)
        }
    }
}
