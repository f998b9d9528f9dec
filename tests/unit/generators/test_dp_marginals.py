"""zCDP accounting, public-domain discretisation and the marginal-mechanism building blocks."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import InputError
from governance.datasets.schema import Schema
from governance.generators.marginal.discretize import PublicDiscretizer
from governance.generators.marginal.model import (
    _stratified_uniforms,
    model_marginals,
    sample_records,
)
from governance.generators.marginal.steps import (
    decompress,
    exponential_mechanism,
    marginal,
    mbi_session,
    support_mapping,
    total_estimate,
)
from governance.generators.privacy.zcdp import (
    cdp_delta,
    cdp_eps,
    cdp_rho,
    exponential_rho,
    gaussian_rho,
)
from tests.utils.data import MIXED_SCHEMA, mixed_table, randhie_schema

ROOT = Path(__file__).resolve().parents[3]

# ---------------------------------------------------------------- zCDP conversion


@pytest.mark.parametrize(
    ("eps", "delta", "rho"),
    [  # values of private-pgm's cdp2adp.cdp_rho (1000-step bisections), to 1e-12
        (1.0, 1e-5, 0.03055659519763956),
        (0.5, 1e-5, 0.008505530591181911),
        (8.0, 1e-9, 0.7328332873824535),
    ],
)
def test_cdp_rho_known_answers(eps, delta, rho):
    # Run / Assert
    assert cdp_rho(eps, delta) == pytest.approx(rho, rel=1e-12)


def test_cdp_eps_known_answer_sits_between_rho_and_the_standard_bound():
    # Setup: Bun & Steinke's bound eps <= rho + 2 sqrt(rho log(1/delta))
    rho, delta = 0.5, 1e-5
    standard = rho + 2 * math.sqrt(rho * math.log(1 / delta))
    # Run
    eps = cdp_eps(rho, delta)
    # Assert: the value cdp2adp.cdp_eps computes, strictly tighter than the standard bound
    assert eps == pytest.approx(4.728386984943314, rel=1e-12)
    assert rho < eps < standard
    assert cdp_delta(rho, eps) <= delta


@pytest.mark.parametrize("eps", [0.1, 0.5, 1.0, 4.0, 8.0, 20.0])
@pytest.mark.parametrize("delta", [1e-9, 1e-5, 1e-3])
def test_rho_eps_round_trip_never_exceeds_the_target(eps, delta):
    # Run
    back = cdp_eps(cdp_rho(eps, delta), delta)
    # Assert
    assert back <= eps
    assert back == pytest.approx(eps, rel=1e-9)


def test_more_rho_means_more_epsilon():
    # Run
    values = [cdp_eps(rho, 1e-5) for rho in (0.01, 0.1, 1.0, 10.0)]
    # Assert
    assert values == sorted(values) and len(set(values)) == 4


@pytest.mark.parametrize(("sigma", "expected"), [(1.0, 0.5), (2.0, 0.125), (10.0, 0.005)])
def test_gaussian_rho_is_one_over_two_sigma_squared(sigma, expected):
    # Run / Assert
    assert gaussian_rho(sigma) == pytest.approx(expected)


def test_exponential_rho_is_epsilon_squared_over_eight():
    # Run / Assert
    assert exponential_rho(2.0) == pytest.approx(0.5)


@pytest.mark.parametrize("call", [lambda: cdp_rho(1.0, 0.0), lambda: cdp_rho(math.inf, 1e-5),
                                  lambda: cdp_eps(-1.0, 1e-5), lambda: gaussian_rho(0.0)])
def test_invalid_accounting_arguments_are_refused(call):
    # Run / Assert
    with pytest.raises(InputError):
        call()


# ---------------------------------------------------------------- discretisation


def test_integer_column_with_few_values_gets_one_code_per_value():
    # Setup: education-num style, 1..16 with 32 bins
    schema = Schema.model_validate({"columns": {"e": {"type": "integer", "min": 1, "max": 16}}})
    disc = PublicDiscretizer(schema, bins=32)
    frame = pd.DataFrame({"e": np.arange(1, 17)})
    # Run
    codes = disc.encode(frame)
    back = disc.decode(codes, np.random.default_rng(0))
    # Assert
    assert disc.sizes == {"e": 16}
    assert codes["e"].tolist() == list(range(16))
    assert back["e"].tolist() == list(range(1, 17))


def test_wide_integer_column_is_cut_into_contiguous_equal_runs():
    # Setup: 0..99 into 8 runs of 12 or 13 integers
    schema = Schema.model_validate({"columns": {"x": {"type": "integer", "min": 0, "max": 99}}})
    grid = PublicDiscretizer(schema, bins=8).columns["x"]
    # Run
    widths = np.diff(grid.edges)
    # Assert
    assert grid.edges[0] == 0 and grid.edges[-1] == 100
    assert set(widths.tolist()) <= {12, 13} and widths.sum() == 100


@pytest.mark.parametrize("column", ["age", "income", "hours", "edu"])
def test_decoded_values_fall_back_into_their_bins(column):
    # Setup
    disc = PublicDiscretizer(MIXED_SCHEMA, bins=7)
    rng = np.random.default_rng(1)
    codes = {name: rng.integers(0, size, 500) for name, size in disc.sizes.items()}
    # Run
    table = disc.decode(codes, np.random.default_rng(2))
    again = disc.encode(table)
    # Assert
    np.testing.assert_array_equal(again[column], codes[column])
    spec = MIXED_SCHEMA.columns[column]
    if spec.type != "categorical":
        assert table[column].between(spec.min, spec.max).all()


def test_domain_edges_encode_to_the_first_and_last_bin():
    # Setup
    disc = PublicDiscretizer(MIXED_SCHEMA, bins=10)
    frame = mixed_table(2).assign(income=[0.0, 200000.0], age=[17, 90])
    # Run
    codes = disc.encode(frame)
    # Assert
    assert codes["income"].tolist() == [0, 9] and codes["age"].tolist() == [0, 9]


def test_bins_depend_on_the_schema_only_not_on_a_neighbouring_dataset():
    # Setup: a neighbouring table with one extra outlier row inside the public domain
    data = mixed_table(300)
    outlier = data.iloc[[0]].assign(income=199_999.0, age=90, hours=98.9)
    neighbour = pd.concat([data, outlier], ignore_index=True)
    first, second = PublicDiscretizer(MIXED_SCHEMA), PublicDiscretizer(MIXED_SCHEMA)
    # Run
    first.encode(data)
    second.encode(neighbour)
    # Assert
    for name in MIXED_SCHEMA.names:
        a, b = first.columns[name], second.columns[name]
        assert a.size == b.size
        if a.edges is not None:
            np.testing.assert_array_equal(a.edges, b.edges)


def test_randhie_grid_uses_the_public_bounds():
    # Setup
    schema = randhie_schema()
    # Run
    grid = PublicDiscretizer(schema, bins=32).columns["lncoins"]
    # Assert
    assert grid.edges[0] == 0 and grid.edges[-1] == pytest.approx(4.62) and grid.size == 32


@pytest.mark.parametrize("bins", [1, 0, 2.5, True])
def test_bins_must_be_an_integer_of_at_least_two(bins):
    # Run / Assert
    with pytest.raises(InputError, match="bins"):
        PublicDiscretizer(MIXED_SCHEMA, bins=bins)


# ---------------------------------------------------------------- building blocks


def test_marginal_counts_cells_in_c_order():
    # Setup
    codes = {"a": np.array([0, 1, 1, 2]), "b": np.array([1, 0, 0, 1])}
    # Run
    counts = marginal(codes, {"a": 3, "b": 2}, ("a", "b"))
    # Assert
    assert counts.tolist() == [0, 1, 2, 0, 0, 1]


def test_support_mapping_merges_cells_below_the_threshold():
    # Run
    mapping = support_mapping(np.array([10.0, 0.0, 5.0, 1.0]), 4.0)
    # Assert
    assert mapping.tolist() == [0, 2, 1, 2]


def test_decompress_draws_merged_codes_uniformly_among_their_cells():
    # Setup
    mapping = np.array([0, 2, 1, 2, 2])
    codes = np.array([0, 1] + [2] * 3000)
    # Run
    out = decompress(codes, mapping, np.random.default_rng(0))
    # Assert
    assert out[:2].tolist() == [0, 2]
    counts = np.bincount(out[2:], minlength=5)
    assert counts[[0, 2]].sum() == 0 and np.all(np.abs(counts[[1, 3, 4]] - 1000) < 100)


def test_exponential_mechanism_picks_in_proportion_to_exp_half_eps_score():
    # Setup: P(pick 1) = e^{0.5 * 2 * 1} / (1 + e^1) = 0.7311
    rng = np.random.default_rng(0)
    # Run
    picks = [exponential_mechanism(np.array([0.0, 1.0]), 2.0, 1.0, rng) for _ in range(5000)]
    # Assert: within 4 standard errors (0.0063 each); without the 1/2 it would be 0.88
    assert np.mean(picks) == pytest.approx(math.e / (1 + math.e), abs=0.025)


def test_total_estimate_is_the_inverse_variance_mean_of_the_sums():
    # Setup: sums 10 (variance 1 * 2 cells) and 12 (variance 4 * 1 cell)
    ys = [np.array([5.0, 5.0]), np.array([12.0])]
    # Run / Assert
    assert total_estimate(ys, [1.0, 2.0]) == pytest.approx((10 / 2 + 12 / 4) / (1 / 2 + 1 / 4))


# ---------------------------------------------------------------- model queries, sampling

LOOPY_SIZES = {"a": 2, "b": 3, "c": 4, "d": 2}
LOOPY_CLIQUES = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d"), ("a", "c")]
LOOPY_SCRIPT = """
import hashlib, numpy as np
from tests.unit.generators.test_dp_marginals import loopy_model
from governance.generators.marginal.model import sample_records
from governance.generators.marginal.steps import mbi_session
with mbi_session() as mbi:
    codes = sample_records(mbi, loopy_model(mbi)[0], 2000, np.random.default_rng(5))
