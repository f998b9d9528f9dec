"""The seeded, stratified scarce subset of the real train split."""

from __future__ import annotations

import math

import numpy as np

N_REGRESSION_STRATA = 5


def scarce_indices(
    y: np.ndarray, *, fraction: float, min_rows: int, seed: int, regression: bool
) -> np.ndarray:
    """Pick a stratified subset of ``max(ceil(fraction * n), min_rows)`` training rows.

    Classification strata are the target classes (rows with an unknown class form their
    own stratum); regression strata are the quintiles of the target by rank. Each stratum
    gets its proportional share by largest remainder and at least one row, so a rare
    class is never lost. The subset depends only on ``y`` and ``seed``, so every
    candidate of a run sees the same one.

    Returns:
        Sorted row positions (all rows when the requested size reaches ``len(y)``).
    """
    n = len(y)
    size = min(n, max(math.ceil(fraction * n), min_rows))
    if size >= n:
        return np.arange(n)
    if regression:
        strata = np.empty(n, dtype=np.int64)
        strata[np.argsort(y, kind="stable")] = np.arange(n) * N_REGRESSION_STRATA // n
    else:
        strata = np.asarray(y, dtype=np.int64)
    labels, counts = np.unique(strata, return_counts=True)
    share = size * counts / n
    alloc = np.minimum(np.maximum(np.floor(share).astype(int), 1), counts)
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    i = 0
    while alloc.sum() < size:
        j = order[i % len(order)]
        if alloc[j] < counts[j]:
            alloc[j] += 1
        i += 1
    while alloc.sum() > size:
        j = int(np.argmax(alloc))
        alloc[j] -= 1
    rng = np.random.default_rng([seed, 0x5CA])
    picks = [rng.choice(np.flatnonzero(strata == lab), size=k, replace=False)
             for lab, k in zip(labels, alloc, strict=True)]
    return np.sort(np.concatenate(picks))
