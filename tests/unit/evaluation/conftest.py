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
def randhie_splits() -> dict[str, pd.DataFrame]:
    """Three disjoint 3000-row blocks of the real randhie table."""
    full = randhie()
    perm = np.random.default_rng(0).permutation(len(full))
    blocks = [full.iloc[perm[i * 3000:(i + 1) * 3000]].reset_index(drop=True) for i in range(3)]
    return {"train": blocks[0], "eval": blocks[1], "other": blocks[2]}


@pytest.fixture(scope="session")
def mixed_schema() -> Schema:
    return MIXED_SCHEMA


@pytest.fixture(scope="session")
def randhie_schema_() -> Schema:
    return randhie_schema()
