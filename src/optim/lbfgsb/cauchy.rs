//! The generalized Cauchy point of L-BFGS-B (the Fortran `cauchy`): the
//! first local minimiser of the quadratic model along the projected
//! steepest-descent path.

#![allow(clippy::needless_range_loop)]

use super::super::linalg::dot;
use super::memory::Compact;
use super::{copy, zero, Bounds, Scratch, Where};

/// The generalized Cauchy point (`cauchy` of the Fortran code) into
/// `ws.xcp`, with `ws.c = W'(xcp - x)`; returns the number of segments
/// searched. Updates `iwhere` to the variables held at bounds.
pub(super) fn cauchy(
    bounds: &Bounds,
    iwhere: &mut [Where],
    cm: Option<&Compact>,
    ws: &mut Scratch,
    x: &[f64],
    g: &[f64],
    pg_norm: f64,
) -> u64 {
    let n = x.len();
    let col = cm.map_or(0, |c| c.col);
    let theta = cm.map_or(1.0, |c| c.theta);
    let Scratch {
        xcp,
        c,
        p,
        d,
        wbp,
        mv,
        breaks,
        ..
    } = ws;
    copy(xcp, x);
    zero(c, 2 * col);
    if pg_norm <= 0.0 {
        return 0;
    }
    let (lo, hi) = (bounds.lower(), bounds.upper());
    zero(p, 2 * col);
    zero(d, n);
    zero(mv, 2 * col);
    breaks.clear();
    let mut n_unbroken = 0usize;
    let mut bounded = true;
    let mut f1 = 0.0;
    for i in 0..n {
        let neggi = -g[i];
        let has_lower = lo[i].is_finite();
        let has_upper = hi[i].is_finite();
        let (tl, tu) = (x[i] - lo[i], hi[i] - x[i]);
        if !matches!(iwhere[i], Where::Fixed | Where::Unbounded) {
            let xlower = has_lower && tl <= 0.0;
            let xupper = has_upper && tu <= 0.0;
            iwhere[i] = Where::Free;
            if xlower {
                if neggi <= 0.0 {
                    iwhere[i] = Where::AtLower;
                }
            } else if xupper {
                if neggi >= 0.0 {
                    iwhere[i] = Where::AtUpper;
                }
            } else if neggi == 0.0 {
                iwhere[i] = Where::FreeZeroGrad;
            }
        }
        if !matches!(iwhere[i], Where::Free | Where::Unbounded) {
            continue;
        }
        d[i] = neggi;
        f1 -= neggi * neggi;
        if let Some(cm) = cm {
            // p = [Y'd, S'd], accumulated row by row; the S half is scaled
            // by theta once d is complete, as in the Fortran code.
            for (pj, wj) in p.iter_mut().zip(cm.ys_row(i)) {
                *pj += wj * neggi;
            }
        }
        if has_lower && neggi < 0.0 {
            breaks.push((tl / -neggi, i));
        } else if has_upper && neggi > 0.0 {
            breaks.push((tu / neggi, i));
        } else {
            n_unbroken += 1;
            if neggi != 0.0 {
                bounded = false;
            }
        }
    }
    for pj in &mut p[col..] {
        *pj *= theta;
    }
    if breaks.is_empty() && n_unbroken == 0 {
        return 0;
    }
    // f1 = g'd = -|d|^2 is the slope, f2 = d'Bd the curvature, of the
    // model along the first segment.
    let mut f2 = -theta * f1;
    let f2_org = f2;
    if let Some(cm) = cm {
        cm.bmv(p, mv);
        f2 -= dot(mv, p);
    }
    let mut dtm = -f1 / f2;
    let mut tsum = 0.0;
    let mut nseg = 1;
    // Breakpoints in increasing order (the Fortran code uses a heap, so
    // ties may be taken in a different order; the model value is the same).
    breaks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let nbreak = breaks.len();
    let mut tj = 0.0;
    let mut all_fixed = false;
    for (k, &(t, ibp)) in breaks.iter().enumerate() {
        let tj0 = tj;
        tj = t;
        let dt = tj - tj0;
        if dtm < dt {
            break;
        }
        // The model still decreases past this breakpoint: fix variable
        // ibp at its bound and update slope and curvature.
        tsum += dt;
        let nleft = nbreak - k - 1;
        let dibp = d[ibp];
        d[ibp] = 0.0;
        let zibp = if dibp > 0.0 {
            xcp[ibp] = hi[ibp];
            iwhere[ibp] = Where::AtUpper;
            hi[ibp] - x[ibp]
        } else {
            xcp[ibp] = lo[ibp];
            iwhere[ibp] = Where::AtLower;
            lo[ibp] - x[ibp]
        };
        if nleft == 0 && nbreak == n {
            dtm = dt;
            all_fixed = true;
            break;
        }
        nseg += 1;
        let dibp2 = dibp * dibp;
        f1 += dt * f2 + dibp2 - theta * dibp * zibp;
        f2 -= theta * dibp2;
        if let Some(cm) = cm {
            for (cj, pj) in c.iter_mut().zip(p.iter()) {
                *cj += dt * pj;
            }
            // wbp = the row of W = [Y, theta S] of variable ibp.
            let row = cm.ys_row(ibp);
            wbp.clear();
            wbp.extend_from_slice(&row[..col]);
            wbp.extend(row[col..].iter().map(|s| theta * s));
            cm.bmv(wbp, mv);
            let wmc = dot(c, mv);
            let wmp = dot(p, mv);
            let wmw = dot(wbp, mv);
            for (pj, wj) in p.iter_mut().zip(wbp.iter()) {
                *pj -= dibp * wj;
            }
            f1 += dibp * wmc;
            f2 += 2.0 * dibp * wmp - dibp2 * wmw;
        }
        f2 = f2.max(f64::EPSILON * f2_org);
        if nleft > 0 {
            dtm = -f1 / f2;
        } else if bounded {
            dtm = 0.0;
        } else {
            dtm = -f1 / f2;
        }
    }
    if !all_fixed {
        dtm = dtm.max(0.0);
        tsum += dtm;
        for i in 0..n {
            xcp[i] += tsum * d[i];
        }
        // Rounding in x + tsum d must not leave the box.
        bounds.project(xcp);
    }
    if col > 0 {
        for (cj, pj) in c.iter_mut().zip(p.iter()) {
            *cj += dtm * pj;
        }
    }
    nseg
}
