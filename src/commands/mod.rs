//! One module per subcommand: its clap arguments and its `run`.

pub mod backtest;
pub mod batch;
pub mod download;
pub mod fit;
pub mod merge;
pub mod optimize;
pub mod regions;
pub mod simulate;

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use crate::config::RunConfig;
use crate::data::{DeclinePolicy, WindowOptions};
use crate::error::{ConfigError, Error};
use crate::fit::{FitConfig, GradientMethod};

/// A clap value parser for a library enum: its names as the possible values
/// (listed by `--help`), parsed back into the enum. The library enums know
/// nothing of clap; the command line maps them here.
pub fn choice<T>(
    all: &'static [T],
    name: fn(T) -> &'static str,
) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: Copy + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(all.iter().map(|&v| name(v))).try_map(
        move |s: String| {
            all.iter()
                .copied()
                .find(|&v| name(v) == s)
                .ok_or_else(|| format!("unknown value '{s}'"))
        },
    )
}

/// Where the data comes from; shared by `fit`, `regions` and `batch`.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Data file or directory (Kaggle train.csv, a JHU directory, ...).
    #[arg(long, default_value = "data/", value_name = "PATH")]
    pub data: PathBuf,
    /// JHU UID_ISO_FIPS_LookUp_Table.csv. Default: the data's own population
    /// column (OWID, JHU US), else a lookup table found beside the data or in
    /// a sibling jhu/ directory (Kaggle, JHU global and long layouts).
    #[arg(long, value_name = "FILE")]
    pub population: Option<PathBuf>,
    /// Population to use instead of the lookup table.
    #[arg(long, value_name = "N")]
    pub population_value: Option<f64>,
    /// The counts are daily (incident); sum them into cumulative series.
    #[arg(long)]
    pub incident: bool,
    /// Sum regions to one level: `state` (a state's counties, JHU US) or
    /// `country` (all of a country's provinces and counties).
    #[arg(long, value_name = "state|country")]
    pub aggregate: Option<crate::data::Aggregate>,
}

impl DataArgs {
    /// The options for [`crate::data::load`] these flags ask for.
    pub fn load_options(&self) -> crate::data::LoadOptions {
        crate::data::LoadOptions {
            population_file: self.population.clone(),
            incident: self.incident,
            aggregate: self.aggregate,
        }
    }
}

/// The configuration file and the flag that overrides it for every command
/// that reads data through a fit's window (`fit`, `batch`, `regions`,
/// `backtest`).
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Configuration file.
    #[arg(long, default_value = crate::config::DEFAULT_PATH, value_name = "FILE")]
    pub config: PathBuf,
    /// Policy for cumulative counts that go down [default: the config's, keep].
    #[arg(long, value_parser = choice(&DeclinePolicy::ALL, DeclinePolicy::name))]
    pub decline_policy: Option<DeclinePolicy>,
}

/// The training window, shared by `fit`, `batch` and `regions`.
#[derive(Debug, Clone, Args)]
pub struct WindowArgs {
    /// First training day (default: each region's first day with confirmed cases).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub start: Option<NaiveDate>,
    /// Last training day (default: the last day of data).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub end: Option<NaiveDate>,
    /// The configuration file and the decline policy.
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// The training window and fit settings shared by `fit` and `batch`:
/// the configuration file and the flags that override it.
#[derive(Debug, Clone, Args)]
pub struct FitSettingsArgs {
    /// The training window and the configuration file.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Days to forecast after the training window [default: 28, or the config's].
    #[arg(long, value_name = "N")]
    pub forecast_days: Option<usize>,
    /// Score confirmed cases alone (default: mean of cases and deaths).
    #[arg(long)]
    pub cases_only: bool,
    /// How the loss gradient is computed [default: the config's, sensitivity].
    #[arg(long, value_parser = choice(&GradientMethod::ALL, GradientMethod::name))]
    pub gradient: Option<GradientMethod>,
}

/// Flags that set a configuration key, for errors that name what the user
/// typed: a value out of range from a flag names the flag, one from a file
/// names the key and the file.
const FLAG_KEYS: &[(&str, &str)] = &[
    ("forecast_days", "--forecast-days"),
    ("decline_policy", "--decline-policy"),
    ("optimizer.gradient", "--gradient"),
    ("loss.cases_only", "--cases-only"),
];

/// `e` reworded to name `flag` when it is about a key a flag set.
fn name_the_flag(e: ConfigError, given: &[&str]) -> Error {
    match e {
        ConfigError::Invalid {
            key,
            value,
            problem,
            ..
        } if FLAG_KEYS
            .iter()
            .any(|(k, f)| *k == key && given.contains(f)) =>
        {
            let flag = FLAG_KEYS
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(key.as_str(), |(_, f)| f);
            Error::Usage(format!("{flag} {value}: {problem}"))
        }
        other => Error::Config(other),
    }
}

impl ConfigArgs {
    /// The configuration file with `--decline-policy` over it, not yet
    /// validated as a whole (the file itself is).
    fn load(&self) -> Result<FitConfig, Error> {
        let mut c = crate::config::load(&self.config)?;
        if let Some(p) = self.decline_policy {
            c.decline_policy = p;
        }
        Ok(c)
    }

