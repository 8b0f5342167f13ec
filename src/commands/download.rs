//! `seird-fit download`.

use std::process::ExitCode;

use clap::Args;

use crate::error::Error;

/// Arguments of `seird-fit download`.
#[derive(Debug, Clone, Args)]
pub struct DownloadArgs {}

/// Runs `seird-fit download`.
pub fn run(args: &DownloadArgs) -> Result<ExitCode, Error> {
    let _ = args;
    Err(Error::Usage("`download` is not implemented yet".into()))
}
