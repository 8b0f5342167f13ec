//! `seird-fit batch`: fit many regions in parallel and write a browsable
//! report (`summary.csv`, `summary.json`, `index.html`, one directory per
//! region). The machinery lives in [`crate::batch`]; this module wires the
//! real fit into it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::batch::{self, Manifest, Progress, RegionSpec, RunOptions, Shard, ShardSpec};
use crate::config::RunConfig;
use crate::data::{self, Dataset, RegionKey};
use crate::error::{cause_chain, Error, RegionError};
use crate::fit;
use crate::report;

/// Arguments of `seird-fit batch`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["all", "countries"])))]
pub struct BatchArgs {
    /// Fit every region of the data set.
    #[arg(long)]
    pub all: bool,
    /// Regions to fit, comma-separated: "Italy,Spain,China/Hubei",
    /// "US/New York/*" (every county of a state; `*` matches any name at its
    /// level). A country that only has provinces in the data means all of
    /// them, a state that only has counties all of those.
    #[arg(long, value_name = "LIST")]
    pub countries: Option<String>,
    /// Where the data comes from.
    #[command(flatten)]
    pub data: super::DataArgs,
    /// The training window and the fit settings.
    #[command(flatten)]
    pub settings: super::FitSettingsArgs,
    /// How the fits become forecasts.
    #[command(flatten)]
    pub forecast: super::backtest::ForecastArgs,
    /// Output directory: index.html, summary.csv/json and one directory per region.
    #[arg(short, long, default_value = "reports/batch", value_name = "DIR")]
    pub out: PathBuf,
    /// Worker threads (0: one per core).
    #[arg(short, long, default_value_t = 0, value_name = "N")]
    pub jobs: usize,
    /// Keep regions an earlier run into --out finished; fit only the rest.
    #[arg(long)]
    pub resume: bool,
    /// Fit only slice i of n (1-based), e.g. 3/16, for job arrays; join the
    /// slices with `seird-fit merge`. `auto` takes the slice from a Slurm
    /// array (SLURM_ARRAY_TASK_ID/COUNT), `auto/N` from a Kubernetes Indexed
    /// Job of N completions (JOB_COMPLETION_INDEX) or checks a Slurm array's size.
    #[arg(long, value_name = "i/n|auto|auto/N")]
    pub shard: Option<ShardSpec>,
    /// Plots per region: `full` (forecast.png and thumb.svg), `thumb`
    /// (thumb.svg only, about a fifth less CPU; draw one region's full plot
    /// with `seird-fit --country ...` or rerun with --plots full), `none`.
    #[arg(long, default_value = "thumb", value_name = "full|thumb|none")]
    pub plots: report::Plots,
    /// No progress output (errors only).
    #[arg(short, long)]
    pub quiet: bool,
    /// Exit 1 when regions were skipped as ineligible (no population, no
    /// case before --end, too few days), not only when some failed.
    #[arg(long)]
    pub strict: bool,
    /// Wall-time budget of one region in seconds (0: none); a region still
    /// running after it ends as failed, so one region never holds up a batch.
    #[arg(long, default_value_t = 120.0, value_name = "SECONDS")]
    pub region_timeout: f64,
}

/// Resolves `--countries` against the data set: indices into
/// `dataset.regions`, in the order given, without repeats. An unknown name
/// gets the data set's suggestions ("did you mean ...").
pub fn select_regions(dataset: &Dataset, list: &str) -> Result<Vec<usize>, Error> {
    let keys: Vec<RegionKey> = dataset.regions.iter().map(|r| r.key.clone()).collect();
    select_keys(&keys, list).map_err(|name| {
        let why = match dataset.find(&name, None) {
            Err(e) => e.to_string(),
            Ok(_) => format!("unknown region '{name}'"),
        };
        Error::Usage(format!("--countries: {why}"))
    })
}

/// The matching behind [`select_regions`], on region keys alone; an unknown
/// name comes back as `Err(name)`. It is [`data::select::select_list`], the
/// matcher `fit --country` uses too: names match case-insensitively
/// (Unicode), have up to three levels, `Country/Province/County`, with `*`
/// at a level for every name there; a name without `*` picks its region if
/// the data has that very region, otherwise every region below it (a
/// country without a country-level row means all its provinces,
/// `US/New York` all its counties).
pub fn select_keys(keys: &[RegionKey], list: &str) -> Result<Vec<usize>, String> {
    data::select::select_list(keys, list)
}

