//! CSV plumbing shared by the layout readers: header normalisation, column
//! lookup, parsing dates and counts with file:line:column errors, and the
//! [`Collector`] that turns rows into sorted, checked daily series.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;

use super::{RegionKey, RegionSeries};
use crate::error::DataError;

/// A CSV reader over [`Lines`]: the settings every layout uses.
pub(crate) type Reader<R> = csv::Reader<Lines<R>>;

/// A CSV reader with the settings every layout uses: a header row, strict
/// field counts (a short row is an error, not silently padded), and
/// physical line numbers for errors (see [`Lines`]).
pub(crate) fn reader<R: Read>(r: R) -> Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(Lines::new(r))
}

/// A reader that records where the input's line breaks are, so an error can
/// name the physical line of a byte offset: `\n`, `\r\n` and a lone `\r`
/// each end one line, blank lines count, and a line break inside a quoted
/// field counts too (the line is where the record starts, as an editor
/// shows it). The csv crate's own `Position::line()` counts only `\n`
/// record ends, so it is wrong for CR-only files, skips blank lines, and
/// was one too small in CRLF files. Two `u64` per line are kept (1.3 MB for
/// the 80,000 lines of the Kaggle file).
pub(crate) struct Lines<R> {
    inner: R,
    /// The line breaks seen so far: the offset of their first byte and the
    /// offset just after them (2 bytes for `\r\n`).
    breaks: Vec<(u64, u64)>,
    /// Bytes read so far.
    offset: u64,
    /// Whether the last byte read was `\r` (a `\n` next is the same break).
    after_cr: bool,
}

