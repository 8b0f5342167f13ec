//! Criterion benchmarks of the hot paths, on the real Italy series (end
//! 2020-04-30, the fixture of tests/fit.rs): one loss evaluation (one ODE
//! solve + MSLE), one gradient by 2-point, 3-point and sensitivities, one
//! full fit, the profile intervals of that fit (`profiles/italy`, the
//! largest part of a default batch region's CPU), and a batch of 20
//! regions fitted in parallel.
//!
//! Run with `cargo bench --bench loss`; `benches/compare.sh` reads the
//! medians from `target/criterion/*/new/estimates.json`.

use std::path::PathBuf;

use argmin::core::Gradient;
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rayon::prelude::*;
use seird_fit::data::{self, LoadOptions, TrainingData, WindowOptions};
use seird_fit::fit::{fit, FitConfig, GradientMethod, SeirdObjective};

fn data_dir() -> PathBuf {
    std::env::var_os("SEIRD_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

fn end() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2020, 4, 30)
}

/// Training data of every eligible region of the Kaggle file.
fn regions() -> Vec<TrainingData> {
    let ds = data::load(
        &data_dir().join("kaggle/train.csv"),
        &LoadOptions::default(),
    )
    .expect("the shared real data set (../shared/data or SEIRD_DATA_DIR)");
    ds.regions
        .iter()
        .filter_map(|r| {
            r.training_data(&WindowOptions {
                end: end(),
                ..Default::default()
            })
            .ok()
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let all = regions();
    let italy = all
        .iter()
        .find(|r| r.key.country == "Italy" && r.key.province.is_none())
        .expect("Italy")
        .clone();
    let cfg = FitConfig::default();
    let start = cfg.start;
    let x0 = start.to_array().to_vec();

    c.bench_function("loss/italy", |b| {
        let obj = SeirdObjective::new(&italy, &cfg).expect("valid bounds");
        b.iter(|| obj.loss(&start).expect("solves"))
    });
    for g in [
        GradientMethod::TwoPoint,
        GradientMethod::ThreePoint,
        GradientMethod::Sensitivity,
    ] {
        let mut cfg = cfg;
        cfg.optimizer.gradient = g;
        c.bench_function(&format!("gradient/italy/{}", g.name()), |b| {
            // A fresh objective per gradient, so its one-point cache cannot help.
            b.iter_batched(
                || SeirdObjective::new(&italy, &cfg).expect("valid bounds"),
                |obj| obj.gradient(&x0).expect("gradient"),
                BatchSize::SmallInput,
            )
        });
    }
    c.bench_function("fit/italy", |b| b.iter(|| fit(&italy, &cfg).expect("fit")));
    let fitted = fit(&italy, &cfg).expect("fit");
    // The answer the timing stands next to.
    let answer = seird_fit::fit::identify::profiles(&italy, &fitted);
    eprintln!(
        "profiles/italy: msle {:.4e}, threshold {:.4e}, intervals {:?}",
        answer.loss,
        answer.threshold,
        answer.intervals()
    );
    c.bench_function("profiles/italy", |b| {
        b.iter(|| seird_fit::fit::identify::profiles(&italy, &fitted))
    });
    // 20 regions: every 12th eligible region, a spread of sizes and lengths.
    let twenty: Vec<_> = all.iter().step_by(12).take(20).cloned().collect();
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.bench_function("20-regions", |b| {
        b.iter(|| {
            twenty
                .par_iter()
                .map(|r| fit(r, &cfg).map(|f| f.loss.msle).unwrap_or(f64::NAN))
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches_all, benches);
criterion_main!(benches_all);
