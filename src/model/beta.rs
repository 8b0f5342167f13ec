//! The time-varying transmission rate
//! `beta(t) = ((R_0 - R_t) / (1 + (t/L)^k) + R_t) * rho` and its partial
//! derivatives with respect to the parameters.
//!
//! At the legal bounds `L = 0` or `k = 0` the prior art evaluates `(t/L)^k`
//! as `0/0` at `t = 0` and gets NaN. Here the Hill factor
//! `h(t) = 1 / (1 + (t/L)^k)` is defined by its limits:
//!
//! * `t = 0` is the limit `t -> 0+`: `h` is evaluated at the smallest
//!   positive double `t = 2.2e-308`. For `k > 0.05` and `L > 0` that is the
//!   formula's value `h = 1` to the last bit; for smaller `k` it moves
//!   continuously to `h = 1/2` at `k = 0`. This matters because the first
//!   Runge-Kutta stage evaluates `beta(0)`: a jump between `beta(0)` and
//!   `beta(0+)` would make the numerical loss jump in `k` (or in `R_0` when
//!   `k = 0`) by an amount proportional to the first step, which
//!   finite-difference and sensitivity gradients see differently. The exact
//!   solution does not depend on one instant at all.
//! * `L = 0`: `t/L = +inf`, so `h = 0` when `k > 0` (the intervention is in
//!   place from the start: `beta = R_t rho`) and `h = 1/2` when `k = 0`.
//! * `k = 0`, `L > 0`: `(t/L)^0 = 1`, so `h = 1/2`.
//!
//! Every value and derivative returned is finite for parameters in the box.

use super::Params;

/// Constants of one parameter vector that the right-hand side needs at
/// every evaluation, computed once per solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// `R_0`.
    pub r_0: f64,
    /// `R_t`.
    pub r_t: f64,
    /// Hill exponent `k`.
    pub k: f64,
    /// Decay midpoint `L` (days).
    pub l: f64,
    /// Fatality ratio `theta`.
    pub theta: f64,
    /// Recovery rate `rho = 1 / D_rec`.
    pub rho: f64,
    /// Incubation rate `alpha = 1 / D_inc`.
    pub alpha: f64,
    /// `ln L` (unused when `L <= 0`), so `ln(t/L)` costs no division.
    pub ln_l: f64,
    /// `k / L` (unused when `L <= 0`).
    pub k_over_l: f64,
}

impl Rates {
    /// Derives the rates from model parameters.
    pub fn new(p: &Params) -> Self {
        Rates {
            r_0: p.r_0,
            r_t: p.r_t,
            k: p.k,
            l: p.l,
            theta: p.theta,
            rho: 1.0 / p.d_rec,
            alpha: 1.0 / p.d_inc,
            ln_l: if p.l > 0.0 { p.l.ln() } else { 0.0 },
            k_over_l: if p.l > 0.0 { p.k / p.l } else { 0.0 },
        }
    }

    /// The Hill factor `h(t) = 1 / (1 + (t/L)^k)` and its derivatives
    /// `dh/dk` and `dh/dL`.
    ///
    /// With `x = (t/L)^k` and `h = 1/(1+x)`:
    /// `dh/dk = -x ln(t/L) / (1+x)^2 = -h (1-h) ln(t/L)` and
    /// `dh/dL = x k / (L (1+x)^2) = h (1-h) k / L`.
    /// At `L = 0` (see the module doc) `h` is constant in `k` and `L` and
    /// both derivatives are taken as 0 (at the corner `k = 0, L = 0` the
    /// one-sided derivative in `k` does not exist).
    #[inline]
    pub fn hill(&self, t: f64) -> (f64, f64, f64) {
        if self.l <= 0.0 {
            let h = if self.k > 0.0 { 0.0 } else { 0.5 };
            return (h, 0.0, 0.0);
        }
        // (t/L)^k = exp(k ln(t/L)); the logarithm is needed for dh/dk anyway,
        // so this costs one log and one exp instead of powf plus a log.
        // k = 0 gives exp(0) = 1, h = 1/2.
        let ln_ratio = t.max(f64::MIN_POSITIVE).ln() - self.ln_l;
        let x = (self.k * ln_ratio).exp();
        let h = 1.0 / (1.0 + x);
        let w = h * (1.0 - h);
        (h, -w * ln_ratio, w * self.k_over_l)
    }

