//! Error types. Library errors carry the file, line, field or region they are
//! about; the binary prints them as one line, `seird-fit: <cause chain>`.

use std::path::PathBuf;

/// Anything that can stop a `seird-fit` command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Input data could not be used.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A configuration file or flag is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A fit could not be carried out.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// Writing a report failed for a reason other than I/O.
    #[error("report: {0}")]
    Report(String),
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// The worker threads could not be started (a system limit, not
    /// anything on the command line).
    #[error("cannot start {jobs} worker threads (--jobs; 0 is one per core)")]
    Threads {
        /// The thread count asked for.
        jobs: usize,
        /// Why the pool could not be built.
        source: rayon::ThreadPoolBuildError,
    },
}

/// Why one region of a batch could not be fitted: typed until the batch
/// records it as the region's reason.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    /// Its training window cannot be cut (no population, too few days...).
    #[error(transparent)]
    Data(#[from] DataError),
    /// The fit or its forecast failed.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// Writing its report failed.
    #[error(transparent)]
    Output(#[from] Error),
    /// Any other reason, as text (the batch's own tests use it).
    #[error("{0}")]
    Other(String),
}

impl From<String> for RegionError {
    fn from(reason: String) -> Self {
        RegionError::Other(reason)
    }
}

/// Problems with input data: each names the file, line and field where it can.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file or directory does not exist or cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("{}: empty file", path.display())]
    Empty {
        /// The file involved.
        path: PathBuf,
    },
    /// The header matches none of the known layouts.
    #[error("{}: unknown layout (header: {}); expected one of: {expected}", path.display(), crate::text::for_terminal(header))]
    UnknownLayout {
        /// The file involved.
        path: PathBuf,
        /// The header found.
        header: String,
        /// The layouts we know, with their key headers.
        expected: String,
    },
    /// A required column is missing.
    #[error("{}: missing column '{column}'", path.display())]
    MissingColumn {
        /// The file involved.
        path: PathBuf,
        /// The column's name.
        column: String,
    },
    /// A field could not be parsed or holds an impossible value.
    #[error("{}:{line}:{column}: field {}: {problem}", path.display(), crate::text::quoted(field))]
    Field {
        /// The file involved.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// Column name.
        field: String,
        /// What is wrong, e.g. "cannot parse 'x' as a number".
        problem: String,
    },
    /// The file is not well-formed CSV (a row with the wrong number of
    /// fields, invalid UTF-8...).
    #[error("{}:{line}: {problem}", path.display())]
    Csv {
        /// The file involved.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// The file has a header but no data rows.
    #[error("{}: no data rows after the header", path.display())]
    NoRows {
        /// The file involved.
        path: PathBuf,
    },
    /// A region's dates skip a day; series must be daily and consecutive
    /// (we never invent the missing days).
    #[error("{}: region {}: no data for the days between {after} and {next} (daily, consecutive dates are required)", path.display(), crate::text::quoted(region))]
    DateGap {
        /// The file involved.
        path: PathBuf,
        /// The region.
        region: String,
        /// The last date before the gap.
        after: String,
        /// The first date after the gap.
        next: String,
    },
    /// Daily (incident) counts add up to a negative cumulative total.
    #[error("{}:{line}: region {}: daily {field} add up to a negative total ({total}) on {date}", path.display(), crate::text::quoted(region))]
    NegativeTotal {
        /// The file involved.
        path: PathBuf,
        /// 1-based line number of the row where the total went negative.
        line: u64,
        /// The region.
        region: String,
        /// `cases` or `deaths`.
        field: String,
        /// The date.
        date: String,
        /// The negative running total.
        total: f64,
    },
    /// Files or rows that should agree do not (the two JHU wide files list
    /// different regions or dates, a directory holds no usable file...).
    #[error("{}: {problem}", path.display())]
    Inconsistent {
        /// The file or directory involved.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The same date appears twice for one region.
    #[error("{}:{line}: duplicate date {date} for region {}", path.display(), crate::text::quoted(region))]
    DuplicateDate {
        /// The file involved.
        path: PathBuf,
        /// 1-based line number of the second occurrence.
        line: u64,
        /// The repeated date.
        date: String,
        /// The region.
        region: String,
    },
    /// A download failed: no connection, an HTTP error status, or a body
    /// cut short. Nothing was written.
    #[error("{url}: {problem}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        problem: String,
    },
    /// A downloaded file arrived whole but the loader rejects it (its path
    /// is the URL); nothing was replaced.
    #[error("{source} (download refused; nothing was replaced)")]
    Refused {
        /// The loader's error.
        source: Box<DataError>,
    },
    /// No region of that name; `suggestions` holds the closest names.
    #[error(
        "unknown region {}{}",
        crate::text::quoted(name),
        did_you_mean(suggestions)
    )]
    UnknownRegion {
        /// The name asked for.
        name: String,
        /// Closest known names, best first.
        suggestions: Vec<String>,
    },
    /// The name stands for several regions of the data and is none itself
    /// (a country whose rows are all provinces).
    #[error("'{name}' is not one region in this data but {count} ({first}, ...): give the one you mean (e.g. --country '{first}'), {}", several_hint(name, level))]
    SeveralRegions {
        /// The name asked for.
        name: String,
        /// How many regions it stands for.
        count: usize,
        /// The first of them.
        first: String,
        /// The `--aggregate` level that sums them.
        level: String,
    },
    /// The region has no population (cruise ships, repatriation rows...).
    #[error("region {}: no population known (give --population-value N or a lookup table with --population)", crate::text::quoted(region))]
    NoPopulation {
        /// The region.
        region: String,
    },
    /// The population given cannot be used for this region.
    #[error(
        "region {}: population {population} {problem}",
        crate::text::quoted(region)
    )]
    InvalidPopulation {
        /// The region.
        region: String,
        /// The population given.
        population: f64,
        /// Why it cannot be used.
        problem: String,
    },
    /// The training window is too short to fit.
    #[error(
        "region {}: only {days} training days (at least {min} needed)",
        crate::text::quoted(region)
    )]
    TooFewDays {
        /// The region.
        region: String,
        /// Days available.
        days: usize,
        /// Days needed.
        min: usize,
    },
    /// The region never reports a case in the data, or not before `--end`.
    #[error(
        "region {}: --end {end} is before the first confirmed case ({first})",
        crate::text::quoted(region)
    )]
    EndBeforeFirstCase {
        /// The region.
        region: String,
        /// The requested end date.
        end: String,
        /// The first date with cases, or "none" when there is none.
        first: String,
    },
}

