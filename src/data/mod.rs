//! Surveillance data: reading the real layouts, attaching populations,
//! finding a region by name, and cutting a training window.
//!
//! Each layout is one small module with a `detect(header)` and a reader that
//! takes `impl Read`, so tests can feed bytes.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::DataError;

pub mod aggregate;
pub mod download;
pub mod hygiene;
pub mod jhu_us;
pub mod jhu_wide;
pub mod kaggle;
pub mod long;
pub mod owid;
pub mod plain;
pub mod population;
pub mod select;
mod table;

pub use aggregate::{aggregate, Aggregate};
pub use hygiene::{apply_decline_policy, count_decline_days, DeclinePolicy};

/// A region: a country, optionally a province or state within it, and
/// optionally a county (JHU's `Admin2`) within that.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RegionKey {
    /// Country or region name as the data spells it, e.g. `Korea, South`.
    pub country: String,
    /// Province or state; `None` for a whole country.
    pub province: Option<String>,
    /// County or county-like unit (`Admin2` of the JHU US files); `None`
    /// for a whole province or country. Absent in keys written before
    /// counties existed, hence the default.
    #[serde(default)]
    pub county: Option<String>,
}

impl RegionKey {
    /// A whole country.
    pub fn country(name: &str) -> Self {
        Self::new(name, None, None)
    }

    /// A region at any level: country, optional province, optional county.
    pub fn new(country: &str, province: Option<&str>, county: Option<&str>) -> Self {
        Self {
            country: country.to_string(),
            province: province.map(str::to_string),
            county: county.map(str::to_string),
        }
    }

    /// `Country`, `Country/Province` or `Country/Province/County`, as users
    /// type it. A county without a province (not in any real data set) is
    /// `Country//County`, so the levels stay unambiguous.
    pub fn display_name(&self) -> String {
        match (&self.province, &self.county) {
            (Some(p), Some(c)) => format!("{}/{}/{}", self.country, p, c),
            (None, Some(c)) => format!("{}//{}", self.country, c),
            (Some(p), None) => format!("{}/{}", self.country, p),
            (None, None) => self.country.clone(),
        }
    }

    /// The names from the country down, e.g. `["US", "New York", "Kings"]`.
    pub fn levels(&self) -> Vec<Option<&str>> {
        vec![
            Some(self.country.as_str()),
            self.province.as_deref(),
            self.county.as_deref(),
        ]
    }

    /// A file-system-safe slug, e.g. `korea-south`, `china-hubei` or
    /// `us-new-york-kings`.
    pub fn slug(&self) -> String {
        let mut out = String::new();
        for c in self.display_name().chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        while out.ends_with('-') {
            out.pop();
        }
        if out.is_empty() {
            out.push_str("region");
        }
        out
    }
}

impl std::fmt::Display for RegionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display_name())
    }
}

/// Daily cumulative series of one region, sorted by date, one entry per day.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionSeries {
    /// Which region.
    pub key: RegionKey,
    /// Consecutive days, ascending.
    pub dates: Vec<NaiveDate>,
    /// Cumulative confirmed cases, one per date.
    pub cases: Vec<f64>,
    /// Cumulative deaths, one per date.
    pub deaths: Vec<f64>,
    /// Population, when known.
    pub population: Option<f64>,
    /// The county's 5-digit FIPS code, when the data has one (JHU US).
    pub fips: Option<String>,
}

/// The days a fit is trained on, after the window and hygiene policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingData {
    /// Which region.
    pub key: RegionKey,
    /// Population used by the model.
    pub population: f64,
    /// Training days, ascending, consecutive. `dates[0]` is model time t = 0.
    pub dates: Vec<NaiveDate>,
    /// Cumulative confirmed cases on the training days.
    pub cases: Vec<f64>,
    /// Cumulative deaths on the training days.
    pub deaths: Vec<f64>,
    /// Observations after the training window (for judging the forecast).
    pub held_out_dates: Vec<NaiveDate>,
    /// Cases observed after the training window.
    pub held_out_cases: Vec<f64>,
    /// Deaths observed after the training window.
    pub held_out_deaths: Vec<f64>,
    /// Number of days (in the whole series) whose cases or deaths fell below
    /// the previous day's, before the policy was applied.
    pub decline_days: usize,
    /// The policy that was applied.
    pub decline_policy: DeclinePolicy,
}

