//! `seird-fit [fit] --country X`: fit one region and write its report.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{DataArgs, FitSettingsArgs};
use crate::data;
use crate::error::Error;
use crate::fit;
use crate::report;

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
    #[command(flatten)]
    pub settings: FitSettingsArgs,
    #[command(flatten)]
    pub forecast: super::backtest::ForecastArgs,
    /// Output directory; the region's files go in `<out>/<region-slug>/`.
    #[arg(long, default_value = "reports/", value_name = "DIR")]
    pub out: PathBuf,
    /// Print fit.json to stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs a single-region fit.
pub fn run(args: &FitArgs) -> Result<ExitCode, Error> {
    let Some(country) = args.country.as_deref() else {
        return Err(Error::Usage(
            "--country is required to fit a region (see `seird-fit --help` for the subcommands)"
                .into(),
        ));
    };
    let config = args.settings.resolve()?;
    let dataset = data::load(&args.data.data, &args.data.load_options())?;
    let series = dataset.find(country, args.province.as_deref())?;
    let training = series.training_data(&args.settings.window(&config, &args.data))?;
    let mut result = fit::fit(&training, &config)?;
    let (forecast, block) =
        crate::forecast::forecast_with_intervals(&training, &result, &args.forecast.options())?;
    result.forecast = Some(block);
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
