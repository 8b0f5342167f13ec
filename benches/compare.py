#!/usr/bin/env python3
"""seird-fit against its Python prior art, on the same regions and window.

Runs (or reuses) the prior art of benches/prior_art.py and our release binary
on the same regions, re-scores every answer with the one tight evaluator of
prior_art.py (so neither tool is judged by its own ODE tolerance), reads our
one-evaluation time from criterion when it is there, times our batch mode,
and writes reports/performance.md plus the raw numbers in
reports/prior_art_compare.json. benches/compare.sh is the one-command entry.

Every row records the loss each tool reached next to its time, so speed
never hides a worse fit.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prior_art as pa  # noqa: E402

TWELVE = ("Italy,Spain,Germany,France,United Kingdom,Iran,Korea, South,Brazil,India,Sweden,"
          "China/Hubei,US")
# Two tools' losses count as equal within this relative margin; the tight
# evaluator itself is good to ~1e-10 (see prior_art.py --check-evaluator).
TIE_RTOL = 1e-6

TARGET_EVAL_RATIO = 500
TARGET_FIT_RATIO = 1000
TARGET_WINS_12 = 11
TARGET_BATCH_SECONDS = 1.0


# --------------------------------------------------------------------------
# Our side: the seird-fit binary.
# --------------------------------------------------------------------------

def binary_problem(binary: Path) -> str | None:
    """Why the binary cannot be used, or None."""
    if not binary.exists():
        return f"{binary} does not exist (run `cargo build --release`)"
    if not os.access(binary, os.X_OK):
        return f"{binary} is not executable"
    return None


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def run_ours(binary: Path, region: pa.Region, data: Path, end: dt.date, timeout: float,
             cases_only: bool, repeats: int = 1) -> dict:
    """`seird-fit --country X [--province P] --json`, run `repeats` times (the
    fit is deterministic; only its time varies on a shared machine): the run
    with the median fit time, with every run's fit time alongside."""
    runs = []
    for _ in range(max(1, repeats)):
        r = run_ours_once(binary, region, data, end, timeout, cases_only)
        if r["status"] != "ok":
            return r
        runs.append(r)
    runs.sort(key=lambda r: r["optimizer"]["seconds"])
    chosen = runs[(len(runs) - 1) // 2]
    chosen["fit_seconds_all"] = [r["optimizer"]["seconds"] for r in runs]
    return chosen


def run_ours_once(binary: Path, region: pa.Region, data: Path, end: dt.date, timeout: float,
                  cases_only: bool) -> dict:
    """One `seird-fit --country X [--province P] --json` run, parsed."""
    head = {"name": region.name,
            "region": {"country": region.country, "province": region.province or None}}
    with tempfile.TemporaryDirectory(prefix="seird-compare-") as tmp:
        cmd = [str(binary), "--country", region.country]
        if region.province:
            cmd += ["--province", region.province]
        cmd += ["--data", str(data), "--end", end.isoformat(), "--json", "--quiet", "--out", tmp]
        if cases_only:
            cmd.append("--cases-only")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {**head, "status": "timeout", "timeout_seconds": timeout}
        except OSError as e:
            return {**head, "status": "error", "error": f"cannot run {binary}: {e}"}
        wall = time.perf_counter() - t0
    head["process_wall_seconds"] = wall
    head["command"] = shlex.join(c if c != tmp else "DIR" for c in cmd)
    if proc.returncode != 0:
        return {**head, "status": "error", "exit_code": proc.returncode,
                "error": last_line(proc.stderr) or last_line(proc.stdout) or "no output"}
    try:
        fit = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        return {**head, "status": "error", "error": f"stdout is not fit.json ({e}): "
                f"{proc.stdout[:120]!r}"}
    missing = [f for f in ("params", "loss", "optimizer") if f not in fit]
    if missing:
        return {**head, "status": "error", "error": f"fit.json lacks {missing}"}
    return {**head, **fit, "status": "ok"}


def run_batch(binary: Path, data: Path, end: dt.date, names: list | None, jobs: int,
              timeout: float, repeats: int = 1, out_root: Path | None = None) -> dict:
    """Wall time of `seird-fit batch` (the shell's view), run `repeats` times,
    each into a fresh directory: the median is reported (these machines are
    shared and noisy), with every run's time. Also what summary.csv says."""
    walls = []
    out = {}
    for _ in range(max(1, repeats)):
        one = run_batch_once(binary, data, end, names, jobs, timeout, out_root)
        if one.get("status") != "ok":
            return one
        walls.append(one["wall_seconds"])
        out = one
    out["wall_seconds_all"] = walls
    out["out_root"] = str(out_root or tempfile.gettempdir())
    out["wall_seconds"] = statistics.median(walls)
    out["wall_seconds_min"] = min(walls)
    return out


def run_batch_once(binary: Path, data: Path, end: dt.date, names: list | None, jobs: int,
                   timeout: float, out_root: Path | None = None) -> dict:
    """Wall time of one `seird-fit batch` run (the shell's view), and what its
    summary.csv says."""
    with tempfile.TemporaryDirectory(prefix="seird-batch-", dir=out_root) as tmp:
        cmd = [str(binary), "batch"]
        cmd += ["--countries", ",".join(names)] if names is not None else ["--all"]
        cmd += ["--data", str(data), "--end", end.isoformat(), "--out", tmp, "--quiet",
                "--jobs", str(jobs)]
        listed = {",".join(names): f"<{len(names)} regions>"} if names is not None else {}
        shown = shlex.join(listed.get(c, "DIR" if c == tmp else c) for c in cmd)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"command": shown, "status": "timeout", "timeout_seconds": timeout}
        except OSError as e:
            return {"command": shown, "status": "error", "error": str(e)}
        wall = time.perf_counter() - t0
        out = {"command": shown, "wall_seconds": wall, "exit_code": proc.returncode}
        summary = Path(tmp) / "summary.csv"
        if summary.exists():
            with open(summary, newline="") as f:
                rows = list(csv.DictReader(f))
            out["regions"] = len(rows)
            status_col = next((c for c in ("status", "outcome", "result") if rows and c in rows[0]), None)
            if status_col:
                out["ok"] = sum(1 for r in rows if r[status_col].lower() in ("ok", "fitted", "success", "converged"))
        # Exit code 1 means "finished, some regions failed" (STYLE.md).
        if proc.returncode not in (0, 1) or not summary.exists():
            out["status"] = "error"
            out["error"] = last_line(proc.stderr) or f"exit code {proc.returncode}, no summary.csv"
        else:
            out["status"] = "ok"
        return out


