//! Subspace minimisation of L-BFGS-B: the matrix `K` of the free-variable
//! Newton step (`freev`, `formk`) and the direct primal step with the
//! Morales-Nocedal projection (`cmprlb`, `subsm`).

#![allow(clippy::needless_range_loop)]

use super::super::linalg::{dot, dpofa, dtrsl, dtrsl_trans};
use super::memory::Compact;
use super::{copy, zero, Bounds, Scratch, Where};

/// The matrix `K` of the subspace step and its factorisation (`formk`),
/// with the state the Fortran code keeps for it from one iteration to the
/// next: the inner products it is assembled from (`wn1`), the factor
/// itself (`wn`) and the free set it was last measured against (`index`).
///
/// ```text
/// K = [ -D - Y'ZZ'Y / theta   L_a' - R_z'  ]      E = [ -I  0 ]
///     [ L_a - R_z             theta S'AA'S ],         [  0  I ],
/// ```
///
/// with `Z` the free and `A` the active variables at the Cauchy point,
/// `L_a` the strictly lower triangle of `S'AA'Y` and `R_z` the upper
/// triangle (with the diagonal) of `S'ZZ'Y`. `K` equals
/// `M^-1 - W_F'W_F / theta`, but built from these blocks, each an inner
/// product over its own variables, nothing is lost to cancellation (with
/// no active variable the `S'AA'S` block is exactly zero). It is factored
/// as `K = L E L'`, `L` block lower triangular, by two `col x col`
/// Cholesky factorisations (see [`SubspaceK::formk`]).
///
/// # The reference code's bookkeeping, kept on purpose
///
/// `wn1` is updated, not recomputed: when the memory gains a pair, its
/// newest row and column are formed over the current free and active
/// sets; the older entries are corrected by the variables that entered or
/// left the free set since the previous iteration (`freev`). The Fortran
/// code measures those changes against the free set of the previous
/// *iteration*, but skips `formk` in an iteration where no variable is
/// free; the next update is then made against a set `wn1` was never formed
/// for. `tridiag20_mixed` in `tests/optim.rs` meets this: with one pair
/// in memory and no free variable, then a second pair and three free
/// variables, `S'AA'S` gets a zero where `s_1's_1` belongs, the second
/// factorisation fails and the memory is cleared. Doing the same as the
/// reference keeps our iterates (and scipy's counts) in step with it; the
/// price is a steepest-descent restart, which is also what the reference
/// pays.
#[derive(Debug, Clone, Default)]
pub(super) struct SubspaceK {
    /// Capacity of the memory (the stride of the `wn1` blocks).
    pub(super) m: usize,
    /// `Y'ZZ'Y` (lower triangle), row-major `m x m`.
    pub(super) yzy: Vec<f64>,
    /// `S'AA'S` (lower triangle), row-major `m x m`.
    pub(super) sas: Vec<f64>,
    /// `L_a + R_z`: `s_i'AA'y_j` for `j < i` and `s_i'ZZ'y_j` for `j >= i`,
    /// row-major `m x m`.
    pub(super) lr: Vec<f64>,
    /// `L'` of `K = L E L'`: upper triangle, column-major `2col x 2col`.
    pub(super) wn: Vec<f64>,
    /// Whether `wn` holds the factor of the current `K`.
    pub(super) factored: bool,
    /// The free set of the last `freev` (`index(1..nfree)`), by variable.
    pub(super) was_free: Vec<bool>,
    /// Variables that entered (`indx2(1..nenter)`) and left
    /// (`indx2(ileave..n)`) the free set at the last `freev`, each in
    /// decreasing order as the Fortran code lists them.
    pub(super) entered: Vec<usize>,
    pub(super) left: Vec<usize>,
}

impl SubspaceK {
    pub(super) fn new(m: usize) -> Self {
        SubspaceK {
            m,
            yzy: vec![0.0; m * m],
            sas: vec![0.0; m * m],
            lr: vec![0.0; m * m],
            ..SubspaceK::default()
        }
    }

    /// `freev`: records the free set at the Cauchy point and, when `count`
    /// (after the first iteration, with bounds), which variables entered
    /// or left it since the last call. Returns whether any did.
    pub(super) fn freev(&mut self, iwhere: &[Where], count: bool) -> bool {
        self.entered.clear();
        self.left.clear();
        let n = iwhere.len();
        self.was_free.resize(n, false);
        for i in (0..n).rev() {
            let free = iwhere[i].is_free();
            if count && free && !self.was_free[i] {
                self.entered.push(i);
            } else if count && !free && self.was_free[i] {
                self.left.push(i);
            }
            self.was_free[i] = free;
        }
        !self.entered.is_empty() || !self.left.is_empty()
    }

