//! `seird-fit simulate`.

use std::process::ExitCode;

use clap::Args;

use crate::error::Error;

/// Arguments of `seird-fit simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {}

/// Runs `seird-fit simulate`.
pub fn run(args: &SimulateArgs) -> Result<ExitCode, Error> {
    let _ = args;
    Err(Error::Usage("`simulate` is not implemented yet".into()))
}
