//! Criterion benchmarks of the forecast hot paths on the real Italy series
//! (end 2020-06-30): one forecast with calibrated intervals by the default
//! `trend` method (the fit's model run plus 56 daily pseudo-origins, no
//! refit) and by `blend` (the model run plus 8 pseudo-origin refits and the
//! quantiles), the quantiles alone once the refits are cached (what each
//! extra method costs a backtest), the persistence baseline's quantiles
//! from 1,000 sample paths (scored beside every backtest forecast), and the
//! scores of one quantile forecast.
//!
//! Run with `cargo bench --bench forecast`.

use std::path::PathBuf;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use seird_fit::data::{self, LoadOptions, TrainingData, WindowOptions};
use seird_fit::fit::{fit, FitConfig, HUB_LEVELS};
use seird_fit::forecast::{
    baseline, fit_path, forecast_with_intervals, predict, score, FitCache, ForecastOptions, Method,
};

fn italy() -> TrainingData {
    let dir = std::env::var_os("SEIRD_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let ds = data::load(&dir.join("kaggle/train.csv"), &LoadOptions::default()).expect("data");
    ds.find("Italy", None)
        .expect("Italy")
        .training_data(&WindowOptions {
            end: NaiveDate::from_ymd_opt(2020, 6, 30),
            ..WindowOptions::default()
        })
        .expect("window")
}

fn benches(c: &mut Criterion) {
    let data = italy();
    let config = FitConfig::default();
    let result = fit(&data, &config).expect("fit");
    let trend = ForecastOptions::default();
    c.bench_function("forecast_with_intervals_italy", |b| {
        b.iter(|| forecast_with_intervals(&data, &result, &trend).expect("forecast"))
    });
    let opts = ForecastOptions {
        method: Method::Blend,
        ..ForecastOptions::default()
    };
    c.bench_function("forecast_with_intervals_italy_blend", |b| {
        b.iter(|| forecast_with_intervals(&data, &result, &opts).expect("forecast"))
    });
    let main = fit_path(&data, &config, 28).expect("path");
    let mut cache = FitCache::default();
    let _ = predict(&data, &main, &config, &opts, 28, &mut cache);
    c.bench_function("predict_cached_refits_italy", |b| {
        b.iter(|| predict(&data, &main, &config, &opts, 28, &mut cache))
    });
    c.bench_function("baseline_quantiles_italy_1000_paths", |b| {
        b.iter(|| baseline::quantiles(&data.cases, 28, &HUB_LEVELS, 1000, 7))
    });
    let p = predict(&data, &main, &config, &opts, 28, &mut cache);
    let q = &p.intervals.values[0][13];
    c.bench_function("score_wis_23_levels", |b| {
        b.iter(|| score::wis(&HUB_LEVELS, q, std::hint::black_box(250_000.0)))
    });
}

criterion_group! {
    name = forecast;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(forecast);
