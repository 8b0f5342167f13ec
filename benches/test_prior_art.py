"""Tests of the benchmark scripts (prior_art.py, compare.py).

Run from the repository root (needs benches/requirements.txt and the real
data in ../shared/data, or SEIRD_DATA_DIR):

    python3 -m unittest discover -s benches -p 'test_*.py'
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
import unittest
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import mean_squared_log_error

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402
import prior_art as pa  # noqa: E402

DATA_DIR = Path(os.environ.get("SEIRD_DATA_DIR", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
KAGGLE = DATA_DIR / "kaggle" / "train.csv"
END = dt.date(2020, 4, 30)
# scipy's L-BFGS-B optimum for Italy, end 2020-04-30 (reports/prior_art_12.json).
ITALY_PRIOR_ART = [6.466384551443079, 0.14215905486560027, 2.8843712669660952, 21.30639682870305,
                   0.6827828163773513, 3.687588643704863, 4.9]

_REGIONS = None


def regions():
    global _REGIONS
    if _REGIONS is None:
        if not KAGGLE.exists():
            raise unittest.SkipTest(f"real data not found at {KAGGLE}") if os.environ.get("CI") != "true" \
                else AssertionError(f"real data not found at {KAGGLE}")
        _REGIONS = pa.load_regions(KAGGLE)
    return _REGIONS


class DataTests(unittest.TestCase):
    def test_names_with_commas_and_provinces_resolve(self):
        keys = pa.resolve_names("italy,Korea, South, China/Hubei,US", regions())
        self.assertEqual(keys, [("Italy", ""), ("Korea, South", ""), ("China", "Hubei"), ("US", "")])
        with self.assertRaises(SystemExit):
            pa.resolve_names("Italy,Atlantis", regions())

    def test_training_window_starts_at_first_case_and_ends_inclusive(self):
        italy = regions()[("Italy", "")]
        data = italy.training(END)
        self.assertEqual(data["Date"].iloc[0], dt.date(2020, 1, 31))  # Italy's first 2 cases
        self.assertEqual(data["Date"].iloc[-1], END)
        self.assertEqual(len(data), 91)
        self.assertGreater(data["ConfirmedCases"].iloc[0], 0)
        self.assertEqual(italy.population, 60461828)

    def test_jhu_wide_pair_reads_the_same_numbers_as_kaggle(self):
        jhu = pa.load_regions(DATA_DIR / "jhu")
        for key in (("Italy", ""), ("China", "Hubei"), ("Korea, South", "")):
            a, b = regions()[key], jhu[key]
            self.assertEqual(a.dates, b.dates)
            np.testing.assert_array_equal(a.cases, b.cases)
            np.testing.assert_array_equal(a.deaths, b.deaths)
            self.assertEqual(a.population, b.population)

    def test_regions_without_population_are_not_eligible(self):
        keys = pa.eligible(regions(), END)
        self.assertEqual(len(keys), 259)  # of 274; the developers' guide counts 259 too
        self.assertNotIn(("Diamond Princess", ""), keys)
        self.assertIn(("China", "Hubei"), keys)


class EvaluatorTests(unittest.TestCase):
    def test_weighted_msle_is_sklearns(self):
        rng = np.random.default_rng(3)
        y = np.cumsum(rng.integers(0, 500, 37)).astype(float)
        yhat = y * rng.uniform(0.5, 1.5, 37)
        w = 1 / np.arange(1, 21)[::-1]
        want = mean_squared_log_error(y[-20:], yhat[-20:], sample_weight=w)
        self.assertAlmostEqual(pa.weighted_msle(y, yhat), want, delta=1e-15)
        # Newest day weighs most: 20x the oldest of the window.
        self.assertAlmostEqual(w[-1] / w[0], 20.0)

    def test_tight_trajectory_conserves_the_population(self):
        x = [3.1, 0.05, 1.5, 30.0, 0.9, 9.0, 5.2]
        y = pa.tight_trajectory(x, 120, 5.0, 1e7)
        np.testing.assert_allclose(y.sum(axis=0), 1.0, rtol=0, atol=1e-12)

    def test_constant_beta_grows_at_the_linearised_rate(self):
        # R_0 = R_t: beta = R_0 rho is constant; while S ~ 1, E and I grow like
        # exp(r t) with (r + alpha)(r + rho) = alpha beta.
        r0, d_rec, d_inc = 2.5, 8.0, 5.0
        rho, alpha = 1 / d_rec, 1 / d_inc
        beta = r0 * rho
        r = (-(alpha + rho) + np.sqrt((alpha - rho) ** 2 + 4 * alpha * beta)) / 2
        y = pa.tight_trajectory([r0, 0.05, 2.0, 20.0, r0, d_rec, d_inc], 80, 1.0, 1e9)
        infected = y[1] + y[2]
        measured = np.log(infected[70] / infected[60]) / 10
        self.assertAlmostEqual(measured, r, delta=1e-6)

    def test_tight_loss_has_converged(self):
        # DOP853 and Radau, both tight, agree far below the 1e-8 we need.
        italy = regions()[("Italy", "")]
        data = italy.training(END)
        base = pa.tight_loss(ITALY_PRIOR_ART, data, italy.population)
        saved = pa.TIGHT_METHOD
        try:
            pa.TIGHT_METHOD = "Radau"
            radau = pa.tight_loss(ITALY_PRIOR_ART, data, italy.population)
        finally:
            pa.TIGHT_METHOD = saved
        for field in base:
            self.assertAlmostEqual(base[field], radau[field], delta=1e-9)

    def test_tight_loss_is_finite_at_the_bounds_where_the_prior_art_hangs(self):
        italy = regions()[("Italy", "")]
        data = italy.training(END)
        for x in ([3.0, 0.05, 2.0, 0.0, 0.8, 10, 5.2], [3.0, 0.05, 0.0, 0.0, 0.8, 10, 5.2]):
            self.assertTrue(np.isfinite(pa.tight_loss(x, data, italy.population)["msle"]))
        # L=0, k=0: beta is (R_0 + R_t)/2 rho, which the prior art also computes
        # (numpy's nan**0 == 1); the two solvers agree to RK45's tolerance.
        x = np.array([3.0, 0.05, 0.0, 0.0, 0.8, 10, 5.2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the prior art's 0/0 at t=0
            reported = pa.eval_model(x, data, italy.population)
        tight = pa.tight_loss(x, data, italy.population)["msle"]
        self.assertAlmostEqual(reported, tight, delta=0.05 * tight)

    def test_rk45_error_lets_the_prior_art_report_a_lower_loss_than_it_reaches(self):
        # The reason for one tight evaluator: at Italy's prior-art optimum,
        # the loss RK45 reports is ~10x below the accurate loss.
        italy = regions()[("Italy", "")]
        data = italy.training(END)
        reported = pa.eval_model(np.array(ITALY_PRIOR_ART), data, italy.population)
        tight = pa.tight_loss(ITALY_PRIOR_ART, data, italy.population)["msle"]
        self.assertAlmostEqual(reported, 1.5101049068027305e-05, delta=1e-12)
        self.assertGreater(tight, 5 * reported)


class TimeoutTests(unittest.TestCase):
    def test_a_region_that_never_finishes_is_recorded_as_timeout(self):
        italy = regions()[("Italy", "")]
        saved = pa.fit_one
        pa.fit_one = lambda *a, **k: time.sleep(30)  # the forked child sees this
        try:
            t0 = time.perf_counter()
            r = pa.run_with_timeout(italy, END, False, 1, timeout=0.5)
        finally:
            pa.fit_one = saved
        self.assertEqual(r["status"], "timeout")
        self.assertLess(time.perf_counter() - t0, 10)


FAKE = """#!{python}
# A stand-in for target/release/seird-fit that speaks its JSON contract.
import json, sys, os, csv
args = sys.argv[1:]
mode = {mode!r}
if args and args[0] == "batch":
    out = args[args.index("--out") + 1]
    with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f); w.writerow(["region", "status"]); w.writerow(["Italy", "ok"]); w.writerow(["US", "error"])
    sys.exit(1)
