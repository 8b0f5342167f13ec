//! Integration of the SEIRD equations with `ode_solvers`' Dopri5 and daily
//! dense output, optionally together with the forward sensitivities
//! `dy/dp` of the five compartments to the seven parameters.
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
//! with the Jacobian `J = df/dy`; they are integrated in the same solve
//! (one 40-dimensional system, stepped with the error control of the
//! state, see [`super::dopri5`]). The
//! initial state `S = N - C0, I = C0` does not depend on the parameters, so
//! `s_j(0) = 0`, except for `L` at the bound `L = 0`, where beta's decay
//! becomes an impulse at t = 0 (see `simulate_with_sensitivities`).

use ode_solvers::dop_shared::{IntegrationError, OutputType};
use ode_solvers::{Dopri5, SVector, System};

use super::beta::Rates;
use super::dopri5::{integrate_daily, Control, Rhs};
use super::{OdeSettings, OdeSolver, Params, Trajectory, N_PARAMS};
use crate::error::SolveError;

/// Number of compartments.
pub const N_STATE: usize = 5;
/// State plus 5x7 sensitivities.
const N_AUG: usize = N_STATE + N_STATE * N_PARAMS;

type State = SVector<f64, N_STATE>;

/// Index of `d y_i / d p_j` in the augmented state.
#[inline]
const fn sens_index(i: usize, j: usize) -> usize {
    N_STATE + i * N_PARAMS + j
}

/// The SEIRD right-hand side for one parameter vector.
#[derive(Debug, Clone, Copy)]
pub struct Seird {
    rates: Rates,
    population: f64,
}

impl Seird {
    /// The system for `params` and population `population`.
    pub fn new(params: &Params, population: f64) -> Self {
        Seird {
            rates: Rates::new(params),
            population,
        }
    }

    /// Evaluates the right-hand side at time `t`, given `beta(t)`.
    #[inline]
    fn rhs(&self, beta: f64, y: &[f64], dy: &mut [f64]) {
        let r = &self.rates;
        let (s, e, i) = (y[0], y[1], y[2]);
        let infection = beta * s * i / self.population;
        let onset = r.alpha * e;
        let removal = r.rho * i;
        dy[0] = -infection;
        dy[1] = infection - onset;
        dy[2] = onset - removal;
        dy[3] = (1.0 - r.theta) * removal;
        dy[4] = r.theta * removal;
    }
}

impl System<f64, State> for Seird {
    fn system(&self, t: f64, y: &State, dy: &mut State) {
        self.rhs(self.rates.beta(t), y.as_slice(), dy.as_mut_slice());
    }
}

impl Rhs<N_STATE> for Seird {
    fn eval(&self, t: f64, y: &[f64; N_STATE], dy: &mut [f64; N_STATE]) {
        self.rhs(self.rates.beta(t), y, dy);
    }
}

/// The SEIRD system augmented with its forward sensitivities.
#[derive(Debug, Clone, Copy)]
pub struct SeirdSensitivity(Seird);

