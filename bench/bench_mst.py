"""Benchmark the DP marginal generators on Adult; prints figures, asserts nothing.

For each epsilon (default 0.5, 1, 2, 4, 8) and seed, fits the generator on the train
split of UCI Adult (``adult.data``, 32,561 rows, conformed to ``bench/adult.schema.yaml``,
split 50/25/25 by ``make_split(seed=0)`` as a frontier run does), samples as many rows as
train has, and prints:

  * fit     - wall-clock seconds of ``fit`` (discretise, measure, select, mirror descent),
              JAX compilation included (nothing is warmed up beforehand);
  * sample  - seconds of ``sample(len(train))``;
  * eps     - the epsilon the zCDP accountant reports as spent (target in the row);
  * AUC     - TSTR ROC AUC: HistGradientBoostingClassifier (native categoricals,
              random_state=0) trained on the synthetic rows, scored on the eval split;
  * control - the same model trained on the real train split (the real-only control).

Usage: python bench/bench_mst.py [--generators mst aim] [--epsilons 0.5 1 2 4 8]
       [--seeds 0] [--iters 1000] [--bins 32] [--rounds T] [--notes]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.paths import ADULT as ADULT_DATA  # noqa: E402
from governance.datasets.schema import Schema, conform, load_schema  # noqa: E402
from governance.datasets.splits import make_split  # noqa: E402

ADULT = ADULT_DATA
ADULT_SCHEMA = Path(__file__).with_name("adult.schema.yaml")
TARGET, POSITIVE = "Y", ">50K"


def tstr_auc(train: pd.DataFrame, test: pd.DataFrame) -> float:
    """ROC AUC on ``test`` of a HistGradientBoostingClassifier fitted on ``train``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    y = (train[TARGET].astype(object) == POSITIVE).to_numpy()
    if y.all() or not y.any():
        return float("nan")  # a synthetic table with one class cannot train a classifier
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    model.fit(train.drop(columns=TARGET), y)
    truth = (test[TARGET].astype(object) == POSITIVE).to_numpy()
    return float(roc_auc_score(truth, model.predict_proba(test.drop(columns=TARGET))[:, 1]))


def load() -> tuple[pd.DataFrame, pd.DataFrame, Schema]:
    """Adult's train and eval splits, conformed to the public schema."""
    schema = load_schema(ADULT_SCHEMA)
    table = conform(pd.read_csv(ADULT, skipinitialspace=True), schema)
    split = make_split(len(table), seed=0)
    train = table.iloc[split.train].reset_index(drop=True)
    return train, table.iloc[split.eval].reset_index(drop=True), schema


def main() -> None:
    """Parse the options, run the grid and print one row per (generator, epsilon, seed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", nargs="+", default=["mst"])
    parser.add_argument("--epsilons", nargs="+", type=float, default=[0.5, 1, 2, 4, 8])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--iters", type=int, default=None, help="mirror-descent iterations")
    parser.add_argument("--bins", type=int, default=None, help="bins per numeric column")
    parser.add_argument("--rounds", type=int, default=None, help="AIM's nominal rounds T")
    parser.add_argument("--notes", action="store_true", help="print the privacy notes")
    args = parser.parse_args()

    classes = {"mst": ("governance.generators.marginal.mst", "MSTGenerator"),
               "aim": ("governance.generators.marginal.aim", "AIMGenerator")}
    train, test, schema = load()
    control = tstr_auc(train, test)
    print(f"Adult: train {len(train)} rows, eval {len(test)} rows; "
          f"real-only control ROC AUC {control:.4f}")
    print(f"{'generator':9} {'eps':>5} {'seed':>4} {'fit s':>7} {'sample s':>8} "
          f"{'eps spent':>10} {'AUC':>7} {'AUC/control':>11}")
    for name in args.generators:
        for eps in args.epsilons:
            aucs = []
            for seed in args.seeds:
                options = {"epsilon": eps, "seed": seed}
                for key in ("iters", "bins", "rounds"):
                    if getattr(args, key) is not None:
                        options[key] = getattr(args, key)
                module, cls = classes[name]
                gen = getattr(importlib.import_module(module), cls)(**options)
                start = time.perf_counter()
                gen.fit(train, schema)
                fit_s = time.perf_counter() - start
                start = time.perf_counter()
                synthetic = gen.sample(len(train))
                sample_s = time.perf_counter() - start
                auc = tstr_auc(synthetic, test)
                aucs.append(auc)
                print(f"{name:9} {eps:5g} {seed:4d} {fit_s:7.1f} {sample_s:8.1f} "
                      f"{gen.privacy().epsilon_spent:10.6f} {auc:7.4f} {auc / control:11.3f}",
                      flush=True)
                if args.notes:
                    print("    " + "\n    ".join(gen.privacy().notes[3:-2]), flush=True)
            if len(aucs) > 1:
                print(f"{name:9} {eps:5g} mean AUC {statistics.mean(aucs):.4f} "
                      f"(min {min(aucs):.4f}, max {max(aucs):.4f})", flush=True)


if __name__ == "__main__":
    main()