    /// `formk`: brings `wn1` up to date for the memory `cm` and the free
    /// and active sets `free` (increasing) and `active` (decreasing), then
    /// assembles and factors `K` into `wn`. `updated`: the memory gained a
    /// pair since the last call (`updatd`); `shifted`: that pair pushed out
    /// the oldest (`iupdat > m`). Returns `false` when either Cholesky
    /// factorisation fails (`K` numerically singular, or `wn1` stale as
    /// described on the type).
    ///
    /// The factorisation of the sign-adjusted
    /// `[D + Y'ZZ'Y / theta, -L_a' + R_z'; -L_a + R_z, theta S'AA'S]`:
    ///
    /// 1. `dpofa` of the (1,1) block: `L11 L11' = D + Y'ZZ'Y / theta`;
    /// 2. the (1,2) block becomes `U = L11^-1 (-L_a' + R_z')` (`dtrsl`);
    /// 3. `dpofa` of the (2,2) block `theta S'AA'S + U'U`: `L22 L22'`.
    ///
    /// Then `K = L E L'` with `L = [L11, 0; U', L22]`, and `wn` holds `L'`.
    pub(super) fn formk(
        &mut self,
        cm: &Compact,
        free: &[usize],
        active: &[usize],
        updated: bool,
        shifted: bool,
    ) -> bool {
        let (m, col, theta) = (self.m, cm.col, cm.theta);
        let y = |k: usize, i: usize| cm.ys_row(k)[i];
        let s = |k: usize, i: usize| cm.ys_row(k)[col + i];
        let upcl = if updated {
            if shifted {
                // The oldest pair is gone: every kept product moves up one
                // row and one column.
                for blk in [&mut self.yzy, &mut self.sas, &mut self.lr] {
                    for a in 0..m - 1 {
                        for b in 0..m - 1 {
                            blk[a * m + b] = blk[(a + 1) * m + b + 1];
                        }
                    }
                }
            }
            // The newest pair's row of Y'ZZ'Y, S'AA'S and L_a, and its
            // column of R_z.
            let iy = col - 1;
            for jy in 0..col {
                self.yzy[iy * m + jy] = sum(free, |k| y(k, iy) * y(k, jy));
                self.sas[iy * m + jy] = sum(active, |k| s(k, iy) * s(k, jy));
                self.lr[iy * m + jy] = sum(active, |k| s(k, iy) * y(k, jy));
            }
            for i in 0..col {
                self.lr[i * m + iy] = sum(free, |k| s(k, i) * y(k, iy));
            }
            col - 1
        } else {
            col
        };
        // The older products, corrected for the variables that entered or
        // left the free set.
        let (entered, left) = (&self.entered, &self.left);
        for iy in 0..upcl {
            for jy in 0..=iy {
                let t1 = sum(entered, |k| y(k, iy) * y(k, jy));
                let t2 = sum(entered, |k| s(k, iy) * s(k, jy));
                let t3 = sum(left, |k| y(k, iy) * y(k, jy));
                let t4 = sum(left, |k| s(k, iy) * s(k, jy));
                self.yzy[iy * m + jy] = self.yzy[iy * m + jy] + t1 - t3;
                self.sas[iy * m + jy] = self.sas[iy * m + jy] - t2 + t4;
            }
        }
        for is in 0..upcl {
            for jy in 0..upcl {
                let t1 = sum(entered, |k| s(k, is) * y(k, jy));
                let t3 = sum(left, |k| s(k, is) * y(k, jy));
                let e = &mut self.lr[is * m + jy];
                // R_z (is <= jy) is over the free set, L_a over the active.
                *e = if is <= jy { *e + t1 - t3 } else { *e - t1 + t3 };
            }
        }

        // The upper triangle of the sign-adjusted K, column-major: entry
        // (a, b) at wn[a + b * k2].
        let k2 = 2 * col;
        let wn = &mut self.wn;
        zero(wn, k2 * k2);
        for iy in 0..col {
            let is = col + iy;
            for jy in 0..=iy {
                wn[jy + iy * k2] = self.yzy[iy * m + jy] / theta;
                wn[col + jy + is * k2] = self.sas[iy * m + jy] * theta;
            }
            for jy in 0..iy {
                wn[jy + is * k2] = -self.lr[iy * m + jy];
            }
            for jy in iy..col {
                wn[jy + is * k2] = self.lr[iy * m + jy];
            }
            wn[iy + iy * k2] += cm.sy(iy, iy);
        }
        self.factored = false;
        if !dpofa(wn, k2, col) {
            return false;
        }
        for js in col..k2 {
            let (factor, rest) = wn.split_at_mut(js * k2);
            dtrsl_trans(factor, k2, col, &mut rest[..col]);
        }
        for is in col..k2 {
            for js in is..k2 {
                let u = dot(&wn[is * k2..is * k2 + col], &wn[js * k2..js * k2 + col]);
                wn[is + js * k2] += u;
            }
        }
        self.factored = dpofa(&mut wn[col + col * k2..], k2, col);
        self.factored
    }
}

