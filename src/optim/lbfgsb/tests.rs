//! Unit tests of the L-BFGS-B internals against dense recomputations.

#![allow(clippy::needless_range_loop)]

use super::super::linalg::{dot, dtrsl, dtrsl_trans};
use super::*;

/// Deterministic, irregular test vectors.
fn vector(seed: usize, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((seed * 7 + i * 13) as f64 * 0.37).sin() + 0.1 * seed as f64)
        .collect()
}

/// Pairs with positive curvature: `y = A s` for the symmetric positive
/// definite tridiagonal `A = tridiag(-1, 4, -1)`.
fn pair(seed: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let s = vector(seed, n);
    let y = (0..n)
        .map(|i| {
            let left = if i > 0 { s[i - 1] } else { 0.0 };
            let right = if i + 1 < n { s[i + 1] } else { 0.0 };
            4.0 * s[i] - left - right
        })
        .collect();
    (s, y)
}

/// A solver whose memory holds `pairs` pairs pushed into a memory of
/// capacity `m`, with its compact form built.
fn solver_with_pairs(n: usize, m: usize, pairs: usize) -> LBFGSB {
    let mut solver = LBFGSB::new(Bounds::unbounded(n)).with_memory(m).unwrap();
    for k in 0..pairs {
        let (s, y) = pair(k, n);
        solver.theta = dot(&y, &y) / dot(&s, &y);
        solver.mem.push(s.clone(), y, dot(&s, &pair(k, n).1));
    }
    assert!(solver.refresh_compact());
    solver
}

/// `M^-1 = [[-D, L'], [L, theta S'S]]`, dense row-major, from the pairs.
fn m_inverse(mem: &Memory, theta: f64) -> Vec<f64> {
    let col = mem.len();
    let k2 = 2 * col;
    let mut a = vec![0.0; k2 * k2];
    for i in 0..col {
        for j in 0..col {
            let sy = dot(&mem.s[i], &mem.y[j]);
            if i == j {
                a[i * k2 + i] = -sy;
            } else if i > j {
                a[(col + i) * k2 + j] = sy;
                a[j * k2 + col + i] = sy;
            }
            a[(col + i) * k2 + col + j] = theta * dot(&mem.s[i], &mem.s[j]);
        }
    }
    a
}

fn mat_vec(a: &[f64], x: &[f64]) -> Vec<f64> {
    a.chunks_exact(x.len()).map(|row| dot(row, x)).collect()
}

#[test]
fn bmv_applies_the_inverse_of_m_inverse() {
    // m = 3 with 5 pairs pushed: the memory has wrapped.
    let solver = solver_with_pairs(6, 3, 5);
    let cm = &solver.cm;
    let minv = m_inverse(&solver.mem, solver.theta);
    let v = vector(11, 6);
    let mut p = vec![0.0; 6];
    cm.bmv(&v, &mut p);
    for (got, want) in mat_vec(&minv, &p).iter().zip(&v) {
        assert!(
            (got - want).abs() < 1e-12 * (1.0 + want.abs()),
            "{got} vs {want}"
        );
    }
}

