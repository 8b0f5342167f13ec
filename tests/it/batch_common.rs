//! A deterministic fake fit for driving the batch runner in tests: every
//! number it reports is a function of the region's name and training days,
//! so runs can be compared exactly.

use std::path::Path;

use seird_fit::batch::{Job, RegionSpec};
use seird_fit::data::RegionKey;
use seird_fit::fit::FitResult;
use seird_fit::report;

use crate::report_common::outbreak;

/// The result the fake fit reports for `job`.
pub fn fake_result(
    job: &Job,
) -> (
    seird_fit::data::TrainingData,
    FitResult,
    seird_fit::fit::Forecast,
) {
    let days = job.days.unwrap_or(10).max(5);
    let (data, mut result, forecast) = outbreak(job.key.clone(), days, 5, 7);
    let h = job.key.display_name().len() as f64;
    result.params.r_0 = 1.5 + (h % 7.0) * 0.5;
    result.params.r_t = 0.4 + (h % 3.0) * 0.3;
    result.loss.msle = 1e-3 * (1.0 + h % 5.0);
    result.optimizer.iterations = 10 + days as u64;
    result.optimizer.loss_evals = 12 + days as u64;
    result.optimizer.seconds = 0.01 * h;
    (data, result, forecast)
}

/// The fake's data checks, like the real ones: a population and a window.
fn check(job: &Job) -> Result<(), String> {
    if job.population.is_none() {
        return Err(format!("region '{}': no population known", job.key));
    }
    if job.days.is_none() {
        return Err(format!("region '{}': too few training days", job.key));
    }
    Ok(())
}

/// Fake fit writing the real report files (PNG included).
pub fn fake_fit_full(job: &Job) -> Result<FitResult, String> {
    check(job)?;
    let (data, result, forecast) = fake_result(job);
    report::write_region(&job.dir, &data, &result, &forecast).map_err(|e| e.to_string())?;
    Ok(result)
}

/// Fake fit writing a real fit.json and placeholder report files; fast.
pub fn fake_fit_light(job: &Job) -> Result<FitResult, String> {
    check(job)?;
    let (_, result, _) = fake_result(job);
    let files = report::RegionFiles::in_dir(&job.dir);
    for path in [
        &files.forecast_csv,
        &files.forecast_png,
        &files.thumbnail,
        &files.report_md,
        &files.report_html,
    ] {
        seird_fit::io::write_atomic(path, b"placeholder\n").map_err(|e| e.to_string())?;
    }
    let json = serde_json::to_vec_pretty(&result).map_err(|e| e.to_string())?;
    seird_fit::io::write_atomic(&files.fit_json, &json).map_err(|e| e.to_string())?;
    Ok(result)
}

/// Region names with commas, provinces and a slug collision, and training
/// days from 6 to 60 so the cost order is not the name order.
pub fn regions() -> Vec<RegionSpec> {
    let names: [(&str, Option<&str>, Option<usize>); 12] = [
        ("Italy", None, Some(60)),
        ("Spain", None, Some(55)),
        ("China", Some("Hubei"), Some(58)),
        ("China", Some("Beijing"), Some(40)),
        ("Korea, South", None, Some(50)),
        ("Korea South", None, Some(12)),
        ("Cote d'Ivoire", None, Some(20)),
        ("US", None, Some(45)),
        ("Germany", None, Some(35)),
        ("Iceland", None, Some(6)),
        ("Diamond Princess", None, Some(30)),
        ("Holy See", None, None),
    ];
    names
        .iter()
        .enumerate()
        .map(|(i, (c, p, d))| RegionSpec {
            index: i,
            key: RegionKey {
                country: c.to_string(),
                province: p.map(String::from),
                county: None,
            },
            population: if c.starts_with("Diamond") {
                None
            } else {
                Some(1e6 + i as f64)
            },
            days: *d,
        })
        .collect()
}

/// The jobs of [`regions`] under `out`.
pub fn jobs(out: &Path) -> Vec<Job> {
    seird_fit::batch::make_jobs(regions(), out)
}

/// Checks every non-temporary file in a region directory is whole.
pub fn assert_files_whole(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        match name.as_str() {
            "fit.json" => {
                serde_json::from_slice::<FitResult>(&bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            "forecast.csv" => {
                let mut r = csv::Reader::from_reader(&bytes[..]);
                let rows: Vec<report::ForecastRow> =
                    r.deserialize().collect::<Result<_, _>>().unwrap();
                assert!(!rows.is_empty(), "{}", path.display());
            }
            "forecast.png" => {
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
                assert_eq!(
                    &bytes[bytes.len() - 8..bytes.len() - 4],
                    b"IEND",
                    "{}",
                    path.display()
                );
            }
            "thumb.svg" => assert!(
                String::from_utf8_lossy(&bytes)
                    .trim_end()
                    .ends_with("</svg>"),
                "{}",
                path.display()
            ),
            "report.md" => assert!(
                String::from_utf8_lossy(&bytes).contains("fit.json"),
                "{}",
                path.display()
            ),
            "report.html" => assert!(
                String::from_utf8_lossy(&bytes)
                    .trim_end()
                    .ends_with("</html>"),
                "{}",
                path.display()
            ),
            other => panic!("unexpected file {other} in {}", dir.display()),
        }
    }
}