impl<R> Lines<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Lines {
            inner,
            breaks: Vec::new(),
            offset: 0,
            after_cr: false,
        }
    }

    /// The 1-based physical line of a record that csv says starts at byte
    /// `offset` (which must have been read already). csv reports the start
    /// of the blank lines it skipped before a record, so empty lines from
    /// `offset` on are skipped here too.
    pub fn line_of(&self, offset: u64) -> u64 {
        let mut k = self.breaks.partition_point(|&(start, _)| start < offset);
        let mut line_start = if k == 0 { 0 } else { self.breaks[k - 1].1 };
        line_start = line_start.max(offset);
        while let Some(&(start, end)) = self.breaks.get(k) {
            if start != line_start {
                break;
            }
            line_start = end;
            k += 1;
        }
        1 + k as u64
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = &buf[..n];
        for i in memchr::memchr2_iter(b'\r', b'\n', got) {
            let at = self.offset + i as u64;
            let crlf = got[i] == b'\n'
                && if i == 0 {
                    self.after_cr
                } else {
                    got[i - 1] == b'\r'
                };
            match self.breaks.last_mut() {
                // The `\n` of a `\r\n`: the same break, one byte longer.
                Some(last) if crlf => last.1 = at + 1,
                _ => self.breaks.push((at, at + 1)),
            }
        }
        if let Some(&last) = got.last() {
            self.after_cr = last == b'\r';
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The physical line of a position the reader reported (0 when none).
pub(crate) fn line_at<R: Read>(rdr: &Reader<R>, pos: Option<&csv::Position>) -> u64 {
    pos.map(|p| rdr.get_ref().line_of(p.byte())).unwrap_or(0)
}

/// The physical line where record `rec` (just read by `rdr`) starts.
pub(crate) fn line<R: Read>(rdr: &Reader<R>, rec: &csv::StringRecord) -> u64 {
    line_at(rdr, rec.position())
}

/// The header as written (not normalised), or a one-line error.
pub(crate) fn raw_header<R: Read>(
    rdr: &mut Reader<R>,
    path: &Path,
) -> Result<Vec<String>, DataError> {
    let e = match rdr.headers() {
        Ok(h) => return Ok(h.iter().map(str::to_string).collect()),
        Err(e) => e,
    };
    Err(csv_error(rdr, path, e))
}

/// Normalises a header cell for matching: trimmed, without a UTF-8 BOM,
/// lower-case. Layouts are matched on these, so `Date` and `date` agree.
pub(crate) fn normalise(cell: &str) -> String {
    cell.trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// Reads and normalises the header; an empty input is [`DataError::Empty`].
pub(crate) fn header<R: Read>(rdr: &mut Reader<R>, path: &Path) -> Result<Vec<String>, DataError> {
    let h = raw_header(rdr, path)?;
    if h.iter().all(|c| c.trim().is_empty()) {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(h.iter().map(|c| normalise(c)).collect())
}

/// The index of column `name` (already normalised) or a
/// [`DataError::MissingColumn`] naming it as the layout spells it.
pub(crate) fn column(header: &[String], name: &str, path: &Path) -> Result<usize, DataError> {
    let want = normalise(name);
    header
        .iter()
        .position(|h| *h == want)
        .ok_or_else(|| DataError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
        })
}

/// Whether the normalised header has every one of `names`.
pub(crate) fn has_all(header: &[String], names: &[&str]) -> bool {
    names
        .iter()
        .all(|n| header.iter().any(|h| *h == normalise(n)))
}

/// Converts a csv error of `rdr` into a one-line [`DataError`] with its
/// physical line.
pub(crate) fn csv_error<R: Read>(rdr: &Reader<R>, path: &Path, e: csv::Error) -> DataError {
    let line = line_at(rdr, e.position());
    match e.into_kind() {
        csv::ErrorKind::Io(source) => DataError::Io {
            path: path.to_path_buf(),
            source,
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => DataError::Csv {
            path: path.to_path_buf(),
            line,
            problem: format!("{len} fields, but the header has {expected_len}"),
        },
        csv::ErrorKind::Utf8 { err, .. } => DataError::Csv {
            path: path.to_path_buf(),
            line,
            problem: format!("invalid UTF-8 in field {}", err.field() + 1),
        },
        other => DataError::Csv {
            path: path.to_path_buf(),
            line,
            problem: format!("{other:?}"),
        },
    }
}

/// Parses a date as the sources write them: ISO `2020-01-22` (Kaggle, long
/// layouts, OWID) or US `1/22/20` / `1/22/2020` (JHU wide headers).
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if t.contains('/') {
        // chrono's %Y happily reads "20" as the year 20, so pick the format
        // by the width of the year.
        let year = t.rsplit('/').next().unwrap_or("");
        let fmt = if year.len() <= 2 {
            "%m/%d/%y"
        } else {
            "%m/%d/%Y"
        };
        NaiveDate::parse_from_str(t, fmt).ok()
    } else {
        // ISO dates through FromStr: a fixed item list instead of parsing the
        // "%Y-%m-%d" format string on every cell (a fifth of loading time).
        t.parse::<NaiveDate>().ok()
    }
}

/// The date columns of a wide header (JHU global and US): every column not
/// named in `non_date` (lowercased, as `header` is) must parse as a date;
/// returns `(column index, date)` in column order. `raw` is the header as
/// written, for the error.
pub(crate) fn date_columns(
    header: &[String],
    raw: &[String],
    non_date: &[&str],
    path: &Path,
) -> Result<Vec<(usize, NaiveDate)>, DataError> {
    let mut days = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if non_date.contains(&h.as_str()) {
            continue;
        }
        let d = parse_date(h).ok_or_else(|| DataError::Field {
            path: path.to_path_buf(),
            line: 1,
            column: i + 1,
            field: raw[i].clone(),
            problem: format!(
                "cannot parse column name {} as a date (M/D/YY)",
                crate::text::quoted(&raw[i])
            ),
        })?;
        days.push((i, d));
    }
    Ok(days)
}

/// One field of one record, with everything an error message needs.
pub(crate) struct Cell<'a> {
    /// The file.
    pub path: &'a Path,
    /// 1-based line of the record.
    pub line: u64,
    /// 0-based column index.
    pub index: usize,
    /// The column's name as in the header.
    pub name: &'a str,
    /// The raw text.
    pub text: &'a str,
}

impl Cell<'_> {
    /// Takes field `index` of `rec`, a record starting on physical line
    /// `line` (see [`line`]).
    pub fn of<'a>(
        path: &'a Path,
        line: u64,
        rec: &'a csv::StringRecord,
        index: usize,
        name: &'a str,
    ) -> Cell<'a> {
        Cell {
            path,
            line,
            index,
            name,
            text: rec.get(index).unwrap_or(""),
        }
    }

    /// An error about this cell.
    pub fn error(&self, problem: String) -> DataError {
        DataError::Field {
            path: self.path.to_path_buf(),
            line: self.line,
            column: self.index + 1,
            field: self.name.to_string(),
            problem,
        }
    }

    /// The field as a date.
    pub fn date(&self) -> Result<NaiveDate, DataError> {
        parse_date(self.text).ok_or_else(|| {
            self.error(format!(
                "cannot parse {} as a date (YYYY-MM-DD or M/D/YY)",
                crate::text::quoted(self.text)
            ))
        })
    }

    /// The field as a count: finite, and non-negative unless
    /// `allow_negative` (daily counts may carry corrections). `None` when empty.
    pub fn count(&self, allow_negative: bool) -> Result<Option<f64>, DataError> {
        let t = self.text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let v: f64 = t.parse().map_err(|_| {
            self.error(format!(
                "cannot parse {} as a number",
                crate::text::quoted(t)
            ))
        })?;
        if !v.is_finite() {
            return Err(self.error(format!("{} is not a finite number", crate::text::quoted(t))));
        }
        if v < 0.0 && !allow_negative {
            return Err(self.error(format!("negative count {}", crate::text::for_terminal(t))));
        }
        Ok(Some(v))
    }

    /// The field as a count that must be present.
    pub fn required_count(&self, allow_negative: bool) -> Result<f64, DataError> {
        self.count(allow_negative)?
            .ok_or_else(|| self.error("empty (a count is required)".into()))
    }
}

