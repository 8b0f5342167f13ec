//! Criterion benchmark of the region plot: `forecast.png` for the real Italy
//! fit (Kaggle file, end 2020-04-30, 28 forecast days), drawn and encoded,
//! as a batch writes one per region.
//!
//! Run with `cargo bench --bench plot -- --warm-up-time 1 --measurement-time 3`.

use std::path::PathBuf;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use seird_fit::data::{self, LoadOptions, WindowOptions};
use seird_fit::fit::{self, FitConfig};
use seird_fit::report::plot;

fn data_dir() -> PathBuf {
    std::env::var_os("SEIRD_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

fn benches(c: &mut Criterion) {
    let ds = data::load(
        &data_dir().join("kaggle/train.csv"),
        &LoadOptions::default(),
    )
    .expect("the shared real data set (../shared/data or SEIRD_DATA_DIR)");
    let italy = ds.find("Italy", None).expect("Italy");
    let training = italy
        .training_data(&WindowOptions {
            end: NaiveDate::from_ymd_opt(2020, 4, 30),
            ..Default::default()
        })
        .expect("Italy has a window");
    let cfg = FitConfig::default();
    let result = fit::fit(&training, &cfg).expect("Italy fits");
    let forecast = fit::forecast(&training, &result.params, &cfg).expect("forecast");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("forecast.png");
    c.bench_function("plot/italy_png", |b| {
        b.iter(|| plot::write_forecast_png(&path, &training, &result, &forecast).expect("plot"))
    });
}

criterion_group!(plots, benches);
criterion_main!(plots);
