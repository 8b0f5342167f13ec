//! Issue 15, "nothing hangs, nothing is lost, nothing untrusted gets
//! through": each test reproduces a defect found by probing the real binary
//! as a hostile user or a flaky network would, and checks the fix.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::bin;

/// Runs the binary with `args` in `dir`; kills it and fails the test when it
/// has not ended within `secs` (a hang must fail, not hang the suite).
pub fn run_bounded(dir: &Path, args: &[&str], secs: u64) -> Output {
    let mut child = bin::command(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("seird-fit {args:?} did not end within {secs} s");
}

/// The issue's `tiny.csv`: a legal held-out count of 1e308 after `--end`.
const TINY: &str = "date,cases,deaths\n2020-03-01,1,0\n2020-03-02,2,0\n2020-03-03,4,0\n\
                    2020-03-04,8,0\n2020-03-05,16,1\n2020-03-06,1e308,1\n";

fn tiny_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "--country",
        "tiny",
        "--data",
        "tiny.csv",
        "--population-value",
        "1000",
        "--end",
        "2020-03-05",
        "--out",
        "o",
        "--quiet",
    ];
    a.extend_from_slice(extra);
    a
}

#[test]
fn a_held_out_count_near_f64_max_does_not_hang_the_plot() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("tiny.csv"), TINY).unwrap();
    let out = run_bounded(tmp.path(), &tiny_args(&[]), 60);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(tmp.path().join("o/tiny/forecast.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[test]
fn reproduction_numbers_near_f64_max_do_not_hang_the_plot() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("tiny.csv"), TINY.replace("1e308", "32")).unwrap();
    let m = "1.7976931348623157e308";
    let mut toml = String::new();
    for table in ["start", "bounds.lower", "bounds.upper"] {
        toml.push_str(&format!("[{table}]\nr_0 = {m}\nr_t = {m}\nd_rec = {m}\n"));
    }
    std::fs::write(tmp.path().join("huge.toml"), toml).unwrap();
    let out = run_bounded(tmp.path(), &tiny_args(&["--config", "huge.toml"]), 60);
    // Fitted or refused with one line; never a hang.
    if !out.status.success() {
        bin::one_error_line(&out);
    }
}

/// A Kaggle-layout data set: `regions` (province, country) growing
/// exponentially over 40 days from 2020-03-01, and a lookup table giving
/// each a population of one million.
fn write_kaggle(dir: &Path, regions: &[(&str, &str)]) {
    let mut csv = String::from("Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\n");
    let mut lookup = String::from(
        "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,Population\n",
    );
    let d0 = chrono::NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
    let mut id = 1;
    for (k, (province, country)) in regions.iter().enumerate() {
        let rate = 0.1 + 0.01 * k as f64;
        for t in 0..40 {
            let cases = (10.0 * f64::exp(rate * t as f64)).round();
            let deaths = (0.02 * cases).floor();
            let date = d0 + chrono::Duration::days(t);
            csv.push_str(&format!(
                "{id},\"{province}\",\"{country}\",{date},{cases},{deaths}\n"
            ));
            id += 1;
        }
        lookup.push_str(&format!(
            "{k},,,,,,\"{province}\",\"{country}\",0,0,x,1000000\n"
        ));
    }
    std::fs::write(dir.join("train.csv"), csv).unwrap();
    std::fs::write(dir.join("UID_ISO_FIPS_LookUp_Table.csv"), lookup).unwrap();
}

fn batch_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "batch",
        "--all",
        "--data",
        "train.csv",
        "--end",
        "2020-04-01",
        "--jobs",
        "1",
        "--out",
        out,
        "--quiet",
    ];
    a.extend_from_slice(extra);
    a
}