/// A region name cell: trimmed; empty means "none" (whole country).
pub(crate) fn optional_name(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// One day of one region as read, before checks.
#[derive(Debug, Clone, Copy)]
struct Row {
    cases: Option<f64>,
    deaths: Option<f64>,
    line: u64,
}

/// How [`Collector::finish`] treats a day whose count is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// An error: every day must carry both counts.
    Error,
    /// Carry the last reported cumulative value forward (0 before the first
    /// report). OWID leaves totals empty until a location reports, and a
    /// cumulative count does not change without a report.
    CarryForward,
}

/// Gathers rows of any layout per region, keyed by date; rejects duplicate
/// dates as they arrive and checks the series when finished.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    rows: BTreeMap<RegionKey, BTreeMap<NaiveDate, Row>>,
    populations: BTreeMap<RegionKey, f64>,
    /// Two files fill in one count each (the JHU wide pair), so a day seen
    /// before is a duplicate only if the same count is set again.
    merging: bool,
}

impl Collector {
    /// A collector for a pair of files that each give one count per day.
    pub fn merging() -> Collector {
        Collector {
            merging: true,
            ..Collector::default()
        }
    }

    /// Records cases and/or deaths of `key` on `date` (read at `path:line`).
    /// Setting a count that is already set is a duplicate date.
    pub fn insert(
        &mut self,
        path: &Path,
        line: u64,
        key: &RegionKey,
        date: NaiveDate,
        cases: Option<f64>,
        deaths: Option<f64>,
    ) -> Result<(), DataError> {
        // Avoid cloning the key for every row of a region already seen.
        let days = match self.rows.get_mut(key) {
            Some(d) => d,
            None => self.rows.entry(key.clone()).or_default(),
        };
        let mut seen = true;
        let row = days.entry(date).or_insert_with(|| {
            seen = false;
            Row {
                cases: None,
                deaths: None,
                line,
            }
        });
        let dup = if self.merging {
            (cases.is_some() && row.cases.is_some()) || (deaths.is_some() && row.deaths.is_some())
        } else {
            seen
        };
        if dup {
            return Err(DataError::DuplicateDate {
                path: path.to_path_buf(),
                line,
                date: date.to_string(),
                region: key.display_name(),
            });
        }
        row.cases = row.cases.or(cases);
        row.deaths = row.deaths.or(deaths);
        Ok(())
    }

    /// Marks a region as seen even if it has no rows yet (so the last
    /// population value can be recorded).
    pub fn set_population(&mut self, key: &RegionKey, population: f64) {
        self.populations.insert(key.clone(), population);
    }

