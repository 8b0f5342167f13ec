//! The SEIRD model with a decaying transmission rate: parameters, the
//! right-hand side, beta(t) and its derivatives, and integration (with or
//! without forward sensitivities) into a daily [`Trajectory`].

use serde::{Deserialize, Serialize};

/// The seven model parameters, in the prior art's order
/// `R_0, theta, k, L, R_t, D_rec, D_inc`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Basic reproduction number before interventions.
    pub r_0: f64,
    /// Infection fatality ratio (share of removed who die).
    pub theta: f64,
    /// Steepness of the decay of R from R_0 to R_t (Hill exponent).
    pub k: f64,
    /// Day at which R is half-way between R_0 and R_t.
    pub l: f64,
    /// Reproduction number after interventions.
    pub r_t: f64,
    /// Infectious period in days (rho = 1 / D_rec).
    pub d_rec: f64,
    /// Incubation period in days (alpha = 1 / D_inc).
    pub d_inc: f64,
}

/// A parameter vector without exactly [`N_PARAMS`] values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{got} parameter values given, the model has {N_PARAMS}")]
pub struct ParamCountError {
    /// How many values were given.
    pub got: usize,
}

/// Number of model parameters.
pub const N_PARAMS: usize = 7;

/// Parameter names as used in fit.json and configs, in vector order.
pub const PARAM_NAMES: [&str; N_PARAMS] = ["r_0", "theta", "k", "l", "r_t", "d_rec", "d_inc"];

impl Params {
    /// The prior art's start point `[1.8, 0.04, 2, 20, 1, 15, 4.9]`.
    pub const DEFAULT_START: Params = Params {
        r_0: 1.8,
        theta: 0.04,
        k: 2.0,
        l: 20.0,
        r_t: 1.0,
        d_rec: 15.0,
        d_inc: 4.9,
    };

    /// The parameters as a vector in the prior art's order.
    pub fn to_array(&self) -> [f64; N_PARAMS] {
        [
            self.r_0, self.theta, self.k, self.l, self.r_t, self.d_rec, self.d_inc,
        ]
    }

    /// Builds parameters from an array in the prior art's order.
    pub fn from_array(p: [f64; N_PARAMS]) -> Self {
        let [r_0, theta, k, l, r_t, d_rec, d_inc] = p;
        Params {
            r_0,
            theta,
            k,
            l,
            r_t,
            d_rec,
            d_inc,
        }
    }

    /// Builds parameters from a vector in the prior art's order; a vector
    /// that does not hold exactly seven values is an error.
    pub fn from_slice(p: &[f64]) -> Result<Self, ParamCountError> {
        <[f64; N_PARAMS]>::try_from(p)
            .map(Params::from_array)
            .map_err(|_| ParamCountError { got: p.len() })
    }

    /// `name=value` pairs, for error messages.
    pub fn describe(&self) -> String {
        PARAM_NAMES
            .iter()
            .zip(self.to_array())
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Default lower bounds `(0, 0.01, 0, 0, 0, 3.48, 4.9)`.
pub const DEFAULT_LOWER: Params = Params {
    r_0: 0.0,
    theta: 0.01,
    k: 0.0,
    l: 0.0,
    r_t: 0.0,
    d_rec: 3.48,
    d_inc: 4.9,
};

/// Default upper bounds `(6.49, 0.15, 5, 200, 6.49, 18, 5.9)`.
pub const DEFAULT_UPPER: Params = Params {
    r_0: 6.49,
    theta: 0.15,
    k: 5.0,
    l: 200.0,
    r_t: 6.49,
    d_rec: 18.0,
    d_inc: 5.9,
};

/// Tolerances and step budget of the ODE solver.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OdeSettings {
    /// Relative tolerance of Dopri5.
    pub rtol: f64,
    /// Absolute tolerance of Dopri5, in persons.
    pub atol: f64,
    /// Most steps one solve may take; a solve needing more fails.
    pub max_steps: u32,
    /// The integrator; recorded in fit.json. There is one, so that every
    /// solve of a fit (line search, start check, re-scoring, forecast) is
    /// made the same way.
    #[serde(default)]
    pub solver: OdeSolver,
}

/// The Dopri5 implementation of every solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OdeSolver {
    /// The allocation-free integrator of [`dopri5`]. (`"ode-solvers"`, the
    /// `ode_solvers` crate's Dopri5, is no longer selectable: it mixed two
    /// integrators within one fit; it is the tests' oracle now.)
    #[default]
    Native,
}

impl Default for OdeSettings {
    fn default() -> Self {
        OdeSettings {
            rtol: 1e-6,
            atol: 1e-5,
            max_steps: 20_000,
            solver: OdeSolver::Native,
        }
    }
}

/// A daily solution: compartments (in persons) at t = 0, 1, ..., days - 1.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trajectory {
    /// Model time in days.
    pub t: Vec<f64>,
    /// Susceptible.
    pub s: Vec<f64>,
    /// Exposed.
    pub e: Vec<f64>,
    /// Infectious.
    pub i: Vec<f64>,
    /// Recovered.
    pub r: Vec<f64>,
    /// Dead.
    pub d: Vec<f64>,
}

impl Trajectory {
    /// Predicted cumulative cases `max(I + R + D, 0)`.
    pub fn cases(&self) -> Vec<f64> {
        (0..self.t.len())
            .map(|j| (self.i[j] + self.r[j] + self.d[j]).max(0.0))
            .collect()
    }

    /// Predicted cumulative deaths `max(D, 0)`.
    pub fn deaths(&self) -> Vec<f64> {
        self.d.iter().map(|d| d.max(0.0)).collect()
    }
}

pub mod beta;
pub mod demo;
pub mod dopri5;
pub mod ode;

pub use beta::Rates;
pub use demo::DEMO_TRUTH;
pub use ode::{
    for_each_day, for_each_day_with_sensitivities, simulate, simulate_with_sensitivities,
    DaySensitivity, SensitivityTrajectory,
};
