"""The one numeric encoding of a table, built only from the schema's public domain.

Numeric and integer columns are scaled to [0, 1] by the public bounds; categorical
columns are one-hot over the public category list. Generators (the DP-VAE), attacks
and fidelity metrics share this encoding, so a distance means the same everywhere and
no private statistic ever enters preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from governance.datasets.schema import ColumnSpec, Schema


@dataclass(frozen=True)
class Block:
    """Where one column lives in the encoded matrix."""

    name: str
    spec: ColumnSpec
    start: int
    width: int

    @property
    def is_categorical(self) -> bool:
        """Whether the block is a one-hot group."""
        return self.spec.type == "categorical"


class PublicEncoder:
    """Encode and decode tables with a schema's public domain.

    >>> from governance.datasets.schema import Schema
    >>> s = Schema.model_validate({"columns": {
    ...     "age": {"type": "integer", "min": 0, "max": 100},
    ...     "smoker": {"type": "categorical", "categories": ["no", "yes"]}}})
    >>> enc = PublicEncoder(s)
    >>> enc.encode(pd.DataFrame({"age": [50], "smoker": ["yes"]})).tolist()
    [[0.5, 0.0, 1.0]]
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        blocks, start = [], 0
        for name, spec in schema.columns.items():
            width = len(spec.categories or []) if spec.type == "categorical" else 1
            blocks.append(Block(name, spec, start, width))
            start += width
        self.blocks: tuple[Block, ...] = tuple(blocks)
        self.width = start

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Return a float32 matrix (rows x ``width``); values outside the domain are clipped."""
        out = np.zeros((len(frame), self.width), dtype=np.float32)
        for b in self.blocks:
            col = frame[b.name]
            if b.is_categorical:
                codes = pd.Categorical(
                    _plain(col), categories=b.spec.categories
                ).codes
                rows = np.nonzero(codes >= 0)[0]
                out[rows, b.start + codes[rows]] = 1.0
            else:
                lo, hi = float(b.spec.min), float(b.spec.max)  # type: ignore[arg-type]
                vals = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
                out[:, b.start] = np.clip((vals - lo) / (hi - lo), 0.0, 1.0)
        return out

    def categorical_codes(self, frame: pd.DataFrame) -> np.ndarray:
        """Return integer codes per categorical column (rows x n_categorical), -1 if unknown."""
        cats = [b for b in self.blocks if b.is_categorical]
        out = np.empty((len(frame), len(cats)), dtype=np.int32)
        for j, b in enumerate(cats):
            out[:, j] = pd.Categorical(_plain(frame[b.name]), categories=b.spec.categories).codes
        return out

    def numeric_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the scaled numeric columns only (rows x n_numeric)."""
        nums = [b for b in self.blocks if not b.is_categorical]
        if not nums:
            return np.zeros((len(frame), 0), dtype=np.float32)
        enc = self.encode(frame[[b.name for b in self.blocks]])
        return enc[:, [b.start for b in nums]]

    def decode(
        self, matrix: np.ndarray, *, rng: np.random.Generator | None = None
    ) -> pd.DataFrame:
        """Map an encoded matrix back to a table in the schema's domain.

        Categorical blocks are read as scores: with ``rng`` a category is sampled in
        proportion to the (clipped, renormalised) scores, otherwise the arg-max is taken.
        Numeric values are clipped to the public bounds; integers are rounded.
        """
        data: dict[str, object] = {}
        for b in self.blocks:
            part = np.asarray(matrix[:, b.start : b.start + b.width], dtype=np.float64)
            if b.is_categorical:
                cats = np.asarray(b.spec.categories, dtype=object)
                if rng is None:
                    idx = part.argmax(axis=1)
                else:
                    p = np.clip(part, 1e-12, None)
                    p /= p.sum(axis=1, keepdims=True)
                    u = rng.random((len(p), 1))
                    idx = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), b.width - 1)
                data[b.name] = pd.Categorical(cats[idx], categories=b.spec.categories)
            else:
                lo, hi = float(b.spec.min), float(b.spec.max)  # type: ignore[arg-type]
                # Clip after the affine map too: lo + x * (hi - lo) can overshoot hi by
                # an ulp, which would put a value outside the public domain.
                vals = np.clip(lo + np.clip(part[:, 0], 0.0, 1.0) * (hi - lo), lo, hi)
                if b.spec.type == "integer":
                    data[b.name] = np.round(vals).astype("int64")
                else:
                    data[b.name] = vals
        return pd.DataFrame(data)


def _plain(col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.astype(object)
    return col