/// The fewest training days a fit accepts.
pub const MIN_TRAIN_DAYS: usize = 5;

/// Options for cutting a training window out of a series.
#[derive(Debug, Clone, Default)]
pub struct WindowOptions {
    /// First training day; default the first day with confirmed cases > 0.
    pub start: Option<NaiveDate>,
    /// Last training day; default the last day of data.
    pub end: Option<NaiveDate>,
    /// Policy for declining cumulative counts.
    pub decline_policy: DeclinePolicy,
    /// Population to use instead of the series' own.
    pub population_override: Option<f64>,
}

impl RegionSeries {
    /// Cuts the training window: from the first day with cases > 0 (or
    /// `opts.start`, if later) to `opts.end` (or the last day).
    ///
    /// The decline policy is applied to the series up to `opts.end` for the
    /// training days, so a correction reported after the window cannot
    /// change what the fit sees (only `redistribute` looks back), and to the
    /// whole series for the held-out days. `decline_days` counts the days of
    /// the whole series that fell, before any policy.
    pub fn training_data(&self, opts: &WindowOptions) -> Result<TrainingData, DataError> {
        let region = self.key.display_name();
        let population = match opts.population_override {
            // A population the user gave is checked, never dropped in favour
            // of the table's (or blamed on the data).
            Some(p) if !(p.is_finite() && p > 0.0) => {
                return Err(DataError::InvalidPopulation {
                    region,
                    population: p,
                    problem: "given with --population-value must be a finite number > 0".into(),
                });
            }
            Some(p) => p,
            None => self
                .population
                .filter(|p| p.is_finite() && *p > 0.0)
                .ok_or_else(|| DataError::NoPopulation {
                    region: region.clone(),
                })?,
        };
        let decline_days = count_decline_days(&self.cases, &self.deaths);
        let end_idx = match opts.end {
            Some(end) => self.dates.iter().rposition(|d| *d <= end),
            None => self.dates.len().checked_sub(1),
        };
        let end_label = opts
            .end
            .map(|d| d.to_string())
            .unwrap_or_else(|| "(last day)".into());
        let train_end = end_idx.map_or(0, |i| i + 1);
        let mut cases = self.cases[..train_end].to_vec();
        let mut deaths = self.deaths[..train_end].to_vec();
        apply_decline_policy(&mut cases, opts.decline_policy);
        apply_decline_policy(&mut deaths, opts.decline_policy);

        let first_case = cases.iter().position(|&c| c > 0.0);
        let Some(first) = first_case else {
            // The first case of the whole series, for the message.
            let first = self
                .cases
                .iter()
                .position(|&c| c > 0.0)
                .map(|i| self.dates[i].to_string())
                .unwrap_or_else(|| "none in the data".into());
            return Err(DataError::EndBeforeFirstCase {
                region,
                end: end_label,
                first,
            });
        };
        let start_idx = match opts.start {
            Some(s) => self
                .dates
                .iter()
                .position(|d| *d >= s)
                .unwrap_or(self.dates.len())
                .max(first),
            None => first,
        };
        let days = train_end.saturating_sub(start_idx);
        if days < MIN_TRAIN_DAYS {
            return Err(DataError::TooFewDays {
                region,
                days,
                min: MIN_TRAIN_DAYS,
            });
        }
        let mut all_cases = self.cases.clone();
        let mut all_deaths = self.deaths.clone();
        apply_decline_policy(&mut all_cases, opts.decline_policy);
        apply_decline_policy(&mut all_deaths, opts.decline_policy);
        let held = train_end..self.dates.len();
        let most = cases[start_idx..]
            .iter()
            .chain(&deaths[start_idx..])
            .fold(0.0f64, |a, &b| a.max(b));
        if most > population {
            return Err(DataError::InvalidPopulation {
                region,
                population,
                problem: format!("is below the {most} cases reported in the training window"),
            });
        }
        Ok(TrainingData {
            key: self.key.clone(),
            population,
            dates: self.dates[start_idx..train_end].to_vec(),
            cases: cases[start_idx..].to_vec(),
            deaths: deaths[start_idx..].to_vec(),
            held_out_dates: self.dates[held.clone()].to_vec(),
            held_out_cases: all_cases[held.clone()].to_vec(),
            held_out_deaths: all_deaths[held].to_vec(),
            decline_days,
            decline_policy: opts.decline_policy,
        })
    }

