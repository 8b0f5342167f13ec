//! Shared test helpers: where the real data is, and synthetic data sets.

use std::path::PathBuf;

use chrono::NaiveDate;
use seird_fit::data::{self, DeclinePolicy, LoadOptions, RegionKey, TrainingData, WindowOptions};
use seird_fit::model::{simulate, OdeSettings, OdeSolver, Params};

/// `../shared/data` beside the crate, or `SEIRD_DATA_DIR`. `None` when it is
/// absent outside CI; in CI (`CI=true`) its absence fails the test.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SEIRD_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.join("jhu").is_dir() && dir.join("kaggle").is_dir() {
        Some(dir)
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "real data not found at {} (set SEIRD_DATA_DIR)",
            dir.display()
        );
    } else {
        eprintln!("skipping: real data not found at {}", dir.display());
        None
    }
}

/// Noise-free training data simulated from `truth` (counts rounded to whole persons
/// only when `round`).
pub fn synthetic(
    truth: &Params,
    population: f64,
    c0: f64,
    days: usize,
    round: bool,
) -> TrainingData {
    let ode = OdeSettings {
        rtol: 1e-12,
        atol: 1e-10,
        max_steps: 1_000_000,
        solver: OdeSolver::Native,
    };
    let tr = simulate(truth, population, c0, days, &ode).expect("truth solves");
    let r = |v: Vec<f64>| {
        if round {
            v.into_iter().map(f64::round).collect()
        } else {
            v
        }
    };
    let d0 = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
    TrainingData {
        key: RegionKey::country("Synthland"),
        population,
        dates: (0..days as i64)
            .map(|d| d0 + chrono::Duration::days(d))
            .collect(),
        cases: r(tr.cases()),
        deaths: r(tr.deaths()),
        held_out_dates: vec![],
        held_out_cases: vec![],
        held_out_deaths: vec![],
        decline_days: 0,
        decline_policy: DeclinePolicy::Keep,
    }
}

/// A country of the real JHU global data (`shared_data()/jhu`), trained to
/// 2020-04-30, the date of the global batch; `None` without the data.
pub fn jhu_to_2020_04_30(country: &str) -> Option<TrainingData> {
    let dir = shared_data()?;
    let ds = data::load(&dir.join("jhu"), &LoadOptions::default()).unwrap();
    Some(
        ds.find(country, None)
            .unwrap()
            .training_data(&WindowOptions {
                end: NaiveDate::from_ymd_opt(2020, 4, 30),
                ..Default::default()
            })
            .unwrap(),
    )
}

/// The demo region of the repository's own `data/` (made by `seird-fit
/// simulate`; its truth is `data/truth.json`), over its whole window.
pub fn demo_training_data() -> TrainingData {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ds = data::load(&root.join("data"), &LoadOptions::default()).unwrap();
    ds.find("Demoland", None)
        .unwrap()
        .training_data(&WindowOptions::default())
        .unwrap()
}
