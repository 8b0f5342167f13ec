//! `seird-fit optimize`.

use std::process::ExitCode;

use clap::Args;

use crate::error::Error;

/// Arguments of `seird-fit optimize`.
#[derive(Debug, Clone, Args)]
pub struct OptimizeArgs {}

/// Runs `seird-fit optimize`.
pub fn run(args: &OptimizeArgs) -> Result<ExitCode, Error> {
    let _ = args;
    Err(Error::Usage("`optimize` is not implemented yet".into()))
}
