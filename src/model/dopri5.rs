//! A Dormand-Prince 5(4) integrator with daily dense output, for the SEIRD
//! system and its forward sensitivities (both in the reduced coordinates of
//! [`super::ode`]).
//!
//! Hand-written because `ode_solvers`' Dopri5 (the reference the tests
//! compare against, in tests/it/ode_oracle.rs) cannot do what these systems need, measured on the Italy fit
//! (`cargo bench --bench loss`, `perf record`):
//!
//! * error control on chosen components, measured through a map
//!   ([`Rhs::measured`]): sensitivities follow the state's steps (as CVODES
//!   does with `errconS = false`) instead of forcing smaller ones, and a
//!   system solved in reduced coordinates measures the compartments of the
//!   full one, so it takes the same steps; the gradient stays consistent
//!   with the loss to the tolerance (tests/model.rs checks it against
//!   central differences);
//! * the time-only part of the right-hand side (`beta(t)`: a `ln` and an
//!   `exp`) computed for a step's stage times together ([`Rhs::coef`]);
//! * handing out only the days the loss reads, without allocating;
//! * stepping without per-stage copies: 53% of a fit's time was spent
//!   inside `ode_solvers`' `integrate_core` around a right-hand side that
//!   took 10%.
//!
//! The method, coefficients, dense output and step-size controller are
//! those of Hairer's `DOPRI5` (also what `ode_solvers` implements).
//!
//! ## Reference
//! E. Hairer, S. P. Norsett, G. Wanner, *Solving Ordinary Differential
//! Equations I*, 2nd ed., Springer 1993, section II.5 and the DOPRI5 code.

use crate::error::SolveError;

/// Most components an error norm can measure (see [`Rhs::measured`]).
pub const MAX_MEASURED: usize = 8;

/// A right-hand side `dy = f(t, y)` of dimension `N`.
///
/// The evaluation is split in two: [`Rhs::coef`] computes what depends on
/// `t` alone (for SEIRD, `beta(t)` and its gradient: a logarithm and an
/// exponential), [`Rhs::eval`] the rest. The integrator computes the
/// coefficients of a step's five stage times together before the stages,
/// so those independent transcendental calls overlap in the CPU instead of
/// sitting one by one on the chain of dependent stages, and the coefficient
/// of `t + h` serves both the sixth and seventh stage. Measured on the
/// Italy loss (`cargo bench --bench loss`): this chain, not arithmetic,
/// bounds the step time.
pub trait Rhs<const N: usize> {
    /// What the right-hand side needs of `t` alone.
    type Coef: Copy;

    /// The coefficient at time `t`.
    fn coef(&self, t: f64) -> Self::Coef;

    /// Evaluates the derivative, given `coef(t)`.
    fn eval(&self, coef: &Self::Coef, y: &[f64; N], dy: &mut [f64; N]);

    /// The components the error control measures, of a state (`affine`
    /// true) or of a difference of states or a derivative (`affine` false),
    /// written to `out`; returns how many. The default measures the first
    /// `err_dims` components as they are; a system integrated in reduced
    /// coordinates overrides it to measure the components of the full one,
    /// so that it takes the same steps.
    fn measured(
        &self,
        v: &[f64; N],
        affine: bool,
        err_dims: usize,
        out: &mut [f64; MAX_MEASURED],
    ) -> usize {
        let _ = affine;
        let n = err_dims.min(N).min(MAX_MEASURED);
        out[..n].copy_from_slice(&v[..n]);
        n
    }
}

/// Tolerances and limits of one integration.
#[derive(Debug, Clone, Copy)]
pub struct Control {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Most steps (accepted + rejected).
    pub max_steps: u32,
    /// The first `err_dims` components enter the error norm: the error
    /// estimate is computed for them alone, and [`Rhs::measured`] may read
    /// only them.
    pub err_dims: usize,
}

const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;

/// `out = y + h * sum(coef_i * k_i)`.
#[inline(always)]
fn combine<const N: usize>(out: &mut [f64; N], y: &[f64; N], h: f64, terms: &[(f64, &[f64; N])]) {
    for i in 0..N {
        let mut acc = 0.0;
        for (c, k) in terms {
            acc += c * k[i];
        }
        out[i] = y[i] + h * acc;
    }
}

