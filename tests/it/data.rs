//! The data layer: every layout reader, population lookup, region search, and
//! one test per bad input of issue 2, fed as bytes or temporary files; plus
//! the real data of `../shared/data` (or `SEIRD_DATA_DIR`).

use crate::common;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use seird_fit::data::{self, jhu_wide, kaggle, Dataset, Layout, LoadOptions, PopulationSource};
use seird_fit::error::DataError;

/// The real data directory; `None` (skip) when absent, a failure under CI.
/// The shared real data (see `common::shared_data`).
fn real_data() -> Option<PathBuf> {
    common::shared_data()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Writes `files` (name, contents) into a fresh temp dir.
fn temp_files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn load_text(name: &str, text: &str) -> Result<Dataset, DataError> {
    let dir = temp_files(&[(name, text)]);
    data::load(&dir.path().join(name), &LoadOptions::default())
}

const KAGGLE: &str = "Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\n";

// ---------------------------------------------------------------- readers

#[test]
fn kaggle_reader_groups_sorts_and_names_regions() {
    let text = format!(
        "{KAGGLE}1,,Italy,2020-03-02,3,0\n2,,Italy,2020-03-01,1,0\n3,Hubei,China,2020-03-01,5,1\n4,Hubei,China,2020-03-02,7,2\n"
    );
    let regions = kaggle::read(text.as_bytes(), Path::new("t.csv"), false).unwrap();
    assert_eq!(regions.len(), 2);
    // Sorted by key: China/Hubei before Italy.
    assert_eq!(regions[0].key.display_name(), "China/Hubei");
    assert_eq!(regions[0].deaths, vec![1.0, 2.0]);
    let it = &regions[1];
    assert_eq!(it.key.province, None);
    // Rows out of date order are sorted.
    assert_eq!(it.dates, vec![date("2020-03-01"), date("2020-03-02")]);
    assert_eq!(it.cases, vec![1.0, 3.0]);
}

#[test]
fn jhu_wide_reader_pairs_confirmed_and_deaths() {
    let c = "Province/State,Country/Region,Lat,Long,1/22/20,1/23/20,1/24/20\n,Italy,0,0,0,2,5\n\"Bonaire, Sint Eustatius and Saba\",Netherlands,0,0,1,1,2\n";
    let d = "Province/State,Country/Region,Lat,Long,1/22/20,1/23/20,1/24/20\n,Italy,0,0,0,0,1\n\"Bonaire, Sint Eustatius and Saba\",Netherlands,0,0,0,0,0\n";
    let regions = jhu_wide::read(
        c.as_bytes(),
        Path::new("c.csv"),
        d.as_bytes(),
        Path::new("d.csv"),
        false,
    )
    .unwrap();
    let it = regions.iter().find(|r| r.key.country == "Italy").unwrap();
    assert_eq!(it.dates[0], date("2020-01-22"));
    assert_eq!(it.cases, vec![0.0, 2.0, 5.0]);
    assert_eq!(it.deaths, vec![0.0, 0.0, 1.0]);
    let nl = regions
        .iter()
        .find(|r| r.key.country == "Netherlands")
        .unwrap();
    assert_eq!(
        nl.key.province.as_deref(),
        Some("Bonaire, Sint Eustatius and Saba")
    );
}

#[test]
fn one_file_of_the_jhu_pair_finds_the_other_and_populations_beside_it() {
    let head = "Province/State,Country/Region,Lat,Long,3/1/20,3/2/20,3/3/20,3/4/20,3/5/20\n";
    let dir = temp_files(&[
        (
            jhu_wide::CONFIRMED_FILE,
            &format!("{head},Italy,0,0,1,2,4,8,16\n,Diamond Princess,0,0,1,1,1,1,1\n"),
        ),
        (
            jhu_wide::DEATHS_FILE,
            &format!("{head},Italy,0,0,0,0,1,1,2\n,Diamond Princess,0,0,0,0,0,0,0\n"),
        ),
        (
            "UID_ISO_FIPS_LookUp_Table.csv",
            "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,Population\n\
             380,IT,ITA,380,,,,Italy,0,0,Italy,60461828\n\
             38013,IT,ITA,380,,,Abruzzo,Italy,0,0,\"Abruzzo, Italy\",1311580\n\
             9999,,,,,,,Diamond Princess,,,Diamond Princess,\n",
        ),
    ]);
    let ds = data::load(
        &dir.path().join(jhu_wide::DEATHS_FILE),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(ds.layout, Layout::JhuWide);
    let it = ds.find("italy", None).unwrap();
    assert_eq!(it.cases, vec![1.0, 2.0, 4.0, 8.0, 16.0]);
    assert_eq!(it.deaths, vec![0.0, 0.0, 1.0, 1.0, 2.0]);
    assert_eq!(it.population, Some(60461828.0));
    // A cruise ship has no population: none is guessed.
    assert_eq!(ds.find("Diamond Princess", None).unwrap().population, None);
    assert!(matches!(ds.populations, PopulationSource::LookupTable(_)));
    // The directory itself loads the same.
    let ds2 = data::load(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(ds2.regions, ds.regions);
}

#[test]
fn incident_counts_become_cumulative() {
    let dir = temp_files(&[(
        "city.csv",
        "date,cases,deaths\n2020-03-01,1,0\n2020-03-02,3,0\n2020-03-03,-1,1\n2020-03-04,5,0\n",
    )]);
    let opts = LoadOptions {
        incident: true,
        ..Default::default()
    };
    let ds = data::load(&dir.path().join("city.csv"), &opts).unwrap();
    assert_eq!(ds.layout, Layout::Plain);
    let r = ds.find("city", None).unwrap();
    assert_eq!(r.cases, vec![1.0, 4.0, 3.0, 8.0]);
    assert_eq!(r.deaths, vec![0.0, 0.0, 1.0, 1.0]);
    assert_eq!(r.population, None);
}

// ---------------------------------------------------------------- finding regions

fn small_dataset() -> Dataset {
    let text = format!(
        "{KAGGLE}1,,\"Korea, South\",2020-03-01,1,0\n2,Hubei,China,2020-03-01,5,1\n3,,Italy,2020-03-01,1,0\n4,Repatriated Travellers,Canada,2020-03-01,0,0\n"
    );
    let dir = temp_files(&[("train.csv", &text)]);
    data::load(&dir.path().join("train.csv"), &LoadOptions::default()).unwrap()
}

#[test]
fn regions_match_case_insensitively_and_as_country_slash_province() {
    let ds = small_dataset();
    assert_eq!(
        ds.find("KOREA, SOUTH", None).unwrap().key.country,
        "Korea, South"
    );
    assert_eq!(
        ds.find("china", Some("hubei")).unwrap().key.display_name(),
        "China/Hubei"
    );
    assert_eq!(
        ds.find("China/Hubei", None).unwrap().key.display_name(),
        "China/Hubei"
    );
}

#[test]
fn unknown_region_suggests_the_closest_names() {
    let ds = small_dataset();
    let err = ds.find("korea", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown region 'korea'; did you mean 'Korea, South'?"
    );
    let err = ds.find("Itlay", None).unwrap_err();
    assert!(err.to_string().contains("'Italy'"), "{err}");
    let DataError::UnknownRegion { suggestions, .. } = ds.find("hubei", None).unwrap_err() else {
        panic!("wrong error")
    };
    assert_eq!(suggestions[0], "China/Hubei");
}

// ---------------------------------------------------------------- bad input (issue 2)

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let err = data::load(Path::new("/no/such/train.csv"), &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert!(err.to_string().starts_with("/no/such/train.csv: "), "{err}");
}

#[test]
fn unknown_layout_lists_the_expected_headers() {
    let err = load_text("x.csv", "a,b,c\n1,2,3\n").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DataError::UnknownLayout { .. }));
    assert!(msg.contains("(header: a,b,c)"), "{msg}");
    for l in Layout::ALL {
        assert!(msg.contains(l.header()), "{msg} lacks {}", l.header());
    }
}

#[test]
fn missing_column_is_named() {
    let err = load_text(
        "train.csv",
        "Id,Province_State,Country_Region,Date,ConfirmedCases\n1,,Italy,2020-03-01,1\n",
    )
    .unwrap_err();
    assert!(matches!(err, DataError::MissingColumn { ref column, .. } if column == "Fatalities"));
    assert!(
        err.to_string()
            .ends_with("train.csv: missing column 'Fatalities'"),
        "{err}"
    );
}

#[test]
fn unparsable_date_names_file_line_and_column() {
    let err = load_text(
        "train.csv",
        &format!("{KAGGLE}1,,Italy,2020-03-01,1,0\n2,,Italy,03.02.2020,2,0\n"),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.ends_with("train.csv:3:4: field 'Date': cannot parse '03.02.2020' as a date (YYYY-MM-DD or M/D/YY)"),
        "{msg}"
    );
}

#[test]
fn unparsable_number_names_file_line_and_column() {
    let err = load_text(
        "train.csv",
        &format!("{KAGGLE}1,,Italy,2020-03-01,1,zero\n"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("train.csv:2:6: field 'Fatalities': cannot parse 'zero' as a number"),
        "{err}"
    );
}

#[test]
fn unparsable_number_in_a_jhu_wide_file_names_the_day_column() {
    let head = "Province/State,Country/Region,Lat,Long,1/22/20,1/23/20\n";
    let err = jhu_wide::read(
        format!("{head},Italy,0,0,1,x\n").as_bytes(),
        Path::new("c.csv"),
        format!("{head},Italy,0,0,0,0\n").as_bytes(),
        Path::new("d.csv"),
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "c.csv:2:6: field '1/23/20': cannot parse 'x' as a number"
    );
}

#[test]
fn empty_file_and_header_only_file_are_errors() {
    let err = load_text("train.csv", "").unwrap_err();
    assert!(matches!(err, DataError::Empty { .. }), "{err}");
    assert!(err.to_string().ends_with("train.csv: empty file"));
    let err = load_text("train.csv", KAGGLE).unwrap_err();
    assert!(matches!(err, DataError::NoRows { .. }), "{err}");
}

#[test]
fn duplicate_dates_are_an_error_at_the_second_line() {
    let err = load_text(
        "train.csv",
        &format!(
            "{KAGGLE}1,,Italy,2020-03-01,1,0\n2,,Italy,2020-03-02,2,0\n3,,Italy,2020-03-01,1,0\n"
        ),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("train.csv:4: duplicate date 2020-03-01 for region 'Italy'"),
        "{err}"
    );
}

#[test]
fn negative_counts_are_an_error() {
    let err = load_text("train.csv", &format!("{KAGGLE}1,,Italy,2020-03-01,-3,0\n")).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("train.csv:2:5: field 'ConfirmedCases': negative count -3"),
        "{err}"
    );
}

#[test]
fn nan_is_an_error() {
    let err = load_text("train.csv", &format!("{KAGGLE}1,,Italy,2020-03-01,NaN,0\n")).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("train.csv:2:5: field 'ConfirmedCases': 'NaN' is not a finite number"),
        "{err}"
    );
}