    /// The first day with confirmed cases > 0, as reported.
    pub fn first_case_date(&self) -> Option<NaiveDate> {
        self.cases
            .iter()
            .position(|&c| c > 0.0)
            .map(|i| self.dates[i])
    }
}

/// Which file layout a data set was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Kaggle "COVID19 Global Forecasting": `Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities`.
    Kaggle,
    /// JHU CSSE wide time series (confirmed + deaths files).
    JhuWide,
    /// JHU CSSE US county time series (confirmed + deaths files, the deaths
    /// file with a `Population` column).
    JhuUs,
    /// Long layout of whole countries: `Date,Country,Confirmed,Recovered,Deaths`.
    LongCountries,
    /// Long layout with provinces: `Date,Country/Region,Province/State,Confirmed,Recovered,Deaths`.
    LongCombined,
    /// Our World in Data: `iso_code,continent,location,date,total_cases,...,population`.
    Owid,
    /// A plain user file for one region: `date,cases,deaths`.
    Plain,
}

impl Layout {
    /// Every layout, in the order detection tries them (most specific
    /// header first, so e.g. `Country/Region` with date columns is the wide
    /// layout before the long one is considered).
    pub const ALL: [Layout; 7] = [
        Layout::Kaggle,
        Layout::JhuWide,
        Layout::JhuUs,
        Layout::LongCombined,
        Layout::LongCountries,
        Layout::Owid,
        Layout::Plain,
    ];

    /// The layout's short name, as messages and `regions --json` print it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Kaggle => kaggle::NAME,
            Layout::JhuWide => jhu_wide::NAME,
            Layout::JhuUs => jhu_us::NAME,
            Layout::LongCountries => long::countries::NAME,
            Layout::LongCombined => long::combined::NAME,
            Layout::Owid => owid::NAME,
            Layout::Plain => plain::NAME,
        }
    }

    /// The header the layout expects.
    pub fn header(self) -> &'static str {
        match self {
            Layout::Kaggle => kaggle::HEADER,
            Layout::JhuWide => jhu_wide::HEADER,
            Layout::JhuUs => jhu_us::HEADER,
            Layout::LongCountries => long::countries::HEADER,
            Layout::LongCombined => long::combined::HEADER,
            Layout::Owid => owid::HEADER,
            Layout::Plain => plain::HEADER,
        }
    }

    /// The layout a header belongs to. `header` holds the header cells,
    /// as written (matching ignores case, spaces and a UTF-8 BOM).
    pub fn detect<S: AsRef<str>>(header: &[S]) -> Option<Layout> {
        let h: Vec<String> = header
            .iter()
            .map(|c| table::normalise(c.as_ref()))
            .collect();
        Layout::ALL.into_iter().find(|l| match l {
            Layout::Kaggle => kaggle::detect(&h),
            Layout::JhuWide => jhu_wide::detect(&h),
            Layout::JhuUs => jhu_us::detect(&h),
            Layout::LongCombined => long::combined::detect(&h),
            Layout::LongCountries => long::countries::detect(&h),
            Layout::Owid => owid::detect(&h),
            Layout::Plain => plain::detect(&h),
        })
    }

    /// Every layout with its header, for the "unknown layout" error.
    pub fn expected() -> String {
        Layout::ALL
            .iter()
            .map(|l| format!("{} ({})", l.name(), l.header()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a data set's populations came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PopulationSource {
    /// A JHU lookup table.
    LookupTable(PathBuf),
    /// The data file itself (OWID).
    InData,
    /// Nowhere: no lookup table was given or found.
    None,
}

/// A loaded data set: every region it holds.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its layout.
    pub layout: Layout,
    /// Regions, sorted by key.
    pub regions: Vec<RegionSeries>,
    /// Where the populations came from.
    pub populations: PopulationSource,
}

/// Options for [`load`].
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// A JHU `UID_ISO_FIPS_LookUp_Table.csv`; default: one found beside the
    /// data (see [`population::search_paths`]).
    pub population_file: Option<PathBuf>,
    /// The counts are daily (incident) numbers; sum them into cumulative
    /// series. Negative daily numbers (corrections) are then allowed as long
    /// as the totals stay non-negative.
    pub incident: bool,
    /// Sum the regions to this level after reading (and after attaching
    /// populations), see [`aggregate()`].
    pub aggregate: Option<Aggregate>,
}

