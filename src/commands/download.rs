//! `seird-fit download`: fetch real data (JHU CSSE global or US, or OWID)
//! into a directory, atomically, validated and within bounds (deadline, idle
//! limit, size cap), and say what arrived.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::data::download::{self, Limits, Options, Source};
use crate::error::Error;

/// Arguments of `seird-fit download`.
#[derive(Debug, Clone, Args)]
pub struct DownloadArgs {
    /// Directory to write the files into (created if needed); default
    /// `data/jhu`, `data/jhu_us` or `data/owid` by source, never `data/`
    /// itself, which holds the demo data set.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Which data set: the JHU CSSE global time series with the lookup
    /// table, the JHU CSSE US county time series, or the OWID file.
    #[arg(long, value_parser = super::choice(&Source::ALL, Source::name), default_value = "jhu")]
    pub source: Source,
    /// Base URL to fetch from instead of the source's own (a mirror, or a
    /// local server in tests). File paths below it are those of the source's
    /// repository.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Overall deadline of each file's transfer (`300s`, `5m`, `1.5s`,
    /// `500ms`; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration, allow_hyphen_values = true)]
    pub timeout: Duration,
    /// Cut a transfer when less than 1 KiB arrives in this long (a stalled
    /// or trickling server); also the connect and read timeout.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, allow_hyphen_values = true)]
    pub idle_timeout: Duration,
    /// Largest accepted file (`1GB`, `500MB`, `64KiB`; a bare number is
    /// bytes).
    #[arg(long, value_name = "SIZE", default_value = "1GB", value_parser = parse_size, allow_hyphen_values = true)]
    pub max_bytes: u64,
    /// Accept a file with fewer data rows than the one it replaces (refused
    /// by default: the sources only grow, so it is likely cut short).
    #[arg(long)]
    pub allow_shrink: bool,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Parses a duration: a positive number with an optional unit `ms`, `s`,
/// `m` or `h` (seconds without one). Hand-written: four units do not need a
/// crate.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let scale = match unit {
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{t}' (use ms, s, m or h)"
            ))
        }
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("cannot parse '{t}' as a duration (e.g. 300s, 5m)"))?;
    let secs = v * scale;
    if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
        return Err(format!("'{t}' must be a duration > 0"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a size: a positive number with an optional unit `B`, `kB`, `MB`,
/// `GB` (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024); bytes
/// without one. Case-insensitive.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{t}' (use B, kB, MB, GB, KiB, MiB or GiB)"
            ))
        }
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("cannot parse '{t}' as a size (e.g. 1GB, 500MB)"))?;
    let bytes = (v * scale).round();
    if !(1.0..1e18).contains(&bytes) {
        return Err(format!("'{t}' must be a size of at least 1 byte"));
    }
    Ok(bytes as u64)
}

/// Runs `seird-fit download`.
pub fn run(args: &DownloadArgs) -> Result<ExitCode, Error> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(args.source.default_dir()));
    std::fs::create_dir_all(&out).map_err(|source| Error::Io {
        path: out.clone(),
        source,
    })?;
    // One download per directory at a time; then what killed downloads
    // left there (temp files of up to a whole body) can go.
    let _lock = crate::io::DirLock::acquire(&out, "seird-fit download")?;
    crate::io::remove_leftovers(&out);
    let opts = Options {
        base_url: args.base_url.clone(),
        limits: Limits {
            timeout: args.timeout,
            idle: args.idle_timeout,
            max_bytes: args.max_bytes,
        },
        allow_shrink: args.allow_shrink,
    };
    let files = download::download_with(args.source, &opts, &out)?;
    if !args.quiet {
        for f in files {
            println!(
                "wrote {} ({} bytes, {} rows)",
                f.path.display(),
                f.bytes,
                f.rows
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse_with_their_units() {
        assert_eq!(parse_duration("300s"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("1.5mb"), Ok(1_500_000));
        assert_eq!(parse_size("700"), Ok(700));
        assert!(parse_size("-1GB").is_err());
        assert!(parse_size("lots").is_err());
    }
}
