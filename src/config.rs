//! Configuration: `configs/*.toml` merged over the built-in defaults, then
//! command-line flags over that (default < file < flag).
//!
//! A file may set any subset of the keys of [`FitConfig`]; unknown keys are
//! errors (a typo must not silently fall back to a default). This module only
//! reads and merges TOML; the ranges every value may take are checked by
//! [`FitConfig::validate`], once, where the run configuration is built.

use std::path::{Path, PathBuf};

use crate::data::{LoadOptions, WindowOptions};
use crate::error::ConfigError;
use crate::fit::FitConfig;
use crate::forecast::ForecastOptions;

/// The configuration file used when `--config` is not given.
pub const DEFAULT_PATH: &str = "configs/default.toml";

/// One run's whole, validated configuration: the fit settings (file and
/// flags merged and checked), the data to read and how, the training window
/// and the forecast settings. The command line builds it once
/// (`commands::resolve`); everything downstream takes it as it is.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The data file or directory.
    pub data: PathBuf,
    /// How the data is read (population table, incident counts, aggregation).
    pub load: LoadOptions,
    /// The training window cut from each region's series.
    pub window: WindowOptions,
    /// The fit settings, validated.
    pub fit: FitConfig,
    /// How each fit becomes a forecast.
    pub forecast: ForecastOptions,
}

/// Reads a TOML configuration over the built-in defaults and validates it.
/// A missing file at [`DEFAULT_PATH`] means "use the defaults" (so the
/// binary works outside the repository); any other missing file is an error.
pub fn load(path: &Path) -> Result<FitConfig, ConfigError> {
    let parse_err = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && path == Path::new(DEFAULT_PATH) => {
            return Ok(FitConfig::default());
        }
        Err(e) => return Err(parse_err(e.to_string())),
    };
    let config = from_toml(&text).map_err(|m| parse_err(m.trim().replace('\n', " ")))?;
    config.validate(&path.display().to_string())?;
    Ok(config)
}

/// Parses TOML text over the defaults (no validation).
pub fn from_toml(text: &str) -> Result<FitConfig, String> {
    let file: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let defaults = toml::Table::try_from(FitConfig::default()).map_err(|e| e.to_string())?;
    let merged = merge(defaults, file);
    toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| e.to_string())
}

/// Overlays `over` on `base`, table by table.
fn merge(mut base: toml::Table, over: toml::Table) -> toml::Table {
    for (k, v) in over {
        match (base.remove(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                base.insert(k, toml::Value::Table(merge(b, o)));
            }
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Params;

    #[test]
    fn partial_file_overrides_only_its_keys() {
        let c =
            from_toml("forecast_days = 14\n[start]\nr_0 = 2.5\n[bounds.upper]\nl = 100\n").unwrap();
        assert_eq!(c.forecast_days, 14);
        assert_eq!(c.start.r_0, 2.5);
        assert_eq!(c.start.theta, Params::DEFAULT_START.theta);
        assert_eq!(c.bounds.upper.l, 100.0);
        assert_eq!(c.bounds.upper.r_0, 6.49);
        c.validate("test").unwrap();
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        assert!(from_toml("[start]\nr0 = 2.5\n").is_err());
        let c = from_toml("[start]\ntheta = 0.5\n").unwrap();
        let e = c.validate("x.toml").unwrap_err().to_string();
        assert_eq!(
            e,
            "x.toml: 'start.theta' = 0.5: is outside its bounds [0.01, 0.15]"
        );
        let c = from_toml("[bounds.lower]\nd_rec = 0\n").unwrap();
        assert!(c
            .validate("x")
            .unwrap_err()
            .to_string()
            .contains("bounds.lower.d_rec"));
        let c = from_toml("[ode]\nrtol = 0\n").unwrap();
        assert!(c.validate("x").is_err());
    }

    #[test]
    fn shipped_default_config_equals_the_built_in_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_PATH);
        let c = load(&path).unwrap();
        assert_eq!(c, FitConfig::default());
    }
}
