"""MSTGenerator: schema-conforming seeded samples, honest zCDP accounting, public-domain bins."""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import InputError
from governance.datasets.schema import Schema, conform
from governance.generators.base import Generator
from governance.generators.marginal.mst import MSTGenerator, fit_one_way
from governance.generators.privacy.verify import verify_spend
from governance.generators.privacy.zcdp import cdp_eps, cdp_rho
from tests.utils.data import MIXED_SCHEMA, mixed_table, randhie, randhie_schema

N = 200
FAST = {"iters": 200}
# Two columns and no compression: one model structure for every fit on the pair table, so
# JAX compiles the estimator once for all of them.
PAIR_FAST = {"iters": 200, "compress": False}
PAIR = Schema.model_validate({"columns": {
    "income": MIXED_SCHEMA.columns["income"], "label": MIXED_SCHEMA.columns["label"]}})


@functools.cache
def _table(which: str) -> tuple[pd.DataFrame, Schema]:
    if which == "mixed":
        return mixed_table(800), MIXED_SCHEMA
    if which == "pair":
        return mixed_table(500)[PAIR.names], PAIR
    return randhie(2000), randhie_schema()


@functools.cache
def _fit(which: str, seed: int, epsilon: float = 1.0) -> MSTGenerator:
    """A fit whose noise follows the seed, so the figures these tests pin are stable.

    Secret noise (the default) is checked by the generator contract and test_noise.py.
    """
    data, schema = _table(which)
    options = PAIR_FAST if which == "pair" else FAST
    return MSTGenerator(epsilon=epsilon, seed=seed, reproducible_noise=True, **options).fit(
        data, schema)


def _bytes(frame: pd.DataFrame) -> bytes:
    return pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()


@pytest.mark.parametrize("which", ["mixed", "randhie"])
def test_sample_conforms_to_the_schema(which):
    # Setup
    _, schema = _table(which)
    # Run
    out = _fit(which, 3).sample(N)
    # Assert
    assert isinstance(_fit(which, 3), Generator)
    assert list(out.columns) == schema.names and len(out) == N
    pd.testing.assert_frame_equal(conform(out, schema), out)


@pytest.mark.parametrize("which", ["mixed", "randhie"])
def test_reproducible_noise_same_seed_same_data_gives_byte_identical_samples(which):
    # Setup: an independent second fit with the same seed, noise seeded from it
    data, schema = _table(which)
    again = MSTGenerator(epsilon=1.0, seed=3, reproducible_noise=True, **FAST).fit(data, schema)
    # Run
    first, second = _fit(which, 3).sample(N), again.sample(N)
    # Assert
    assert _bytes(first) == _bytes(second)
    assert _bytes(again.sample(N)) == _bytes(second)
    assert _fit(which, 3).privacy() == again.privacy()


@pytest.mark.parametrize("which", ["mixed", "pair"])
def test_another_seed_gives_another_sample(which):
    # Run / Assert
    assert _bytes(_fit(which, 3).sample(N)) != _bytes(_fit(which, 4).sample(N))


def test_fitting_leaves_numpy_global_random_state_alone():
    # Setup
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    # Run
    _fit("pair", 9).sample(10)
    # Assert
    assert np.random.random() == expected


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 4.0, 8.0])
def test_spent_epsilon_is_the_accountants_and_at_most_the_target(epsilon):
    # Run
    spend = _fit("pair", 0, epsilon).privacy()
    # Assert: all of rho is spent (the 1e-9 margin aside), so spent is just below target
    assert spend.epsilon_spent <= epsilon
    assert spend.epsilon_spent == pytest.approx(epsilon, rel=1e-6)
    rho = cdp_rho(epsilon, 1e-5)
    assert spend.epsilon_spent == pytest.approx(cdp_eps(rho * (1 - 1e-9), 1e-5), rel=1e-12)
    assert spend.mechanism == "MST (zCDP, Gaussian noise on marginals)"
    assert spend.accountant == "zCDP (Canonne-Kamath-Steinke 2020 conversion)"
    assert spend.epsilon_target == epsilon and spend.delta == 1e-5
    assert spend.preprocessing == "public-domain" and spend.preprocessing_epsilon == 0.0
    # ... and the server recomputes the same figure from the recorded rho
    checked = verify_spend(spend, generator=MSTGenerator, epsilon=epsilon, delta=1e-5)
    assert checked.epsilon_spent == spend.epsilon_spent and spend.rho is not None


def test_privacy_notes_record_rho_marginals_and_bins():
    # Run
    spend = _fit("mixed", 3).privacy()
    notes = " | ".join(spend.notes)
    # Assert: 6 one-way marginals and a spanning tree of 5 pairs
    assert "rho spent" in notes and "one-way" in notes and "selection" in notes
    assert "11 marginals measured (6 1-way, 5 2-way)" in notes
    assert "bins=32" in notes


