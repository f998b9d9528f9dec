"""AIMGenerator and the model queries it scores with."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import InputError
from governance.datasets.schema import Schema, conform
from governance.generators.marginal.aim import AIMGenerator
from governance.generators.marginal.steps import mbi_session, pooled
from tests.utils.data import MIXED_SCHEMA, mixed_table

FAST = {"iters": 100, "round_iters": 50}
PAIR = Schema.model_validate({"columns": {
    "sex": MIXED_SCHEMA.columns["sex"], "edu": MIXED_SCHEMA.columns["edu"],
    "label": MIXED_SCHEMA.columns["label"]}})


@functools.cache
def _fit(seed: int, max_rounds: int | None = 2) -> AIMGenerator:
    # Noise seeded from the seed, so the figures pinned here are stable; secret noise (the
    # default) is checked by the generator contract and test_noise.py.
    return AIMGenerator(epsilon=1.0, seed=seed, max_rounds=max_rounds, reproducible_noise=True,
                        **FAST).fit(mixed_table(800), MIXED_SCHEMA)


@functools.cache
def _small(epsilon: float) -> AIMGenerator:
    return AIMGenerator(epsilon=epsilon, reproducible_noise=True, **FAST).fit(
        mixed_table(600)[PAIR.names], PAIR)


def _bytes(frame: pd.DataFrame) -> bytes:
    return pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()


def test_sample_conforms_and_repeats_with_the_seed_when_noise_is_reproducible():
    # Setup
    again = AIMGenerator(epsilon=1.0, seed=3, max_rounds=2, reproducible_noise=True,
                         **FAST).fit(mixed_table(800), MIXED_SCHEMA)
    # Run
    out = _fit(3).sample(150)
    # Assert
    pd.testing.assert_frame_equal(conform(out, MIXED_SCHEMA), out)
    assert _bytes(out) == _bytes(again.sample(150))


def test_capped_rounds_leave_budget_unspent_and_say_so():
    # Run
    spend = _fit(3).privacy()
    # Assert: 6 one-way measurements + 2 rounds, most of rho unspent
    assert any(note.startswith("8 marginals measured") for note in spend.notes)
    assert 0 < spend.epsilon_spent < 1.0
    assert any(note.startswith("2 rounds") for note in spend.notes)
    assert spend.mechanism == "AIM (zCDP, Gaussian noise on marginals)"


@pytest.mark.parametrize("epsilon", [0.5, 4.0])
def test_uncapped_run_spends_the_whole_budget_and_no_more(epsilon):
    # Run
    spend = _small(epsilon).privacy()
    # Assert
    assert spend.epsilon_spent <= epsilon
    assert spend.epsilon_spent == pytest.approx(epsilon, rel=1e-6)
    pd.testing.assert_frame_equal(conform(_small(epsilon).sample(50), PAIR),
                                  _small(epsilon).sample(50))


def test_infinite_epsilon_is_refused():
    # Run / Assert
    with pytest.raises(InputError, match="gaussian_copula, ctgan, tvae"):
        AIMGenerator()


@pytest.mark.parametrize("options", [{"degree": 4}, {"max_cells": 0}, {"rounds": 0},
                                     {"max_model_size": 0.0}, {"round_iters": 1.5}])
def test_invalid_options_are_refused(options):
    # Run / Assert
    with pytest.raises(InputError):
        AIMGenerator(epsilon=1.0, **options)


def test_too_few_rounds_for_the_columns_is_refused():
    # Run / Assert
    with pytest.raises(InputError, match="rounds must be at least"):
        AIMGenerator(epsilon=1.0, rounds=2).fit(mixed_table(100)[PAIR.names], PAIR)


def test_pooling_repeated_measurements_is_inverse_variance_weighting():
    # Setup
    with mbi_session() as mbi:
        first = mbi.LinearMeasurement(np.array([10.0, 20.0]), ("a",), stddev=1.0)
        second = mbi.LinearMeasurement(np.array([14.0, 24.0]), ("a",), stddev=2.0)
        other = mbi.LinearMeasurement(np.array([1.0]), ("b",), stddev=3.0)
        # Run
        out = pooled(mbi, [first, other, second])
    # Assert: weights 1 and 1/4, so y = (10 + 14/4) / 1.25 and 1/s^2 = 1.25
    assert [m.clique for m in out] == [("a",), ("b",)]
    np.testing.assert_allclose(np.asarray(out[0].noisy_measurement), [10.8, 20.8])
    assert out[0].stddev == pytest.approx(1.25 ** -0.5)
    assert out[1] is other


def test_workload_weights_count_overlaps_with_the_workload():
    # Setup: three columns, workload = the three pairs
    gen = AIMGenerator(epsilon=1.0)
    # Run
    weights = gen._workload({"x": 2, "y": 2, "z": 2})
    # Assert: a column is in 2 pairs; a pair overlaps itself by 2 and each other pair by 1
    assert weights == {**{(c,): 2.0 for c in "xyz"},
                       **{p: 4.0 for p in itertools.combinations("xyz", 2)}}


def test_workload_falls_back_to_one_way_marginals_when_no_pair_fits():
    # Setup
    gen = AIMGenerator(epsilon=1.0, max_cells=3)
    # Run
    weights = gen._workload({"x": 2, "y": 2})
    # Assert
    assert weights == {("x",): 1.0, ("y",): 1.0}
