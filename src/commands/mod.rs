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

use crate::data::{DeclinePolicy, WindowOptions};
use crate::error::Error;
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

/// The training window and fit settings shared by `fit` and `batch`:
/// the configuration file and the flags that override it.
#[derive(Debug, Clone, Args)]
pub struct FitSettingsArgs {
    /// First training day (default: each region's first day with confirmed cases).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub start: Option<NaiveDate>,
    /// Last training day (default: the last day of data).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub end: Option<NaiveDate>,
    /// Days to forecast after the training window [default: 28, or the config's].
    #[arg(long, value_name = "N")]
    pub forecast_days: Option<usize>,
    /// Configuration file.
    #[arg(long, default_value = crate::config::DEFAULT_PATH, value_name = "FILE")]
    pub config: PathBuf,
    /// Score confirmed cases alone (default: mean of cases and deaths).
    #[arg(long)]
    pub cases_only: bool,
    /// How the loss gradient is computed [default: the config's, sensitivity].
    #[arg(long, value_parser = choice(&GradientMethod::ALL, GradientMethod::name))]
    pub gradient: Option<GradientMethod>,
    /// Policy for cumulative counts that go down [default: the config's, keep].
    #[arg(long, value_parser = choice(&DeclinePolicy::ALL, DeclinePolicy::name))]
    pub decline_policy: Option<DeclinePolicy>,
}

impl FitSettingsArgs {
    /// Loads the configuration file and applies the flags over it
    /// (default < file < flag), validating the result.
    pub fn resolve(&self) -> Result<FitConfig, Error> {
        if let (Some(start), Some(end)) = (self.start, self.end) {
            if start > end {
                return Err(Error::Usage(format!(
                    "--start {start} is after --end {end}: the training window is empty"
                )));
            }
        }
        let mut c = crate::config::load(&self.config)?;
        if self.cases_only {
            c.loss.cases_only = true;
        }
        if let Some(g) = self.gradient {
            c.optimizer.gradient = g;
        }
        if let Some(d) = self.forecast_days {
            c.forecast_days = d;
        }
        if let Some(p) = self.decline_policy {
            c.decline_policy = p;
        }
        c.validate("command line")?;
        Ok(c)
    }

    /// The training window these flags and `config` ask for.
    pub fn window(&self, config: &FitConfig, data: &DataArgs) -> WindowOptions {
        WindowOptions {
            start: self.start,
            end: self.end,
            decline_policy: config.decline_policy,
            population_override: data.population_value,
        }
    }
}
