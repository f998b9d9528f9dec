"""Seeded four-way splits of a source table.

``train`` is the only split generators see; ``holdout`` rows are the attack's
non-members; ``validation`` scores downstream models for selection and the policy's
utility gates; ``eval`` scores them once more for the figures a report states, and
nothing else ever reads it. Choosing a candidate on the same rows that report its
figure would carry a winner's curse (the best of several noisy scores is biased up),
so the rows that choose and the rows that report are kept apart.

The fractions of holdout, validation and eval come from the schema's ``splits:``
section (``SplitFractions``); train gets the rest. The defaults keep train at half the
table: 0.5 / 0.2 / 0.15 / 0.15.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from governance.core.errors import DatasetError

#: Every split must hold rows; fewer than this many cannot score or attack anything. Under
#: the default fractions a table therefore needs at least 67 rows.
MIN_ROWS_PER_SPLIT = 10
SPLIT_NAMES = ("train", "holdout", "validation", "eval")
#: The three-way split of datasets registered before the validation split existed.
LEGACY_FRACTIONS = (0.5, 0.25, 0.25)


class SplitFractions(BaseModel):
    """Shares of the table held out from training; train gets ``1 - holdout - validation - eval``.

    >>> SplitFractions().train
    0.5
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    holdout: float = Field(0.20, gt=0, lt=1, allow_inf_nan=False,
                           description="Share of membership-attack non-members, in (0, 1).")
    validation: float = Field(0.15, gt=0, lt=1, allow_inf_nan=False,
                              description="Share that selects candidates and feeds the "
                              "policy's utility gates, in (0, 1).")
    eval: float = Field(0.15, gt=0, lt=1, allow_inf_nan=False,
                        description="Share that scores the reported figures only, in (0, 1).")

    @model_validator(mode="after")
    def _train_keeps_rows(self) -> SplitFractions:
        held = self.holdout + self.validation + self.eval
        if held >= 1:
            raise ValueError(f"holdout + validation + eval is {held:g}; it must stay below 1 "
                             "so that train keeps some rows")
        return self

    @property
    def train(self) -> float:
        """The share left for training."""
        return round(1.0 - self.holdout - self.validation - self.eval, 12)

    def as_tuple(self) -> tuple[float, float, float, float]:
        """``(train, holdout, validation, eval)``."""
        return (self.train, self.holdout, self.validation, self.eval)


DEFAULT_FRACTIONS = SplitFractions()


@dataclass(frozen=True)
class Split:
    """Row indices of the four disjoint splits.

    ``legacy_sha256`` is set when the split was derived from a three-way split recorded
    before the validation split existed (see ``legacy_split``): it is the hash that
    registration stored.
    """

    seed: int
    train: np.ndarray
    holdout: np.ndarray
    validation: np.ndarray
    eval: np.ndarray
    legacy_sha256: str | None = None

    @property
    def sha256(self) -> str:
        """A hash of the exact index assignment, recorded in lineage."""
        return _hash(b"governance.split.v2\x00", (self.train, self.holdout, self.validation,
                                                  self.eval))

    @property
    def recorded_sha256(self) -> str:
        """The hash a dataset registered with this split stores."""
        return self.legacy_sha256 or self.sha256

    def sizes(self) -> dict[str, int]:
        """Rows per split, by name."""
        return {name: len(getattr(self, name)) for name in SPLIT_NAMES}


def _hash(tag: bytes, parts: tuple[np.ndarray, ...]) -> str:
    h = hashlib.sha256(tag)
    for part in parts:
        arr = np.ascontiguousarray(part, dtype=np.int64)
        h.update(len(arr).to_bytes(8, "little"))
        h.update(arr.tobytes())
    return h.hexdigest()


def _counts(n_rows: int, fractions: tuple[float, ...]) -> list[int]:
    counts = [int(round(f * n_rows)) for f in fractions[1:]]
    return [n_rows - sum(counts), *counts]


def make_split(
    n_rows: int, *, seed: int, fractions: SplitFractions | None = None
) -> Split:
    """Split ``n_rows`` row indices into train/holdout/validation/eval with a seeded permutation.

    Args:
        n_rows: rows of the table.
        seed: seed of the permutation; the same seed and fractions give the same split.
        fractions: held-out shares (``DEFAULT_FRACTIONS`` when None).

    Raises:
        DatasetError: if the table is too small for every split to get
            ``MIN_ROWS_PER_SPLIT`` rows.

    >>> s = make_split(1000, seed=0)
    >>> s.sizes()
    {'train': 500, 'holdout': 200, 'validation': 150, 'eval': 150}
    """
    fr = fractions or DEFAULT_FRACTIONS
    counts = _counts(n_rows, fr.as_tuple())
    _check_sizes(n_rows, counts, fr.as_tuple())
    perm = np.random.default_rng(seed).permutation(n_rows)
    bounds = np.cumsum([0, *counts])
    train, hold, val, ev = (np.sort(perm[bounds[i]:bounds[i + 1]]) for i in range(4))
    return Split(seed, train, hold, val, ev)


def _check_sizes(n_rows: int, counts: list[int], fractions: tuple[float, ...]) -> None:
    small = [(name, c) for name, c in zip(SPLIT_NAMES, counts, strict=True)
             if c < MIN_ROWS_PER_SPLIT]
    if small:
        need = int(np.ceil(MIN_ROWS_PER_SPLIT / min(fractions)))
        shares = ", ".join(f"{n} {f:g}" for n, f in zip(SPLIT_NAMES, fractions, strict=True))
        name, count = small[0]
        raise DatasetError(
            f"the table has {n_rows} rows; with split fractions {shares} the {name} split "
            f"gets {count} rows, fewer than {MIN_ROWS_PER_SPLIT}; at least {need} rows are "
            "needed (or raise the smallest fraction under the schema's 'splits:')"
        )


def legacy_split(n_rows: int, *, seed: int) -> Split:
    """The split of a dataset registered with the old three-way split (no validation).

    Train and holdout are exactly the recorded ones, so generators and attacks see the
    same rows as before; the old eval rows are divided by a second seeded permutation,
    the first half becoming validation and the rest eval. ``legacy_sha256`` is the
    three-way hash registration stored.
    """
    perm = np.random.default_rng(seed).permutation(n_rows)
    n_train = int(round(LEGACY_FRACTIONS[0] * n_rows))
    n_hold = int(round(LEGACY_FRACTIONS[1] * n_rows))
    train, hold = np.sort(perm[:n_train]), np.sort(perm[n_train:n_train + n_hold])
    old_eval = np.sort(perm[n_train + n_hold:])
    recorded = _hash(b"governance.split.v1\x00", (train, hold, old_eval))
    mixed = np.random.default_rng([seed, 0x7A11D]).permutation(old_eval)
    half = len(mixed) // 2
    return Split(seed, train, hold, np.sort(mixed[:half]), np.sort(mixed[half:]),
                 legacy_sha256=recorded)


@dataclass(frozen=True)
class Splits:
    """The real splits of a dataset, as conformed frames."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    validation: pd.DataFrame
    eval: pd.DataFrame
    split: Split | None

    @classmethod
    def of(cls, frame: pd.DataFrame, split: Split) -> Splits:
        """Cut ``frame`` by ``split``."""
        def rows(idx: np.ndarray) -> pd.DataFrame:
            return frame.iloc[idx].reset_index(drop=True)

        return cls(train=rows(split.train), holdout=rows(split.holdout),
                   validation=rows(split.validation), eval=rows(split.eval), split=split)
