//! The native Dopri5 on test models with analytic solutions and analytic
//! sensitivities (diffsol style: each model comes with its exact answer),
//! run by one harness with and without the sensitivity equations:
//!
//! * exponential decay `y' = -k y`;
//! * logistic SI `I' = b I (1 - I/N)`;
//! * constant-beta linear growth `E' = beta I - alpha E`,
//!   `I' = alpha E - rho I` (the SEIRD model's early phase, S ~ N).
//!
//! Sensitivities are to one parameter (`k`, `b`, `beta`). The error control
//! measures the state only, as in the product, so the state of the solve
//! with sensitivities must equal the plain solve's bit for bit.

use seird_fit::model::dopri5::{integrate_days, Control, Rhs};

/// A test model: its state right-hand side with the sensitivity to one
/// parameter appended (`N` = 2 x state dimension), the initial state, and
/// the exact solution `[state, dstate/dp]` at time t.
trait Model<const N: usize>: Rhs<N> {
    const NAME: &'static str;
    fn y0(&self) -> [f64; N];
    fn exact(&self, t: f64) -> [f64; N];
}

/// The same system without its sensitivity equations (they are appended
/// after the state and never feed back, so the state is the first half).
struct Plain<'a, M>(&'a M);

impl<const N: usize, M: Rhs<N>> Rhs<N> for Plain<'_, M> {
    type Coef = M::Coef;
    fn coef(&self, t: f64) -> M::Coef {
        self.0.coef(t)
    }
    fn eval(&self, coef: &M::Coef, y: &[f64; N], dy: &mut [f64; N]) {
        self.0.eval(coef, y, dy);
        // Dropping the sensitivity equations: their derivative is zero.
        for v in dy.iter_mut().skip(N / 2) {
            *v = 0.0;
        }
    }
}

/// Runs `model` over `days` days with and without sensitivities and checks
/// both against the exact solution at relative tolerance `tol` (of each
/// component's scale over the run).
fn check<const N: usize, M: Model<N>>(model: &M, days: usize, tol: f64) {
    let control = Control {
        rtol: 1e-10,
        atol: 1e-12,
        max_steps: 100_000,
        err_dims: N / 2,
    };
    let mut with = Vec::new();
    integrate_days(model, model.y0(), days, 0, &control, |_, y| with.push(*y)).unwrap();
    let mut plain = Vec::new();
    integrate_days(&Plain(model), model.y0(), days, 0, &control, |_, y| {
        plain.push(*y)
    })
    .unwrap();
    assert_eq!(with.len(), days, "{}", M::NAME);
    assert_eq!(plain.len(), days, "{}", M::NAME);
    let exact: Vec<[f64; N]> = (0..days).map(|d| model.exact(d as f64)).collect();
    for c in 0..N {
        let scale = exact.iter().map(|y| y[c].abs()).fold(1e-300, f64::max);
        for d in 0..days {
            let err = (with[d][c] - exact[d][c]).abs() / scale;
            assert!(
                err <= tol,
                "{}: component {c} day {d}: {} vs exact {} (rel. error {err:e})",
                M::NAME,
                with[d][c],
                exact[d][c]
            );
            if c < N / 2 {
                // Same steps: the state does not depend on the sensitivities.
                assert_eq!(with[d][c], plain[d][c], "{}: state {c} day {d}", M::NAME);
            }
        }
    }
}

/// `y' = -k y`, `y(0) = y0`: `y = y0 e^{-kt}`, `dy/dk = -t y0 e^{-kt}`.
struct Decay {
    k: f64,
    y0: f64,
}

impl Rhs<2> for Decay {
    type Coef = ();
    fn coef(&self, _t: f64) {}
    fn eval(&self, _: &(), y: &[f64; 2], dy: &mut [f64; 2]) {
        dy[0] = -self.k * y[0];
        // s' = (df/dy) s + df/dk = -k s - y.
        dy[1] = -self.k * y[1] - y[0];
    }
}

impl Model<2> for Decay {
    const NAME: &'static str = "exponential decay";
    fn y0(&self) -> [f64; 2] {
        [self.y0, 0.0]
    }
    fn exact(&self, t: f64) -> [f64; 2] {
        let y = self.y0 * (-self.k * t).exp();
        [y, -t * y]
    }
}

