//! Forecast intervals, the persistence baseline, the scores and `backtest`:
//! WIS and coverage against hand-computed values, no look-ahead (changing
//! the data after an origin leaves that origin's forecast bit-identical),
//! determinism, and the files the commands write.

use std::path::Path;

use approx::assert_relative_eq;
use chrono::NaiveDate;
use seird_fit::data::{self, LoadOptions, RegionSeries, WindowOptions};
use seird_fit::fit::{fit, FitConfig, Forecast, Target, HUB_LEVELS};
use seird_fit::forecast::backtest::{region_rows, BacktestSettings};
use seird_fit::forecast::score::{covered, pit, wis};
use seird_fit::forecast::{baseline, forecast_with_intervals, ForecastOptions, Method};

use crate::{bin, common};

#[test]
fn wis_matches_hand_computed_values() {
    // Quantiles 5/25/50/75/95 % = 2, 4, 5, 6, 8: K = 2 intervals plus the median.
    let levels = [0.05, 0.25, 0.5, 0.75, 0.95];
    let q = [2.0, 4.0, 5.0, 6.0, 8.0];
    // y = 9: |9 - 5| / 2 = 2; alpha 0.1: (6 + 20 * 1) * 0.05 = 1.3;
    // alpha 0.5: (2 + 4 * 3) * 0.25 = 3.5; (2 + 1.3 + 3.5) / 2.5 = 2.72.
    assert_relative_eq!(wis(&levels, &q, 9.0).unwrap(), 2.72, epsilon = 1e-12);
    // y = 5 (the median): widths only, (0.3 + 0.5) / 2.5 = 0.32.
    assert_relative_eq!(wis(&levels, &q, 5.0).unwrap(), 0.32, epsilon = 1e-12);
    // y = 3: |3 - 5| / 2 = 1; alpha 0.1 inside: 0.3; alpha 0.5: (2 + 4) * 0.25
    // = 1.5; 2.8 / 2.5 = 1.12.
    assert_relative_eq!(wis(&levels, &q, 3.0).unwrap(), 1.12, epsilon = 1e-12);
    assert!(wis(&[0.25, 0.75], &[1.0, 2.0], 1.5).is_none(), "no median");
}

#[test]
fn wis_equals_the_mean_quantile_score() {
    // Bracher et al. (2021), section 2.2: with the median and K symmetric
    // intervals, WIS = sum over the 2K + 1 quantiles of the quantile
    // (pinball) loss, divided by K + 1/2. An independent route to the same
    // number.
    let q: Vec<f64> = HUB_LEVELS
        .iter()
        .map(|l| 100.0 + 80.0 * (l - 0.4f64).powi(3))
        .collect();
    for y in [50.0, 99.0, 100.0, 101.5, 130.0] {
        let pinball: f64 = HUB_LEVELS
            .iter()
            .zip(&q)
            .map(|(&l, &v)| ((if y <= v { 1.0 } else { 0.0 }) - l) * (v - y))
            .sum();
        assert_relative_eq!(
            wis(&HUB_LEVELS, &q, y).unwrap(),
            pinball / 11.5,
            max_relative = 1e-12
        );
    }
}

#[test]
fn coverage_and_pit_by_hand() {
    let levels = [0.05, 0.25, 0.5, 0.75, 0.95];
    let q = [2.0, 4.0, 5.0, 6.0, 8.0];
    assert_eq!(covered(&levels, &q, 4.0, 0.5), Some(true));
    assert_eq!(covered(&levels, &q, 6.5, 0.5), Some(false));
    assert_eq!(covered(&levels, &q, 6.5, 0.9), Some(true));
    assert_eq!(covered(&levels, &q, 8.5, 0.9), Some(false));
    assert_eq!(covered(&levels, &q, 5.0, 0.8), None, "no 10 % quantile");
    assert_relative_eq!(pit(&levels, &q, 7.0), 0.85);
}

#[test]
fn baseline_is_seeded() {
    let cum: Vec<f64> = (0..60u32).map(|d| f64::from(d * d)).collect();
    let a = baseline::quantiles(&cum, 28, &HUB_LEVELS, 500, 7);
    let b = baseline::quantiles(&cum, 28, &HUB_LEVELS, 500, 7);
    let c = baseline::quantiles(&cum, 28, &HUB_LEVELS, 500, 8);
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Its steps are symmetric, so the central half of the paths brackets
    // persistence.
    let p = baseline::persistence(&cum, 28);
    for d in [6, 13, 27] {
        assert!(a.0[d][6] <= p[d] && p[d] <= a.0[d][16], "day {d}");
    }
}

