//! Constrained least squares with the augmented Lagrangian solver:
//! `min 1/2 |Ax - b|^2` subject to `x'x <= 1` (the textbook problem of
//! issue 16), with the multiplier and the KKT residuals at the solution.
//!
//! Run with `cargo run --example constrained`.

use argmin::core::{Executor, State};
use seird_fit::optim::problems::constrained::{Constraint, Nlp};
use seird_fit::optim::{AugLag, Bounds};

const A: [[f64; 3]; 3] = [[1.0, -2.0, 1.0], [0.0, 2.0, -8.0], [-4.0, 5.0, 9.0]];
const B: [f64; 3] = [0.0, 8.0, -9.0];

fn residual(x: &[f64]) -> Vec<f64> {
    (0..3)
        .map(|i| (0..3).map(|j| A[i][j] * x[j]).sum::<f64>() - B[i])
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let problem = Nlp {
        name: "ball-constrained least squares",
        x0: vec![0.0; 3],
        bounds: Bounds::unbounded(3),
        f: Box::new(|x| 0.5 * residual(x).iter().map(|r| r * r).sum::<f64>()),
        grad: Box::new(|x| {
            let r = residual(x);
            (0..3)
                .map(|j| (0..3).map(|i| A[i][j] * r[i]).sum())
                .collect()
        }),
        eq: Vec::new(),
        // h(x) = x'x - 1 <= 0, with its gradient 2x.
        ineq: vec![Constraint::new(
            |x| x.iter().map(|v| v * v).sum::<f64>() - 1.0,
            |x| x.iter().map(|v| 2.0 * v).collect(),
        )],
        x_star: Vec::new(),
        f_star: f64::NAN,
    };
    let res = Executor::new(problem, AugLag::new(Bounds::unbounded(3)))
        .configure(|s| s.param(vec![0.0; 3]).max_iters(50))
        .run()?;
    let x = res.state().get_param().ok_or("no solution")?;
    let kkt = res.solver().kkt();
    println!("x*          {x:.6?}   (published: [0.349246, 0.114607, -0.929996])");
    println!(
        "multiplier  {:.5}   (published: 0.04914)",
        res.solver().multipliers_ineq()[0]
    );
    println!(
        "KKT         stationarity {:.1e}, feasibility {:.1e}, complementarity {:.1e}",
        kkt.stationarity, kkt.feasibility, kkt.complementarity
    );
    println!(
        "termination {:?} after {} outer iterations",
        res.state().get_termination_reason(),
        res.state().get_iter()
    );
    Ok(())
}
