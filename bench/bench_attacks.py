"""Benchmark the membership attacks at scale; prints figures, asserts nothing.

Data: UCI Adult (adult.data + adult.test = 48,842 real rows, conformed to the public
schema in bench/adult.schema.yaml; test labels lose their trailing period). The rows
are split by a seeded permutation into three disjoint pools (members, non-members,
reference) of ~16.3k rows, and each pool is resampled WITH REPLACEMENT to --rows rows
(50,000 by default), because Adult has fewer than 3 x 50k rows. "Synthetic" rows are a
perturbed resample of the member pool (numerics + Gaussian noise of 2 % of the public
range, rounded and clipped; each category redrawn uniformly from the public list with
probability 0.1), not the output of a generator.

Every measurement runs in its own child process. Wall time is measured around the
attack only (data preparation is reported separately), best of --repeat untraced calls,
with the 1-minute load average next to it (the machine is shared). Peak memory is
reported twice: the child's peak resident set size (``ru_maxrss`` from ``os.wait4``: the
whole process, interpreter, libraries and torch included) and, from one extra call under
tracemalloc, the peak of Python/NumPy allocations (skipped for DOMIAS and SDMetrics,
whose calls are long; torch's buffers are invisible to tracemalloc).

SDMetrics' DCROverfittingProtection (default num_rows_subsample=None: no subsampling)
takes hours at 50k rows, so it runs at --sdmetrics-rows and the 50k time is
extrapolated quadratically and labelled as such.

Usage: python bench/bench_attacks.py [--rows 50000] [--sdmetrics-rows 2000] [--repeat 3]
       [--only knn_k1,dcr,...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.paths import ADULT_DIR  # noqa: E402
from governance.attacks import nearest_distances, run_membership_audit  # noqa: E402
from governance.attacks.neighbors import encode_for_distance  # noqa: E402
from governance.datasets.encoding import PublicEncoder  # noqa: E402
from governance.datasets.schema import Schema, conform, load_schema  # noqa: E402

ADULT = ADULT_DIR
SCHEMA = Path(__file__).with_name("adult.schema.yaml")


def perturbed_resample(pool: pd.DataFrame, schema: Schema, n: int, seed: int) -> pd.DataFrame:
    """A stand-in for synthetic rows: resampled real rows with noise (see module doc)."""
    rng = np.random.default_rng(seed)
    out = pool.iloc[rng.integers(0, len(pool), n)].reset_index(drop=True)
    for name, spec in schema.columns.items():
        if spec.type == "categorical":
            cats = list(spec.categories or [])
            flip = rng.random(n) < 0.1
            values = out[name].astype(object).to_numpy()
            values[flip] = np.asarray(cats, dtype=object)[rng.integers(0, len(cats), flip.sum())]
            out[name] = pd.Categorical(values, categories=cats)
        else:
            lo, hi = float(spec.min), float(spec.max)  # type: ignore[arg-type]
            vals = out[name].to_numpy(np.float64) + rng.normal(0, 0.02 * (hi - lo), n)
            vals = np.clip(vals, lo, hi)
            out[name] = np.round(vals).astype("int64") if spec.type == "integer" else vals
    return out


def adult_frames(rows: int, seed: int = 0) -> tuple[dict[str, pd.DataFrame], Schema]:
    """Members, non-members, reference (resampled real pools) and synthetic rows."""
    schema = load_schema(SCHEMA)
    raw = pd.concat([pd.read_csv(ADULT / f, skipinitialspace=True)
                     for f in ("adult.data", "adult.test")], ignore_index=True)
    raw["Y"] = raw["Y"].str.rstrip(".")
    real = conform(raw, schema)
    rng = np.random.default_rng(seed)
    pools = np.array_split(rng.permutation(len(real)), 3)
    frames = {
        role: real.iloc[pool[rng.integers(0, len(pool), rows)]].reset_index(drop=True)
        for role, pool in zip(("members", "nonmembers", "reference"), pools, strict=True)
    }
    frames["synthetic"] = perturbed_resample(real.iloc[pools[0]], schema, rows, seed + 1)
    return frames, schema


def randhie_frames(seed: int = 0) -> tuple[dict[str, pd.DataFrame], Schema]:
    """randhie: 10k train rows as members, holdout+eval halves as non-members/reference."""
    from tests.utils.data import randhie, randhie_schema

    schema = randhie_schema()
    real = randhie(seed=seed).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    members, rest = real.iloc[:10_000], real.iloc[10_000:].reset_index(drop=True)
    half = len(rest) // 2
    return {
        "members": members.reset_index(drop=True), "nonmembers": rest.iloc[:half],
        "reference": rest.iloc[half:].reset_index(drop=True),
        "synthetic": perturbed_resample(members, schema, 10_000, seed + 1),
    }, schema


def measure(fn: Any, repeat: int = 1, *, trace: bool = True) -> dict[str, Any]:
    """Wall times of ``repeat`` untraced calls, then one tracemalloc-traced call if ``trace``.

    Timed calls run without tracemalloc, which slows allocation-heavy (pandas) code.
    """
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(round(time.perf_counter() - started, 2))
    peak = None
    if trace:
        tracemalloc.start()
        fn()
        peak = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    return {"seconds": min(times), "seconds_all": times, "load_avg_1min": os.getloadavg()[0],
            "tracemalloc_peak_mb": peak, "out": out}


def part(name: str, rows: int, sd_rows: int, repeat: int) -> dict[str, Any]:
    """Run one measurement in this (child) process."""
    t0 = time.perf_counter()
    if name == "randhie_audit":
        frames, schema = randhie_frames()
    else:
        frames, schema = adult_frames(sd_rows if name.startswith("sdmetrics") else rows)
    prep = round(time.perf_counter() - t0, 2)
    sizes = {k: len(v) for k, v in frames.items()}
    if name in ("knn_k1", "knn_k2"):
        enc = PublicEncoder(schema)
        q = encode_for_distance(frames["members"], enc)
        r = encode_for_distance(frames["synthetic"], enc)
        k = 1 if name == "knn_k1" else 2
        res = measure(lambda: nearest_distances(q, r, k).shape, repeat)
        res["what"] = f"nearest_distances({q.shape[0]} x {r.shape[0]}, d={q.shape[1]}, k={k})"
    elif name in ("dcr", "distance_attacks", "domias", "randhie_audit", "sdmetrics_ours"):
        attacks = {"dcr": ("dcr",), "distance_attacks": ("dcr", "nndr", "dcr_diff", "exact_match"),
                   "sdmetrics_ours": ("dcr",), "domias": ("domias",),
                   "randhie_audit": ("dcr", "dcr_diff", "nndr", "domias")}[name]

        def audit() -> dict[str, Any]:
            report = run_membership_audit(schema=schema, attacks=attacks, **frames)
            return {a: {"auc": round(r.auc, 4), "epsilon_estimate": round(r.epsilon_estimate, 3),
                        "tpr_at_1pct": r.tpr_at_1pct, "subsampled": r.subsampled}
                    for a, r in report.results.items()} | {
                        "duplicate_rate": round(report.duplicate_rate, 4)}
        res = measure(audit, repeat, trace=name != "domias")
        res["what"] = f"run_membership_audit(attacks={list(attacks)})"
    elif name == "sdmetrics":
        from sdmetrics.single_table import DCROverfittingProtection

        meta = {"columns": {c: {"sdtype": "categorical" if s.type == "categorical"
                                else "numerical"} for c, s in schema.columns.items()}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = measure(lambda: DCROverfittingProtection.compute_breakdown(
                frames["members"], frames["synthetic"], frames["nonmembers"], meta, None),
                repeat, trace=False)
        res["what"] = ("sdmetrics DCROverfittingProtection.compute_breakdown, defaults: "
                       "num_rows_subsample=None (no subsampling), num_iterations=1")
        res["out"] = json.loads(json.dumps(res["out"], default=float))
    else:
        raise SystemExit(f"unknown part {name}")
    return res | {"prep_seconds": prep, "sizes": sizes}


def run_child(name: str, rows: int, sd_rows: int, repeat: int) -> dict[str, Any]:
    """Run a part in a fresh process; add the child's peak RSS from ``os.wait4``."""
    cmd = [sys.executable, __file__, "--child", name, "--rows", str(rows),
           "--sdmetrics-rows", str(sd_rows), "--repeat", str(repeat)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return {"error": f"child exited with {proc.returncode}"}
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def main() -> None:
    """Run every part and print one line of figures per part."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--sdmetrics-rows", type=int, default=2_000)
    ap.add_argument("--only", default=None)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", default=None)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(part(args.child, args.rows, args.sdmetrics_rows, args.repeat),
                         default=str))
        return
    names = ["knn_k1", "knn_k2", "dcr", "distance_attacks", "domias", "randhie_audit",
             "sdmetrics", "sdmetrics_ours"]
    print(f"cores: {os.cpu_count()}, rows per role: {args.rows}, sdmetrics rows: "
          f"{args.sdmetrics_rows} (see module docstring for how the data are built)")
    for name in names if args.only is None else args.only.split(","):
        repeat = 1 if name in ("sdmetrics", "domias") else args.repeat
        res = run_child(name, args.rows, args.sdmetrics_rows, repeat)
        print(f"\n== {name}: {res.get('what', '')}")
        print(json.dumps({k: v for k, v in res.items() if k != "what"}, indent=None))
        if name == "sdmetrics" and "seconds" in res:
            scale = (args.rows / args.sdmetrics_rows) ** 2
            print(f"   sdmetrics extrapolated to {args.rows} rows (pairs grow quadratically; "
                  f"NOT run): ~{res['seconds'] * scale / 3600:.1f} h")


if __name__ == "__main__":
    main()
