//! `seird-fit merge`.

use std::process::ExitCode;

use clap::Args;

use crate::error::Error;

/// Arguments of `seird-fit merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {}

/// Runs `seird-fit merge`.
pub fn run(args: &MergeArgs) -> Result<ExitCode, Error> {
    let _ = args;
    Err(Error::Usage("`merge` is not implemented yet".into()))
}
