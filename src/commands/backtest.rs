//! `seird-fit backtest`: rolling-origin evaluation of the forecasts and
//! their intervals against the persistence baseline. The evaluation itself
//! is [`crate::forecast::backtest`]; this module wires regions, parallelism,
//! progress, resume and shards around it and writes `backtest.csv`,
//! `summary.json` and `index.html`.
//!
//! Each region's rows are kept in `<out>/regions/<slug>.json` (written
//! atomically when the region finishes); `--resume` reuses those made with
//! the same settings (`<out>/backtest.json`). Shards run into the same
//! `--out` can be joined by a last run with `--resume` and no `--shard`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::batch::{self, RegionSpec, Shard};
use crate::data::{self, WindowOptions};
use crate::error::Error;
use crate::forecast::backtest::{self as bt, BacktestSettings, BacktestSummary, Row, Skip};
use crate::forecast::{ForecastOptions, Method};
use crate::io::write_atomic;

/// How a fit becomes a forecast; shared by `fit`, `batch` and `backtest`.
#[derive(Debug, Clone, Args)]
pub struct ForecastArgs {
    /// Point forecast: trend (no model: damped trend of the weekly rate,
    /// deaths led by cases), model (the fitted curve, as the prior art),
    /// anchored (last observation + model increments), scaled (increments
    /// rescaled to the last week), blend (scaled and persistence, weighted by
    /// past skill) or ensemble (scaled and trend, weighted by past skill).
    #[arg(long, default_value = "trend", value_name = "METHOD")]
    pub forecast_method: Method,
    /// Earlier pseudo-origins (refits, 7 days apart; trend: no refit, one
    /// a day over 7 N days) that calibrate the intervals; 0 gives
    /// uncalibrated, wide intervals.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub calibration_origins: usize,
}

impl ForecastArgs {
    /// The options these flags ask for.
    pub fn options(&self) -> ForecastOptions {
        ForecastOptions {
            method: self.forecast_method,
            calibration_origins: self.calibration_origins,
            ..ForecastOptions::default()
        }
    }
}

/// Arguments of `seird-fit backtest`.
#[derive(Debug, Clone, Args)]
pub struct BacktestArgs {
    /// Regions, comma-separated ("Italy,Germany,US"); default: every region.
    #[arg(long, value_name = "LIST")]
    pub countries: Option<String>,
    /// Where the data comes from.
    #[command(flatten)]
    pub data: super::DataArgs,
    /// First origin.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: NaiveDate,
    /// Last origin (at most).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: NaiveDate,
    /// Days between origins.
    #[arg(long, default_value_t = 14, value_name = "DAYS")]
    pub every: usize,
    /// Horizons scored, in days, comma-separated.
    #[arg(long, default_value = "7,14,28", value_name = "LIST")]
    pub horizons: String,
    /// First training day (default: each region's first day with cases).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub start: Option<NaiveDate>,
    /// The configuration file and the decline policy, as for a fit.
    #[command(flatten)]
    pub config: super::ConfigArgs,
    /// Forecast methods to score, comma-separated (model, anchored, scaled,
    /// blend, trend, ensemble); all are scored on the same fits.
    #[arg(long, default_value = "trend", value_name = "LIST")]
    pub forecast_method: String,
    /// Earlier pseudo-origins (refits, 7 days apart) that calibrate the intervals.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub calibration_origins: usize,
    /// Seed of the baseline's sample paths.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,
    /// Output directory.
    #[arg(short, long, default_value = "reports/backtest", value_name = "DIR")]
    pub out: PathBuf,
    /// Worker threads (0: one per core).
    #[arg(short, long, default_value_t = 0, value_name = "N")]
    pub jobs: usize,
    /// Keep regions an earlier run into --out finished with the same settings.
    #[arg(long)]
    pub resume: bool,
    /// Evaluate only slice i of n (1-based) of the regions.
    #[arg(long, value_name = "i/n")]
    pub shard: Option<Shard>,
    /// No progress output (errors only).
    #[arg(short, long)]
    pub quiet: bool,
}

/// File name of the run's settings.
pub const SETTINGS_JSON: &str = "backtest.json";
/// File name of the rows.
pub const BACKTEST_CSV: &str = "backtest.csv";
/// File name of the pooled scores.
pub const SUMMARY_JSON: &str = "summary.json";

/// One region's stored result.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RegionPart {
    region: String,
    rows: Vec<Row>,
    skips: Vec<Skip>,
}

fn parse_methods(s: &str) -> Result<Vec<Method>, Error> {
    let mut out = Vec::new();
    for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let m: Method = p
            .parse()
            .map_err(|e| Error::Usage(format!("--forecast-method: {e}")))?;
        if !out.contains(&m) {
            out.push(m);
        }
    }
    if out.is_empty() {
        return Err(Error::Usage(
            "--forecast-method: give at least one method".into(),
        ));
    }
    Ok(out)
}

