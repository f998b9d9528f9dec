"""Run every benchmark in turn and print its figures (``make bench``).

Each benchmark is its own script with its own options; this runner calls them with
their defaults, one after another, in fresh processes so that peak-memory figures are
not polluted by earlier ones. Benchmarks print figures; none of them asserts a timing.
Adult lives outside the repository (``../shared/datasets/adult``); scripts that need it
say so and are skipped when it is missing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ["bench_generators.py", "--dataset", "randhie", "--epsilons", "0.5,1,2,4,8,inf"],
    ["bench_generators.py", "--dataset", "adult", "--epsilons", "0.5,1,2,4,8,inf"],
    ["bench_mst.py"],
    ["bench_attacks.py"],
    ["bench_utility.py"],
    ["bench_eval_grid.py"],
    ["bench_dp_overhead.py"],
    ["bench_ledger.py"],
    ["bench_shadow.py"],
]


def main() -> int:
    """Run the benchmarks that exist; return non-zero if any failed to run."""
    failed = 0
    for script, *args in SCRIPTS:
        path = HERE / script
        if not path.is_file():
            print(f"== {script}: not present, skipped", flush=True)
            continue
        print(f"== {script} {' '.join(args)}", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(path), *args])
        print(f"== {script}: exit {rc} after {time.perf_counter() - start:.1f} s", flush=True)
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