if mode == "fail":
    sys.stderr.write("seird-fit: ../data.csv:3:4: ConfirmedCases: not a number\\n"); sys.exit(2)
names = ["r_0", "theta", "k", "l", "r_t", "d_rec", "d_inc"]
x = {x!r}
print(json.dumps({{"region": {{"country": args[args.index("--country") + 1], "province": None}},
    "start_date": "2020-01-31", "end_date": "2020-04-30", "population": 60461828,
    "params": dict(zip(names, x)), "loss": {{"msle": 1e-5, "msle_cases": 1e-5, "msle_deaths": 1e-5}},
    "optimizer": {{"iterations": 30, "loss_evals": 40, "gradient_evals": 35, "seconds": 0.002,
                   "termination": "converged"}}}}))
"""


class CompareTests(unittest.TestCase):
    def fake(self, tmp, mode, x):
        path = Path(tmp) / "seird-fit"
        path.write_text(FAKE.format(python=sys.executable, mode=mode, x=x))
        path.chmod(0o755)
        return path

    def test_our_answer_is_parsed_rescored_and_judged(self):
        italy = regions()[("Italy", "")]
        prior = {("Italy", ""): {"status": "ok", "region": {"country": "Italy", "province": None},
                                 "params": dict(zip(pa.PARAM_NAMES, ITALY_PRIOR_ART)),
                                 "loss": {"msle": 1.5e-5}, "optimizer": {"seconds": 4.0}}}
        with tempfile.TemporaryDirectory() as tmp:
            for x, want in ((ITALY_PRIOR_ART, "equal"), (pa.X0, "worse")):
                o = compare.run_ours(self.fake(tmp, "ok", x), italy, KAGGLE, END, 60, False)
                self.assertEqual(o["status"], "ok", o)
                for item in (prior[("Italy", "")], o):
                    item["rescored"] = pa.rescore_item(item, regions(), END, False)
                row = compare.rows_for([("Italy", "")], prior, {("Italy", ""): o})[0]
                self.assertEqual(row["verdict"], want)
                self.assertAlmostEqual(row["fit_ratio"], 2000.0)
                self.assertEqual(row["ours_nfev"], 40)

    def test_a_failing_binary_is_reported_with_its_error_line(self):
        italy = regions()[("Italy", "")]
        with tempfile.TemporaryDirectory() as tmp:
            o = compare.run_ours(self.fake(tmp, "fail", []), italy, KAGGLE, END, 60, False)
        self.assertEqual(o["status"], "error")
        self.assertEqual(o["exit_code"], 2)
        self.assertIn("not a number", o["error"])
        self.assertIn("does not exist", compare.binary_problem(Path("/nonexistent/seird-fit")))

    def test_batch_wall_time_and_summary_are_read(self):
        with tempfile.TemporaryDirectory() as tmp:
            b = compare.run_batch(self.fake(tmp, "ok", []), KAGGLE, END, ["Italy", "US"], 2, 60)
        self.assertEqual(b["status"], "ok")  # exit 1: finished, some regions failed
        self.assertEqual((b["regions"], b["ok"]), (2, 1))
        self.assertIn("<2 regions>", b["command"])
        self.assertGreater(b["wall_seconds"], 0)

    def test_criterion_median_is_read_in_seconds(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp) / "loss" / "italy" / "new"
            d.mkdir(parents=True)
            (d / "estimates.json").write_text(json.dumps({"median": {"point_estimate": 2500.0}}))
            est = compare.criterion_estimates(Path(tmp))
        self.assertEqual(list(est), ["loss/italy"])
        self.assertAlmostEqual(est["loss/italy"], 2.5e-6)
        self.assertEqual(compare.pick_loss_bench(est, None), "loss/italy")


if __name__ == "__main__":
    unittest.main()
