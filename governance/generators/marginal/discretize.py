"""Discretise a table onto a finite grid built only from the schema's public domain.

Marginal-based DP mechanisms (MST, AIM) work on discrete attributes. Every bin here is
a function of the schema alone, never of the data, so discretisation spends no privacy
budget (on a public schema):

* categorical: one code per category of the schema's list, in list order;
* integer: one code per integer of ``[ceil(min), floor(max)]`` when there are at most
  ``bins`` of them, otherwise ``bins`` contiguous runs of integers of (near) equal width;
* numeric: ``bins`` equal-width bins over ``[min, max]``.

Decoding is the inverse up to the bin: a categorical code gives its category, an integer
bin a uniformly drawn integer of its run, and a numeric bin a uniform draw within it.

>>> from governance.datasets.schema import Schema
>>> s = Schema.model_validate({"columns": {
...     "age": {"type": "integer", "min": 0, "max": 99},
...     "smoker": {"type": "categorical", "categories": ["no", "yes"]}}})
>>> disc = PublicDiscretizer(s, bins=10)
>>> disc.sizes
{'age': 10, 'smoker': 2}
>>> codes = disc.encode(pd.DataFrame({"age": [0, 9, 10, 99], "smoker": ["no"] * 4}))
>>> codes["age"].tolist()
[0, 0, 1, 9]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from governance.core.errors import DatasetError, InputError
from governance.datasets.schema import ColumnSpec, Schema


@dataclass(frozen=True)
class ColumnGrid:
    """The discrete grid of one column.

    ``edges`` holds ``size + 1`` bin boundaries: floats for a numeric column; for an
    integer column, the first integer of each run followed by ``floor(max) + 1``;
    ``None`` for a categorical column.
    """

    name: str
    spec: ColumnSpec
    size: int
    edges: np.ndarray | None

    def encode(self, values: pd.Series) -> np.ndarray:
        """Integer codes in ``[0, size)``; raises ``DatasetError`` for out-of-domain values."""
        if self.spec.type == "categorical":
            plain = values.astype(object) if isinstance(values.dtype, pd.CategoricalDtype) \
                else values
            codes = pd.Categorical(plain, categories=self.spec.categories).codes.astype(np.int64)
            if (codes < 0).any():
                raise DatasetError(f"column {self.name!r} has values outside its categories; "
                                   "conform the table to the schema first")
            return codes
        assert self.edges is not None
        x = pd.to_numeric(values).to_numpy(dtype=np.float64)
        top = self.edges[-1] - 1 if self.spec.type == "integer" else self.edges[-1]
        if (x < self.edges[0]).any() or (x > top).any():
            raise DatasetError(f"column {self.name!r} has values outside its public domain; "
                               "conform the table to the schema first")
        if self.spec.type == "integer":
            codes = np.searchsorted(self.edges, np.round(x), side="right") - 1
        else:
            lo, hi = float(self.edges[0]), float(self.edges[-1])
            codes = np.floor((x - lo) / (hi - lo) * self.size)
        return np.clip(codes, 0, self.size - 1).astype(np.int64)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series | np.ndarray:
        """Values for ``codes``: the category, or a uniform draw within the bin."""
        codes = np.asarray(codes, dtype=np.int64)
        if self.spec.type == "categorical":
            return pd.Categorical.from_codes(codes, categories=self.spec.categories)
        assert self.edges is not None
        if self.spec.type == "integer":
            starts = self.edges.astype(np.int64)
            return rng.integers(starts[codes], starts[codes + 1]).astype(np.int64)
        lo, hi = float(self.edges[0]), float(self.edges[-1])
        width = (hi - lo) / self.size
        return np.clip(lo + (codes + rng.random(len(codes))) * width, lo, hi)


class PublicDiscretizer:
    """Encode a conformed table to integer codes and decode codes back, from the schema only.

    Args:
        schema: The table's schema; only its public domains are read.
        bins: Bins per numeric column, and the most codes an integer column gets.

    Raises:
        InputError: for ``bins < 2`` or an integer column whose bounds hold no integer.
    """

    def __init__(self, schema: Schema, *, bins: int = 32) -> None:
        self.schema, self.bins = schema, self.check_bins(bins)
        self.columns: dict[str, ColumnGrid] = {
            name: _grid(name, spec, self.bins) for name, spec in schema.columns.items()}

    @staticmethod
    def check_bins(bins: int) -> int:
        """Return ``bins`` as an int if it is an integer of at least 2, else raise InputError."""
        if isinstance(bins, bool) or int(bins) != bins or bins < 2:
            raise InputError(f"bins must be an integer of at least 2, got {bins!r}")
        return int(bins)

    @property
    def sizes(self) -> dict[str, int]:
        """Number of codes per column, in schema order."""
        return {name: grid.size for name, grid in self.columns.items()}

    def encode(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Integer codes per column for a table conformed to the schema."""
        return {name: grid.encode(frame[name]) for name, grid in self.columns.items()}

    def decode(self, codes: Mapping[str, np.ndarray], rng: np.random.Generator) -> pd.DataFrame:
        """A table in the schema's column order, dtypes and domain, drawn from ``codes``.

        Columns are decoded in schema order from the one ``rng``, so the output is a
        deterministic function of the codes and the generator's state.
        """
        return pd.DataFrame({name: grid.decode(codes[name], rng)
                             for name, grid in self.columns.items()})

    def describe(self) -> str:
        """One line for a privacy record: the codes each column got."""
        parts = []
        for name, grid in self.columns.items():
            kind: str = grid.spec.type
            if kind == "integer" and grid.edges is not None and grid.size == (
                    grid.edges[-1] - grid.edges[0]):
                kind = "integer, one code per value"
            parts.append(f"{name}={grid.size} ({kind})")
        return f"public-domain grid, bins={self.bins}: " + ", ".join(parts)


def _grid(name: str, spec: ColumnSpec, bins: int) -> ColumnGrid:
    if spec.type == "categorical":
        return ColumnGrid(name, spec, len(spec.categories or []), None)
    assert spec.min is not None and spec.max is not None
    if spec.type == "numeric":
        return ColumnGrid(name, spec, bins, np.linspace(spec.min, spec.max, bins + 1))
    lo, hi = math.ceil(spec.min), math.floor(spec.max)
    if hi < lo:
        raise InputError(f"integer column {name!r} has no integer in [{spec.min:g}, "
                         f"{spec.max:g}]; widen its bounds or declare it numeric")
    count = hi - lo + 1
    size = min(count, bins)
    # Run k holds the integers lo + [ceil(k count / size), ceil((k + 1) count / size)).
    starts = np.array([lo + -((-k * count) // size) for k in range(size + 1)], dtype=np.int64)
    return ColumnGrid(name, spec, size, starts)
