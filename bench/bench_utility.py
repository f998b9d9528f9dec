"""Benchmark the evaluation of one synthetic candidate; prints figures, asserts nothing.

What is timed, per dataset:
  * setup   - once per run: ``LiftEvaluator`` construction plus the real-only controls and
              the scarce-subset models of the whole panel (all cached and reused for every
              candidate);
  * lift    - ``LiftEvaluator.evaluate(candidate)``: for each panel model the TSTR,
              augmented and scarce+synthetic fits, scored on validation (primary metric)
              and eval (every metric), with all paired bootstrap intervals;
  * per family - the same two figures for an evaluator holding one model family, which
              is what each family of the panel costs;
  * fidelity - ``evaluate_fidelity(real=eval, synthetic=candidate)``: SDMetrics quality
              report, detection AUC (2-fold HGB), manifold precision/recall, tails and
              domain checks, on the subsample sizes printed below;
  * per candidate = lift + fidelity, the figure to hold against a generator's fit time.
One-time import costs (sdmetrics, sklearn) are paid in a warm-up and printed apart.

On Adult with one thread (a shared 2-core machine, load about 2) the panel's lift took
7.2 s per candidate (linear 1.9 s, random forest 3.9 s, gradient boosting 1.7 s when run
alone) and its setup 3.1 s, against 1.6 s and 1.1 s for gradient boosting scored on eval
only before the panel.

Data: UCI Adult ``adult.data`` (32,561 rows) conformed to the public schema
``bench/adult.schema.yaml``, target ``Y`` (>50K); and the bundled RAND HIE table
(20,190 rows), target ``mdvis`` (regression). Each is split train / holdout / validation /
eval 0.5 / 0.2 / 0.15 / 0.15 by ``make_split(seed=0)``. The candidate is a stand-in,
not a generator's output: a resample of the train split, numerics jittered by 2 % of
the public range and 10 % of categories redrawn uniformly from the public list (the
evaluation cost does not depend on how the rows were made, only on their number).

Usage: python bench/bench_utility.py [--repeats 3] [--n-boot 200] [--threads 1]
           [--datasets adult,randhie]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.paths import ADULT as ADULT_DATA  # noqa: E402
from governance.datasets.bundled import SCHEMA_PATH, randhie_path  # noqa: E402
from governance.datasets.schema import Schema, conform, load_schema  # noqa: E402
from governance.datasets.splits import Splits, make_split  # noqa: E402
from governance.evaluation import (  # noqa: E402
    PANEL,
    LiftEvaluator,
    TaskSpec,
    UtilityResult,
    evaluate_fidelity,
)

ADULT = ADULT_DATA
ADULT_SCHEMA = Path(__file__).with_name("adult.schema.yaml")
FIDELITY_ROWS, MANIFOLD_ROWS = 5000, 2000


def jittered(pool: pd.DataFrame, schema: Schema, seed: int) -> pd.DataFrame:
    """The stand-in candidate described in the module docstring."""
    rng = np.random.default_rng(seed)
    n = len(pool)
    out = pool.iloc[rng.integers(0, n, n)].reset_index(drop=True)
    for name, spec in schema.columns.items():
        if spec.type == "categorical":
            cats = np.asarray(spec.categories, dtype=object)
            values = out[name].astype(object).to_numpy()
            flip = rng.random(n) < 0.1
            values[flip] = cats[rng.integers(0, len(cats), flip.sum())]
            out[name] = pd.Categorical(values, categories=list(cats))
        else:
            lo, hi = float(spec.min), float(spec.max)  # type: ignore[arg-type]
            vals = np.clip(out[name].to_numpy(float) + rng.normal(0, 0.02 * (hi - lo), n), lo, hi)
            out[name] = np.round(vals).astype("int64") if spec.type == "integer" else vals
    return out


def datasets() -> dict[str, tuple[pd.DataFrame, Schema, str]]:
    """Adult and randhie, conformed to their public schemas, with their targets."""
    adult_schema = load_schema(ADULT_SCHEMA)
    adult = conform(pd.read_csv(ADULT, skipinitialspace=True), adult_schema)
    hie_schema = load_schema(SCHEMA_PATH)
    hie = conform(pd.read_csv(randhie_path()), hie_schema)
    return {"adult": (adult, adult_schema, "Y"), "randhie": (hie, hie_schema, "mdvis")}


def _timed(splits: Splits, schema: Schema, target: str, candidates: list[pd.DataFrame], *,
           models: tuple[str, ...], n_boot: int, threads: int
           ) -> tuple[float, list[float], UtilityResult]:
    """Setup seconds, lift seconds per candidate and the last result, for one panel."""
    t0 = time.perf_counter()
    evaluator = LiftEvaluator(train=splits.train, validation=splits.validation,
                              eval=splits.eval, schema=schema, task=TaskSpec(target=target),
                              n_boot=n_boot, n_threads=threads, models=models)
    evaluator.prepare()  # the controls and the scarce-subset models, fitted once per run
    setup = time.perf_counter() - t0
    lift_t, results = [], []
    for candidate in candidates:
        t0 = time.perf_counter()
        results.append(evaluator.evaluate(candidate))
        lift_t.append(time.perf_counter() - t0)
    return setup, lift_t, results[-1]


def bench(name: str, table: pd.DataFrame, schema: Schema, target: str, *, repeats: int,
          n_boot: int, threads: int) -> None:
    """Time one dataset and print the figures."""
    splits = Splits.of(table, make_split(len(table), seed=0))
    candidates = [jittered(splits.train, schema, seed=100 + rep) for rep in range(repeats)]
    setup, lift_t, result = _timed(splits, schema, target, candidates, models=PANEL,
                                   n_boot=n_boot, threads=threads)
    fid_t = []
    for candidate in candidates:
        t0 = time.perf_counter()
        fid = evaluate_fidelity(real=splits.eval, synthetic=candidate, schema=schema,
                                max_rows=FIDELITY_ROWS, max_rows_manifold=MANIFOLD_ROWS,
                                n_threads=threads)
        fid_t.append(time.perf_counter() - t0)
    task = result.task
    hgb = result.eval.models["hgb"]
    print(f"\n== {name}: {len(table)} rows, {len(schema.names)} columns; target {target!r} "
          f"({task.kind}, primary {task.metric}); panel {', '.join(PANEL)}; threads={threads}")
    print(f"   rows: train {len(splits.train)}, validation {len(splits.validation)}, eval "
          f"{len(splits.eval)}, candidate {len(candidates[0])}, scarce "
          f"{hgb.scenarios['scarce'].n_train}, augmented {hgb.scenarios['augmented'].n_train}; "
          f"bootstrap {n_boot} paired replicates over every scored row")
    rows = {k: e.rows_used for k, e in fid.entries.items()}
    print(f"   fidelity subsamples: quality/detection/tails {rows['quality']}, manifold "
          f"{rows['manifold']}, constraints on all {rows['constraints']['synthetic']} "
          f"candidate rows; errors: {fid.errors or 'none'}")
    med_l, med_f = statistics.median(lift_t), statistics.median(fid_t)
    print(f"   setup once per run (controls + scarce models, whole panel): {setup:6.2f} s")
    print(f"   lift per candidate, whole panel (median of {repeats}): {med_l:6.2f} s  "
          f"[{', '.join(f'{t:.2f}' for t in lift_t)}]")
    for family in PANEL:
        f_setup, f_lift, _ = _timed(splits, schema, target, candidates, models=(family,),
                                    n_boot=n_boot, threads=threads)
        print(f"     of which {family:14} setup {f_setup:6.2f} s, lift "
              f"{statistics.median(f_lift):6.2f} s")
    print(f"   fidelity per candidate (median of {repeats}): {med_f:6.2f} s  "
          f"[{', '.join(f'{t:.2f}' for t in fid_t)}]")
    print(f"   => one candidate: {med_l + med_f:6.2f} s; first candidate incl. setup: "
          f"{setup + med_l + med_f:6.2f} s")
    chance = result.eval.chance
    print(f"   chance level of {task.metric} on eval {chance:.3f}; per model on eval:")
    for family, scores in result.eval.models.items():
        print(f"     {family:14} control {scores.control.primary:.3f}, TSTR "
              f"{scores.scenarios['tstr'].primary:.3f}, utility above chance "
              f"{scores.ratio_above_chance.value:.3f}, raw ratio {scores.ratio_raw.value:.3f}")
    selection = result.selection.ratio_above_chance.value
    print(f"   panel min on validation {selection:.3f}; detection AUC "
          f"{fid.value('detection', 'roc_auc'):.3f}; quality {fid.value('quality', 'score'):.3f}")


def main() -> None:
    """Parse arguments, warm up imports, run both datasets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--datasets", default="adult,randhie")
    args = parser.parse_args()
    t0 = time.perf_counter()
    import sdmetrics.reports  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    print(f"one-time imports (sdmetrics, sklearn): {time.perf_counter() - t0:.2f} s")
    wanted = set(args.datasets.split(","))
    for name, (table, schema, target) in datasets().items():
        if name not in wanted:
            continue
        bench(name, table, schema, target, repeats=args.repeats, n_boot=args.n_boot,
              threads=args.threads)


if __name__ == "__main__":
    main()
