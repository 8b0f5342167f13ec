//! One validated run configuration (issue 11) and errors that name what the
//! user typed (issue 17), through the real binary: `regions` honours the
//! configuration file's decline policy as a fit does, and a value out of
//! range names the flag when a flag set it, the file and key when the file did.

use crate::bin::{one_error_line, run, run3};

/// A two-region Kaggle-layout file: Fallland's cumulative cases fall twice
/// (reporting corrections), Steadyland's never do.
fn declining_data(dir: &std::path::Path) -> String {
    let mut csv = String::from("Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\n");
    let fall = [1., 2., 5., 4., 9., 15., 14., 30., 45., 60.];
    let steady = [1., 2., 4., 8., 16., 32., 64., 128., 256., 512.];
    let mut id = 1;
    for (name, cases) in [("Fallland", fall), ("Steadyland", steady)] {
        for (d, c) in cases.iter().enumerate() {
            csv.push_str(&format!("{id},,{name},2020-03-{:02},{c},0\n", d + 1));
            id += 1;
        }
    }
    let path = dir.join("train.csv");
    std::fs::write(&path, csv).unwrap();
    path.display().to_string()
}

fn regions_json(dir: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let data = declining_data(dir);
    let mut args = vec![
        "regions",
        "--data",
        &data,
        "--population-value",
        "1000000",
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = run3(dir, &args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn in_fit(listing: &serde_json::Value) -> Vec<u64> {
    listing["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["corrections_in_fit"].as_u64().unwrap())
        .collect()
}

#[test]
fn regions_takes_the_decline_policy_from_the_config_as_from_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("running.toml");
    std::fs::write(&config, "decline_policy = \"running-max\"\n").unwrap();
    let config = config.display().to_string();

    let keep = regions_json(tmp.path(), &[]);
    let by_flag = regions_json(tmp.path(), &["--decline-policy", "running-max"]);
    let by_file = regions_json(tmp.path(), &["--config", &config]);
    // As reported, Fallland falls on 2 days (5 -> 4 and 15 -> 14), and under
    // `keep` the fit sees both; under running-max it sees none.
    assert_eq!(keep["regions"][0]["corrections"], 2);
    assert_eq!(in_fit(&keep), [2, 0]);
    assert_eq!(in_fit(&by_flag), [0, 0]);
    assert_eq!(keep["decline_policy"], "keep");
    assert_eq!(by_file["decline_policy"], "running-max");
    // The file and the flag give the very same listing.
    assert_eq!(by_file, by_flag);
    // The flag wins over the file (default < file < flag).
    let over = regions_json(
        tmp.path(),
        &["--config", &config, "--decline-policy", "keep"],
    );
    assert_eq!(over, keep);
}

#[test]
fn a_range_error_names_the_flag_typed_or_the_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format!("{}/data", env!("CARGO_MANIFEST_DIR"));
    let out = run(
        tmp.path(),
        &[
            "--country",
            "Demoland",
            "--data",
            &data,
            "--forecast-days",
            "100000",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = one_error_line(&out);
    assert_eq!(
        err.trim_end(),
        "seird-fit: --forecast-days 100000: must be at most 3650"
    );
    // The same value from a file names the file and its key.
    let config = tmp.path().join("long.toml");
    std::fs::write(&config, "forecast_days = 100000\n").unwrap();
    let config = config.display().to_string();
    for cmd in [&["fit"][..], &["batch", "--all"][..]] {
        let mut args = cmd.to_vec();
        args.extend([
            "--country",
            "Demoland",
            "--data",
            &data,
            "--config",
            &config,
        ]);
        if cmd[0] == "batch" {
            args.retain(|a| *a != "--country" && *a != "Demoland");
            args.extend(["--out", "b"]);
        }
        let out = run(tmp.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let err = one_error_line(&out);
        assert_eq!(
            err.trim_end(),
            format!("seird-fit: {config}: 'forecast_days' = 100000: must be at most 3650"),
            "{cmd:?}"
        );
    }
    // A valid flag over a valid file is no error at all; a flag fixing an
    // invalid file is still refused, naming the file.
    let out = run(
        tmp.path(),
        &[
            "--country",
            "Demoland",
            "--data",
            &data,
            "--config",
            &config,
            "--forecast-days",
            "7",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(one_error_line(&out).contains(&config));
}

/// SHA-256 of a file, by the system's `sha256sum` when there is one (an
/// independent implementation), else `None`.
fn sha256sum(path: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace().next().map(str::to_string)
}

#[test]
fn batch_manifest_and_backtest_summary_record_their_provenance() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format!("{}/data", env!("CARGO_MANIFEST_DIR"));
    let batch = [
        "batch",
        "--all",
        "--data",
        &data,
        "--end",
        "2020-04-15",
        "--calibration-origins",
        "0",
        "--plots",
        "none",
        "-q",
        "-o",
        "b",
    ];
    let (code, _, err) = run3(tmp.path(), &batch);
    assert_eq!(code, 0, "{err}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("b/batch.json")).unwrap()).unwrap();
    let prov = &manifest["provenance"];
    assert_eq!(prov["tool"], "seird-fit");
    assert_eq!(prov["version"], env!("CARGO_PKG_VERSION"));
    let cmd: Vec<&str> = prov["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&cmd[1..], &batch[..]);
    let files = prov["data_files"].as_array().unwrap();
    let train = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("train.csv"))
        .expect("train.csv is recorded");
    let path = std::path::Path::new(&data).join("train.csv");
    assert_eq!(train["bytes"], std::fs::metadata(&path).unwrap().len());
    if let Some(want) = sha256sum(&path) {
        assert_eq!(train["sha256"], want.as_str());
    }
    // The whole run configuration is recorded: fit settings, window,
    // forecast settings and inputs.
    assert_eq!(manifest["inputs"]["incident"], false);
    assert_eq!(manifest["config"]["decline_policy"], "keep");
    assert_eq!(manifest["forecast"]["calibration_origins"], 0);
    assert_eq!(manifest["end"], "2020-04-15");
    // A record, not a setting: resuming with another command line works.
    let mut again = batch.to_vec();
    again.retain(|a| *a != "-q");
    again.extend(["--resume", "--quiet"]);
    let (code, _, err) = run3(tmp.path(), &again);
    assert_eq!(code, 0, "{err}");

    let bt = [
        "backtest",
        "--countries",
        "Demoland",
        "--data",
        &data,
        "--from",
        "2020-04-01",
        "--to",
        "2020-04-01",
        "--horizons",
        "7",
        "--calibration-origins",
        "0",
        "--out",
        "bt",
        "--quiet",
    ];
    let (code, _, err) = run3(tmp.path(), &bt);
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("bt/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["provenance"]["data_files"], prov["data_files"]);
    assert_eq!(summary["provenance"]["command_line"][1], "backtest");
}
