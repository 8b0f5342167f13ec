//! The long layouts of the DataHub/JHU normalisation, one row per region and
//! day, cumulative counts (`Recovered` is read by nobody and not required):
//!
//! * `countries-aggregated.csv`: `Date,Country,Confirmed,Recovered,Deaths`
//!   (whole countries; see [`countries`]),
//! * `time-series-19-covid-combined.csv`:
//!   `Date,Country/Region,Province/State,Confirmed,Recovered,Deaths` (see
//!   [`combined`]).

/// `Date,Country,Confirmed,Recovered,Deaths`.
pub mod countries {
    use std::io::Read;
    use std::path::Path;

    use crate::data::table::{self, LongColumns, Region};
    use crate::data::RegionSeries;
    use crate::error::DataError;

    /// The layout's name in messages.
    pub const NAME: &str = "long-countries";
    /// The header this layout expects.
    pub const HEADER: &str = "Date,Country,Confirmed,Recovered,Deaths";

    /// Whether a (normalised) header is this layout's: `Date` and `Country`.
    pub fn detect(header: &[String]) -> bool {
        table::has_all(header, &["Date", "Country"])
    }

    /// Reads the layout from `r`; `path` names it in errors. With
    /// `incident` the counts are daily and are summed.
    pub fn read(r: impl Read, path: &Path, incident: bool) -> Result<Vec<RegionSeries>, DataError> {
        table::read_long(
            r,
            path,
            &LongColumns {
                region: Region::Columns {
                    country: "Country",
                    province: None,
                },
                date: "Date",
                cases: "Confirmed",
                deaths: "Deaths",
            },
            incident,
        )
    }
}

/// `Date,Country/Region,Province/State,Confirmed,Recovered,Deaths`.
pub mod combined {
    use std::io::Read;
    use std::path::Path;

    use crate::data::table::{self, LongColumns, Region};
    use crate::data::RegionSeries;
    use crate::error::DataError;

    /// The layout's name in messages.
    pub const NAME: &str = "long-combined";
    /// The header this layout expects.
    pub const HEADER: &str = "Date,Country/Region,Province/State,Confirmed,Recovered,Deaths";

    /// Whether a (normalised) header is this layout's: `Date` and
    /// `Country/Region` (the wide layout has no `Date` column).
    pub fn detect(header: &[String]) -> bool {
        table::has_all(header, &["Date", "Country/Region"])
    }

    /// Reads the layout from `r`; `path` names it in errors. With
    /// `incident` the counts are daily and are summed.
    pub fn read(r: impl Read, path: &Path, incident: bool) -> Result<Vec<RegionSeries>, DataError> {
        table::read_long(
            r,
            path,
            &LongColumns {
                region: Region::Columns {
                    country: "Country/Region",
                    province: Some("Province/State"),
                },
                date: "Date",
                cases: "Confirmed",
                deaths: "Deaths",
            },
            incident,
        )
    }
}
