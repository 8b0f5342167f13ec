//! The JHU CSSE wide layout: `time_series_covid19_confirmed_global.csv` and
//! `time_series_covid19_deaths_global.csv`, each
//! `Province/State,Country/Region,Lat,Long,1/22/20,1/23/20,...` with one row
//! per region and one column per day (cumulative). The two files must list
//! the same regions and days.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use super::table::{self, Cell, Collector, Missing};
use super::{RegionKey, RegionSeries};
use crate::error::DataError;

/// The layout's name in messages.
pub const NAME: &str = "jhu-wide";
/// The header this layout expects.
pub const HEADER: &str = "Province/State,Country/Region,Lat,Long,1/22/20,1/23/20,...";
/// File name of the confirmed-cases file.
pub const CONFIRMED_FILE: &str = "time_series_covid19_confirmed_global.csv";
/// File name of the deaths file.
pub const DEATHS_FILE: &str = "time_series_covid19_deaths_global.csv";

/// Columns that are not days.
const NON_DATE: [&str; 4] = ["province/state", "country/region", "lat", "long"];

/// Whether a (normalised) header is this layout's: `Country/Region` and at
/// least one column named by a date.
pub fn detect(header: &[String]) -> bool {
    table::has_all(header, &["Country/Region"])
        && header.iter().any(|h| table::parse_date(h).is_some())
}

/// Which of the pair a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// Cumulative confirmed cases.
    Confirmed,
    /// Cumulative deaths.
    Deaths,
}

impl Series {
    /// Tells the pair apart by file name (their headers are identical).
    pub fn from_path(path: &Path) -> Option<Series> {
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        if name.contains("confirmed") {
            Some(Series::Confirmed)
        } else if name.contains("deaths") {
            Some(Series::Deaths)
        } else {
            None
        }
    }

    /// The path of the other file of the pair, beside `path`.
    pub fn partner(self, path: &Path) -> Option<std::path::PathBuf> {
        let name = path.file_name()?.to_string_lossy().to_string();
        // ASCII lowercasing keeps every byte where it is, so an index found
        // in `lower` is an index into `name` (full Unicode lowercasing can
        // change the length, e.g. 'İ' becomes two characters).
        let lower = name.to_ascii_lowercase();
        let (from, to) = match self {
            Series::Confirmed => ("confirmed", "deaths"),
            Series::Deaths => ("deaths", "confirmed"),
        };
        let at = lower.find(from)?;
        let other = format!("{}{}{}", &name[..at], to, &name[at + from.len()..]);
        Some(path.with_file_name(other))
    }
}

/// Reads the pair; the paths name the files in errors. With `incident` the
/// counts are daily and are summed into cumulative series.
pub fn read(
    confirmed: impl Read,
    confirmed_path: &Path,
    deaths: impl Read,
    deaths_path: &Path,
    incident: bool,
) -> Result<Vec<RegionSeries>, DataError> {
    let mut out = Collector::merging();
    let (c_keys, c_dates) = read_one(
        confirmed,
        confirmed_path,
        Series::Confirmed,
        incident,
        &mut out,
    )?;
    let (d_keys, d_dates) = read_one(deaths, deaths_path, Series::Deaths, incident, &mut out)?;
    if let Some(k) = c_keys.symmetric_difference(&d_keys).next() {
        let (has, lacks) = if c_keys.contains(k) {
            (confirmed_path, deaths_path)
        } else {
            (deaths_path, confirmed_path)
        };
        return Err(DataError::Inconsistent {
            path: lacks.to_path_buf(),
            problem: format!(
                "no row for region {}, which {} has (the confirmed and deaths files must list the same regions)",
                crate::text::quoted(&k.to_string()),
                has.display()
            ),
        });
    }
    if c_dates != d_dates {
        return Err(DataError::Inconsistent {
            path: deaths_path.to_path_buf(),
            problem: format!(
                "its date columns differ from those of {}",
                confirmed_path.display()
            ),
        });
    }
    out.finish(confirmed_path, Missing::Error, incident)
}

/// Reads one file of the pair into `out`; returns its regions and dates.
fn read_one(
    r: impl Read,
    path: &Path,
    which: Series,
    incident: bool,
    out: &mut Collector,
) -> Result<(BTreeSet<RegionKey>, Vec<chrono::NaiveDate>), DataError> {
    let mut rdr = table::reader(r);
    let header = table::header(&mut rdr, path)?;
    let raw = table::raw_header(&mut rdr, path)?;
    let province = table::column(&header, "Province/State", path)?;
    let country = table::column(&header, "Country/Region", path)?;
    let dates = table::date_columns(&header, &raw, &NON_DATE, path)?;
    let mut keys = BTreeSet::new();
    let mut rec = csv::StringRecord::new();
    while rdr
        .read_record(&mut rec)
        .map_err(|e| table::csv_error(&rdr, path, e))?
    {
        let line = table::line(&rdr, &rec);
        let c = rec.get(country).unwrap_or("").trim();
        if c.is_empty() {
            return Err(Cell::of(path, line, &rec, country, "Country/Region")
                .error("empty (a country is required)".into()));
        }
        let key = RegionKey {
            country: c.to_string(),
            province: table::optional_name(rec.get(province).unwrap_or("")),
            county: None,
        };
        for &(i, day) in &dates {
            let cell = Cell::of(path, line, &rec, i, &raw[i]);
            let v = Some(cell.required_count(incident)?);
            let (cases, deaths) = match which {
                Series::Confirmed => (v, None),
                Series::Deaths => (None, v),
            };
            out.insert(path, cell.line, &key, day, cases, deaths)?;
        }
        keys.insert(key);
    }
    if keys.is_empty() {
        return Err(DataError::NoRows {
            path: path.to_path_buf(),
        });
    }
    let mut days: Vec<_> = dates.into_iter().map(|(_, d)| d).collect();
    days.sort();
    Ok((keys, days))
}

#[cfg(test)]
mod partner_tests {
    use super::*;

    #[test]
    fn partner_of_a_name_whose_lowercase_is_longer() {
        // 'İ' (2 bytes) lowercases to "i̇" (3 bytes): a byte index taken from
        // the Unicode-lowercased copy pointed one byte too far.
        let p = Path::new("/d/İstanbul_Confirmed.csv");
        assert_eq!(
            Series::Confirmed.partner(p).unwrap(),
            Path::new("/d/İstanbul_deaths.csv")
        );
        let p = Path::new("/d/ǅ_deaths_x.csv");
        assert_eq!(
            Series::Deaths.partner(p).unwrap(),
            Path::new("/d/ǅ_confirmed_x.csv")
        );
    }
}
