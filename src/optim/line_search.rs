//! The More-Thuente line search (`dcsrch` and `dcstep` of MINPACK-2), as
//! L-BFGS-B uses it: it finds a step satisfying the strong Wolfe conditions
//!
//! ```text
//! phi(stp) <= phi(0) + ftol * stp * phi'(0)
//! |phi'(stp)| <= gtol * |phi'(0)|
//! ```
//!
//! inside `[stpmin, stpmax]`, by safeguarded cubic and quadratic
//! interpolation.
//!
//! It is written as a reverse-communication state machine, like the
//! original: [`Dcsrch::start`] and [`Dcsrch::next`] return the next
//! [`Task`], and the caller evaluates `phi` and `phi'` at the requested
//! step. This lets the caller decide what an evaluation is (in L-BFGS-B it
//! is one call of the problem's cost and gradient) and what to do when the
//! function cannot be evaluated there.
//!
//! argmin ships a More-Thuente line search, but as a `Solver` that owns the
//! evaluation loop and starts from the problem's full step, so it can
//! neither cap the step at the box boundary the way L-BFGS-B needs nor back
//! off from points where the model cannot be evaluated; hence this port.
//!
//! ## Reference
//!
//! J. J. More and D. J. Thuente, "Line search algorithms with guaranteed
//! sufficient decrease", ACM Transactions on Mathematical Software 20 (1994),
//! 286-307. The code follows `dcsrch.f`/`dcstep.f` of MINPACK-2 (1993),
//! shipped with L-BFGS-B 3.0.

