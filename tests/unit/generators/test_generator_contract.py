"""Every registered generator passes the executable contract (``check_generator``)."""

from __future__ import annotations

import functools
import math

import pandas as pd
import pytest

from governance.core.errors import InputError
from governance.datasets.schema import Schema
from governance.generators import Generator, available_generators, create_generator
from governance.generators.fake import FakeGenerator
from governance.generators.testing import (
    GENERATOR_CHECKS,
    Subject,
    check_generator,
    check_reproducible_noise_repeats,
)
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
def _subject(name: str, which: str) -> Subject:
    """One subject per generator and table, so the checks share its fits."""
    data, schema = _table(which)
    return Subject(lambda seed: create_generator(name, seed=seed, **TINY[name]), data, schema, N)


def _fit(name: str, which: str, seed: int) -> Generator:
    return _subject(name, which).fitted(seed)


def test_every_registered_generator_is_covered():
    # Assert: a new generator must join TINY (and so every check below)
    assert set(available_generators()) == set(TINY)


# Where the noise comes from does not depend on the table: that check (two extra fits of
# each DP generator) runs on one table only.
CASES = [(name, which, check) for name in sorted(TINY) for which in TABLES
         for check in GENERATOR_CHECKS
         if not (check is check_reproducible_noise_repeats and which != TABLES[0])]


@pytest.mark.parametrize(("name", "which", "check"), CASES,
                         ids=[f"{n}-{w}-{c.__name__}" for n, w, c in CASES])
def test_generator_contract(name, which, check):
    # Run / Assert (scikit-learn's parametrize_with_checks, one check per test)
    check(_subject(name, which))


def test_check_generator_names_the_failed_check():
    # Setup: a generator whose samples leave the public bounds
    data, schema = _table("mixed")

    class Broken(FakeGenerator):
        def _sample(self, n):
            out = super()._sample(n).copy()
            out["age"] = out["age"] + 1000
            return out

    # Run / Assert
    with pytest.raises(AssertionError, match="check_sample_conforms"):
        check_generator(lambda seed: Broken(seed=seed), data=data, schema=schema,
                        checks=("check_sample_conforms",))


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
