//! `seird-fit regions`.

use std::process::ExitCode;

use clap::Args;

use crate::error::Error;

/// Arguments of `seird-fit regions`.
#[derive(Debug, Clone, Args)]
pub struct RegionsArgs {}

/// Runs `seird-fit regions`.
pub fn run(args: &RegionsArgs) -> Result<ExitCode, Error> {
    let _ = args;
    Err(Error::Usage("`regions` is not implemented yet".into()))
}
