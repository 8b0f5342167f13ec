//! `seird-fit batch`.

use std::process::ExitCode;

use clap::Args;

use crate::error::Error;

/// Arguments of `seird-fit batch`.
#[derive(Debug, Clone, Args)]
pub struct BatchArgs {}

/// Runs `seird-fit batch`.
pub fn run(args: &BatchArgs) -> Result<ExitCode, Error> {
    let _ = args;
    Err(Error::Usage("`batch` is not implemented yet".into()))
}
