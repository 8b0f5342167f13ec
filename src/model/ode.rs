//! Integration of the SEIRD equations with daily dense output, optionally
//! together with the forward sensitivities `dy/dp` of the five compartments
//! to the seven parameters.
//!
//! State (in persons, `N` = population):
//! ```text
//! dS = -beta(t) S I / N
//! dE =  beta(t) S I / N - alpha E
//! dI =  alpha E - rho I
//! dR = (1 - theta) rho I
//! dD =  theta rho I
//! ```
//! Forward sensitivities `s_j = dy/dp_j` obey `s_j' = J(t, y) s_j + df/dp_j`
//! with the Jacobian `J = df/dy`; they are integrated in the same solve,
//! stepped with the error control of the state (see [`super::dopri5`]). The
//! initial state `S = N - C0, I = C0` does not depend on the parameters, so
//! `s_j(0) = 0`, except for `L` at the bound `L = 0`, where beta's decay
//! becomes an impulse at t = 0 (see `simulate_with_sensitivities`).
//!
//! ## Reduced coordinates
//! The native integrator solves the same equations in three coordinates,
//! `E`, `I` and `Q = R + D`, and recovers the rest exactly:
//! `S = N - E - I - Q` (the compartments sum to `N`), `R = (1 - theta) Q`
//! and `D = theta Q` (both grow in fixed proportion from 0). `theta` then
//! enters no equation, so its sensitivities are closed-form
//! (`dR/dtheta = -Q`, `dD/dtheta = Q`, 0 for the rest), and the sensitivity
//! system has 3 + 3 x 6 = 21 components instead of 5 + 5 x 7 = 40: half the
//! work per step, which is most of a fit's time. Runge-Kutta methods keep
//! linear invariants exactly, so the 5-compartment solve has the same
//! invariants; the error norm is taken on the five compartments rebuilt
//! from the three (see [`Rhs::measured`]), so the reduced solve takes the
//! steps an error control on the five compartments would take.
//!
//! Every solve of the product runs on this integrator. The `ode_solvers`
//! crate's Dopri5 is the test oracle only (a dev-dependency): the tests
//! compare the native solves with it on SEIRD, and run the native Dopri5,
//! with and without sensitivities, on models with analytic solutions.

use super::beta::Rates;
use super::dopri5::{integrate_days, Control, Rhs, MAX_MEASURED};
use super::{OdeSettings, Params, Trajectory, N_PARAMS};
use crate::error::SolveError;

/// Number of compartments.
pub const N_STATE: usize = 5;
/// Reduced coordinates `E, I, Q`.
const N_RED: usize = 3;
/// The parameters other than `theta`, whose sensitivities are integrated.
const FREE: [usize; 6] = [0, 2, 3, 4, 5, 6];
// The right-hand side and the L = 0 start below spell FREE out by place.
const _: () = assert!(
    FREE[0] == 0 && FREE[1] == 2 && FREE[2] == 3 && FREE[3] == 4 && FREE[4] == 5 && FREE[5] == 6
);
/// Reduced state plus its 3 x 6 sensitivities.
const N_RED_AUG: usize = N_RED + N_RED * FREE.len();

/// Index of `d z_c / d p_FREE[q]` in the reduced augmented state. The
/// sensitivities are stored by component (all `dE/dp`, then all `dI/dp`,
/// then all `dQ/dp`), so the loop over parameters in the right-hand side
/// reads and writes contiguous runs, which the compiler vectorises.
#[inline]
const fn red_index(q: usize, c: usize) -> usize {
    N_RED + c * FREE.len() + q
}

/// SEIRD in the reduced coordinates `(E, I, Q)` (see the module doc).
#[derive(Debug, Clone, Copy)]
struct Reduced {
    rates: Rates,
    population: f64,
    inv_n: f64,
}

impl Reduced {
    fn new(params: &Params, population: f64) -> Self {
        Reduced {
            rates: Rates::new(params),
            population,
            inv_n: 1.0 / population,
        }
    }

    /// `S = N - E - I - Q`.
    #[inline]
    fn susceptible(&self, y: &[f64]) -> f64 {
        self.population - y[0] - y[1] - y[2]
    }

    #[inline]
    fn rhs(&self, beta: f64, y: &[f64], dy: &mut [f64]) {
        let r = &self.rates;
        let (e, i) = (y[0], y[1]);
        let infection = beta * self.susceptible(y) * i * self.inv_n;
        let onset = r.alpha * e;
        let removal = r.rho * i;
        dy[0] = infection - onset;
        dy[1] = onset - removal;
        dy[2] = removal;
    }