def criterion_estimates(root: Path) -> dict:
    """Median (seconds) of every criterion benchmark under target/criterion."""
    out = {}
    for est in sorted(root.glob("**/new/estimates.json")):
        try:
            med = json.loads(est.read_text())["median"]["point_estimate"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        out[str(est.parent.parent.relative_to(root))] = med * 1e-9
    return out


def pick_loss_bench(estimates: dict, wanted: str | None) -> str | None:
    if wanted:
        return wanted if wanted in estimates else None
    cands = [n for n in estimates if "loss" in n.lower() and "grad" not in n.lower()
             and "fit" not in n.lower() and "batch" not in n.lower()]
    italy = [n for n in cands if "italy" in n.lower()]
    return (italy or cands or [None])[0]


# --------------------------------------------------------------------------
# Comparing.
# --------------------------------------------------------------------------

def fnum(x, fmt=".3g", none="—"):
    return none if x is None else format(x, fmt)


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def verdict(ours: float | None, prior: float | None) -> str:
    """'better' / 'equal' / 'worse' for our loss against the prior art's."""
    if ours is None:
        return "no answer"
    if prior is None:
        return "better (prior art: no answer)"
    if abs(ours - prior) <= TIE_RTOL * max(abs(prior), 1e-300):
        return "equal"
    return "better" if ours < prior else "worse"


def rescored_msle(item: dict):
    r = item.get("rescored") or {}
    return r.get("msle")


def prior_fit_seconds(item: dict):
    """The prior art's fit time; a timeout counts as at least its limit."""
    if item.get("status") == "ok":
        return item["optimizer"]["seconds"]
    if item.get("status") == "timeout":
        return item.get("timeout_seconds")
    return None


def rows_for(keys, prior: dict, ours: dict, reference: dict | None = None) -> list:
    rows = []
    for key in keys:
        ref = (reference or {}).get(key, {})
        p = prior.get(key, {})
        o = ours.get(key, {})
        po = p.get("optimizer", {})
        oo = o.get("optimizer", {}) if o.get("status") == "ok" else {}
        p_sec = prior_fit_seconds(p)
        o_sec = oo.get("seconds")
        rows.append({
            "name": p.get("name") or o.get("name") or str(key),
            "days": p.get("train_days") or o.get("train_days"),
            "prior_status": p.get("status", "not run"),
            "ours_status": o.get("status", "not run"),
            "ours_error": o.get("error"),
            "prior_msle": (p.get("loss") or {}).get("msle"),
            "ours_msle": (o.get("loss") or {}).get("msle") if o.get("status") == "ok" else None,
            "prior_rescored": rescored_msle(p),
            "ours_rescored": rescored_msle(o),
            "prior_nit": po.get("iterations"), "prior_nfev": po.get("loss_evals"),
            "prior_njev": po.get("gradient_evals"),
            "ours_nit": oo.get("iterations"), "ours_nfev": oo.get("loss_evals"),
            "ours_njev": oo.get("gradient_evals"),
            "prior_seconds": p_sec, "prior_timed_out": p.get("status") == "timeout",
            "ours_seconds": o_sec, "ours_wall": o.get("process_wall_seconds"),
            "fit_ratio": ratio(p_sec, o_sec),
            "prior_eval": p.get("eval_seconds_median"),
            "ref_rescored": rescored_msle(ref) if ref.get("status") == "ok" else None,
            "verdict": verdict(rescored_msle(o), rescored_msle(p)),
        })
    return rows


def region_table(rows: list) -> list:
    with_ref = any(r["ref_rescored"] is not None for r in rows)
    md = ["| region | days | prior art MSLE (own RK45) | ours MSLE (own) | prior art MSLE re-scored "
          "| ours MSLE re-scored | ours vs prior art "
          + ("| reference MSLE (scipy on the tight loss) " if with_ref else "")
          + "| prior art it / f / g | ours it / f / g "
          "| prior art fit s | ours fit s | ours process s | fit speed-up |",
          "|---|---:|---:|---:|---:|---:|:--|" + ("---:|" if with_ref else "") + "---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        prior_state = "" if r["prior_status"] == "ok" else f" ({r['prior_status']})"
        ours_state = "" if r["ours_status"] == "ok" else f" ({r['ours_status']})"
        sec = fnum(r["prior_seconds"], ".2f")
        if r["prior_timed_out"]:
            sec = f"≥ {sec}"
        md.append(
            f"| {r['name']} | {fnum(r['days'], 'd')} | {fnum(r['prior_msle'], '.6g')}{prior_state} "
            f"| {fnum(r['ours_msle'], '.6g')}{ours_state} | {fnum(r['prior_rescored'], '.6g')} "
            f"| {fnum(r['ours_rescored'], '.6g')} | {r['verdict']} "
            + (f"| {fnum(r['ref_rescored'], '.6g')} " if with_ref else "") +
            f"| {fnum(r['prior_nit'], 'd')} / {fnum(r['prior_nfev'], 'd')} / {fnum(r['prior_njev'], 'd')} "
            f"| {fnum(r['ours_nit'], 'd')} / {fnum(r['ours_nfev'], 'd')} / {fnum(r['ours_njev'], 'd')} "
            f"| {sec} | {fnum(r['ours_seconds'], '.2g')} | {fnum(r['ours_wall'], '.2g')} "
            f"| {fnum(r['fit_ratio'], ',.0f')}{'+' if r['prior_timed_out'] and r['fit_ratio'] else ''} |")
    return md


def summarize(rows: list) -> dict:
    def vals(f):
        return [r[f] for r in rows if r[f] is not None]
    ratios = vals("fit_ratio")
    p_sec = vals("prior_seconds")
    o_sec = vals("ours_seconds")
    return {
        "regions": len(rows),
        "prior_ok": sum(r["prior_status"] == "ok" for r in rows),
        "prior_timeout": sum(r["prior_status"] == "timeout" for r in rows),
        "ours_ok": sum(r["ours_status"] == "ok" for r in rows),
        "better": sum(r["verdict"].startswith("better") for r in rows),
        "equal": sum(r["verdict"] == "equal" for r in rows),
        "worse": sum(r["verdict"] == "worse" for r in rows),
        "median_ratio": statistics.median(ratios) if ratios else None,
        "min_ratio": min(ratios) if ratios else None,
        "prior_total_s": sum(p_sec) if p_sec else None,
        "ours_total_s": sum(o_sec) if o_sec else None,
        "prior_median_s": statistics.median(p_sec) if p_sec else None,
        "ours_median_s": statistics.median(o_sec) if o_sec else None,
        "prior_median_rescored": statistics.median(vals("prior_rescored")) if vals("prior_rescored") else None,
        "ours_median_rescored": statistics.median(vals("ours_rescored")) if vals("ours_rescored") else None,
        "prior_median_nfev": statistics.median(vals("prior_nfev")) if vals("prior_nfev") else None,
        "ours_median_nfev": statistics.median(vals("ours_nfev")) if vals("ours_nfev") else None,
    }


def summary_lines(s: dict) -> list:
    return [
        f"- regions: {s['regions']}; prior art finished {s['prior_ok']}, timed out {s['prior_timeout']}; "
        f"ours finished {s['ours_ok']}",
        f"- final loss (re-scored), ours vs prior art: better {s['better']}, equal {s['equal']}, "
        f"worse {s['worse']} (equal = within {TIE_RTOL:g} relative)",
        f"- median re-scored MSLE: prior art {fnum(s['prior_median_rescored'], '.4g')}, "
        f"ours {fnum(s['ours_median_rescored'], '.4g')}",
        f"- fit time: prior art median {fnum(s['prior_median_s'], '.3g')} s, total "
        f"{fnum(s['prior_total_s'], '.1f')} s (timeouts counted at their limit); ours median "
        f"{fnum(s['ours_median_s'], '.3g')} s, total {fnum(s['ours_total_s'], '.3g')} s",
        f"- fit speed-up: median {fnum(s['median_ratio'], ',.0f')}x, lowest {fnum(s['min_ratio'], ',.0f')}x",
        f"- loss evaluations per fit (median): prior art {fnum(s['prior_median_nfev'], '.0f')}, "
        f"ours {fnum(s['ours_median_nfev'], '.0f')}",
    ]


def tool_versions(binary: Path) -> dict:
    def cmd(args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    return {"rustc": cmd(["rustc", "--version"]), "seird_fit": cmd([str(binary), "--version"])}


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def run_prior(keys, regions, end, args, raw_out: Path) -> dict:
    """A fresh prior-art run on `keys`, by region key; raw results saved."""
    by_key = {}
    for i, key in enumerate(keys, 1):
        r = pa.run_with_timeout(regions[key], end, args.cases_only, args.eval_repeats, args.timeout)
        by_key[key] = r
        print(f"compare: prior art [{i}/{len(keys)}] {r['name']}: {r['status']} "
              f"{fnum(r.get('optimizer', {}).get('seconds'), '.2f')} s", file=sys.stderr, flush=True)
        meta = {"tool": "prior art (benches/prior_art.py)", "end": end.isoformat(),
                "timeout_seconds": args.timeout, "machine": pa.machine_info(),
                "complete": i == len(keys)}
        pa.write_json(raw_out, {"meta": meta, "results": list(by_key.values())})
    return by_key


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", type=Path, default=Path("target/release/seird-fit"))
    p.add_argument("--data", type=Path, default=Path("../shared/data/kaggle/train.csv"))
    p.add_argument("--population", type=Path)
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2020, 4, 30))
    p.add_argument("--regions", default=TWELVE, help="the headline regions")
    p.add_argument("--sample", type=int, default=40,
                   help="size of the fixed random sample of the batch (0: none)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=120.0, help="prior-art seconds per region")
    p.add_argument("--ours-timeout", type=float, default=120.0)
    p.add_argument("--batch-timeout", type=float, default=600.0)
    p.add_argument("--ours-repeats", type=int, default=3,
                   help="runs of each of our fits; the median fit time is reported")
    p.add_argument("--batch-out-root", type=Path, default=None,
                   help="where the batch runs write their temporary output directories "
                        "(default: the system's temp dir; e.g. /dev/shm to leave the disk out)")
    p.add_argument("--batch-repeats", type=int, default=5,
                   help="runs of the whole batch; the median wall time is reported")
    p.add_argument("--eval-repeats", type=int, default=50)
    p.add_argument("--jobs", type=int, default=2, help="--jobs of our batch runs")
    p.add_argument("--cases-only", action="store_true")
    p.add_argument("--reuse-prior-art", nargs="*", type=Path, default=None, metavar="JSON",
                   help="take prior-art results from these JSONs instead of running it "
                        "(regions they lack are still run)")
    p.add_argument("--reference", type=Path,
                   help="prior_art.py --objective tight results: scipy's L-BFGS-B on the tight loss, "
                        "shown as a reference column")
    p.add_argument("--criterion-dir", type=Path, default=Path("target/criterion"))
    p.add_argument("--criterion-loss", help="criterion benchmark id of one loss evaluation")
    p.add_argument("--out", type=Path, default=Path("reports/performance.md"))
    p.add_argument("--raw", type=Path, default=Path("reports/prior_art_compare.json"))
    args = p.parse_args(argv)

    started = dt.datetime.now(dt.timezone.utc)
    regions = pa.load_regions(args.data, args.population)
    keys12 = pa.resolve_names(args.regions, regions)
    sample = pa.sample_keys(regions, args.end, args.sample, args.seed, keys12) if args.sample else []
    n_eligible = len(pa.eligible(regions, args.end))

    # Prior art.
    reuse = {}
    for path in args.reuse_prior_art or []:
        for item in pa.result_items(json.loads(path.read_text())):
            reg = item.get("region") or {}
            reuse[(reg.get("country"), reg.get("province") or "")] = item
    prior = {k: v for k, v in reuse.items() if k in set(keys12) | set(sample)}
    todo = [k for k in keys12 + sample if k not in prior]
    if todo:
        fresh = run_prior(todo, regions, args.end, args, args.raw.with_name("prior_art_compare_fresh.json"))
        prior.update(fresh)

    # Ours.
    problem = binary_problem(args.bin)
    if problem:
        print(f"compare: our side not measured: {problem}", file=sys.stderr)
    ours = {}
    for i, key in enumerate(keys12 + sample, 1):
        if problem:
            ours[key] = {"name": regions[key].name, "status": "not run", "error": problem}
            continue
        r = run_ours(args.bin, regions[key], args.data, args.end, args.ours_timeout, args.cases_only,
                     args.ours_repeats)
        ours[key] = r
        if r["status"] != "ok":
            print(f"compare: seird-fit {regions[key].name}: {r['status']}: {r.get('error', '')}",
                  file=sys.stderr)
    batch_sample = batch_all = None
    if not problem:
        batch_sample = run_batch(args.bin, args.data, args.end,
                                 [regions[k].name for k in keys12 + sample], args.jobs, args.batch_timeout)
        batch_all = run_batch(args.bin, args.data, args.end, None, args.jobs, args.batch_timeout,
                              args.batch_repeats, args.batch_out_root)

    # One evaluator for both.
    for table in (prior, ours):
        for item in table.values():
            if item.get("status") == "ok":
                r = pa.rescore_item(item, regions, args.end, args.cases_only)
                if r is not None:
                    item["rescored"] = r

    reference = {}
    if args.reference and args.reference.exists():
        for item in pa.result_items(json.loads(args.reference.read_text())):
            reg = item.get("region") or {}
            reference[(reg.get("country"), reg.get("province") or "")] = item
    rows12 = rows_for(keys12, prior, ours, reference)
    rows_s = rows_for(sample, prior, ours, reference)
    s12, ss = summarize(rows12), summarize(rows_s)
    sall = summarize(rows12 + rows_s)

    # One loss evaluation.
    estimates = criterion_estimates(args.criterion_dir)
    loss_bench = pick_loss_bench(estimates, args.criterion_loss)
    ours_eval = estimates.get(loss_bench) if loss_bench else None
    italy = prior.get(("Italy", ""), {})
    prior_eval_italy = italy.get("eval_seconds_median")
    prior_eval_italy_min = italy.get("eval_seconds_min")
    prior_evals = [v.get("eval_seconds_median") for v in prior.values() if v.get("eval_seconds_median")]
    prior_eval_median = statistics.median(prior_evals) if prior_evals else None
    eval_ratio = ratio(prior_eval_italy or prior_eval_median, ours_eval)

    machine = pa.machine_info()
    versions = tool_versions(args.bin)
    try:
        load = os.getloadavg()
    except OSError:
        load = None

    # Whole batch: ours measured; the prior art's extrapolated from the sample.
    prior_sample_secs = [r["prior_seconds"] for r in rows12 + rows_s if r["prior_seconds"] is not None]
    prior_batch_estimate = (statistics.mean(prior_sample_secs) * n_eligible) if prior_sample_secs else None

    md = []
    md.append("# Performance: seird-fit against the Python prior art")
    md.append("")
    md.append(f"Generated by `benches/compare.sh` on {started.strftime('%Y-%m-%d %H:%M UTC')}; "
              f"data `{args.data}`, training windows from each region's first confirmed case to "
              f"{args.end.isoformat()}. Raw numbers: `{args.raw}`.")
    md.append("")
    md.append("Both tools fit the same SEIRD model to the same days from the same start point and box. "
              "Each reports a loss computed with its own ODE solver (the prior art: `solve_ivp` "
              "defaults, RK45 at rtol 1e-3); because an optimizer can exploit solver error, both "
              f"answers are also **re-scored by one evaluator** ({pa.TIGHT_METHOD}, rtol "
              f"{pa.TIGHT_RTOL:g}, atol {pa.TIGHT_ATOL:g} on fractions, accurate to ~1e-10), and "
              "the verdict uses the re-scored numbers.")
    md.append("")
    md.append(f"Timing on a shared machine moves by tens of percent from run to run, so each of our fits "
              f"is run {args.ours_repeats} times and the batch {args.batch_repeats} times, and the medians are "
              f"reported (the fits are deterministic: every run gives the same result). The prior art's "
              f"times are single runs of fits that take seconds.")
    md.append("")
    md.append("## Targets (issue 7)")
    md.append("")
    md.append("| target | wanted | reached |")
    md.append("|---|---|---|")
    md.append(f"| one loss evaluation | ≥ {TARGET_EVAL_RATIO}x faster | "
              + (f"{eval_ratio:,.0f}x (prior art {1e3 * (prior_eval_italy or prior_eval_median):.3f} ms, "
                 f"ours {1e6 * ours_eval:.2f} µs, criterion `{loss_bench}`)" if eval_ratio else
                 f"not measured: no criterion estimate of one loss evaluation under "
                 f"`{args.criterion_dir}` (run `cargo bench --bench loss`)") + " |")
    md.append(f"| one region's fit, median over the 12 | ≥ {TARGET_FIT_RATIO}x faster | "
              + (f"{s12['median_ratio']:,.0f}x" if s12["median_ratio"] else "not measured") + " |")
    md.append(f"| final loss equal or lower (re-scored) | ≥ {TARGET_WINS_12} of 12 | "
              + (f"{s12['better'] + s12['equal']} of {s12['regions']} "
                 f"({s12['better']} better, {s12['equal']} equal, {s12['worse']} worse)"
                 if s12["ours_ok"] else "not measured") + " |")
    md.append(f"| whole batch of eligible regions, 2 cores | < {TARGET_BATCH_SECONDS:g} s wall | "
              + (f"{batch_all['wall_seconds']:.2f} s (median of {len(batch_all.get('wall_seconds_all') or [1])} runs) "
                 f"for {batch_all.get('regions', '?')} regions "
                 f"in summary.csv ({n_eligible} eligible by the prior art's rule) "
                 f"(`{batch_all['command']}`)" if batch_all and batch_all.get("status") == "ok" else
                 "not measured" + (f": {batch_all.get('error') or batch_all.get('status')}" if batch_all else ""))
              + " |")
    md.append("")
    if problem:
        md.append(f"**Our side was not measured:** {problem}.")
        md.append("")
    ours_errors = [(r["name"], r["ours_error"]) for r in rows12 + rows_s if r["ours_status"] not in ("ok", "not run")]
    if ours_errors:
        md.append("**seird-fit failed on:** " + "; ".join(f"{n}: {e}" for n, e in ours_errors[:10])
                  + (" …" if len(ours_errors) > 10 else ""))
        md.append("")

    md.append("## The 12 regions of issue 4 («Exact gradients»)")
    md.append("")
    md.extend(summary_lines(s12))
    md.append("")
    md.extend(region_table(rows12))
    md.append("")
    if sample:
        md.append(f"## A fixed random sample of the batch ({len(sample)} of the {n_eligible} eligible "
                  f"regions, seed {args.seed}, the 12 above excluded)")
        md.append("")
        md.append("The whole batch takes the prior art too long to run on every change, so a fixed "
                  "sample stands in for it (`--sample`/`--seed` of compare.py).")
        md.append("")
        md.extend(summary_lines(ss))
        md.append("")
        md.extend(region_table(rows_s))
        md.append("")
        md.append("## All compared regions together")
        md.append("")
        md.extend(summary_lines(sall))
        md.append("")

    md.append("## One loss evaluation and batches")
    md.append("")
    md.append(f"- prior art, one loss evaluation (one `solve_ivp` + MSLE at the start point, median "
              f"of {args.eval_repeats} `timeit` repeats): Italy {fnum(prior_eval_italy and 1e3 * prior_eval_italy, '.3f')} ms "
              f"(fastest repeat {fnum(prior_eval_italy_min and 1e3 * prior_eval_italy_min, '.3f')} ms); "
              f"median over all compared regions {fnum(prior_eval_median and 1e3 * prior_eval_median, '.3f')} ms")
    in_fit = [v["optimizer"]["seconds"] / v["optimizer"]["loss_evals"] for v in prior.values()
              if v.get("status") == "ok" and v["optimizer"].get("loss_evals")]
    if in_fit:
        md.append(f"- prior art, fit time per loss evaluation during its fits (fit s / nfev), median over "
                  f"regions: {1e3 * statistics.median(in_fit):.3f} ms; RK45 takes more steps near the optima "
                  "(Italy: 68 right-hand-side calls at the start point, 110 at the prior art's optimum), "
                  "so the start-point figure above is the conservative one")
    if estimates:
        md.append("- ours, criterion medians (`target/criterion/*/new/estimates.json`):")
        for name, sec in estimates.items():
            md.append(f"  - `{name}`: {sec * 1e6:,.2f} µs")
    else:
        md.append(f"- ours: no criterion results under `{args.criterion_dir}`")
    for label, b in (("the 12 + sample", batch_sample), (f"every eligible region ({n_eligible})", batch_all)):
        if b is None:
            continue
        if b.get("status") == "ok":
            runs = b.get("wall_seconds_all") or [b["wall_seconds"]]
            spread = (f", median of {len(runs)} runs: " + ", ".join(f"{w:.2f}" for w in runs) + " s"
                      if len(runs) > 1 else "")
            md.append(f"- ours, batch of {label}: {b['wall_seconds']:.3f} s wall{spread}, "
                      f"output under {b.get('out_root', '?')} "
                      f"(`{b['command']}`; summary.csv rows: {b.get('regions', '?')}, ok: {b.get('ok', '?')})")
        else:
            md.append(f"- ours, batch of {label}: {b.get('status')}: {b.get('error', '')} (`{b['command']}`)")
    if prior_batch_estimate:
        md.append(f"- prior art, whole batch: not run; at its mean fit time over the compared regions it "
                  f"would take about {prior_batch_estimate / 60:,.0f} min sequentially for {n_eligible} regions "
                  f"(an extrapolation, timeouts counted at {args.timeout:g} s)")
    md.append("")
    md.append("## Machine")
    md.append("")
    md.append(f"- date: {machine['date']}")
    md.append(f"- CPU: {machine['cpu']}; `nproc`: {os.cpu_count()}; load average at the end: "
              f"{' '.join(f'{x:.2f}' for x in load) if load else 'n/a'} (the machine is shared, so "
              "absolute times are noisy; both tools ran in the same session)")
    md.append(f"- {machine['platform']}")
    md.append(f"- Python {machine['python']}, numpy {machine['numpy']}, scipy {machine['scipy']}, "
              f"pandas {machine['pandas']}, scikit-learn {machine['scikit_learn']}")
    md.append(f"- {versions['rustc'] or 'rustc: n/a'}; {versions['seird_fit'] or 'seird-fit: n/a'}")
    md.append("")
    md.append("## How to read and re-run")
    md.append("")
    md.append("- `benches/compare.sh` (from the repository root) rebuilds in release mode, runs both "
              "tools and rewrites this page. Prior-art per-region limit: "
              f"{args.timeout:g} s (at L=0 its right-hand side is NaN and RK45 can run without end).")
    md.append("- Fit time is the optimizer's own time (data loading excluded) on both sides; "
              "\"ours process s\" is the whole `seird-fit --json` process including reading the CSV.")
    md.append("- it / f / g: iterations, loss evaluations, gradient evaluations as each tool counts "
              "them (scipy's nfev includes the finite-difference evaluations).")
    if reference:
        md.append(f"- The reference column is scipy's L-BFGS-B from the same start on the tight loss "
                  f"(`{args.reference}`): what the prior art's optimizer reaches when RK45's error "
                  "cannot mislead it; it is not part of any ratio.")
    if args.reuse_prior_art:
        md.append(f"- Prior-art numbers were reused from {', '.join(f'`{p}`' for p in args.reuse_prior_art)} "
                  "(measured earlier on this machine), not re-run.")
    md.append("")

    pa.write_json(args.raw, {
        "meta": {"date": started.isoformat(timespec="seconds"), "end": args.end.isoformat(),
                 "data": str(args.data), "machine": machine, "versions": versions,
                 "regions12": [regions[k].name for k in keys12],
                 "sample": [regions[k].name for k in sample], "seed": args.seed,
                 "eligible": n_eligible},
        "prior_art": [prior.get(k) for k in keys12 + sample],
        "ours": [ours.get(k) for k in keys12 + sample],
        "batch": {"sample": batch_sample, "all": batch_all},
        "criterion": estimates,
        "summary": {"twelve": s12, "sample": ss, "all": sall, "eval_ratio": eval_ratio},
    })
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text("\n".join(md))
    os.replace(tmp, args.out)
    print(f"compare: wrote {args.out} and {args.raw}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
