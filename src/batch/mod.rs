//! Batch fitting: many regions in parallel, one outcome per region.
//!
//! The runner [`run`] is generic over the per-region work, a closure
//! `Fn(&Job) -> Result<FitResult, String>` that fits one region and writes
//! its report files into [`Job::dir`]. `seird-fit batch` plugs in the real
//! fit; tests plug in a deterministic fake. The runner owns everything else:
//!
//! * **Scheduling.** Jobs run longest-series-first from a shared queue on a
//!   rayon pool of `--jobs` threads (greedy longest-processing-time-first),
//!   so one slow region does not start last and leave the other cores idle.
//! * **Isolation.** A region that fails, or whose work panics, is recorded
//!   with its reason; the others carry on.
//! * **Resume.** A region is done when its `fit.json` (written last, and
//!   atomically, by [`crate::report::write_region`]) parses, names the same
//!   region, and its other report files exist. `--resume` reuses those and
//!   runs the rest; without `--resume` a stale `fit.json` is removed before
//!   the region is refitted, so done-ness always reflects this run. The run's
//!   settings are kept in `batch.json` ([`Manifest`]); resuming with other
//!   settings is refused rather than silently mixing two batches.
//! * **Shards.** [`Shard`] `i/n` deals the cost-ordered region list round
//!   robin, so n machines each get about the same work and together fit every
//!   region exactly once.
//! * **Progress.** An indicatif bar (done, failed, ETA) on a terminal; one
//!   line per region for logs; nothing with `--quiet`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::data::RegionKey;
use crate::error::Error;
use crate::fit::FitResult;
use crate::io::write_atomic;
use crate::report::summary::{Summary, SummaryRow};
use crate::report::{read_fit_json, RegionFiles};

/// One region to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Position of the region in the caller's list (e.g. the data set's).
    pub index: usize,
    /// Which region.
    pub key: RegionKey,
    /// Directory name of the region inside the output directory.
    pub slug: String,
    /// Where the region's files go.
    pub dir: PathBuf,
    /// Expected work, e.g. training days; larger runs first.
    pub cost: usize,
    /// Population, when known (reported for failed regions too).
    pub population: Option<f64>,
    /// Training days, when the window could be cut.
    pub days: Option<usize>,
}

/// What the caller knows about a region before fitting it.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionSpec {
    /// Position in the caller's list.
    pub index: usize,
    /// Which region.
    pub key: RegionKey,
    /// Population, when known.
    pub population: Option<f64>,
    /// Training days, when the window could be cut (also the job's cost).
    pub days: Option<usize>,
}

/// Builds jobs for `regions` under `out`, with unique directory names (a
/// second region with the same slug gets `-2`, and so on, in key order) and
/// ordered longest first (ties by key, so the order is deterministic).
pub fn make_jobs(regions: Vec<RegionSpec>, out: &Path) -> Vec<Job> {
    let mut regions = regions;
    regions.sort_by(|a, b| a.key.cmp(&b.key));
    let mut used = std::collections::HashSet::new();
    let mut jobs: Vec<Job> = regions
        .into_iter()
        .map(|r| {
            let base = r.key.slug();
            let mut slug = base.clone();
            let mut n = 2;
            while !used.insert(slug.clone()) {
                slug = format!("{base}-{n}");
                n += 1;
            }
            Job {
                index: r.index,
                dir: out.join(&slug),
                slug,
                cost: r.days.unwrap_or(0),
                population: r.population,
                days: r.days,
                key: r.key,
            }
        })
        .collect();
    order_longest_first(&mut jobs);
    jobs
}

/// Longest first, ties by region key.
pub fn order_longest_first(jobs: &mut [Job]) {
    jobs.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.key.cmp(&b.key)));
}