    /// The five compartments `S, E, I, R, D` of a reduced state (or, not
    /// `affine`, of a difference of states), for the error norm.
    #[inline]
    fn measured_state(&self, v: &[f64], affine: bool, out: &mut [f64; MAX_MEASURED]) -> usize {
        let theta = self.rates.theta;
        let sum = v[0] + v[1] + v[2];
        out[0] = if affine { self.population - sum } else { -sum };
        out[1] = v[0];
        out[2] = v[1];
        out[3] = (1.0 - theta) * v[2];
        out[4] = theta * v[2];
        N_STATE
    }

    /// The five compartments of a reduced state.
    #[inline]
    fn expand(&self, y: &[f64]) -> [f64; N_STATE] {
        let theta = self.rates.theta;
        [
            self.susceptible(y),
            y[0],
            y[1],
            (1.0 - theta) * y[2],
            theta * y[2],
        ]
    }

    /// The 5 x 7 sensitivities of the compartments from the reduced ones.
    fn expand_sensitivities(&self, y: &[f64; N_RED_AUG]) -> DaySensitivity {
        let theta = self.rates.theta;
        let mut s = [[0.0; N_PARAMS]; N_STATE];
        for (q, &j) in FREE.iter().enumerate() {
            let (se, si, sq) = (y[red_index(q, 0)], y[red_index(q, 1)], y[red_index(q, 2)]);
            s[0][j] = -(se + si + sq);
            s[1][j] = se;
            s[2][j] = si;
            s[3][j] = (1.0 - theta) * sq;
            s[4][j] = theta * sq;
        }
        s[3][1] = -y[2];
        s[4][1] = y[2];
        s
    }
}

impl Rhs<N_RED> for Reduced {
    type Coef = f64;

    #[inline]
    fn coef(&self, t: f64) -> f64 {
        self.rates.beta(t)
    }

    #[inline]
    fn eval(&self, beta: &f64, y: &[f64; N_RED], dy: &mut [f64; N_RED]) {
        self.rhs(*beta, y, dy);
    }

    fn measured(
        &self,
        v: &[f64; N_RED],
        affine: bool,
        _err_dims: usize,
        out: &mut [f64; MAX_MEASURED],
    ) -> usize {
        self.measured_state(v, affine, out)
    }
}

/// The reduced system augmented with its forward sensitivities to the six
/// parameters other than `theta`.
#[derive(Debug, Clone, Copy)]
struct ReducedSensitivity(Reduced);

impl Rhs<N_RED_AUG> for ReducedSensitivity {
    type Coef = (f64, [f64; N_PARAMS]);

    #[inline]
    fn coef(&self, t: f64) -> Self::Coef {
        self.0.rates.beta_grad(t)
    }

    #[inline]
    fn eval(&self, coef: &Self::Coef, y: &[f64; N_RED_AUG], dy: &mut [f64; N_RED_AUG]) {
        let m = &self.0;
        let (beta, dbeta) = coef;
        let beta = *beta;
        m.rhs(beta, &y[..N_RED], &mut dy[..N_RED]);
        let (e, i) = (y[0], y[1]);
        let s = m.susceptible(y);
        // Partial derivatives of the infection term beta S I / N, with
        // dS = -(dE + dI + dQ).
        let dinf_ds = beta * i * m.inv_n;
        let dinf_di = beta * s * m.inv_n;
        let g = s * i * m.inv_n;
        let (rho, alpha) = (m.rates.rho, m.rates.alpha);
        const P: usize = FREE.len();
        let dbeta_free = [dbeta[0], dbeta[2], dbeta[3], dbeta[4], dbeta[5], dbeta[6]];
        let (ys, dys) = (&y[N_RED..], &mut dy[N_RED..]);
        for q in 0..P {
            let (se, si, sq) = (ys[q], ys[P + q], ys[2 * P + q]);
            let ss = -(se + si + sq);
            let dinf = dinf_ds * ss + dinf_di * si + dbeta_free[q] * g;
            dys[q] = dinf - alpha * se;
            dys[P + q] = alpha * se - rho * si;
            dys[2 * P + q] = rho * si;
        }
        // D_rec (FREE[4]): drho/dD_rec = -rho^2 (beta's part is in dbeta).
        let w = rho * rho * i;
        dys[P + 4] += w;
        dys[2 * P + 4] -= w;
        // D_inc (FREE[5]): dalpha/dD_inc = -alpha^2.
        let w = alpha * alpha * e;
        dys[5] += w;
        dys[P + 5] -= w;
    }

    fn measured(
        &self,
        v: &[f64; N_RED_AUG],
        affine: bool,
        _err_dims: usize,
        out: &mut [f64; MAX_MEASURED],
    ) -> usize {
        self.0.measured_state(&v[..N_RED], affine, out)
    }
}

/// Sensitivities of one day: `d y_i / d p_j`, compartments by parameters.
pub type DaySensitivity = [[f64; N_PARAMS]; N_STATE];

