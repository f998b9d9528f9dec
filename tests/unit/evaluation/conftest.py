"""Shared fixtures of the utility tests: real splits and a public-domain noise candidate."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from governance.datasets.schema import Schema
from tests.utils.data import MIXED_SCHEMA, mixed_table, randhie, randhie_schema


def _uniform_noise(schema: Schema, n: int, seed: int = 0) -> pd.DataFrame:
    """Rows drawn uniformly over the schema's public domain, independent columns."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for name, spec in schema.columns.items():
        if spec.type == "categorical":
            data[name] = rng.choice(np.array(spec.categories, dtype=object), n)
        elif spec.type == "integer":
            data[name] = rng.integers(int(spec.min), int(spec.max) + 1, n)
        else:
            data[name] = rng.uniform(spec.min, spec.max, n)
    return pd.DataFrame(data)


@pytest.fixture(scope="session")
def uniform_noise() -> Callable[..., pd.DataFrame]:
    return _uniform_noise


@pytest.fixture(scope="session")
def mixed_splits() -> dict[str, pd.DataFrame]:
    """Disjoint real train / eval tables and an independent 'synthetic' stand-in."""
    return {"train": mixed_table(2000, seed=1), "eval": mixed_table(2000, seed=2),
            "other": mixed_table(2000, seed=3)}


@pytest.fixture(scope="session")
def lift_splits() -> dict[str, pd.DataFrame]:
    """Disjoint real train / validation / eval tables and an independent 'synthetic' one.

    Smaller than ``mixed_splits``: every lift evaluation fits a panel of three models.
    """
    return {"train": mixed_table(1500, seed=1), "validation": mixed_table(800, seed=4),
            "eval": mixed_table(800, seed=2), "other": mixed_table(1500, seed=3)}


@pytest.fixture(scope="session")
def randhie_splits() -> dict[str, pd.DataFrame]:
    """Four disjoint blocks of the real randhie table (3000 rows; 1500 to score on)."""
    full = randhie()
    perm = np.random.default_rng(0).permutation(len(full))
    sizes = {"train": 3000, "validation": 1500, "eval": 1500, "other": 3000}
    out, start = {}, 0
    for name, n in sizes.items():
        out[name] = full.iloc[perm[start:start + n]].reset_index(drop=True)
        start += n
    return out


@pytest.fixture(scope="session")
def mixed_schema() -> Schema:
    return MIXED_SCHEMA


@pytest.fixture(scope="session")
def randhie_schema_() -> Schema:
    return randhie_schema()
