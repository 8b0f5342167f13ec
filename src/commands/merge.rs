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
    /// Merge even when shards of the set are missing (or cannot be
    /// verified, having no shard in their batch.json).
    #[arg(long)]
    pub allow_partial: bool,
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

/// Checks that `shards` are the whole set `1/n .. n/n` of one sharded batch
/// (each once), or says which are missing; `allow_partial` accepts a
/// subset. Settings and data are compared by [`Manifest::common`].
fn check_complete(shards: &[PathBuf], allow_partial: bool) -> Result<(), Error> {
    let mut count = None;
    let mut have = std::collections::BTreeMap::new();
    for dir in shards {
        let Some(shard) = Manifest::read(dir)?.and_then(|m| m.shard) else {
            if allow_partial {
                continue;
            }
            return Err(Error::Usage(format!(
                "{}: no shard i/n recorded in its {MANIFEST}, so the set cannot be checked \
                 (a batch run with --shard records it; --allow-partial merges anyway)",
                dir.display()
            )));
        };
        if let Some(other) = have.insert(shard.index, dir) {
            return Err(Error::Usage(format!(
                "{} and {} are both shard {shard}",
                other.display(),
                dir.display()
            )));
        }
        count = Some(shard.count);
    }
    let Some(n) = count else { return Ok(()) };
    let missing: Vec<String> = (1..=n)
        .filter(|i| !have.contains_key(i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() && !allow_partial {
        return Err(Error::Usage(format!(
            "incomplete set of shards: missing {} (--allow-partial merges what is there)",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// A row's `dir` from a shard's (untrusted) summary, checked: a relative
/// path of plain names that stays inside the shard, also after resolving
/// symbolic links. `None` when it does not exist (a failed region).
fn resolve_inside(shard_abs: &Path, dir: &str, shard: &Path) -> Result<Option<PathBuf>, Error> {
    let p = Path::new(dir);
    let plain = !dir.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    let refuse = || {
        Error::Usage(format!(
            "{}: summary.json names region directory {} outside the shard",
            shard.display(),
            crate::text::quoted(dir)
        ))
    };
    if !plain {
        return Err(refuse());
    }
    match shard_abs.join(p).canonicalize() {
        Ok(real) if real.starts_with(shard_abs) => Ok(Some(real)),
        Ok(_) => Err(refuse()),
        Err(_) => Ok(None),
    }
}

/// Joins shard summaries. A region found in two shards is an error: shards
/// of one batch partition the regions, so it means two different batches
/// (or one shard given twice). Shard directories are untrusted input: each
/// row's `dir` must stay inside its shard, and only plain SVG thumbnails are
/// embedded in the page. `--out` may not be one of the shards.
pub fn merge(shards: &[PathBuf], out: &Path) -> Result<Summary, Error> {
    merge_checked(shards, out, true)
}

/// [`merge`], refusing an incomplete set of shards unless `allow_partial`.
pub fn merge_checked(
    shards: &[PathBuf],
    out: &Path,
    allow_partial: bool,
) -> Result<Summary, Error> {
    let summaries: Vec<Summary> = shards
        .iter()
        .map(|s| Summary::read(s))
        .collect::<Result<_, _>>()?;
    let settings = Manifest::common(shards)?;
    check_complete(shards, allow_partial)?;
    let shard_abs: Vec<PathBuf> = shards
        .iter()
        .map(|s| canonical(s))
        .collect::<Result<_, _>>()?;
    if let Ok(o) = out.canonicalize() {
        if let Some(s) = shards.iter().zip(&shard_abs).find(|(_, a)| **a == o) {
            return Err(Error::Usage(format!(
                "--out {} is one of the shards ({}); merging there would overwrite its summary",
                out.display(),
                s.0.display()
            )));
        }
    }
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let _lock = crate::io::DirLock::acquire(out, "seird-fit merge")?;
    let out_abs = canonical(out)?;
    let mut rows = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for ((shard, abs), summary) in shards.iter().zip(&shard_abs).zip(summaries) {
        for mut row in summary.regions {
            if let Some(other) = seen.insert(row.key(), shard.clone()) {
                return Err(Error::Usage(format!(
                    "region {} is in both {} and {}",
                    crate::text::quoted(&row.region),
                    other.display(),
                    shard.display()
                )));
            }
            let target =
                resolve_inside(abs, &row.dir, shard)?.unwrap_or_else(|| abs.join(&row.dir));
            let dir = relative_path(&out_abs, &target);
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
    let summary = merge_checked(&args.shards, &args.out, args.allow_partial)?;
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
