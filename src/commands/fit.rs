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
    /// County within the province or state (JHU US `Admin2`, e.g. Kings);
    /// `Country/Province/County` in --country also works.
    #[arg(long)]
    pub county: Option<String>,
    /// Where the data comes from.
    #[command(flatten)]
    pub data: DataArgs,
    /// The training window and the fit settings.
    #[command(flatten)]
    pub settings: FitSettingsArgs,
    /// How the fit becomes a forecast.
    #[command(flatten)]
    pub forecast: super::backtest::ForecastArgs,
    /// Output directory; the region's files go in `<out>/<region-slug>/`.
    #[arg(short, long, default_value = "reports/", value_name = "DIR")]
    pub out: PathBuf,
    /// Also write `profiles.png`: the profile likelihood of each parameter,
    /// one panel each (the intervals in fit.json are computed either way).
    #[arg(long)]
    pub profiles: bool,
    /// Print fit.json to stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
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
    let run = super::resolve(&args.data, &args.settings, &args.forecast)?;
    let mut dataset = data::load(&run.data, &run.load)?;
    let (province, county) = (args.province.as_deref(), args.county.as_deref());
    if let Err(crate::error::DataError::SeveralRegions { name, count, .. }) =
        dataset.find_region(country, province, county)
    {
        // One matcher for every command (`data::select`): a name stands for
        // its region or, when the data has no such row, every region below
        // it. A batch fits each of them; a single fit fits their sum, the
        // region `--aggregate` makes, so `--country China` is China.
        let (_, depth) = dataset.matching(country, province, county);
        let level = if depth == 1 {
            data::Aggregate::Country
        } else {
            data::Aggregate::State
        };
        if run.load.aggregate.is_none() && !name.contains('*') {
            if !args.quiet {
                eprintln!(
                "seird-fit: note: the data has no row for '{name}' itself, only {count} regions below it; fitting their sum (as --aggregate {level} does)"
                );
            }
            dataset.regions = data::aggregate(std::mem::take(&mut dataset.regions), level);
        }
    }
    let series = dataset.find_region(country, province, county)?;
    if let (Some(end), Some(last)) = (run.window.end, series.dates.last()) {
        if end > *last {
            eprintln!(
                "seird-fit: warning: --end {end} is after the last day of data ({last}); training ends on {last}"
            );
        }
    }
    let training = series.training_data(&run.window)?;
    let mut result = fit::fit(&training, &run.fit)?;
    result.region.fips = series.fips.clone();
    let profiles = (run.fit.intervals || args.profiles)
        .then(|| fit::identify::identify(&training, &mut result));
    let (forecast, block) =
        crate::forecast::forecast_with_intervals(&training, &result, &run.forecast)?;
    result.forecast = Some(block);
    // The same directory a batch over this data set uses for the region
    // (unique among all its regions, shortened when over-long).
    let index = dataset
        .regions
        .iter()
        .position(|r| std::ptr::eq(r, series))
        .unwrap_or(0);
    let slug =
        crate::batch::unique_slugs(dataset.regions.iter().map(|r| &r.key)).swap_remove(index);
    let dir = args.out.join(slug);
    let provenance = super::provenance(&run.data, run.load.population_file.as_deref())?;
    let files = report::write_region_with(
        &dir,
        &training,
        &result,
        &forecast,
        report::Plots::Full,
        Some(&provenance),
    )?;
    if let (true, Some(p)) = (args.profiles, &profiles) {
        report::profile_plot::write_profiles_png(&dir.join("profiles.png"), p, &result)?;
    }
    if args.json {
        // The file just written, provenance and all.
        let json = std::fs::read_to_string(&files.fit_json).map_err(|source| Error::Io {
            path: files.fit_json.clone(),
            source,
        })?;
        println!("{}", json.trim_end());
    } else if !args.quiet {
        println!("{}", report::summary_text(&result, &forecast));
        // Every file written, profiles.png too when asked for.
        let profiles_png = if args.profiles { ",profiles.png" } else { "" };
        println!(
            "Wrote {}/{{fit.json,forecast.csv,forecast_quantiles.csv,forecast_hub.csv,forecast.png,report.md,report.html,thumb.svg{profiles_png}}}",
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
