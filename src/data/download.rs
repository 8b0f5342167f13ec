//! Downloading real data: the JHU CSSE global time series and lookup table,
//! the JHU CSSE US county time series, or the OWID file, over HTTPS with
//! `ureq`.
//!
//! Every file of a source is first streamed into a temporary file beside its
//! destination, within bounds: an overall deadline, an idle limit (less than
//! [`MIN_PROGRESS`] bytes in an idle period cuts the transfer, so a server
//! trickling a byte every 20 s cannot hold the client) and a size cap. Then
//! the whole source is validated: the byte count against `Content-Length`,
//! the header against the expected layout, and every file read by the same
//! loader `seird-fit --data` uses (a pair of time series together, so a pair
//! whose files disagree, as one cut short at a line boundary does, is
//! refused); a file with fewer rows than the one it would replace is refused
//! too (these series only grow; a body without `Content-Length` that the
//! server cut at a line boundary looks complete otherwise). Only when every
//! file passed are they made readable (0644, like every other output) and
//! renamed into place. A failed, partial or invalid transfer therefore leaves
//! the old files untouched.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{jhu_us, jhu_wide, owid, population, table, Layout};
use crate::error::DataError;

/// Where a data set can be downloaded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// JHU CSSE COVID-19 repository: global confirmed and deaths time series
    /// (wide layout) and the UID lookup table with populations.
    Jhu,
    /// JHU CSSE COVID-19 repository: the US county confirmed and deaths time
    /// series (the deaths file carries the populations).
    JhuUs,
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

/// Prefix of the temporary files a download streams into; what a killed
/// download left behind is recognised by it ([`crate::io::TEMP_PREFIX`]...).
pub const TEMP_PREFIX: &str = ".seird-fit-download-";

/// The fewest bytes that must arrive in every idle period
/// ([`Limits::idle`]) for a transfer to go on.
pub const MIN_PROGRESS: u64 = 1024;

impl Source {
    /// Every source, in the order the command line lists them.
    pub const ALL: [Source; 3] = [Source::Jhu, Source::JhuUs, Source::Owid];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Source::Jhu => "jhu",
            Source::JhuUs => "jhu-us",
            Source::Owid => "owid",
        }
    }

    /// The default output directory: one per source below `data/`, so a
    /// download never overwrites the demo data set in `data/` itself (nor
    /// one source another), and `--data data/<dir>` reads it.
    pub fn default_dir(self) -> &'static str {
        match self {
            Source::Jhu => "data/jhu",
            Source::JhuUs => "data/jhu_us",
            Source::Owid => "data/owid",
        }
    }

    /// The default base URL (the repository's raw files).
    pub fn base_url(self) -> &'static str {
        match self {
            Source::Jhu | Source::JhuUs => {
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
                    local: jhu_wide::CONFIRMED_FILE,
                    layout: Some(Layout::JhuWide),
                },
                RemoteFile {
                    remote: "csse_covid_19_time_series/time_series_covid19_deaths_global.csv",
                    local: jhu_wide::DEATHS_FILE,
                    layout: Some(Layout::JhuWide),
                },
                RemoteFile {
                    remote: "UID_ISO_FIPS_LookUp_Table.csv",
                    local: population::LOOKUP_FILE,
                    layout: None,
                },
            ],
            Source::JhuUs => &[
                RemoteFile {
                    remote: "csse_covid_19_time_series/time_series_covid19_confirmed_US.csv",
                    local: jhu_us::CONFIRMED_FILE,
                    layout: Some(Layout::JhuUs),
                },
                RemoteFile {
                    remote: "csse_covid_19_time_series/time_series_covid19_deaths_US.csv",
                    local: jhu_us::DEATHS_FILE,
                    layout: Some(Layout::JhuUs),
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

/// Bounds on one file's transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Overall deadline of a file's transfer, from the request to the last
    /// byte.
    pub timeout: Duration,
    /// The transfer is cut when less than [`MIN_PROGRESS`] bytes arrive in
    /// this long (also the connect and socket read timeout).
    pub idle: Duration,
    /// Largest accepted body, in bytes.
    pub max_bytes: u64,
}

impl Default for Limits {
    /// 300 s, 30 s idle, 1 GB: the real files are 0.4 to 100 MB, and a
    /// working connection moves far more than 1 KiB in 30 s.
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(300),
            idle: Duration::from_secs(30),
            max_bytes: 1_000_000_000,
        }
    }
}