/// The manifest of this run: its whole configuration, inputs (with a
/// fingerprint of the loaded data), selection and shard.
fn manifest(
    args: &BatchArgs,
    run: &RunConfig,
    dataset: &Dataset,
    shard: Option<batch::Shard>,
    provenance: report::provenance::Provenance,
) -> Manifest {
    Manifest {
        start: run.window.start,
        end: run.window.end,
        config: run.fit,
        inputs: Some(batch::Inputs {
            data: run.data.display().to_string(),
            population: run
                .load
                .population_file
                .as_ref()
                .map(|p| p.display().to_string()),
            population_value: run.window.population_override,
            incident: run.load.incident,
            aggregate: run.load.aggregate,
            fingerprint: batch::fingerprint(&dataset.regions),
        }),
        selection: Some(match &args.countries {
            Some(list) if !args.all => list.clone(),
            _ => "all".into(),
        }),
        shard,
        forecast: Some(run.forecast),
        provenance: Some(provenance),
    }
}

/// Runs `seird-fit batch`.
pub fn run(args: &BatchArgs) -> Result<ExitCode, Error> {
    let budget = if args.region_timeout.is_finite() && args.region_timeout >= 0.0 {
        (args.region_timeout > 0.0).then(|| std::time::Duration::from_secs_f64(args.region_timeout))
    } else {
        return Err(Error::Usage(format!(
            "--region-timeout: '{}' is not a number of seconds >= 0",
            args.region_timeout
        )));
    };
    let run = super::resolve(&args.data, &args.settings, &args.forecast)?;
    let shard = args
        .shard
        .map(|s| s.resolve(|k| std::env::var(k).ok()))
        .transpose()
        .map_err(Error::Usage)?;
    let dataset = data::load(&run.data, &run.load)?;
    let chosen: Vec<usize> = match &args.countries {
        Some(list) if !args.all => select_regions(&dataset, list)?,
        _ => (0..dataset.regions.len()).collect(),
    };
    let window = run.window.clone();
    let mut ineligible = std::collections::HashMap::new();
    let specs = chosen
        .into_iter()
        .map(|i| {
            let series = &dataset.regions[i];
            let days = match series.training_data(&window) {
                Ok(d) => Some(d.dates.len()),
                Err(e) => {
                    ineligible.insert(i, cause_chain(&e));
                    None
                }
            };
            RegionSpec {
                index: i,
                key: series.key.clone(),
                population: series.population,
                days,
            }
        })
        .collect();
    // Slugs are unique over the whole data set, as for single fits, so a
    // region has one directory whichever regions are fitted with it.
    let slugs = batch::unique_slugs(dataset.regions.iter().map(|r| &r.key));
    let mut jobs = batch::make_jobs_with_slugs(specs, &slugs, &args.out);
    if let Some(shard) = shard {
        jobs = shard.select(jobs).map_err(Error::Usage)?;
    }
    for job in &mut jobs {
        job.fips = dataset.regions[job.index].fips.clone();
    }

    // One writer per --out; under the lock, what killed runs left is ours
    // to remove.
    let _lock = crate::io::DirLock::acquire(&args.out, "seird-fit batch")?;
    crate::io::remove_leftovers(&args.out);
    let provenance = super::provenance(&run.data, run.load.population_file.as_deref())?;
    manifest(args, &run, &dataset, shard, provenance).prepare(&args.out, args.resume)?;

    let progress = if args.quiet {
        Progress::Silent
    } else if std::io::stderr().is_terminal() {
        Progress::Bar
    } else {
        Progress::Lines
    };
    let opts = RunOptions {
        jobs: args.jobs,
        resume: args.resume,
        progress,
        budget,
        plots: args.plots,
    };
    let forecast_opts = run.forecast;
    let config = run.fit;
    let (skipped, jobs): (Vec<batch::Job>, Vec<batch::Job>) = jobs
        .into_iter()
        .partition(|j| ineligible.contains_key(&j.index));
    let dataset = std::sync::Arc::new(dataset);
    let shared = std::sync::Arc::clone(&dataset);
    let plots = args.plots;
    let fit_region = move |job: &batch::Job| -> Result<fit::FitResult, RegionError> {
        let series = &shared.regions[job.index];
        let data = series.training_data(&window)?;
        let mut result = fit::fit(&data, &config)?;
        if config.intervals {
            fit::identify::identify(&data, &mut result);
        }
        result.region.fips = series.fips.clone();
        let (forecast, block) =
            crate::forecast::forecast_with_intervals(&data, &result, &forecast_opts)?;
        result.forecast = Some(block);
        report::write_region_with(&job.dir, &data, &result, &forecast, plots, None)?;
        Ok(result)
    };
    let mut report = batch::run_shared(jobs, &opts, std::sync::Arc::new(fit_region))?;
    for job in skipped {
        let reason = ineligible.remove(&job.index).unwrap_or_default();
        report.records.push(batch::RegionRecord {
            job,
            outcome: batch::Outcome::Skipped(reason),
        });
    }
    report.records.sort_by(|a, b| a.job.key.cmp(&b.job.key));
    let summary = report.summary();
    let subtitle = subtitle(args, &dataset, shard);
    batch::write_outputs(&args.out, &summary, &subtitle)?;

    if !args.quiet {
        eprintln!(
            "{} regions: {} fitted, {} reused from an earlier run, {} failed, {} skipped; see {}",
            report.records.len(),
            report.fitted(),
            report.reused(),
            report.failed(),
            report.skipped(),
            args.out.join(report::index::INDEX_HTML).display()
        );
    }
    Ok(ExitCode::from(report.exit_code_with(args.strict)))
}

