"""Start several calls at the same instant, for race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_together(n: int, work: Callable[[int], Any], *, timeout: float = 120) -> list[Any]:
    """Run ``work(i)`` for i < n in n threads released by one barrier.

    Returns each call's result, or the exception it raised (the outcome under test).
    """
    start, results = threading.Barrier(n), [None] * n

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results
