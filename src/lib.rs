//! # seird-fit
//!
//! Fits a SEIRD epidemic model with a decaying, time-varying transmission rate
//! to cumulative case and death counts, and reports what the fit means.
//!
//! Data flows one way through the crate:
//!
//! * [`data`] reads surveillance data in its real layouts and cuts a training window,
//! * [`model`] integrates the SEIRD equations (and their parameter sensitivities),
//! * [`fit`] scores a trajectory against the data and minimises that loss with
//!   the bound-constrained optimizers of [`optim`],
//! * [`report`] writes `fit.json`, `forecast.csv`, `forecast.png`, `report.md`
//!   and `report.html`,
//! * [`batch`] repeats the fit over many regions in parallel.
//!
//! [`optim`] is generic (it imports nothing from the rest of the crate; CI
//! checks it), [`config`] merges TOML into a [`fit::FitConfig`], and [`cli`]
//! and [`commands`] only wire these together for the `seird-fit` binary.
//!
//! ## Example
//!
//! Fit the bundled demo data (simulated by `seird-fit simulate` from
//! [`model::DEMO_TRUTH`]) and forecast four weeks:
//!
//! ```
//! use std::path::Path;
//! use seird_fit::data::{self, LoadOptions, WindowOptions};
//! use seird_fit::fit::{fit, forecast, FitConfig};
//!
//! let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
//! let ds = data::load(&dir, &LoadOptions::default())?;
//! let demo = ds.find("Demoland", None)?.training_data(&WindowOptions::default())?;
//! let result = fit(&demo, &FitConfig::default())?;
//! let ahead = forecast(&demo, &result.params, &result.config)?;
//! assert_eq!(ahead.dates.len(), demo.dates.len() + 28);
//! // The demo's own data: the fitted curve passes within 5 % of the last day.
//! let last = demo.cases.len() - 1;
//! assert!((ahead.cases[last] / demo.cases[last] - 1.0).abs() < 0.05);
//! assert!(result.loss.msle < 1e-3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod batch;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod error;
pub mod fit;
pub mod forecast;
pub mod io;
pub mod model;
pub mod optim;
pub mod report;
pub mod text;

pub use error::Error;