#[test]
fn a_gap_in_the_dates_is_an_error_not_filled_in() {
    let err = load_text(
        "train.csv",
        &format!("{KAGGLE}1,,Italy,2020-03-01,1,0\n2,,Italy,2020-03-03,2,0\n"),
    )
    .unwrap_err();
    assert!(matches!(err, DataError::DateGap { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("between 2020-03-01 and 2020-03-03"));
}

#[test]
fn a_short_row_is_an_error_with_its_line() {
    let err = load_text(
        "train.csv",
        &format!("{KAGGLE}1,,Italy,2020-03-01,1,0\n2,,Italy\n"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("train.csv:3: 3 fields, but the header has 6"),
        "{err}"
    );
}

#[test]
fn jhu_files_that_disagree_on_regions_are_an_error() {
    let head = "Province/State,Country/Region,Lat,Long,1/22/20\n";
    let err = jhu_wide::read(
        format!("{head},Italy,0,0,1\n,Spain,0,0,1\n").as_bytes(),
        Path::new("c.csv"),
        format!("{head},Italy,0,0,0\n").as_bytes(),
        Path::new("d.csv"),
        false,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("d.csv: no row for region 'Spain'"),
        "{err}"
    );
}

#[test]
fn incident_totals_that_go_negative_are_an_error() {
    let dir = temp_files(&[(
        "c.csv",
        "date,cases,deaths\n2020-03-01,1,0\n2020-03-02,-2,0\n",
    )]);
    let opts = LoadOptions {
        incident: true,
        ..Default::default()
    };
    let err = data::load(&dir.path().join("c.csv"), &opts).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "c.csv:3: region 'c': daily cases add up to a negative total (-1) on 2020-03-02"
        ),
        "{err}"
    );
}

#[test]
fn a_directory_with_several_data_files_asks_for_one() {
    let dir = temp_files(&[
        ("a.csv", "date,cases,deaths\n"),
        ("b.csv", "date,cases,deaths\n"),
    ]);
    let err = data::load(dir.path(), &LoadOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("several data files (a.csv, b.csv)"),
        "{err}"
    );
}

// ---------------------------------------------------------------- real data

/// Asserts two data sets hold the same regions with the same numbers, with a
/// short message naming the first difference (the full series is too long).
fn assert_same_regions(a: &Dataset, b: &Dataset) {
    let names = |d: &Dataset| {
        d.regions
            .iter()
            .map(|r| r.key.display_name())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(a), names(b));
    for (x, y) in a.regions.iter().zip(&b.regions) {
        assert!(
            x == y,
            "{} differs between {:?} and {:?}",
            x.key,
            a.layout,
            b.layout
        );
    }
}

#[test]
fn real_kaggle_and_jhu_wide_hold_the_same_274_regions_and_numbers() {
    let Some(dir) = real_data() else { return };
    let kaggle = data::load(&dir.join("kaggle/train.csv"), &LoadOptions::default()).unwrap();
    let jhu = data::load(&dir.join("jhu"), &LoadOptions::default()).unwrap();
    assert_eq!(kaggle.layout, Layout::Kaggle);
    assert_eq!(jhu.layout, Layout::JhuWide);
    assert_eq!(kaggle.regions.len(), 274);
    // Both derive from the same JHU numbers; the Kaggle file found the lookup
    // table in ../jhu.
    assert_same_regions(&kaggle, &jhu);
    let it = kaggle.find("Italy", None).unwrap();
    assert_eq!(it.population, Some(60461828.0));
    let i = it
        .dates
        .iter()
        .position(|d| *d == date("2020-04-30"))
        .unwrap();
    // From the file: `63940,,Italy,2020-04-30,205463.0,27967.0`.
    assert_eq!((it.cases[i], it.deaths[i]), (205463.0, 27967.0));
    assert_eq!(it.dates.first(), Some(&date("2020-01-22")));
    assert_eq!(it.dates.last(), Some(&date("2021-03-16")));
    let no_pop: Vec<String> = kaggle
        .regions
        .iter()
        .filter(|r| r.population.is_none())
        .map(|r| r.key.display_name())
        .collect();
    assert!(
        no_pop.contains(&"Diamond Princess".to_string()),
        "{no_pop:?}"
    );
    assert!(
        no_pop.contains(&"Canada/Repatriated Travellers".to_string()),
        "{no_pop:?}"
    );
    assert!(
        no_pop.len() < 10,
        "only ships and repatriation rows lack a population: {no_pop:?}"
    );
}

#[test]
fn real_data_has_96_regions_with_declining_cumulative_series() {
    let Some(dir) = real_data() else { return };
    let ds = data::load(&dir.join("kaggle/train.csv"), &LoadOptions::default()).unwrap();
    let declining = ds
        .regions
        .iter()
        .filter(|r| data::count_decline_days(&r.cases, &r.deaths) > 0)
        .count();
    assert_eq!(declining, 96);
}

#[test]
fn no_population_is_an_error_unless_a_value_is_given() {
    let ds = small_dataset();
    let r = ds.find("Canada/Repatriated Travellers", None).unwrap();
    assert_eq!(r.population, None);
    let err = r
        .training_data(&data::WindowOptions::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "region 'Canada/Repatriated Travellers': no population known (give --population-value N or a lookup table with --population)"
    );
}

#[test]
fn an_explicit_population_file_that_is_missing_is_an_error() {
    let dir = temp_files(&[("train.csv", &format!("{KAGGLE}1,,Italy,2020-03-01,1,0\n"))]);
    let opts = LoadOptions {
        population_file: Some(dir.path().join("lookup.csv")),
        ..Default::default()
    };
    let err = data::load(&dir.path().join("train.csv"), &opts).unwrap_err();
    assert!(
        matches!(err, DataError::Io { ref path, .. } if path.ends_with("lookup.csv")),
        "{err}"
    );
}

#[test]
fn an_owid_day_repeated_is_a_duplicate_even_when_one_row_is_blank() {
    let text = "iso_code,continent,location,date,total_cases,new_cases,total_deaths,new_deaths,population\n\
                ITA,Europe,Italy,2020-03-01,,,,,60461828\n\
                ITA,Europe,Italy,2020-03-01,5,5,0,0,60461828\n";
    let err = load_text("owid.csv", text).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("owid.csv:3: duplicate date 2020-03-01 for region 'Italy'"),
        "{err}"
    );
}

#[test]
fn a_jhu_region_listed_twice_is_a_duplicate() {
    let head = "Province/State,Country/Region,Lat,Long,1/22/20\n";
    let err = jhu_wide::read(
        format!("{head},Italy,0,0,1\n,Italy,0,0,2\n").as_bytes(),
        Path::new("c.csv"),
        format!("{head},Italy,0,0,0\n").as_bytes(),
        Path::new("d.csv"),
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "c.csv:3: duplicate date 2020-01-22 for region 'Italy'"
    );
}