/// Reads a data set from a file or directory, detecting its layout from the
/// header.
///
/// A directory is searched for the JHU pair
/// (`time_series_covid19_confirmed_global.csv` and its deaths file, or the
/// US pair `time_series_covid19_confirmed_US.csv`), else for
/// its only `*.csv` data file (or `train.csv` among several). Given one file
/// of the JHU pair, the other is taken from beside it. Populations come from
/// `opts.population_file`, else from a lookup table found beside the data
/// (see [`population::search_paths`]), else (OWID) from the data itself;
/// regions without one keep `population: None`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| DataError::Io { path: p, source }
    };
    let meta = std::fs::metadata(path).map_err(io(path))?;
    let (file, dir) = if meta.is_dir() {
        (data_file_in(path)?, path.to_path_buf())
    } else {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (path.to_path_buf(), dir)
    };
    let open = |p: &Path| {
        std::fs::File::open(p)
            .map(std::io::BufReader::new)
            .map_err(io(p))
    };
    let raw_header = {
        let mut rdr = table::reader(open(&file)?);
        table::header(&mut rdr, &file)?;
        table::raw_header(&mut rdr, &file)?
    };
    let layout = Layout::detect(&raw_header).ok_or_else(|| {
        // Shown quoted and cut short by the error's Display.
        let header = raw_header.join(",");
        DataError::UnknownLayout {
            path: file.clone(),
            header,
            expected: Layout::expected(),
        }
    })?;
    let incident = opts.incident;
    let mut regions = match layout {
        Layout::Kaggle => kaggle::read(open(&file)?, &file, incident)?,
        Layout::LongCountries => long::countries::read(open(&file)?, &file, incident)?,
        Layout::LongCombined => long::combined::read(open(&file)?, &file, incident)?,
        Layout::Owid => owid::read(open(&file)?, &file, incident)?,
        Layout::Plain => plain::read(open(&file)?, &file, incident)?,
        Layout::JhuWide | Layout::JhuUs => {
            let which = jhu_wide::Series::from_path(&file).ok_or_else(|| {
                DataError::Inconsistent {
                    path: file.clone(),
                    problem: "a JHU wide file must have 'confirmed' or 'deaths' in its name, so that its partner can be found beside it".into(),
                }
            })?;
            let other = which
                .partner(&file)
                .ok_or_else(|| DataError::Inconsistent {
                    path: file.clone(),
                    problem: "cannot name the partner file".into(),
                })?;
            let (c, d) = match which {
                jhu_wide::Series::Confirmed => (file.clone(), other),
                jhu_wide::Series::Deaths => (other, file.clone()),
            };
            if layout == Layout::JhuUs {
                jhu_us::read(open(&c)?, &c, open(&d)?, &d, incident)?
            } else {
                jhu_wide::read(open(&c)?, &c, open(&d)?, &d, incident)?
            }
        }
    };
    let lookup = match &opts.population_file {
        Some(p) => Some(p.clone()),
        // OWID and plain files name regions their own way; a table found by
        // chance beside them would not match, so only an explicit one is used.
        // The JHU US files carry their own populations.
        None if matches!(layout, Layout::Owid | Layout::Plain | Layout::JhuUs) => None,
        None => population::search_paths(&dir)
            .into_iter()
            .find(|p| p.is_file()),
    };
    let populations = match lookup {
        Some(p) => {
            let table = population::read(open(&p)?, &p)?;
            for r in &mut regions {
                r.population = table.get(&r.key).or(r.population);
            }
            PopulationSource::LookupTable(p)
        }
        None if matches!(layout, Layout::Owid | Layout::JhuUs) => PopulationSource::InData,
        None => PopulationSource::None,
    };
    if let Some(level) = opts.aggregate {
        regions = aggregate::aggregate(regions, level);
    }
    Ok(Dataset {
        path: path.to_path_buf(),
        layout,
        regions,
        populations,
    })
}

