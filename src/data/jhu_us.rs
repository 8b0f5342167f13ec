//! The JHU CSSE US layout: `time_series_covid19_confirmed_US.csv` and
//! `time_series_covid19_deaths_US.csv`, each
//! `UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,1/22/20,...`
//! with one row per county (or county-like unit: "Unassigned", `Out of
//! <state>`, prisons, territories) and one column per day (cumulative). The
//! deaths file has a `Population` column after `Combined_Key`, the only
//! population these files carry; 0 there means "no population" (the unit is
//! not a place people live in), so the region gets none and is never fitted.
//!
//! A region is country / province (`Province_State`) / county (`Admin2`; an
//! empty `Admin2`, as for Guam, is the province itself).
//!
//! The reader builds each series straight from its row rather than through
//! the table module's `Collector`: the days are the header's columns, so they
//! are checked once, and a day-keyed map per region would cost more than the
//! rest of loading the 3,340 x 300 cells.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;

use super::table::{self, Cell};
use super::{RegionKey, RegionSeries};
use crate::error::DataError;

/// The layout's name in messages.
pub const NAME: &str = "jhu-us";
/// The header this layout expects.
pub const HEADER: &str =
    "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key[,Population],1/22/20,...";
/// File name of the confirmed-cases file.
pub const CONFIRMED_FILE: &str = "time_series_covid19_confirmed_US.csv";
/// File name of the deaths file.
pub const DEATHS_FILE: &str = "time_series_covid19_deaths_US.csv";

/// Columns that are not days.
const NON_DATE: [&str; 12] = [
    "uid",
    "iso2",
    "iso3",
    "code3",
    "fips",
    "admin2",
    "province_state",
    "country_region",
    "lat",
    "long_",
    "combined_key",
    "population",
];

/// Whether a (normalised) header is this layout's: `Admin2`,
/// `Province_State`, `Country_Region` and at least one column named by a
/// date.
pub fn detect(header: &[String]) -> bool {
    table::has_all(header, &["Admin2", "Province_State", "Country_Region"])
        && header.iter().any(|h| table::parse_date(h).is_some())
}

/// A FIPS cell as the 5-digit code: JHU writes `1001.0` for Autauga, which
/// is `01001`. `None` when empty or not a whole number in range.
pub fn normalise_fips(text: &str) -> Option<String> {
    let v: f64 = text.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e9).then(|| format!("{:05}", v as u64))
}

/// One file's rows: the region keys in file order, their FIPS codes and
/// counts, the days, and (deaths file) the populations.
struct Sheet {
    keys: Vec<RegionKey>,
    fips: Vec<Option<String>>,
    counts: Vec<Vec<f64>>,
    lines: Vec<u64>,
    dates: Vec<NaiveDate>,
    populations: Option<Vec<f64>>,
}

