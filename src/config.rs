//! Configuration: `configs/*.toml` merged over the built-in defaults, then
//! command-line flags over that (default < file < flag).
//!
//! A file may set any subset of the keys of [`FitConfig`]; unknown keys are
//! errors (a typo must not silently fall back to a default), and every value
//! is checked against the range it may take.

use std::path::Path;

use crate::error::ConfigError;
use crate::fit::FitConfig;
use crate::model::PARAM_NAMES;

/// The configuration file used when `--config` is not given.
pub const DEFAULT_PATH: &str = "configs/default.toml";

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
    validate(&config, &path.display().to_string())?;
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

fn invalid(origin: &str, key: String, value: impl ToString, problem: &str) -> ConfigError {
    ConfigError::Invalid {
        origin: origin.to_string(),
        key,
        value: value.to_string(),
        problem: problem.to_string(),
    }
}

/// Checks every value of `c` against the range it may take; `origin` names
/// where the values came from (a file or a flag) for the error message.
pub fn validate(c: &FitConfig, origin: &str) -> Result<(), ConfigError> {
    let lo = c.bounds.lower.to_array();
    let hi = c.bounds.upper.to_array();
    let start = c.start.to_array();
    // Parameters that must stay positive for the model to be defined
    // (rates 1/D_rec and 1/D_inc), or non-negative (the rest), and theta a share.
    let min_allowed = [
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        f64::MIN_POSITIVE,
        f64::MIN_POSITIVE,
    ];
    let max_allowed = [
        f64::MAX,
        1.0,
        f64::MAX,
        f64::MAX,
        f64::MAX,
        f64::MAX,
        f64::MAX,
    ];
    for j in 0..PARAM_NAMES.len() {
        let name = PARAM_NAMES[j];
        for (kind, v) in [("lower", lo[j]), ("upper", hi[j])] {
            if !v.is_finite() || v < min_allowed[j] || v > max_allowed[j] {
                let why = if j >= 5 {
                    "must be finite and > 0"
                } else if j == 1 {
                    "must be in [0, 1]"
                } else {
                    "must be finite and >= 0"
                };
                return Err(invalid(origin, format!("bounds.{kind}.{name}"), v, why));
            }
        }
        if lo[j] > hi[j] {
            return Err(invalid(
                origin,
                format!("bounds.lower.{name}"),
                lo[j],
                &format!("is above bounds.upper.{name} = {}", hi[j]),
            ));
        }
        if !(lo[j]..=hi[j]).contains(&start[j]) {
            return Err(invalid(
                origin,
                format!("start.{name}"),
                start[j],
                &format!("is outside its bounds [{}, {}]", lo[j], hi[j]),
            ));
        }
    }
    if c.loss.window == 0 {
        return Err(invalid(
            origin,
            "loss.window".into(),
            0,
            "must be at least 1",
        ));
    }
    let ode = &c.ode;
    if !(ode.rtol > 0.0 && ode.rtol < 1.0) {
        return Err(invalid(
            origin,
            "ode.rtol".into(),
            ode.rtol,
            "must be in (0, 1)",
        ));
    }
    if !(ode.atol > 0.0 && ode.atol.is_finite()) {
        return Err(invalid(origin, "ode.atol".into(), ode.atol, "must be > 0"));
    }
    if ode.max_steps < 10 {
        return Err(invalid(
            origin,
            "ode.max_steps".into(),
            ode.max_steps,
            "must be at least 10",
        ));
    }
    let o = &c.optimizer;
    if o.memory == 0 || o.memory > 1000 {
        return Err(invalid(
            origin,
            "optimizer.memory".into(),
            o.memory,
            "must be in 1..=1000",
        ));
    }
    for (key, v) in [("optimizer.ftol", o.ftol), ("optimizer.gtol", o.gtol)] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(invalid(origin, key.into(), v, "must be finite and >= 0"));
        }
    }
    if !(1..=crate::fit::MAX_STARTS).contains(&o.starts) {
        return Err(invalid(
            origin,
            "optimizer.starts".into(),
            o.starts,
            &format!("must be in 1..={}", crate::fit::MAX_STARTS),
        ));
    }
    if o.screen > crate::fit::MAX_SCREEN {
        return Err(invalid(
            origin,
            "optimizer.screen".into(),
            o.screen,
            &format!("must be in 0..={}", crate::fit::MAX_SCREEN),
        ));
    }
    if o.screen_iters == 0 {
        return Err(invalid(
            origin,
            "optimizer.screen_iters".into(),
            o.screen_iters,
            "must be at least 1",
        ));
    }
    if o.max_iters == 0 || o.max_evals == 0 {
        return Err(invalid(
            origin,
            "optimizer.max_iters/max_evals".into(),
            o.max_iters.min(o.max_evals),
            "must be at least 1",
        ));
    }
    if c.forecast_days > 3650 {
        return Err(invalid(
            origin,
            "forecast_days".into(),
            c.forecast_days,
            "must be at most 3650",
        ));
    }
    Ok(())
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
        validate(&c, "test").unwrap();
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        assert!(from_toml("[start]\nr0 = 2.5\n").is_err());
        let c = from_toml("[start]\ntheta = 0.5\n").unwrap();
        let e = validate(&c, "x.toml").unwrap_err().to_string();
        assert_eq!(
            e,
            "x.toml: 'start.theta' = 0.5: is outside its bounds [0.01, 0.15]"
        );
        let c = from_toml("[bounds.lower]\nd_rec = 0\n").unwrap();
        assert!(validate(&c, "x")
            .unwrap_err()
            .to_string()
            .contains("bounds.lower.d_rec"));
        let c = from_toml("[ode]\nrtol = 0\n").unwrap();
        assert!(validate(&c, "x").is_err());
    }

    #[test]
    fn shipped_default_config_equals_the_built_in_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_PATH);
        let c = load(&path).unwrap();
        assert_eq!(c, FitConfig::default());
    }
}