/// The data file of a directory: the JHU pair's confirmed file, else the
/// only `*.csv` that is not a lookup table, else `train.csv` among several.
fn data_file_in(dir: &Path) -> Result<PathBuf, DataError> {
    for name in [jhu_wide::CONFIRMED_FILE, jhu_us::CONFIRMED_FILE] {
        let jhu = dir.join(name);
        if jhu.is_file() {
            return Ok(jhu);
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut csvs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            p.is_file()
                && name.to_lowercase().ends_with(".csv")
                && !name.starts_with('.')
                && !name.eq_ignore_ascii_case(population::LOOKUP_FILE)
        })
        .collect();
    csvs.sort();
    match csvs.len() {
        0 => Err(DataError::Inconsistent {
            path: dir.to_path_buf(),
            problem: format!(
                "no data file here (looked for {} or another *.csv)",
                jhu_wide::CONFIRMED_FILE
            ),
        }),
        1 => Ok(csvs.remove(0)),
        _ => {
            if let Some(train) = csvs.iter().find(|p| p.ends_with("train.csv")) {
                return Ok(train.clone());
            }
            let names: Vec<_> = csvs
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
                .collect();
            Err(DataError::Inconsistent {
                path: dir.to_path_buf(),
                problem: format!(
                    "several data files ({}); pass one of them with --data",
                    names.join(", ")
                ),
            })
        }
    }
}

/// A name as the user typed it, for messages.
fn display_query(country: &str, province: Option<&str>, county: Option<&str>) -> String {
    fn clean(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|p| !p.is_empty())
    }
    RegionKey::new(country.trim(), clean(province), clean(county)).display_name()
}

impl Dataset {
    /// Finds a region by country and optional province, case-insensitively.
    /// `Country/Province` (or `Country/Province/County`) is accepted as a
    /// single `country` name too. An unknown name gets the closest names as
    /// suggestions.
    pub fn find(&self, country: &str, province: Option<&str>) -> Result<&RegionSeries, DataError> {
        self.find_region(country, province, None)
    }

    /// Like [`Dataset::find`], down to a county (`Admin2` of the JHU US
    /// files): `find_region("US", Some("New York"), Some("Kings"))`.
    ///
    /// A name that stands for several regions and is none itself (`China`,
    /// whose rows are all provinces) is an error that says what to type; see
    /// [`Dataset::matching`] for the regions it stands for.
    pub fn find_region(
        &self,
        country: &str,
        province: Option<&str>,
        county: Option<&str>,
    ) -> Result<&RegionSeries, DataError> {
        let (idx, depth) = self.matching(country, province, county);
        let name = display_query(country, province, county);
        match idx.as_slice() {
            [] => Err(DataError::UnknownRegion {
                suggestions: self.closest_names(&name, 3),
                name,
            }),
            [i] if self.regions[*i].key.levels()[depth..]
                .iter()
                .all(Option::is_none) =>
            {
                Ok(&self.regions[*i])
            }
            many => Err(DataError::SeveralRegions {
                level: if depth == 1 { "country" } else { "state" }.into(),
                count: many.len(),
                first: self.regions[many[0]].key.display_name(),
                name,
            }),
        }
    }