impl Rhs<N_AUG> for SeirdSensitivity {
    fn eval(&self, t: f64, y: &[f64; N_AUG], dy: &mut [f64; N_AUG]) {
        let m = &self.0;
        let r = &m.rates;
        let (beta, dbeta) = r.beta_grad(t);
        m.rhs(
            beta,
            &y.as_slice()[..N_STATE],
            &mut dy.as_mut_slice()[..N_STATE],
        );

        let inv_n = 1.0 / m.population;
        let (s, e, i) = (y[0], y[1], y[2]);
        // Jacobian entries of the infection term beta S I / N.
        let dinf_ds = beta * i * inv_n;
        let dinf_di = beta * s * inv_n;
        let g = s * i * inv_n;
        let (rho, alpha, theta) = (r.rho, r.alpha, r.theta);
        for j in 0..N_PARAMS {
            let ss = y[sens_index(0, j)];
            let se = y[sens_index(1, j)];
            let si = y[sens_index(2, j)];
            // J s_j: d(infection) = dinf/dS sS + dinf/dI sI.
            let dinf = dinf_ds * ss + dinf_di * si + dbeta[j] * g;
            let d_s = -dinf;
            let mut d_e = dinf - alpha * se;
            let mut d_i = alpha * se - rho * si;
            let mut d_r = (1.0 - theta) * rho * si;
            let mut d_d = theta * rho * si;
            match j {
                // theta: dR/dtheta = -rho I, dD/dtheta = rho I.
                1 => {
                    d_r -= rho * i;
                    d_d += rho * i;
                }
                // D_rec: drho/dD_rec = -rho^2 (beta's part is in dbeta).
                5 => {
                    let drho = -rho * rho;
                    d_i -= drho * i;
                    d_r += (1.0 - theta) * drho * i;
                    d_d += theta * drho * i;
                }
                // D_inc: dalpha/dD_inc = -alpha^2.
                6 => {
                    let dalpha = -alpha * alpha;
                    d_e -= dalpha * e;
                    d_i += dalpha * e;
                }
                _ => {}
            }
            dy[sens_index(0, j)] = d_s;
            dy[sens_index(1, j)] = d_e;
            dy[sens_index(2, j)] = d_i;
            dy[sens_index(3, j)] = d_r;
            dy[sens_index(4, j)] = d_d;
        }
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

fn map_error(e: IntegrationError, ode: &OdeSettings) -> SolveError {
    match e {
        IntegrationError::MaxNumStepReached { x, .. } => SolveError::TooManySteps {
            time: x,
            steps: ode.max_steps,
        },
        IntegrationError::StepSizeUnderflow { x } => SolveError::StepSizeTooSmall { time: x },
        IntegrationError::StiffnessDetected { x } => SolveError::Stiff { time: x },
    }
}

/// Integrates `f` from `y0` over days `0..days`, returning one state per day.
fn integrate<const D: usize, F: System<f64, SVector<f64, D>>>(
    f: F,
    y0: SVector<f64, D>,
    days: usize,
    ode: &OdeSettings,
) -> Result<Vec<SVector<f64, D>>, SolveError> {
    if days <= 1 {
        return Ok(vec![y0; days]);
    }
    // Integrate one day past the last output: ode_solvers' dense output at
    // the very end point is less accurate than at interior points (measured:
    // a 1e-7 relative error at t_end that does not shrink with rtol), and
    // the loss weighs the last day most.
    let t_end = days as f64;
    let mut solver = Dopri5::from_param(
        f,
        0.0,
        t_end,
        1.0,
        y0,
        ode.rtol,
        ode.atol,
        0.9,
        0.04,
        0.2,
        10.0,
        t_end,
        0.0,
        ode.max_steps,
        1000,
        OutputType::Dense,
    );
    solver.integrate().map_err(|e| map_error(e, ode))?;
    let ys = solver.y_out();
    if ys.len() < days {
        // Dense output stops short only if the solve did.
        return Err(SolveError::NonFinite {
            time: solver.x_out().last().copied().unwrap_or(0.0),
        });
    }
    let out: Vec<_> = ys[..days].to_vec();
    if let Some(day) = out.iter().position(|y| y.iter().any(|v| !v.is_finite())) {
        return Err(SolveError::NonFinite { time: day as f64 });
    }
    Ok(out)
}

fn initial_state(population: f64, c0: f64) -> [f64; N_STATE] {
    [population - c0, 0.0, c0, 0.0, 0.0]
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
/// `S = N - c0, E = 0, I = c0, R = 0, D = 0`, with the integrator chosen by
/// `ode.solver`.
pub fn simulate(
    params: &Params,
    population: f64,
    c0: f64,
    days: usize,
    ode: &OdeSettings,
) -> Result<Trajectory, SolveError> {
    let system = Seird::new(params, population);
    match ode.solver {
        OdeSolver::Native => {
            let control = Control {
                rtol: ode.rtol,
                atol: ode.atol,
                max_steps: ode.max_steps,
                err_dims: N_STATE,
            };
            let ys = integrate_daily(&system, initial_state(population, c0), days, &control)?;
            Ok(to_trajectory(days, ys.iter().map(|y| &y[..])))
        }
        OdeSolver::OdeSolvers => {
            let y0 = State::from(initial_state(population, c0));
            let ys = integrate(system, y0, days, ode)?;
            Ok(to_trajectory(days, ys.iter().map(|y| y.as_slice())))
        }
    }
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
    let mut y0 = [0.0; N_AUG];
    let state0 = initial_state(population, c0);
    y0[..N_STATE].copy_from_slice(&state0);
    let system = SeirdSensitivity(Seird::new(params, population));
    // At the bound L = 0 the extra transmission (R_0 - R_t) rho h(t) of a
    // small L > 0 is an impulse at t = 0: its integral is
    // L * int_0^inf du / (1 + u^k) = L * (pi/k) / sin(pi/k) for k > 1, so
    // dy/dL jumps at t = 0+ by that mass times the infection term (and dh/dL
    // is 0 for t > 0). For k <= 1 the one-sided derivative is infinite and
    // is left at 0; the box keeps L >= 0 anyway.
    if params.l <= 0.0 && params.k > 1.0 {
        let k = params.k;
        let mass = (std::f64::consts::PI / k) / (std::f64::consts::PI / k).sin();
        let jump =
            (params.r_0 - params.r_t) / params.d_rec * mass * state0[0] * state0[2] / population;
        y0[sens_index(0, 3)] = -jump;
        y0[sens_index(1, 3)] = jump;
    }
    let control = Control {
        rtol: ode.rtol,
        atol: ode.atol,
        max_steps: ode.max_steps,
        err_dims: N_STATE,
    };
    let ys = integrate_daily(&system, y0, days, &control)?;
    let trajectory = to_trajectory(days, ys.iter().map(|y| &y[..N_STATE]));
    let sensitivities = ys
        .iter()
        .map(|y| {
            let mut s = [[0.0; N_PARAMS]; N_STATE];
            for (i, row) in s.iter_mut().enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = y[sens_index(i, j)];
                }
            }
            s
        })
        .collect();
    Ok(SensitivityTrajectory {
        trajectory,
        sensitivities,
    })
}