/// One slice `i/n` (1-based `i`) of the regions, for job arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which slice, 1..=count.
    pub index: usize,
    /// Number of slices.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not of the form i/n, e.g. 3/16"))?;
        let parse = |v: &str, what: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{s}': {what} '{v}' is not a whole number"))
        };
        let (index, count) = (parse(i, "shard")?, parse(n, "shard count")?);
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "'{s}': the shard must be between 1 and the shard count (1/{} .. {}/{})",
                count.max(1),
                count.max(1),
                count.max(1)
            ));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Keeps this shard's jobs: every `count`-th of the cost-ordered list,
    /// starting at position `index - 1`. Dealing round robin over the
    /// longest-first order gives every shard a similar amount of work.
    /// A shard outside `1..=count` (the fields are public, so one can be
    /// built without [`FromStr`]) is an error.
    pub fn select(&self, jobs: Vec<Job>) -> Result<Vec<Job>, String> {
        if self.count == 0 || self.index == 0 || self.index > self.count {
            return Err(format!(
                "shard {}/{}: the shard must be between 1 and the shard count",
                self.index, self.count
            ));
        }
        Ok(jobs
            .into_iter()
            .enumerate()
            .filter(|(pos, _)| pos % self.count == self.index - 1)
            .map(|(_, j)| j)
            .collect())
    }
}

/// How a region ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Fitted in this run.
    Fitted(Box<FitResult>),
    /// Already fitted by an earlier run (`--resume`).
    Reused(Box<FitResult>),
    /// Not fitted, with the reason.
    Failed(String),
}

/// A job and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionRecord {
    /// The job.
    pub job: Job,
    /// Its outcome.
    pub outcome: Outcome,
}

impl RegionRecord {
    /// The region's summary row; its directory relative to the output directory.
    pub fn summary_row(&self) -> SummaryRow {
        match &self.outcome {
            Outcome::Fitted(r) | Outcome::Reused(r) => SummaryRow::fitted(r, &self.job.slug),
            Outcome::Failed(e) => SummaryRow::failed(
                &self.job.key,
                self.job.population,
                self.job.days,
                e,
                &self.job.slug,
            ),
        }
    }
}

/// Everything a batch did, one record per job, sorted by region.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchReport {
    /// One record per job.
    pub records: Vec<RegionRecord>,
}

impl BatchReport {
    /// Regions fitted in this run.
    pub fn fitted(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fitted(_)))
    }

    /// Regions reused from an earlier run.
    pub fn reused(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Reused(_)))
    }

    /// Regions that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.records.iter().filter(|r| f(&r.outcome)).count()
    }

    /// The summary of all records.
    pub fn summary(&self) -> Summary {
        Summary::new(self.records.iter().map(|r| r.summary_row()).collect())
    }

    /// 0 when every region is fitted, 1 when some failed.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.failed() > 0)
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// An indicatif bar on stderr (a terminal).
    Bar,
    /// One line per region on stderr (logs).
    Lines,
    /// Nothing.
    Silent,
}

/// Runner settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    /// Reuse regions an earlier run finished.
    pub resume: bool,
    /// How progress is shown.
    pub progress: Progress,
    /// Which plots the regions get; a region reused by `resume` must have
    /// them.
    pub plots: crate::report::Plots,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 0,
            resume: false,
            progress: Progress::Silent,
            plots: crate::report::Plots::Full,
        }
    }
}

/// The finished result of an earlier run in `job.dir`, if there is one
/// (with every plot).
pub fn finished_result(job: &Job) -> Option<FitResult> {
    finished_result_with(job, crate::report::Plots::Full)
}

