r"""Benchmark the generators; prints figures, asserts nothing.

For each generator x epsilon, in a fresh (spawned) process so memory figures are its own:
  * fit      - wall-clock seconds of ``fit`` on the train split (``--rows`` rows at most);
  * peak RSS - ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after fit+sample, and its
               growth over the value measured just before ``fit`` (after imports and data
               loading). RSS, not tracemalloc: torch allocates outside Python's allocator;
  * epsilon  - the spent epsilon the generator reports (its accountant's figure);
  * TSTR AUC - ROC AUC on the real ``eval`` split of a HistGradientBoostingClassifier
               trained on ``len(train)`` synthetic rows, next to the real-only control
               (the same model trained on real ``train``);
  * for dp_vae: median epoch seconds (first epoch excluded), and the ratio of the DP
               epoch to the non-private epoch when both epsilon and inf are run
               (``--clipping ghost`` measures Opacus's two-pass ghost clipping instead
               of the default one-pass book-keeping clipping).

Data: UCI Adult ``adult.data`` (32,561 rows; public schema ``bench/adult.schema.yaml``;
target ``Y`` > 50K) or the bundled RAND HIE table (20,190 rows; target "any outpatient MD
visit in the year", ``mdvis > 0``, predicted from the other nine columns). Why not a
binary column of randhie itself: ``idp`` is given away by the plan variables (``fmde`` is 0
exactly when ``idp`` is 1), and ``hlthg`` carries almost no signal beyond the mutually
exclusive ``hlthf``/``hlthp`` dummies (its real-only AUC of 0.80 comes from the same people
appearing in train and eval across study years, which no generator can reproduce). Any
visit is the experiment's primary outcome and depends on coinsurance and health status.
Each table is split 50/25/25 by ``make_split(seed)``; the train split is capped at ``--rows``.

Usage: python bench/bench_generators.py --dataset randhie --epsilons 1,inf \
           --generators dp_vae,gaussian_copula [--rows 10000] [--seed 0] \
           [--clipping book_keeping|ghost]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.paths import ADULT as ADULT_DATA  # noqa: E402
from governance.datasets.schema import Schema, conform, load_schema  # noqa: E402
from governance.datasets.splits import make_split  # noqa: E402

ADULT = ADULT_DATA
ADULT_SCHEMA = Path(__file__).with_name("adult.schema.yaml")
TARGETS = {"adult": ("Y", "Y > 50K"), "randhie": ("mdvis", "mdvis > 0")}


def label(frame: pd.DataFrame, dataset: str) -> np.ndarray:
    """The binary target: income above 50K (adult), any MD visit (randhie)."""
    if dataset == "adult":
        return (frame["Y"].astype(object) == ">50K").to_numpy()
    return (frame["mdvis"] > 0).to_numpy()


def load(dataset: str, rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, Schema]:
    """Train (capped at ``rows``) and eval splits, conformed to the public schema."""
    if dataset == "adult":
        schema = load_schema(ADULT_SCHEMA)
        table = conform(pd.read_csv(ADULT, skipinitialspace=True), schema)
    else:
        from tests.utils.data import randhie, randhie_schema

        table, schema = randhie(), randhie_schema()
    split = make_split(len(table), seed=seed)
    train = table.iloc[split.train[:rows]].reset_index(drop=True)
    return train, table.iloc[split.eval].reset_index(drop=True), schema


def tstr_auc(train: pd.DataFrame, ev: pd.DataFrame, dataset: str, seed: int) -> float:
    """ROC AUC on real eval of a gradient-boosted model trained on ``train``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    column = TARGETS[dataset][0]
    y_train = label(train, dataset)
    if y_train.all() or not y_train.any():
        return math.nan  # one class only: no classifier to score
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    model.fit(train.drop(columns=[column]), y_train)
    proba = model.predict_proba(ev.drop(columns=[column]))[:, 1]
    return float(roc_auc_score(label(ev, dataset), proba))


