//! Populations from the JHU `UID_ISO_FIPS_LookUp_Table.csv`: the rows with an
//! empty `Admin2` are countries (empty `Province_State`) and provinces or
//! states; the others are US counties (and similar units elsewhere). Rows with an empty `Population` (cruise ships, repatriation
//! rows) give no population: we never guess one.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::table::{self, Cell};
use super::RegionKey;
use crate::error::DataError;

/// The lookup table's file name.
pub const LOOKUP_FILE: &str = "UID_ISO_FIPS_LookUp_Table.csv";

/// Populations by region, as read from a lookup table.
#[derive(Debug, Clone, Default)]
pub struct Populations {
    by_key: HashMap<LookupKey, f64>,
}

/// The lookup key: names compared case-insensitively, since sources differ
/// in capitalisation now and then.
fn lookup_key(key: &RegionKey) -> LookupKey {
    (
        super::select::fold(&key.country),
        key.province.as_deref().map(super::select::fold),
        key.county.as_deref().map(super::select::fold),
    )
}

/// Country, province and county, lower case.
type LookupKey = (String, Option<String>, Option<String>);

impl Populations {
    /// The population of a region, if the table has a non-empty one.
    pub fn get(&self, key: &RegionKey) -> Option<f64> {
        self.by_key.get(&lookup_key(key)).copied()
    }

    /// Number of regions with a population.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the table gave no population at all.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Reads a lookup table from `r`; `path` names it in errors.
pub fn read(r: impl Read, path: &Path) -> Result<Populations, DataError> {
    let mut rdr = table::reader(r);
    let header = table::header(&mut rdr, path)?;
    let admin2 = table::column(&header, "Admin2", path)?;
    let province = table::column(&header, "Province_State", path)?;
    let country = table::column(&header, "Country_Region", path)?;
    let population = table::column(&header, "Population", path)?;
    let mut out = Populations::default();
    let mut rec = csv::StringRecord::new();
    while rdr
        .read_record(&mut rec)
        .map_err(|e| table::csv_error(&rdr, path, e))?
    {
        let line = table::line(&rdr, &rec);
        let Some(p) = Cell::of(path, line, &rec, population, "Population").count(false)? else {
            continue;
        };
        if p <= 0.0 {
            continue;
        }
        let key = RegionKey {
            country: rec.get(country).unwrap_or("").trim().to_string(),
            province: table::optional_name(rec.get(province).unwrap_or("")),
            county: table::optional_name(rec.get(admin2).unwrap_or("")),
        };
        // The first row of a region wins; later duplicates are ignored.
        out.by_key.entry(lookup_key(&key)).or_insert(p);
    }
    Ok(out)
}

/// Where a lookup table is looked for when none is given: beside the data
/// (`dir/UID_ISO_FIPS_LookUp_Table.csv`), then in a sibling `jhu` directory
/// (`dir/../jhu/...`, the layout of `../shared/data`, where the Kaggle file
/// sits in `kaggle/`). `dir` is the data directory, or the data file's.
pub fn search_paths(dir: &Path) -> Vec<PathBuf> {
    vec![
        dir.join(LOOKUP_FILE),
        dir.join("..").join("jhu").join(LOOKUP_FILE),
    ]
}
