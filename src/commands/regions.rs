//! `seird-fit regions`: every region of a data set with its population,
//! first case, days, corrections (days a cumulative count fell) and whether a
//! fit with the given window can run on it — and if not, why not.

use std::io::Write;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;
use serde::Serialize;

use super::DataArgs;
use crate::data::{self, DeclinePolicy, PopulationSource, RegionSeries, WindowOptions};
use crate::error::{DataError, Error};

/// Arguments of `seird-fit regions`.
#[derive(Debug, Clone, Args)]
pub struct RegionsArgs {
    /// Where the data comes from.
    #[command(flatten)]
    pub data: DataArgs,
    /// The window checked for eligibility, and the configuration whose
    /// decline policy applies (it can move the first case), as for a fit.
    #[command(flatten)]
    pub window: super::WindowArgs,
    /// Print JSON instead of a table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
}

/// One line of the listing; also the JSON object and CSV row.
#[derive(Debug, Clone, Serialize)]
pub struct RegionRow {
    /// `Country`, `Country/Province` or `Country/Province/County`.
    pub region: String,
    /// Country as the data spells it.
    pub country: String,
    /// Province or state, if any.
    pub province: Option<String>,
    /// County (JHU US `Admin2`), if any.
    pub county: Option<String>,
    /// The county's FIPS code, if the data has one.
    pub fips: Option<String>,
    /// Population, when known.
    pub population: Option<f64>,
    /// First day with confirmed cases > 0, as reported.
    pub first_case: Option<NaiveDate>,
    /// First day of data.
    pub first_date: Option<NaiveDate>,
    /// Last day of data.
    pub last_date: Option<NaiveDate>,
    /// Days of data.
    pub days: usize,
    /// Days on which cumulative cases or deaths fell below the day before.
    pub corrections: usize,
    /// Training days in the window, when eligible.
    pub train_days: Option<usize>,
    /// Whether a fit with this window can run.
    pub eligible: bool,
    /// Why not, when not eligible.
    pub reason: Option<String>,
    /// Days in the training window on which a cumulative count still falls
    /// once the decline policy has been applied: what the fit sees (0 under
    /// `running-max` and `redistribute`), when eligible.
    pub corrections_in_fit: Option<usize>,
}

impl RegionRow {
    /// Describes `r` for a fit with `window`.
    pub fn new(r: &RegionSeries, window: &WindowOptions) -> RegionRow {
        let (train_days, corrections_in_fit, reason) = match r.training_data(window) {
            Ok(t) => (
                Some(t.dates.len()),
                Some(data::count_decline_days(&t.cases, &t.deaths)),
                None,
            ),
            Err(e) => (None, None, Some(short_reason(&e))),
        };
        RegionRow {
            region: r.key.display_name(),
            country: r.key.country.clone(),
            province: r.key.province.clone(),
            county: r.key.county.clone(),
            fips: r.fips.clone(),
            population: window.population_override.or(r.population),
            first_case: r.first_case_date(),
            first_date: r.dates.first().copied(),
            last_date: r.dates.last().copied(),
            days: r.dates.len(),
            corrections: data::count_decline_days(&r.cases, &r.deaths),
            corrections_in_fit,
            eligible: reason.is_none(),
            train_days,
            reason,
        }
    }
}

/// A few words on why a region cannot be fitted.
fn short_reason(e: &DataError) -> String {
    match e {
        DataError::NoPopulation { .. } => "no population".into(),
        DataError::TooFewDays { days, min, .. } => format!("too few days ({days} < {min})"),
        DataError::EndBeforeFirstCase { first, .. } if first.starts_with("none") => {
            "no cases in the data".into()
        }
        DataError::EndBeforeFirstCase { .. } => "no cases before --end".into(),
        other => other.to_string(),
    }
}

/// The listing as JSON.
#[derive(Serialize)]
struct Listing<'a> {
    data: String,
    layout: &'static str,
    populations: String,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    decline_policy: DeclinePolicy,
    regions: &'a [RegionRow],
}

/// Runs `seird-fit regions`.
pub fn run(args: &RegionsArgs) -> Result<ExitCode, Error> {
    let run = super::resolve_window(&args.data, &args.window)?;
    let ds = data::load(&run.data, &run.load)?;
    let window = run.window;
    let rows: Vec<RegionRow> = ds
        .regions
        .iter()
        .map(|r| RegionRow::new(r, &window))
        .collect();
    let populations = match &ds.populations {
        PopulationSource::LookupTable(p) => p.display().to_string(),
        PopulationSource::InData => "in the data".into(),
        PopulationSource::None => "none found".into(),
    };
    let mut out = Vec::new();
    if args.json {
        let listing = Listing {
            data: ds.path.display().to_string(),
            layout: ds.layout.name(),
            populations,
            start: window.start,
            end: window.end,
            decline_policy: window.decline_policy,
            regions: &rows,
        };
        serde_json::to_writer_pretty(&mut out, &listing)
            .map_err(|e| Error::Report(format!("JSON: {e}")))?;
        out.push(b'\n');
    } else if args.csv {
        let mut w = csv::Writer::from_writer(&mut out);
        for r in &rows {
            // Names from the data, with control characters made visible.
            let mut r = r.clone();
            r.region = crate::text::escape(&r.region);
            r.country = crate::text::escape(&r.country);
            r.province = r.province.as_deref().map(crate::text::escape);
            r.county = r.county.as_deref().map(crate::text::escape);
            w.serialize(&r)
                .map_err(|e| Error::Report(format!("CSV: {e}")))?;
        }
        w.flush().map_err(|e| Error::Report(format!("CSV: {e}")))?;
    } else {
        write_table(
            &mut out,
            &rows,
            ds.layout.name(),
            &populations,
            window.decline_policy,
        );
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&out).and_then(|_| stdout.flush()) {
        // `seird-fit regions | head` closes the pipe early: not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The human-readable table, then one summary line.
fn write_table(
    out: &mut Vec<u8>,
    rows: &[RegionRow],
    layout: &str,
    populations: &str,
    policy: DeclinePolicy,
) {
    use std::fmt::Write as _;
    // Names from the data: escaped and cut short for the terminal.
    let names: Vec<String> = rows
        .iter()
        .map(|r| crate::text::for_terminal(&r.region))
        .collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<width$}  {:>12}  {:<10}  {:>5}  {:>11}  eligible",
        "region", "population", "first case", "days", "corrections"
    );
    for (r, name) in rows.iter().zip(&names) {
        let pop = r
            .population
            .map(|p| format!("{p:.0}"))
            .unwrap_or_else(|| "-".into());
        let first = r
            .first_case
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into());
        let eligible = match (&r.reason, r.train_days) {
            (None, Some(n)) => format!("yes ({n} training days)"),
            (Some(why), _) => format!("no: {why}"),
            (None, None) => "yes".into(),
        };
        let _ = writeln!(
            s,
            "{:<width$}  {:>12}  {:<10}  {:>5}  {:>11}  {}",
            name, pop, first, r.days, r.corrections, eligible
        );
    }
    let eligible = rows.iter().filter(|r| r.eligible).count();
    let corrected = rows.iter().filter(|r| r.corrections > 0).count();
    let left = rows
        .iter()
        .filter(|r| r.corrections_in_fit.is_some_and(|n| n > 0))
        .count();
    let _ = writeln!(
        s,
        "{} regions ({layout} layout; populations: {populations}); {eligible} eligible; {corrected} with corrections ({left} still falling in the fit's window under decline policy {})",
        rows.len(),
        policy.name()
    );
    out.extend_from_slice(s.as_bytes());
}
