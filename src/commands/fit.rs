//! `seird-fit [fit] --country X`: fit one region and write its report.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;

use super::DataArgs;
use crate::data::DeclinePolicy;
use crate::error::Error;
use crate::fit::GradientMethod;

/// Arguments of a single-region fit.
#[derive(Debug, Clone, Args)]
pub struct FitArgs {
    /// Country or region, as the data names it (case-insensitive).
    #[arg(long)]
    pub country: Option<String>,
    /// Province or state within the country.
    #[arg(long)]
    pub province: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
    /// First training day (default: the first day with confirmed cases).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub start: Option<NaiveDate>,
    /// Last training day (default: the last day of data).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub end: Option<NaiveDate>,
    /// Days to forecast after the training window [default: 28, or the config's].
    #[arg(long, value_name = "N")]
    pub forecast_days: Option<usize>,
    /// Configuration file.
    #[arg(long, default_value = "configs/default.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// Output directory; the region's files go in <out>/<region-slug>/.
    #[arg(long, default_value = "reports/", value_name = "DIR")]
    pub out: PathBuf,
    /// Score confirmed cases alone (default: mean of cases and deaths).
    #[arg(long)]
    pub cases_only: bool,
    /// How the loss gradient is computed [default: the config's].
    #[arg(long, value_enum)]
    pub gradient: Option<GradientMethod>,
    /// Policy for cumulative counts that go down [default: the config's].
    #[arg(long, value_enum)]
    pub decline_policy: Option<DeclinePolicy>,
    /// Print fit.json to stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs a single-region fit.
pub fn run(args: &FitArgs) -> Result<ExitCode, Error> {
    let _ = args;
    Err(Error::Usage("fit is not implemented yet".into()))
}
