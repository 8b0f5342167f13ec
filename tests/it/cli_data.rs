//! `seird-fit regions` run as the real binary in a fresh temp dir: stdout,
//! the one-line stderr and the exit code.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::bin::{run, stdout};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a failure with exit code 2 and exactly one stderr line, `want`.
fn assert_fails_with(o: &Output, want: &str) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
    assert_eq!(stderr(o), format!("seird-fit: {want}\n"));
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(o));
}

/// The shared real data (see `common::shared_data`).
fn real_data() -> Option<PathBuf> {
    common::shared_data()
}

/// A small Kaggle-layout data set with a lookup table beside it: Italy has
/// 6 days with cases (one a correction), the ship has no population, and
/// Latecomer's first case is on the last day.
fn small_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut train =
        String::from("Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities\n");
    let italy = [0., 1., 3., 7., 6., 12., 20.];
    let ship = [1., 2., 3., 4., 5., 6., 7.];
    let late = [0., 0., 0., 0., 0., 0., 2.];
    let mut id = 0;
    for (name, series) in [("Italy", italy), ("Ship", ship), ("Latecomer", late)] {
        for (i, c) in series.iter().enumerate() {
            id += 1;
            train.push_str(&format!("{id},,{name},2020-03-0{},{c},0\n", i + 1));
        }
    }
    std::fs::write(data.join("train.csv"), train).unwrap();
    std::fs::write(
        data.join("UID_ISO_FIPS_LookUp_Table.csv"),
        "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,Population\n\
         1,,,,,,,Italy,,,Italy,60461828\n\
         2,,,,,,,Latecomer,,,Latecomer,1000\n\
         3,,,,,,,Ship,,,Ship,\n",
    )
    .unwrap();
    dir
}

