"""Benchmark the shadow-model attack; prints figures, asserts nothing.

Data: the seeded mixed-type table of ``tests/utils/data.py`` (unique rows), split into
members (the candidate's training rows), non-members and a reference pool the shadow
runs train on. Each generator configuration is fitted once on the members (the
candidate), then attacked with ``ShadowAttack``; wall time covers the whole attack
(all shadow trainings included), with the 1-minute load average next to it because the
machine is shared.

Usage: python bench/bench_shadow.py [--rows 1000] [--targets 5] [--shadows 16]
       [--only fake_copy,gaussian_copula,dp_vae_eps1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from governance.attacks import ShadowAttack  # noqa: E402
from governance.generators import create_generator  # noqa: E402
from governance.generators.fake import FakeGenerator  # noqa: E402
from tests.utils.data import MIXED_SCHEMA, mixed_table  # noqa: E402

CONFIGS: dict[str, Any] = {
    "fake_copy": lambda s: FakeGenerator(seed=s),
    "gaussian_copula": lambda s: create_generator("gaussian_copula", seed=s),
    "dp_vae_eps1": lambda s: create_generator("dp_vae", epsilon=1.0, delta=1e-5, epochs=3,
                                              seed=s),
}


def run(name: str, rows: int, targets: int, shadows: int) -> dict[str, Any]:
    """Fit the candidate, attack it, and return the headline figures."""
    table = mixed_table(4 * rows, seed=7)
    ori, control = table[:rows], table[rows : 2 * rows]
    reference = table[2 * rows :]
    factory = CONFIGS[name]
    started = time.perf_counter()
    gen = factory(12345).fit(ori, MIXED_SCHEMA)
    syn = gen.sample(rows)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    res = ShadowAttack(ori, syn, control, MIXED_SCHEMA, generator_factory=factory,
                       reference=reference, n_targets=targets, n_shadows=shadows,
                       shadow_rows=rows - targets, seed=1).evaluate().results()
    return {
        "config": name, "rows": rows, "targets_per_group": targets, "shadows": shadows,
        "candidate_fit_s": round(fit_s, 2), "attack_s": round(time.perf_counter() - started, 1),
        "load1": round(os.getloadavg()[0], 2),
        "claimed_epsilon": gen.privacy().as_dict()["epsilon_spent"],
        "candidate_auc": round(res.candidate.auc, 3),
        "candidate_epsilon_estimate": round(res.candidate.epsilon_estimate, 3),
        "candidate_max_resolvable_eps": round(res.max_resolvable_epsilon["candidate"], 3),
        "shadow_runs_auc": round(res.shadow_runs.auc, 3),
        "shadow_runs_tpr_at_1pct": res.shadow_runs.tpr_at_1pct,
        "shadow_runs_epsilon_estimate": round(res.shadow_runs.epsilon_estimate, 3),
        "shadow_runs_max_resolvable_eps": round(res.max_resolvable_epsilon["shadow_runs"], 3),
        "per_target": [(t.role, round(t.score, 2), round(t.validation_auc, 2))
                       for t in res.targets],
    }


def main() -> None:
    """Run the requested configurations and print one JSON line each."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--targets", type=int, default=5)
    ap.add_argument("--shadows", type=int, default=16)
    ap.add_argument("--only", default=",".join(CONFIGS))
    args = ap.parse_args()
    for name in args.only.split(","):
        print(json.dumps(run(name, args.rows, args.targets, args.shadows)), flush=True)


if __name__ == "__main__":
    main()