fn parse_horizons(s: &str) -> Result<Vec<usize>, Error> {
    let mut out = Vec::new();
    for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let h: usize = p.parse().map_err(|_| {
            Error::Usage(format!("--horizons: '{p}' is not a whole number of days"))
        })?;
        if h == 0 || h > 366 {
            return Err(Error::Usage(format!(
                "--horizons: {h} must be between 1 and 366 days"
            )));
        }
        if !out.contains(&h) {
            out.push(h);
        }
    }
    if out.is_empty() {
        return Err(Error::Usage(
            "--horizons: give at least one horizon, e.g. 7,14,28".into(),
        ));
    }
    out.sort_unstable();
    Ok(out)
}

/// The origins `from, from + every, ...` up to `to`.
pub fn origins(from: NaiveDate, to: NaiveDate, every: usize) -> Result<Vec<NaiveDate>, Error> {
    if every == 0 {
        return Err(Error::Usage("--every must be at least 1 day".into()));
    }
    if to < from {
        return Err(Error::Usage(format!("--to {to} is before --from {from}")));
    }
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        out.push(d);
        d += chrono::Duration::days(every as i64);
    }
    Ok(out)
}

fn read_part(path: &Path, region: &str) -> Option<RegionPart> {
    let bytes = std::fs::read(path).ok()?;
    let part: RegionPart = serde_json::from_slice(&bytes).ok()?;
    (part.region == region).then_some(part)
}

