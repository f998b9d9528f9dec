"""DP-SGD's cost over non-private training for dp_vae, measured interleaved; prints figures.

Issue 3's goal: a DP epoch of dp_vae costs at most 1.5x its own non-private epoch (the
same model, data, Poisson batches and optimizer, without clipping or noise). The figure
from ``bench_generators.py`` compares two runs made minutes apart, and on a shared
machine the speed drifts by more than the effect measured. Here the three variants
(non-private, DP with one-pass book-keeping clipping, DP with Opacus's ghost clipping)
train in turn, ``--rounds`` times, in one process, so drift hits all three alike. Each
round fits ``--epochs`` epochs; the first epoch of every fit is dropped, and the figure
is the median of the remaining epoch times over all rounds.

Data: UCI Adult ``adult.data`` conformed to ``bench/adult.schema.yaml`` (or the bundled
randhie table), train split of ``make_split(seed=0)`` capped at ``--rows``; dp_vae's
defaults (batch 256, hidden 128, latent 16) at epsilon 1.

Usage: python bench/bench_dp_overhead.py [--dataset adult|randhie] [--rounds 5]
           [--epochs 4] [--rows 10000] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_generators import load  # noqa: E402

from governance.generators.vae.dp_vae import DPVAEGenerator  # noqa: E402

VARIANTS = {
    "non-private": {"epsilon": math.inf},
    "DP, book-keeping": {"epsilon": 1.0, "clipping": "book_keeping"},
    "DP, ghost (Opacus)": {"epsilon": 1.0, "clipping": "ghost"},
}


def main() -> None:
    """Interleave the variants, print median epoch times and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["adult", "randhie"], default="adult")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (a run gives each of its workers one on 2 cores)")
    args = parser.parse_args()
    if args.epochs < 2 or args.rounds * (args.epochs - 1) < 2:
        parser.error("need at least two timed epochs per variant (the first epoch of each "
                     "fit is dropped): raise --epochs or --rounds")
    torch.set_num_threads(args.threads)
    train, _, schema = load(args.dataset, args.rows, 0)
    epochs: dict[str, list[float]] = {name: [] for name in VARIANTS}
    warnings.filterwarnings("ignore")
    for r in range(args.rounds):
        for name, options in VARIANTS.items():
            gen = DPVAEGenerator(epochs=args.epochs, delta=1e-5, seed=r, **options)
            gen.fit(train, schema)
            epochs[name].extend(gen.epoch_seconds[1:])
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    base = statistics.median(epochs["non-private"])
    print(f"== {args.dataset}, {len(train)} train rows, {args.rounds} rounds x "
          f"{args.epochs - 1} timed epochs per variant, {args.threads} torch thread(s)")
    for name, times in epochs.items():
        q = statistics.quantiles(times, n=4)
        print(f"{name:20} median epoch {statistics.median(times):.3f} s "
              f"(quartiles {q[0]:.3f}-{q[2]:.3f})  ratio to non-private "
              f"{statistics.median(times) / base:.2f}x")
    print("goal: DP epoch <= 1.5x the non-private epoch")


if __name__ == "__main__":
    main()
