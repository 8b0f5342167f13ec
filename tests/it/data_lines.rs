//! Data errors name the physical line (issue 15): in every layout, with
//! `\n`, `\r\n` (the real Kaggle and JHU files) and CR-only line ends, with
//! blank lines and a quoted line break before the bad row. Each case builds
//! a file whose bad cell sits on a line the test knows by construction.

use std::path::Path;

use seird_fit::data::{self, LoadOptions};

/// One layout: files (name, lines), the index of the file with the bad row,
/// and the bad row's index in it (0 = header).
struct Case {
    name: &'static str,
    files: Vec<(&'static str, Vec<String>)>,
    bad_file: usize,
    bad_row: usize,
    /// The column (1-based) and field name of the bad cell.
    column: usize,
    field: &'static str,
}

fn rows(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn cases() -> Vec<Case> {
    let wide_c = rows(&[
        "Province/State,Country/Region,Lat,Long,3/1/20,3/2/20,3/3/20",
        ",Italy,0,0,1,2,3",
        ",Spain,0,0,1,2,3",
        ",France,0,0,1,lots,3",
    ]);
    let wide_d = rows(&[
        "Province/State,Country/Region,Lat,Long,3/1/20,3/2/20,3/3/20",
        ",Italy,0,0,0,0,0",
        ",Spain,0,0,0,0,0",
        ",France,0,0,0,0,0",
    ]);
    let us_head =
        "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key";
    let us_c = vec![
        format!("{us_head},3/1/20,3/2/20"),
        "1,US,USA,840,1001.0,Autauga,Alabama,US,0,0,\"Autauga, Alabama, US\",1,2".into(),
        "2,US,USA,840,1003.0,Baldwin,Alabama,US,0,0,\"Baldwin, Alabama, US\",1,2".into(),
        "3,US,USA,840,1005.0,Barbour,Alabama,US,0,0,\"Barbour, Alabama, US\",1,lots".into(),
    ];
    let us_d = vec![
        format!("{us_head},Population,3/1/20,3/2/20"),
        "1,US,USA,840,1001.0,Autauga,Alabama,US,0,0,\"Autauga, Alabama, US\",100,0,0".into(),
        "2,US,USA,840,1003.0,Baldwin,Alabama,US,0,0,\"Baldwin, Alabama, US\",100,0,0".into(),
        "3,US,USA,840,1005.0,Barbour,Alabama,US,0,0,\"Barbour, Alabama, US\",100,0,0".into(),
    ];
    vec![
        Case {
            name: "plain",
            files: vec![(
                "plain.csv",
                rows(&[
                    "date,cases,deaths",
                    "2020-03-01,1,0",
                    "2020-03-02,2,0",
                    "2020-03-03,lots,0",
                ]),
            )],
            bad_file: 0,
            bad_row: 3,
            column: 2,
            field: "cases",
        },
        Case {
            name: "kaggle",
            files: vec![(
                "train.csv",
                rows(&[
                    "Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities",
                    "1,,Italy,2020-03-01,1,0",
                    "2,,Italy,2020-03-02,2,0",
                    "3,,Italy,2020-03-03,lots,0",
                ]),
            )],
            bad_file: 0,
            bad_row: 3,
            column: 5,
            field: "ConfirmedCases",
        },
        Case {
            name: "long countries",
            files: vec![(
                "countries.csv",
                rows(&[
                    "Date,Country,Confirmed,Recovered,Deaths",
                    "2020-03-01,Italy,1,0,0",
                    "2020-03-02,Italy,2,0,0",
                    "2020-03-03,Italy,3,0,lots",
                ]),
            )],
            bad_file: 0,
            bad_row: 3,
            column: 5,
            field: "Deaths",
        },
        Case {
            name: "long combined",
            files: vec![(
                "combined.csv",
                rows(&[
                    "Date,Country/Region,Province/State,Confirmed,Recovered,Deaths",
                    "2020-03-01,Italy,,1,0,0",
                    "2020-03-02,Italy,,2,0,0",
                    "2020-03-03,Italy,,lots,0,0",
                ]),
            )],
            bad_file: 0,
            bad_row: 3,
            column: 4,
            field: "Confirmed",
        },
        Case {
            name: "owid",
            files: vec![(
                "owid.csv",
                rows(&[
                    "iso_code,continent,location,date,total_cases,total_deaths,population",
                    "ITA,Europe,Italy,2020-03-01,1,0,60000000",
                    "ITA,Europe,Italy,2020-03-02,2,0,60000000",
                    "ITA,Europe,Italy,2020-03-03,lots,0,60000000",
                ]),
            )],
            bad_file: 0,
            bad_row: 3,
            column: 5,
            field: "total_cases",
        },
        Case {
            name: "jhu wide",
            files: vec![
                ("time_series_covid19_confirmed_global.csv", wide_c),
                ("time_series_covid19_deaths_global.csv", wide_d),
            ],
            bad_file: 0,
            bad_row: 3,
            column: 6,
            field: "3/2/20",
        },
        Case {
            name: "jhu us",
            files: vec![
                ("time_series_covid19_confirmed_US.csv", us_c),
                ("time_series_covid19_deaths_US.csv", us_d),
            ],
            bad_file: 0,
            bad_row: 3,
            column: 13,
            field: "3/2/20",
        },
    ]
}

/// Writes `lines` with line end `eol`, inserting `blank` empty lines after
/// the first data row; returns the physical line of row `row`.
fn write(path: &Path, lines: &[String], eol: &str, blank: usize, row: usize) -> u64 {
    let mut text = String::new();
    let mut physical = 0;
    let mut at = 0;
    for (i, l) in lines.iter().enumerate() {
        text.push_str(l);
        text.push_str(eol);
        physical += 1;
        if i == row {
            at = physical;
        }
        if i == 1 {
            for _ in 0..blank {
                text.push_str(eol);
                physical += 1;
            }
        }
    }
    std::fs::write(path, text).unwrap();
    at
}

fn load_error(path: &Path) -> String {
    match data::load(path, &LoadOptions::default()) {
        Ok(_) => panic!("{} loads", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_layout_reports_the_physical_line_for_any_line_end_and_blank_lines() {
    for case in cases() {
        for (eol, what) in [("\n", "LF"), ("\r\n", "CRLF"), ("\r", "CR")] {
            for blank in [0, 2] {
                let dir = tempfile::tempdir().unwrap();
                let mut want = 0;
                for (i, (name, lines)) in case.files.iter().enumerate() {
                    let row = if i == case.bad_file { case.bad_row } else { 0 };
                    let line = write(&dir.path().join(name), lines, eol, blank, row);
                    if i == case.bad_file {
                        want = line;
                    }
                }
                let bad = dir.path().join(case.files[case.bad_file].0);
                let err = load_error(&dir.path().join(case.files[0].0));
                let expect = format!(
                    "{}:{want}:{}: field '{}': cannot parse 'lots' as a number",
                    bad.display(),
                    case.column,
                    case.field
                );
                assert_eq!(err, expect, "{} {what} {blank} blank lines", case.name);
            }
        }
    }
}

#[test]
fn a_quoted_line_break_counts_and_the_error_stays_one_line() {
    // A province spelled over two physical lines (a quoted newline), then a
    // bad row: its line is 5, not 4, and the error is one line.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train.csv");
    std::fs::write(
        &p,
        "Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\r\n\
         1,\"New\r\nYork\",US,2020-03-01,1,0\r\n\
         2,\"New\r\nYork\",US,2020-03-02,2,0\r\n\
         3,\"New\r\nYork\",US,2020-03-03,x\ty,0\r\n",
    )
    .unwrap();
    let err = load_error(&p);
    assert_eq!(
        err,
        format!(
            "{}:6:5: field 'ConfirmedCases': cannot parse 'x\\ty' as a number",
            p.display()
        )
    );
    // A structural error (too few fields) names its physical line too.
    std::fs::write(
        &p,
        "Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\r\n\r\n\
         1,,Italy,2020-03-01,1,0\r\n\
         2,,Italy,2020-03-02\r\n",
    )
    .unwrap();
    assert_eq!(
        load_error(&p),
        format!("{}:4: 4 fields, but the header has 6", p.display())
    );
}

#[test]
fn the_lookup_table_reports_physical_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("UID_ISO_FIPS_LookUp_Table.csv");
    std::fs::write(
        &p,
        "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,Population\r\n\
         380,IT,ITA,380,,,,Italy,0,0,Italy,60000000\r\n\r\n\
         724,ES,ESP,724,,,,Spain,0,0,Spain,many\r\n",
    )
    .unwrap();
    let f = std::fs::File::open(&p).unwrap();
    let err = data::population::read(f, &p).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}:4:12: field 'Population': cannot parse 'many' as a number",
            p.display()
        )
    );
}
