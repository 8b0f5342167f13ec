//! What a reader and a program get from a fit: the report's caveats and
//! whole-window fit quality (hand-built fits, and real regions through the
//! binary), `report.html`, and the machine-readable fields (`at_bound` an
//! array, `error` null, whole counts, dates and forecast columns,
//! `provenance`).

use crate::bin::run3;
use crate::common::shared_data;
use crate::report_common::*;

use seird_fit::data::RegionKey;
use seird_fit::report::{self, summary::Summary, summary::SummaryRow};

fn report_md(l: f64, r_0: f64) -> String {
    let (data, mut result, forecast) = outbreak(RegionKey::country("Italy"), 30, 10, 14);
    result.params.l = l;
    result.params.r_0 = r_0;
    let tmp = tempfile::tempdir().unwrap();
    let files = report::write_region(tmp.path(), &data, &result, &forecast).unwrap();
    std::fs::read_to_string(files.report_md).unwrap()
}

#[test]
fn a_change_dated_before_take_off_gets_a_caveat() {
    // Take-off is where cases reach a tenth of the last count (775 on day
    // 29), 78: 10 e^{0.15 t} first does on day 14, 2020-03-15.
    let early = report_md(5.0, 3.0);
    assert!(early.contains("**Caveat:**"), "{early}");
    assert!(early.contains("reached 78 (on 2020-03-15)"), "{early}");
    // L = 20 puts the midpoint on 2020-03-21, after take-off: no caveat.
    let late = report_md(20.0, 3.0);
    assert!(!late.contains("Caveat"), "{late}");
    assert!(late.contains("transmission fell by 73% around 2020-03-21"));
    // From R_0 = 0 there is no percentage to give.
    let zero = report_md(20.0, 0.0);
    assert!(zero.contains("R(t) rose from 0 to 0.800"), "{zero}");
    assert!(!zero.contains("rose by"), "{zero}");
}

#[test]
fn fit_quality_covers_the_whole_window() {
    let (data, _, forecast) = outbreak(RegionKey::country("Italy"), 30, 10, 14);
    let q = report::quality::window_quality(&data, &forecast);
    // The model is 5 % above the exponential the data round: every fold
    // error on counts >= 10 is close to 1.05, and the daily RMSLE small.
    let worst = q.worst.expect("a worst day");
    assert!(worst.fold > 1.0 && worst.fold < 1.2, "{worst:?}");
    assert!(q.rmsle_daily_cases < 0.2, "{}", q.rmsle_daily_cases);
    assert_eq!(q.waves, 1);
    let md = report_md(20.0, 3.0);
    assert!(md.contains("## Fit quality over the whole window"));
    assert!(md.contains("- RMSLE of daily new counts: cases 0."), "{md}");
    assert!(!md.contains("cannot represent"));
}

#[test]
fn real_regions_are_worded_for_what_the_model_cannot_do() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let jhu = data.join("jhu");
    let fit = |args: &[&str]| {
        let mut all = vec!["--data", jhu.to_str().unwrap(), "--quiet", "--out", "r"];
        all.extend_from_slice(args);
        let (code, _, err) = run3(tmp.path(), &all);
        assert_eq!(code, 0, "{err}");
    };
    fit(&["--country", "Korea, South", "--end", "2021-02-15"]);
    let korea = std::fs::read_to_string(tmp.path().join("r/korea-south/report.md")).unwrap();
    // Korea's three waves (spring, August, winter) are in the data.
    assert!(korea.contains("the daily cases show 3 waves"), "{korea}");
    fit(&["--country", "Holy See", "--end", "2020-12-31"]);
    let holy = std::fs::read_to_string(tmp.path().join("r/holy-see/report.md")).unwrap();
    assert!(holy.contains("**Nearly flat series:**"), "{holy}");

    // fit.json records where it came from, and counts are whole.
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("r/holy-see/fit.json")).unwrap(),
    )
    .unwrap();
    assert!(json["population"].is_u64(), "{}", json["population"]);
    let prov = &json["provenance"];
    assert_eq!(prov["version"], env!("CARGO_PKG_VERSION"));
    assert!(prov["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "Holy See"));
    let files = prov["data_files"].as_array().unwrap();
    let confirmed = files
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .ends_with("time_series_covid19_confirmed_global.csv")
        })
        .expect("the confirmed file is recorded");
    let bytes = std::fs::read(jhu.join("time_series_covid19_confirmed_global.csv")).unwrap();
    assert_eq!(confirmed["bytes"], bytes.len() as u64);
    assert_eq!(confirmed["sha256"].as_str().unwrap().len(), 64);
    // The page a browser shows, with the plot inside it.
    let html = std::fs::read_to_string(tmp.path().join("r/holy-see/report.html")).unwrap();
    assert!(html.contains("<h1>SEIRD fit: Holy See</h1>"));
    assert!(html.contains("src=\"data:image/png;base64,iVBOR"));
}

