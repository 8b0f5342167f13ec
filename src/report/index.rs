//! The batch's `index.html`: one self-contained page (inline CSS, inline SVG,
//! a few lines of inline JavaScript; nothing fetched from the network) with
//!
//! * world-level plots: the distribution of fitted R_0 and R_t, and the loss
//!   of every region,
//! * a sortable table of all regions (click a header; `#sort=msle` or
//!   `#sort=r_0-desc` in the address sorts on load, so a sorted view can be
//!   linked),
//! * a small-multiples grid of the regions' fit plots, each linking to the
//!   region's `report.html`.
//!
//! The page is generated as a string by hand: it is one template with a
//! table, and a template engine would add a dependency for little gain.

use std::fmt::Write as _;
use std::path::Path;

use super::plot;
use super::summary::{Status, Summary, SummaryRow};
use super::{REPORT_HTML, THUMB_SVG};
use crate::error::Error;
use crate::io::write_atomic;

/// File name of the page.
pub const INDEX_HTML: &str = "index.html";

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a relative path for an `href` (region directories are
/// slugs, but merged shard directories may hold anything).
fn href(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
.sub { color: #555; margin-top: 0; }
.world { display: flex; flex-wrap: wrap; gap: 1rem; }
.world svg { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.75rem; margin: 1rem 0; }
td.iv { white-space: normal; min-width: 5.5rem; }
th, td { padding: 0.2rem 0.25rem; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
th { white-space: normal; }
th { cursor: pointer; background: #f3f5f8; position: sticky; top: 0; user-select: none; }
th[data-dir="asc"]::after { content: " \25B2"; }
th[data-dir="desc"]::after { content: " \25BC"; }
td.text, th.text { text-align: left; }
td.err { text-align: left; white-space: normal; color: #a11; min-width: 12rem; max-width: 20rem; }
tr.failed td { background: #fff4f4; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 0.6rem; }
figure { margin: 0; border: 1px solid #ddd; padding: 0.3rem; background: #fff; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 0.75rem; margin-top: 0.2rem; }
figcaption b { display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.scroll { overflow-x: auto; max-width: 100%; }
.legend span { display: inline-block; margin-right: 1rem; }
.swatch { display: inline-block; width: 1.4em; height: 0.25em; vertical-align: middle; margin-right: 0.3em; }
"#;

const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById('regions');
  var tbody = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  function value(row, col, numeric) {
    var cell = row.cells[col];
    var v = cell.getAttribute('data-v');
    if (v === null) v = cell.textContent;
    return numeric ? parseFloat(v) : v.toLowerCase();
  }
  function sortBy(col, desc) {
    var numeric = heads[col].getAttribute('data-type') === 'num';
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = value(a, col, numeric), y = value(b, col, numeric);
      if (numeric) {
        // Empty cells (failed regions) go last in either direction.
        if (isNaN(x) || isNaN(y)) return isNaN(x) - isNaN(y);
        return desc ? y - x : x - y;
      }
      return desc ? y.localeCompare(x) : x.localeCompare(y);
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
    heads.forEach(function (h) { h.removeAttribute('data-dir'); });
    heads[col].setAttribute('data-dir', desc ? 'desc' : 'asc');
  }
  heads.forEach(function (th, col) {
    th.addEventListener('click', function () {
      var desc = th.getAttribute('data-dir') === 'asc';
      sortBy(col, desc);
      history.replaceState(null, '', '#sort=' + th.getAttribute('data-key') + (desc ? '-desc' : ''));
    });
  });
  var m = /^#sort=([a-z0-9_]+?)(-desc)?$/.exec(location.hash);
  if (m) {
    heads.forEach(function (th, col) {
      if (th.getAttribute('data-key') === m[1]) sortBy(col, !!m[2]);
    });
  }
  // The filter keeps the table rows and plots whose region contains the
  // text: with every US county on one page, a state is what people look for.
  var filter = document.getElementById('filter');
  filter.addEventListener('input', function () {
    var q = filter.value.toLowerCase();
    Array.prototype.forEach.call(tbody.rows, function (r) {
      r.style.display = r.cells[0].textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
    });
    document.querySelectorAll('figure').forEach(function (f) {
      var b = f.querySelector('figcaption b');
      f.style.display = !b || b.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
    });
  });
  // Say how many plots actually rendered, so a broken page is visible.
  var figs = document.querySelectorAll('svg.plot');
  var ok = 0;
  figs.forEach(function (s) {
    var box = s.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && s.querySelector('polyline, rect, circle, path')) ok++;
  });
  var status = document.getElementById('render-status');
  status.setAttribute('data-rendered', ok);
  status.setAttribute('data-total', figs.length);
  status.textContent = ok === figs.length ? '' : (figs.length - ok) + ' of ' + figs.length + ' plots failed to render';
  // Where the table ends, so a test can check it fits a 1400 px window.
  status.setAttribute('data-table-right', Math.ceil(table.getBoundingClientRect().right));
})();
"#;

/// Columns of the table: (key, header, numeric).
const COLUMNS: [(&str, &str, bool); 20] = [
    ("region", "region", false),
    ("population", "population", true),
    ("days", "days", true),
    ("r_0", "R_0", true),
    ("r_t", "R_t", true),
    ("l", "L (days)", true),
    ("k", "k", true),
    ("theta", "theta", true),
    ("d_inc", "D_inc", true),
    ("d_rec", "D_rec", true),
    ("at_bound", "at bound", false),
    ("not_identifiable", "not identifiable", false),
    ("msle", "MSLE", true),
    ("iterations", "iterations", true),
    ("evaluations", "evaluations", true),
    ("seconds", "seconds", true),
    ("cases_14d", "cases in 14 days (5-95 %)", true),
    ("deaths_14d", "deaths in 14 days (5-95 %)", true),
    ("status", "status", false),
    ("error", "error", false),
];

/// Gives inline SVG a class so the page's check can find it, and makes it
/// scale with its box.
fn tag_svg(svg: &str) -> String {
    svg.trim().replacen(
        "<svg ",
        "<svg class=\"plot\" preserveAspectRatio=\"xMidYMid meet\" ",
        1,
    )
}

fn num_cell(out: &mut String, v: Option<f64>, digits: usize) {
    match v {
        Some(x) if x.is_finite() => {
            let _ = write!(out, "<td data-v=\"{x}\">{x:.digits$}</td>");
        }
        _ => out.push_str("<td></td>"),
    }
}

fn int_cell(out: &mut String, v: Option<u64>) {
    match v {
        Some(x) => {
            let _ = write!(out, "<td>{x}</td>");
        }
        None => out.push_str("<td></td>"),
    }
}

/// The status as written in the table and its row class.
fn status_name(s: Status) -> &'static str {
    match s {
        Status::Fitted => "fitted",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
    }
}

/// A forecast interval: sorted by its median, shown as `median [5 %, 95 %]`.
fn interval_cell(out: &mut String, lo: Option<f64>, mid: Option<f64>, hi: Option<f64>) {
    match (lo, mid, hi) {
        (Some(l), Some(m), Some(h)) if m.is_finite() => {
            let g = super::group_thousands;
            let _ = write!(
                out,
                "<td class=\"iv\" data-v=\"{m}\">{} [{}, {}]</td>",
                g(m),
                g(l),
                g(h)
            );
        }
        _ => out.push_str("<td></td>"),
    }
}

fn table_row(out: &mut String, row: &SummaryRow) {
    let fitted = row.status == Status::Fitted;
    let _ = write!(out, "<tr class=\"{}\">", status_name(row.status));
    let name = escape(&row.region);
    if fitted {
        let _ = write!(
            out,
            "<td class=\"text\"><a href=\"{}/{REPORT_HTML}\">{name}</a></td>",
            escape(&href(&row.dir))
        );
    } else {
        let _ = write!(out, "<td class=\"text\">{name}</td>");
    }
    match row.population {
        Some(p) => {
            let _ = write!(out, "<td data-v=\"{p}\">{}</td>", super::group_thousands(p));
        }
        None => out.push_str("<td></td>"),
    }
    int_cell(out, row.days.map(|d| d as u64));
    num_cell(out, row.r_0, 3);
    num_cell(out, row.r_t, 3);
    num_cell(out, row.l, 1);
    num_cell(out, row.k, 2);
    num_cell(out, row.theta, 4);
    num_cell(out, row.d_inc, 2);
    num_cell(out, row.d_rec, 2);
    let _ = write!(
        out,
        "<td class=\"text\">{}</td>",
        escape(&row.at_bound.replace(';', " "))
    );
    let _ = write!(
        out,
        "<td class=\"text\">{}</td>",
        escape(&row.not_identifiable.replace(';', ", "))
    );
    match row.msle {
        Some(x) if x.is_finite() => {
            let _ = write!(out, "<td data-v=\"{x}\">{x:.4e}</td>");
        }
        _ => out.push_str("<td></td>"),
    }
    int_cell(out, row.iterations);
    int_cell(out, row.evaluations);
    // Fits take milliseconds.
    num_cell(out, row.seconds, 4);
    interval_cell(out, row.cases_14d_q05, row.cases_14d_q50, row.cases_14d_q95);
    interval_cell(
        out,
        row.deaths_14d_q05,
        row.deaths_14d_q50,
        row.deaths_14d_q95,
    );
    let _ = writeln!(
        out,
        "<td class=\"text\">{}</td><td class=\"err\">{}</td></tr>",
        status_name(row.status),
        escape(&row.error)
    );
}

/// Builds the page. `root` is the directory the page is written to (the
/// rows' `dir` are relative to it; thumbnails are read from there);
/// `subtitle` says what the batch was (window, data, settings).
pub fn index_html(root: &Path, summary: &Summary, subtitle: &str) -> Result<String, Error> {
    let fitted: Vec<&SummaryRow> = summary
        .regions
        .iter()
        .filter(|r| r.status == Status::Fitted)
        .collect();
    let r_0: Vec<f64> = fitted.iter().filter_map(|r| r.r_0).collect();
    let r_t: Vec<f64> = fitted.iter().filter_map(|r| r.r_t).collect();
    let msle: Vec<f64> = fitted.iter().filter_map(|r| r.msle).collect();

    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>seird-fit batch: {} regions</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        summary.regions.len()
    );
    let _ = writeln!(
        h,
        "<h1>SEIRD fits: {} regions, {} fitted, {} failed</h1>\n<p class=\"sub\">{}</p>\n<p id=\"render-status\"></p>",
        summary.regions.len(),
        summary.fitted,
        summary.failed,
        escape(subtitle)
    );

    h.push_str("<h2>All regions</h2>\n<div class=\"world\">\n");
    h.push_str(&tag_svg(&plot::r_distribution_svg(&r_0, &r_t)?));
    h.push('\n');
    h.push_str(&tag_svg(&plot::loss_svg(&msle)?));
    h.push_str("\n</div>\n");

    h.push_str(
        "<h2>Table</h2>\n<p class=\"sub\">Click a column to sort. Region names link to their reports.</p>\n\
         <p class=\"sub\"><label>Filter: <input id=\"filter\" type=\"search\" \
         placeholder=\"a name or state, e.g. US/New York/\"></label></p>\n\
         <div class=\"scroll\"><table id=\"regions\">\n<thead><tr>",
    );
    for (key, label, numeric) in COLUMNS {
        let class = if numeric { "" } else { " class=\"text\"" };
        let _ = write!(
            h,
            "<th data-key=\"{key}\" data-type=\"{}\"{class}>{}</th>",
            if numeric { "num" } else { "text" },
            escape(label)
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in &summary.regions {
        table_row(&mut h, row);
    }
    h.push_str("</tbody>\n</table></div>\n");

    h.push_str(
        "<h2>Fits</h2>\n<p class=\"sub legend\">\
         <span><i class=\"swatch\" style=\"background:#1f77b4\"></i>cases</span>\
         <span><i class=\"swatch\" style=\"background:#d62728\"></i>deaths</span>\
         <span>thin: observed; thick: model; dashed: forecast; shaded: training window; log scale</span></p>\n\
         <div class=\"grid\">\n",
    );
    for row in &fitted {
        let thumb_path = root.join(&row.dir).join(THUMB_SVG);
        let thumb = match std::fs::read_to_string(&thumb_path) {
            // Thumbnails may come from another run's directory (merge):
            // only SVG made of plain drawing elements is pasted in.
            Ok(svg) if svg.trim_start().starts_with("<svg") && crate::text::is_plain_svg(&svg) => {
                tag_svg(&svg)
            }
            Ok(_) => "<p>(plot refused: not a plain SVG drawing)</p>".to_string(),
            _ => "<p>(plot missing)</p>".to_string(),
        };
        let _ = writeln!(
            h,
            "<figure><a href=\"{}/{REPORT_HTML}\">{thumb}</a><figcaption><b>{}</b>R_0 {} &rarr; R_t {} &middot; MSLE {}</figcaption></figure>",
            escape(&href(&row.dir)),
            escape(&row.region),
            row.r_0.map_or("-".into(), |v| format!("{v:.2}")),
            row.r_t.map_or("-".into(), |v| format!("{v:.2}")),
            row.msle.map_or("-".into(), |v| format!("{v:.3e}")),
        );
    }
    h.push_str("</div>\n");
    let _ = write!(h, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    Ok(h)
}

/// Writes `index.html` into `root`, atomically.
pub fn write_index(root: &Path, summary: &Summary, subtitle: &str) -> Result<(), Error> {
    let html = index_html(root, summary, subtitle)?;
    write_atomic(&root.join(INDEX_HTML), html.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_paths_are_escaped() {
        assert_eq!(
            escape("Cote d'Ivoire <&>\""),
            "Cote d&#39;Ivoire &lt;&amp;&gt;&quot;"
        );
        assert_eq!(href("shard 1/korea-south"), "shard%201/korea-south");
        assert_eq!(href("../a/b"), "../a/b");
    }
}
