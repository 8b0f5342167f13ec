//! The limited-memory part of L-BFGS-B: the stored correction pairs
//! ([`Memory`], the Fortran `matupd`) and their compact representation
//! ([`Compact`], `formt` and `bmv`).

#![allow(clippy::needless_range_loop)]

use std::collections::VecDeque;

use super::super::linalg::{dot, dpofa, dtrsl, dtrsl_trans};
use super::{zero, LBFGSB};

/// The last `m` correction pairs `s = x_{k+1} - x_k`, `y = g_{k+1} - g_k`,
/// oldest first, with their inner products.
///
/// An update adds one pair (and may drop the oldest), so only the newest
/// row of `S'Y` and column of `S'S` are new. Keeping the products, as the
/// Fortran `matupd` does, costs `O(m n)` per iteration instead of the
/// `O(m^2 n)` of recomputing them all; each product is computed once by
/// the same [`dot`], so the values are the ones a recomputation would give.
#[derive(Debug, Clone)]
pub(super) struct Memory {
    /// Capacity `m`; also the row stride of `sy` and `ss`.
    pub(super) m: usize,
    pub(super) s: VecDeque<Vec<f64>>,
    pub(super) y: VecDeque<Vec<f64>>,
    /// `s_i'y_j` at `sy[i * m + j]`, kept for `j <= i` (`D` and `L`).
    pub(super) sy: Vec<f64>,
    /// `s_i's_j` at `ss[i * m + j]`, kept for `i <= j`.
    pub(super) ss: Vec<f64>,
    /// Pairs added since the memory was last cleared (`iupdat`); more than
    /// `m` means the last one pushed out the oldest.
    pub(super) updates: usize,
    /// Whether the last iteration added a pair (`updatd`).
    pub(super) updated: bool,
}

impl Memory {
    pub(super) fn new(m: usize) -> Self {
        Memory {
            m,
            s: VecDeque::with_capacity(m + 1),
            y: VecDeque::with_capacity(m + 1),
            sy: vec![0.0; m * m],
            ss: vec![0.0; m * m],
            updates: 0,
            updated: false,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.s.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.s.clear();
        self.y.clear();
        self.updates = 0;
        self.updated = false;
    }

    pub(super) fn sy(&self, i: usize, j: usize) -> f64 {
        self.sy[i * self.m + j]
    }

    pub(super) fn ss(&self, i: usize, j: usize) -> f64 {
        self.ss[i * self.m + j]
    }

    /// Appends the pair `(s, y)` with `s'y = sy`, dropping the oldest pair
    /// when the memory is full.
    pub(super) fn push(&mut self, s: Vec<f64>, y: Vec<f64>, sy: f64) {
        let m = self.m;
        if self.s.len() == m {
            self.s.pop_front();
            self.y.pop_front();
            // Every kept product moves up one row and one column.
            for i in 0..m - 1 {
                for j in 0..m - 1 {
                    self.sy[i * m + j] = self.sy[(i + 1) * m + j + 1];
                    self.ss[i * m + j] = self.ss[(i + 1) * m + j + 1];
                }
            }
        }
        let k = self.s.len();
        for j in 0..k {
            self.sy[k * m + j] = dot(&s, &self.y[j]);
            self.ss[j * m + k] = dot(&self.s[j], &s);
        }
        self.sy[k * m + k] = sy;
        self.ss[k * m + k] = dot(&s, &s);
        self.s.push_back(s);
        self.y.push_back(y);
        self.updates += 1;
        self.updated = true;
    }
}

/// The compact representation `B = theta I - W M W'` of the current memory,
/// `W = [Y, theta S]`, with the middle matrix `M` held the way the Fortran
/// code holds it (`formt`): `M^-1 = [[-D, L'], [L, theta S'S]]` factors as
///
/// ```text
/// M^-1 = [  D^(1/2)      0 ] [ -D^(1/2)   D^(-1/2) L' ]
///        [ -L D^(-1/2)   J ] [  0         J'          ]
/// ```
///
/// with `J J'` the Cholesky factorisation of the positive definite
/// `T = theta S'S + L D^-1 L'`. Applying `M` ([`Compact::bmv`]) is then two
/// `col x col` triangular solves instead of a `2col x 2col` LU
/// factorisation and solve.
#[derive(Debug, Clone, Default)]
pub(super) struct Compact {
    pub(super) col: usize,
    pub(super) theta: f64,
    /// `[Y | S]` stored by rows (`n x 2col`), unscaled like the Fortran
    /// `wy` and `ws`: the Cauchy search, `cmprlb`, `formk` and `subsm` read
    /// one row per variable, so a row is a slice.
    pub(super) ys: Vec<f64>,
    /// `s_i'y_j` for `j <= i` (`D` and `L`), row-major `col x col`.
    pub(super) sy: Vec<f64>,
    /// `sqrt(s_i'y_i)`, the diagonal of `D^(1/2)`.
    pub(super) sqrt_d: Vec<f64>,
    /// `J'`: the upper Cholesky factor of `T`, column-major `col x col`
    /// (the Fortran `wt`).
    pub(super) jt: Vec<f64>,
}

impl Compact {
    /// Row `i` of `[Y | S]`.
    pub(super) fn ys_row(&self, i: usize) -> &[f64] {
        let k2 = 2 * self.col;
        &self.ys[i * k2..(i + 1) * k2]
    }

