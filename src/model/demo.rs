//! The demo outbreak's known parameters: what `seird-fit simulate` writes
//! into `data/` by default, and what the SEIRD test problem of
//! [`crate::fit::problem`] is built from. They live in the model layer so
//! that the fit, the test problem and the command line share one truth.

use super::Params;

/// The demo's true parameters.
pub const DEMO_TRUTH: Params = Params {
    r_0: 3.2,
    theta: 0.03,
    k: 2.5,
    l: 40.0,
    r_t: 0.7,
    d_rec: 9.0,
    d_inc: 5.2,
};

/// Population of the demo country (`seird-fit simulate --population`'s default).
pub const DEMO_POPULATION: f64 = 5_000_000.0;

/// Confirmed cases on the first day of the shipped demo data
/// (`seird-fit simulate --c0`'s default).
pub const DEMO_C0: f64 = 20.0;

/// Number of demo days (`seird-fit simulate --days`'s default).
pub const DEMO_DAYS: usize = 100;