/// How to download: where from, within which bounds.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Base URL instead of [`Source::base_url`] (a mirror, a test server).
    pub base_url: Option<String>,
    /// Bounds on each file's transfer.
    pub limits: Limits,
    /// Accept a file with fewer data rows than the one it replaces.
    pub allow_shrink: bool,
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
/// `base_url` (default: [`Source::base_url`]), with the default [`Limits`].
pub fn download(
    source: Source,
    base_url: Option<&str>,
    out: &Path,
) -> Result<Vec<Downloaded>, DataError> {
    let opts = Options {
        base_url: base_url.map(str::to_string),
        ..Options::default()
    };
    download_with(source, &opts, out)
}

/// Downloads every file of `source` into `out` (created if needed). All or
/// nothing: the files are renamed into place only after all of them arrived
/// whole and passed validation (see the module doc).
pub fn download_with(
    source: Source,
    opts: &Options,
    out: &Path,
) -> Result<Vec<Downloaded>, DataError> {
    std::fs::create_dir_all(out).map_err(|e| DataError::Io {
        path: out.to_path_buf(),
        source: e,
    })?;
    let limits = opts.limits;
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(limits.idle.min(limits.timeout))
        // Bounds every socket read, so the worker thread of a transfer that
        // was given up ends soon after.
        .timeout_read(limits.idle.min(limits.timeout))
        .user_agent(concat!("seird-fit/", env!("CARGO_PKG_VERSION")))
        .build();
    let base = opts
        .base_url
        .as_deref()
        .unwrap_or(source.base_url())
        .trim_end_matches('/');
    let mut staged = Vec::new();
    for f in source.files() {
        let url = format!("{base}/{}", f.remote);
        let dest = out.join(f.local);
        let (tmp, info) = fetch(&agent, &url, &dest, f.layout, &limits)?;
        staged.push(Staged { tmp, info, url });
    }
    validate(source, &staged)?;
    if !opts.allow_shrink {
        for s in &staged {
            check_not_shrinking(s)?;
        }
    }
    let mut done = Vec::new();
    for Staged { tmp, info, .. } in staged {
        let io = |source| DataError::Io {
            path: info.path.clone(),
            source,
        };
        crate::io::make_readable(tmp.path()).map_err(io)?;
        tmp.persist(&info.path).map_err(|e| io(e.error))?;
        done.push(info);
    }
    Ok(done)
}

/// A file that arrived and waits for the whole source to pass.
struct Staged {
    tmp: tempfile::NamedTempFile,
    info: Downloaded,
    url: String,
}

/// What the transfer thread reports.
enum Msg {
    /// The response's headers arrived: its `Content-Length`, if any.
    Head(Option<u64>),
    /// Some bytes of the body.
    Data(Vec<u8>),
    /// The body ended.
    End,
    /// The request or the transfer failed.
    Fail(String),
}

/// ureq's error as one line without the URL (our message leads with it).
fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Status(code, r) => format!("HTTP {code} {}", r.status_text()),
        ureq::Error::Transport(t) => {
            let mut m = t.kind().to_string();
            if let Some(msg) = t.message() {
                m = format!("{m}: {msg}");
            }
            if let Some(src) = std::error::Error::source(&t) {
                m = format!("{m}: {src}");
            }
            m
        }
    }
}

