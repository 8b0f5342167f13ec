//! Reports: what a fit means, for people and for programs.
//!
//! For one region [`write_region`] writes, into the region's directory,
//!
//! * `forecast.csv` — observed and fitted series, compartments and R(t) per day
//!   ([`forecast_rows`]),
//! * `forecast.png` — observed vs fitted cumulative counts (log scale) and R(t)
//!   ([`plot`]),
//! * `thumb.svg` — a small text-free version of the fit plot for the batch index,
//! * `report.md` — a human-readable page ([`markdown`]),
//! * `forecast_quantiles.csv` and `forecast_hub.csv` — the forecast's
//!   quantiles, when it has intervals ([`quantiles`]),
//! * `fit.json` — the [`FitResult`], written last: a region whose `fit.json`
//!   exists and parses is complete, which is what `batch --resume` relies on.
//!
//! Every file, the PNG included, goes through [`crate::io::write_atomic`]
//! (a temp file, then a rename), so an interrupted run leaves whole files or
//! none.
//!
//! For many regions, [`summary`] writes `summary.csv` and `summary.json`, and
//! [`index`] builds the batch's self-contained `index.html`.

pub mod backtest;
pub mod index;
pub mod markdown;
pub mod plot;
pub mod quantiles;
pub mod summary;
mod table;

use std::path::{Path, PathBuf};

use crate::data::TrainingData;
use crate::error::Error;
use crate::fit::{FitResult, Forecast};
use crate::io::write_atomic;

pub use markdown::summary_text;
pub use table::{forecast_rows, ForecastRow, Phase};

/// File name of the fit result; written last, so its presence marks a
/// completed region.
pub const FIT_JSON: &str = "fit.json";
/// File name of the per-day table.
pub const FORECAST_CSV: &str = "forecast.csv";
/// File name of the fit plot.
pub const FORECAST_PNG: &str = "forecast.png";
/// File name of the human-readable report.
pub const REPORT_MD: &str = "report.md";
/// File name of the small plot used by the batch index.
pub const THUMB_SVG: &str = "thumb.svg";

/// The files [`write_region`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionFiles {
    /// `fit.json`.
    pub fit_json: PathBuf,
    /// `forecast.csv`.
    pub forecast_csv: PathBuf,
    /// `forecast.png`.
    pub forecast_png: PathBuf,
    /// `report.md`.
    pub report_md: PathBuf,
    /// `thumb.svg`.
    pub thumbnail: PathBuf,
}

impl RegionFiles {
    /// The paths of a region's files inside `dir` (whether or not they exist).
    pub fn in_dir(dir: &Path) -> Self {
        RegionFiles {
            fit_json: dir.join(FIT_JSON),
            forecast_csv: dir.join(FORECAST_CSV),
            forecast_png: dir.join(FORECAST_PNG),
            report_md: dir.join(REPORT_MD),
            thumbnail: dir.join(THUMB_SVG),
        }
    }

    /// Every path, `fit.json` last (the order they are written in).
    pub fn all(&self) -> [&Path; 5] {
        [
            &self.forecast_csv,
            &self.forecast_png,
            &self.thumbnail,
            &self.report_md,
            &self.fit_json,
        ]
    }
}

/// Writes a region's report files into `dir` (created if needed), each
/// atomically, `fit.json` last.
pub fn write_region(
    dir: &Path,
    data: &TrainingData,
    result: &FitResult,
    forecast: &Forecast,
) -> Result<RegionFiles, Error> {
    check_forecast(forecast)?;
    let files = RegionFiles::in_dir(dir);

    let rows = forecast_rows(data, forecast);
    write_atomic(&files.forecast_csv, &table::to_csv(&rows)?)?;

    plot::write_forecast_png(&files.forecast_png, data, result, forecast)?;
    write_atomic(
        &files.thumbnail,
        plot::thumbnail_svg(data, forecast)?.as_bytes(),
    )?;
    write_atomic(
        &files.report_md,
        markdown::report_md(data, result, forecast).as_bytes(),
    )?;

    if let Some(iv) = &forecast.intervals {
        write_atomic(
            &dir.join(quantiles::FORECAST_QUANTILES_CSV),
            &quantiles::quantiles_csv(iv)?,
        )?;
        let origin = data.dates[data.dates.len() - 1];
        write_atomic(
            &dir.join(quantiles::FORECAST_HUB_CSV),
            &quantiles::hub_csv(iv, origin, &data.key.display_name())?,
        )?;
    }

    let json = serde_json::to_string_pretty(result)
        .map_err(|e| Error::Report(format!("cannot serialise fit.json: {e}")))?;
    write_atomic(&files.fit_json, json.as_bytes())?;
    Ok(files)
}

/// Reads a region's `fit.json`; `None` when it is missing or unreadable
/// (an interrupted or failed region).
pub fn read_fit_json(dir: &Path) -> Option<FitResult> {
    let bytes = std::fs::read(dir.join(FIT_JSON)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A forecast whose columns disagree in length would silently misalign the
/// report, so it is refused up front.
fn check_forecast(f: &Forecast) -> Result<(), Error> {
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

/// `1234567.8` -> `1,234,568`: counts of persons read better grouped.
pub fn group_thousands(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let rounded = x.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0.0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0.0), "0");
        assert_eq!(group_thousands(999.4), "999");
        assert_eq!(group_thousands(1000.0), "1,000");
        assert_eq!(group_thousands(60_461_826.0), "60,461,826");
        assert_eq!(group_thousands(-1234.0), "-1,234");
    }
}
