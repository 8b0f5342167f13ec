//! Minimise your own loss with the optimizer stack.
//!
//! A loss is any struct implementing argmin's `CostFunction` and `Gradient`
//! on `Vec<f64>`; every solver of `seird_fit::optim` then works on it, with
//! or without a box. Here: a smooth "soft absolute value" regression,
//! `f(a, b) = mean_i sqrt(1 + (a t_i + b - y_i)^2) - 1`, fitted to points on
//! the line `y = 2 t - 1`, so the minimum is (a, b) = (2, -1) with f = 0.
//!
//! Run with `cargo run --example custom_loss`.

use argmin::core::{CostFunction, Error, Executor, Gradient, State};
use seird_fit::optim::{Adam, Bounds, FiniteDiff, LBFGSB};

/// The loss: data points (t_i, y_i).
struct SoftL1 {
    t: Vec<f64>,
    y: Vec<f64>,
}

impl CostFunction for SoftL1 {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> Result<f64, Error> {
        let n = self.t.len() as f64;
        Ok(self
            .t
            .iter()
            .zip(&self.y)
            .map(|(t, y)| {
                let r = p[0] * t + p[1] - y;
                (1.0 + r * r).sqrt() - 1.0
            })
            .sum::<f64>()
            / n)
    }
}

impl Gradient for SoftL1 {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    // d/da = mean r t / sqrt(1 + r^2), d/db = mean r / sqrt(1 + r^2)
    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, Error> {
        let n = self.t.len() as f64;
        let mut g = vec![0.0; 2];
        for (t, y) in self.t.iter().zip(&self.y) {
            let r = p[0] * t + p[1] - y;
            let w = r / (1.0 + r * r).sqrt();
            g[0] += w * t / n;
            g[1] += w / n;
        }
        Ok(g)
    }
}

fn data() -> SoftL1 {
    let t: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
    let y = t.iter().map(|t| 2.0 * t - 1.0).collect();
    SoftL1 { t, y }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. L-BFGS-B inside the box [0, 5] x [-5, 5].
    let bounds = Bounds::new(vec![0.0, -5.0], vec![5.0, 5.0])?;
    let res = Executor::new(data(), LBFGSB::new(bounds.clone()))
        .configure(|s| s.param(vec![0.5, 0.5]).max_iters(200))
        .run()?;
    println!(
        "L-BFGS-B: {:?}, f = {:.3e}, {} iterations",
        res.state().get_best_param(),
        res.state().get_best_cost(),
        res.state().get_iter()
    );

    // 2. Adam, same loss, a few more lines of settings.
    let res = Executor::new(
        data(),
        Adam::new().with_lr(0.05)?.with_bounds(bounds.clone()),
    )
    .configure(|s| s.param(vec![0.5, 0.5]).max_iters(5000))
    .run()?;
    println!(
        "Adam:     {:?}, f = {:.3e}, {} iterations",
        res.state().get_best_param(),
        res.state().get_best_cost(),
        res.state().get_iter()
    );

    // 3. No gradient at hand? Wrap a cost-only loss in FiniteDiff
    //    (bound-aware finite differences; here the analytic one is ignored).
    let res = Executor::new(
        FiniteDiff::new(data()).with_bounds(bounds.clone()),
        LBFGSB::new(bounds),
    )
    .configure(|s| s.param(vec![0.5, 0.5]).max_iters(200))
    .run()?;
    let x = res.state().get_best_param().cloned().unwrap_or_default();
    println!("L-BFGS-B with finite differences: {x:?}");
    assert!((x[0] - 2.0).abs() < 1e-4 && (x[1] + 1.0).abs() < 1e-4);
    Ok(())
}