/// Runs the request and reads the body in a thread of its own, sending what
/// arrives; the caller enforces the deadlines, which a blocking `read` (or
/// ureq's own connect and header phase) could not.
fn spawn_transfer(agent: &ureq::Agent, url: &str) -> mpsc::Receiver<Msg> {
    use std::io::Read as _;
    let (tx, rx) = mpsc::sync_channel(8);
    let agent = agent.clone();
    let url = url.to_string();
    std::thread::spawn(move || {
        let resp = match agent.get(&url).call() {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Msg::Fail(describe(e)));
                return;
            }
        };
        let length = resp
            .header("Content-Length")
            .and_then(|v| v.trim().parse().ok());
        if tx.send(Msg::Head(length)).is_err() {
            return;
        }
        let mut body = resp.into_reader();
        loop {
            let mut buf = vec![0u8; 1 << 16];
            match body.read(&mut buf) {
                Ok(0) => {
                    let _ = tx.send(Msg::End);
                    return;
                }
                Ok(n) => {
                    buf.truncate(n);
                    // A closed channel: the caller gave up; stop reading.
                    if tx.send(Msg::Data(buf)).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Msg::Fail(e.to_string()));
                    return;
                }
            }
        }
    });
    rx
}

/// `d` as people write it: `300 s`, `0.5 s`.
fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// Streams `url` into a temporary file beside `dest` within `limits` and
/// checks it; the caller renames it into place.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    dest: &Path,
    layout: Option<Layout>,
    limits: &Limits,
) -> Result<(tempfile::NamedTempFile, Downloaded), DataError> {
    let fail = |problem: String| DataError::Download {
        url: url.to_string(),
        problem,
    };
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let io = |source| DataError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    let rx = spawn_transfer(agent, url);
    let start = Instant::now();
    let deadline = start + limits.timeout;
    let (mut window_start, mut window_bytes) = (start, 0u64);
    let mut expected: Option<u64> = None;
    let mut bytes = 0u64;
    let so_far = |bytes: u64, expected: Option<u64>| {
        format!(
            "{bytes} bytes{}",
            expected.map(|n| format!(" of {n}")).unwrap_or_default()
        )
    };
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(fail(format!(
                "not complete within the {} deadline (--timeout): {} arrived",
                secs(limits.timeout),
                so_far(bytes, expected)
            )));
        }
        let wait = deadline
            .min(window_start + limits.idle)
            .saturating_duration_since(now);
        match rx.recv_timeout(wait) {
            Ok(Msg::Head(length)) => {
                if let Some(n) = length.filter(|&n| n > limits.max_bytes) {
                    return Err(fail(format!(
                        "Content-Length {n} bytes is over the size cap of {} bytes (--max-bytes)",
                        limits.max_bytes
                    )));
                }
                expected = length;
            }
            Ok(Msg::Data(chunk)) => {
                bytes += chunk.len() as u64;
                if bytes > limits.max_bytes {
                    return Err(fail(format!(
                        "body over the size cap of {} bytes (--max-bytes)",
                        limits.max_bytes
                    )));
                }
                tmp.write_all(&chunk).map_err(io)?;
            }
            Ok(Msg::End) => break,
            Ok(Msg::Fail(m)) if expected.is_none() && bytes == 0 => return Err(fail(m)),
            Ok(Msg::Fail(m)) => {
                return Err(fail(format!(
                    "transfer broken after {}: {m}",
                    so_far(bytes, expected)
                )))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(fail("the transfer ended without a reason".into()))
            }
        }
        let now = Instant::now();
        if now >= window_start + limits.idle {
            if bytes - window_bytes < MIN_PROGRESS {
                return Err(fail(format!(
                    "stalled: {} bytes in the last {} (less than {MIN_PROGRESS} per --idle-timeout), {} arrived",
                    bytes - window_bytes,
                    secs(limits.idle),
                    so_far(bytes, expected)
                )));
            }
            (window_start, window_bytes) = (now, bytes);
        }
    }
    if let Some(n) = expected {
        if n != bytes {
            return Err(fail(format!(
                "transfer cut short: {bytes} of {n} bytes arrived"
            )));
        }
    }
    tmp.as_file().sync_all().map_err(io)?;
    let rows = check_csv(tmp.path(), url, layout)?;
    Ok((
        tmp,
        Downloaded {
            path: dest.to_path_buf(),
            bytes,
            rows,
        },
    ))
}

