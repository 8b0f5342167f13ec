//! A batch's `summary.csv` and `summary.json`: one row per region, fitted or
//! failed, with every parameter, the loss and the optimizer's work.

use std::path::Path;

use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use super::table::ForecastRow;
use super::FORECAST_CSV;
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
    /// Not attempted, ineligible by design (no population, no case before
    /// `--end`, too few days); `error` says why.
    Skipped,
}

/// One region's line in the summary. Fit columns are empty for failed regions.
///
/// In `summary.json` `at_bound` is an array and an empty `error` is `null`;
/// `summary.csv` keeps the `;`-joined form and an empty cell (see
/// [`Summary::write`]). Whole counts are written as integers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// `Country`, `Country/Province` or `Country/Province/County`.
    pub region: String,
    /// Country.
    pub country: String,
    /// Province or state, if any.
    pub province: Option<String>,
    /// County (JHU US `Admin2`), if any.
    #[serde(default)]
    pub county: Option<String>,
    /// The county's FIPS code, if known.
    #[serde(default)]
    pub fips: Option<String>,
    /// Population (when known).
    #[serde(serialize_with = "whole_as_integer")]
    pub population: Option<f64>,
    /// Training days (when the window could be cut).
    pub days: Option<usize>,
    /// First training day.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// Last training day.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
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
    /// Parameters on a bound, `;`-separated (an array in `summary.json`).
    #[serde(deserialize_with = "list_or_joined")]
    pub at_bound: String,
    /// Parameters the data do not determine (profile likelihood, see
    /// `fit::identify`), `;`-separated.
    #[serde(default)]
    pub not_identifiable: String,
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
    /// Why the region failed; empty when fitted (`null` in `summary.json`).
    #[serde(deserialize_with = "null_as_empty")]
    pub error: String,
    /// The region's directory, relative to the summary's directory (its
    /// `report.md`, `forecast.png`, ... live there).
    pub dir: String,
    /// Last forecast day (read from the region's `forecast.csv`).
    #[serde(default)]
    pub forecast_date: Option<NaiveDate>,
    /// Model cumulative cases on `forecast_date`.
    #[serde(default, serialize_with = "whole_as_integer")]
    pub forecast_cases: Option<f64>,
    /// Model cumulative deaths on `forecast_date`.
    #[serde(default, serialize_with = "whole_as_integer")]
    pub forecast_deaths: Option<f64>,
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

/// Counts are whole numbers: `38928341`, not `38928341.0`. Model counts
/// are rounded to whole persons.
fn whole_as_integer<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if x.is_finite() && x.abs() < 9e15 => s.serialize_some(&(x.round() as i64)),
        Some(x) => s.serialize_some(x),
        None => s.serialize_none(),
    }
}

/// `at_bound` as written by either file: an array or a `;`-joined string.
fn list_or_joined<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Joined(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(v) => v.join(";"),
        Either::Joined(s) => s,
    })
}

