//! Batch fitting: many regions in parallel, one outcome per region.
//!
//! The runner [`run`] is generic over the per-region work, a closure
//! `Fn(&Job) -> Result<FitResult, E>` (`E` a typed error, e.g.
//! [`crate::error::RegionError`]) that fits one region and writes
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
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::data::RegionKey;
use crate::error::{cause_chain, Error, RegionError};
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
    /// The region's FIPS code, when the data has one (reported for failed
    /// and skipped regions too; set by the caller after [`make_jobs`]).
    pub fips: Option<String>,
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

/// Longest slug used as a directory name, in bytes; file systems allow
/// 255, and the temporary name beside it needs a few more.
pub const MAX_SLUG_BYTES: usize = 120;

/// One directory name per key, unique among `keys`: a second region with
/// the same slug gets `-2`, and so on, in key order (so the result does not
/// depend on the order given); a slug longer than [`MAX_SLUG_BYTES`] is cut
/// at a character boundary and ends in a hash of the whole slug. Single fits
/// and batches both name a region's directory this way, over the whole data
/// set, so they put a region in the same place.
pub fn unique_slugs<'a>(keys: impl IntoIterator<Item = &'a RegionKey>) -> Vec<String> {
    let keys: Vec<&RegionKey> = keys.into_iter().collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(keys[b]));
    let mut used = std::collections::HashSet::new();
    let mut out = vec![String::new(); keys.len()];
    for i in order {
        let base = shorten_slug(&keys[i].slug());
        let mut slug = base.clone();
        let mut n = 2;
        while !used.insert(slug.clone()) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        out[i] = slug;
    }
    out
}

/// `slug`, or for one over [`MAX_SLUG_BYTES`] its first 100 bytes (at a
/// character boundary) and `-` and 8 hex digits of its FNV-1a hash.
fn shorten_slug(slug: &str) -> String {
    if slug.len() <= MAX_SLUG_BYTES {
        return slug.to_string();
    }
    let mut cut = 100;
    while !slug.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut h: u32 = 0x811c_9dc5;
    for b in slug.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{}-{h:08x}", slug[..cut].trim_end_matches('-'))
}

/// Builds jobs for `regions` under `out`, with unique directory names
/// ([`unique_slugs`] among these regions) and ordered longest first (ties by
/// key, so the order is deterministic).
pub fn make_jobs(regions: Vec<RegionSpec>, out: &Path) -> Vec<Job> {
    let slugs = unique_slugs(regions.iter().map(|r| &r.key));
    jobs_named(regions.into_iter().zip(slugs), out)
}

/// [`make_jobs`], with each region's directory name taken from
/// `slugs[spec.index]`: names made unique over a whole data set
/// ([`unique_slugs`] of all its regions), so that a region has one directory
/// whichever regions are fitted with it, and the same one as a single fit.
pub fn make_jobs_with_slugs(regions: Vec<RegionSpec>, slugs: &[String], out: &Path) -> Vec<Job> {
    let named = regions.into_iter().map(|r| {
        let slug = slugs
            .get(r.index)
            .cloned()
            .unwrap_or_else(|| shorten_slug(&r.key.slug()));
        (r, slug)
    });
    jobs_named(named, out)
}

fn jobs_named(named: impl Iterator<Item = (RegionSpec, String)>, out: &Path) -> Vec<Job> {
    let mut jobs: Vec<Job> = named
        .map(|(r, slug)| Job {
            index: r.index,
            dir: out.join(&slug),
            slug,
            cost: r.days.unwrap_or(0),
            population: r.population,
            days: r.days,
            fips: None,
            key: r.key,
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

/// `--shard` as given: a fixed slice `i/n`, or `auto` / `auto/n`, read from
/// the job-array environment of the scheduler that started the process
/// (see [`ShardSpec::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    /// `i/n`.
    Fixed(Shard),
    /// `auto` (`None`) or `auto/n`.
    Auto(Option<usize>),
}

impl FromStr for ShardSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let Some(rest) = t.strip_prefix("auto") else {
            return t.parse().map(ShardSpec::Fixed);
        };
        match rest.strip_prefix('/') {
            None if rest.is_empty() => Ok(ShardSpec::Auto(None)),
            Some(n) => match n.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(ShardSpec::Auto(Some(n))),
                _ => Err(format!(
                    "'{s}': the shard count '{n}' is not a whole number > 0"
                )),
            },
            None => Err(format!("'{s}' is not of the form i/n, auto or auto/n")),
        }
    }
}