#[test]
fn a_second_batch_into_the_same_out_is_refused_naming_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    write_kaggle(tmp.path(), &[("", "Alpha")]);
    let out = tmp.path().join("out");
    let held = seird_fit::io::DirLock::acquire(&out, "the first batch").unwrap();
    let o = bin::run(tmp.path(), &batch_args("out", &[]));
    assert_eq!(o.status.code(), Some(2));
    let err = bin::one_error_line(&o);
    assert!(
        err.contains("in use")
            && err.contains("the first batch")
            && err.contains(&std::process::id().to_string()),
        "{err}"
    );
    assert!(!out.join("summary.json").exists());
    drop(held);
    // A lock file left by a killed run (no process holds it) does not block.
    std::fs::write(
        out.join(seird_fit::io::LOCK_FILE),
        "pid 999999, seird-fit batch",
    )
    .unwrap();
    let o = bin::run(tmp.path(), &batch_args("out", &[]));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn leftovers_of_killed_runs_are_removed_by_the_next_batch() {
    let tmp = tempfile::tempdir().unwrap();
    write_kaggle(tmp.path(), &[("", "Alpha")]);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join(".seird-fit-Xy12ab/inner")).unwrap();
    std::fs::write(out.join(".seird-fit-Ab34cd.tmp"), "half a summary.csv").unwrap();
    let o = bin::run(tmp.path(), &batch_args("out", &["--resume"]));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".seird-fit-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_region_over_its_budget_fails_and_the_batch_goes_on() {
    use seird_fit::batch::{self, Job, Outcome, RunOptions};
    let tmp = tempfile::tempdir().unwrap();
    let jobs = crate::batch_common::jobs(tmp.path());
    let slow = jobs
        .iter()
        .find(|j| j.population.is_some() && j.days.is_some())
        .unwrap()
        .slug
        .clone();
    let slow2 = slow.clone();
    let opts = RunOptions {
        jobs: 2,
        budget: Some(Duration::from_millis(500)),
        ..RunOptions::default()
    };
    let t0 = Instant::now();
    let report = batch::run_shared(
        jobs,
        &opts,
        std::sync::Arc::new(move |job: &Job| {
            if job.slug == slow2 {
                // Unbounded work: stands for a hang the guards did not catch.
                std::thread::sleep(Duration::from_secs(3600));
            }
            crate::batch_common::fake_fit_light(job)
        }),
    )
    .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(60));
    let rec = report.records.iter().find(|r| r.job.slug == slow).unwrap();
    match &rec.outcome {
        Outcome::Failed(why) => assert!(why.contains("budget"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(report.fitted(), 9, "the other eligible regions");
}

#[test]
fn a_refit_replaces_the_whole_set_of_files() {
    let tmp = tempfile::tempdir().unwrap();
    write_kaggle(tmp.path(), &[("", "Alpha")]);
    let fit = |end: &str| {
        let o = bin::run(
            tmp.path(),
            &[
                "--country",
                "Alpha",
                "--data",
                "train.csv",
                "--end",
                end,
                "--out",
                "o",
                "--quiet",
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    fit("2020-03-25");
    let dir = tmp.path().join("o/alpha");
    std::fs::write(dir.join("from-the-old-set.txt"), "old").unwrap();
    fit("2020-04-01");
    assert!(!dir.join("from-the-old-set.txt").exists());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("fit.json")).unwrap()).unwrap();
    assert_eq!(json["end_date"], "2020-04-01");
    let csv = std::fs::read_to_string(dir.join("forecast.csv")).unwrap();
    let last_train = csv.lines().rfind(|l| l.contains(",train")).unwrap();
    assert!(last_train.starts_with("2020-04-01"), "{last_train}");
    let names: Vec<_> = std::fs::read_dir(tmp.path().join("o")).unwrap().collect();
    assert_eq!(
        names.len(),
        1,
        "temporary directories left beside the region"
    );
}

#[test]
fn single_fits_and_batches_put_colliding_slugs_in_the_same_place() {
    let tmp = tempfile::tempdir().unwrap();
    write_kaggle(tmp.path(), &[("", "Korea, South"), ("", "Korea South")]);
    let mut single = Vec::new();
    for name in ["Korea, South", "Korea South"] {
        let o = bin::run(
            tmp.path(),
            &[
                "--country",
                name,
                "--data",
                "train.csv",
                "--end",
                "2020-04-01",
                "--out",
                "s",
                "--json",
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        single.push(name);
    }
    let o = bin::run(tmp.path(), &batch_args("b", &[]));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for slug in ["korea-south", "korea-south-2"] {
        let read = |root: &str| -> serde_json::Value {
            serde_json::from_slice(
                &std::fs::read(tmp.path().join(root).join(slug).join("fit.json")).unwrap(),
            )
            .unwrap()
        };
        // Each directory holds one region, the same one for both commands.
        assert_eq!(read("s")["region"], read("b")["region"], "{slug}");
    }
}

#[test]
fn an_over_long_region_name_can_still_be_fitted() {
    let tmp = tempfile::tempdir().unwrap();
    let name = "A".repeat(400);
    write_kaggle(tmp.path(), &[("", &name)]);
    let o = bin::run(
        tmp.path(),
        &[
            "--country",
            &name,
            "--data",
            "train.csv",
            "--end",
            "2020-04-01",
            "--out",
            "o",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dirs: Vec<_> = std::fs::read_dir(tmp.path().join("o"))
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(dirs.len(), 1);
    assert!(dirs[0].path().join("fit.json").is_file());
}

#[test]
fn resume_refuses_other_data_or_population_settings() {
    let tmp = tempfile::tempdir().unwrap();
    write_kaggle(tmp.path(), &[("", "Alpha")]);
    let o = bin::run(tmp.path(), &batch_args("out", &[]));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Same path, other content: one count changed.
    let csv = std::fs::read_to_string(tmp.path().join("train.csv")).unwrap();
    std::fs::write(
        tmp.path().join("train.csv"),
        csv.replacen(",10,0\n", ",11,0\n", 1),
    )
    .unwrap();
    let o = bin::run(tmp.path(), &batch_args("out", &["--resume"]));
    assert_eq!(o.status.code(), Some(2));
    let err = bin::one_error_line(&o);
    assert!(err.contains("fingerprint"), "{err}");
    std::fs::write(tmp.path().join("train.csv"), csv).unwrap();
    for extra in [&["--population-value", "5000"][..], &["--incident"][..]] {
        let mut args = batch_args("out", &["--resume"]);
        args.extend_from_slice(extra);
        let o = bin::run(tmp.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        bin::one_error_line(&o);
    }
    // The original settings and data still resume.
    let o = bin::run(tmp.path(), &batch_args("out", &["--resume"]));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn numbers_read_back_from_json_are_bit_identical() {
    use seird_fit::report::summary::Summary;
    let tmp = tempfile::tempdir().unwrap();
    let report = seird_fit::batch::run(
        crate::batch_common::jobs(tmp.path()),
        &seird_fit::batch::RunOptions::default(),
        crate::batch_common::fake_fit_light,
    )
    .unwrap();
    let mut summary = report.summary();
    // Values whose shortest decimal form needs all 17 digits.
    let mut x = 0.1f64;
    for row in summary.regions.iter_mut() {
        x = (x * 1.000_000_1 + 1e-17).sqrt() / 3.0 + 0.1;
        row.r_0 = Some(x);
        row.msle = Some(x * 1e-7 + f64::EPSILON);
        // Populations are whole numbers (written as integers).
        row.population = Some((1e7 / x).round());
    }
    summary.write(tmp.path()).unwrap();
    let back = Summary::read(tmp.path()).unwrap();
    for (a, b) in summary.regions.iter().zip(&back.regions) {
        for (u, v) in [
            (a.r_0, b.r_0),
            (a.msle, b.msle),
            (a.population, b.population),
        ] {
            assert_eq!(u.map(f64::to_bits), v.map(f64::to_bits));
        }
    }
    // And directly, over many awkward values.
    let mut v = 1.0f64;
    for _ in 0..10_000 {
        v = (v * 1.618_033_988_749_895).fract() * 10f64.powi((v * 1e4) as i32 % 600 - 300);
        let text = serde_json::to_string(&v).unwrap();
        let back: f64 = serde_json::from_str(&text).unwrap();
        assert_eq!(back.to_bits(), v.to_bits(), "{text}");
        v = v.abs() + 0.3;
    }
}

/// Four shards of a four-region batch, in `s1` .. `s4`.
fn four_shards(dir: &Path) {
    write_kaggle(
        dir,
        &[("", "Alpha"), ("", "Beta"), ("", "Gamma"), ("", "Delta")],
    );
    for i in 1..=4 {
        let (out, shard) = (format!("s{i}"), format!("{i}/4"));
        let o = bin::run(dir, &batch_args(&out, &["--shard", &shard]));
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

fn merge(dir: &Path, args: &[&str]) -> Output {
    let mut a = vec!["merge"];
    a.extend_from_slice(args);
    a.push("--quiet");
    bin::run(dir, &a)
}

#[test]
fn merge_refuses_an_incomplete_set_of_shards_and_its_own_shard_as_out() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    four_shards(t);
    let o = merge(t, &["s1", "s2", "s4", "--out", "m"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(bin::one_error_line(&o).contains("missing 3/4"));
    assert!(!t.join("m/summary.json").exists());
    let o = merge(t, &["s1", "s2", "s4", "--out", "m", "--allow-partial"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = merge(t, &["s1", "s2", "s3", "s4", "--out", "m"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.join("m/summary.json")).unwrap()).unwrap();
    assert_eq!(merged["fitted"], 4);

    let before = std::fs::read(t.join("s2/summary.json")).unwrap();
    let o = merge(t, &["s1", "s2", "s3", "s4", "--out", "./s2/"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(bin::one_error_line(&o).contains("one of the shards"));
    assert_eq!(std::fs::read(t.join("s2/summary.json")).unwrap(), before);
}

#[test]
fn merge_refuses_shards_of_other_data() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    four_shards(t);
    // Shard 4 again, from data with one count changed.
    let csv = std::fs::read_to_string(t.join("train.csv")).unwrap();
    std::fs::write(t.join("train.csv"), csv.replacen(",10,0\n", ",12,0\n", 1)).unwrap();
    std::fs::remove_dir_all(t.join("s4")).unwrap();
    let o = bin::run(t, &batch_args("s4", &["--shard", "4/4"]));
    assert_eq!(o.status.code(), Some(0));
    let o = merge(t, &["s1", "s2", "s3", "s4", "--out", "m"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(bin::one_error_line(&o).contains("fingerprint"));
}

#[test]
fn merge_treats_shard_directories_as_untrusted() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    four_shards(t);
    // A thumbnail outside the shard, reached through a tampered `dir`.
    std::fs::create_dir_all(t.join("evil")).unwrap();
    std::fs::write(
        t.join("evil/thumb.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert('pwned')</script></svg>",
    )
    .unwrap();
    let summary_path = t.join("s1/summary.json");
    let original = std::fs::read_to_string(&summary_path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
    let slug = v["regions"][0]["dir"].as_str().unwrap().to_string();
    let abs = t.join("evil").display().to_string();
    for bad in ["../evil", abs.as_str()] {
        v["regions"][0]["dir"] = bad.into();
        std::fs::write(&summary_path, v.to_string()).unwrap();
        let o = merge(t, &["s1", "s2", "s3", "s4", "--out", "m"]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(
            bin::one_error_line(&o).contains("outside the shard"),
            "{bad}"
        );
    }
    // A symbolic link inside the shard that points out of it.
    std::os::unix::fs::symlink(t.join("evil"), t.join("s1/link")).unwrap();
    v["regions"][0]["dir"] = "link".into();
    std::fs::write(&summary_path, v.to_string()).unwrap();
    let o = merge(t, &["s1", "s2", "s3", "s4", "--out", "m"]);
    assert_eq!(o.status.code(), Some(2));
    // A hostile thumbnail inside the shard is not pasted into the page.
    std::fs::write(&summary_path, &original).unwrap();
    std::fs::copy(
        t.join("evil/thumb.svg"),
        t.join("s1").join(&slug).join("thumb.svg"),
    )
    .unwrap();
    let o = merge(t, &["s1", "s2", "s3", "s4", "--out", "m"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let page = std::fs::read_to_string(t.join("m/index.html")).unwrap();
    assert!(!page.contains("pwned"));
    assert_eq!(page.matches("plot refused").count(), 1);
}

#[test]
fn a_region_under_a_budget_runs_its_inner_loops_on_one_thread_per_job() {
    // The fit's starts and profiles are rayon loops. Run on the budget's
    // helper thread, they used rayon's global pool, a thread per core, so
    // `--jobs 1` took two cores (measured: 3.3 s CPU in 2.2 s wall).
    use seird_fit::batch::{self, Job, RunOptions};
    use std::time::Duration;
    let tmp = tempfile::tempdir().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = std::sync::Arc::clone(&seen);
    for jobs in [1, 2] {
        let opts = RunOptions {
            jobs,
            budget: Some(Duration::from_secs(60)),
            ..RunOptions::default()
        };
        let seen3 = std::sync::Arc::clone(&seen2);
        batch::run_shared(
            crate::batch_common::jobs(&tmp.path().join(jobs.to_string())),
            &opts,
            std::sync::Arc::new(move |job: &Job| {
                seen3.lock().unwrap().push(rayon::current_num_threads());
                crate::batch_common::fake_fit_light(job)
            }),
        )
        .unwrap();
    }
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 20, "{seen:?}");
    assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
}
