"""Checked inputs of the membership attacks, with the expensive parts computed once.

``AttackData`` conforms members, non-members, synthetic rows and the optional real
reference sample to the schema, encodes them with the one public-domain encoding, and
caches what several attacks share: nearest-neighbour distances of the queries (members
then non-members, stacked) to the synthetic and reference rows, and exact-match masks.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from governance.attacks.matching import row_keys
from governance.attacks.neighbors import (
    DEFAULT_BLOCK_BYTES,
    encode_for_distance,
    nearest_distances,
)
from governance.core.errors import DatasetError, InputError
from governance.datasets.encoding import PublicEncoder
from governance.datasets.schema import Schema, conform

Target = Literal["synthetic", "reference"]


def conformed(frame: Any, schema: Schema, role: str) -> pd.DataFrame:
    """Return ``frame`` conformed to ``schema`` or raise naming the role and the fix.

    Raises:
        InputError: when ``frame`` is not a DataFrame.
        DatasetError: when it is empty, its columns differ from the schema's, or a value
            lies outside the public domain.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{role} must be a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise DatasetError(f"{role} has no rows; pass a non-empty sample of real or synthetic "
                           "rows with the schema's columns")
    missing = [c for c in schema.names if c not in frame.columns]
    extra = [str(c) for c in frame.columns if c not in schema.columns]
    if missing or extra:
        raise DatasetError(
            f"{role} has columns that do not match the schema (missing: {missing or 'none'}; "
            f"not in schema: {extra or 'none'}); every frame must have exactly the schema's "
            f"columns {schema.names}"
        )
    if _is_conformed(frame, schema):
        return frame.reset_index(drop=True)
    try:
        return conform(frame, schema)
    except DatasetError as exc:
        raise DatasetError(f"{role}: {exc.message}") from None


def _is_conformed(frame: pd.DataFrame, schema: Schema) -> bool:
    if list(frame.columns) != schema.names:
        return False
    for name, spec in schema.columns.items():
        col = frame[name]
        if spec.type == "categorical":
            if not (isinstance(col.dtype, pd.CategoricalDtype)
                    and list(col.cat.categories) == list(spec.categories or [])
                    and bool((col.cat.codes >= 0).all())):
                return False
        else:
            want = np.int64 if spec.type == "integer" else np.float64
            if col.dtype != want:
                return False
            values = col.to_numpy()
            if not bool(((values >= spec.min) & (values <= spec.max)).all()):
                return False
    return True


def _cap(frame: pd.DataFrame, max_rows: int, rng: np.random.Generator, role: str,
         record: dict[str, Any]) -> pd.DataFrame:
    if len(frame) <= max_rows:
        return frame
    record[role] = {"used": max_rows, "of": len(frame)}
    return frame.iloc[np.sort(rng.choice(len(frame), max_rows, replace=False))]


class AttackData:
    """Members, non-members, synthetic rows and an optional reference, checked once.

    Args:
        members: real rows the generator was trained on.
        nonmembers: real rows it never saw.
        synthetic: the candidate's output.
        schema: the public-domain schema all frames conform to.
        reference: further real rows, disjoint from both members and non-members.
        max_rows: cap members and non-members at this many rows each (a seeded sample,
            recorded in ``subsampled``); ``None`` attacks every row.
        seed: seeds the subsample.
        block_bytes: memory bound of one block of distances.
    """

    def __init__(
        self, *, members: pd.DataFrame, nonmembers: pd.DataFrame, synthetic: pd.DataFrame,
        schema: Schema, reference: pd.DataFrame | None = None, max_rows: int | None = None,
        seed: int = 0, block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        self.schema = schema
        members = conformed(members, schema, "members (ori)")
        nonmembers = conformed(nonmembers, schema, "non-members (control)")
        self.synthetic = conformed(synthetic, schema, "synthetic (syn)")
        self.reference = (None if reference is None
                          else conformed(reference, schema, "reference"))
        self.subsampled: dict[str, Any] | None = None
        if max_rows is not None:
            if max_rows < 2:
                raise InputError(f"max_rows must be at least 2, got {max_rows}")
            rng = np.random.default_rng(seed)
            cut: dict[str, Any] = {}
            members = _cap(members, max_rows, rng, "members", cut)
            nonmembers = _cap(nonmembers, max_rows, rng, "nonmembers", cut)
            self.subsampled = cut or None
        self.members = members.reset_index(drop=True)
        self.nonmembers = nonmembers.reset_index(drop=True)
        self.encoder = PublicEncoder(schema)
        self.block_bytes = block_bytes
        self._keys: dict[str, np.ndarray] = {}
        self._matrix: dict[str, np.ndarray] = {}
        self._nearest: dict[str, np.ndarray] = {}
        self._matches: dict[str, np.ndarray] = {}

    @property
    def n_members(self) -> int:
        """Member rows attacked."""
        return len(self.members)

    def split(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cut a per-query array into its member and non-member parts."""
        return values[: self.n_members], values[self.n_members :]

    def frame(self, role: str) -> pd.DataFrame:
        """The conformed frame of a role: members, nonmembers, queries, synthetic, reference."""
        if role == "queries":
            return pd.concat([self.members, self.nonmembers], ignore_index=True)
        frame = getattr(self, role)
        if frame is None:
            raise InputError(
                "this attack needs a real reference sample disjoint from members and "
                "non-members; pass reference= (e.g. holdout rows not used as non-members)"
            )
        return frame

    def keys(self, role: str) -> np.ndarray:
        """Exact row keys of a role (see ``matching.row_keys``)."""
        if role not in self._keys:
            if role == "queries":
                self._keys[role] = np.concatenate([self.keys("members"),
                                                   self.keys("nonmembers")])
            else:
                self._keys[role] = row_keys(self.frame(role), self.schema)
        return self._keys[role]

    def matrix(self, role: str) -> np.ndarray:
        """The distance encoding of a role (float32, one-hot scaled by 1/sqrt(2))."""
        if role not in self._matrix:
            self._matrix[role] = encode_for_distance(self.frame(role), self.encoder)
        return self._matrix[role]

    def nearest(self, target: Target, k: int = 1) -> np.ndarray:
        """Distances of every query to its ``k`` nearest ``target`` rows (cached)."""
        have = self._nearest.get(target)
        if have is None or have.shape[1] < k:
            have = nearest_distances(self.matrix("queries"), self.matrix(target), k,
                                     block_bytes=self.block_bytes)
            self._nearest[target] = have
        return have[:, :k]

    def exact_match(self, target: Target = "synthetic") -> np.ndarray:
        """Whether each query has an exact copy among the ``target`` rows (cached)."""
        key = f"match:{target}"
        if key not in self._matches:
            self._matches[key] = np.isin(self.keys("queries"), self.keys(target))
        return self._matches[key]

    def duplicate_rate(self) -> float:
        """Fraction of non-members that exactly duplicate a member."""
        if "duplicates" not in self._matches:
            self._matches["duplicates"] = np.isin(self.keys("nonmembers"), self.keys("members"))
        return float(self._matches["duplicates"].mean())