impl ShardSpec {
    /// The slice this process fits. `auto` reads, in order:
    ///
    /// * Slurm job arrays: `SLURM_ARRAY_TASK_ID` and
    ///   `SLURM_ARRAY_TASK_COUNT` (with `SLURM_ARRAY_TASK_MIN` and
    ///   `SLURM_ARRAY_TASK_STEP` when set, so `--array=1-8` and
    ///   `--array=0-14:2` work as well as `--array=0-7`); a count given as
    ///   `auto/n` must agree.
    /// * Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` (0-based); the pod
    ///   does not see the Job's `completions`, so the count comes from
    ///   `auto/n`.
    ///
    /// `env` looks a variable up (`std::env::var` in the binary; tests pass
    /// their own).
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let count = match *self {
            ShardSpec::Fixed(s) => return Ok(s),
            ShardSpec::Auto(n) => n,
        };
        let num = |name: &str| -> Result<Option<usize>, String> {
            match env(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .map(Some)
                    .map_err(|_| format!("--shard auto: {name}='{v}' is not a whole number")),
            }
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let Some(tasks) = num("SLURM_ARRAY_TASK_COUNT")? else {
                return Err(
                    "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not"
                        .into(),
                );
            };
            if let Some(n) = count.filter(|&n| n != tasks) {
                return Err(format!(
                    "--shard auto/{n}: the Slurm array has {tasks} tasks (SLURM_ARRAY_TASK_COUNT)"
                ));
            }
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let pos = id
                .checked_sub(min)
                .filter(|d| d % step == 0)
                .map(|d| d / step)
                .filter(|&p| p < tasks)
                .ok_or_else(|| {
                    format!(
                        "--shard auto: SLURM_ARRAY_TASK_ID {id} is not one of the {tasks} tasks                          from {min} in steps of {step}"
                    )
                })?;
            return Ok(Shard {
                index: pos + 1,
                count: tasks,
            });
        }
        if let Some(i) = num("JOB_COMPLETION_INDEX")? {
            let Some(n) = count else {
                return Err(format!(
                    "--shard auto: JOB_COMPLETION_INDEX is {i}, but a Kubernetes pod does not see                      the number of completions; give it as --shard auto/N"
                ));
            };
            if i >= n {
                return Err(format!(
                    "--shard auto/{n}: JOB_COMPLETION_INDEX {i} is not below {n}"
                ));
            }
            return Ok(Shard {
                index: i + 1,
                count: n,
            });
        }
        Err(
            "--shard auto: not in a job array (neither SLURM_ARRAY_TASK_ID nor \
             JOB_COMPLETION_INDEX is set); give the slice as --shard i/n"
                .into(),
        )
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
    /// Not attempted: the region cannot be fitted by design (no population,
    /// no case before `--end`, too few days), with the reason.
    Skipped(String),
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
            Outcome::Failed(e) => SummaryRow {
                fips: self.job.fips.clone(),
                ..SummaryRow::failed(
                    &self.job.key,
                    self.job.population,
                    self.job.days,
                    e,
                    &self.job.slug,
                )
            },
            Outcome::Skipped(e) => SummaryRow {
                fips: self.job.fips.clone(),
                ..SummaryRow::skipped(
                    &self.job.key,
                    self.job.population,
                    self.job.days,
                    e,
                    &self.job.slug,
                )
            },
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

