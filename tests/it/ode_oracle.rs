//! The `ode_solvers` crate's Dopri5 on the plain SEIRD system: the
//! independent reference the native integrator is compared with. It is a
//! dev-dependency only; the product has one integrator.

use ode_solvers::dop_shared::OutputType;
use ode_solvers::{Dopri5, SVector, System};
use seird_fit::model::{OdeSettings, Params, Rates, Trajectory};

type State = SVector<f64, 5>;

/// dS = -beta S I/N, dE = beta S I/N - alpha E, dI = alpha E - rho I,
/// dR = (1 - theta) rho I, dD = theta rho I, in five compartments.
struct Seird {
    rates: Rates,
    population: f64,
}

impl System<f64, State> for Seird {
    fn system(&self, t: f64, y: &State, dy: &mut State) {
        let r = &self.rates;
        let infection = r.beta(t) * y[0] * y[2] / self.population;
        let onset = r.alpha * y[1];
        let removal = r.rho * y[2];
        dy[0] = -infection;
        dy[1] = infection - onset;
        dy[2] = onset - removal;
        dy[3] = (1.0 - r.theta) * removal;
        dy[4] = r.theta * removal;
    }
}

/// The SEIRD solve of `seird_fit::model::simulate`, by `ode_solvers`; `None`
/// when it fails (step budget, underflow).
pub fn simulate(
    params: &Params,
    population: f64,
    c0: f64,
    days: usize,
    ode: &OdeSettings,
) -> Option<Trajectory> {
    // One day past the last output: ode_solvers' dense output at the very
    // end point is less accurate than inside (a 1e-7 relative error at
    // t_end that does not shrink with rtol).
    let t_end = days as f64;
    let y0 = State::from([population - c0, 0.0, c0, 0.0, 0.0]);
    let system = Seird {
        rates: Rates::new(params),
        population,
    };
    let mut solver = Dopri5::from_param(
        system,
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
    solver.integrate().ok()?;
    let ys = solver.y_out();
    if ys.len() < days {
        return None;
    }
    let mut tr = Trajectory {
        t: (0..days).map(|d| d as f64).collect(),
        ..Default::default()
    };
    for y in &ys[..days] {
        tr.s.push(y[0]);
        tr.e.push(y[1]);
        tr.i.push(y[2]);
        tr.r.push(y[3]);
        tr.d.push(y[4]);
    }
    Some(tr)
}
