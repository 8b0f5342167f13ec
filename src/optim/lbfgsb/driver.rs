//! The L-BFGS-B driver: evaluations, the More-Thuente line search
//! (`lnsrlb`), the stopping tests and the BFGS update, as the argmin
//! [`Solver`] implementation (the Fortran `mainlb`).

#![allow(clippy::needless_range_loop)]

use argmin::core::{CostFunction, Error, Gradient, Problem, Solver, State, TerminationReason, KV};

use super::super::linalg::dot;
use super::super::line_search::{Dcsrch, Task};
use super::super::validate;
use super::cauchy::cauchy;
use super::subspace::{subspace_min, SubspaceK};
use super::*;

impl LBFGSB {
    pub(super) fn evaluate<O>(
        &mut self,
        problem: &mut Problem<O>,
        x: Vec<f64>,
    ) -> Result<Eval, Error>
    where
        O: CostFunction<Param = Vec<f64>, Output = f64>
            + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
    {
        let f = problem.cost(&x)?;
        let g = problem.gradient(&x)?;
        self.evals += 1;
        validate::gradient(NAME, &g, x.len())?;
        Ok(Eval { x, f, g })
    }

    /// The More-Thuente search along `d = xhat - x` (`lnsrlb`).
    pub(super) fn line_search<O>(
        &mut self,
        problem: &mut Problem<O>,
        cur: &Eval,
        xhat: &[f64],
    ) -> Result<LineSearch, Error>
    where
        O: CostFunction<Param = Vec<f64>, Output = f64>
            + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
    {
        let n = cur.x.len();
        let d: Vec<f64> = xhat.iter().zip(&cur.x).map(|(a, b)| a - b).collect();
        let dnorm = dot(&d, &d).sqrt();
        let (lo, hi) = (self.bounds.lower(), self.bounds.upper());
        let mut stpmx = BIG_STEP;
        if self.bounds.is_constrained() {
            if self.iters == 0 {
                stpmx = 1.0;
            } else {
                for i in 0..n {
                    let a1 = d[i];
                    if a1 < 0.0 && lo[i].is_finite() {
                        let a2 = lo[i] - cur.x[i];
                        if a2 >= 0.0 {
                            stpmx = 0.0;
                        } else if a1 * stpmx < a2 {
                            stpmx = a2 / a1;
                        }
                    } else if a1 > 0.0 && hi[i].is_finite() {
                        let a2 = hi[i] - cur.x[i];
                        if a2 <= 0.0 {
                            stpmx = 0.0;
                        } else if a1 * stpmx > a2 {
                            stpmx = a2 / a1;
                        }
                    }
                }
            }
        }
        let mut stp = if self.iters == 0 && !self.bounds.is_boxed() {
            (1.0 / dnorm).min(stpmx)
        } else {
            1.0
        };
        let gd0 = dot(&cur.g, &d);
        if gd0.is_nan() || gd0 >= 0.0 {
            // Not a descent direction (info = -4 in the Fortran code).
            return Ok(LineSearch::Failed { evals: 0 });
        }
        let (mut ls, mut task) =
            Dcsrch::start(cur.f, gd0, stp, LS_FTOL, LS_GTOL, LS_XTOL, 0.0, stpmx);
        let mut evals = 0u64;
        let mut last: Option<Eval> = None;
        loop {
            match task {
                Task::Evaluate(s) => {
                    if evals as usize >= self.max_ls {
                        return Ok(LineSearch::Failed { evals });
                    }
                    stp = s;
                    let xt = if stp == 1.0 {
                        xhat.to_vec()
                    } else {
                        let mut xt: Vec<f64> =
                            cur.x.iter().zip(&d).map(|(xi, di)| xi + stp * di).collect();
                        // stp <= stpmax keeps x in the box up to rounding.
                        self.bounds.project(&mut xt);
                        xt
                    };
                    let e = self.evaluate(problem, xt)?;
                    evals += 1;
                    if !e.is_finite() {
                        // The objective cannot be evaluated here: back off
                        // towards the current point and restart the search
                        // with the smaller step as its upper limit.
                        self.nonfinite += 1;
                        let half = 0.5 * stp;
                        let (nls, ntask) =
                            Dcsrch::start(cur.f, gd0, half, LS_FTOL, LS_GTOL, LS_XTOL, 0.0, half);
                        ls = nls;
                        task = ntask;
                        continue;
                    }
                    let gd = dot(&e.g, &d);
                    task = ls.next(e.f, gd, stp);
                    last = Some(e);
                }
                Task::Converged | Task::Warning(_) => {
                    return Ok(match last {
                        Some(eval) => LineSearch::Accepted { eval, stp, evals },
                        None => LineSearch::Failed { evals },
                    });
                }
                Task::Error(_) => return Ok(LineSearch::Failed { evals }),
            }
        }
    }
}