    /// Regions skipped as ineligible.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.records.iter().filter(|r| f(&r.outcome)).count()
    }

    /// The summary of all records.
    pub fn summary(&self) -> Summary {
        Summary::new(self.records.iter().map(|r| r.summary_row()).collect())
    }

    /// 0 when no region failed, 1 when some failed (or, with `strict`,
    /// when some were skipped).
    pub fn exit_code_with(&self, strict: bool) -> u8 {
        u8::from(self.failed() > 0 || (strict && self.skipped() > 0))
    }

    /// [`BatchReport::exit_code_with`] without `--strict`.
    pub fn exit_code(&self) -> u8 {
        self.exit_code_with(false)
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
    /// Wall-time budget of one region (used by [`run_shared`]): a region
    /// still running after it ends as failed with that reason, so one
    /// region never holds up a batch. `None`: no budget.
    pub budget: Option<Duration>,
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
            budget: None,
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

fn process<F, E>(job: &Job, opts: &RunOptions, work: &F) -> Outcome
where
    F: Fn(&Job) -> Result<FitResult, E> + Sync,
    E: Into<RegionError>,
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
        // The error stays typed up to here, where it becomes the record's text.
        Ok(Err(e)) => Outcome::Failed(cause_chain(&e.into())),
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
/// deterministic work give the same report. `opts.budget` is not enforced
/// here (`work` may borrow from the caller); see [`run_shared`].
pub fn run<F, E>(jobs: Vec<Job>, opts: &RunOptions, work: F) -> Result<BatchReport, Error>
where
    F: Fn(&Job) -> Result<FitResult, E> + Sync,
    E: Into<RegionError>,
{
    run_core(jobs, opts, || |job: &Job| process(job, opts, &work))
}

/// [`run`] with the per-region budget `opts.budget` enforced: each worker
/// hands its regions to a helper thread and waits at most the budget for
/// each. A region over budget is recorded as failed and its helper is
/// abandoned (it can be neither stopped nor joined; it ends with the
/// process, and its half-done files stay in a temp directory that the next
/// run into the same `--out` removes); the worker starts a new helper and
/// carries on. Hence `work` must own its data (`'static`).
pub fn run_shared<F, E>(
    jobs: Vec<Job>,
    opts: &RunOptions,
    work: Arc<F>,
) -> Result<BatchReport, Error>
where
    F: Fn(&Job) -> Result<FitResult, E> + Send + Sync + 'static,
    E: Into<RegionError> + 'static,
{
    let Some(budget) = opts.budget else {
        return run(jobs, opts, |job: &Job| work(job));
    };
    let opts_copy = *opts;
    run_core(jobs, opts, || {
        let work = Arc::clone(&work);
        let mut helper: Option<Helper> = None;
        move |job: &Job| {
            let h = match helper.take() {
                Some(h) => h,
                None => match Helper::spawn(Arc::clone(&work), opts_copy) {
                    Ok(h) => h,
                    Err(e) => return Outcome::Failed(format!("cannot start a thread: {e}")),
                },
            };
            if h.jobs.send(job.clone()).is_err() {
                return Outcome::Failed("internal error: the region's thread ended".into());
            }
            match h.outcomes.recv_timeout(budget) {
                Ok(outcome) => {
                    helper = Some(h);
                    outcome
                }
                Err(mpsc::RecvTimeoutError::Timeout) => Outcome::Failed(format!(
                    "not finished within the per-region budget of {} s (--region-timeout)",
                    budget.as_secs_f64()
                )),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    Outcome::Failed("internal error: the region's thread ended".into())
                }
            }
        }
    })
}

/// A thread that runs one region at a time for a worker of [`run_shared`].
struct Helper {
    jobs: mpsc::Sender<Job>,
    outcomes: mpsc::Receiver<Outcome>,
}

