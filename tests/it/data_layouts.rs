//! Every layout loads the same region to the same numbers where they
//! overlap, proven on the real data of `../shared/data` (or
//! `SEIRD_DATA_DIR`): Kaggle, JHU wide, both long layouts, and OWID and
//! plain files written from the same real series (no real OWID file is
//! stored, so the test writes one the way OWID does: totals empty before the
//! first case, its own population column, aggregates as locations).

use crate::common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use seird_fit::data::{self, Layout, LoadOptions, PopulationSource, RegionSeries};

/// The shared real data (see `common::shared_data`).
fn real_data() -> Option<PathBuf> {
    common::shared_data()
}

fn load(path: &Path, opts: &LoadOptions) -> data::Dataset {
    data::load(path, opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts `b` equals `a` on every date both have, and that they share at
/// least `min_overlap` days.
fn assert_agree(a: &RegionSeries, b: &RegionSeries, what: &str, min_overlap: usize) {
    let mut overlap = 0;
    for (i, d) in a.dates.iter().enumerate() {
        if let Some(j) = b.dates.iter().position(|e| e == d) {
            overlap += 1;
            assert_eq!(
                (a.cases[i], a.deaths[i]),
                (b.cases[j], b.deaths[j]),
                "{what}: {} on {d}",
                a.key
            );
        }
    }
    assert!(overlap >= min_overlap, "{what}: only {overlap} common days");
}

#[test]
fn all_layouts_load_italy_to_the_same_numbers() {
    let Some(dir) = real_data() else { return };
    let opts = LoadOptions::default();
    let kaggle = load(&dir.join("kaggle/train.csv"), &opts);
    let reference = kaggle.find("Italy", None).unwrap().clone();
    assert_eq!(reference.dates.len(), 420);

    let wide = load(
        &dir.join("jhu/time_series_covid19_confirmed_global.csv"),
        &opts,
    );
    let countries = load(&dir.join("jhu/countries-aggregated.csv"), &opts);
    let combined = load(&dir.join("jhu/time-series-19-covid-combined.csv"), &opts);
    assert_eq!(wide.layout, Layout::JhuWide);
    assert_eq!(countries.layout, Layout::LongCountries);
    assert_eq!(combined.layout, Layout::LongCombined);
    for ds in [&wide, &countries, &combined] {
        let it = ds.find("italy", None).unwrap();
        assert_agree(&reference, it, ds.layout.name(), 420);
        // All find the lookup table beside them.
        assert_eq!(it.population, Some(60461828.0), "{}", ds.layout);
    }
    // countries-aggregated runs on to 2021-10-10.
    let it = countries.find("Italy", None).unwrap();
    assert_eq!(it.dates.last().unwrap().to_string(), "2021-10-10");

    // A plain file, cumulative and daily.
    let tmp = tempfile::tempdir().unwrap();
    let (mut plain, mut daily) = (
        String::from("date,cases,deaths\n"),
        String::from("Date,Cases,Deaths\n"),
    );
    let (mut pc, mut pd) = (0.0, 0.0);
    for i in 0..reference.dates.len() {
        let (c, d) = (reference.cases[i], reference.deaths[i]);
        writeln!(plain, "{},{c},{d}", reference.dates[i]).unwrap();
        writeln!(daily, "{},{},{}", reference.dates[i], c - pc, d - pd).unwrap();
        (pc, pd) = (c, d);
    }
    std::fs::write(tmp.path().join("italy.csv"), plain).unwrap();
    std::fs::write(tmp.path().join("italy-daily.csv"), daily).unwrap();
    let p = load(&tmp.path().join("italy.csv"), &opts);
    assert_eq!(p.layout, Layout::Plain);
    assert_agree(&reference, p.find("italy", None).unwrap(), "plain", 420);
    let incident = LoadOptions {
        incident: true,
        ..Default::default()
    };
    let p = load(&tmp.path().join("italy-daily.csv"), &incident);
    // Daily differences of integers sum back exactly (the two corrections
    // are negative daily counts, allowed with --incident).
    assert_agree(
        &reference,
        p.find("italy-daily", None).unwrap(),
        "plain --incident",
        420,
    );

    // OWID, as OWID writes it: totals empty until the first case, a
    // population column, and an aggregate location.
    let mut owid = String::from(
        "iso_code,continent,location,date,total_cases,new_cases,total_deaths,new_deaths,population\n",
    );
    for loc in [("ITA", "Europe", "Italy"), ("OWID_EUR", "", "Europe")] {
        let (mut pc, mut pd) = (0.0, 0.0);
        for i in 0..reference.dates.len() {
            let (c, d) = (reference.cases[i], reference.deaths[i]);
            let blank = |v: f64| {
                if v == 0.0 {
                    String::new()
                } else {
                    v.to_string()
                }
            };
            writeln!(
                owid,
                "{},{},{},{},{},{},{},{},60461828.0",
                loc.0,
                loc.1,
                loc.2,
                reference.dates[i],
                blank(c),
                c - pc,
                blank(d),
                d - pd
            )
            .unwrap();
            (pc, pd) = (c, d);
        }
    }
    std::fs::write(tmp.path().join("owid-covid-data.csv"), owid).unwrap();
    for o in [&opts, &incident] {
        let ds = load(&tmp.path().join("owid-covid-data.csv"), o);
        assert_eq!(ds.layout, Layout::Owid);
        assert_eq!(ds.populations, PopulationSource::InData);
        for name in ["Italy", "Europe"] {
            let r = ds.find(name, None).unwrap();
            assert_agree(&reference, r, "owid", 420);
            assert_eq!(r.population, Some(60461828.0));
        }
    }
}

#[test]
fn long_combined_and_kaggle_agree_on_every_region() {
    let Some(dir) = real_data() else { return };
    let opts = LoadOptions::default();
    let kaggle = load(&dir.join("kaggle/train.csv"), &opts);
    let combined = load(&dir.join("jhu/time-series-19-covid-combined.csv"), &opts);
    assert_eq!(kaggle.regions.len(), combined.regions.len());
    for (a, b) in kaggle.regions.iter().zip(&combined.regions) {
        assert_eq!(a.key, b.key);
        assert!(a == b, "{} differs", a.key);
    }
}

#[test]
fn countries_aggregated_sums_the_provinces() {
    // China is only provinces in the JHU files; countries-aggregated sums
    // them. On 2020-03-15 the sum must match.
    let Some(dir) = real_data() else { return };
    let opts = LoadOptions::default();
    let wide = load(&dir.join("jhu"), &opts);
    let countries = load(&dir.join("jhu/countries-aggregated.csv"), &opts);
    let china = countries.find("China", None).unwrap();
    let day = china
        .dates
        .iter()
        .position(|d| d.to_string() == "2020-03-15")
        .unwrap();
    let (mut cases, mut deaths) = (0.0, 0.0);
    for r in wide.regions.iter().filter(|r| r.key.country == "China") {
        let i = r.dates.iter().position(|d| *d == china.dates[day]).unwrap();
        cases += r.cases[i];
        deaths += r.deaths[i];
    }
    assert_eq!((china.cases[day], china.deaths[day]), (cases, deaths));
}
