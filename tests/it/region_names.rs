//! One region matcher for every command (issue 11): the same Unicode case
//! folding in `fit --country`, `batch --countries` and the population
//! lookup, and one meaning for a country whose rows are all provinces.

use crate::bin::{one_error_line, run, run3};
use crate::common::shared_data;
use seird_fit::data::{self, select, LoadOptions};

/// A Kaggle-layout file with one non-ASCII region, growing 15 days.
fn ivoire(dir: &std::path::Path) -> String {
    let mut csv = String::from("Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\n");
    for d in 0..15 {
        let cases = (2.0f64 * 1.3f64.powi(d)).round();
        let deaths = (cases * 0.02).floor();
        csv.push_str(&format!(
            "{},,Côte d'Ivoire,2020-03-{:02},{cases},{deaths}\n",
            d + 1,
            d + 1
        ));
    }
    let path = dir.join("train.csv");
    std::fs::write(&path, csv).unwrap();
    path.display().to_string()
}

#[test]
fn a_non_ascii_name_matches_alike_in_fit_and_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ivoire(tmp.path());
    let common = [
        "--data",
        &data,
        "--population-value",
        "1000000",
        "--calibration-origins",
        "0",
    ];
    let mut fit = vec!["--country", "CÔTE D'IVOIRE", "-q", "-o", "one"];
    fit.extend(common);
    let (code, _, err) = run3(tmp.path(), &fit);
    assert_eq!(code, 0, "{err}");
    // ASCII case folding made this name "unknown" in a batch.
    let mut batch = vec!["batch", "--countries", "CÔTE D'IVOIRE", "-q", "-o", "many"];
    batch.extend(common);
    let (code, _, err) = run3(tmp.path(), &batch);
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("many/summary.json")).unwrap())
            .unwrap();
    let rows = summary["regions"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{summary}");
    assert_eq!(rows[0]["country"], "Côte d'Ivoire");
    assert_eq!(rows[0]["status"], "fitted");
    // The same region and the same fit.
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(tmp.path().join(p)).unwrap()).unwrap()
    };
    let (a, b) = (
        read("one/c-te-d-ivoire/fit.json"),
        read("many/c-te-d-ivoire/fit.json"),
    );
    assert_eq!(a["params"], b["params"]);
    assert_eq!(a["loss"], b["loss"]);
}

#[test]
fn china_is_its_provinces_in_a_batch_and_their_sum_in_a_fit() {
    let Some(dir) = shared_data() else { return };
    let jhu = dir.join("jhu");
    let ds = data::load(&jhu, &LoadOptions::default()).unwrap();
    let keys: Vec<_> = ds.regions.iter().map(|r| r.key.clone()).collect();
    // The JHU global files have 33 Chinese provinces and no country row.
    let (provinces, depth) = ds.matching("china", None, None);
    assert_eq!((provinces.len(), depth), (33, 1));
    assert!(provinces
        .iter()
        .all(|&i| ds.regions[i].key.country == "China" && ds.regions[i].key.province.is_some()));
    assert_eq!(select::select_list(&keys, "CHINA").unwrap(), provinces);
    let err = ds.find("China", None).unwrap_err().to_string();
    assert!(err.contains("--aggregate country"), "{err}");

    // `fit --country China` fits what `--aggregate country` makes.
    let tmp = tempfile::tempdir().unwrap();
    let jhu = jhu.display().to_string();
    let args = |out: &'static str| {
        vec![
            "--country",
            "China",
            "--data",
            &jhu,
            "--end",
            "2020-03-15",
            "--calibration-origins",
            "0",
            "-o",
            out,
        ]
    };
    let plain = run(tmp.path(), &args("plain"));
    assert_eq!(plain.status.code(), Some(0));
    let note = one_error_line(&plain);
    assert!(
        note.contains("note:") && note.contains("33 regions below it"),
        "{note}"
    );
    let mut agg = args("agg");
    agg.extend(["--aggregate", "country", "-q"]);
    let (code, _, err) = run3(tmp.path(), &agg);
    assert_eq!(code, 0, "{err}");
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(tmp.path().join(p)).unwrap()).unwrap()
    };
    let (a, b) = (read("plain/china/fit.json"), read("agg/china/fit.json"));
    assert_eq!(a["region"]["country"], "China");
    assert_eq!(a["region"]["province"], serde_json::Value::Null);
    for field in ["params", "loss", "population", "train_days"] {
        assert_eq!(a[field], b[field], "{field}");
    }
    // Hubei's population alone is 58.5 million; China's sum is far above.
    assert!(
        a["population"].as_f64().unwrap() > 1.3e9,
        "{}",
        a["population"]
    );
}