/// `I' = b I (1 - I/N)`: `I = N / (1 + c e^{-bt})` with `c = N/I0 - 1`,
/// `dI/db = N c t e^{-bt} / (1 + c e^{-bt})^2`.
struct Logistic {
    b: f64,
    n: f64,
    i0: f64,
}

impl Rhs<2> for Logistic {
    type Coef = ();
    fn coef(&self, _t: f64) {}
    fn eval(&self, _: &(), y: &[f64; 2], dy: &mut [f64; 2]) {
        let i = y[0];
        dy[0] = self.b * i * (1.0 - i / self.n);
        // s' = b (1 - 2I/N) s + I (1 - I/N).
        dy[1] = self.b * (1.0 - 2.0 * i / self.n) * y[1] + i * (1.0 - i / self.n);
    }
}

impl Model<2> for Logistic {
    const NAME: &'static str = "logistic SI";
    fn y0(&self) -> [f64; 2] {
        [self.i0, 0.0]
    }
    fn exact(&self, t: f64) -> [f64; 2] {
        let c = self.n / self.i0 - 1.0;
        let e = (-self.b * t).exp();
        let den = 1.0 + c * e;
        [self.n / den, self.n * c * t * e / (den * den)]
    }
}

/// `x' = A x` with `A = [[-alpha, beta], [alpha, -rho]]`, `x(0) = (0, I0)`.
/// With `m = -(alpha + rho)/2`, `q = sqrt(((alpha - rho)/2)^2 + alpha beta)`,
/// `e^{At} = e^{mt} (cosh(qt) 1 + sinh(qt)/q (A - m 1))`, so
/// `E = I0 beta e^{mt} sinh(qt)/q`,
/// `I = I0 e^{mt} (cosh(qt) + (alpha - rho)/2 sinh(qt)/q)`;
/// their beta-derivatives follow from `dq/dbeta = alpha / (2q)` and
/// `d/dq (sinh(qt)/q) = (q t cosh(qt) - sinh(qt)) / q^2`.
struct LinearGrowth {
    alpha: f64,
    beta: f64,
    rho: f64,
    i0: f64,
}

impl Rhs<4> for LinearGrowth {
    type Coef = ();
    fn coef(&self, _t: f64) {}
    fn eval(&self, _: &(), y: &[f64; 4], dy: &mut [f64; 4]) {
        let (a, b, r) = (self.alpha, self.beta, self.rho);
        dy[0] = b * y[1] - a * y[0];
        dy[1] = a * y[0] - r * y[1];
        // s' = A s + dA/dbeta x, dA/dbeta x = (I, 0).
        dy[2] = b * y[3] - a * y[2] + y[1];
        dy[3] = a * y[2] - r * y[3];
    }
}

impl Model<4> for LinearGrowth {
    const NAME: &'static str = "constant-beta linear growth";
    fn y0(&self) -> [f64; 4] {
        [0.0, self.i0, 0.0, 0.0]
    }
    fn exact(&self, t: f64) -> [f64; 4] {
        let (a, b, r) = (self.alpha, self.beta, self.rho);
        let m = -(a + r) / 2.0;
        let half = (a - r) / 2.0;
        let q = (half * half + a * b).sqrt();
        let (sh, ch, em) = ((q * t).sinh(), (q * t).cosh(), (m * t).exp());
        let sq = sh / q;
        let dsq_dq = (q * t * ch - sh) / (q * q);
        let dq = a / (2.0 * q);
        let e = self.i0 * b * em * sq;
        let i = self.i0 * em * (ch + half * sq);
        let de = self.i0 * em * (sq + b * dsq_dq * dq);
        let di = self.i0 * em * (t * sh * dq + half * dsq_dq * dq);
        [e, i, de, di]
    }
}

#[test]
fn exponential_decay_and_its_sensitivity() {
    check(&Decay { k: 0.3, y0: 1e4 }, 60, 1e-8);
}

#[test]
fn logistic_si_and_its_sensitivity() {
    check(
        &Logistic {
            b: 0.25,
            n: 1e6,
            i0: 10.0,
        },
        120,
        1e-8,
    );
}

#[test]
fn constant_beta_linear_growth_and_its_sensitivity() {
    // R_0 = beta / rho = 2.5, D_rec = 8, D_inc = 5, as an early epidemic.
    check(
        &LinearGrowth {
            alpha: 1.0 / 5.0,
            beta: 2.5 / 8.0,
            rho: 1.0 / 8.0,
            i0: 20.0,
        },
        90,
        1e-8,
    );
}