print(hashlib.sha256(np.stack(list(codes.values())).tobytes()).hexdigest())
"""


def loopy_model(mbi):
    """A 4-cycle with a chord (3-attribute junction-tree cliques) and its brute-force joint."""
    rng = np.random.default_rng(0)
    domain = mbi.Domain(list(LOOPY_SIZES), list(LOOPY_SIZES.values()))
    tables = {cl: mbi.Factor(domain.project(cl), rng.normal(0, 2, domain.project(cl).shape))
              for cl in LOOPY_CLIQUES}
    model = mbi.MarkovRandomField(potentials=mbi.CliqueVector(domain, LOOPY_CLIQUES, tables),
                                  marginals=None, total=500.0)
    joint = np.zeros(tuple(LOOPY_SIZES.values()))
    for cl, factor in tables.items():
        axes = sorted(cl, key="abcd".index)
        values = np.transpose(np.asarray(factor.values), [cl.index(x) for x in axes])
        joint = joint + values.reshape([LOOPY_SIZES[x] if x in cl else 1 for x in "abcd"])
    joint = np.exp(joint - joint.max())
    return model, joint / joint.sum()


def _brute(joint: np.ndarray, q: tuple[str, ...]) -> np.ndarray:
    keep = tuple("abcd".index(x) for x in q)
    out = joint.sum(axis=tuple(i for i in range(4) if i not in keep))
    return np.moveaxis(out, np.argsort(np.argsort(keep)), range(len(q))).ravel()


def test_model_marginals_match_brute_force_on_a_loopy_model():
    # Setup
    queries = [("a",), ("b", "d"), ("a", "c", "d"), ("d", "b")]
    with mbi_session() as mbi:
        model, joint = loopy_model(mbi)
        # Run
        got = model_marginals(mbi, model, queries)
    # Assert
    for q in queries:
        np.testing.assert_allclose(got[q], 500.0 * _brute(joint, q), rtol=1e-10)


def test_sampled_records_follow_the_model():
    # Setup
    with mbi_session() as mbi:
        model, joint = loopy_model(mbi)
        # Run
        codes = sample_records(mbi, model, 40_000, np.random.default_rng(1))
    # Assert: tables within 0.005 total variation (iid draws: ~0.004, independent columns: >0.03)
    for q in [("a", "b"), ("b", "d"), ("c", "d"), ("a", "c"), ("a", "b", "c", "d")]:
        counts = marginal(codes, LOOPY_SIZES, q)
        tv = 0.5 * np.abs(counts / counts.sum() - _brute(joint, q)).sum()
        assert tv < 0.005


def test_sampling_does_not_depend_on_the_python_hash_seed():
    # Setup: mbi's own sampler orders parents by set iteration, which this must not do
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Run
    digests = {subprocess.run([sys.executable, "-c", LOOPY_SCRIPT], cwd=ROOT, text=True,
                              capture_output=True, check=True,
                              env={**env, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    # Assert
    assert len(digests) == 1 and len(next(iter(digests)).strip()) == 64


def test_stratified_uniforms_put_one_draw_in_each_slice_of_a_group():
    # Setup: two groups of 4 and 3 rows, interleaved
    groups = np.array([0, 1, 0, 0, 1, 0, 1])
    # Run
    u = _stratified_uniforms(groups, np.random.default_rng(0))
    # Assert
    for g, size in ((0, 4), (1, 3)):
        slices = np.sort(np.floor(u[groups == g] * size))
        assert slices.tolist() == list(range(size))
