//! `seird-fit batch` and `seird-fit merge` as a user runs them: the real
//! binary in a fresh temp dir, checking exit codes, the one-line error and
//! the files written.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::bin::{one_error_line, run as seird};

#[test]
fn batch_needs_all_or_countries() {
    let tmp = tempfile::tempdir().unwrap();
    let out = seird(tmp.path(), &["batch", "--data", "x.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--all") && err.contains("--countries"),
        "{err}"
    );
    let out = seird(tmp.path(), &["batch", "--all", "--countries", "Italy"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_shard_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["0/4", "5/4", "3"] {
        let out = seird(tmp.path(), &["batch", "--all", "--shard", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--shard"), "{bad}: {err}");
    }
}

#[test]
fn missing_data_is_a_fatal_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = seird(
        tmp.path(),
        &["batch", "--all", "--data", "nowhere/train.csv", "--quiet"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = one_error_line(&out);
    assert!(err.contains("nowhere/train.csv"), "{err}");
    assert!(!tmp.path().join("reports/batch/summary.csv").exists());
}

#[test]
fn merge_of_a_directory_without_summary_is_a_fatal_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("shard-1")).unwrap();
    let out = seird(tmp.path(), &["merge", "shard-1", "--out", "all"]);
    assert_eq!(out.status.code(), Some(2));
    let err = one_error_line(&out);
    assert!(err.contains("summary.json"), "{err}");
}

/// Writes a Kaggle-layout data set of three regions growing exponentially
/// (one a ship without population) and a JHU lookup table beside it.
pub(crate) fn write_small_data_set(dir: &Path) {
    let mut csv = String::from("Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\n");
    let d0 = chrono::NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
    let mut id = 1;
    for (province, country, rate) in [
        ("", "Alpha", 0.15),
        ("North", "Beta", 0.12),
        ("", "Ship", 0.1),
    ] {
        for t in 0..45 {
            let cases = (10.0 * f64::exp(rate * t as f64)).round();
            let deaths = if t < 7 {
                0.0
            } else {
                (0.02 * 10.0 * f64::exp(rate * (t - 7) as f64)).round()
            };
            let date = d0 + chrono::Duration::days(t);
            csv.push_str(&format!(
                "{id},{province},{country},{date},{cases:.1},{deaths:.1}\n"
            ));
            id += 1;
        }
    }
    std::fs::write(dir.join("train.csv"), csv).unwrap();
    std::fs::write(
        dir.join("UID_ISO_FIPS_LookUp_Table.csv"),
        "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,Population\n\
         1,AA,AAA,1,,,,Alpha,0,0,Alpha,1000000\n\
         2,BB,BBB,2,,,North,Beta,0,0,\"North, Beta\",2000000\n",
    )
    .unwrap();
}

#[test]
fn batch_fits_eligible_regions_records_the_rest_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    write_small_data_set(tmp.path());
    let args = [
        "batch",
        "--all",
        "--data",
        "train.csv",
        "--end",
        "2020-04-05",
        "--jobs",
        "2",
        "--out",
        "out",
        "--quiet",
        "--plots",
        "full",
    ];
    let out = seird(tmp.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = tmp.path().join("out");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["fitted"], 2);
    assert_eq!(summary["failed"], 1);
    let ship = summary["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == "Ship")
        .unwrap();
    assert!(ship["error"].as_str().unwrap().contains("population"));
    for slug in ["alpha", "beta-north"] {
        for f in [
            "fit.json",
            "forecast.csv",
            "forecast.png",
            "report.md",
            "thumb.svg",
        ] {
            assert!(root.join(slug).join(f).is_file(), "{slug}/{f}");
        }
    }
    assert!(root.join("index.html").is_file());
    let ino = |slug: &str| {
        std::fs::metadata(root.join(slug).join("fit.json"))
            .unwrap()
            .ino()
    };
    let before = (ino("alpha"), ino("beta-north"));

    let mut resumed = args.to_vec();
    resumed.push("--resume");
    let out = seird(tmp.path(), &resumed);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        (ino("alpha"), ino("beta-north")),
        before,
        "resume refitted a region"
    );

    // Other settings into the same directory are refused on resume.
    let mut other = resumed.clone();
    other[5] = "2020-04-01";
    let out = seird(tmp.path(), &other);
    assert_eq!(out.status.code(), Some(2));
    one_error_line(&out);

    // Shards 1/2 and 2/2, merged, give the same rows.
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let dir = format!("shard-{i}");
        let mut a = args.to_vec();
        a[9] = &dir;
        a.extend(["--shard", &shard]);
        let out = seird(tmp.path(), &a);
        assert!(matches!(out.status.code(), Some(0 | 1)));
    }
    let out = seird(
        tmp.path(),
        &["merge", "shard-1", "shard-2", "--out", "merged", "--quiet"],
    );
    assert_eq!(out.status.code(), Some(1));
    let merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("merged/summary.json")).unwrap())
            .unwrap();
    assert_eq!(merged["regions"].as_array().unwrap().len(), 3);
}