/// Checks that a downloaded file (at `path`, from `url`) is CSV with the
/// expected layout's header (not, say, an HTML error page) and counts its
/// data rows. Errors name the URL: the temporary file's name would only
/// confuse.
fn check_csv(path: &Path, url: &str, layout: Option<Layout>) -> Result<u64, DataError> {
    let fail = |problem: String| DataError::Download {
        url: url.to_string(),
        problem,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut rdr = table::reader(BufReader::new(file));
    let raw = table::raw_header(&mut rdr, Path::new(url))?;
    let short = crate::text::quoted(&raw.join(","));
    match layout {
        Some(want) if Layout::detect(&raw) != Some(want) => {
            return Err(fail(format!(
                "header {short} is not the {} layout ({})",
                want.name(),
                want.header()
            )))
        }
        None => {
            // The lookup table: the columns populations are read from.
            let norm: Vec<String> = raw.iter().map(|h| table::normalise(h)).collect();
            for c in ["Admin2", "Province_State", "Country_Region", "Population"] {
                if !table::has_all(&norm, &[c]) {
                    return Err(fail(format!("header {short} lacks column '{c}'")));
                }
            }
        }
        _ => {}
    }
    let mut rows = 0u64;
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| table::csv_error(&rdr, Path::new(url), e))?
    {
        rows += 1;
    }
    Ok(rows)
}

/// Reads the staged files of `source` with the loaders `--data` uses, each
/// named by its URL in errors: if a loader would reject the data, nothing is
/// replaced.
fn validate(source: Source, staged: &[Staged]) -> Result<(), DataError> {
    let open = |s: &Staged| {
        std::fs::File::open(s.tmp.path())
            .map(BufReader::new)
            .map_err(|e| DataError::Io {
                path: s.info.path.clone(),
                source: e,
            })
    };
    let name = |s: &Staged| PathBuf::from(&s.url);
    let refused = |e: DataError| DataError::Refused {
        source: Box::new(e),
    };
    match (source, staged) {
        (Source::Jhu, [c, d, lookup]) => {
            jhu_wide::read(open(c)?, &name(c), open(d)?, &name(d), false).map_err(refused)?;
            population::read(open(lookup)?, &name(lookup)).map_err(refused)?;
        }
        (Source::JhuUs, [c, d]) => {
            jhu_us::read(open(c)?, &name(c), open(d)?, &name(d), false).map_err(refused)?;
        }
        (Source::Owid, [f]) => {
            owid::read(open(f)?, &name(f), false).map_err(refused)?;
        }
        _ => unreachable!("Source::files lists the files validate expects"),
    }
    Ok(())
}

/// Refuses a file with fewer data rows than the one it would replace: the
/// sources only ever add rows, and a body cut at a line boundary (with no
/// `Content-Length` to tell) is otherwise valid CSV. An old file that cannot
/// be read as CSV does not count.
fn check_not_shrinking(s: &Staged) -> Result<(), DataError> {
    let Ok(file) = std::fs::File::open(&s.info.path) else {
        return Ok(());
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::new(file));
    let mut rec = csv::ByteRecord::new();
    let mut old = 0u64;
    while let Ok(true) = rdr.read_byte_record(&mut rec) {
        old += 1;
    }
    if s.info.rows < old {
        return Err(DataError::Download {
            url: s.url.clone(),
            problem: format!(
                "{} data rows, fewer than the {old} of {} it would replace (cut short?); \
                 nothing was replaced (--allow-shrink accepts it)",
                s.info.rows,
                s.info.path.display()
            ),
        });
    }
    Ok(())
}
