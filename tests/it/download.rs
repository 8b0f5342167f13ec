//! `download` against a hostile local HTTP server (issue 15) and the JHU US
//! source (issue 14): bodies cut at a line boundary with no
//! `Content-Length`, rows that are not data, a trickling server, an
//! over-long or oversized body, file modes, the default `--out` and the
//! demo, leftovers of killed downloads. The server runs in a thread of the
//! test on 127.0.0.1:0 and follows a script per request; deadlines are set
//! to about a second so every test stays short.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bin::{one_error_line, run, run3};
use crate::common::shared_data;

/// How the server answers one request.
#[derive(Clone)]
enum Reply {
    /// 200 with the body; `Content-Length` sent when `length`, else the
    /// body ends when the connection closes (cleanly).
    Body { body: Vec<u8>, length: bool },
    /// 200 with the body's full `Content-Length`, then one byte per `every`.
    Trickle { body: Vec<u8>, every: Duration },
    /// 200 without `Content-Length`, `chunk` bytes every `every`, forever.
    Endless { chunk: usize, every: Duration },
    /// 404.
    Missing,
}

/// Serves requests by `script(path)` in a thread per connection; returns the
/// base URL. The threads live until the test process ends.
fn serve(script: impl Fn(&str) -> Reply + Send + Sync + 'static) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let script = Arc::new(script);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let script = Arc::clone(&script);
            std::thread::spawn(move || answer(stream, &*script));
        }
    });
    format!("http://{addr}")
}

fn answer(mut stream: std::net::TcpStream, script: &dyn Fn(&str) -> Reply) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
        line.clear();
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let head = |length: Option<usize>| {
        let cl = length
            .map(|n| format!("Content-Length: {n}\r\n"))
            .unwrap_or_default();
        format!("HTTP/1.1 200 OK\r\n{cl}Content-Type: text/plain\r\nConnection: close\r\n\r\n")
    };
    let _ = match script(&path) {
        Reply::Body { body, length } => stream
            .write_all(head(length.then_some(body.len())).as_bytes())
            .and_then(|_| stream.write_all(&body)),
        Reply::Trickle { body, every } => {
            let _ = stream.write_all(head(Some(body.len())).as_bytes());
            for b in body {
                std::thread::sleep(every);
                if stream.write_all(&[b]).is_err() {
                    break;
                }
            }
            Ok(())
        }
        Reply::Endless { chunk, every } => {
            let _ = stream.write_all(head(None).as_bytes());
            let bytes = vec![b'1'; chunk];
            while stream.write_all(&bytes).is_ok() {
                std::thread::sleep(every);
            }
            Ok(())
        }
        Reply::Missing => stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        ),
    };
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// The JHU global files: remote base name -> local file name.
const JHU: [&str; 3] = [
    "time_series_covid19_confirmed_global.csv",
    "time_series_covid19_deaths_global.csv",
    "UID_ISO_FIPS_LookUp_Table.csv",
];

/// The real JHU global files by name.
fn jhu_files(real: &Path) -> Vec<(String, Vec<u8>)> {
    JHU.iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read(real.join("jhu").join(f)).unwrap(),
            )
        })
        .collect()
}

/// The first `rows` data rows (and the header) of `bytes`.
fn head_rows(bytes: &[u8], rows: usize) -> Vec<u8> {
    let mut n = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            if n == rows {
                return bytes[..=i].to_vec();
            }
            n += 1;
        }
    }
    bytes.to_vec()
}

/// Serves `files` by base name, as `reply(name, body)` says.
fn serve_files(
    files: Vec<(String, Vec<u8>)>,
    reply: impl Fn(&str, Vec<u8>) -> Reply + Send + Sync + 'static,
) -> String {
    serve(move |path| {
        let name = path.rsplit('/').next().unwrap_or("");
        match files.iter().find(|(n, _)| n == name) {
            Some((n, b)) => reply(n, b.clone()),
            None => Reply::Missing,
        }
    })
}

