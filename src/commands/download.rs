//! `seird-fit download`: fetch real data (JHU CSSE or OWID) into a directory,
//! atomically, and say what arrived.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::data::download::{self, Source};
use crate::error::Error;

/// Arguments of `seird-fit download`.
#[derive(Debug, Clone, Args)]
pub struct DownloadArgs {
    /// Directory to write the files into (created if needed).
    #[arg(long, default_value = "data/", value_name = "DIR")]
    pub out: PathBuf,
    /// Which data set: the JHU CSSE global time series with the lookup
    /// table, or the OWID file.
    #[arg(long, value_parser = super::choice(&Source::ALL, Source::name), default_value = "jhu")]
    pub source: Source,
    /// Base URL to fetch from instead of the source's own (a mirror, or a
    /// local server in tests). File paths below it are those of the source's
    /// repository.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `seird-fit download`.
pub fn run(args: &DownloadArgs) -> Result<ExitCode, Error> {
    let files = download::download(args.source, args.base_url.as_deref(), &args.out)?;
    if !args.quiet {
        for f in files {
            println!(
                "wrote {} ({} bytes, {} rows)",
                f.path.display(),
                f.bytes,
                f.rows
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
