//! A batch's `summary.csv` and `summary.json`: one row per region, fitted or
//! failed, with every parameter, the loss and the optimizer's work.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::RegionKey;
use crate::error::Error;
use crate::fit::{FitResult, HorizonQuantiles, Target};
use crate::io::write_atomic;

/// File name of the CSV summary.
pub const SUMMARY_CSV: &str = "summary.csv";
/// File name of the JSON summary.
pub const SUMMARY_JSON: &str = "summary.json";

/// How a region ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fitted; its report files exist.
    Fitted,
    /// Not fitted; `error` says why.
    Failed,
}

/// One region's line in the summary. Fit columns are empty for failed regions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// `Country` or `Country/Province`.
    pub region: String,
    /// Country.
    pub country: String,
    /// Province or state, if any.
    pub province: Option<String>,
    /// Population (when known).
    pub population: Option<f64>,
    /// Training days (when the window could be cut).
    pub days: Option<usize>,
    /// Fitted R_0.
    pub r_0: Option<f64>,
    /// Fitted fatality ratio.
    pub theta: Option<f64>,
    /// Fitted steepness k.
    pub k: Option<f64>,
    /// Fitted decay midpoint L (days).
    pub l: Option<f64>,
    /// Fitted R_t.
    pub r_t: Option<f64>,
    /// Fitted infectious period (days).
    pub d_rec: Option<f64>,
    /// Fitted incubation period (days).
    pub d_inc: Option<f64>,
    /// Parameters on a bound, `;`-separated.
    pub at_bound: String,
    /// Final objective.
    pub msle: Option<f64>,
    /// MSLE of cases.
    pub msle_cases: Option<f64>,
    /// MSLE of deaths.
    pub msle_deaths: Option<f64>,
    /// Optimizer iterations.
    pub iterations: Option<u64>,
    /// Loss evaluations (ODE solves).
    pub evaluations: Option<u64>,
    /// Gradient evaluations.
    pub gradient_evals: Option<u64>,
    /// Wall time of the fit.
    pub seconds: Option<f64>,
    /// Why the optimizer stopped.
    pub termination: String,
    /// `fitted` or `failed`.
    pub status: Status,
    /// Why the region failed; empty when fitted.
    pub error: String,
    /// The region's directory, relative to the summary's directory (its
    /// `report.md`, `forecast.png`, ... live there).
    pub dir: String,
    /// Cumulative cases 14 days after the window: 5 % quantile.
    #[serde(default)]
    pub cases_14d_q05: Option<f64>,
    /// Cumulative cases 14 days after the window: median.
    #[serde(default)]
    pub cases_14d_q50: Option<f64>,
    /// Cumulative cases 14 days after the window: 95 % quantile.
    #[serde(default)]
    pub cases_14d_q95: Option<f64>,
    /// Cumulative deaths 14 days after the window: 5 % quantile.
    #[serde(default)]
    pub deaths_14d_q05: Option<f64>,
    /// Cumulative deaths 14 days after the window: median.
    #[serde(default)]
    pub deaths_14d_q50: Option<f64>,
    /// Cumulative deaths 14 days after the window: 95 % quantile.
    #[serde(default)]
    pub deaths_14d_q95: Option<f64>,
}

/// The fit's forecast quantiles of `target` 14 days after the window.
fn q14(result: &FitResult, target: Target) -> Option<&HorizonQuantiles> {
    result
        .forecast
        .as_ref()?
        .horizons
        .iter()
        .find(|q| q.horizon == 14 && q.target == target)
}