    /// Checks and assembles the series: dates consecutive (sorted already),
    /// counts present (or carried forward), and with `incident` the daily
    /// counts summed into cumulative ones, which must not go negative.
    pub fn finish(
        self,
        path: &Path,
        missing: Missing,
        incident: bool,
    ) -> Result<Vec<RegionSeries>, DataError> {
        let mut out = Vec::with_capacity(self.rows.len());
        for (key, days) in self.rows {
            let n = days.len();
            let mut dates: Vec<NaiveDate> = Vec::with_capacity(n);
            let mut cases = Vec::with_capacity(n);
            let mut deaths = Vec::with_capacity(n);
            let mut lines = Vec::with_capacity(n);
            for (date, row) in days {
                if let Some(&prev) = dates.last() {
                    if prev + chrono::Days::new(1) != date {
                        return Err(DataError::DateGap {
                            path: path.to_path_buf(),
                            region: key.display_name(),
                            after: prev.to_string(),
                            next: date.to_string(),
                        });
                    }
                }
                let fill = |v: Option<f64>, prev: Option<&f64>, what: &str| match (v, missing) {
                    (Some(v), _) => Ok(v),
                    (None, Missing::CarryForward) => Ok(if incident {
                        0.0
                    } else {
                        prev.copied().unwrap_or(0.0)
                    }),
                    (None, Missing::Error) => Err(DataError::Inconsistent {
                        path: path.to_path_buf(),
                        problem: format!(
                            "region {}: no {what} for {date} (line {})",
                            crate::text::quoted(&key.display_name()),
                            row.line
                        ),
                    }),
                };
                cases.push(fill(row.cases, cases.last(), "confirmed cases")?);
                deaths.push(fill(row.deaths, deaths.last(), "deaths")?);
                dates.push(date);
                lines.push(row.line);
            }
            if incident {
                for (series, field) in [(&mut cases, "cases"), (&mut deaths, "deaths")] {
                    let mut total = 0.0;
                    for (i, v) in series.iter_mut().enumerate() {
                        total += *v;
                        if total < 0.0 {
                            return Err(DataError::NegativeTotal {
                                path: path.to_path_buf(),
                                line: lines[i],
                                region: key.display_name(),
                                field: field.into(),
                                date: dates[i].to_string(),
                                total,
                            });
                        }
                        *v = total;
                    }
                }
            }
            let population = self.populations.get(&key).copied();
            out.push(RegionSeries {
                key,
                dates,
                cases,
                deaths,
                population,
                fips: None,
            });
        }
        Ok(out)
    }
}

/// Where a long-layout row's region comes from.
pub(crate) enum Region<'a> {
    /// Country and optional province columns.
    Columns {
        /// The country column.
        country: &'a str,
        /// The province column, if the layout has one.
        province: Option<&'a str>,
    },
    /// Every row belongs to this one region (the plain user layout).
    Fixed(RegionKey),
}

/// The columns of a long layout (one row per region and day).
pub(crate) struct LongColumns<'a> {
    /// The region.
    pub region: Region<'a>,
    /// The date column.
    pub date: &'a str,
    /// The confirmed-cases column.
    pub cases: &'a str,
    /// The deaths column.
    pub deaths: &'a str,
}

/// Reads any long layout: one row per region and day, every count required.
/// Counts may be negative only when `incident` (daily corrections).
pub(crate) fn read_long(
    r: impl Read,
    path: &Path,
    cols: &LongColumns<'_>,
    incident: bool,
) -> Result<Vec<RegionSeries>, DataError> {
    let mut rdr = reader(r);
    let header = header(&mut rdr, path)?;
    let region = match &cols.region {
        Region::Columns { country, province } => Some((
            column(&header, country, path)?,
            *country,
            province.map(|p| column(&header, p, path)).transpose()?,
        )),
        Region::Fixed(_) => None,
    };
    let date = column(&header, cols.date, path)?;
    let cases = column(&header, cols.cases, path)?;
    let deaths = column(&header, cols.deaths, path)?;
    let mut out = Collector::default();
    let mut rec = csv::StringRecord::new();
    let mut rows = 0usize;
    let mut key = match &cols.region {
        Region::Fixed(k) => k.clone(),
        Region::Columns { .. } => RegionKey::country(""),
    };
    while rdr
        .read_record(&mut rec)
        .map_err(|e| csv_error(&rdr, path, e))?
    {
        rows += 1;
        let line = line(&rdr, &rec);
        let date_cell = Cell::of(path, line, &rec, date, cols.date);
        if let Some((country, country_name, province)) = region {
            let c = rec.get(country).unwrap_or("").trim();
            if c.is_empty() {
                return Err(Cell::of(path, line, &rec, country, country_name)
                    .error("empty (a country is required)".into()));
            }
            let p = province.and_then(|i| optional_name(rec.get(i).unwrap_or("")));
            // Reuse the key's buffers: rows come grouped by region.
            if key.country != c || key.province != p {
                key = RegionKey {
                    country: c.to_string(),
                    province: p,
                    county: None,
                };
            }
        }
        let day = date_cell.date()?;
        let c = Cell::of(path, line, &rec, cases, cols.cases).required_count(incident)?;
        let d = Cell::of(path, line, &rec, deaths, cols.deaths).required_count(incident)?;
        out.insert(path, date_cell.line, &key, day, Some(c), Some(d))?;
    }
    if rows == 0 {
        return Err(DataError::NoRows {
            path: path.to_path_buf(),
        });
    }
    out.finish(path, Missing::Error, incident)
}
