//! The ranges every [`FitConfig`] value may take, checked once where a run
//! configuration is built (from the defaults, a file and the flags).

use super::FitConfig;
use crate::error::ConfigError;
use crate::model::PARAM_NAMES;

fn invalid(origin: &str, key: String, value: impl ToString, problem: &str) -> ConfigError {
    ConfigError::Invalid {
        origin: origin.to_string(),
        key,
        value: value.to_string(),
        problem: problem.to_string(),
    }
}

impl FitConfig {
    /// Checks every value against the range it may take; `origin` names
    /// where the values came from (a file or a flag) for the error message.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let c = self;
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
        if !(1..=4).contains(&o.starts) {
            return Err(invalid(
                origin,
                "optimizer.starts".into(),
                o.starts,
                "must be in 1..=4",
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
}
