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
//! * `report.html` — the same page rendered for a browser, plot embedded ([`html`]),
//! * `fit.json` — the [`FitResult`], written last: a region whose `fit.json`
//!   exists and parses is complete, which is what `batch --resume` relies on.
//!
//! Every file, the PNG included, goes through [`crate::io::write_atomic`]
//! (a temp file, then a rename), so an interrupted run leaves whole files or
//! none.
//!
//! For many regions, [`summary`] writes `summary.csv` and `summary.json`, and
//! [`index`] builds the batch's self-contained `index.html`.
//!
//! [`optim_plot`] draws the plots of `seird-fit optimize`.

pub mod backtest;
pub mod html;
pub mod index;
pub mod markdown;
pub mod optim_plot;
pub mod plot;
pub mod profile_plot;
pub mod provenance;
pub mod quality;
pub mod quantiles;
pub mod summary;
mod table;

use std::path::{Path, PathBuf};

use crate::data::TrainingData;
use crate::error::Error;
use crate::fit::{FitResult, Forecast};
use crate::io::write_atomic;

pub use markdown::summary_text;
pub use table::{check_forecast, forecast_rows, ForecastRow, Phase};

/// File name of the fit result; written last, so its presence marks a
/// completed region.
pub const FIT_JSON: &str = "fit.json";
/// File name of the per-day table.
pub const FORECAST_CSV: &str = "forecast.csv";
/// File name of the fit plot.
pub const FORECAST_PNG: &str = "forecast.png";
/// File name of the human-readable report.
pub const REPORT_MD: &str = "report.md";
/// File name of the report rendered as a self-contained web page.
pub const REPORT_HTML: &str = "report.html";
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
    /// `report.html`.
    pub report_html: PathBuf,
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
            report_html: dir.join(REPORT_HTML),
            thumbnail: dir.join(THUMB_SVG),
        }
    }

    /// Every path, `fit.json` last (the order they are written in).
    pub fn all(&self) -> [&Path; 6] {
        [
            &self.forecast_csv,
            &self.forecast_png,
            &self.thumbnail,
            &self.report_md,
            &self.report_html,
            &self.fit_json,
        ]
    }
}

/// Which plots [`write_region_with`] draws. Drawing and encoding the
/// full-size PNG is about a fifth of a batch's CPU time (`perf`, see
/// reports/performance.md), so a batch draws thumbnails by default and a
/// region's full plot is drawn on demand (`seird-fit --country X`, or
/// `batch --plots full`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plots {
    /// `forecast.png` and `thumb.svg`.
    #[default]
    Full,
    /// `thumb.svg` only.
    Thumb,
    /// Neither.
    None,
}

impl Plots {
    /// The name as `--plots` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Plots::Full => "full",
            Plots::Thumb => "thumb",
            Plots::None => "none",
        }
    }
}

impl std::str::FromStr for Plots {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(Plots::Full),
            "thumb" => Ok(Plots::Thumb),
            "none" => Ok(Plots::None),
            other => Err(format!("'{other}' is not one of full, thumb, none")),
        }
    }
}

impl std::fmt::Display for Plots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl RegionFiles {
    /// The files a region written with `plots` must have to be complete,
    /// `fit.json` last.
    pub fn required(&self, plots: Plots) -> Vec<&Path> {
        self.all()
            .into_iter()
            .filter(|p| match plots {
                Plots::Full => true,
                Plots::Thumb => *p != self.forecast_png.as_path(),
                Plots::None => *p != self.forecast_png.as_path() && *p != self.thumbnail.as_path(),
            })
            .collect()
    }
}

/// Writes a region's report files into `dir` (created if needed), each
/// atomically, `fit.json` last: [`write_region_with`] with every plot.
pub fn write_region(
    dir: &Path,
    data: &TrainingData,
    result: &FitResult,
    forecast: &Forecast,
) -> Result<RegionFiles, Error> {
    write_region_with(dir, data, result, forecast, Plots::Full, None)
}

/// Writes a region's report files into `dir` as one set, with the plots
/// `plots` asks for and a `provenance` block appended to `fit.json` when one
/// is given (readers of [`FitResult`] ignore it). The files are written
/// (each atomically, `fit.json` last) into a temporary directory beside
/// `dir`, which then replaces `dir` whole ([`crate::io::replace_dir`]): an
/// interrupted or failed write leaves the old set as it was, never a mix of
/// old and new (so no file in `dir` shows another fit); a killed run's
/// temporary directory is removed by the next batch into the same output
/// directory.
pub fn write_region_with(
    dir: &Path,
    data: &TrainingData,
    result: &FitResult,
    forecast: &Forecast,
    plots: Plots,
    provenance: Option<&provenance::Provenance>,
) -> Result<RegionFiles, Error> {
    let tmp = crate::io::temp_dir_beside(dir)?;
    write_region_files(tmp.path(), data, result, forecast, plots, provenance)?;
    crate::io::replace_dir(tmp, dir)?;
    Ok(RegionFiles::in_dir(dir))
}

fn write_region_files(
    dir: &Path,
    data: &TrainingData,
    result: &FitResult,
    forecast: &Forecast,
    plots: Plots,
    provenance: Option<&provenance::Provenance>,
) -> Result<(), Error> {
    let files = RegionFiles::in_dir(dir);

    let rows = forecast_rows(data, forecast)?;
    write_atomic(&files.forecast_csv, &table::to_csv(&rows)?)?;

    let png = if plots == Plots::Full {
        let png = plot::forecast_png(data, result, forecast)?;
        write_atomic(&files.forecast_png, &png)?;
        Some(png)
    } else {
        remove_stale(&files.forecast_png)?;
        None
    };
    if plots == Plots::None {
        remove_stale(&files.thumbnail)?;
    } else {
        write_atomic(
            &files.thumbnail,
            plot::thumbnail_svg(data, forecast)?.as_bytes(),
        )?;
    }
    let mut md = markdown::report_md(data, result, forecast);
    if plots != Plots::Full {
        // The page links the plot by file name; point it at the plot that
        // exists (a local edit here keeps the page's text in one place).
        let link = format!("]({FORECAST_PNG})");
        md = match plots {
            Plots::Thumb => md.replace(&link, &format!("]({THUMB_SVG})")),
            _ => md.replace(&link, "]()"),
        };
    }
    write_atomic(&files.report_md, md.as_bytes())?;
    let title = format!("SEIRD fit: {}", data.key.display_name());
    let page = html::render_page(&title, &md, png.as_deref().map(|p| (FORECAST_PNG, p)));
    write_atomic(&files.report_html, page.as_bytes())?;

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

    let json_err = |e: serde_json::Error| Error::Report(format!("cannot serialise fit.json: {e}"));
    let mut value = serde_json::to_value(result).map_err(json_err)?;
    if let (Some(p), Some(obj)) = (provenance, value.as_object_mut()) {
        obj.insert(
            "provenance".into(),
            serde_json::to_value(p).map_err(json_err)?,
        );
    }
    let json = serde_json::to_string_pretty(&value).map_err(json_err)?;
    write_atomic(&files.fit_json, json.as_bytes())?;
    Ok(())
}

/// Removes a file an earlier run wrote, if it is there.
fn remove_stale(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Reads a region's `fit.json`; `None` when it is missing or unreadable
/// (an interrupted or failed region).
pub fn read_fit_json(dir: &Path) -> Option<FitResult> {
    let bytes = std::fs::read(dir.join(FIT_JSON)).ok()?;
    serde_json::from_slice(&bytes).ok()
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
