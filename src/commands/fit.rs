//! `seird-fit [fit] --country X`: fit one region and write its report.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;

use super::DataArgs;
use crate::data::{self, DeclinePolicy, WindowOptions};
use crate::error::Error;
use crate::fit::{self, FitConfig, GradientMethod};
use crate::{config, report};

/// Arguments of a single-region fit.
#[derive(Debug, Clone, Args)]
pub struct FitArgs {
    /// Country or region, as the data names it (case-insensitive); `Country/Province` also works.
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
    #[arg(long, default_value = config::DEFAULT_PATH, value_name = "FILE")]
    pub config: PathBuf,
    /// Output directory; the region's files go in `<out>/<region-slug>/`.
    #[arg(long, default_value = "reports/", value_name = "DIR")]
    pub out: PathBuf,
    /// Score confirmed cases alone (default: mean of cases and deaths).
    #[arg(long)]
    pub cases_only: bool,
    /// How the loss gradient is computed [default: the config's, sensitivity].
    #[arg(long, value_enum)]
    pub gradient: Option<GradientMethod>,
    /// Policy for cumulative counts that go down [default: the config's, keep].
    #[arg(long, value_enum)]
    pub decline_policy: Option<DeclinePolicy>,
    /// Print fit.json to stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Loads the configuration file and applies the flags over it
/// (default < file < flag), validating the result.
pub fn resolve_config(
    path: &std::path::Path,
    cases_only: bool,
    gradient: Option<GradientMethod>,
    forecast_days: Option<usize>,
    decline_policy: Option<DeclinePolicy>,
) -> Result<FitConfig, Error> {
    let mut c = config::load(path)?;
    if cases_only {
        c.loss.cases_only = true;
    }
    if let Some(g) = gradient {
        c.optimizer.gradient = g;
    }
    if let Some(d) = forecast_days {
        c.forecast_days = d;
    }
    if let Some(p) = decline_policy {
        c.decline_policy = p;
    }
    config::validate(&c, "command line")?;
    Ok(c)
}

/// Runs a single-region fit.
pub fn run(args: &FitArgs) -> Result<ExitCode, Error> {
    let Some(country) = args.country.as_deref() else {
        return Err(Error::Usage(
            "--country is required to fit a region (see `seird-fit --help` for the subcommands)"
                .into(),
        ));
    };
    let config = resolve_config(
        &args.config,
        args.cases_only,
        args.gradient,
        args.forecast_days,
        args.decline_policy,
    )?;
    let dataset = data::load(&args.data.data, &args.data.load_options())?;
    let series = dataset.find(country, args.province.as_deref())?;
    let training = series.training_data(&WindowOptions {
        start: args.start,
        end: args.end,
        decline_policy: config.decline_policy,
        population_override: args.data.population_value,
    })?;
    let result = fit::fit(&training, &config)?;
    let forecast = fit::forecast(&training, &result.params, &config)?;
    let dir = args.out.join(training.key.slug());
    report::write_region(&dir, &training, &result, &forecast)?;
    if args.json {
        let json = serde_json::to_string_pretty(&result)
            .map_err(|e| Error::Report(format!("fit.json: {e}")))?;
        println!("{json}");
    } else if !args.quiet {
        println!("{}", report::summary_text(&result, &forecast));
        println!(
            "Wrote {}/{{fit.json,forecast.csv,forecast.png,report.md}}",
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