impl SummaryRow {
    /// The row of a fitted region.
    pub fn fitted(result: &FitResult, dir: &str) -> Self {
        let p = &result.params;
        let o = &result.optimizer;
        let key = RegionKey {
            country: result.region.country.clone(),
            province: result.region.province.clone(),
        };
        SummaryRow {
            region: key.display_name(),
            country: key.country,
            province: key.province,
            population: Some(result.population),
            days: Some(result.train_days),
            r_0: Some(p.r_0),
            theta: Some(p.theta),
            k: Some(p.k),
            l: Some(p.l),
            r_t: Some(p.r_t),
            d_rec: Some(p.d_rec),
            d_inc: Some(p.d_inc),
            at_bound: result.at_bound.join(";"),
            msle: Some(result.loss.msle),
            msle_cases: Some(result.loss.msle_cases),
            msle_deaths: Some(result.loss.msle_deaths),
            iterations: Some(o.iterations),
            evaluations: Some(o.loss_evals),
            gradient_evals: Some(o.gradient_evals),
            seconds: Some(o.seconds),
            termination: o.termination.clone(),
            status: Status::Fitted,
            error: String::new(),
            dir: dir.to_string(),
            cases_14d_q05: q14(result, Target::Cases).map(|q| q.q05),
            cases_14d_q50: q14(result, Target::Cases).map(|q| q.q50),
            cases_14d_q95: q14(result, Target::Cases).map(|q| q.q95),
            deaths_14d_q05: q14(result, Target::Deaths).map(|q| q.q05),
            deaths_14d_q50: q14(result, Target::Deaths).map(|q| q.q50),
            deaths_14d_q95: q14(result, Target::Deaths).map(|q| q.q95),
        }
    }

    /// The row of a region that could not be fitted.
    pub fn failed(
        key: &RegionKey,
        population: Option<f64>,
        days: Option<usize>,
        error: &str,
        dir: &str,
    ) -> Self {
        SummaryRow {
            region: key.display_name(),
            country: key.country.clone(),
            province: key.province.clone(),
            population,
            days,
            r_0: None,
            theta: None,
            k: None,
            l: None,
            r_t: None,
            d_rec: None,
            d_inc: None,
            at_bound: String::new(),
            msle: None,
            msle_cases: None,
            msle_deaths: None,
            iterations: None,
            evaluations: None,
            gradient_evals: None,
            seconds: None,
            termination: String::new(),
            status: Status::Failed,
            // One line per region keeps the CSV readable with line tools.
            error: error.replace(['\n', '\r'], " "),
            dir: dir.to_string(),
            cases_14d_q05: None,
            cases_14d_q50: None,
            cases_14d_q95: None,
            deaths_14d_q05: None,
            deaths_14d_q50: None,
            deaths_14d_q95: None,
        }
    }

    /// The region's key.
    pub fn key(&self) -> RegionKey {
        RegionKey {
            country: self.country.clone(),
            province: self.province.clone(),
        }
    }
}

/// The contents of `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Regions fitted.
    pub fitted: usize,
    /// Regions failed.
    pub failed: usize,
    /// One row per region, sorted by region.
    pub regions: Vec<SummaryRow>,
}

impl Summary {
    /// Sorts `rows` by region and counts them.
    pub fn new(mut rows: Vec<SummaryRow>) -> Self {
        rows.sort_by_key(|r| r.key());
        let fitted = rows.iter().filter(|r| r.status == Status::Fitted).count();
        Summary {
            fitted,
            failed: rows.len() - fitted,
            regions: rows,
        }
    }

    /// Writes `summary.csv` and `summary.json` into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in &self.regions {
            w.serialize(row)
                .map_err(|e| Error::Report(format!("cannot write {SUMMARY_CSV}: {e}")))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::Report(format!("cannot write {SUMMARY_CSV}: {e}")))?;
        write_atomic(&dir.join(SUMMARY_CSV), &bytes)?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Report(format!("cannot write {SUMMARY_JSON}: {e}")))?;
        write_atomic(&dir.join(SUMMARY_JSON), json.as_bytes())
    }

    /// Reads `summary.json` from `dir`.
    pub fn read(dir: &Path) -> Result<Self, Error> {
        let path = dir.join(SUMMARY_JSON);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Report(format!("{}: {e}", path.display())))
    }
}
