#!/usr/bin/env python3
"""Reference optima of scipy's L-BFGS-B on the bounded test problems of
tests/optim.rs, written to tests/fixtures/lbfgsb_reference.json.

Every problem here is defined again, formula for formula, in tests/optim.rs
(same names); the Rust test runs our L-BFGS-B on it and compares x*, f*,
iterations and evaluations with what scipy reports.

    pip install scipy numpy
    python3 scripts/lbfgsb_reference.py          # rewrites the fixture

scipy options are the defaults (m=10, factr=1e7 i.e. ftol=2.22e-9,
pgtol=1e-5, maxls=20), with analytic gradients (jac=True).
"""

import json
import math
import pathlib
import sys

import numpy as np
import scipy
from scipy.optimize import minimize

INF = math.inf


# ---------------------------------------------------------------- problems
def quad_diag(w, c):
    """f = sum w_i (x_i - c_i)^2."""
    w = np.asarray(w, float)
    c = np.asarray(c, float)

    def fg(x):
        r = x - c
        return float(np.sum(w * r * r)), 2.0 * w * r

    return fg


def rosenbrock(x):
    """Chained Rosenbrock: sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2."""
    a = x[:-1]
    b = x[1:]
    f = float(np.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2))
    g = np.zeros_like(x)
    g[:-1] += -400.0 * a * (b - a * a) - 2.0 * (1.0 - a)
    g[1:] += 200.0 * (b - a * a)
    return f, g


def himmelblau(x):
    """(x^2 + y - 11)^2 + (x + y^2 - 7)^2."""
    a = x[0] ** 2 + x[1] - 11.0
    b = x[0] + x[1] ** 2 - 7.0
    return float(a * a + b * b), np.array([4 * a * x[0] + 2 * b, 2 * a + 4 * b * x[1]])


def beale(x):
    """(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2."""
    X, Y = x
    t1 = 1.5 - X + X * Y
    t2 = 2.25 - X + X * Y**2
    t3 = 2.625 - X + X * Y**3
    f = t1 * t1 + t2 * t2 + t3 * t3
    gx = 2 * t1 * (Y - 1) + 2 * t2 * (Y**2 - 1) + 2 * t3 * (Y**3 - 1)
    gy = 2 * t1 * X + 2 * t2 * 2 * X * Y + 2 * t3 * 3 * X * Y**2
    return float(f), np.array([gx, gy])


def booth(x):
    """(x + 2y - 7)^2 + (2x + y - 5)^2."""
    a = x[0] + 2 * x[1] - 7
    b = 2 * x[0] + x[1] - 5
    return float(a * a + b * b), np.array([2 * a + 4 * b, 4 * a + 2 * b])


def householder_quadratic(n, cond):
    """f = 1/2 (x - c)' A (x - c), A = H diag(lam) H, H = I - 2 v v'/v'v,
    v_i = 1 + i (0-based), lam_i = cond^(i/(n-1)), c_i = -2 + 4 i/(n-1)."""
    i = np.arange(n, dtype=float)
    v = 1.0 + i
    vv = float(v @ v)
    lam = cond ** (i / (n - 1))
    c = -2.0 + 4.0 * i / (n - 1)

    def h(z):
        return z - (2.0 * float(v @ z) / vv) * v

    def fg(x):
        r = x - c
        ar = h(lam * h(r))
        return 0.5 * float(r @ ar), ar

    return fg


def tridiag_quadratic(n):
    """f = sum_i (x_i - 1)^2 + sum_i (x_{i+1} - x_i)^2 * 2 - sum_i x_i * (i mod 3)."""
    k = np.arange(n) % 3

    def fg(x):
        r = x - 1.0
        dx = x[1:] - x[:-1]
        f = float(r @ r + 2.0 * dx @ dx - x @ k)
        g = 2.0 * r - k
        g[1:] += 4.0 * dx
        g[:-1] -= 4.0 * dx
        return f, g

    return fg


def logistic(m, p):
    """Mean logistic loss, features a_ij = sin(0.7 i + 1.3 j) (0-based),
    labels y_i = 1 if sin(0.37 i) + 0.3 a_i0 > 0 else 0:
    f = mean(log(1 + exp(a_i'x)) - y_i a_i'x)."""
    i = np.arange(m, dtype=float)[:, None]
    j = np.arange(p, dtype=float)[None, :]
    a = np.sin(0.7 * i + 1.3 * j)
    y = (np.sin(0.37 * np.arange(m)) + 0.3 * a[:, 0] > 0).astype(float)

    def fg(x):
        z = a @ x
        f = float(np.mean(np.logaddexp(0.0, z) - y * z))
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        return f, a.T @ (s - y) / m

    return fg


def alternating(n, a, b):
    return [a if i % 2 == 0 else b for i in range(n)]