/// What the line search wants next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Task {
    /// Evaluate `phi` and `phi'` at this step and call [`Dcsrch::next`].
    Evaluate(f64),
    /// The strong Wolfe conditions hold at the last evaluated step.
    Converged,
    /// The search stopped without satisfying them (the message says why);
    /// the last evaluated step is still the best one found.
    Warning(&'static str),
    /// The inputs were invalid; nothing was evaluated.
    Error(&'static str),
}

const P5: f64 = 0.5;
const P66: f64 = 0.66;
const XTRAPL: f64 = 1.1;
const XTRAPU: f64 = 4.0;

/// The state of one More-Thuente line search.
#[derive(Debug, Clone)]
pub struct Dcsrch {
    gtol: f64,
    xtol: f64,
    stpmin: f64,
    stpmax: f64,
    brackt: bool,
    stage: u8,
    finit: f64,
    ginit: f64,
    gtest: f64,
    width: f64,
    width1: f64,
    stx: f64,
    fx: f64,
    gx: f64,
    sty: f64,
    fy: f64,
    gy: f64,
    stmin: f64,
    stmax: f64,
}

impl Dcsrch {
    /// Starts a search from `phi(0) = f`, `phi'(0) = g < 0` with the first
    /// trial step `stp`.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        f: f64,
        g: f64,
        stp: f64,
        ftol: f64,
        gtol: f64,
        xtol: f64,
        stpmin: f64,
        stpmax: f64,
    ) -> (Dcsrch, Task) {
        let s = Dcsrch {
            gtol,
            xtol,
            stpmin,
            stpmax,
            brackt: false,
            stage: 1,
            finit: f,
            ginit: g,
            gtest: ftol * g,
            width: stpmax - stpmin,
            width1: (stpmax - stpmin) / P5,
            stx: 0.0,
            fx: f,
            gx: g,
            sty: 0.0,
            fy: f,
            gy: g,
            stmin: 0.0,
            stmax: stp + XTRAPU * stp,
        };
        let task = if stp < stpmin {
            Task::Error("STP .LT. STPMIN")
        } else if stp > stpmax {
            Task::Error("STP .GT. STPMAX")
        } else if g >= 0.0 {
            Task::Error("INITIAL G .GE. ZERO")
        } else if ftol < 0.0 {
            Task::Error("FTOL .LT. ZERO")
        } else if gtol < 0.0 {
            Task::Error("GTOL .LT. ZERO")
        } else if xtol < 0.0 {
            Task::Error("XTOL .LT. ZERO")
        } else if stpmin < 0.0 {
            Task::Error("STPMIN .LT. ZERO")
        } else if stpmax < stpmin {
            Task::Error("STPMAX .LT. STPMIN")
        } else {
            Task::Evaluate(stp)
        };
        (s, task)
    }

    /// Feeds `phi(stp) = f`, `phi'(stp) = g` and returns the next task.
    pub fn next(&mut self, f: f64, g: f64, stp: f64) -> Task {
        let ftest = self.finit + stp * self.gtest;
        if self.stage == 1 && f <= ftest && g >= 0.0 {
            self.stage = 2;
        }
        // Warnings, then convergence (which overrides them), as in dcsrch.
        let mut done = None;
        if self.brackt && (stp <= self.stmin || stp >= self.stmax) {
            done = Some(Task::Warning("ROUNDING ERRORS PREVENT PROGRESS"));
        }
        if self.brackt && self.stmax - self.stmin <= self.xtol * self.stmax {
            done = Some(Task::Warning("XTOL TEST SATISFIED"));
        }
        if stp == self.stpmax && f <= ftest && g <= self.gtest {
            done = Some(Task::Warning("STP = STPMAX"));
        }
        if stp == self.stpmin && (f > ftest || g >= self.gtest) {
            done = Some(Task::Warning("STP = STPMIN"));
        }
        if f <= ftest && g.abs() <= self.gtol * (-self.ginit) {
            done = Some(Task::Converged);
        }
        if let Some(task) = done {
            return task;
        }

        let mut stp = stp;
        // In the first stage, if a lower value was found but not a
        // sufficient decrease, work with the modified function
        // psi(stp) = phi(stp) - stp * gtest, whose minimiser satisfies the
        // sufficient decrease condition.
        if self.stage == 1 && f <= self.fx && f > ftest {
            let gtest = self.gtest;
            let mut fxm = self.fx - self.stx * gtest;
            let mut fym = self.fy - self.sty * gtest;
            let mut gxm = self.gx - gtest;
            let mut gym = self.gy - gtest;
            let fm = f - stp * gtest;
            let gm = g - gtest;
            dcstep(
                &mut self.stx,
                &mut fxm,
                &mut gxm,
                &mut self.sty,
                &mut fym,
                &mut gym,
                &mut stp,
                fm,
                gm,
                &mut self.brackt,
                self.stmin,
                self.stmax,
            );
            self.fx = fxm + self.stx * gtest;
            self.fy = fym + self.sty * gtest;
            self.gx = gxm + gtest;
            self.gy = gym + gtest;
        } else {
            dcstep(
                &mut self.stx,
                &mut self.fx,
                &mut self.gx,
                &mut self.sty,
                &mut self.fy,
                &mut self.gy,
                &mut stp,
                f,
                g,
                &mut self.brackt,
                self.stmin,
                self.stmax,
            );
        }

        // Bisect when the interval does not shrink fast enough.
        if self.brackt {
            if (self.sty - self.stx).abs() >= P66 * self.width1 {
                stp = self.stx + P5 * (self.sty - self.stx);
            }
            self.width1 = self.width;
            self.width = (self.sty - self.stx).abs();
        }
        if self.brackt {
            self.stmin = self.stx.min(self.sty);
            self.stmax = self.stx.max(self.sty);
        } else {
            self.stmin = stp + XTRAPL * (stp - self.stx);
            self.stmax = stp + XTRAPU * (stp - self.stx);
        }
        stp = stp.max(self.stpmin).min(self.stpmax);
        // If no further progress is possible, return to the best step.
        if self.brackt
            && (stp <= self.stmin
                || stp >= self.stmax
                || self.stmax - self.stmin <= self.xtol * self.stmax)
        {
            stp = self.stx;
        }
        Task::Evaluate(stp)
    }
}

