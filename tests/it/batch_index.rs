//! The batch's `index.html`, rendered by headless Chromium: one table row per
//! region, every plot rendered, sorting by the address works, and nothing
//! is fetched from the network.
//!
//! Needs Debian's `chromium` (`apt-get install -y chromium`). Without it the
//! test is skipped, except in CI (`CI=true`), where its absence is a failure.

use crate::batch_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use seird_fit::batch::{self, RunOptions};
use seird_fit::report::summary::{Status, Summary};

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Renders `url` and returns the DOM after the page's scripts ran.
fn dump_dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1400,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The value of `attr` on the element with `id`.
fn attribute(dom: &str, id: &str, attr: &str) -> Option<String> {
    let start = dom.find(&format!("id=\"{id}\""))?;
    let tag_start = dom[..start].rfind('<')?;
    let tag_end = start + dom[start..].find('>')?;
    let tag = &dom[tag_start..tag_end];
    let at = tag.find(&format!("{attr}=\""))? + attr.len() + 2;
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

/// Region names in table order.
fn table_regions(dom: &str) -> Vec<String> {
    let body = &dom[dom.find("<tbody>").unwrap()..dom.find("</tbody>").unwrap()];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            let cell = &row[row.find("<td").unwrap()..];
            let cell = &cell[..cell.find("</td>").unwrap()];
            // Strip tags (the name may be wrapped in a link).
            let mut text = String::new();
            let mut in_tag = false;
            for c in cell.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.replace("&#39;", "'").replace("&amp;", "&")
        })
        .collect()
}

#[test]
fn index_html_renders_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is required in CI (apt-get install -y chromium)");
        }
        eprintln!("skipped: chromium not installed");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    let report = batch::run(
        batch_common::jobs(out),
        &RunOptions {
            jobs: 2,
            ..RunOptions::default()
        },
        batch_common::fake_fit_full,
    )
    .unwrap();
    let summary = report.summary();
    batch::write_outputs(out, &summary, "test batch").unwrap();
    let index = out.join("index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    // Self-contained: no external resources at all.
    assert!(!html.contains("src=\""), "external resource in index.html");
    assert!(!html.contains("href=\"http"), "network link in index.html");
    assert!(!html.contains("url("), "CSS resource in index.html");

    let url = format!("file://{}", index.display());
    let dom = dump_dom(&chromium, &url);
    let rows = table_regions(&dom);
    assert_eq!(
        rows.len(),
        summary.regions.len(),
        "one table row per region"
    );
    assert_eq!(dom.matches("<tr class=\"fitted\"").count(), summary.fitted);
    assert_eq!(dom.matches("<tr class=\"failed\"").count(), summary.failed);
    // Ten fit thumbnails plus the two world plots, all laid out with content.
    assert_eq!(dom.matches("<figure>").count(), summary.fitted);
    assert_eq!(
        attribute(&dom, "render-status", "data-total").as_deref(),
        Some("12")
    );
    assert_eq!(
        attribute(&dom, "render-status", "data-rendered").as_deref(),
        Some("12")
    );
    // Every thumbnail links to an existing report.html, its plot inside.
    for row in summary
        .regions
        .iter()
        .filter(|r| r.status == Status::Fitted)
    {
        assert!(dom.contains(&format!("href=\"{}/report.html\"", row.dir)));
        let page = std::fs::read_to_string(out.join(&row.dir).join("report.html")).unwrap();
        assert!(
            page.contains("src=\"data:image/png;base64,iVBOR"),
            "plot embedded"
        );
    }
    // At 1400 px every column of the table is on screen.
    let right: u32 = attribute(&dom, "render-status", "data-table-right")
        .and_then(|v| v.parse().ok())
        .expect("table position recorded");
    assert!(
        right <= 1400,
        "the table ends at {right} px, past a 1400 px window"
    );

    // `#sort=r_0-desc` sorts the table on load: R_0 descending, stable,
    // failed regions (no R_0) last.
    let dom = dump_dom(&chromium, &format!("{url}#sort=r_0-desc"));
    let mut expected = summary.regions.clone();
    expected.sort_by(|a, b| match (a.r_0, b.r_0) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let expected: Vec<String> = expected.into_iter().map(|r| r.region).collect();
    assert_eq!(table_regions(&dom), expected);
    assert!(Summary::read(out).is_ok());
}

/// Not a check: writes an example batch (fake fits) for a person to look at,
/// into `$SEIRD_INDEX_EXAMPLE_DIR` (default `target/index-example`). Run with
/// `cargo test --test batch_index -- --ignored`.
#[test]
#[ignore = "writes an example batch for viewing"]
fn example_index_for_viewing() {
    let out = std::env::var_os("SEIRD_INDEX_EXAMPLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/index-example"));
    let report = batch::run(
        batch_common::jobs(&out),
        &RunOptions::default(),
        batch_common::fake_fit_full,
    )
    .unwrap();
    batch::write_outputs(&out, &report.summary(), "example batch (fake fits)").unwrap();
}
