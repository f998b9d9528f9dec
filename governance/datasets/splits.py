"""Seeded three-way splits of a source table.

``train`` is the only split generators see; ``holdout`` rows are the attack's
non-members; ``eval`` scores downstream models and nothing else ever reads it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from governance.core.errors import DatasetError

DEFAULT_FRACTIONS = (0.5, 0.25, 0.25)
MIN_ROWS_PER_SPLIT = 20


@dataclass(frozen=True)
class Split:
    """Row indices of the three disjoint splits."""

    seed: int
    train: np.ndarray
    holdout: np.ndarray
    eval: np.ndarray

    @property
    def sha256(self) -> str:
        """A hash of the exact index assignment, recorded in lineage."""
        h = hashlib.sha256(b"governance.split.v1\x00")
        for part in (self.train, self.holdout, self.eval):
            arr = np.ascontiguousarray(part, dtype=np.int64)
            h.update(len(arr).to_bytes(8, "little"))
            h.update(arr.tobytes())
        return h.hexdigest()


def make_split(
    n_rows: int, *, seed: int, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS
) -> Split:
    """Split ``n_rows`` row indices into train/holdout/eval with a seeded permutation.

    Raises:
        DatasetError: if the table is too small for every split to get
            ``MIN_ROWS_PER_SPLIT`` rows, or the fractions are invalid.
    """
    if len(fractions) != 3 or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise DatasetError("split fractions must be three positive numbers summing to 1")
    if int(n_rows * min(fractions)) < MIN_ROWS_PER_SPLIT:
        need = int(np.ceil(MIN_ROWS_PER_SPLIT / min(fractions)))
        raise DatasetError(
            f"the table has {n_rows} rows; at least {need} are needed so that train, holdout "
            f"and eval each get {MIN_ROWS_PER_SPLIT} rows"
        )
    perm = np.random.default_rng(seed).permutation(n_rows)
    n_train = int(round(fractions[0] * n_rows))
    n_hold = int(round(fractions[1] * n_rows))
    return Split(
        seed=seed,
        train=np.sort(perm[:n_train]),
        holdout=np.sort(perm[n_train : n_train + n_hold]),
        eval=np.sort(perm[n_train + n_hold :]),
    )


@dataclass(frozen=True)
class Splits:
    """The real splits of a dataset, as conformed frames."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    eval: pd.DataFrame
    split: Split
