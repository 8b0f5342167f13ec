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
//! * [`report`] writes `fit.json`, `forecast.csv`, `forecast.png` and `report.md`,
//! * [`batch`] repeats the fit over many regions in parallel.
//!
//! [`cli`] and [`commands`] only wire these together for the `seird-fit` binary.

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

pub use error::Error;
