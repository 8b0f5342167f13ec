//! A plain user CSV for one region: `date,cases,deaths` (any column order,
//! any capitalisation, extra columns ignored). The region is named after the
//! file (`lombardy.csv` is region `lombardy`); it has no population of its
//! own, so a fit needs `--population-value N`.

use std::io::Read;
use std::path::Path;

use super::table::{self, LongColumns, Region};
use super::{RegionKey, RegionSeries};
use crate::error::DataError;

/// The layout's name in messages.
pub const NAME: &str = "plain";
/// The header this layout expects.
pub const HEADER: &str = "date,cases,deaths";

/// Whether a (normalised) header is this layout's: `date` and `cases`.
pub fn detect(header: &[String]) -> bool {
    table::has_all(header, &["date", "cases"])
}

/// The region a plain file holds: its file stem.
pub fn region_of(path: &Path) -> RegionKey {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "data".into());
    RegionKey::country(&stem)
}

/// Reads the layout from `r`; `path` names it in errors and the region.
/// With `incident` the counts are daily and are summed.
pub fn read(r: impl Read, path: &Path, incident: bool) -> Result<Vec<RegionSeries>, DataError> {
    table::read_long(
        r,
        path,
        &LongColumns {
            region: Region::Fixed(region_of(path)),
            date: "date",
            cases: "cases",
            deaths: "deaths",
        },
        incident,
    )
}
