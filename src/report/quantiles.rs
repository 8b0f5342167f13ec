//! A forecast's quantiles as files: `forecast_quantiles.csv` (`date,
//! target, quantile, value`, every forecast day, the Hub's 23 levels) and
//! `forecast_hub.csv`, the COVID-19 Forecast Hub's long format
//! (`forecast_date, target, target_end_date, location, type, quantile,
//! value`, targets such as "7 day ahead cum death"), and the 5/50/95 %
//! table of `report.md`.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::group_thousands;
use crate::error::Error;
use crate::fit::{Intervals, Target};
use crate::forecast::SUMMARY_HORIZONS;

/// File name of the quantile table.
pub const FORECAST_QUANTILES_CSV: &str = "forecast_quantiles.csv";
/// File name of the Forecast Hub export.
pub const FORECAST_HUB_CSV: &str = "forecast_hub.csv";

fn csv_err(e: impl std::fmt::Display) -> Error {
    Error::Report(format!("cannot write {FORECAST_QUANTILES_CSV}: {e}"))
}

/// `forecast_quantiles.csv`: one row per day, target and level.
pub fn quantiles_csv(iv: &Intervals) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["date", "target", "quantile", "value"])
        .map_err(csv_err)?;
    for t in Target::ALL {
        for (d, day) in iv.of(t).iter().enumerate() {
            for (l, v) in iv.levels.iter().zip(day) {
                w.write_record([
                    iv.dates[d].to_string(),
                    t.name().to_string(),
                    format!("{l}"),
                    format!("{v:.3}"),
                ])
                .map_err(csv_err)?;
            }
        }
    }
    w.into_inner().map_err(csv_err)
}

/// The Hub's name of a target at `h` days ahead.
pub fn hub_target(t: Target, h: usize) -> String {
    let what = match t {
        Target::Cases => "cum case",
        Target::Deaths => "cum death",
        Target::NewCases => "inc case",
        Target::NewDeaths => "inc death",
    };
    format!("{h} day ahead {what}")
}

/// `forecast_hub.csv`: a `point` row (the median) and one `quantile` row per
/// level, per target and day. `forecast_date` is the origin (the last day of
/// data); `location` is the region's name as the data spells it.
pub fn hub_csv(iv: &Intervals, origin: NaiveDate, location: &str) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "forecast_date",
        "target",
        "target_end_date",
        "location",
        "type",
        "quantile",
        "value",
    ])
    .map_err(csv_err)?;
    let median = iv.levels.iter().position(|l| (l - 0.5).abs() < 1e-9);
    for t in Target::ALL {
        for (d, day) in iv.of(t).iter().enumerate() {
            let target = hub_target(t, d + 1);
            let end = iv.dates[d].to_string();
            let mut row = |kind: &str, q: String, v: f64| {
                w.write_record([
                    origin.to_string(),
                    target.clone(),
                    end.clone(),
                    location.to_string(),
                    kind.to_string(),
                    q,
                    format!("{v:.3}"),
                ])
            };
            if let Some(m) = median {
                row("point", "NA".into(), day[m]).map_err(csv_err)?;
            }
            for (l, v) in iv.levels.iter().zip(day) {
                row("quantile", format!("{l}"), *v).map_err(csv_err)?;
            }
        }
    }
    w.into_inner().map_err(csv_err)
}

/// The Markdown table of the 5/50/95 % quantiles at 7, 14 and 28 days.
pub fn markdown_table(iv: &Intervals) -> String {
    let mut s = String::from(
        "| target | days ahead | date | 5 % | median | 95 % |\n|---|---:|---|---:|---:|---:|\n",
    );
    for t in Target::ALL {
        for &h in &SUMMARY_HORIZONS {
            if h == 0 || h > iv.dates.len() {
                continue;
            }
            let q = |l| {
                iv.quantile(t, l)
                    .map_or("-".into(), |v| group_thousands(v[h - 1]))
            };
            let _ = writeln!(
                s,
                "| {} | {h} | {} | {} | {} | {} |",
                t.name(),
                iv.dates[h - 1],
                q(0.05),
                q(0.5),
                q(0.95)
            );
        }
    }
    s
}