impl Helper {
    fn spawn<F, E>(work: Arc<F>, opts: RunOptions) -> std::io::Result<Helper>
    where
        F: Fn(&Job) -> Result<FitResult, E> + Send + Sync + 'static,
        E: Into<RegionError> + 'static,
    {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (out_tx, outcomes) = mpsc::channel::<Outcome>();
        std::thread::Builder::new()
            .name("seird-region".into())
            .spawn(move || {
                // The fit's own parallel loops (its starts, the profiles)
                // would run on rayon's global pool from this thread, one
                // thread per core whatever `--jobs` says: a one-thread pool
                // keeps each worker to one core, as `--jobs` promises.
                let local = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(|_| "seird-region-pool".into())
                    .build()
                    .ok();
                for job in job_rx {
                    let outcome = match &local {
                        Some(pool) => pool.install(|| process(&job, &opts, &*work)),
                        None => process(&job, &opts, &*work),
                    };
                    // The worker gave up on us (budget): stop after this job.
                    if out_tx.send(outcome).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Helper { jobs, outcomes })
    }
}

/// The scheduling loop of [`run`] and [`run_shared`]: each worker thread
/// gets its own executor from `make_exec` and feeds it jobs.
fn run_core<M, X>(jobs: Vec<Job>, opts: &RunOptions, make_exec: M) -> Result<BatchReport, Error>
where
    M: Fn() -> X + Sync,
    X: FnMut(&Job) -> Outcome,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .thread_name(|i| format!("seird-batch-{i}"))
        .build()
        .map_err(|source| Error::Threads {
            jobs: opts.jobs,
            source,
        })?;
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
            s.spawn(|_| {
                let mut exec = make_exec();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let outcome = exec(job);
                    let k = done.fetch_add(1, Ordering::SeqCst) + 1;
                    let line = match &outcome {
                        Outcome::Fitted(r) => format!(
                            "fitted (msle {:.4e}, {:.1} s)",
                            r.loss.msle, r.optimizer.seconds
                        ),
                        Outcome::Reused(_) => "already fitted".to_string(),
                        Outcome::Failed(e) => {
                            failed.fetch_add(1, Ordering::SeqCst);
                            format!("FAILED: {}", crate::text::for_terminal(e))
                        }
                        Outcome::Skipped(e) => {
                            format!("skipped: {}", crate::text::for_terminal(e))
                        }
                    };
                    match opts.progress {
                        Progress::Bar => {
                            bar.set_message(format!("{} failed", failed.load(Ordering::SeqCst)));
                            bar.inc(1);
                        }
                        Progress::Lines => eprintln!(
                            "[{k}/{n}] {}: {line}",
                            crate::text::for_terminal(&job.key.to_string())
                        ),
                        Progress::Silent => {}
                    }
                    // A poisoned lock only means another worker panicked while
                    // holding it; the vector itself is still consistent.
                    let mut slots = outcomes.lock().unwrap_or_else(|e| e.into_inner());
                    slots[i] = Some(outcome);
                }
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
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// First training day, if given.
    pub start: Option<chrono::NaiveDate>,
    /// Last training day, if given.
    pub end: Option<chrono::NaiveDate>,
    /// The fit configuration (flags applied).
    pub config: crate::fit::FitConfig,
    /// What was read and how (absent in manifests of older runs).
    #[serde(default)]
    pub inputs: Option<Inputs>,
    /// Which regions were asked for: `all`, or the `--countries` list.
    #[serde(default)]
    pub selection: Option<String>,
    /// The slice `i/n` this run fitted, if sharded.
    #[serde(default)]
    pub shard: Option<Shard>,
    /// How the fits become forecasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<crate::forecast::ForecastOptions>,
    /// Where the run came from: tool version, data files with their
    /// SHA-256, command line. A record, not a setting: `--resume` and
    /// `merge` do not compare it (the data is compared by `fingerprint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::report::provenance::Provenance>,
}

/// Everything about a run's input that changes a result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Inputs {
    /// `--data` as given.
    pub data: String,
    /// `--population` as given.
    pub population: Option<String>,
    /// `--population-value`.
    pub population_value: Option<f64>,
    /// `--incident`.
    pub incident: bool,
    /// `--aggregate` (absent in manifests of older runs and of runs without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<crate::data::Aggregate>,
    /// [`fingerprint`] of the loaded data: changes whenever the content of
    /// any input file that reaches a fit changes, whatever the paths.
    pub fingerprint: String,
}

/// A content fingerprint of loaded series: FNV-1a (64 bit) over every
/// region's key, population, dates and counts (the exact bits). Not a
/// defence against forgery, a check against mixing data sets; FNV is a few
/// lines and needs no crate.
pub fn fingerprint(regions: &[crate::data::RegionSeries]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for r in regions {
        // Debug covers every field of the key, including ones added later.
        eat(format!("{:?}", r.key).as_bytes());
        eat(&r.population.map_or(u64::MAX, f64::to_bits).to_le_bytes());
        for (d, (c, x)) in r.dates.iter().zip(r.cases.iter().zip(&r.deaths)) {
            eat(d.to_string().as_bytes());
            eat(&c.to_bits().to_le_bytes());
            eat(&x.to_bits().to_le_bytes());
        }
        eat(b"\n");
    }
    format!("fnv1a64:{h:016x}")
}

impl Manifest {
    /// The manifest as JSON values, compared as such.
    fn as_value(&self) -> Result<serde_json::Value, Error> {
        serde_json::to_value(self)
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

    /// Reads `dir/batch.json`, `None` when absent.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, Error> {
        let path = dir.join(MANIFEST);
        Self::read_value(dir)?
            .map(|v| {
                serde_json::from_value(v)
                    .map_err(|e| Error::Report(format!("{}: {e}", path.display())))
            })
            .transpose()
    }

