//! Fuzzing the loaders (issue 15): proptest mutates small slices of the real
//! files in ../shared/data (every layout, the JHU pairs, the lookup table)
//! with byte-level edits biased towards what breaks CSV (quotes, commas,
//! line ends, signs, exponents, ESC, invalid UTF-8), and every load must
//! return data or a one-line error that names the file; it must never
//! panic. Bounded: 64 cases of files of a few kilobytes, well under a
//! second in all.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use seird_fit::data::{self, LoadOptions};

use crate::common::shared_data;

/// A seed: files (name in the test directory, its real source, lines kept)
/// and the file `--data` names.
struct Seed {
    files: &'static [(&'static str, &'static str, usize)],
    data: &'static str,
}

const SEEDS: &[Seed] = &[
    Seed {
        files: &[("train.csv", "kaggle/train.csv", 30)],
        data: "train.csv",
    },
    Seed {
        files: &[
            (
                "time_series_covid19_confirmed_global.csv",
                "jhu/time_series_covid19_confirmed_global.csv",
                8,
            ),
            (
                "time_series_covid19_deaths_global.csv",
                "jhu/time_series_covid19_deaths_global.csv",
                8,
            ),
            (
                "UID_ISO_FIPS_LookUp_Table.csv",
                "jhu/UID_ISO_FIPS_LookUp_Table.csv",
                20,
            ),
        ],
        data: "time_series_covid19_confirmed_global.csv",
    },
    Seed {
        files: &[("countries.csv", "jhu/countries-aggregated.csv", 30)],
        data: "countries.csv",
    },
    Seed {
        files: &[("combined.csv", "jhu/time-series-19-covid-combined.csv", 30)],
        data: "combined.csv",
    },
    Seed {
        files: &[
            (
                "time_series_covid19_confirmed_US.csv",
                "jhu_us/time_series_covid19_confirmed_US.csv",
                6,
            ),
            (
                "time_series_covid19_deaths_US.csv",
                "jhu_us/time_series_covid19_deaths_US.csv",
                6,
            ),
        ],
        data: "time_series_covid19_deaths_US.csv",
    },
];

/// The first `lines` lines of `path`.
fn slice(path: &Path, lines: usize) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let mut end = bytes.len();
    let mut n = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            n += 1;
            if n == lines {
                end = i + 1;
                break;
            }
        }
    }
    bytes[..end].to_vec()
}

/// One edit of one file.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, u8),
    Replace(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

/// Bytes that matter to CSV and to the number and date parsers, and a few
/// hostile ones.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(b",\"\n\r-.e9/0 \x1b\xff\xc3".to_vec()),
        1 => any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = 0usize..100_000;
    prop_oneof![
        (at.clone(), byte()).prop_map(|(a, b)| Edit::Insert(a, b)),
        (at.clone(), byte()).prop_map(|(a, b)| Edit::Replace(a, b)),
        (at.clone(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (at.clone(), 1usize..200).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        at.prop_map(Edit::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, e: &Edit) {
    if bytes.is_empty() {
        return;
    }
    let at = |a: usize| a % bytes.len();
    match *e {
        Edit::Insert(a, b) => {
            let i = at(a);
            bytes.insert(i, b)
        }
        Edit::Replace(a, b) => {
            let i = at(a);
            bytes[i] = b
        }
        Edit::Delete(a, n) => {
            let i = at(a);
            let j = (i + n).min(bytes.len());
            bytes.drain(i..j);
        }
        Edit::Duplicate(a, n) => {
            let i = at(a);
            let j = (i + n).min(bytes.len());
            let copy = bytes[i..j].to_vec();
            bytes.splice(j..j, copy);
        }
        Edit::Truncate(a) => {
            let i = at(a);
            bytes.truncate(i)
        }
    }
}

/// Loads `seed` with `edits` applied to file `which`, and checks the
/// outcome.
fn check(real: &Path, seed: &Seed, which: usize, edits: &[Edit], incident: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut names: Vec<PathBuf> = Vec::new();
    for (k, (name, source, lines)) in seed.files.iter().enumerate() {
        let mut bytes = slice(&real.join(source), *lines);
        if k == which % seed.files.len() {
            for e in edits {
                apply(&mut bytes, e);
            }
        }
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        names.push(path);
    }
    let opts = LoadOptions {
        incident,
        ..LoadOptions::default()
    };
    if let Err(e) = data::load(&dir.path().join(seed.data), &opts) {
        let msg = seird_fit::error::cause_chain(&e);
        assert!(
            !msg.contains(['\n', '\r', '\u{1b}']),
            "not one line: {msg:?}"
        );
        assert!(msg.len() < 2000, "{} bytes: {msg:?}", msg.len());
        assert!(
            names.iter().any(|p| msg.contains(&p.display().to_string())),
            "names no file: {msg}"
        );
        // Errors about a place in a file give a line within the file.
        if let Some(rest) = msg.split(".csv:").nth(1) {
            if let Some(line) = rest.split(':').next().and_then(|l| l.parse::<u64>().ok()) {
                assert!((1..=2000).contains(&line), "line {line}: {msg}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mutated_real_files_load_or_give_one_line_naming_the_file(
        seed in 0usize..SEEDS.len(),
        which in 0usize..3,
        edits in prop::collection::vec(edit(), 1..6),
        incident in any::<bool>(),
    ) {
        let Some(real) = shared_data() else { return Ok(()) };
        check(&real, &SEEDS[seed], which, &edits, incident);
    }
}

#[test]
fn every_seed_loads_unmutated() {
    let Some(real) = shared_data() else { return };
    for seed in SEEDS {
        let dir = tempfile::tempdir().unwrap();
        for (name, source, lines) in seed.files {
            std::fs::write(dir.path().join(name), slice(&real.join(source), *lines)).unwrap();
        }
        let ds = data::load(&dir.path().join(seed.data), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", seed.data));
        assert!(!ds.regions.is_empty(), "{}", seed.data);
    }
}
