//! One module per subcommand: its clap arguments and its `run`.

pub mod batch;
pub mod download;
pub mod fit;
pub mod merge;
pub mod optimize;
pub mod regions;
pub mod simulate;

use std::path::PathBuf;

use clap::Args;

/// Where the data comes from; shared by `fit`, `regions` and `batch`.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Data file or directory (Kaggle train.csv, a JHU directory, ...).
    #[arg(long, default_value = "data/", value_name = "PATH")]
    pub data: PathBuf,
    /// JHU UID_ISO_FIPS_LookUp_Table.csv; default: one found beside the data.
    #[arg(long, value_name = "FILE")]
    pub population: Option<PathBuf>,
    /// Population to use instead of the lookup table.
    #[arg(long, value_name = "N")]
    pub population_value: Option<f64>,
    /// The counts are daily (incident); sum them into cumulative series.
    #[arg(long)]
    pub incident: bool,
}

impl DataArgs {
    /// The options for [`crate::data::load`] these flags ask for.
    pub fn load_options(&self) -> crate::data::LoadOptions {
        crate::data::LoadOptions {
            population_file: self.population.clone(),
            incident: self.incident,
        }
    }
}
