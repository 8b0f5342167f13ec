//! Leftovers of issue 14 around the batch: `--aggregate` recorded in the
//! batch manifest (so `--resume` and `merge` refuse to mix aggregation
//! levels), and the FIPS code kept in the summary rows of regions that were
//! skipped or failed, not only of fitted ones.

use std::path::Path;

use crate::bin::{one_error_line, run};
use crate::common;

/// A batch of the small data set of `batch_cli` that fits nothing: the
/// training window ends before the first case, so every region is skipped.
fn skipped_batch(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "batch",
        "--all",
        "--data",
        "train.csv",
        "--end",
        "2020-02-15",
        "--out",
        out,
        "--quiet",
        "--plots",
        "none",
    ];
    args.extend_from_slice(extra);
    run(dir, &args)
}

#[test]
fn aggregate_is_recorded_and_resume_and_merge_refuse_another_level() {
    let tmp = tempfile::tempdir().unwrap();
    crate::batch_cli::write_small_data_set(tmp.path());
    let o = skipped_batch(tmp.path(), "agg", &["--aggregate", "state"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("agg/batch.json")).unwrap()).unwrap();
    assert_eq!(manifest["inputs"]["aggregate"], "state", "{manifest}");
    // Without --aggregate the field is absent, as in manifests of runs
    // from before it was recorded (which therefore still resume).
    let o = skipped_batch(tmp.path(), "plain", &[]);
    assert_eq!(o.status.code(), Some(0));
    let plain: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("plain/batch.json")).unwrap())
            .unwrap();
    assert!(plain["inputs"].get("aggregate").is_none(), "{plain}");
    assert_eq!(
        skipped_batch(tmp.path(), "plain", &["--resume"])
            .status
            .code(),
        Some(0)
    );
    // This data set has no counties, so summing them changes no series and
    // the data fingerprints agree: only the recorded level tells the runs
    // apart.
    assert_eq!(
        manifest["inputs"]["fingerprint"],
        plain["inputs"]["fingerprint"]
    );
    let o = skipped_batch(tmp.path(), "agg", &["--resume"]);
    assert_eq!(o.status.code(), Some(2));
    let err = one_error_line(&o);
    assert!(
        err.contains("--resume") && err.contains("inputs.aggregate"),
        "{err}"
    );
    let o = skipped_batch(tmp.path(), "agg", &["--resume", "--aggregate", "country"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(one_error_line(&o).contains("inputs.aggregate"));
    // The same level resumes.
    let o = skipped_batch(tmp.path(), "agg", &["--resume", "--aggregate", "state"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // merge refuses to pool the two runs.
    let o = run(
        tmp.path(),
        &[
            "merge",
            "agg",
            "plain",
            "--out",
            "both",
            "--quiet",
            "--allow-partial",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(one_error_line(&o).contains("inputs.aggregate"));
}

#[test]
fn skipped_counties_keep_their_fips_in_the_summary() {
    let Some(root) = common::shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = root.join("jhu_us").to_string_lossy().to_string();
    // Before 2020-03-05 Delaware had no case: every row is skipped, the
    // counties for that reason and Unassigned / Out of DE for their
    // population of 0; each keeps the FIPS code of its row in the data.
    let o = run(
        tmp.path(),
        &[
            "batch",
            "--countries",
            "US/Delaware/*",
            "--data",
            &data,
            "--end",
            "2020-03-05",
            "--out",
            "out",
            "--quiet",
            "--plots",
            "none",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut reader = csv::Reader::from_path(tmp.path().join("out/summary.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (county, fips, status) = (col("county"), col("fips"), col("status"));
    let mut rows: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[county].to_string(),
                r[fips].to_string(),
                r[status].to_string(),
            )
        })
        .collect();
    rows.sort();
    let expected = [
        ("Kent", "10001"),
        ("New Castle", "10003"),
        ("Out of DE", "80010"),
        ("Sussex", "10005"),
        ("Unassigned", "90010"),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for ((c, f, s), (ec, ef)) in rows.iter().zip(expected) {
        assert_eq!((c.as_str(), f.as_str(), s.as_str()), (ec, ef, "skipped"));
    }
}

#[test]
fn each_interval_end_is_bracketed_to_its_stated_tolerance() {
    // The demo (data/, made by `seird-fit simulate`): every interval end
    // inside the box is a profile point below the threshold, with a point
    // above the threshold beyond it within CROSSING_RTOL of its distance
    // from the estimate (or within the refinement's step budget: then a
    // quarter of it), so the reported end is the crossing to that
    // precision; ends at a bound have every walked point out there inside.
    use seird_fit::fit::identify::{self, CROSSING_RTOL};
    use seird_fit::fit::{fit, FitConfig};
    let d = crate::common::demo_training_data();
    let cfg = FitConfig::default();
    let mut r = fit(&d, &cfg).unwrap();
    let p = identify::identify(&d, &mut r);
    let (lo, hi) = (cfg.bounds.lower.to_array(), cfg.bounds.upper.to_array());
    let x = r.params.to_array();
    let mut checked = 0;
    for (j, prof) in p.params.iter().enumerate() {
        for (end, limit, dir) in [
            (prof.interval[0], lo[j], -1.0),
            (prof.interval[1], hi[j], 1.0),
        ] {
            let width = hi[j] - lo[j];
            if (end - limit).abs() <= 1e-6 * width {
                continue;
            }
            if (end - x[j]).abs() <= 1e-12 * width {
                // The first step already lay outside: the end is the estimate.
                continue;
            }
            let at_end = prof.points.iter().find(|(v, _)| *v == end);
            assert!(
                at_end.is_some_and(|&(_, l)| l <= p.threshold),
                "{}: end {end} is not a point inside: {:?}",
                prof.name,
                prof.points
            );
            let dist = (end - x[j]).abs();
            let beyond = prof
                .points
                .iter()
                .filter(|&&(v, l)| (v - end) * dir > 0.0 && l > p.threshold)
                .map(|&(v, _)| (v - end).abs())
                .fold(f64::INFINITY, f64::min);
            assert!(
                beyond <= 0.25 * dist.max(1e-3 * width),
                "{}: end {end}, nearest point outside {beyond} beyond (distance {dist})",
                prof.name
            );
            if beyond <= CROSSING_RTOL * (end - x[j] + dir * beyond).abs() * 1.0001 {
                checked += 1;
            }
        }
    }
    // Most ends are located to the tolerance itself.
    assert!(checked >= 1, "no interval end was located to CROSSING_RTOL");
}
