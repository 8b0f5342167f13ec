//! Our World in Data's `owid-covid-data.csv`:
//! `iso_code,continent,location,date,total_cases,new_cases,total_deaths,new_deaths,...,population,...`.
//!
//! Every `location` is a region, aggregates such as `World` or `High income`
//! included. The file carries its own `population` (the last non-empty value
//! of a location is used). Totals are empty until a location reports; an
//! empty total is carried forward from the last reported one (0 before the
//! first), because a cumulative count does not change without a report. With
//! `incident`, `new_cases`/`new_deaths` are summed instead (empty = 0).

use std::io::Read;
use std::path::Path;

use super::table::{self, Cell, Collector, Missing};
use super::{RegionKey, RegionSeries};
use crate::error::DataError;

/// The layout's name in messages.
pub const NAME: &str = "owid";
/// The header this layout expects (other columns are ignored).
pub const HEADER: &str =
    "iso_code,continent,location,date,total_cases,new_cases,total_deaths,new_deaths,...,population";

/// Whether a (normalised) header is this layout's: `location` and `date`.
pub fn detect(header: &[String]) -> bool {
    table::has_all(header, &["location", "date"])
}

/// Reads the layout from `r`; `path` names it in errors.
pub fn read(r: impl Read, path: &Path, incident: bool) -> Result<Vec<RegionSeries>, DataError> {
    let mut rdr = table::reader(r);
    let header = table::header(&mut rdr, path)?;
    let (cases_name, deaths_name) = if incident {
        ("new_cases", "new_deaths")
    } else {
        ("total_cases", "total_deaths")
    };
    let location = table::column(&header, "location", path)?;
    let date = table::column(&header, "date", path)?;
    let cases = table::column(&header, cases_name, path)?;
    let deaths = table::column(&header, deaths_name, path)?;
    let population = table::column(&header, "population", path)?;
    let mut out = Collector::default();
    let mut rec = csv::StringRecord::new();
    let mut key = RegionKey::country("");
    let mut rows = 0usize;
    while rdr
        .read_record(&mut rec)
        .map_err(|e| table::csv_error(&rdr, path, e))?
    {
        let line = table::line(&rdr, &rec);
        rows += 1;
        let loc = rec.get(location).unwrap_or("").trim();
        if loc.is_empty() {
            return Err(Cell::of(path, line, &rec, location, "location")
                .error("empty (a location is required)".into()));
        }
        if key.country != loc {
            key = RegionKey::country(loc);
        }
        let day = Cell::of(path, line, &rec, date, "date");
        let c = Cell::of(path, line, &rec, cases, cases_name).count(incident)?;
        let d = Cell::of(path, line, &rec, deaths, deaths_name).count(incident)?;
        out.insert(path, day.line, &key, day.date()?, c, d)?;
        if let Some(p) = Cell::of(path, line, &rec, population, "population").count(false)? {
            if p > 0.0 {
                out.set_population(&key, p);
            }
        }
    }
    if rows == 0 {
        return Err(DataError::NoRows {
            path: path.to_path_buf(),
        });
    }
    out.finish(path, Missing::CarryForward, incident)
}