impl<O> Solver<O, LbfgsbState> for LBFGSB
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
{
    fn name(&self) -> &str {
        NAME
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        mut state: LbfgsbState,
    ) -> Result<(LbfgsbState, Option<KV>), Error> {
        let mut x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        validate::start_point(NAME, &x, Some(&self.bounds))?;
        let inside = self.bounds.contains(&x);
        // Like the Fortran `active`: start from the projection of x0.
        self.bounds.project(&mut x);
        self.iwhere = self
            .bounds
            .lower()
            .iter()
            .zip(self.bounds.upper())
            .map(|(&l, &u)| {
                if !l.is_finite() && !u.is_finite() {
                    Where::Unbounded
                } else if l == u {
                    Where::Fixed
                } else {
                    Where::Free
                }
            })
            .collect();
        self.reset_memory();
        // formk's kept products start from zero in every run, as the
        // Fortran workspace does (its stale-product path reads them), so a
        // solver that is run again repeats its first run.
        self.kmat = SubspaceK::new(self.mem.m);
        self.iters = 0;
        self.evals = 0;
        self.message = None;

        let given = match (inside, state.take_gradient()) {
            (true, Some(g)) if state.get_cost().is_finite() => Some(Eval {
                x: x.clone(),
                f: state.get_cost(),
                g,
            }),
            _ => None,
        };
        let e = match given {
            Some(e) => e,
            None => self.evaluate(problem, x)?,
        };
        if !e.f.is_finite() {
            return Err(OptimError::NonFiniteStart {
                what: "cost".into(),
                value: e.f,
                x: e.x,
            }
            .into());
        }
        if let Some((i, &v)) = e.g.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(OptimError::NonFiniteStart {
                what: format!("gradient[{i}]"),
                value: v,
                x: e.x,
            }
            .into());
        }
        let pg = self.bounds.projected_gradient_norm(&e.x, &e.g);
        let mut kv = argmin::kv!("pg_norm" => pg;);
        let mut state = state.param(e.x).cost(e.f).gradient(e.g);
        if pg <= self.pgtol {
            let (s, k) = self.finish(state, kv, TerminationReason::SolverConverged, MSG_PGTOL);
            (state, kv) = (s, k);
        }
        Ok((state, Some(kv)))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: LbfgsbState,
    ) -> Result<(LbfgsbState, Option<KV>), Error> {
        let x = state
            .take_param()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        let g = state
            .take_gradient()
            .ok_or(OptimError::NoStartPoint { solver: NAME })?;
        let cur = Eval {
            x,
            f: state.get_cost(),
            g,
        };
        let n = cur.x.len();
        let pg0 = self.bounds.projected_gradient_norm(&cur.x, &cur.g);
        let mut ls_evals_total = 0u64;
        let mut restarts = 0u64;
        let (next, stp, nfree, nseg) = loop {
            let have_cm = if self.mem.is_empty() {
                false
            } else if self.refresh_compact() {
                true
            } else {
                // Singular middle matrix: refresh the memory.
                self.reset_memory();
                restarts += 1;
                continue;
            };
            let cm = have_cm.then_some(&self.cm);
            // 1. Generalized Cauchy point (skipped without bounds once there
            //    is a memory: the whole space is free then).
            let search_cauchy = cm.is_none() || self.bounds.is_constrained();
            let nseg = match cm {
                Some(cm) if !search_cauchy => {
                    copy(&mut self.scratch.xcp, &cur.x);
                    zero(&mut self.scratch.c, 2 * cm.col);
                    0
                }
                _ => cauchy(
                    &self.bounds,
                    &mut self.iwhere,
                    cm,
                    &mut self.scratch,
                    &cur.x,
                    &cur.g,
                    pg0,
                ),
            };
            // The free and active sets at the Cauchy point (`freev`, which
            // the Fortran code skips with the Cauchy search); `K` must be
            // formed again when they changed or the memory did (`wrk`).
            let iwhere = &self.iwhere;
            let free = &mut self.scratch.free;
            free.clear();
            free.extend((0..n).filter(|&i| iwhere[i].is_free()));
            let nfree = free.len();
            let active = &mut self.scratch.active;
            active.clear();
            active.extend((0..n).rev().filter(|&i| !iwhere[i].is_free()));
            let changed = search_cauchy
                && self
                    .kmat
                    .freev(iwhere, self.iters > 0 && self.bounds.is_constrained());
            let form_k = changed || self.mem.updated || !self.kmat.factored;
            // 2.-3. Subspace minimization with the projection fix.
            match cm {
                Some(cm) if nfree > 0 => {
                    let shifted = self.mem.updates > self.mem.m;
                    let ws = &mut self.scratch;
                    if form_k
                        && !self
                            .kmat
                            .formk(cm, &ws.free, &ws.active, self.mem.updated, shifted)
                    {
                        // Not positive definite: refresh the memory.
                        self.reset_memory();
                        restarts += 1;
                        continue;
                    }
                    if !subspace_min(&self.bounds, cm, &self.kmat.wn, ws, &cur.x, &cur.g) {
                        self.reset_memory();
                        restarts += 1;
                        continue;
                    }
                }
                _ => copy(&mut self.scratch.xhat, &self.scratch.xcp),
            }
            // 4. Line search (which needs `&mut self`, so `xhat` is lent out
            //    of the scratch space for it).
            let xhat = std::mem::take(&mut self.scratch.xhat);
            let searched = self.line_search(problem, &cur, &xhat);
            self.scratch.xhat = xhat;
            match searched? {
                LineSearch::Accepted { eval, stp, evals } => {
                    ls_evals_total += evals;
                    break (eval, stp, nfree, nseg);
                }
                LineSearch::Failed { evals } => {
                    ls_evals_total += evals;
                    if self.mem.is_empty() {
                        self.iters += 1;
                        let kv = argmin::kv!(
                            "step" => 0.0;
                            "pg_norm" => pg0;
                            "free" => nfree as u64;
                            "ls_evals" => ls_evals_total;
                            "restarts" => restarts;
                            "nonfinite" => self.nonfinite;
                        );
                        let state = state.param(cur.x).cost(cur.f).gradient(cur.g);
                        let (state, kv) = self.finish(
                            state,
                            kv,
                            TerminationReason::SolverExit(MSG_ABNORMAL.into()),
                            MSG_ABNORMAL,
                        );
                        return Ok((state, Some(kv)));
                    }
                    // Refresh the memory and retry along steepest descent.
                    self.reset_memory();
                    restarts += 1;
                }
            }
        };
        self.iters += 1;

        // 5. Stopping tests, then the BFGS update.
        let pg = self.bounds.projected_gradient_norm(&next.x, &next.g);
        let fold = cur.f;
        let mut updated = false;
        let mut stop = None;
        if self.evals.saturating_mul(self.calls_per_eval) > self.max_evals {
            stop = Some((TerminationReason::SolverExit(MSG_MAXFUN.into()), MSG_MAXFUN));
        } else if pg <= self.pgtol {
            stop = Some((TerminationReason::SolverConverged, MSG_PGTOL));
        } else if fold - next.f <= self.ftol * fold.abs().max(next.f.abs()).max(1.0) {
            stop = Some((TerminationReason::SolverConverged, MSG_FTOL));
        } else {
            let s: Vec<f64> = next.x.iter().zip(&cur.x).map(|(a, b)| a - b).collect();
            let y: Vec<f64> = next.g.iter().zip(&cur.g).map(|(a, b)| a - b).collect();
            let sy = dot(&s, &y);
            let minus_gs = -dot(&cur.g, &s);
            if sy <= f64::EPSILON * minus_gs {
                self.skipped += 1;
                self.mem.updated = false;
            } else {
                self.theta = dot(&y, &y) / sy;
                self.mem.push(s, y, sy);
                updated = true;
            }
        }
        let kv = argmin::kv!(
            "step" => stp;
            "pg_norm" => pg;
            "free" => nfree as u64;
            "ls_evals" => ls_evals_total;
            "cauchy_segments" => nseg;
            "restarts" => restarts;
            "updated" => updated;
            "theta" => self.theta;
            "nonfinite" => self.nonfinite;
        );
        let state = state.param(next.x).cost(next.f).gradient(next.g);
        Ok(match stop {
            Some((reason, message)) => {
                let (state, kv) = self.finish(state, kv, reason, message);
                (state, Some(kv))
            }
            None => (state, Some(kv)),
        })
    }
}

impl LBFGSB {
    /// Ends the run: the reason goes into the state (argmin's
    /// `terminate_with`, so observers see it with the last iteration), the
    /// Fortran message into [`LBFGSB::message`] and the `message` key.
    fn finish(
        &mut self,
        state: LbfgsbState,
        kv: KV,
        reason: TerminationReason,
        message: &'static str,
    ) -> (LbfgsbState, KV) {
        self.message = Some(message);
        let kv = kv.merge(argmin::kv!("message" => message.to_string();));
        (state.terminate_with(reason), kv)
    }
}
