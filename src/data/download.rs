//! Downloading real data: the JHU CSSE global time series and lookup table,
//! or the OWID file, over HTTPS with `ureq`.
//!
//! Every file of a source is first streamed into a temporary file beside its
//! destination and checked (the byte count against `Content-Length`, the
//! header against the expected layout, the rows as CSV); only when every
//! file of the source has arrived whole are they renamed into place. A
//! failed or partial transfer therefore leaves the old files untouched.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{table, Layout};
use crate::error::DataError;

/// Where a data set can be downloaded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// JHU CSSE COVID-19 repository: global confirmed and deaths time series
    /// (wide layout) and the UID lookup table with populations.
    Jhu,
    /// Our World in Data's `owid-covid-data.csv` (carries its populations).
    Owid,
}

/// One file of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteFile {
    /// Path below the source's base URL.
    pub remote: &'static str,
    /// File name written into the output directory.
    pub local: &'static str,
    /// The layout its header must have; `None` for the lookup table.
    pub layout: Option<Layout>,
}

impl Source {
    /// Every source, in the order the command line lists them.
    pub const ALL: [Source; 2] = [Source::Jhu, Source::Owid];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Source::Jhu => "jhu",
            Source::Owid => "owid",
        }
    }

    /// The default base URL (the repository's raw files).
    pub fn base_url(self) -> &'static str {
        match self {
            Source::Jhu => {
                "https://raw.githubusercontent.com/CSSEGISandData/COVID-19/master/csse_covid_19_data"
            }
            Source::Owid => "https://raw.githubusercontent.com/owid/covid-19-data/master/public/data",
        }
    }

    /// The files this source consists of.
    pub fn files(self) -> &'static [RemoteFile] {
        match self {
            Source::Jhu => &[
                RemoteFile {
                    remote: "csse_covid_19_time_series/time_series_covid19_confirmed_global.csv",
                    local: super::jhu_wide::CONFIRMED_FILE,
                    layout: Some(Layout::JhuWide),
                },
                RemoteFile {
                    remote: "csse_covid_19_time_series/time_series_covid19_deaths_global.csv",
                    local: super::jhu_wide::DEATHS_FILE,
                    layout: Some(Layout::JhuWide),
                },
                RemoteFile {
                    remote: "UID_ISO_FIPS_LookUp_Table.csv",
                    local: super::population::LOOKUP_FILE,
                    layout: None,
                },
            ],
            Source::Owid => &[RemoteFile {
                remote: "owid-covid-data.csv",
                local: "owid-covid-data.csv",
                layout: Some(Layout::Owid),
            }],
        }
    }
}

/// A file that was downloaded and put in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Where it now is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its data rows (CSV records after the header).
    pub rows: u64,
}

/// Downloads every file of `source` into `out` (created if needed), from
/// `base_url` (default: [`Source::base_url`]). All or nothing: the files
/// are renamed into place only after all of them arrived whole.
pub fn download(
    source: Source,
    base_url: Option<&str>,
    out: &Path,
) -> Result<Vec<Downloaded>, DataError> {
    std::fs::create_dir_all(out).map_err(|e| DataError::Io {
        path: out.to_path_buf(),
        source: e,
    })?;
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(15))
        .timeout_read(Duration::from_secs(60))
        .user_agent(concat!("seird-fit/", env!("CARGO_PKG_VERSION")))
        .build();
    let base = base_url.unwrap_or(source.base_url()).trim_end_matches('/');
    let mut staged = Vec::new();
    for f in source.files() {
        let url = format!("{base}/{}", f.remote);
        let dest = out.join(f.local);
        staged.push(fetch(&agent, &url, &dest, f.layout)?);
    }
    let mut done = Vec::new();
    for (tmp, info) in staged {
        tmp.persist(&info.path).map_err(|e| DataError::Io {
            path: info.path.clone(),
            source: e.error,
        })?;
        done.push(info);
    }
    Ok(done)
}

/// Streams `url` into a temporary file beside `dest` and checks it; the
/// caller renames it into place.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    dest: &Path,
    layout: Option<Layout>,
) -> Result<(tempfile::NamedTempFile, Downloaded), DataError> {
    let fail = |problem: String| DataError::Download {
        url: url.to_string(),
        problem,
    };
    let resp = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Status(code, r) => fail(format!("HTTP {code} {}", r.status_text())),
        ureq::Error::Transport(t) => {
            // ureq's own Display repeats the URL, which our message leads with.
            let mut m = t.kind().to_string();
            if let Some(msg) = t.message() {
                m = format!("{m}: {msg}");
            }
            if let Some(src) = std::error::Error::source(&t) {
                m = format!("{m}: {src}");
            }
            fail(m)
        }
    })?;
    let expected: Option<u64> = resp
        .header("Content-Length")
        .and_then(|v| v.trim().parse().ok());
    let dir = dest.parent().unwrap_or(Path::new("."));
    let io = |source| DataError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".seird-fit-download-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    let mut body = resp.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(fail(format!(
                    "transfer broken after {bytes} bytes{}: {e}",
                    expected.map(|n| format!(" of {n}")).unwrap_or_default()
                )))
            }
        };
        tmp.write_all(&buf[..n]).map_err(io)?;
        bytes += n as u64;
    }
    if let Some(n) = expected {
        if n != bytes {
            return Err(fail(format!(
                "transfer cut short: {bytes} of {n} bytes arrived"
            )));
        }
    }
    tmp.as_file().sync_all().map_err(io)?;
    let rows = check_csv(tmp.path(), layout).map_err(fail)?;
    Ok((
        tmp,
        Downloaded {
            path: dest.to_path_buf(),
            bytes,
            rows,
        },
    ))
}

/// Checks that a downloaded file is CSV with the expected layout's header
/// (not, say, an HTML error page) and counts its data rows. Problems are
/// returned as text: the temporary file's name would only confuse.
fn check_csv(path: &Path, layout: Option<Layout>) -> Result<u64, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut rdr = table::reader(BufReader::new(file));
    let raw: Vec<String> = rdr
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    let short: String = raw.join(",").chars().take(80).collect();
    match layout {
        Some(want) if Layout::detect(&raw) != Some(want) => {
            return Err(format!(
                "header '{short}' is not the {} layout ({})",
                want.name(),
                want.header()
            ))
        }
        None => {
            // The lookup table: the columns populations are read from.
            let norm: Vec<String> = raw.iter().map(|h| table::normalise(h)).collect();
            for c in ["Admin2", "Province_State", "Country_Region", "Population"] {
                if !table::has_all(&norm, &[c]) {
                    return Err(format!("header '{short}' lacks column '{c}'"));
                }
            }
        }
        _ => {}
    }
    let mut rows = 0u64;
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).map_err(|e| e.to_string())? {
        rows += 1;
    }
    Ok(rows)
}