/// A daily trajectory with its sensitivities to the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityTrajectory {
    /// The compartments.
    pub trajectory: Trajectory,
    /// `dy/dp` per day.
    pub sensitivities: Vec<DaySensitivity>,
}

/// Integrator settings of the reduced systems, whose error is measured on
/// the three reduced coordinates (rebuilt into five compartments).
fn control(ode: &OdeSettings) -> Control {
    Control {
        rtol: ode.rtol,
        atol: ode.atol,
        max_steps: ode.max_steps,
        err_dims: N_RED,
    }
}

fn to_trajectory<'a>(days: usize, states: impl Iterator<Item = &'a [f64]>) -> Trajectory {
    let mut tr = Trajectory {
        t: (0..days).map(|d| d as f64).collect(),
        ..Default::default()
    };
    for y in states {
        tr.s.push(y[0]);
        tr.e.push(y[1]);
        tr.i.push(y[2]);
        tr.r.push(y[3]);
        tr.d.push(y[4]);
    }
    tr
}

/// Solves the model for `days` days (t = 0, 1, ..., days - 1) from
/// `S = N - c0, E = 0, I = c0, R = 0, D = 0`.
pub fn simulate(
    params: &Params,
    population: f64,
    c0: f64,
    days: usize,
    ode: &OdeSettings,
) -> Result<Trajectory, SolveError> {
    let mut ys = Vec::with_capacity(days);
    for_each_day(params, population, c0, days, 0, ode, |_, y| ys.push(*y))?;
    Ok(to_trajectory(days, ys.iter().map(|y| &y[..])))
}

/// Solves the model like [`simulate`] and hands the five compartments of
/// each day `d` in `first_day..days` to `out(d, &[S, E, I, R, D])`, without
/// building a [`Trajectory`] (the loss reads only the last days).
pub fn for_each_day(
    params: &Params,
    population: f64,
    c0: f64,
    days: usize,
    first_day: usize,
    ode: &OdeSettings,
    mut out: impl FnMut(usize, &[f64; N_STATE]),
) -> Result<(), SolveError> {
    let system = Reduced::new(params, population);
    integrate_days(
        &system,
        [0.0, c0, 0.0],
        days,
        first_day,
        &control(ode),
        |d, y| out(d, &system.expand(y)),
    )
}

/// Solves the model and its forward sensitivities in one Dopri5 solve
/// (the hand-written integrator of [`super::dopri5`], error control on the
/// five compartments).
pub fn simulate_with_sensitivities(
    params: &Params,
    population: f64,
    c0: f64,
    days: usize,
    ode: &OdeSettings,
) -> Result<SensitivityTrajectory, SolveError> {
    let mut states = Vec::with_capacity(days);
    let mut sensitivities = Vec::with_capacity(days);
    for_each_day_with_sensitivities(params, population, c0, days, 0, ode, |_, y, s| {
        states.push(*y);
        sensitivities.push(*s);
    })?;
    Ok(SensitivityTrajectory {
        trajectory: to_trajectory(days, states.iter().map(|y| &y[..])),
        sensitivities,
    })
}

/// Like [`simulate_with_sensitivities`], handing each day `d` in
/// `first_day..days` to `out(d, &[S, E, I, R, D], &dy/dp)` instead of
/// collecting them.
pub fn for_each_day_with_sensitivities(
    params: &Params,
    population: f64,
    c0: f64,
    days: usize,
    first_day: usize,
    ode: &OdeSettings,
    mut out: impl FnMut(usize, &[f64; N_STATE], &DaySensitivity),
) -> Result<(), SolveError> {
    let mut y0 = [0.0; N_RED_AUG];
    y0[1] = c0;
    let system = ReducedSensitivity(Reduced::new(params, population));
    // At the bound L = 0 the extra transmission (R_0 - R_t) rho h(t) of a
    // small L > 0 is an impulse at t = 0: its integral is
    // L * int_0^inf du / (1 + u^k) = L * (pi/k) / sin(pi/k) for k > 1, so
    // dy/dL jumps at t = 0+ by that mass times the infection term (and dh/dL
    // is 0 for t > 0): dE/dL = jump, dS/dL = -jump. For k <= 1 the one-sided
    // derivative is infinite and is left at 0; the box keeps L >= 0 anyway.
    if params.l <= 0.0 && params.k > 1.0 {
        let k = params.k;
        let mass = (std::f64::consts::PI / k) / (std::f64::consts::PI / k).sin();
        let s0 = population - c0;
        let jump = (params.r_0 - params.r_t) / params.d_rec * mass * s0 * c0 / population;
        // L is FREE[2].
        y0[red_index(2, 0)] = jump;
    }
    let m = system.0;
    integrate_days(&system, y0, days, first_day, &control(ode), |d, y| {
        out(d, &m.expand(y), &m.expand_sensitivities(y))
    })
}