    /// The configuration file with `--decline-policy` over it, validated.
    pub fn resolve(&self) -> Result<FitConfig, Error> {
        let c = self.load()?;
        c.validate("command line")
            .map_err(|e| name_the_flag(e, &["--decline-policy"]))?;
        Ok(c)
    }
}

impl WindowArgs {
    /// Refuses a window that ends before it starts.
    fn check(&self) -> Result<(), Error> {
        if let (Some(start), Some(end)) = (self.start, self.end) {
            if start > end {
                return Err(Error::Usage(format!(
                    "--start {start} is after --end {end}: the training window is empty"
                )));
            }
        }
        Ok(())
    }

    /// The training window these flags and `config` ask for.
    pub fn options(&self, config: &FitConfig, data: &DataArgs) -> WindowOptions {
        WindowOptions {
            start: self.start,
            end: self.end,
            decline_policy: config.decline_policy,
            population_override: data.population_value,
        }
    }
}

impl FitSettingsArgs {
    /// Loads the configuration file and applies the flags over it
    /// (default < file < flag), validating the result. A value out of range
    /// names the flag that set it, or the file and key.
    pub fn resolve(&self) -> Result<FitConfig, Error> {
        self.window.check()?;
        let mut c = self.window.config.load()?;
        let mut given = Vec::new();
        if self.cases_only {
            c.loss.cases_only = true;
            given.push("--cases-only");
        }
        if let Some(g) = self.gradient {
            c.optimizer.gradient = g;
            given.push("--gradient");
        }
        if let Some(d) = self.forecast_days {
            c.forecast_days = d;
            given.push("--forecast-days");
        }
        if self.window.config.decline_policy.is_some() {
            given.push("--decline-policy");
        }
        c.validate("command line")
            .map_err(|e| name_the_flag(e, &given))?;
        Ok(c)
    }
}

/// Builds the one validated configuration of a run that fits (`fit`,
/// `batch`): the configuration file, the flags over it, the data and its
/// reading options, the window and the forecast settings.
pub fn resolve(
    data: &DataArgs,
    settings: &FitSettingsArgs,
    forecast: &backtest::ForecastArgs,
) -> Result<RunConfig, Error> {
    let fit = settings.resolve()?;
    Ok(RunConfig {
        data: data.data.clone(),
        load: data.load_options(),
        window: settings.window.options(&fit, data),
        forecast: forecast.options(),
        fit,
    })
}

/// [`resolve`] for a command that cuts windows but fits nothing
/// (`regions`): the configuration file and `--decline-policy` decide the
/// window's decline policy, as they do for a fit.
pub fn resolve_window(data: &DataArgs, window: &WindowArgs) -> Result<RunConfig, Error> {
    window.check()?;
    let fit = window.config.resolve()?;
    Ok(RunConfig {
        data: data.data.clone(),
        load: data.load_options(),
        window: window.options(&fit, data),
        forecast: crate::forecast::ForecastOptions::default(),
        fit,
    })
}

/// Where a run's outputs came from (tool version, the data files and an
/// explicit population file with their SHA-256, the command line), for
/// fit.json, batch.json and backtest's summary.json alike.
pub fn provenance(
    data: &std::path::Path,
    population: Option<&std::path::Path>,
) -> Result<crate::report::provenance::Provenance, Error> {
    let extra: Vec<&std::path::Path> = population.into_iter().collect();
    crate::report::provenance::Provenance::collect(data, &extra)
}