def run_one(dataset: str, name: str, epsilon: float, rows: int, seed: int,
            clipping: str = "book_keeping") -> dict[str, Any]:
    """Fit, sample and score one candidate (runs in its own process)."""
    from governance.generators import create_generator

    train, ev, schema = load(dataset, rows, seed)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kwargs: dict[str, Any] = {"seed": seed}
    if math.isfinite(epsilon) or name == "dp_vae":
        kwargs.update(epsilon=epsilon, delta=min(1e-5, 1 / (10 * len(train))))
    if name == "dp_vae":
        kwargs["clipping"] = clipping
    gen = create_generator(name, **kwargs)
    start = time.perf_counter()
    gen.fit(train, schema)
    fit_s = time.perf_counter() - start
    synthetic = gen.sample(len(train))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    spend = gen.privacy()
    epochs = getattr(gen, "epoch_seconds", [])
    return {
        "generator": name, "epsilon": epsilon, "fit_s": fit_s,
        "peak_mb": rss_after / 1024, "grow_mb": (rss_after - rss_before) / 1024,
        "spent": spend.epsilon_spent, "accountant": spend.accountant or "-",
        "sigma": spend.noise_multiplier, "steps": spend.steps,
        "epoch_s": statistics.median(epochs[1:] or epochs) if epochs else None,
        "auc": tstr_auc(synthetic, ev, dataset, seed),
        "note": spend.accountant_fallback_reason or "",
    }


def main() -> None:
    """Parse arguments, run the grid, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(TARGETS), default="randhie")
    parser.add_argument("--epsilons", default="1,inf")
    parser.add_argument("--generators", default="dp_vae,gaussian_copula")
    parser.add_argument("--rows", type=int, default=10_000, help="cap on train rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clipping", choices=["book_keeping", "ghost"], default="book_keeping",
                        help="dp_vae's per-sample clipping (ghost: Opacus's two-pass version)")
    args = parser.parse_args()
    epsilons = [float(e) for e in args.epsilons.split(",")]
    names = [g for g in args.generators.split(",") if g]

    train, ev, _ = load(args.dataset, args.rows, args.seed)
    control = tstr_auc(train, ev, args.dataset, args.seed)
    print(f"== {args.dataset}: train {len(train)} rows, eval {len(ev)} rows, "
          f"target {TARGETS[args.dataset][1]}; real-only control ROC AUC {control:.4f}")
    print("memory: ru_maxrss of a fresh process per run (peak) and its growth during fit+sample")
    results = []
    ctx = mp.get_context("spawn")
    for name in names:
        from governance.generators import generator_class

        private = bool(getattr(generator_class(name), "differentially_private", False))
        for eps in (epsilons if private else [math.inf]):
            with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                results.append(pool.submit(run_one, args.dataset, name, eps, args.rows,
                                           args.seed, args.clipping).result())
    head = (f"{'generator':16} {'eps':>5} {'fit s':>7} {'peak MB':>8} {'+MB':>6} "
            f"{'spent eps':>10} {'acct':>4} {'sigma':>7} {'steps':>6} {'epoch s':>8} "
            f"{'TSTR AUC':>9} {'vs ctrl':>8}")
    print(head)
    print("-" * len(head))
    for r in results:
        sigma = f"{r['sigma']:.3f}" if r["sigma"] else "-"
        epoch = f"{r['epoch_s']:.3f}" if r["epoch_s"] else "-"
        steps = str(r["steps"]) if r["steps"] else "-"
        print(f"{r['generator']:16} {r['epsilon']:>5g} {r['fit_s']:7.1f} {r['peak_mb']:8.0f} "
              f"{r['grow_mb']:6.0f} {r['spent']:10.4f} {r['accountant']:>4} {sigma:>7} "
              f"{steps:>6} {epoch:>8} {r['auc']:9.4f} {r['auc'] - control:+8.4f} {r['note']}")
    vae = {r["epsilon"]: r["epoch_s"] for r in results if r["generator"] == "dp_vae"}
    if math.inf in vae:
        for eps, sec in sorted(vae.items()):
            if math.isfinite(eps):
                print(f"dp_vae DP epoch / non-private epoch at eps={eps:g} ({args.clipping} "
                      f"clipping): {sec / vae[math.inf]:.2f}x (goal <= 1.5x)")
    else:
        print("dp_vae DP/non-private epoch ratio: add inf to --epsilons to measure it")


if __name__ == "__main__":
    main()