/// Hairer's RMS error norm over the measured components.
fn error_norm<const N: usize, F: Rhs<N>>(
    f: &F,
    err: &[f64; N],
    y: &[f64; N],
    ynew: &[f64; N],
    c: &Control,
) -> f64 {
    let (mut me, mut my, mut mn) = (
        [0.0; MAX_MEASURED],
        [0.0; MAX_MEASURED],
        [0.0; MAX_MEASURED],
    );
    let n = f.measured(err, false, c.err_dims, &mut me);
    f.measured(y, true, c.err_dims, &mut my);
    f.measured(ynew, true, c.err_dims, &mut mn);
    let mut sum = 0.0;
    for i in 0..n {
        let sc = c.atol + c.rtol * my[i].abs().max(mn[i].abs());
        let r = me[i] / sc;
        sum += r * r;
    }
    (sum / n as f64).sqrt()
}

/// Hairer's starting step size.
fn initial_step<const N: usize, F: Rhs<N>>(
    f: &F,
    y0: &[f64; N],
    f0: &[f64; N],
    t_end: f64,
    c: &Control,
) -> f64 {
    let (mut my0, mut mf0) = ([0.0; MAX_MEASURED], [0.0; MAX_MEASURED]);
    let n = f.measured(y0, true, c.err_dims, &mut my0);
    f.measured(f0, false, c.err_dims, &mut mf0);
    let (mut dnf, mut dny) = (0.0, 0.0);
    for i in 0..n {
        let sk = c.atol + c.rtol * my0[i].abs();
        dnf += (mf0[i] / sk).powi(2);
        dny += (my0[i] / sk).powi(2);
    }
    let mut h = if dnf <= 1e-10 || dny <= 1e-10 {
        1e-6
    } else {
        0.01 * (dny / dnf).sqrt()
    };
    h = h.min(t_end);
    let mut y1 = [0.0; N];
    for i in 0..N {
        y1[i] = y0[i] + h * f0[i];
    }
    let mut f1 = [0.0; N];
    f.eval(&f.coef(h), &y1, &mut f1);
    let mut df = [0.0; N];
    for i in 0..N {
        df[i] = f1[i] - f0[i];
    }
    let mut mdf = [0.0; MAX_MEASURED];
    f.measured(&df, false, c.err_dims, &mut mdf);
    let mut der2 = 0.0;
    for i in 0..n {
        let sk = c.atol + c.rtol * my0[i].abs();
        der2 += (mdf[i] / sk).powi(2);
    }
    let der2 = der2.sqrt() / h;
    let der12 = der2.max(dnf.sqrt());
    let h1 = if der12 <= 1e-15 {
        (h * 1e-3).max(1e-6)
    } else {
        (0.01 / der12).powf(0.2)
    };
    (100.0 * h).min(h1).min(t_end)
}

/// Integrates `f` from `y0` at t = 0 and returns the state at t = 0, 1, ...,
/// `days - 1`.
pub fn integrate_daily<const N: usize, F: Rhs<N>>(
    f: &F,
    y0: [f64; N],
    days: usize,
    c: &Control,
) -> Result<Vec<[f64; N]>, SolveError> {
    let mut out = Vec::with_capacity(days);
    integrate_days(f, y0, days, 0, c, |_, y| out.push(*y))?;
    Ok(out)
}

