//! `seird-fit merge`: join the summaries of batch shards into one summary
//! and one `index.html`.
//!
//! The region directories stay where the shards wrote them; the merged
//! summary's `dir` column (and the page's links and thumbnails) point to them
//! relative to `--out`.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::batch::{self, Manifest, MANIFEST};
use crate::error::Error;
use crate::io::write_atomic;
use crate::report::summary::Summary;

/// Arguments of `seird-fit merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// Output directories of the shards (each holds a summary.json).
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub shards: Vec<PathBuf>,
    /// Where the merged summary.csv, summary.json and index.html go.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

fn canonical(path: &Path) -> Result<PathBuf, Error> {
    path.canonicalize().map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `target` relative to `base`; both absolute and canonical.
pub fn relative_path(base: &Path, target: &Path) -> PathBuf {
    let b: Vec<Component> = base.components().collect();
    let t: Vec<Component> = target.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Joins shard summaries. A region found in two shards is an error: shards
/// of one batch partition the regions, so it means two different batches
/// (or one shard given twice).
pub fn merge(shards: &[PathBuf], out: &Path) -> Result<Summary, Error> {
    let settings = Manifest::common(shards)?;
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let out_abs = canonical(out)?;
    let mut rows = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for shard in shards {
        let summary = Summary::read(shard)?;
        let rel = relative_path(&out_abs, &canonical(shard)?);
        for mut row in summary.regions {
            if let Some(other) = seen.insert(row.key(), shard.clone()) {
                return Err(Error::Usage(format!(
                    "region '{}' is in both {} and {}",
                    row.region,
                    other.display(),
                    shard.display()
                )));
            }
            let dir = rel.join(&row.dir);
            row.dir = dir.to_string_lossy().replace('\\', "/");
            rows.push(row);
        }
    }
    let summary = Summary::new(rows);
    if let Some(v) = settings {
        let text = serde_json::to_string_pretty(&v)
            .map_err(|e| Error::Report(format!("cannot write {MANIFEST}: {e}")))?;
        write_atomic(&out.join(MANIFEST), text.as_bytes())?;
    }
    let subtitle = format!(
        "merged from {} shards: {}",
        shards.len(),
        shards
            .iter()
            .map(|s| s.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    batch::write_outputs(out, &summary, &subtitle)?;
    Ok(summary)
}

/// Runs `seird-fit merge`.
pub fn run(args: &MergeArgs) -> Result<ExitCode, Error> {
    let summary = merge(&args.shards, &args.out)?;
    if !args.quiet {
        eprintln!(
            "{} regions from {} shards: {} fitted, {} failed; see {}",
            summary.regions.len(),
            args.shards.len(),
            summary.fitted,
            summary.failed,
            args.out.join(crate::report::index::INDEX_HTML).display()
        );
    }
    Ok(ExitCode::from(u8::from(summary.failed > 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_and_descend() {
        assert_eq!(
            relative_path(Path::new("/a/b/out"), Path::new("/a/b/shard-1")),
            PathBuf::from("../shard-1")
        );
        assert_eq!(
            relative_path(Path::new("/a/b"), Path::new("/a/b/shard-1")),
            PathBuf::from("shard-1")
        );
        assert_eq!(
            relative_path(Path::new("/a"), Path::new("/a")),
            PathBuf::new()
        );
    }
}