#[test]
fn regions_lists_population_first_case_days_corrections_and_eligibility() {
    let dir = small_data();
    // Default --data is data/.
    let o = run(dir.path(), &["regions"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let want = "\
region       population  first case   days  corrections  eligible
Italy          60461828  2020-03-02      7            1  yes (6 training days)
Latecomer          1000  2020-03-07      7            0  no: too few days (1 < 5)
Ship                  -  2020-03-01      7            0  no: no population
3 regions (kaggle layout; populations: data/UID_ISO_FIPS_LookUp_Table.csv); 1 eligible; 1 with corrections (1 still falling in the fit's window under decline policy keep)
";
    assert_eq!(stdout(&o), want);
}

#[test]
fn regions_window_and_population_value_change_eligibility() {
    let dir = small_data();
    let o = run(
        dir.path(),
        &[
            "regions",
            "--end",
            "2020-03-01",
            "--population-value",
            "5000",
            "--csv",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let want = "\
region,country,province,county,fips,population,first_case,first_date,last_date,days,corrections,train_days,eligible,reason,corrections_in_fit
Italy,Italy,,,,5000.0,2020-03-02,2020-03-01,2020-03-07,7,1,,false,no cases before --end,
Latecomer,Latecomer,,,,5000.0,2020-03-07,2020-03-01,2020-03-07,7,0,,false,no cases before --end,
Ship,Ship,,,,5000.0,2020-03-01,2020-03-01,2020-03-07,7,0,,false,too few days (1 < 5),
";
    assert_eq!(stdout(&o), want);
}

#[test]
fn regions_json_is_machine_readable() {
    let dir = small_data();
    let o = run(
        dir.path(),
        &["regions", "--json", "--decline-policy", "running-max"],
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["layout"], "kaggle");
    assert_eq!(v["decline_policy"], "running-max");
    let italy = &v["regions"][0];
    assert_eq!(italy["region"], "Italy");
    assert_eq!(italy["population"], 60461828.0);
    assert_eq!(italy["first_case"], "2020-03-02");
    assert_eq!(italy["corrections"], 1);
    assert_eq!(italy["train_days"], 6);
    assert_eq!(italy["eligible"], true);
    assert_eq!(v["regions"][2]["reason"], "no population");
}

#[test]
fn missing_data_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["regions", "--data", "nope.csv"]);
    assert_fails_with(&o, "nope.csv: No such file or directory (os error 2)");
}

#[test]
fn unknown_layout_is_one_line_listing_the_layouts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.csv"), "a,b\n1,2\n").unwrap();
    let o = run(dir.path(), &["regions", "--data", "x.csv"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with(
            "seird-fit: x.csv: unknown layout (header: a,b); expected one of: kaggle ("
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn a_bad_number_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "date,cases,deaths\n2020-03-01,1,0\n2020-03-02,two,0\n",
    )
    .unwrap();
    let o = run(dir.path(), &["regions", "--data", "t.csv"]);
    assert_fails_with(
        &o,
        "t.csv:3:2: field 'cases': cannot parse 'two' as a number",
    );
}

#[test]
fn regions_on_the_real_jhu_data() {
    let Some(real) = real_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = real.join("jhu");
    let o = run(
        dir.path(),
        &[
            "regions",
            "--data",
            data.to_str().unwrap(),
            "--end",
            "2020-04-30",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let regions = v["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 274);
    let by_name = |n: &str| regions.iter().find(|r| r["region"] == n).unwrap();
    let it = by_name("Italy");
    // JHU's first Italian cases: 2 on 2020-01-31.
    assert_eq!(it["first_case"], "2020-01-31");
    assert_eq!(it["train_days"], 91);
    assert_eq!(by_name("Diamond Princess")["reason"], "no population");
    assert_eq!(
        by_name("Canada/Repatriated Travellers")["reason"],
        "no population"
    );
    let corrected = regions
        .iter()
        .filter(|r| r["corrections"].as_u64() > Some(0))
        .count();
    assert_eq!(corrected, 96);
}

// ---------------------------------------------------------------- download

/// A tiny HTTP/1.1 server on 127.0.0.1 serving the files of `root` by base
/// name. The first path segment picks a behaviour: `ok` serves the file,
/// `broken` sends the deaths file's headers with its full Content-Length and
/// then only half its body before closing the connection, `html` answers
/// every request with an HTML page, anything else is a 404. Returns the base
/// URL. The thread lives until the test process ends.
fn serve(root: PathBuf) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // Skip the request headers.
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mode = path.trim_start_matches('/').split('/').next().unwrap_or("");
            let name = path.rsplit('/').next().unwrap_or("");
            let file = std::fs::read(root.join(name));
            let (status, body, send) = match (mode, file) {
                ("html", _) => {
                    let b = b"<html><body>rate limited</body></html>".to_vec();
                    let n = b.len();
                    ("200 OK", b, n)
                }
                ("ok", Ok(b)) => {
                    let n = b.len();
                    ("200 OK", b, n)
                }
                ("broken", Ok(b)) => {
                    let n = if name.contains("deaths") {
                        b.len() / 2
                    } else {
                        b.len()
                    };
                    ("200 OK", b, n)
                }
                _ => ("404 Not Found", b"not found".to_vec(), 9),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..send]);
            let _ = stream.flush();
            // Dropping the stream closes the connection, half-way for `broken`.
        }
    });
    format!("http://{addr}")
}

const JHU_FILES: [&str; 3] = [
    "time_series_covid19_confirmed_global.csv",
    "time_series_covid19_deaths_global.csv",
    "UID_ISO_FIPS_LookUp_Table.csv",
];

/// The names and contents of the files in `dir`.
fn dir_contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        // The download's lock file stays, like batch's.
        .filter(|e| e.file_name() != ".seird-fit.lock")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn download_fetches_the_jhu_files_atomically_and_reports_size_and_rows() {
    let Some(real) = real_data() else { return };
    let jhu = real.join("jhu");
    let base = serve(jhu.clone());
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[
            "download",
            "--base-url",
            &format!("{base}/ok"),
            "--out",
            "data",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let mut want = String::new();
    for f in JHU_FILES {
        let bytes = std::fs::read(jhu.join(f)).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("data").join(f)).unwrap(),
            bytes,
            "{f}"
        );
        // Rows: lines after the header (no field of these files spans lines).
        let rows = bytes.iter().filter(|&&b| b == b'\n').count() - 1;
        want.push_str(&format!(
            "wrote data/{f} ({} bytes, {rows} rows)\n",
            bytes.len()
        ));
    }
    assert_eq!(stdout(&o), want);
    assert_eq!(
        dir_contents(&dir.path().join("data")).len(),
        3,
        "no temp files left"
    );
    // What arrived loads: the default --data is data/.
    let o = run(dir.path(), &["regions", "--json"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["regions"].as_array().unwrap().len(), 274);
}

#[test]
fn a_dropped_connection_leaves_the_old_files_untouched() {
    let Some(real) = real_data() else { return };
    let base = serve(real.join("jhu"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for f in JHU_FILES {
        std::fs::write(data.join(f), format!("old {f}\n")).unwrap();
    }
    let before = dir_contents(&data);
    let o = run(
        dir.path(),
        &[
            "download",
            "--base-url",
            &format!("{base}/broken"),
            "--out",
            "data",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let deaths_len = std::fs::metadata(real.join("jhu").join(JHU_FILES[1]))
        .unwrap()
        .len();
    assert!(
        err.starts_with(&format!(
            "seird-fit: {base}/broken/csse_covid_19_time_series/time_series_covid19_deaths_global.csv: "
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("of {deaths_len}")),
        "the message gives the expected size: {err}"
    );
    assert_eq!(err.lines().count(), 1);
    assert!(o.stdout.is_empty());
    // The confirmed file arrived whole, but nothing is renamed unless all
    // did; and no temp file is left.
    assert_eq!(dir_contents(&data), before);
}

#[test]
fn an_html_page_or_a_404_is_refused() {
    let Some(real) = real_data() else { return };
    let base = serve(real.join("jhu"));
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[
            "download",
            "--base-url",
            &format!("{base}/html"),
            "--out",
            "d",
        ],
    );
    assert_fails_with(
        &o,
        &format!(
            "{base}/html/csse_covid_19_time_series/time_series_covid19_confirmed_global.csv: header '<html><body>rate limited</body></html>' is not the jhu-wide layout (Province/State,Country/Region,Lat,Long,1/22/20,1/23/20,...)"
        ),
    );
    let o = run(
        dir.path(),
        &[
            "download",
            "--base-url",
            &format!("{base}/gone"),
            "--out",
            "d",
            "--source",
            "owid",
        ],
    );
    assert_fails_with(
        &o,
        &format!("{base}/gone/owid-covid-data.csv: HTTP 404 Not Found"),
    );
    assert!(dir_contents(&dir.path().join("d")).is_empty());
}