/// One safeguarded step of More and Thuente: updates the interval
/// `[stx, sty]` known to contain a step satisfying the conditions and
/// computes the next trial step into `stp`.
#[allow(clippy::too_many_arguments)]
fn dcstep(
    stx: &mut f64,
    fx: &mut f64,
    dx: &mut f64,
    sty: &mut f64,
    fy: &mut f64,
    dy: &mut f64,
    stp: &mut f64,
    fp: f64,
    dp: f64,
    brackt: &mut bool,
    stpmin: f64,
    stpmax: f64,
) {
    let sgnd = dp * (*dx / dx.abs());
    let stpf;
    if fp > *fx {
        // Case 1: a higher function value; the minimum is bracketed. Take
        // the cubic step if it is closer to stx than the quadratic step,
        // else their average.
        let theta = 3.0 * (*fx - fp) / (*stp - *stx) + *dx + dp;
        let s = theta.abs().max(dx.abs()).max(dp.abs());
        let mut gamma = s * ((theta / s).powi(2) - (*dx / s) * (dp / s)).sqrt();
        if *stp < *stx {
            gamma = -gamma;
        }
        let p = (gamma - *dx) + theta;
        let q = ((gamma - *dx) + gamma) + dp;
        let r = p / q;
        let stpc = *stx + r * (*stp - *stx);
        let stpq = *stx + ((*dx / ((*fx - fp) / (*stp - *stx) + *dx)) / 2.0) * (*stp - *stx);
        stpf = if (stpc - *stx).abs() < (stpq - *stx).abs() {
            stpc
        } else {
            stpc + (stpq - stpc) / 2.0
        };
        *brackt = true;
    } else if sgnd < 0.0 {
        // Case 2: lower value, derivatives of opposite sign; bracketed.
        // Take the cubic step if it is farther from stp than the secant step.
        let theta = 3.0 * (*fx - fp) / (*stp - *stx) + *dx + dp;
        let s = theta.abs().max(dx.abs()).max(dp.abs());
        let mut gamma = s * ((theta / s).powi(2) - (*dx / s) * (dp / s)).sqrt();
        if *stp > *stx {
            gamma = -gamma;
        }
        let p = (gamma - dp) + theta;
        let q = ((gamma - dp) + gamma) + *dx;
        let r = p / q;
        let stpc = *stp + r * (*stx - *stp);
        let stpq = *stp + (dp / (dp - *dx)) * (*stx - *stp);
        stpf = if (stpc - *stp).abs() > (stpq - *stp).abs() {
            stpc
        } else {
            stpq
        };
        *brackt = true;
    } else if dp.abs() < dx.abs() {
        // Case 3: lower value, same-sign derivatives, and the derivative's
        // magnitude decreases. The cubic step is used only if the cubic tends
        // to infinity in the step's direction or its minimum is beyond stp.
        let theta = 3.0 * (*fx - fp) / (*stp - *stx) + *dx + dp;
        let s = theta.abs().max(dx.abs()).max(dp.abs());
        let mut gamma = s * (0.0f64.max((theta / s).powi(2) - (*dx / s) * (dp / s))).sqrt();
        if *stp > *stx {
            gamma = -gamma;
        }
        let p = (gamma - dp) + theta;
        let q = (gamma + (*dx - dp)) + gamma;
        let r = p / q;
        let stpc = if r < 0.0 && gamma != 0.0 {
            *stp + r * (*stx - *stp)
        } else if *stp > *stx {
            stpmax
        } else {
            stpmin
        };
        let stpq = *stp + (dp / (dp - *dx)) * (*stx - *stp);
        if *brackt {
            let mut t = if (stpc - *stp).abs() < (stpq - *stp).abs() {
                stpc
            } else {
                stpq
            };
            if *stp > *stx {
                t = t.min(*stp + P66 * (*sty - *stp));
            } else {
                t = t.max(*stp + P66 * (*sty - *stp));
            }
            stpf = t;
        } else {
            let t = if (stpc - *stp).abs() > (stpq - *stp).abs() {
                stpc
            } else {
                stpq
            };
            stpf = t.min(stpmax).max(stpmin);
        }
    } else {
        // Case 4: lower value, same-sign derivatives, the derivative's
        // magnitude does not decrease.
        stpf = if *brackt {
            let theta = 3.0 * (fp - *fy) / (*sty - *stp) + *dy + dp;
            let s = theta.abs().max(dy.abs()).max(dp.abs());
            let mut gamma = s * ((theta / s).powi(2) - (*dy / s) * (dp / s)).sqrt();
            if *stp > *sty {
                gamma = -gamma;
            }
            let p = (gamma - dp) + theta;
            let q = ((gamma - dp) + gamma) + *dy;
            let r = p / q;
            *stp + r * (*sty - *stp)
        } else if *stp > *stx {
            stpmax
        } else {
            stpmin
        };
    }

    // Update the interval which contains a minimiser.
    if fp > *fx {
        *sty = *stp;
        *fy = fp;
        *dy = dp;
    } else {
        if sgnd < 0.0 {
            *sty = *stx;
            *fy = *fx;
            *dy = *dx;
        }
        *stx = *stp;
        *fx = fp;
        *dx = dp;
    }
    *stp = stpf;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the search on phi and returns (step, evaluations, task).
    fn search(phi: impl Fn(f64) -> (f64, f64), stp0: f64, stpmax: f64) -> (f64, usize, Task) {
        let (f0, g0) = phi(0.0);
        let (mut ls, mut task) = Dcsrch::start(f0, g0, stp0, 1e-3, 0.9, 0.1, 0.0, stpmax);
        let mut evals = 0;
        let mut stp = stp0;
        while let Task::Evaluate(s) = task {
            stp = s;
            let (f, g) = phi(s);
            evals += 1;
            task = ls.next(f, g, s);
            assert!(evals < 50);
        }
        (stp, evals, task)
    }

    #[test]
    fn accepts_unit_step_on_a_well_scaled_quadratic() {
        // phi(a) = (a - 1)^2: a = 1 is the minimiser, accepted at once.
        let (stp, evals, task) = search(|a| ((a - 1.0).powi(2), 2.0 * (a - 1.0)), 1.0, 1e10);
        assert_eq!(task, Task::Converged);
        assert_eq!(stp, 1.0);
        assert_eq!(evals, 1);
    }

    #[test]
    fn strong_wolfe_holds_after_extrapolation_and_interpolation() {
        // More & Thuente's first test function, phi(a) = -a / (a^2 + beta),
        // beta = 2, from a tiny and a huge initial step.
        let beta = 2.0;
        let phi = |a: f64| {
            let d = a * a + beta;
            (-a / d, (a * a - beta) / (d * d))
        };
        let g0 = phi(0.0).1;
        for stp0 in [1e-3, 1e-1, 1e1, 1e3] {
            let (stp, evals, task) = search(phi, stp0, 1e10);
            assert_eq!(task, Task::Converged, "stp0 = {stp0}");
            let (f, g) = phi(stp);
            assert!(f <= phi(0.0).0 + 1e-3 * stp * g0);
            assert!(g.abs() <= 0.9 * g0.abs());
            assert!(evals <= 12, "stp0 = {stp0}: {evals} evaluations");
        }
    }

    #[test]
    fn stops_at_stpmax_when_still_descending() {
        let (stp, _, task) = search(|a| (-a, -1.0), 0.5, 2.0);
        assert_eq!(task, Task::Warning("STP = STPMAX"));
        assert_eq!(stp, 2.0);
    }

    #[test]
    fn rejects_ascent_directions() {
        let (_, task) = Dcsrch::start(0.0, 1.0, 1.0, 1e-3, 0.9, 0.1, 0.0, 10.0);
        assert_eq!(task, Task::Error("INITIAL G .GE. ZERO"));
    }
}