PROBLEMS = [
    # name, definition, fg, x0, lower, upper
    ("quad2_interior", "quad_diag w=[1,10] c=[1,-0.5]", quad_diag([1, 10], [1, -0.5]),
     [2.0, 2.0], [-2.0, -2.0], [2.0, 2.0]),
    ("quad2_face", "quad_diag w=[1,10] c=[1,-0.5]", quad_diag([1, 10], [1, -0.5]),
     [2.0, 2.0], [-2.0, 0.0], [2.0, 2.0]),
    ("quad2_corner", "quad_diag w=[1,1] c=[3,-1]", quad_diag([1, 1], [3, -1]),
     [1.0, 1.0], [0.0, 0.0], [2.0, 2.0]),
    ("quad50_corner", "quad_diag w_i=1+i c_i=5", quad_diag(1.0 + np.arange(50), [5.0] * 50),
     [0.0] * 50, [-1.0] * 50, [1.0] * 50),
    ("rosenbrock2_box", "rosenbrock", rosenbrock, [-1.2, 1.0], [-2.0, -2.0], [2.0, 2.0]),
    ("rosenbrock2_face", "rosenbrock", rosenbrock, [-1.2, 1.0], [-2.0, -2.0], [0.5, 2.0]),
    ("rosenbrock2_free", "rosenbrock", rosenbrock, [-1.2, 1.0], [-INF, -INF], [INF, INF]),
    ("rosenbrock4_fixed", "rosenbrock", rosenbrock, [-1.2, 1.0, 0.7, -1.2],
     [-2.0, 1.0, -2.0, -2.0], [2.0, 1.0, 2.0, 2.0]),
    ("rosenbrock10_box", "rosenbrock", rosenbrock, alternating(10, -1.2, 1.0), [-2.0] * 10, [2.0] * 10),
    ("rosenbrock100_faces", "rosenbrock", rosenbrock, alternating(100, -1.2, 1.0),
     [-2.0] * 100, alternating(100, 0.8, 2.0)),
    ("rosenbrock1000_interior", "rosenbrock", rosenbrock, [0.5] * 1000,
     [-2.0] * 1000, [2.0] * 1000),
    ("rosenbrock1000_upper", "rosenbrock", rosenbrock, [0.0] * 1000,
     [-2.0] * 1000, [0.9] * 1000),
    ("himmelblau_box", "himmelblau", himmelblau, [0.0, 0.0], [-5.0, -5.0], [5.0, 5.0]),
    ("himmelblau_face", "himmelblau", himmelblau, [4.0, 0.0], [3.5, -5.0], [5.0, 5.0]),
    ("beale_box", "beale", beale, [1.0, 1.0], [-4.5, -4.5], [4.5, 4.5]),
    ("booth_face", "booth", booth, [-5.0, 0.0], [-10.0, -10.0], [0.0, 10.0]),
    ("illcond100_1e6", "householder_quadratic n=100 cond=1e6", householder_quadratic(100, 1e6),
     [0.0] * 100, [-1.0] * 100, [1.0] * 100),
    ("illcond1000_1e4", "householder_quadratic n=1000 cond=1e4", householder_quadratic(1000, 1e4),
     [0.0] * 1000, [-1.5] * 1000, [1.5] * 1000),
    ("tridiag20_mixed", "tridiag_quadratic n=20", tridiag_quadratic(20),
     [0.0] * 20, alternating(20, 1.2, -INF), alternating(20, INF, 1.1)),
    ("logistic5_box", "logistic m=200 p=5", logistic(200, 5),
     [0.0] * 5, [-0.5] * 5, [0.5] * 5),
]


def finite_or_none(v):
    return None if math.isinf(v) else v


def main():
    out = []
    for name, definition, fg, x0, lo, hi in PROBLEMS:
        res = minimize(fg, np.array(x0, float), jac=True, method="L-BFGS-B",
                       bounds=list(zip(lo, hi)))
        out.append({
            "name": name,
            "definition": definition,
            "n": len(x0),
            "x0": list(map(float, x0)),
            "lower": [finite_or_none(float(v)) for v in lo],
            "upper": [finite_or_none(float(v)) for v in hi],
            "x_star": [float(v) for v in res.x],
            "f_star": float(res.fun),
            "nit": int(res.nit),
            "nfev": int(res.nfev),
            "message": str(res.message),
        })
        print(f"{name:22s} n={len(x0):5d} f*={res.fun:.10g} nit={res.nit} nfev={res.nfev} {res.message}",
              file=sys.stderr)
    doc = {
        "generator": "scripts/lbfgsb_reference.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "options": "defaults: m=10, ftol=2.220446049250313e-09, gtol=1e-05, maxls=20, jac=True",
        "problems": out,
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "lbfgsb_reference.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
