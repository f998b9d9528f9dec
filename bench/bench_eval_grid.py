"""Evaluation cost against generation cost, per candidate of the default grid; prints figures.

The issue's goal: on Adult, evaluating one candidate (every lift scenario, metric and
interval, and the fidelity suite) takes at most 20 % of that candidate's generation time.
Scoring utility with a panel of three model families on two splits (issue 13) costs
more than that goal allowed for: dp_vae at epsilon 4 generated in 29.5 s and was
evaluated in 8.8 s (30 %), of which 7.7 s for utility, against about 1.6 s for one
model scored on eval before. This measures it with the run's own code, not a stand-in:

  * generation - ``governance.services.runs.executors.generate`` in a fresh spawned worker with one
                 thread, as ``govern run`` gives each of its two workers on two cores:
                 the generator's fit plus sampling ``len(train)`` rows;
  * evaluation - ``CandidateEvaluator.evaluate`` (the runner's evaluator, default policy)
                 on that output in this process, one thread; its ``utility`` (lift) and
                 ``fidelity`` parts are the evaluation. The membership attacks are
                 printed too but are issue 4's work, not counted here;
  * setup      - once per run: the evaluator's construction, which fits the real-only
                 controls and the scarce-subset models of the model panel (shared by
                 every candidate).

Under each candidate a line gives its utility above chance, (TSTR - chance) / (control -
chance), per model of the panel on eval (the reported figures), the panel's minimum on
validation (what the default policy gates on) and the raw TSTR / control ratio.

Default grid: ``govern run``'s defaults, gaussian_copula and dp_vae at epsilon 1, 4, inf
(gaussian_copula is non-private, so it runs once). Data: UCI Adult ``adult.data``
(32,561 rows) conformed to ``bench/adult.schema.yaml``, split train / holdout / validation
/ eval 0.5 / 0.2 / 0.15 / 0.15 by ``make_split(seed=0)``; target ``Y``.

The machine this runs on is shared, and one candidate's fit time moves by +-20 % between
runs; each candidate is therefore generated and evaluated ``--repeats`` times (the same
seed, so the same rows), and the table gives medians, with the range of the share.

Usage: python bench/bench_eval_grid.py [--generators gaussian_copula,dp_vae]
           [--epsilons 1,4,inf] [--seed 0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_generators import ADULT, ADULT_SCHEMA  # noqa: E402

from governance.cli.common import parse_epsilons  # noqa: E402
from governance.datasets.schema import conform, load_schema  # noqa: E402
from governance.datasets.splits import Splits, make_split  # noqa: E402
from governance.evaluation.lift.results import UtilityResult  # noqa: E402
from governance.evaluation.task import TaskSpec  # noqa: E402
from governance.generators import generator_class  # noqa: E402
from governance.policy.loader import load_policy  # noqa: E402
from governance.schemas.common import UtilityOutcome  # noqa: E402
from governance.services.runs.evaluate import CandidateEvaluator  # noqa: E402
from governance.services.runs.execute import ATTACK_CAP  # noqa: E402
from governance.services.runs.executors import GenerationTask, generate  # noqa: E402


def utility_line(utility: UtilityOutcome) -> str:
    """Utility above chance per panel model on eval, the validation panel min, raw ratios."""
    if not isinstance(utility, UtilityResult):
        return f"utility failed: {utility.error}"
    def num(x: float | None) -> str:
        return "undefined" if x is None else f"{x:.3f}"

    models = ", ".join(f"{m} {num(s.ratio_above_chance.value)}"
                       for m, s in utility.eval.models.items())
    raw = ", ".join(num(s.ratio_raw.value) for s in utility.eval.models.values())
    return (f"utility above chance on eval: {models}; validation panel min "
            f"{num(utility.selection.ratio_above_chance.value)}; raw TSTR/control {raw}")


def main() -> None:
    """Generate and evaluate every candidate of the grid; print one row per candidate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", default="gaussian_copula,dp_vae")
    parser.add_argument("--epsilons", default="1,4,inf")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    schema = load_schema(ADULT_SCHEMA)
    table = conform(pd.read_csv(ADULT, skipinitialspace=True), schema)
    split = make_split(len(table), seed=0)
    splits = Splits.of(table, split)
    loaded = load_policy(ROOT / "policies" / "default.yaml")
    t0 = time.perf_counter()
    with threadpool_limits(limits=1):
        evaluator = CandidateEvaluator(splits=splits, schema=schema,
                                       task=TaskSpec(target="Y").resolve(schema),
                                       policy=loaded, seed=args.seed, attack_cap=ATTACK_CAP)
    setup = time.perf_counter() - t0
    print(f"== adult: train {len(splits.train)}, holdout {len(splits.holdout)}, validation "
          f"{len(splits.validation)}, eval {len(splits.eval)} rows; candidates of "
          f"{len(splits.train)} rows; one thread each")
    print(f"setup once per run (real-only controls + scarce-subset models): {setup:.2f} s")
    head = (f"{'candidate':22} {'fit s':>6} {'sample s':>8} {'gen s':>6} | {'lift s':>6} "
            f"{'fidel. s':>8} {'eval s':>6} {'eval/gen':>8} {'range':>13} | {'attack s':>8}")
    print(f"medians of {args.repeats} repeats")
    print(head)
    print("-" * len(head))
    ctx = mp.get_context("spawn")
    worst = highest = 0.0
    for name in [g for g in args.generators.split(",") if g]:
        private = bool(getattr(generator_class(name), "differentially_private", False))
        for eps in (parse_epsilons(args.epsilons) if private else [math.inf]):
            task = GenerationTask(
                key=f"bench/{name}/{eps:g}/{args.seed}", generator=name, epsilon=eps,
                delta=loaded.policy.risk.max_delta, seed=args.seed,
                n_synthetic=len(splits.train), schema_yaml=schema.to_yaml(),
                train=splits.train, threads=1)
            rows = []
            for _ in range(args.repeats):
                with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                    out = pool.submit(generate, task).result()
                if out.error or out.synthetic is None or out.privacy is None:
                    break
                result = evaluator.evaluate(conform(out.synthetic, schema), privacy=out.privacy)
                sec = result.seconds
                rows.append((out.fit_seconds, out.sample_seconds, sec["utility"],
                             sec["fidelity"], sec["attack"]))
            if not rows:
                print(f"{name} eps={eps:g}: generation failed: {out.error}")
                continue
            shares = [(u + f) / (fit + smp) for fit, smp, u, f, _ in rows]
            fit, smp, util, fid, att = (statistics.median(col) for col in zip(*rows, strict=True))
            share = statistics.median(shares)
            worst, highest = max(worst, share), max(highest, *shares)
            label = f"{name} eps={eps:g}"
            print(f"{label:22} {fit:6.1f} {smp:8.2f} {fit + smp:6.1f} | {util:6.2f} {fid:8.2f} "
                  f"{util + fid:6.2f} {share:8.1%} {min(shares):6.1%}-{max(shares):6.1%} | "
                  f"{att:8.2f}")
            print(f"{'':22} {utility_line(result.utility)}")
    print(f"largest median evaluation / generation share: {worst:.1%}; largest single "
          f"repeat: {highest:.1%} (goal <= 20%)")


if __name__ == "__main__":
    main()