#[test]
fn summary_json_has_arrays_nulls_integers_dates_and_the_forecast() {
    let (data, result, forecast) = outbreak(RegionKey::country("Italy"), 30, 10, 14);
    let tmp = tempfile::tempdir().unwrap();
    report::write_region(&tmp.path().join("italy"), &data, &result, &forecast).unwrap();
    let failed = SummaryRow::failed(
        &RegionKey::country("Atlantis"),
        Some(1000.0),
        None,
        "no population",
        "atlantis",
    );
    let summary = Summary::new(vec![SummaryRow::fitted(&result, "italy"), failed]);
    summary.write(tmp.path()).unwrap();
    let text = std::fs::read_to_string(tmp.path().join("summary.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let italy = &v["regions"][1];
    assert_eq!(italy["region"], "Italy");
    assert_eq!(italy["at_bound"], serde_json::json!(["theta"]));
    assert!(italy["error"].is_null());
    assert_eq!(italy["population"], 10_000_000);
    assert_eq!(italy["start_date"], "2020-03-01");
    assert_eq!(italy["end_date"], "2020-03-30");
    // The last forecast day, t = 43, 2020-04-13, from the model.
    assert_eq!(italy["forecast_date"], "2020-04-13");
    assert_eq!(italy["forecast_cases"], model_cases(43).round() as i64);
    assert_eq!(v["regions"][0]["error"], "no population");
    assert_eq!(v["regions"][0]["at_bound"], serde_json::json!([]));
    // The CSV keeps the joined form, and summary.json reads back.
    let csv = std::fs::read_to_string(tmp.path().join("summary.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.contains("start_date,end_date") && header.contains("forecast_cases"));
    assert!(csv.contains(",theta,"), "{csv}");
    assert!(csv.contains(",10000000,"), "whole population: {csv}");
    let back = Summary::read(tmp.path()).unwrap();
    assert_eq!(back.regions[1].at_bound, "theta");
    assert_eq!(back.regions[1].error, "");
}

#[test]
fn a_poor_fit_is_worded_by_its_median_day_not_by_the_rmsle() {
    // Every fourth day reports nothing (the next day catches up, twice the
    // model): the zero days' errors dominate the RMSLE, while the median
    // day is missed by the rounding of small early counts at most.
    let (mut data, result, forecast) = outbreak(RegionKey::country("Italy"), 30, 10, 14);
    for j in (4..30).step_by(4) {
        data.cases[j] = data.cases[j - 1];
    }
    let q = report::quality::window_quality(&data, &forecast);
    assert!(q.rmsle_daily_cases > 1.0, "{}", q.rmsle_daily_cases);
    assert!(
        q.median_fold_daily_cases > 1.0 && q.median_fold_daily_cases < 1.6,
        "median {}",
        q.median_fold_daily_cases
    );
    // 6 of 29 days are zeros, so one day in ten is missed many-fold.
    assert!(q.p90_fold_daily_cases > 5.0, "{}", q.p90_fold_daily_cases);
    let tmp = tempfile::tempdir().unwrap();
    let files = report::write_region(tmp.path(), &data, &result, &forecast).unwrap();
    let md = std::fs::read_to_string(files.report_md).unwrap();
    let want = format!(
        "**Poor fit:** the model misses daily cases {:.1}-fold on the median day",
        q.median_fold_daily_cases
    );
    assert!(md.contains(&want), "{md}");
    assert!(!md.contains("on a typical day"), "{md}");
}