fn several_hint(name: &str, level: &str) -> String {
    if name.contains('*') {
        format!("or fit each with `seird-fit batch --countries '{name}'`")
    } else {
        format!("or fit their sum with --aggregate {level}")
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean {}?", crate::text::quoted(one)),
        many => format!(
            "; did you mean one of: {}?",
            many.iter()
                .map(|s| crate::text::quoted(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Invalid configuration: a value outside its allowed range, an unknown key...
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file could not be parsed.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file involved.
        path: PathBuf,
        /// The parser's message (it names line and column).
        message: String,
    },
    /// A value is outside the range it may take.
    #[error("{origin}: '{key}' = {value}: {problem}")]
    Invalid {
        /// Where the value came from: a file path or "--flag".
        origin: String,
        /// The key, e.g. `bounds.r_0` or `start.theta`.
        key: String,
        /// The offending value.
        value: String,
        /// Why it is invalid.
        problem: String,
    },
}

/// An ODE solve that could not be completed. These are reported as what they
/// are, never replaced by a made-up cost.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolveError {
    /// The step size fell below what floating point can resolve.
    #[error("step size underflow at t = {time}")]
    StepSizeTooSmall {
        /// Model time (days) where it happened.
        time: f64,
    },
    /// The bounded number of steps was used up.
    #[error("more than {steps} steps needed (stopped at t = {time})")]
    TooManySteps {
        /// Model time (days) where it stopped.
        time: f64,
        /// The step budget.
        steps: u32,
    },
    /// The problem became stiff for the explicit solver.
    #[error("stiffness detected at t = {time}")]
    Stiff {
        /// Model time (days).
        time: f64,
    },
    /// The state became NaN or infinite.
    #[error("non-finite state at t = {time}")]
    NonFinite {
        /// Model time (days).
        time: f64,
    },
}

/// A fit that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// The model cannot be solved at the start point.
    #[error("the model cannot be solved at the start point {params}: {source}")]
    StartPoint {
        /// The start parameters, formatted `name=value`.
        params: String,
        /// Why the solve failed.
        source: SolveError,
    },
    /// The optimizer itself failed (not a normal termination).
    #[error("optimizer failed: {0}")]
    Optimizer(String),
    /// The optimizer's settings were refused.
    #[error("optimizer settings: {0}")]
    Settings(#[from] crate::optim::OptimError),
    /// The optimizer's run ended in an error (its cause chain is kept).
    #[error("optimizer failed")]
    Solver(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The optimizer's final point cannot be solved (re-scoring it failed).
    #[error("the final point {params} cannot be solved: {source}")]
    FinalPoint {
        /// The parameters, formatted `name=value`.
        params: String,
        /// Why the solve failed.
        source: SolveError,
    },
    /// The forecast solve of fitted parameters failed.
    #[error("the forecast at {params} cannot be solved: {source}")]
    Forecast {
        /// The parameters, formatted `name=value`.
        params: String,
        /// Why the solve failed.
        source: SolveError,
    },
    /// The training data cannot be fitted (too few days, misaligned series).
    #[error("{}: {problem}", crate::text::for_terminal(region))]
    Data {
        /// The region's display name.
        region: String,
        /// What is wrong with its data.
        problem: String,
    },
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Formats an error with all its sources, joined by ": ", skipping sources
/// whose text is already part of their parent's message.
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_region_suggests_closest_names() {
        let e = DataError::UnknownRegion {
            name: "korea".into(),
            suggestions: vec!["Korea, South".into()],
        };
        assert_eq!(
            e.to_string(),
            "unknown region 'korea'; did you mean 'Korea, South'?"
        );
    }

    #[test]
    fn a_thread_pool_failure_is_its_own_kind_not_a_usage_error() {
        // The only pool error one can provoke portably: a second global pool.
        let _ = rayon::ThreadPoolBuilder::new().build_global();
        let source = rayon::ThreadPoolBuilder::new().build_global().unwrap_err();
        let e = Error::Threads { jobs: 3, source };
        assert!(!matches!(e, Error::Usage(_)));
        let line = cause_chain(&e);
        assert!(line.starts_with("cannot start 3 worker threads"), "{line}");
        assert!(
            line.contains("global thread pool"),
            "the cause is kept: {line}"
        );
    }

    #[test]
    fn a_region_error_keeps_its_source_type() {
        let e: RegionError = DataError::TooFewDays {
            region: "X".into(),
            days: 2,
            min: 5,
        }
        .into();
        assert!(matches!(
            e,
            RegionError::Data(DataError::TooFewDays { days: 2, .. })
        ));
        assert_eq!(
            e.to_string(),
            "region 'X': only 2 training days (at least 5 needed)"
        );
    }

    #[test]
    fn cause_chain_is_one_line() {
        let e = Error::Io {
            path: "x.csv".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
        };
        let s = cause_chain(&e);
        assert_eq!(s, "x.csv: not found");
        assert!(!s.contains('\n'));
    }
}