/// `sum_{k in vars} f(k)`, added in the order of `vars` from zero, as the
/// Fortran inner loops of `formk` do.
pub(super) fn sum(vars: &[usize], f: impl Fn(usize) -> f64) -> f64 {
    let mut t = 0.0;
    for &k in vars {
        t += f(k);
    }
    t
}

/// Direct primal subspace minimization from the Cauchy point `ws.xcp`
/// over the free variables `ws.free`, with the Morales-Nocedal projection,
/// into `ws.xhat`: `cmprlb` (the reduced gradient) and `subsm`, given
/// `wn`, the factor `L'` of `K = L E L'` ([`SubspaceK`]). Returns `false`
/// when the step is not finite (the caller then clears the memory, as the
/// Fortran code does when a triangular solve fails).
pub(super) fn subspace_min(
    bounds: &Bounds,
    cm: &Compact,
    wn: &[f64],
    ws: &mut Scratch,
    x: &[f64],
    g: &[f64],
) -> bool {
    let col = cm.col;
    let theta = cm.theta;
    let k2 = 2 * col;
    let Scratch {
        xcp,
        c,
        mv,
        free,
        r,
        du,
        wv,
        xhat,
        ..
    } = ws;
    // cmprlb: r = -Z'(g + B (xcp - x)) = -Z'(g + theta (xcp - x) - W M c).
    // Without bounds xcp = x and c = 0, so r = -g.
    r.clear();
    if bounds.is_constrained() {
        r.extend(free.iter().map(|&i| -theta * (xcp[i] - x[i]) - g[i]));
        zero(mv, k2);
        cm.bmv(c, mv);
        for (ri, &i) in r.iter_mut().zip(free.iter()) {
            let (y, s) = cm.ys_row(i).split_at(col);
            for j in 0..col {
                *ri = *ri + y[j] * mv[j] + s[j] * (theta * mv[col + j]);
            }
        }
    } else {
        r.extend(free.iter().map(|&i| -g[i]));
    }
    // subsm: du = r / theta + Z'W K^-1 W'Z r / theta^2, with K^-1 applied
    // as L'^-1 E L^-1 (E^-1 = E).
    zero(wv, k2);
    for (&i, &ri) in free.iter().zip(r.iter()) {
        let (y, s) = cm.ys_row(i).split_at(col);
        for j in 0..col {
            wv[j] += y[j] * ri;
            wv[col + j] += s[j] * ri;
        }
    }
    for v in &mut wv[col..] {
        *v *= theta;
    }
    dtrsl_trans(wn, k2, k2, wv);
    for v in &mut wv[..col] {
        *v = -*v;
    }
    dtrsl(wn, k2, k2, wv);
    let inv_theta = 1.0 / theta;
    du.clear();
    du.extend(free.iter().zip(r.iter()).map(|(&i, &ri)| {
        let (y, s) = cm.ys_row(i).split_at(col);
        let mut d = ri;
        for j in 0..col {
            d = d + y[j] * wv[j] / theta + s[j] * wv[col + j];
        }
        d * inv_theta
    }));
    if du.iter().any(|v| !v.is_finite()) {
        return false;
    }

    // The 2011 correction: project the subspace minimiser.
    let (lo, hi) = (bounds.lower(), bounds.upper());
    copy(xhat, xcp);
    let mut hit = false;
    for (&i, &di) in free.iter().zip(du.iter()) {
        let v = (xcp[i] + di).max(lo[i]).min(hi[i]);
        if v == lo[i] || v == hi[i] {
            hit = true;
        }
        xhat[i] = v;
    }
    if !hit {
        return true;
    }
    let slope: f64 = xhat
        .iter()
        .zip(x)
        .zip(g)
        .map(|((xh, xk), gk)| (xh - xk) * gk)
        .sum();
    if slope <= 0.0 {
        return true;
    }
    // Not a descent direction: the longest feasible step along d from
    // the Cauchy point (the 1995 rule).
    copy(xhat, xcp);
    let mut alpha = 1.0;
    let mut ibd = None;
    for (pos, (&i, &di)) in free.iter().zip(du.iter()).enumerate() {
        let mut t = alpha;
        if di < 0.0 && lo[i].is_finite() {
            let room = lo[i] - xhat[i];
            if room >= 0.0 {
                t = 0.0;
            } else if di * alpha < room {
                t = room / di;
            }
        } else if di > 0.0 && hi[i].is_finite() {
            let room = hi[i] - xhat[i];
            if room <= 0.0 {
                t = 0.0;
            } else if di * alpha > room {
                t = room / di;
            }
        }
        if t < alpha {
            alpha = t;
            ibd = Some(pos);
        }
    }
    if alpha < 1.0 {
        if let Some(pos) = ibd {
            let i = free[pos];
            if du[pos] > 0.0 {
                xhat[i] = hi[i];
            } else if du[pos] < 0.0 {
                xhat[i] = lo[i];
            }
            du[pos] = 0.0;
        }
    }
    for (&i, &di) in free.iter().zip(du.iter()) {
        xhat[i] += alpha * di;
    }
    bounds.project(xhat);
    true
}