    pub(super) fn sy(&self, i: usize, j: usize) -> f64 {
        self.sy[i * self.col + j]
    }

    /// `p = M v` for `v` and `p` of length `2 col` (`bmv`), by the two
    /// block-triangular solves of the factorisation in the type's docs:
    ///
    /// 1. `[D^(1/2), 0; -L D^(-1/2), J] [p1; p2] = [v1; v2]`, i.e.
    ///    `J p2 = v2 + L D^-1 v1` and `p1 = D^(-1/2) v1`;
    /// 2. `[-D^(1/2), D^(-1/2) L'; 0, J'] [p1; p2] = [p1; p2]`, i.e.
    ///    `J' p2 = p2` and `p1 = -D^(-1/2) p1 + D^-1 L' p2`.
    ///
    /// Operations are in the Fortran order, so the rounding is its.
    pub(super) fn bmv(&self, v: &[f64], p: &mut [f64]) {
        let col = self.col;
        if col == 0 {
            return;
        }
        let (v1, v2) = v[..2 * col].split_at(col);
        let (p1, p2) = p[..2 * col].split_at_mut(col);
        p2[0] = v2[0];
        for i in 1..col {
            let mut sum = 0.0;
            for k in 0..i {
                sum += self.sy(i, k) * v1[k] / self.sy(k, k);
            }
            p2[i] = v2[i] + sum;
        }
        dtrsl_trans(&self.jt, col, col, p2);
        for i in 0..col {
            p1[i] = v1[i] / self.sqrt_d[i];
        }
        dtrsl(&self.jt, col, col, p2);
        for i in 0..col {
            p1[i] = -p1[i] / self.sqrt_d[i];
        }
        for i in 0..col {
            let mut sum = 0.0;
            for k in i + 1..col {
                sum += self.sy(k, i) * p2[k] / self.sy(i, i);
            }
            p1[i] += sum;
        }
    }
}

impl LBFGSB {
    /// Rebuilds `self.cm` from the stored pairs and their kept inner
    /// products, factoring `T` (`formt`); `false` when `T` is not positive
    /// definite, which the Fortran code answers by clearing the memory.
    /// The memory must not be empty.
    pub(super) fn refresh_compact(&mut self) -> bool {
        let mem = &self.mem;
        let col = mem.len();
        let k2 = 2 * col;
        let n = mem.s[0].len();
        let cm = &mut self.cm;
        cm.col = col;
        cm.theta = self.theta;
        zero(&mut cm.sy, col * col);
        for i in 0..col {
            for j in 0..=i {
                cm.sy[i * col + j] = mem.sy(i, j);
            }
        }
        cm.sqrt_d.clear();
        cm.sqrt_d.extend((0..col).map(|i| mem.sy(i, i).sqrt()));
        zero(&mut cm.ys, n * k2);
        for (i, row) in cm.ys.chunks_exact_mut(k2).enumerate() {
            for (j, (s, y)) in mem.s.iter().zip(&mem.y).enumerate() {
                row[j] = y[i];
                row[col + j] = s[i];
            }
        }
        formt(mem, self.theta, &mut cm.jt)
    }
}

/// `formt`: the upper triangle of `T = theta S'S + L D^-1 L'` into `jt`
/// (column-major `col x col`), factored in place into `J'` with `T = J J'`
/// (`dpofa`). `false` when `T` is not positive definite.
///
/// `(L D^-1 L')_ij = sum_{k < min(i, j)} (s_i'y_k)(s_j'y_k) / s_k'y_k`, and
/// the first row is `theta S'S` alone (`L`'s first row is zero).
pub(super) fn formt(mem: &Memory, theta: f64, jt: &mut Vec<f64>) -> bool {
    let col = mem.len();
    zero(jt, col * col);
    for j in 0..col {
        jt[j * col] = theta * mem.ss(0, j);
    }
    for i in 1..col {
        for j in i..col {
            let mut ddum = 0.0;
            for k in 0..i {
                ddum += mem.sy(i, k) * mem.sy(j, k) / mem.sy(k, k);
            }
            jt[i + j * col] = ddum + theta * mem.ss(i, j);
        }
    }
    dpofa(jt, col, col)
}