fn whole(body: Vec<u8>) -> Reply {
    Reply::Body { body, length: true }
}

/// The names and contents of the files in `dir` (lock file aside).
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != ".seird-fit.lock" && e.file_type().unwrap().is_file())
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

/// A directory `data/` holding the real JHU global files as the good old
/// files a download must not replace with bad ones.
fn old_jhu(real: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for (f, b) in jhu_files(real) {
        std::fs::write(data.join(f), b).unwrap();
    }
    (dir, data)
}

fn download(dir: &Path, base: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["download", "--base-url", base];
    args.extend_from_slice(extra);
    run(dir, &args)
}

#[test]
fn a_body_without_content_length_cut_at_a_line_boundary_is_refused() {
    let Some(real) = shared_data() else { return };
    // The deaths file ends after 100 of its 274 rows, at a line end, and
    // the server just closes: nothing in HTTP tells it from a whole body.
    let base = serve_files(jhu_files(&real), |name, body| {
        if name.contains("deaths") {
            Reply::Body {
                body: head_rows(&body, 100),
                length: false,
            }
        } else {
            Reply::Body {
                body,
                length: false,
            }
        }
    });
    let (dir, data) = old_jhu(&real);
    let before = contents(&data);
    let o = download(dir.path(), &base, &["--out", "data"]);
    assert_eq!(o.status.code(), Some(2));
    let err = one_error_line(&o);
    assert!(err.contains("nothing was replaced"), "{err}");
    assert!(err.contains("deaths_global.csv"), "names the file: {err}");
    assert_eq!(contents(&data), before, "the old files stay, no temp file");

    // The lookup table alone cut at a line boundary: the pair agrees, the
    // table parses, but it has fewer rows than the file it would replace.
    let base = serve_files(jhu_files(&real), |name, body| Reply::Body {
        body: if name.starts_with("UID") {
            head_rows(&body, 1000)
        } else {
            body
        },
        length: false,
    });
    let o = download(dir.path(), &base, &["--out", "data"]);
    assert_eq!(o.status.code(), Some(2));
    let err = one_error_line(&o);
    assert!(
        err.contains("UID_ISO_FIPS_LookUp_Table.csv: 1000 data rows, fewer than the 4"),
        "{err}"
    );
    assert_eq!(contents(&data), before);
    // With --allow-shrink it is accepted, whole bodies without a length too.
    let o = download(dir.path(), &base, &["--out", "data", "--allow-shrink"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains(", 1000 rows)\n"), "{s}");
}

#[test]
fn rows_that_are_not_data_and_wrong_headers_leave_the_old_files() {
    let Some(real) = shared_data() else { return };
    let (dir, data) = old_jhu(&real);
    let before = contents(&data);
    // `lots` as a count on line 3 (the header, then Afghanistan, then the
    // next row), column 7 (the third day).
    let lots = |name: &str, body: Vec<u8>| {
        if !name.contains("confirmed") {
            return whole(body);
        }
        let text = String::from_utf8(body).unwrap();
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
        cells[6] = "lots".into();
        lines[2] = cells.join(",");
        whole(lines.join("\n").into_bytes())
    };
    let base = serve_files(jhu_files(&real), lots);
    let o = download(dir.path(), &base, &["--out", "data"]);
    assert_eq!(o.status.code(), Some(2));
    let err = one_error_line(&o);
    assert!(
        err.starts_with(&format!(
            "seird-fit: {base}/csse_covid_19_time_series/time_series_covid19_confirmed_global.csv:3:7: field '1/24/20': cannot parse 'lots' as a number"
        )),
        "{err}"
    );
    assert_eq!(contents(&data), before);

    // A table whose last row is cut inside a line (too few fields).
    let cut = |name: &str, body: Vec<u8>| {
        if name.contains("deaths") {
            let n = body.len() - 300;
            Reply::Body {
                body: body[..n].to_vec(),
                length: false,
            }
        } else {
            whole(body)
        }
    };
    let base = serve_files(jhu_files(&real), cut);
    let o = download(dir.path(), &base, &["--out", "data"]);
    assert_eq!(o.status.code(), Some(2));
    let err = one_error_line(&o);
    assert!(err.contains("deaths_global.csv:275: "), "{err}");
    assert!(err.contains("fields, but the header has"), "{err}");
    assert_eq!(contents(&data), before);

    // The right file under the wrong name: the deaths URL serves the
    // Kaggle layout.
    let kaggle = head_rows(&std::fs::read(real.join("kaggle/train.csv")).unwrap(), 50);
    let base = serve_files(jhu_files(&real), move |name, body| {
        whole(if name.contains("deaths") {
            kaggle.clone()
        } else {
            body
        })
    });
    let o = download(dir.path(), &base, &["--out", "data"]);
    let err = one_error_line(&o);
    assert!(
        err.contains("deaths_global.csv: header 'Id,Province_State,Country_Region,Date,ConfirmedCases,Fatalities' is not the jhu-wide layout"),
        "{err}"
    );
    assert_eq!(contents(&data), before);
}

#[test]
fn a_trickling_server_is_cut_by_the_idle_limit() {
    let base = serve(|_| Reply::Trickle {
        body: vec![b'x'; 10_000],
        every: Duration::from_millis(200),
    });
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let o = download(dir.path(), &base, &["--out", "d", "--idle-timeout", "1s"]);
    let took = t.elapsed();
    assert_eq!(o.status.code(), Some(2));
    let err = one_error_line(&o);
    assert!(err.contains("stalled: "), "{err}");
    assert!(err.contains("in the last 1 s"), "{err}");
    assert!(took < Duration::from_secs(10), "cut after {took:?}");
    assert!(
        contents(&dir.path().join("d")).is_empty(),
        "no temp file left"
    );
}

#[test]
fn an_endless_body_is_cut_by_the_deadline_and_an_oversized_one_by_the_cap() {
    // 8 KiB every 50 ms: fast enough for the idle limit, never done.
    let base = serve(|_| Reply::Endless {
        chunk: 8192,
        every: Duration::from_millis(50),
    });
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let o = download(
        dir.path(),
        &base,
        &["--out", "d", "--timeout", "1.5s", "--idle-timeout", "1s"],
    );
    let took = t.elapsed();
    let err = one_error_line(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("not complete within the 1.5 s deadline (--timeout)"),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "cut after {took:?}");
    // The same stream against a size cap, without Content-Length...
    let o = download(dir.path(), &base, &["--out", "d", "--max-bytes", "64KiB"]);
    let err = one_error_line(&o);
    assert!(
        err.contains("body over the size cap of 65536 bytes (--max-bytes)"),
        "{err}"
    );
    // ... and a Content-Length over the cap is refused before the body.
    let big = serve(|_| whole(vec![b'1'; 200_000]));
    let o = download(dir.path(), &big, &["--out", "d", "--max-bytes", "100kB"]);
    let err = one_error_line(&o);
    assert!(
        err.contains("Content-Length 200000 bytes is over the size cap of 100000 bytes"),
        "{err}"
    );
    assert!(contents(&dir.path().join("d")).is_empty());
    // Bad limits are usage errors naming the flag.
    let (code, _, err) = run3(dir.path(), &["download", "--timeout", "-5s"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("seird-fit: invalid value '-5s' for '--timeout"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

/// The repository's `data/` (the demo) and `configs/` copied into a temp
/// directory, so the README's first command can run there.
fn demo_checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["data", "configs"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        for e in std::fs::read_dir(root.join(sub)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), dir.path().join(sub).join(e.file_name())).unwrap();
            }
        }
    }
    dir
}

#[test]
fn the_default_download_keeps_the_demo_working_and_files_are_0644() {
    let Some(real) = shared_data() else { return };
    let dir = demo_checkout();
    let demo_before = contents(&dir.path().join("data"));
    // A leftover of a killed download: removed by the next one.
    std::fs::create_dir_all(dir.path().join("data/jhu")).unwrap();
    let leftover = dir.path().join("data/jhu/.seird-fit-download-XXXX.tmp");
    std::fs::write(&leftover, b"half a body").unwrap();
    let base = serve_files(jhu_files(&real), |_, b| whole(b));
    let o = download(dir.path(), &base, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!leftover.exists(), "the leftover is removed");
    for f in JHU {
        let p = dir.path().join("data/jhu").join(f);
        assert_eq!(
            std::fs::read(&p).unwrap(),
            std::fs::read(real.join("jhu").join(f)).unwrap()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            // 0644 under the usual umask 022, as every other output.
            assert_eq!(mode, 0o644, "{f}: {mode:o}");
        }
    }
    // The demo is untouched, and the README's first command still works.
    let mut after = contents(&dir.path().join("data"));
    after.retain(|(n, _)| n != "jhu");
    assert_eq!(after, demo_before);
    let (code, _, err) = run3(dir.path(), &["--country", "Demoland", "--quiet"]);
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("reports/demoland/fit.json").is_file());
    // And the download reads back as data.
    let (code, out, err) = run3(dir.path(), &["regions", "--data", "data/jhu", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["regions"].as_array().unwrap().len(), 274);
}

#[test]
fn jhu_us_downloads_both_county_files_validated_together() {
    let Some(real) = shared_data() else { return };
    let us = real.join("jhu_us");
    let names = [
        "time_series_covid19_confirmed_US.csv",
        "time_series_covid19_deaths_US.csv",
    ];
    // A small slice: the first 40 counties of each file (the same rows).
    let files: Vec<(String, Vec<u8>)> = names
        .iter()
        .map(|n| {
            (
                n.to_string(),
                head_rows(&std::fs::read(us.join(n)).unwrap(), 40),
            )
        })
        .collect();
    let paths: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&paths);
    let served = files.clone();
    let base = serve(move |path| {
        seen.lock().unwrap().push(path.to_string());
        let name = path.rsplit('/').next().unwrap_or("");
        match served.iter().find(|(n, _)| n == name) {
            Some((_, b)) => whole(b.clone()),
            None => Reply::Missing,
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let o = download(dir.path(), &base, &["--source", "jhu-us"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The JHU repository's paths, into data/jhu_us by default.
    assert_eq!(
        *paths.lock().unwrap(),
        names
            .iter()
            .map(|n| format!("/csse_covid_19_time_series/{n}"))
            .collect::<Vec<_>>()
    );
    let out = dir.path().join("data/jhu_us");
    let mut want = String::new();
    for (n, b) in &files {
        assert_eq!(&std::fs::read(out.join(n)).unwrap(), b);
        want.push_str(&format!(
            "wrote data/jhu_us/{n} ({} bytes, 40 rows)\n",
            b.len()
        ));
    }
    assert_eq!(String::from_utf8_lossy(&o.stdout), want);
    let (code, table, err) = run3(dir.path(), &["regions", "--data", "data/jhu_us", "--csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(table.contains("Autauga"), "{table}");

    // The deaths file with one county fewer: neither file is replaced.
    let before = contents(&out);
    let mut cut = files.clone();
    cut[1].1 = head_rows(&cut[1].1, 39);
    let base = serve_files(cut, |_, b| Reply::Body {
        body: b,
        length: false,
    });
    let o = download(dir.path(), &base, &["--source", "jhu-us", "--allow-shrink"]);
    assert_eq!(o.status.code(), Some(2));
    let err = one_error_line(&o);
    assert!(err.contains("nothing was replaced"), "{err}");
    assert_eq!(contents(&out), before);
}