fn subtitle(args: &BatchArgs, dataset: &Dataset, shard: Option<Shard>) -> String {
    let mut s = format!("data: {}", dataset.path.display());
    if let Some(start) = args.settings.window.start {
        s.push_str(&format!(", from {start}"));
    }
    match args.settings.window.end {
        Some(end) => s.push_str(&format!(", training window to {end}")),
        None => s.push_str(", training window to the last day of data"),
    }
    if let Some(shard) = shard {
        s.push_str(&format!(", shard {shard}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[(&str, Option<&str>)]) -> Vec<RegionKey> {
        names
            .iter()
            .map(|(c, p)| RegionKey::new(c, *p, None))
            .collect()
    }

    #[test]
    fn countries_list_handles_commas_in_names_provinces_and_whole_countries() {
        let ks = keys(&[
            ("China", Some("Beijing")),
            ("China", Some("Hubei")),
            ("Italy", None),
            ("Korea, South", None),
            ("Spain", None),
        ]);
        assert_eq!(
            select_keys(&ks, "Italy,Korea, South,china/hubei").unwrap(),
            [2, 3, 1]
        );
        assert_eq!(select_keys(&ks, "China, Spain").unwrap(), [0, 1, 4]);
        assert_eq!(select_keys(&ks, "Italy,Italy,").unwrap(), [2]);
        assert_eq!(select_keys(&ks, "Italy,Atlantis").unwrap_err(), "Atlantis");
        assert_eq!(select_keys(&ks, "China/Tibet").unwrap_err(), "China/Tibet");
        assert_eq!(select_keys(&ks, " , ").unwrap_err(), ",");
    }

    #[test]
    fn countries_list_reaches_counties_with_wildcards() {
        let ks = vec![
            RegionKey::new("US", Some("New York"), Some("Kings")),
            RegionKey::new("US", Some("New York"), Some("Queens")),
            RegionKey::new("US", Some("Alabama"), Some("Autauga")),
            RegionKey::new("US", Some("Guam"), None),
            RegionKey::new("Italy", None, None),
        ];
        assert_eq!(select_keys(&ks, "US/New York/*").unwrap(), [0, 1]);
        assert_eq!(select_keys(&ks, "us/new york").unwrap(), [0, 1]);
        assert_eq!(
            select_keys(&ks, "US/New York/Queens,Italy").unwrap(),
            [1, 4]
        );
        assert_eq!(select_keys(&ks, "US/*/Autauga").unwrap(), [2]);
        assert_eq!(select_keys(&ks, "US/*").unwrap(), [0, 1, 2, 3]);
        assert_eq!(select_keys(&ks, "US/Guam").unwrap(), [3]);
        assert_eq!(select_keys(&ks, "*").unwrap(), [0, 1, 2, 3, 4]);
        assert_eq!(
            select_keys(&ks, "US/New York/Bronx").unwrap_err(),
            "US/New York/Bronx"
        );
        assert_eq!(select_keys(&ks, "Italy/*").unwrap_err(), "Italy/*");
    }
}