/// Runs `seird-fit backtest`.
pub fn run(args: &BacktestArgs) -> Result<ExitCode, Error> {
    let started = std::time::Instant::now();
    let mut config = args.config.resolve()?;
    let horizons = parse_horizons(&args.horizons)?;
    let h = horizons.iter().copied().max().unwrap_or(28);
    // The fits forecast as far as the longest horizon.
    config.forecast_days = h;
    config.validate("command line")?;
    let settings = BacktestSettings {
        origins: origins(args.from, args.to, args.every)?,
        horizons: horizons.clone(),
        methods: parse_methods(&args.forecast_method)?,
        forecast: ForecastOptions {
            calibration_origins: args.calibration_origins,
            ..ForecastOptions::default()
        },
        config,
        seed: args.seed,
        baseline_samples: 1000,
    };
    let dataset = data::load(&args.data.data, &args.data.load_options())?;
    let chosen: Vec<usize> = match &args.countries {
        Some(list) => super::batch::select_regions(&dataset, list)?,
        None => (0..dataset.regions.len()).collect(),
    };
    let specs = chosen
        .into_iter()
        .map(|i| {
            let s = &dataset.regions[i];
            RegionSpec {
                index: i,
                key: s.key.clone(),
                population: s.population,
                days: Some(s.dates.len()),
            }
        })
        .collect();
    let parts_dir = args.out.join("regions");
    let mut jobs = batch::make_jobs(specs, &parts_dir);
    if let Some(shard) = args.shard {
        jobs = shard.select(jobs).map_err(Error::Usage)?;
    }
    std::fs::create_dir_all(&parts_dir).map_err(|source| Error::Io {
        path: parts_dir.clone(),
        source,
    })?;

    // Refuse to mix runs with different settings.
    let settings_path = args.out.join(SETTINGS_JSON);
    let mine = serde_json::to_value(&settings)
        .map_err(|e| Error::Report(format!("{SETTINGS_JSON}: {e}")))?;
    let mut reusable = false;
    if let Ok(bytes) = std::fs::read(&settings_path) {
        let theirs: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
        reusable = theirs.as_ref() == Some(&mine);
        if args.resume && !reusable {
            return Err(Error::Usage(format!(
                "--resume: {} holds a backtest with other settings; use another --out, the same settings, or drop --resume",
                args.out.display()
            )));
        }
    }
    let text = serde_json::to_string_pretty(&settings)
        .map_err(|e| Error::Report(format!("{SETTINGS_JSON}: {e}")))?;
    write_atomic(&settings_path, text.as_bytes())?;

    let window = WindowOptions {
        start: args.start,
        end: None,
        decline_policy: settings.config.decline_policy,
        population_override: args.data.population_value,
    };
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let bar = if show_bar {
        let b = ProgressBar::new(jobs.len() as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "{elapsed_precise} [{bar:32.cyan/blue}] {pos}/{len} regions, ETA {eta}",
        ) {
            b.set_style(style.progress_chars("=> "));
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {} worker threads: {e}", args.jobs)))?;
    let done = AtomicUsize::new(0);
    let n_jobs = jobs.len();
    let results: Vec<Result<RegionPart, String>> = pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let region = job.key.display_name();
                let path = job.dir.with_extension("json");
                let part = match (args.resume && reusable)
                    .then(|| read_part(&path, &region))
                    .flatten()
                {
                    Some(p) => Ok(p),
                    None => {
                        let series = &dataset.regions[job.index];
                        // A panic in one region is that region's failure.
                        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            bt::region_rows(series, &window, &settings)
                        }));
                        match out {
                            Ok((rows, skips)) => {
                                let part = RegionPart {
                                    region: region.clone(),
                                    rows,
                                    skips,
                                };
                                serde_json::to_vec(&part)
                                    .map_err(|e| e.to_string())
                                    .and_then(|b| {
                                        write_atomic(&path, &b).map_err(|e| e.to_string())
                                    })
                                    .map(|()| part)
                            }
                            Err(_) => Err(format!("{region}: internal error (panic)")),
                        }
                    }
                };
                let k = done.fetch_add(1, Ordering::SeqCst) + 1;
                if show_bar {
                    bar.inc(1);
                } else if !args.quiet {
                    let what = match &part {
                        Ok(p) => {
                            format!("{} rows, {} origins skipped", p.rows.len(), p.skips.len())
                        }
                        Err(e) => format!("FAILED: {e}"),
                    };
                    let region = crate::text::for_terminal(&region.to_string());
                    eprintln!("[{k}/{n_jobs}] {region}: {what}");
                }
                part
            })
            .collect()
    });
    bar.finish_and_clear();

    let mut rows: Vec<Row> = Vec::new();
    let mut skipped = 0;
    let mut regions = 0;
    let mut failed = 0;
    for r in results {
        match r {
            Ok(p) => {
                skipped += p.skips.len();
                if !p.rows.is_empty() {
                    regions += 1;
                }
                rows.extend(p.rows);
            }
            Err(_) => failed += 1,
        }
    }
    rows.sort_by(|a, b| {
        (&a.region, a.origin, a.method.name(), a.target, a.horizon).cmp(&(
            &b.region,
            b.origin,
            b.method.name(),
            b.target,
            b.horizon,
        ))
    });
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &rows {
        w.serialize(r)
            .map_err(|e| Error::Report(format!("{BACKTEST_CSV}: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Report(format!("{BACKTEST_CSV}: {e}")))?;
    write_atomic(&args.out.join(BACKTEST_CSV), &bytes)?;
    let forecasts = {
        let mut pairs: Vec<(&str, NaiveDate)> =
            rows.iter().map(|r| (r.region.as_str(), r.origin)).collect();
        pairs.sort();
        pairs.dedup();
        pairs.len()
    };
    let summary = BacktestSummary {
        cells: bt::summarize(&rows, &settings.methods, &horizons),
        settings,
        regions,
        forecasts,
        skipped,
        seconds: started.elapsed().as_secs_f64(),
    };
    // summary.json also says where it came from (tool, data files with
    // their SHA-256, command line), as fit.json and batch.json do.
    let provenance = super::provenance(&args.data.data, args.data.population.as_deref())?;
    let json = serde_json::to_value(&summary)
        .and_then(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.insert("provenance".into(), serde_json::to_value(&provenance)?);
            }
            serde_json::to_string_pretty(&v)
        })
        .map_err(|e| Error::Report(format!("{SUMMARY_JSON}: {e}")))?;
    write_atomic(&args.out.join(SUMMARY_JSON), json.as_bytes())?;
    let subtitle = format!(
        "data: {}; origins {} to {} every {} days; method {}{}",
        dataset.path.display(),
        args.from,
        args.to,
        args.every,
        summary
            .settings
            .methods
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", "),
        args.shard
            .map(|s| format!("; shard {s}"))
            .unwrap_or_default()
    );
    crate::report::backtest::write_index(&args.out, &summary, &subtitle)?;
    if !args.quiet {
        eprintln!(
            "{} regions, {} forecasts scored, {} skipped, {} failed, {:.1} s; see {}",
            regions,
            forecasts,
            skipped,
            failed,
            summary.seconds,
            args.out.join(crate::report::index::INDEX_HTML).display()
        );
        for c in summary.cells.iter().filter(|c| c.target.name().len() <= 6) {
            eprintln!(
                "  {:>8} {:>6} {:>2}d: n {:>5}  MALE {:.4} vs {:.4} (x{:.2})  cov50 {:.0}% (ties split {:.0}%)  cov90 {:.0}% ({:.0}%)  relWIS {:.2} (log {:.2})",
                c.method.name(),
                c.target.name(),
                c.horizon,
                c.n,
                c.median_abs_log_error,
                c.baseline_median_abs_log_error,
                c.abs_log_error_ratio,
                100.0 * c.coverage_50,
                100.0 * c.coverage_50_randomized,
                100.0 * c.coverage_90,
                100.0 * c.coverage_90_randomized,
                c.relative_wis,
                c.relative_wis_log
            );
        }
    }
    Ok(ExitCode::from(u8::from(failed > 0)))
}