/// The finished result of an earlier run in `job.dir` that has the files
/// `plots` asks for, if there is one.
pub fn finished_result_with(job: &Job, plots: crate::report::Plots) -> Option<FitResult> {
    let files = RegionFiles::in_dir(&job.dir);
    let result = read_fit_json(&job.dir)?;
    let same_region = result.region.key() == job.key;
    (same_region && files.required(plots).iter().all(|p| p.is_file())).then_some(result)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Removes temporary files a killed run left in a region's directory (only
/// this region's worker writes there, so none of them is in use).
fn remove_leftover_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".seird-fit-") {
            // Best effort: a leftover that cannot be removed is harmless.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn process<F>(job: &Job, opts: &RunOptions, work: &F) -> Outcome
where
    F: Fn(&Job) -> Result<FitResult, String> + Sync,
{
    if opts.resume {
        if let Some(result) = finished_result_with(job, opts.plots) {
            return Outcome::Reused(Box::new(result));
        }
    }
    remove_leftover_temp_files(&job.dir);
    // A fit.json left from an earlier run would make this region look done
    // even if it fails now.
    let stale = job.dir.join(crate::report::FIT_JSON);
    if stale.exists() {
        if let Err(e) = std::fs::remove_file(&stale) {
            return Outcome::Failed(format!("cannot remove {}: {e}", stale.display()));
        }
    }
    match catch_unwind(AssertUnwindSafe(|| work(job))) {
        Ok(Ok(result)) => Outcome::Fitted(Box::new(result)),
        Ok(Err(reason)) => Outcome::Failed(reason),
        Err(payload) => Outcome::Failed(format!(
            "internal error (panic): {}",
            panic_message(payload.as_ref())
        )),
    }
}

fn progress_bar(len: usize, mode: Progress) -> ProgressBar {
    if mode != Progress::Bar {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    // The template is a constant; should indicatif ever reject it the bar
    // falls back to its default look rather than stopping the batch.
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:32.cyan/blue}] {pos}/{len} regions, {msg}, ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("0 failed");
    bar
}

/// Runs `work` on every job, in the order given (see [`make_jobs`]), on a
/// pool of `opts.jobs` threads. Returns one record per job, sorted by region,
/// whatever the thread count: a parallel and a sequential run of the same
/// deterministic work give the same report.
pub fn run<F>(jobs: Vec<Job>, opts: &RunOptions, work: F) -> Result<BatchReport, Error>
where
    F: Fn(&Job) -> Result<FitResult, String> + Sync,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .thread_name(|i| format!("seird-batch-{i}"))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {} worker threads: {e}", opts.jobs)))?;
    let n = jobs.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; n]);
    let bar = progress_bar(n, opts.progress);

    // Workers pull the next job from a shared counter instead of rayon
    // splitting the list up front: that keeps the longest-first order exact.
    pool.scope(|s| {
        for _ in 0..pool.current_num_threads().min(n) {
            s.spawn(|_| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                let outcome = process(job, opts, &work);
                let k = done.fetch_add(1, Ordering::SeqCst) + 1;
                let line = match &outcome {
                    Outcome::Fitted(r) => format!(
                        "fitted (msle {:.4e}, {:.1} s)",
                        r.loss.msle, r.optimizer.seconds
                    ),
                    Outcome::Reused(_) => "already fitted".to_string(),
                    Outcome::Failed(e) => {
                        failed.fetch_add(1, Ordering::SeqCst);
                        format!("FAILED: {e}")
                    }
                };
                match opts.progress {
                    Progress::Bar => {
                        bar.set_message(format!("{} failed", failed.load(Ordering::SeqCst)));
                        bar.inc(1);
                    }
                    Progress::Lines => eprintln!("[{k}/{n}] {}: {line}", job.key),
                    Progress::Silent => {}
                }
                // A poisoned lock only means another worker panicked while
                // holding it; the vector itself is still consistent.
                let mut slots = outcomes.lock().unwrap_or_else(|e| e.into_inner());
                slots[i] = Some(outcome);
            });
        }
    });
    bar.finish_and_clear();

    let outcomes = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut records: Vec<RegionRecord> = jobs
        .into_iter()
        .zip(outcomes)
        .map(|(job, outcome)| RegionRecord {
            outcome: outcome.unwrap_or_else(|| {
                Outcome::Failed("internal error: the region was not run".into())
            }),
            job,
        })
        .collect();
    records.sort_by(|a, b| a.job.key.cmp(&b.job.key));
    Ok(BatchReport { records })
}

/// File name of the run's settings.
pub const MANIFEST: &str = "batch.json";

/// The settings of a batch run that decide what its fits mean; kept in
/// `batch.json` so `--resume` and `merge` can refuse to mix different runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// First training day, if given.
    pub start: Option<chrono::NaiveDate>,
    /// Last training day, if given.
    pub end: Option<chrono::NaiveDate>,
    /// The fit configuration (flags applied).
    pub config: crate::fit::FitConfig,
    /// How the fits become forecasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<crate::forecast::ForecastOptions>,
}

