"""Exact copies of rows, found by comparing raw values, never by a distance threshold.

A row's key is the byte string of its raw values in schema order: the category's index
in the schema's public list for categorical columns, the value as float64 for numeric
and integer ones (``-0.0`` folded into ``0.0``). Two rows match exactly when their keys
are equal, which ``numpy.isin`` decides by sorting the keys, so the test is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.datasets.schema import Schema


def row_keys(frame: pd.DataFrame, schema: Schema) -> np.ndarray:
    """One fixed-width byte key per row (a 1-D ``numpy.void`` array)."""
    cols = np.empty((len(frame), len(schema.columns)), dtype=np.float64)
    for j, (name, spec) in enumerate(schema.columns.items()):
        col = frame[name]
        if spec.type == "categorical":
            if isinstance(col.dtype, pd.CategoricalDtype) and list(
                col.cat.categories
            ) == list(spec.categories or []):
                codes = col.cat.codes.to_numpy()
            else:
                values = col.astype(object) if isinstance(col.dtype, pd.CategoricalDtype) else col
                codes = pd.Categorical(values, categories=spec.categories).codes
            cols[:, j] = codes
        else:
            cols[:, j] = pd.to_numeric(col).to_numpy(dtype=np.float64) + 0.0
    cols = np.ascontiguousarray(cols)
    return cols.view(np.dtype((np.void, cols.shape[1] * 8))).ravel()


def exact_match_mask(
    queries: pd.DataFrame | np.ndarray, reference: pd.DataFrame | np.ndarray,
    schema: Schema | None = None,
) -> np.ndarray:
    """Whether each query row has an exact copy among the reference rows.

    Args:
        queries: a conformed frame, or keys from ``row_keys``.
        reference: a conformed frame, or keys from ``row_keys``.
        schema: needed when frames are passed.
    """
    q = _keys(queries, schema)
    r = _keys(reference, schema)
    return np.isin(q, r)


def duplicate_rate(
    nonmembers: pd.DataFrame | np.ndarray, members: pd.DataFrame | np.ndarray,
    schema: Schema | None = None,
) -> float:
    """Fraction of non-member rows that have an exact duplicate among the member rows.

    No attack can tell such a non-member from the member it duplicates, so this caps
    what any attack on the real data can show (an AUC of 1 needs a rate of 0).
    """
    mask = exact_match_mask(nonmembers, members, schema)
    return float(mask.mean()) if mask.size else 0.0


def auc_ceiling(rate: float) -> float:
    """The highest membership AUC the real data allows: ``1 - rate / 2``.

    A non-member equal to a train row scores like that member under any attack, so at
    best those pairs tie (half credit): ``rate`` of the non-members cost ``rate / 2``.

    >>> round(auc_ceiling(0.216), 6)
    0.892
    """
    return 1.0 - rate / 2.0


def _keys(data: pd.DataFrame | np.ndarray, schema: Schema | None) -> np.ndarray:
    if isinstance(data, pd.DataFrame):
        if schema is None:
            raise TypeError("pass the schema when giving frames")
        return row_keys(data, schema)
    return data