/// Reads the pair; the paths name the files in errors. With `incident` the
/// counts are daily and are summed into cumulative series (which must not go
/// negative).
pub fn read(
    confirmed: impl Read,
    confirmed_path: &Path,
    deaths: impl Read,
    deaths_path: &Path,
    incident: bool,
) -> Result<Vec<RegionSeries>, DataError> {
    let c = read_one(confirmed, confirmed_path, incident)?;
    let d = read_one(deaths, deaths_path, incident)?;
    let Some(populations) = d.populations else {
        return Err(DataError::MissingColumn {
            path: deaths_path.to_path_buf(),
            column: "Population".into(),
        });
    };
    if c.dates != d.dates {
        return Err(DataError::Inconsistent {
            path: deaths_path.to_path_buf(),
            problem: format!(
                "its date columns differ from those of {}",
                confirmed_path.display()
            ),
        });
    }
    let mut by_key: HashMap<&RegionKey, usize> = HashMap::with_capacity(d.keys.len());
    for (i, k) in d.keys.iter().enumerate() {
        by_key.insert(k, i);
    }
    if d.keys.len() > c.keys.len() {
        // Every confirmed row has its own deaths row (checked below), so a
        // longer deaths file has a region the confirmed file lacks.
        let have: std::collections::HashSet<&RegionKey> = c.keys.iter().collect();
        if let Some(k) = d.keys.iter().find(|k| !have.contains(k)) {
            return Err(lacking(k, confirmed_path, deaths_path));
        }
    }
    let mut out = Vec::with_capacity(c.keys.len());
    let mut deaths_counts = d.counts;
    for (i, (key, cases)) in c.keys.into_iter().zip(c.counts).enumerate() {
        let Some(&j) = by_key.get(&key) else {
            return Err(lacking(&key, deaths_path, confirmed_path));
        };
        let mut cases = cases;
        let mut deaths = std::mem::take(&mut deaths_counts[j]);
        if incident {
            cumulate(
                &mut cases,
                &c.dates,
                &key,
                "cases",
                confirmed_path,
                c.lines[i],
            )?;
            cumulate(
                &mut deaths,
                &d.dates,
                &key,
                "deaths",
                deaths_path,
                d.lines[j],
            )?;
        }
        let population = Some(populations[j]).filter(|p| *p > 0.0);
        out.push(RegionSeries {
            fips: c.fips[i].clone().or_else(|| d.fips[j].clone()),
            key,
            dates: c.dates.clone(),
            cases,
            deaths,
            population,
        });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// The error for a region one file has and the other lacks.
fn lacking(key: &RegionKey, lacks: &Path, has: &Path) -> DataError {
    DataError::Inconsistent {
        path: lacks.to_path_buf(),
        problem: format!(
            "no row for region {}, which {} has (the confirmed and deaths files must list the same regions)",
                crate::text::quoted(&key.to_string()),
            has.display()
        ),
    }
}

/// Sums daily counts into cumulative ones; a total below 0 is an error.
fn cumulate(
    v: &mut [f64],
    dates: &[NaiveDate],
    key: &RegionKey,
    field: &str,
    path: &Path,
    line: u64,
) -> Result<(), DataError> {
    let mut total = 0.0;
    for (i, x) in v.iter_mut().enumerate() {
        total += *x;
        if total < 0.0 {
            return Err(DataError::NegativeTotal {
                path: path.to_path_buf(),
                line,
                region: key.display_name(),
                field: field.into(),
                date: dates[i].to_string(),
                total,
            });
        }
        *x = total;
    }
    Ok(())
}

/// Reads one file of the pair.
fn read_one(r: impl Read, path: &Path, incident: bool) -> Result<Sheet, DataError> {
    let mut rdr = table::reader(r);
    let header = table::header(&mut rdr, path)?;
    let raw = table::raw_header(&mut rdr, path)?;
    let county = table::column(&header, "Admin2", path)?;
    let province = table::column(&header, "Province_State", path)?;
    let country = table::column(&header, "Country_Region", path)?;
    let fips = table::column(&header, "FIPS", path).ok();
    let population = table::column(&header, "Population", path).ok();
    let days = table::date_columns(&header, &raw, &NON_DATE, path)?;
    // The series are built in column order, so the columns must be the
    // consecutive days (as JHU writes them).
    for w in days.windows(2) {
        let (prev, (i, next)) = (w[0].1, w[1]);
        if prev + chrono::Days::new(1) != next {
            return Err(DataError::Field {
                path: path.to_path_buf(),
                line: 1,
                column: i + 1,
                field: raw[i].clone(),
                problem: format!(
                    "day {next} follows {prev}: the date columns must be consecutive days"
                ),
            });
        }
    }
    let mut sheet = Sheet {
        keys: Vec::new(),
        fips: Vec::new(),
        counts: Vec::new(),
        lines: Vec::new(),
        dates: days.iter().map(|&(_, d)| d).collect(),
        populations: population.map(|_| Vec::new()),
    };
    let mut seen: HashMap<RegionKey, u64> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    while rdr
        .read_record(&mut rec)
        .map_err(|e| table::csv_error(&rdr, path, e))?
    {
        let line = table::line(&rdr, &rec);
        let c = rec.get(country).unwrap_or("").trim();
        if c.is_empty() {
            return Err(Cell::of(path, line, &rec, country, "Country_Region")
                .error("empty (a country is required)".into()));
        }
        let key = RegionKey {
            country: c.to_string(),
            province: table::optional_name(rec.get(province).unwrap_or("")),
            county: table::optional_name(rec.get(county).unwrap_or("")),
        };
        if let Some(first) = seen.insert(key.clone(), line) {
            return Err(DataError::Inconsistent {
                path: path.to_path_buf(),
                problem: format!(
                    "line {line}: region {} again (first on line {first})",
                    crate::text::quoted(&key.to_string())
                ),
            });
        }
        let mut counts = Vec::with_capacity(days.len());
        for &(i, _) in &days {
            counts.push(Cell::of(path, line, &rec, i, &raw[i]).required_count(incident)?);
        }
        if let (Some(col), Some(pops)) = (population, sheet.populations.as_mut()) {
            let p = Cell::of(path, line, &rec, col, "Population")
                .count(false)?
                .unwrap_or(0.0);
            pops.push(p);
        }
        sheet
            .fips
            .push(fips.and_then(|i| normalise_fips(rec.get(i).unwrap_or(""))));
        sheet.keys.push(key);
        sheet.counts.push(counts);
        sheet.lines.push(line);
    }
    if sheet.keys.is_empty() {
        return Err(DataError::NoRows {
            path: path.to_path_buf(),
        });
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key";

    fn pair(confirmed: &str, deaths: &str) -> Result<Vec<RegionSeries>, DataError> {
        read(
            confirmed.as_bytes(),
            Path::new("c.csv"),
            deaths.as_bytes(),
            Path::new("d.csv"),
            false,
        )
    }

    #[test]
    fn counties_get_three_level_keys_fips_and_populations() {
        let c = format!(
            "{HEAD},3/1/20,3/2/20\n\
             84001001,US,USA,840,1001.0,Autauga,Alabama,US,32.5,-86.6,\"Autauga, Alabama, US\",1,3\n\
             84080001,US,USA,840,80001.0,Out of AL,Alabama,US,0,0,\"Out of AL, Alabama, US\",0,2\n\
             316,GU,GUM,316,66.0,,Guam,US,13.4,144.8,\"Guam, US\",5,6\n"
        );
        let d = format!(
            "{HEAD},Population,3/1/20,3/2/20\n\
             316,GU,GUM,316,66.0,,Guam,US,13.4,144.8,\"Guam, US\",164229,0,1\n\
             84001001,US,USA,840,1001.0,Autauga,Alabama,US,32.5,-86.6,\"Autauga, Alabama, US\",55869,0,0\n\
             84080001,US,USA,840,80001.0,Out of AL,Alabama,US,0,0,\"Out of AL, Alabama, US\",0,0,1\n"
        );
        let r = pair(&c, &d).unwrap();
        let names: Vec<_> = r.iter().map(|s| s.key.display_name()).collect();
        assert_eq!(
            names,
            ["US/Alabama/Autauga", "US/Alabama/Out of AL", "US/Guam"]
        );
        assert_eq!(r[0].fips.as_deref(), Some("01001"));
        assert_eq!(r[0].population, Some(55869.0));
        assert_eq!(r[0].cases, [1.0, 3.0]);
        assert_eq!(r[1].population, None, "population 0 is no population");
        assert_eq!(r[1].deaths, [0.0, 1.0]);
        assert_eq!(
            r[2].deaths,
            [0.0, 1.0],
            "rows are matched by key, not order"
        );
    }

    #[test]
    fn bad_pairs_name_the_file_and_problem() {
        let c = format!("{HEAD},3/1/20,3/3/20\nx,US,USA,840,1.0,A,B,US,0,0,k,1,2\n");
        let e = pair(&c, &c).unwrap_err().to_string();
        assert!(e.contains("c.csv") && e.contains("consecutive"), "{e}");
        let c = format!("{HEAD},3/1/20\nx,US,USA,840,1.0,A,B,US,0,0,k,1\n");
        let e = pair(&c, &c).unwrap_err().to_string();
        assert!(e.contains("d.csv") && e.contains("Population"), "{e}");
        let d = format!("{HEAD},Population,3/1/20\nx,US,USA,840,1.0,Z,B,US,0,0,k,10,1\n");
        let e = pair(&c, &d).unwrap_err().to_string();
        assert!(e.contains("d.csv") && e.contains("US/B/A"), "{e}");
    }
}
