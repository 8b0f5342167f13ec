//! `forecast.csv`: one row per modelled day, with the observations of that
//! day when the data has them (training days and held-out days alike, so a
//! user can see how the forecast held up).

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::data::TrainingData;
use crate::error::Error;
use crate::fit::Forecast;

/// Whether a day was in the training window or is forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The fit saw this day.
    Train,
    /// The model predicts this day; observations here are held out.
    Forecast,
}

/// One row of `forecast.csv`. Observations are empty on days the data does
/// not cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRow {
    /// The day.
    pub date: NaiveDate,
    /// Observed cumulative confirmed cases.
    #[serde(serialize_with = "whole")]
    pub observed_cases: Option<f64>,
    /// Observed cumulative deaths.
    #[serde(serialize_with = "whole")]
    pub observed_deaths: Option<f64>,
    /// Model cumulative cases `I + R + D`.
    pub fitted_cases: f64,
    /// Model cumulative deaths `D`.
    pub fitted_deaths: f64,
    /// Susceptible.
    pub s: f64,
    /// Exposed.
    pub e: f64,
    /// Infectious.
    pub i: f64,
    /// Recovered.
    pub r: f64,
    /// Dead.
    pub d: f64,
    /// Effective reproduction number R(t).
    pub reproduction: f64,
    /// `train` or `forecast`.
    pub phase: Phase,
}

/// Observed counts are whole persons: `1234`, not `1234.0` (a count that is
/// not whole, e.g. after `--decline-policy redistribute`, keeps its digits).
fn whole<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => s.serialize_some(&(*x as i64)),
        other => other.serialize(s),
    }
}

/// Joins the forecast with the observations, day by day. A forecast whose
/// columns disagree in length is an error (it would misalign the rows).
pub fn forecast_rows(data: &TrainingData, forecast: &Forecast) -> Result<Vec<ForecastRow>, Error> {
    check_forecast(forecast)?;
    let observed: HashMap<NaiveDate, (f64, f64)> = data
        .dates
        .iter()
        .zip(data.cases.iter().zip(&data.deaths))
        .chain(
            data.held_out_dates
                .iter()
                .zip(data.held_out_cases.iter().zip(&data.held_out_deaths)),
        )
        .map(|(d, (c, x))| (*d, (*c, *x)))
        .collect();
    let t = &forecast.trajectory;
    Ok(forecast
        .dates
        .iter()
        .enumerate()
        .map(|(j, date)| {
            let obs = observed.get(date);
            ForecastRow {
                date: *date,
                observed_cases: obs.map(|o| o.0),
                observed_deaths: obs.map(|o| o.1),
                fitted_cases: forecast.cases[j],
                fitted_deaths: forecast.deaths[j],
                s: t.s[j],
                e: t.e[j],
                i: t.i[j],
                r: t.r[j],
                d: t.d[j],
                reproduction: forecast.reproduction[j],
                phase: if j < forecast.train_days {
                    Phase::Train
                } else {
                    Phase::Forecast
                },
            }
        })
        .collect())
}

/// Serialises rows as CSV with a header.
pub(crate) fn to_csv(rows: &[ForecastRow]) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)
            .map_err(|e| Error::Report(format!("cannot write forecast.csv: {e}")))?;
    }
    w.into_inner()
        .map_err(|e| Error::Report(format!("cannot write forecast.csv: {e}")))
}

/// Refuses a forecast whose columns disagree in length, or that has no day
/// or fewer days than its training window.
pub fn check_forecast(f: &Forecast) -> Result<(), Error> {
    let n = f.dates.len();
    let t = &f.trajectory;
    let lens = [
        ("cases", f.cases.len()),
        ("deaths", f.deaths.len()),
        ("reproduction", f.reproduction.len()),
        ("s", t.s.len()),
        ("e", t.e.len()),
        ("i", t.i.len()),
        ("r", t.r.len()),
        ("d", t.d.len()),
    ];
    for (name, len) in lens {
        if len != n {
            return Err(Error::Report(format!(
                "forecast has {n} dates but {len} values of '{name}'"
            )));
        }
    }
    if n == 0 || f.train_days > n {
        return Err(Error::Report(format!(
            "forecast has {n} days and {} training days",
            f.train_days
        )));
    }
    Ok(())
}