fn italy() -> Option<RegionSeries> {
    let dir = common::shared_data()?;
    let ds = data::load(&dir.join("kaggle/train.csv"), &LoadOptions::default()).unwrap();
    Some(ds.find("Italy", None).unwrap().clone())
}

fn window(end: NaiveDate) -> WindowOptions {
    WindowOptions {
        end: Some(end),
        ..WindowOptions::default()
    }
}

fn fast_config() -> FitConfig {
    let mut c = FitConfig::default();
    // Two starts keep the test quick; the property does not depend on it.
    c.optimizer.starts = 2;
    c.forecast_days = 28;
    c
}

#[test]
fn no_look_ahead_data_after_the_origin_changes_nothing() {
    let Some(italy) = italy() else { return };
    let origin = NaiveDate::from_ymd_opt(2020, 6, 30).unwrap();
    let config = fast_config();
    let opts = ForecastOptions {
        method: Method::Blend,
        calibration_origins: 4,
        ..ForecastOptions::default()
    };
    let forecast_at = |series: &RegionSeries, opts: &ForecastOptions| {
        let data = series.training_data(&window(origin)).unwrap();
        let result = fit(&data, &config).unwrap();
        forecast_with_intervals(&data, &result, opts).unwrap()
    };
    let (f0, r0) = forecast_at(&italy, &opts);
    // What happens after the origin: a tenfold wave, and a correction.
    let mut changed = italy.clone();
    for (j, d) in changed.dates.iter().enumerate() {
        if *d > origin {
            changed.cases[j] *= 10.0;
            changed.deaths[j] = 0.0;
        }
    }
    let (f1, r1) = forecast_at(&changed, &opts);
    let same = |f0: Forecast, f1: Forecast| {
        let (i0, i1) = (f0.intervals.unwrap(), f1.intervals.unwrap());
        assert_eq!(i0.dates.len(), 28);
        for (a, b) in i0
            .values
            .iter()
            .flatten()
            .flatten()
            .zip(i1.values.iter().flatten().flatten())
        {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    };
    same(f0, f1);
    assert_eq!(r0, r1);
    assert_eq!(r0.pseudo_origins, 4);
    assert!(r0.calibrated);
    // The data-only trend calibrates on a pseudo-origin every day, and the
    // ensemble on the refits: neither sees past the origin either.
    for method in [Method::Trend, Method::Ensemble] {
        let o = ForecastOptions { method, ..opts };
        let ((f0, r0), (f1, r1)) = (forecast_at(&italy, &o), forecast_at(&changed, &o));
        same(f0, f1);
        assert_eq!(r0, r1);
        let expect = if method == Method::Trend { 4 * 7 } else { 4 };
        assert_eq!(r0.pseudo_origins, expect, "{method}");
    }

    // The backtest's forecasts too: only the observations and scores move.
    let settings = BacktestSettings {
        origins: vec![origin],
        horizons: vec![7, 28],
        methods: vec![Method::Blend, Method::Model, Method::Trend],
        forecast: opts,
        config,
        seed: 3,
        baseline_samples: 200,
    };
    let (a, _) = region_rows(&italy, &WindowOptions::default(), &settings);
    let (b, _) = region_rows(&changed, &WindowOptions::default(), &settings);
    assert_eq!(a.len(), 3 * 4 * 2);
    for (x, y) in a.iter().zip(&b) {
        for (u, v) in [
            (x.point, y.point),
            (x.q05, y.q05),
            (x.q95, y.q95),
            (x.baseline_point, y.baseline_point),
        ] {
            assert_eq!(u.to_bits(), v.to_bits());
        }
        if x.target == Target::Cases {
            assert_ne!(x.observed, y.observed);
        }
    }
}

#[test]
fn intervals_are_ordered_and_anchored_on_the_last_observation() {
    let Some(italy) = italy() else { return };
    let origin = NaiveDate::from_ymd_opt(2020, 5, 31).unwrap();
    let data = italy.training_data(&window(origin)).unwrap();
    let result = fit(&data, &fast_config()).unwrap();
    let last = *data.cases.last().unwrap();
    for method in [
        Method::Anchored,
        Method::Blend,
        Method::Model,
        Method::Trend,
        Method::Ensemble,
    ] {
        let opts = ForecastOptions {
            method,
            calibration_origins: 3,
            ..ForecastOptions::default()
        };
        let (f, report) = forecast_with_intervals(&data, &result, &opts).unwrap();
        let iv = f.intervals.unwrap();
        assert_eq!(iv.levels, HUB_LEVELS);
        for t in Target::ALL {
            for day in iv.of(t) {
                assert!(day.windows(2).all(|w| w[0] <= w[1]), "{method} {t:?}");
                assert!(day.iter().all(|v| v.is_finite() && *v >= 0.0));
            }
        }
        if method != Method::Model {
            // Increases are never negative: the cumulative forecast starts at
            // the last observation.
            assert!(iv.of(Target::Cases)[0][0] >= last);
        }
        assert_eq!(report.method, method.name());
        assert_eq!(report.horizons.len(), 3 * 4);
    }
}

fn tiny_data(dir: &Path) {
    // A plain date,cases,deaths file: a slow-growing epidemic.
    let mut s = String::from("date,cases,deaths\n");
    let d0 = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
    for d in 0..120i64 {
        let c = (1000.0 / (1.0 + (-(d as f64 - 50.0) / 9.0).exp())).round() + d as f64;
        let x = (c * 0.03).floor();
        s.push_str(&format!("{},{c},{x}\n", d0 + chrono::Duration::days(d)));
    }
    std::fs::write(dir.join("plain.csv"), s).unwrap();
}

#[test]
fn fit_writes_quantiles_hub_export_and_the_forecast_block() {
    let tmp = tempfile::tempdir().unwrap();
    tiny_data(tmp.path());
    let (code, _, err) = bin::run3(
        tmp.path(),
        &[
            "--country",
            "plain",
            "--data",
            "plain.csv",
            "--population-value",
            "100000",
            "--end",
            "2020-05-31",
            "--forecast-days",
            "14",
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let dir = std::fs::read_dir(tmp.path().join("out"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let q = std::fs::read_to_string(dir.join("forecast_quantiles.csv")).unwrap();
    let mut lines = q.lines();
    assert_eq!(lines.next(), Some("date,target,quantile,value"));
    assert_eq!(lines.count(), 14 * 4 * 23);
    assert!(q.contains("2020-06-14,new_deaths,0.99,"));
    let hub = std::fs::read_to_string(dir.join("forecast_hub.csv")).unwrap();
    assert!(hub.starts_with("forecast_date,target,target_end_date,location,type,quantile,value\n"));
    assert!(hub.contains("2020-05-31,7 day ahead cum death,2020-06-07,"));
    assert!(hub.contains(",point,NA,"));
    assert_eq!(hub.lines().count(), 1 + 14 * 4 * 24);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("fit.json")).unwrap()).unwrap();
    let block = &json["forecast"];
    assert_eq!(block["method"], "trend");
    assert_eq!(block["spacing_days"], 1);
    assert_eq!(block["origin"], "2020-05-31");
    // Horizons 7 and 14 fit in a 14-day forecast; 28 does not.
    assert_eq!(block["horizons"].as_array().unwrap().len(), 2 * 4);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("| target | days ahead | date | 5 % | median | 95 % |"),
        "{md}"
    );

    // --forecast-method model is accepted, a made-up one is a one-line error.
    let out = bin::run(
        tmp.path(),
        &[
            "--country",
            "plain",
            "--data",
            "plain.csv",
            "--population-value",
            "1e5",
            "--forecast-method",
            "ruler",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ruler"));
}

#[test]
fn backtest_writes_its_files_and_repeats_itself_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    tiny_data(tmp.path());
    let args = |out: &str| {
        vec![
            "backtest".to_string(),
            "--data".into(),
            "plain.csv".into(),
            "--population-value".into(),
            "100000".into(),
            "--from".into(),
            "2020-04-20".into(),
            "--to".into(),
            "2020-05-20".into(),
            "--every".into(),
            "15".into(),
            "--horizons".into(),
            "7,14".into(),
            "--forecast-method".into(),
            "blend,model".into(),
            "--calibration-origins".into(),
            "3".into(),
            "--out".into(),
            out.into(),
            "--quiet".into(),
        ]
    };
    let run = |out: &str| {
        let a = args(out);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        bin::run3(tmp.path(), &a)
    };
    let (code, _, err) = run("a");
    assert_eq!(code, 0, "{err}");
    let csv_a = std::fs::read_to_string(tmp.path().join("a/backtest.csv")).unwrap();
    // 3 origins x 2 methods x 4 targets x 2 horizons.
    assert_eq!(csv_a.lines().count(), 1 + 3 * 2 * 4 * 2);
    assert!(csv_a.starts_with("region,origin,method,target,horizon,date,observed,point,"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("a/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["forecasts"], 3);
    assert_eq!(summary["cells"].as_array().unwrap().len(), 2 * 4 * 2);
    let html = std::fs::read_to_string(tmp.path().join("a/index.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(!html.contains("http://") || html.contains("xmlns"));
    // The same command gives the same numbers.
    let (code, _, _) = run("b");
    assert_eq!(code, 0);
    assert_eq!(
        csv_a,
        std::fs::read_to_string(tmp.path().join("b/backtest.csv")).unwrap()
    );
    // --resume reuses every region and writes the same rows.
    let mut a = args("a");
    a.push("--resume".into());
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, _, _) = bin::run3(tmp.path(), &a);
    assert_eq!(code, 0);
    assert_eq!(
        csv_a,
        std::fs::read_to_string(tmp.path().join("a/backtest.csv")).unwrap()
    );
}

#[test]
fn backtest_refuses_bad_horizons_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin::run(
        tmp.path(),
        &[
            "backtest",
            "--data",
            "x.csv",
            "--from",
            "2020-04-01",
            "--to",
            "2020-05-01",
            "--horizons",
            "7,x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(bin::one_error_line(&out).contains("--horizons"));
}

#[test]
fn ties_are_split_in_the_randomized_coverage_on_real_data() {
    // Mongolia reported no death until 2020-12 (JHU): its deaths forecasts
    // are "no new death" and so are the outcomes, a tie at every level.
    let Some(dir) = common::shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = dir.join("jhu");
    let (code, _, err) = bin::run3(
        tmp.path(),
        &[
            "backtest",
            "--data",
            data.to_str().unwrap(),
            "--countries",
            "Mongolia,Italy",
            "--from",
            "2020-05-01",
            "--to",
            "2020-09-30",
            "--every",
            "14",
            "--horizons",
            "7,14",
            // The short flags every batch-like command takes.
            "-o",
            "bt",
            "-q",
            "-j",
            "2",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "-q: {err}");
    let mut reader = csv::Reader::from_path(tmp.path().join("bt/backtest.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (q25, q75, obs) = (col("q25"), col("q75"), col("observed"));
    let (raw, split) = (col("covered_50"), col("covered_50_randomized"));
    let (mut ties, mut others) = (0, 0);
    for row in reader.records() {
        let row = row.unwrap();
        let f = |i: usize| row[i].parse::<f64>().unwrap();
        let covered = &row[raw] == "true";
        if f(q25) == f(q75) && f(q25) == f(obs) {
            // A tie is covered, and split it counts between 0 and 1.
            ties += 1;
            assert!(covered);
            assert!(f(split) > 0.0 && f(split) < 1.0, "{:?}", row);
        } else if f(obs) != f(q25) && f(obs) != f(q75) {
            // Elsewhere the two agree.
            others += 1;
            assert_eq!(f(split), f64::from(u8::from(covered)), "{:?}", row);
        }
    }
    assert!(ties >= 10, "Mongolia's deaths give ties: {ties}");
    assert!(others >= 20, "{others}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("bt/summary.json")).unwrap())
            .unwrap();
    for cell in summary["cells"].as_array().unwrap() {
        let raw = cell["coverage_50"].as_f64().unwrap();
        let split = cell["coverage_50_randomized"].as_f64().unwrap();
        assert!(split <= raw + 1e-12, "{cell}");
        assert!(cell["ties_50"].as_f64().unwrap() <= raw);
    }
}