/// Integrates `f` from `y0` at t = 0 to t = `days - 1` and hands the state
/// of every whole day `d` in `first_day..days` to `out(d, &y)`, in order.
/// Days before `first_day` are stepped over without interpolating them
/// (the loss reads only the last 20 days).
pub fn integrate_days<const N: usize, F: Rhs<N>>(
    f: &F,
    y0: [f64; N],
    days: usize,
    first_day: usize,
    c: &Control,
    mut out: impl FnMut(usize, &[f64; N]),
) -> Result<(), SolveError> {
    if days == 0 {
        return Ok(());
    }
    if first_day == 0 {
        out(0, &y0);
    }
    if days == 1 {
        return Ok(());
    }
    let t_end = (days - 1) as f64;
    // Controller constants of DOPRI5: safety 0.9, PI beta 0.04, step ratio in [0.2, 10].
    const SAFE: f64 = 0.9;
    const BETA: f64 = 0.04;
    let expo1 = 0.2 - BETA * 0.75;
    let (facc1, facc2) = (1.0 / 0.2, 1.0 / 10.0);
    // ln of DOPRI5's `facold` (the previous accepted error, at least 1e-4):
    // the controller's two powers err^expo1 / facold^BETA are taken as one
    // exp of logarithms, which costs half as much as two `powf`.
    let mut ln_facold: f64 = 1e-4f64.ln();

    let mut t = 0.0;
    let mut y = y0;
    let mut k1 = [0.0; N];
    f.eval(&f.coef(t), &y, &mut k1);
    let mut h = initial_step(f, &y, &k1, t_end, c);
    let (mut k2, mut k3, mut k4, mut k5, mut k6, mut k7) =
        ([0.0; N], [0.0; N], [0.0; N], [0.0; N], [0.0; N], [0.0; N]);
    let mut ytmp = [0.0; N];
    let mut ynew = [0.0; N];
    let mut err = [0.0; N];
    let mut steps = 0u32;
    let mut rejected_last = false;
    let mut next_day = first_day.max(1);
    loop {
        if steps >= c.max_steps {
            return Err(SolveError::TooManySteps {
                time: t,
                steps: c.max_steps,
            });
        }
        if 0.1 * h.abs() <= f64::EPSILON * t.abs() || h.is_nan() {
            return Err(SolveError::StepSizeTooSmall { time: t });
        }
        let last = t + 1.01 * h >= t_end;
        if last {
            h = t_end - t;
        }
        steps += 1;
        let t_new = if last { t_end } else { t + h };
        // The time-only coefficients of the stages, computed together.
        let (c2, c3, c4, c5, c6) = (
            f.coef(t + C2 * h),
            f.coef(t + C3 * h),
            f.coef(t + C4 * h),
            f.coef(t + C5 * h),
            f.coef(t_new),
        );
        combine(&mut ytmp, &y, h, &[(A21, &k1)]);
        f.eval(&c2, &ytmp, &mut k2);
        combine(&mut ytmp, &y, h, &[(A31, &k1), (A32, &k2)]);
        f.eval(&c3, &ytmp, &mut k3);
        combine(&mut ytmp, &y, h, &[(A41, &k1), (A42, &k2), (A43, &k3)]);
        f.eval(&c4, &ytmp, &mut k4);
        combine(
            &mut ytmp,
            &y,
            h,
            &[(A51, &k1), (A52, &k2), (A53, &k3), (A54, &k4)],
        );
        f.eval(&c5, &ytmp, &mut k5);
        combine(
            &mut ytmp,
            &y,
            h,
            &[(A61, &k1), (A62, &k2), (A63, &k3), (A64, &k4), (A65, &k5)],
        );
        f.eval(&c6, &ytmp, &mut k6);
        combine(
            &mut ynew,
            &y,
            h,
            &[(A71, &k1), (A73, &k3), (A74, &k4), (A75, &k5), (A76, &k6)],
        );
        f.eval(&c6, &ynew, &mut k7);
        // Only the first `err_dims` components are measured; the rest of
        // `err` stays 0 (for the sensitivity system, 18 of 21 components).
        for i in 0..c.err_dims.min(N) {
            err[i] =
                h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
        }
        let e = error_norm(f, &err, &y, &ynew, c);
        if !e.is_finite() {
            // A non-finite trial (overflow) is a rejection with a much smaller step.
            h *= 0.1;
            rejected_last = true;
            continue;
        }
        let ln_e = e.ln();
        // fac = err^expo1 / facold^BETA / SAFE, clamped.
        let fac = ((expo1 * ln_e - BETA * ln_facold).exp() / SAFE).clamp(facc2, facc1);
        let mut h_new = h / fac;
        if e <= 1.0 {
            ln_facold = ln_e.max(1e-4f64.ln());
            // Daily dense output inside (t, t_new]; the end point itself is
            // the step's solution, not an interpolation.
            while next_day < days && (next_day as f64) <= t_new {
                let d = next_day as f64;
                if d == t_new {
                    out(next_day, &ynew);
                } else {
                    let theta = (d - t) / h;
                    let theta1 = 1.0 - theta;
                    let mut yd = [0.0; N];
                    for i in 0..N {
                        let ydiff = ynew[i] - y[i];
                        let bspl = h * k1[i] - ydiff;
                        let r4 = ydiff - h * k7[i] - bspl;
                        let r5 = h
                            * (D1 * k1[i]
                                + D3 * k3[i]
                                + D4 * k4[i]
                                + D5 * k5[i]
                                + D6 * k6[i]
                                + D7 * k7[i]);
                        yd[i] =
                            y[i] + theta * (ydiff + theta1 * (bspl + theta * (r4 + theta1 * r5)));
                    }
                    out(next_day, &yd);
                }
                next_day += 1;
            }
            if ynew.iter().any(|v| !v.is_finite()) {
                return Err(SolveError::NonFinite { time: t_new });
            }
            k1 = k7;
            y = ynew;
            t = t_new;
            if last {
                return Ok(());
            }
            if rejected_last {
                h_new = h_new.min(h);
            }
            rejected_last = false;
        } else {
            let fac11 = (expo1 * ln_e).exp();
            h_new = h / facc1.min(fac11 / SAFE);
            rejected_last = true;
        }
        h = h_new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// y1' = y2, y2' = -y1 (harmonic oscillator), y3' = -0.5 y3 (decay).
    struct Oscillator;
    impl Rhs<3> for Oscillator {
        type Coef = ();
        fn coef(&self, _t: f64) {}
        fn eval(&self, _c: &(), y: &[f64; 3], dy: &mut [f64; 3]) {
            dy[0] = y[1];
            dy[1] = -y[0];
            dy[2] = -0.5 * y[2];
        }
    }

    #[test]
    fn daily_output_matches_the_analytic_solution() {
        let c = Control {
            rtol: 1e-10,
            atol: 1e-12,
            max_steps: 100_000,
            err_dims: 3,
        };
        let ys = integrate_daily(&Oscillator, [0.0, 1.0, 2.0], 31, &c).unwrap();
        assert_eq!(ys.len(), 31);
        for (d, y) in ys.iter().enumerate() {
            let t = d as f64;
            assert_relative_eq!(y[0], t.sin(), epsilon = 1e-8);
            assert_relative_eq!(y[1], t.cos(), epsilon = 1e-8);
            assert_relative_eq!(y[2], 2.0 * (-0.5 * t).exp(), max_relative = 1e-8);
        }
    }

    #[test]
    fn components_outside_the_error_norm_follow_the_controlled_steps() {
        // Only the oscillator (the first two components) is controlled; the
        // slower decay rides along on its steps and is at least as accurate.
        let c = Control {
            rtol: 1e-8,
            atol: 1e-10,
            max_steps: 100_000,
            err_dims: 2,
        };
        let all = integrate_daily(&Oscillator, [0.0, 1.0, 2.0], 11, &c).unwrap();
        assert_relative_eq!(all[10][0], 10f64.sin(), epsilon = 1e-6);
        assert_relative_eq!(all[10][2], 2.0 * (-5f64).exp(), max_relative = 1e-6);
    }

    #[test]
    fn step_budget_and_zero_days() {
        let c = Control {
            rtol: 1e-12,
            atol: 1e-14,
            max_steps: 5,
            err_dims: 3,
        };
        assert!(matches!(
            integrate_daily(&Oscillator, [0.0, 1.0, 2.0], 100, &c),
            Err(SolveError::TooManySteps { steps: 5, .. })
        ));
        assert!(integrate_daily(&Oscillator, [0.0, 1.0, 2.0], 0, &c)
            .unwrap()
            .is_empty());
    }
}
