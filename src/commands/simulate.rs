//! `seird-fit simulate`: a synthetic data set with known parameters, in the
//! Kaggle layout, with a one-row population table beside it and the true
//! parameters on record, so fits can be checked against the truth offline.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use crate::error::Error;
use crate::io::write_atomic;
use crate::model::{simulate, OdeSettings, Params, PARAM_NAMES};

/// Arguments of `seird-fit simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Directory to write train.csv, UID_ISO_FIPS_LookUp_Table.csv and truth.json into.
    #[arg(long, default_value = "data/", value_name = "DIR")]
    pub out: PathBuf,
    /// Name of the synthetic country.
    #[arg(long, default_value = "Demoland")]
    pub country: String,
    /// True parameters as name=value pairs; unnamed ones keep the demo values
    /// r_0=3.2,theta=0.03,k=2.5,l=40,r_t=0.7,d_rec=9,d_inc=5.2.
    #[arg(long, value_name = "NAME=VALUE,...")]
    pub params: Option<String>,
    /// Population.
    #[arg(long, default_value_t = crate::model::demo::DEMO_POPULATION)]
    pub population: f64,
    /// Confirmed cases on the first day.
    #[arg(long, default_value_t = crate::model::demo::DEMO_C0)]
    pub c0: f64,
    /// Number of days.
    #[arg(long, default_value_t = crate::model::demo::DEMO_DAYS)]
    pub days: usize,
    /// First date.
    #[arg(long, default_value = "2020-03-01", value_name = "YYYY-MM-DD")]
    pub start_date: NaiveDate,
    /// Standard deviation of the multiplicative log-normal noise on daily new counts (0 = none).
    #[arg(long, default_value_t = 0.05)]
    pub noise: f64,
    /// Seed of the noise.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub use crate::model::DEMO_TRUTH;

#[derive(Serialize)]
struct Truth<'a> {
    country: &'a str,
    params: Params,
    population: f64,
    c0: f64,
    days: usize,
    start_date: NaiveDate,
    noise: f64,
    seed: u64,
}

/// Parses `name=value,...` over `base`.
pub fn parse_params(text: &str, base: Params) -> Result<Params, Error> {
    let mut p = base.to_array();
    for pair in text.split(',').filter(|s| !s.trim().is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--params: '{pair}' is not name=value")))?;
        let j = PARAM_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--params: unknown parameter '{}' (known: {})",
                    name.trim(),
                    PARAM_NAMES.join(", ")
                ))
            })?;
        p[j] = value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| Error::Usage(format!("--params: '{value}' is not a number")))?;
    }
    Ok(Params::from_array(p))
}

/// Adds seeded multiplicative noise to the daily increments of a
/// cumulative series, keeping it cumulative (non-decreasing) and integer.
fn noisy_cumulative(series: &[f64], sd: f64, rng: &mut rand::rngs::StdRng) -> Vec<f64> {
    let normal = Normal::new(0.0, sd.max(0.0)).ok();
    let mut out = Vec::with_capacity(series.len());
    // The running total stays fractional and only the reported value is
    // rounded, so small daily increments (deaths early on) are not lost.
    let mut total = series.first().copied().unwrap_or(0.0);
    out.push(total.round());
    for w in series.windows(2) {
        let inc = (w[1] - w[0]).max(0.0);
        let factor = match &normal {
            Some(n) if sd > 0.0 => (n.sample(rng) - sd * sd / 2.0).exp(),
            _ => 1.0,
        };
        total += inc * factor;
        out.push(total.round());
    }
    out
}

/// Runs `seird-fit simulate`.
pub fn run(args: &SimulateArgs) -> Result<ExitCode, Error> {
    let params = match &args.params {
        Some(t) => parse_params(t, DEMO_TRUTH)?,
        None => DEMO_TRUTH,
    };
    if !(args.population > args.c0 && args.c0 >= 1.0) {
        return Err(Error::Usage(
            "--population must exceed --c0, and --c0 must be at least 1".into(),
        ));
    }
    if args.days < 2 {
        return Err(Error::Usage("--days must be at least 2".into()));
    }
    let tr = simulate(
        &params,
        args.population,
        args.c0,
        args.days,
        &OdeSettings::default(),
    )
    .map_err(|e| {
        Error::Usage(format!(
            "the model cannot be solved at {}: {e}",
            params.describe()
        ))
    })?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let cases = noisy_cumulative(&tr.cases(), args.noise, &mut rng);
    let deaths = noisy_cumulative(&tr.deaths(), args.noise, &mut rng);

    // csv::Writer quotes what needs quoting: a country such as
    // "Korea, South" must come back as one field.
    let csv_err = |e: csv::Error| Error::Report(format!("cannot write the simulated CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "Id",
        "Province_State",
        "Country_Region",
        "Date",
        "ConfirmedCases",
        "Fatalities",
    ])
    .map_err(csv_err)?;
    for d in 0..args.days {
        let date = args.start_date + chrono::Duration::days(d as i64);
        w.write_record([
            (d + 1).to_string(),
            String::new(),
            args.country.clone(),
            date.to_string(),
            cases[d].to_string(),
            deaths[d].to_string(),
        ])
        .map_err(csv_err)?;
    }
    let csv = w
        .into_inner()
        .map_err(|e| Error::Report(format!("cannot write the simulated CSV: {e}")))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "UID",
        "iso2",
        "iso3",
        "code3",
        "FIPS",
        "Admin2",
        "Province_State",
        "Country_Region",
        "Lat",
        "Long_",
        "Combined_Key",
        "Population",
    ])
    .map_err(csv_err)?;
    w.write_record([
        "999001",
        "XX",
        "XXX",
        "999",
        "",
        "",
        "",
        &args.country,
        "0",
        "0",
        &args.country,
        &args.population.to_string(),
    ])
    .map_err(csv_err)?;
    let lookup = w
        .into_inner()
        .map_err(|e| Error::Report(format!("cannot write the simulated lookup table: {e}")))?;
    let truth = Truth {
        country: &args.country,
        params,
        population: args.population,
        c0: args.c0,
        days: args.days,
        start_date: args.start_date,
        noise: args.noise,
        seed: args.seed,
    };
    let truth = serde_json::to_string_pretty(&truth).map_err(|e| Error::Report(e.to_string()))?;
    write_atomic(&args.out.join("train.csv"), &csv)?;
    write_atomic(&args.out.join("UID_ISO_FIPS_LookUp_Table.csv"), &lookup)?;
    write_atomic(&args.out.join("truth.json"), truth.as_bytes())?;
    println!(
        "Wrote {} days of '{}' (population {}, {}) to {}/{{train.csv,UID_ISO_FIPS_LookUp_Table.csv,truth.json}}",
        args.days,
        args.country,
        args.population,
        params.describe(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