#[test]
fn formk_factors_m_inverse_minus_the_free_gram_matrix() {
    // K = M^-1 - W_F'W_F / theta, W = [Y, theta S], checked through
    // K x = b with x from subsm's solve. The memory (m = 3) wraps and
    // the free set changes between calls, so the kept products are
    // shifted and corrected for entering and leaving variables.
    let (n, m) = (7, 3);
    let mut solver = LBFGSB::new(Bounds::unbounded(n)).with_memory(m).unwrap();
    let free_sets: [&[usize]; 5] = [
        &[0, 1, 2, 3, 4, 5, 6],
        &[0, 2, 3, 5],
        &[0, 2, 3, 5],
        &[1, 2, 5, 6],
        &[2],
    ];
    for (k, free) in free_sets.iter().enumerate() {
        let (s, y) = pair(k, n);
        solver.theta = dot(&y, &y) / dot(&s, &y);
        let sy = dot(&s, &y);
        solver.mem.push(s, y, sy);
        assert!(solver.refresh_compact());
        let iwhere: Vec<Where> = (0..n)
            .map(|i| {
                if free.contains(&i) {
                    Where::Free
                } else {
                    Where::AtLower
                }
            })
            .collect();
        solver.kmat.freev(&iwhere, k > 0);
        let active: Vec<usize> = (0..n).rev().filter(|i| !free.contains(i)).collect();
        let shifted = solver.mem.updates > m;
        assert!(solver.kmat.formk(&solver.cm, free, &active, true, shifted));

        let cm = &solver.cm;
        let (col, theta) = (cm.col, cm.theta);
        let k2 = 2 * col;
        let mut kmat = m_inverse(&solver.mem, theta);
        for &i in free.iter() {
            let row = cm.ys_row(i);
            let w: Vec<f64> = (0..k2)
                .map(|a| if a < col { row[a] } else { theta * row[a] })
                .collect();
            for a in 0..k2 {
                for b in 0..k2 {
                    kmat[a * k2 + b] -= w[a] * w[b] / theta;
                }
            }
        }
        let b = vector(20 + k, k2);
        let mut x = b.clone();
        dtrsl_trans(&solver.kmat.wn, k2, k2, &mut x);
        for v in &mut x[..col] {
            *v = -*v;
        }
        dtrsl(&solver.kmat.wn, k2, k2, &mut x);
        for (got, want) in mat_vec(&kmat, &x).iter().zip(&b) {
            assert!(
                (got - want).abs() < 1e-10 * (1.0 + want.abs()),
                "step {k}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn formk_measures_changes_against_the_last_freev_like_the_reference() {
    // Variable 0 is held at a bound; the steps move only it. Two runs:
    // one where variables 1-3 are free at both updates, and one (as in
    // tridiag20_mixed) where no variable is free after the first
    // update, so formk is skipped then, and 1-3 are free after the
    // second. In the second run the reference code corrects products
    // for pair 1 that were never formed: S'AA'S gets 0 instead of
    // s_1's_1 = 1 and the factorisation fails, which clears the memory.
    let n = 4;
    let pairs = [
        (vec![1.0, 0.0, 0.0, 0.0], vec![1.0, 0.5, 0.5, 0.5]),
        (vec![2.0, 0.0, 0.0, 0.0], vec![2.0, 0.3, -0.2, 0.1]),
    ];
    let held = vec![Where::AtLower; n];
    let mut some_free = held.clone();
    some_free[1..].fill(Where::Free);
    let run = |first: &[Where]| -> bool {
        let mut solver = LBFGSB::new(Bounds::unbounded(n)).with_memory(2).unwrap();
        solver.kmat.freev(&held, false);
        let mut ok = true;
        let mut before = &held[..];
        for (k, (s, y)) in pairs.iter().enumerate() {
            solver.theta = dot(y, y) / dot(s, y);
            solver.mem.push(s.clone(), y.clone(), dot(s, y));
            assert!(solver.refresh_compact());
            let iwhere = if k == 0 { first } else { &some_free[..] };
            assert_eq!(solver.kmat.freev(iwhere, true), iwhere != before);
            before = iwhere;
            let free: Vec<usize> = (0..n).filter(|&i| iwhere[i].is_free()).collect();
            let active: Vec<usize> = (0..n).rev().filter(|&i| !iwhere[i].is_free()).collect();
            if !free.is_empty() {
                ok = solver.kmat.formk(&solver.cm, &free, &active, true, false);
            }
        }
        ok
    };
    assert!(run(&some_free), "K is nonsingular: B is positive definite");
    assert!(!run(&held), "the reference's stale products");
}

#[test]
fn kept_products_equal_recomputed_ones_after_the_memory_wraps() {
    let (m, n) = (3, 5);
    let mut mem = Memory::new(m);
    for k in 0..7 {
        let (s, y) = (vector(2 * k, n), vector(2 * k + 1, n));
        let sy = dot(&s, &y);
        mem.push(s, y, sy);
        assert_eq!(mem.len(), (k + 1).min(m));
        // The pairs kept are the newest ones, oldest first.
        assert_eq!(mem.s[mem.len() - 1], vector(2 * k, n));
        for i in 0..mem.len() {
            for j in 0..=i {
                assert_eq!(mem.sy(i, j), dot(&mem.s[i], &mem.y[j]), "sy({i},{j})");
                assert_eq!(mem.ss(j, i), dot(&mem.s[j], &mem.s[i]), "ss({j},{i})");
            }
        }
    }
}