    /// The regions a typed name stands for ([`select::matching`]: the
    /// region itself, or every region below it), and how many levels the
    /// name has. `country` may be `Country/Province[/County]` when the
    /// other two are `None`.
    pub fn matching(
        &self,
        country: &str,
        province: Option<&str>,
        county: Option<&str>,
    ) -> (Vec<usize>, usize) {
        fn clean(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|p| !p.is_empty())
        }
        let (country, province, county) = (country.trim(), clean(province), clean(county));
        let keys: Vec<RegionKey> = self.regions.iter().map(|r| r.key.clone()).collect();
        let parts: Vec<Option<&str>> = match (province, county) {
            (None, None) => {
                // The name as a whole first (a country named with a '/'),
                // then as `Country/Province[/County]`.
                let whole = select::matching(&keys, &[Some(country)]);
                if !whole.is_empty() {
                    return (whole, 1);
                }
                country.split('/').map(|p| clean(Some(p))).collect()
            }
            (p, None) => vec![Some(country), p],
            (p, k) => vec![Some(country), p, k],
        };
        (select::matching(&keys, &parts), parts.len())
    }

    /// Up to `n` region names closest to `name`, best first.
    ///
    /// Scored by Jaro-Winkler similarity (it favours a shared prefix, which
    /// is how people shorten names: "korea" for "Korea, South"), on lower
    /// case; a name that contains the query as a word start ranks first.
    pub fn closest_names(&self, name: &str, n: usize) -> Vec<String> {
        let q = name.to_lowercase();
        let mut scored: Vec<(f64, String)> = self
            .regions
            .iter()
            .map(|r| {
                let display = r.key.display_name();
                let d = display.to_lowercase();
                let mut score = strsim::jaro_winkler(&q, &d);
                // Also compare with the country alone and the province alone,
                // so "hubei" finds "China/Hubei".
                for level in [&r.key.province, &r.key.county].into_iter().flatten() {
                    score = score.max(strsim::jaro_winkler(&q, &level.to_lowercase()));
                }
                if d.split(|c: char| !c.is_alphanumeric())
                    .any(|w| !w.is_empty() && w.starts_with(&q))
                {
                    score = score.max(0.95);
                }
                (score, display)
            })
            .filter(|(s, _)| *s >= 0.8)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        scored.into_iter().take(n).map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(cases: &[f64], deaths: &[f64]) -> RegionSeries {
        let d0 = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
        RegionSeries {
            key: RegionKey::country("Testland"),
            dates: (0..cases.len() as i64)
                .map(|i| d0 + chrono::Duration::days(i))
                .collect(),
            cases: cases.to_vec(),
            deaths: deaths.to_vec(),
            population: Some(1e6),
            fips: None,
        }
    }

    #[test]
    fn window_starts_at_first_case_and_keeps_held_out_days() {
        let s = series(
            &[0., 0., 1., 2., 4., 8., 16., 32., 64.],
            &[0., 0., 0., 0., 0., 1., 1., 2., 3.],
        );
        let end = NaiveDate::from_ymd_opt(2020, 3, 8).unwrap();
        let t = s
            .training_data(&WindowOptions {
                end: Some(end),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(t.cases, vec![1., 2., 4., 8., 16., 32.]);
        assert_eq!(t.dates[0], NaiveDate::from_ymd_opt(2020, 3, 3).unwrap());
        assert_eq!(t.held_out_cases, vec![64.]);
    }

    #[test]
    fn too_few_days_and_end_before_first_case_are_errors() {
        let s = series(&[0., 0., 1., 2., 3., 4.], &[0.; 6]);
        assert!(matches!(
            s.training_data(&WindowOptions::default()),
            Err(DataError::TooFewDays { days: 4, .. })
        ));
        let end = NaiveDate::from_ymd_opt(2020, 3, 2).unwrap();
        assert!(matches!(
            s.training_data(&WindowOptions {
                end: Some(end),
                ..Default::default()
            }),
            Err(DataError::EndBeforeFirstCase { .. })
        ));
    }

    #[test]
    fn a_correction_after_the_window_does_not_leak_into_training() {
        // Cases drop from 40 to 20 on the last day, after --end.
        let s = series(&[1., 2., 4., 8., 16., 40., 20.], &[0.; 7]);
        let end = NaiveDate::from_ymd_opt(2020, 3, 6).unwrap();
        let t = s
            .training_data(&WindowOptions {
                end: Some(end),
                decline_policy: DeclinePolicy::Redistribute,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(t.cases, vec![1., 2., 4., 8., 16., 40.]);
        assert_eq!(t.held_out_cases, vec![20.]);
        assert_eq!(t.decline_days, 1);
    }

    #[test]
    fn slugs_are_file_system_safe() {
        assert_eq!(RegionKey::country("Korea, South").slug(), "korea-south");
        assert_eq!(
            RegionKey::new("China", Some("Hubei"), None).slug(),
            "china-hubei"
        );
        let kings = RegionKey::new("US", Some("New York"), Some("Kings"));
        assert_eq!(kings.slug(), "us-new-york-kings");
        assert_eq!(kings.display_name(), "US/New York/Kings");
    }
}
