"""Every registered generator: schema-conforming output, dtypes, seeded byte-identical samples."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import InputError
from governance.datasets.schema import Schema, conform
from governance.generators import Generator, create_generator
from tests.utils.data import MIXED_SCHEMA, mixed_table, randhie, randhie_schema

TINY: dict[str, dict[str, object]] = {
    "gaussian_copula": {},
    "ctgan": {"epochs": 1, "batch_size": 100},
    "tvae": {"epochs": 1, "batch_size": 100},
    "dp_vae": {"epsilon": 2.0, "epochs": 1, "batch_size": 100, "hidden": 32,
               "accountant": "rdp"},
    "mst": {"epsilon": 1.0, "iters": 100},
    "aim": {"epsilon": 1.0, "iters": 100, "round_iters": 50, "max_rounds": 2},
}
TABLES = ["mixed", "randhie"]
N = 150


@functools.cache
def _table(which: str) -> tuple[pd.DataFrame, Schema]:
    if which == "mixed":
        return mixed_table(400), MIXED_SCHEMA
    return randhie(1000), randhie_schema()


@functools.cache
def _fit(name: str, which: str, seed: int) -> Generator:
    data, schema = _table(which)
    return create_generator(name, seed=seed, **TINY[name]).fit(data, schema)


def _bytes(frame: pd.DataFrame) -> bytes:
    return pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()


@pytest.mark.parametrize("which", TABLES)
@pytest.mark.parametrize("name", sorted(TINY))
def test_sample_conforms_to_the_schema_with_our_dtypes(name, which):
    # Setup
    _, schema = _table(which)
    # Run
    out = _fit(name, which, 3).sample(N)
    # Assert
    assert list(out.columns) == schema.names and len(out) == N
    pd.testing.assert_frame_equal(conform(out, schema), out)
    for col, spec in schema.columns.items():
        if spec.type == "categorical":
            assert list(out[col].cat.categories) == list(spec.categories)
        else:
            assert out[col].dtype == (np.int64 if spec.type == "integer" else np.float64)
            assert out[col].between(spec.min, spec.max).all()


@pytest.mark.parametrize("which", TABLES)
@pytest.mark.parametrize("name", sorted(TINY))
def test_same_seed_gives_byte_identical_samples(name, which):
    # Setup: two independent fits with one seed
    data, schema = _table(which)
    again = create_generator(name, seed=3, **TINY[name]).fit(data, schema)
    # Run
    first, second = _fit(name, which, 3).sample(N), again.sample(N)
    # Assert
    assert _bytes(first) == _bytes(second)
    assert _bytes(again.sample(N)) == _bytes(second)  # repeated calls repeat too


@pytest.mark.parametrize("which", TABLES)
@pytest.mark.parametrize("name", sorted(TINY))
def test_different_seed_gives_different_samples(name, which):
    # Run
    first, other = _fit(name, which, 3).sample(N), _fit(name, which, 4).sample(N)
    # Assert
    assert _bytes(first) != _bytes(other)


@pytest.mark.parametrize("name", ["gaussian_copula", "ctgan", "tvae"])
def test_baselines_report_no_privacy(name):
    # Run
    spend = _fit(name, "mixed", 3).privacy()
    # Assert
    assert spend.epsilon_spent == math.inf and spend.epsilon_target == math.inf
    assert spend.delta == 0 and spend.mechanism == "none (non-private baseline)"
    assert spend.preprocessing == "public-domain"


@pytest.mark.parametrize("name", ["gaussian_copula", "ctgan", "tvae"])
def test_baselines_refuse_a_finite_epsilon(name):
    # Run / Assert
    with pytest.raises(InputError, match="non-private baseline"):
        create_generator(name, epsilon=1.0)


def test_baseline_on_data_derived_schema_says_not_private():
    # Setup
    schema = MIXED_SCHEMA.model_copy(update={"data_derived": True})
    # Run
    spend = create_generator("gaussian_copula").fit(mixed_table(400), schema).privacy()
    # Assert
    assert spend.preprocessing == "data-derived schema (NOT private)"


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_sample_size_must_be_a_positive_integer(n):
    # Run / Assert
    with pytest.raises(InputError, match="positive integer"):
        _fit("gaussian_copula", "mixed", 3).sample(n)


def test_ctgan_batch_size_must_fit_its_pac():
    # Run / Assert
    with pytest.raises(InputError, match="multiple of its pac"):
        create_generator("ctgan", batch_size=105)
