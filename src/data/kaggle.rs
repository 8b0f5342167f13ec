//! The Kaggle "COVID19 Global Forecasting" layout (`train.csv`):
//! `Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities`, one row
//! per region and day, cumulative counts; an empty `Province_State` is the
//! whole country.

use std::io::Read;
use std::path::Path;

use super::table::{self, LongColumns, Region};
use super::RegionSeries;
use crate::error::DataError;

/// The layout's name in messages.
pub const NAME: &str = "kaggle";
/// The header this layout expects (`Id` is not needed).
pub const HEADER: &str = "Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities";

/// Whether a (normalised) header is this layout's: it names `Country_Region`
/// and `ConfirmedCases`, which no other source uses.
pub fn detect(header: &[String]) -> bool {
    table::has_all(header, &["Country_Region", "ConfirmedCases"])
}

/// Reads the layout from `r`; `path` names it in errors. With `incident`
/// the counts are daily and are summed into cumulative series.
pub fn read(r: impl Read, path: &Path, incident: bool) -> Result<Vec<RegionSeries>, DataError> {
    table::read_long(
        r,
        path,
        &LongColumns {
            region: Region::Columns {
                country: "Country_Region",
                province: Some("Province_State"),
            },
            date: "Date",
            cases: "ConfirmedCases",
            deaths: "Fatalities",
        },
        incident,
    )
}