def test_bin_edges_ignore_a_neighbouring_outlier_row():
    # Setup: the neighbour adds one row at the top of the public income domain
    data, schema = _table("pair")
    neighbour = pd.concat([data, data.iloc[[0]].assign(income=199_999.0)], ignore_index=True)
    # Run
    first = MSTGenerator(epsilon=1.0, **PAIR_FAST).fit(data, schema).discretizer
    second = MSTGenerator(epsilon=1.0, **PAIR_FAST).fit(neighbour, schema).discretizer
    # Assert
    np.testing.assert_array_equal(first.columns["income"].edges,
                                  second.columns["income"].edges)
    np.testing.assert_array_equal(first.columns["income"].edges,
                                  np.linspace(0, 200_000, 33))


def test_infinite_epsilon_is_refused_with_the_alternatives():
    # Run / Assert
    with pytest.raises(InputError, match="finite epsilon.*gaussian_copula, ctgan, tvae"):
        MSTGenerator()


@pytest.mark.parametrize("options", [{"epsilon": 0.0}, {"epsilon": -1.0},
                                     {"epsilon": 1.0, "delta": 0.0},
                                     {"epsilon": 1.0, "iters": 0},
                                     {"epsilon": 1.0, "bins": 1}, {"epsilon": 1.0, "bins": 2.5},
                                     {"epsilon": 1.0, "seed": -1},
                                     {"epsilon": 1.0, "compress": "yes"}])
def test_invalid_options_are_refused(options):
    # Run / Assert
    with pytest.raises(InputError):
        MSTGenerator(**options)


def test_data_derived_schema_is_recorded_as_not_private():
    # Setup
    data, schema = _table("pair")
    derived = schema.model_copy(update={"data_derived": True})
    # Run
    spend = MSTGenerator(epsilon=1.0, **PAIR_FAST).fit(data, derived).privacy()
    # Assert
    assert spend.preprocessing == "data-derived schema (NOT private)"
    assert any("NOT" in n or "not covered" in n for n in spend.notes)


def test_sample_before_fit_and_bad_sizes_are_refused():
    # Run / Assert
    with pytest.raises(RuntimeError, match="fit"):
        MSTGenerator(epsilon=1.0).sample(5)
    with pytest.raises(InputError, match="positive integer"):
        _fit("pair", 0).sample(0)


def test_label_marginal_is_preserved_at_epsilon_four():
    # Setup
    data = mixed_table(3000)
    # Run
    out = MSTGenerator(epsilon=4.0, seed=1, reproducible_noise=True, **FAST).fit(
        data, MIXED_SCHEMA).sample(3000)
    # Assert: the share of label 1 within 3 percentage points
    real = (data["label"].astype(int) == 1).mean()
    synthetic = (out["label"].astype(int) == 1).mean()
    assert abs(real - synthetic) < 0.03
    assert math.isfinite(synthetic)


@pytest.mark.parametrize(
    ("y", "weights", "expected"),
    [  # both answers agree with mbi's mirror descent run to convergence (5000 iterations)
        ([50, 3, -4, 20, 1, 0.5, 80], None, [140 / 3, 0, 0, 50 / 3, 0, 0, 230 / 3]),
        ([50, 20, 80, 0.25], [1, 1, 1, 0.5], [140 / 3, 50 / 3, 230 / 3, 0]),
    ],
)
def test_one_way_fit_is_the_constrained_least_squares_solution(y, weights, expected):
    # Setup: a plain and a compressed (merged last cell, weight 1/sqrt(4)) measurement
    query = SimpleNamespace() if weights is None else SimpleNamespace(weights=weights)
    measurement = SimpleNamespace(noisy_measurement=np.array(y, float), query=query)
    # Run
    x = fit_one_way(measurement, 140.0)
    # Assert
    np.testing.assert_allclose(x, expected, atol=1e-9)


def test_single_column_table_spends_the_whole_budget_on_its_marginal():
    # Setup
    schema = Schema.model_validate({"columns": {"edu": MIXED_SCHEMA.columns["edu"]}})
    data = mixed_table(400)[["edu"]]
    # Run
    gen = MSTGenerator(epsilon=2.0, **FAST).fit(data, schema)
    # Assert
    spend = gen.privacy()
    assert spend.epsilon_spent == pytest.approx(2.0, rel=1e-6) and spend.epsilon_spent <= 2.0
    assert "1 marginals measured (1 1-way)" in spend.notes
    assert set(gen.sample(100)["edu"]) <= set(MIXED_SCHEMA.columns["edu"].categories)