    /// What must agree for two runs' fits to be mixed: everything but the
    /// shard and the selection of regions.
    fn result_settings(v: &serde_json::Value) -> serde_json::Value {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("shard");
            o.remove("selection");
            o.remove("provenance");
        }
        v
    }

    /// Before a run into `out`: with `resume`, refuses an `out` that holds a
    /// batch with other settings or other data; then records these.
    pub fn prepare(&self, out: &Path, resume: bool) -> Result<(), Error> {
        let mine = self.as_value()?;
        if resume {
            if let Some(theirs) = Self::read_value(out)? {
                let (theirs, mine) = (Self::result_settings(&theirs), Self::result_settings(&mine));
                if theirs != mine {
                    return Err(Error::Usage(format!(
                        "--resume: {} holds a batch run with other settings or data ({}); \
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
    /// settings, data and selection (shards of one batch), and returns the
    /// first one's manifest without its shard.
    pub fn common(dirs: &[PathBuf]) -> Result<Option<serde_json::Value>, Error> {
        let mut first: Option<(&PathBuf, serde_json::Value)> = None;
        for dir in dirs {
            let Some(mut v) = Self::read_value(dir)? else {
                continue;
            };
            // The shard count must agree, the index differs by design.
            let count = v.get("shard").and_then(|s| s.get("count")).cloned();
            if let Some(o) = v.as_object_mut() {
                o.remove("shard");
                // A record of each shard's own command line, not a setting.
                o.remove("provenance");
                if let Some(c) = count {
                    o.insert("shard_count".into(), c);
                }
            }
            match &first {
                None => first = Some((dir, v)),
                Some((d0, v0)) if *v0 != v => {
                    return Err(Error::Usage(format!(
                        "{} and {} are batches with different settings or data ({})",
                        d0.display(),
                        dir.display(),
                        differing_keys(v0, &v).join(", ")
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(first.map(|(_, mut v)| {
            if let Some(o) = v.as_object_mut() {
                o.remove("shard_count");
            }
            v
        }))
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
    fn shard_auto_reads_slurm_and_kubernetes_arrays() {
        fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        }
        let auto: ShardSpec = "auto".parse().unwrap();
        let auto4: ShardSpec = "auto/4".parse().unwrap();
        let shard = |index, count| Ok(Shard { index, count });
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(auto.resolve(env(&slurm)), shard(1, 4));
        assert_eq!(auto4.resolve(env(&slurm)), shard(1, 4));
        assert!("auto/3"
            .parse::<ShardSpec>()
            .unwrap()
            .resolve(env(&slurm))
            .is_err());
        // --array=1-4 and --array=10-16:2.
        let one_based = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_eq!(auto.resolve(env(&one_based)), shard(4, 4));
        let stepped = [
            ("SLURM_ARRAY_TASK_ID", "14"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ];
        assert_eq!(auto.resolve(env(&stepped)), shard(3, 4));
        let k8s = [("JOB_COMPLETION_INDEX", "3")];
        assert_eq!(auto4.resolve(env(&k8s)), shard(4, 4));
        assert!(auto.resolve(env(&k8s)).unwrap_err().contains("auto/N"));
        assert!("auto/2"
            .parse::<ShardSpec>()
            .unwrap()
            .resolve(env(&k8s))
            .is_err());
        assert!(auto
            .resolve(env(&[]))
            .unwrap_err()
            .contains("not in a job array"));
        let bad = [
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert!(auto.resolve(env(&bad)).unwrap_err().contains("'x'"));
        assert_eq!(
            "2/5".parse::<ShardSpec>(),
            Ok(ShardSpec::Fixed(Shard { index: 2, count: 5 }))
        );
        for bad in ["auto/0", "autox", "auto/b"] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
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
    fn over_long_slugs_are_shortened_uniquely() {
        let a = RegionKey::country(&"x".repeat(300));
        let b = RegionKey::country(&format!("{}y", "x".repeat(299)));
        let c = RegionKey::country(&"日".repeat(100));
        let slugs = unique_slugs([&a, &b, &c]);
        for s in &slugs {
            assert!(s.len() <= MAX_SLUG_BYTES, "{s}");
        }
        assert_ne!(slugs[0], slugs[1]);
        // Independent of the order given.
        let again = unique_slugs([&b, &a, &c]);
        assert_eq!((&again[1], &again[0]), (&slugs[0], &slugs[1]));
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