    /// `beta(t)`.
    #[inline]
    pub fn beta(&self, t: f64) -> f64 {
        let (h, _, _) = self.hill(t);
        ((self.r_0 - self.r_t) * h + self.r_t) * self.rho
    }

    /// The effective reproduction number `R(t) = beta(t) / rho`.
    pub fn reproduction(&self, t: f64) -> f64 {
        (self.r_0 - self.r_t) * self.hill(t).0 + self.r_t
    }

    /// `beta(t)` and its gradient with respect to
    /// `(R_0, theta, k, L, R_t, D_rec, D_inc)`:
    ///
    /// * `dbeta/dR_0 = h rho`, `dbeta/dR_t = (1 - h) rho`,
    /// * `dbeta/dk = (R_0 - R_t) rho dh/dk`, `dbeta/dL = (R_0 - R_t) rho dh/dL`,
    /// * `dbeta/dD_rec = -beta rho` (since `drho/dD_rec = -rho^2`),
    /// * `dbeta/dtheta = dbeta/dD_inc = 0`.
    #[inline]
    pub fn beta_grad(&self, t: f64) -> (f64, [f64; 7]) {
        let (h, dh_dk, dh_dl) = self.hill(t);
        let dr = self.r_0 - self.r_t;
        let beta = (dr * h + self.r_t) * self.rho;
        let grad = [
            h * self.rho,
            0.0,
            dr * self.rho * dh_dk,
            dr * self.rho * dh_dl,
            (1.0 - h) * self.rho,
            -beta * self.rho,
            0.0,
        ];
        (beta, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn rates(p: [f64; 7]) -> Rates {
        Rates::new(&Params::from_array(p))
    }

    #[test]
    fn beta_starts_at_r0_and_decays_to_rt() {
        let r = rates([3.0, 0.04, 2.0, 20.0, 0.5, 10.0, 5.0]);
        assert_relative_eq!(r.beta(0.0), 3.0 / 10.0, max_relative = 1e-15);
        // beta is continuous in k at t = 0: tiny k is close to k = 0's 1/2.
        let tiny = rates([3.0, 0.04, 1e-6, 20.0, 0.5, 10.0, 5.0]);
        assert_relative_eq!(tiny.reproduction(0.0), 1.75, max_relative = 1e-3);
        // Half-way at t = L.
        assert_relative_eq!(r.reproduction(20.0), 1.75, max_relative = 1e-15);
        assert_relative_eq!(r.reproduction(1e9), 0.5, max_relative = 1e-9);
    }

    #[test]
    fn bounds_l0_and_k0_are_finite_and_take_the_limit() {
        // L = 0, k > 0: intervention from the start.
        let r = rates([3.0, 0.04, 2.0, 0.0, 0.5, 10.0, 5.0]);
        for t in [0.0, 0.5, 10.0] {
            assert_relative_eq!(r.reproduction(t), 0.5);
            let (b, g) = r.beta_grad(t);
            assert!(b.is_finite() && g.iter().all(|v| v.is_finite()));
        }
        // k = 0: half-way for all t, with or without L = 0.
        for l in [0.0, 20.0] {
            let r = rates([3.0, 0.04, 0.0, l, 0.5, 10.0, 5.0]);
            for t in [0.0, 1.0, 50.0] {
                assert_relative_eq!(r.reproduction(t), 1.75);
                let (_, g) = r.beta_grad(t);
                assert!(g.iter().all(|v| v.is_finite()), "t={t} l={l} {g:?}");
            }
        }
    }

    #[test]
    fn beta_gradient_matches_central_differences() {
        let p = [2.5, 0.05, 1.7, 23.0, 0.8, 12.0, 5.2];
        for t in [0.3, 5.0, 23.0, 70.0] {
            let (_, g) = rates(p).beta_grad(t);
            for j in 0..7 {
                let h = 1e-6 * (1.0 + p[j].abs());
                let (mut a, mut b) = (p, p);
                a[j] += h;
                b[j] -= h;
                let fd = (rates(a).beta(t) - rates(b).beta(t)) / (2.0 * h);
                assert!(
                    (fd - g[j]).abs() <= 1e-7 * (1.0 + g[j].abs()),
                    "t={t} j={j} exact={} fd={fd}",
                    g[j]
                );
            }
        }
    }
}
