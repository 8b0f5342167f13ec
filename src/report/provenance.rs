//! Where an output came from: the tool and its version, the data files read
//! (with their size and SHA-256, so a result can be tied to the exact bytes
//! it was fitted on) and the command line. Written as the `provenance`
//! block of `fit.json` and of a batch's manifest.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;

/// One data file as it was when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// The path as given (or found inside the given directory).
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the contents, lower-case hex.
    pub sha256: String,
}

/// The `provenance` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// `seird-fit`.
    pub tool: String,
    /// The crate version that wrote the file.
    pub version: String,
    /// The command line, one argument per element.
    pub command_line: Vec<String>,
    /// Every data file the run could read, sorted by path.
    pub data_files: Vec<DataFile>,
}

impl Provenance {
    /// Provenance of a run over `data` (a file, or a directory whose
    /// `.csv` files are all recorded) plus any `extra` files (a population
    /// table given separately), with this process's command line.
    pub fn collect(data: &Path, extra: &[&Path]) -> Result<Self, Error> {
        let mut paths: Vec<PathBuf> = if data.is_dir() {
            let entries = std::fs::read_dir(data).map_err(|source| Error::Io {
                path: data.to_path_buf(),
                source,
            })?;
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "csv"))
                .collect()
        } else {
            vec![data.to_path_buf()]
        };
        paths.extend(extra.iter().map(|p| p.to_path_buf()));
        paths.sort();
        paths.dedup();
        let data_files = paths
            .iter()
            .map(|p| hash_file(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Provenance {
            tool: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            command_line: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            data_files,
        })
    }
}

/// Size and SHA-256 of one file, read in blocks.
pub fn hash_file(path: &Path) -> Result<DataFile, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    let sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(DataFile {
        path: path.display().to_string(),
        bytes,
        sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_contents() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc.csv");
        std::fs::write(&p, b"abc").unwrap();
        let f = hash_file(&p).unwrap();
        assert_eq!(f.bytes, 3);
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            f.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let prov = Provenance::collect(dir.path(), &[]).unwrap();
        assert_eq!(prov.data_files, vec![f]);
        assert_eq!(prov.version, env!("CARGO_PKG_VERSION"));
    }
}