impl Manifest {
    /// The manifest as JSON values, compared as such: floats that went
    /// through the same text compare equal even if parsing them is not
    /// bit-exact.
    fn as_value(&self) -> Result<serde_json::Value, Error> {
        let text = serde_json::to_string(self)
            .map_err(|e| Error::Report(format!("cannot serialise {MANIFEST}: {e}")))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::Report(format!("cannot serialise {MANIFEST}: {e}")))
    }

    /// Reads `dir/batch.json` as JSON, `None` when absent.
    fn read_value(dir: &Path) -> Result<Option<serde_json::Value>, Error> {
        let path = dir.join(MANIFEST);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Report(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    /// Before a run into `out`: with `resume`, refuses an `out` that holds a
    /// batch with other settings; then records these settings.
    pub fn prepare(&self, out: &Path, resume: bool) -> Result<(), Error> {
        let mine = self.as_value()?;
        if resume {
            if let Some(theirs) = Self::read_value(out)? {
                if theirs != mine {
                    return Err(Error::Usage(format!(
                        "--resume: {} holds a batch run with other settings ({}); \
                         use another --out, the same settings, or drop --resume",
                        out.display(),
                        differing_keys(&theirs, &mine).join(", ")
                    )));
                }
            }
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Report(format!("cannot serialise {MANIFEST}: {e}")))?;
        write_atomic(&out.join(MANIFEST), text.as_bytes())
    }

    /// Checks that every directory in `dirs` that has a manifest has the same
    /// one, and returns it.
    pub fn common(dirs: &[PathBuf]) -> Result<Option<serde_json::Value>, Error> {
        let mut first: Option<(&PathBuf, serde_json::Value)> = None;
        for dir in dirs {
            let Some(v) = Self::read_value(dir)? else {
                continue;
            };
            match &first {
                None => first = Some((dir, v)),
                Some((d0, v0)) if *v0 != v => {
                    return Err(Error::Usage(format!(
                        "{} and {} are batches with different settings ({})",
                        d0.display(),
                        dir.display(),
                        differing_keys(v0, &v).join(", ")
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(first.map(|(_, v)| v))
    }
}

/// Dotted keys whose values differ between two JSON documents.
fn differing_keys(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    fn walk(a: &serde_json::Value, b: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        match (a, b) {
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match (x.get(k), y.get(k)) {
                        (Some(u), Some(v)) => walk(u, v, &p, out),
                        _ => out.push(p),
                    }
                }
            }
            _ if a != b => out.push(format!("{path}: {a} vs {b}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(a, b, "", &mut out);
    out
}

/// Writes `summary.csv`, `summary.json` and `index.html` into `out`.
pub fn write_outputs(out: &Path, summary: &Summary, subtitle: &str) -> Result<(), Error> {
    summary.write(out)?;
    crate::report::index::write_index(out, summary, subtitle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_notation_is_parsed_and_checked() {
        assert_eq!(
            "3/16".parse::<Shard>(),
            Ok(Shard {
                index: 3,
                count: 16
            })
        );
        for bad in ["0/4", "5/4", "1/0", "3", "a/4", "1/b"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicate_slugs_get_suffixes() {
        let spec = |i, c: &str| RegionSpec {
            index: i,
            key: RegionKey::country(c),
            population: None,
            days: Some(10),
        };
        let jobs = make_jobs(
            vec![spec(0, "Korea, South"), spec(1, "Korea South")],
            Path::new("o"),
        );
        let mut slugs: Vec<_> = jobs.iter().map(|j| j.slug.clone()).collect();
        slugs.sort();
        assert_eq!(slugs, ["korea-south", "korea-south-2"]);
    }

    #[test]
    fn differing_keys_names_the_changed_setting() {
        let a = serde_json::json!({"end": "2020-04-30", "config": {"forecast_days": 28}});
        let b = serde_json::json!({"end": "2020-05-31", "config": {"forecast_days": 28}});
        assert_eq!(
            differing_keys(&a, &b),
            ["end: \"2020-04-30\" vs \"2020-05-31\""]
        );
    }
}