/// `error`: `null` or missing reads as empty.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// The last row of a region's `forecast.csv`: date, model cases, deaths.
fn last_forecast(path: &Path) -> Option<(NaiveDate, f64, f64)> {
    let mut reader = csv::Reader::from_path(path).ok()?;
    let rows = reader.deserialize::<ForecastRow>();
    let last = rows.filter_map(Result::ok).last()?;
    Some((last.date, last.fitted_cases, last.fitted_deaths))
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
        let key = result.region.key();
        SummaryRow {
            region: key.display_name(),
            country: key.country,
            province: key.province,
            county: key.county,
            fips: result.region.fips.clone(),
            population: Some(result.population),
            days: Some(result.train_days),
            start_date: Some(result.start_date),
            end_date: Some(result.end_date),
            r_0: Some(p.r_0),
            theta: Some(p.theta),
            k: Some(p.k),
            l: Some(p.l),
            r_t: Some(p.r_t),
            d_rec: Some(p.d_rec),
            d_inc: Some(p.d_inc),
            at_bound: result.at_bound.join(";"),
            not_identifiable: result
                .identifiable
                .iter()
                .flatten()
                .filter(|(_, v)| **v == crate::fit::identify::Identifiability::NotIdentifiable)
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(";"),
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
            forecast_date: None,
            forecast_cases: None,
            forecast_deaths: None,
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
            county: key.county.clone(),
            fips: None,
            population,
            days,
            start_date: None,
            end_date: None,
            r_0: None,
            theta: None,
            k: None,
            l: None,
            r_t: None,
            d_rec: None,
            d_inc: None,
            at_bound: String::new(),
            not_identifiable: String::new(),
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
            forecast_date: None,
            forecast_cases: None,
            forecast_deaths: None,
            cases_14d_q05: None,
            cases_14d_q50: None,
            cases_14d_q95: None,
            deaths_14d_q05: None,
            deaths_14d_q50: None,
            deaths_14d_q95: None,
        }
    }

    /// The row of a region skipped as ineligible (see [`Status::Skipped`]).
    pub fn skipped(
        key: &RegionKey,
        population: Option<f64>,
        days: Option<usize>,
        reason: &str,
        dir: &str,
    ) -> Self {
        SummaryRow {
            status: Status::Skipped,
            ..Self::failed(key, population, days, reason, dir)
        }
    }

    /// The region's key.
    pub fn key(&self) -> RegionKey {
        RegionKey {
            country: self.country.clone(),
            province: self.province.clone(),
            county: self.county.clone(),
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
    /// Regions skipped as ineligible (absent from summaries written before
    /// the status existed, hence the default).
    #[serde(default)]
    pub skipped: usize,
    /// One row per region, sorted by region.
    pub regions: Vec<SummaryRow>,
}

impl Summary {
    /// Sorts `rows` by region and counts them.
    pub fn new(mut rows: Vec<SummaryRow>) -> Self {
        rows.sort_by_key(|r| r.key());
        let count = |s: Status| rows.iter().filter(|r| r.status == s).count();
        Summary {
            fitted: count(Status::Fitted),
            failed: count(Status::Failed),
            skipped: count(Status::Skipped),
            regions: rows,
        }
    }

    /// Writes `summary.csv` and `summary.json` into `dir`, atomically. The
    /// forecast columns of fitted regions come from their `forecast.csv`
    /// under `dir` when the rows do not have them yet.
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let mut summary = self.clone();
        for row in &mut summary.regions {
            if row.status == Status::Fitted && row.forecast_date.is_none() {
                if let Some((d, c, x)) = last_forecast(&dir.join(&row.dir).join(FORECAST_CSV)) {
                    row.forecast_date = Some(d);
                    row.forecast_cases = Some(c);
                    row.forecast_deaths = Some(x);
                }
            }
        }
        summary.write_files(dir)
    }

    fn write_files(&self, dir: &Path) -> Result<(), Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in &self.regions {
            w.serialize(row)
                .map_err(|e| Error::Report(format!("cannot write {SUMMARY_CSV}: {e}")))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::Report(format!("cannot write {SUMMARY_CSV}: {e}")))?;
        write_atomic(&dir.join(SUMMARY_CSV), &bytes)?;
        let json_err =
            |e: serde_json::Error| Error::Report(format!("cannot write {SUMMARY_JSON}: {e}"));
        let mut value = serde_json::to_value(self).map_err(json_err)?;
        // JSON readers get a list and a null where CSV has a joined string
        // and an empty cell.
        if let Some(rows) = value.get_mut("regions").and_then(|r| r.as_array_mut()) {
            for row in rows.iter_mut().filter_map(|r| r.as_object_mut()) {
                if let Some(serde_json::Value::String(joined)) = row.get("at_bound") {
                    let list: Vec<serde_json::Value> = joined
                        .split(';')
                        .filter(|s| !s.is_empty())
                        .map(|s| serde_json::Value::String(s.to_string()))
                        .collect();
                    row.insert("at_bound".into(), serde_json::Value::Array(list));
                }
                if row.get("error").and_then(|e| e.as_str()) == Some("") {
                    row.insert("error".into(), serde_json::Value::Null);
                }
            }
        }
        let json = serde_json::to_string_pretty(&value).map_err(json_err)?;
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
