"""Private domain learning: exponential-mechanism quantiles and thresholded noisy counts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from governance.core.errors import InputError, UnknownColumnError
from governance.datasets.private_domain import (
    WIDE_GRID,
    learn_domain,
    project_to_domain,
    quantile_candidates,
    quantile_probabilities,
    quantile_utility,
    threshold,
)
from governance.datasets.schema import Schema
from governance.generators.privacy.verify import verify_spend
from tests.utils.data import MIXED_SCHEMA, mixed_table

NUM = Schema.model_validate({"columns": {"x": {"type": "numeric", "min": -10, "max": 10}}})
CATS = Schema.model_validate({"columns": {"c": {"type": "categorical",
                                                "categories": ["a", "b", "c", "rare"]}}})


def _rng(seed: int) -> np.random.Generator:
    """A seeded noise stream: these tests pin the mechanism's outputs, not its secrecy."""
    return np.random.default_rng(seed)


def _derived(schema: Schema) -> Schema:
    return schema.model_copy(update={"data_derived": True})


def _cats_frame() -> pd.DataFrame:
    return pd.DataFrame({"c": ["a"] * 1000 + ["b"] * 800 + ["c"] * 400 + ["rare"]})


def test_exponential_mechanism_probabilities_known_answer():
    # Setup: [#{x < c}, #{x <= c}] = [0,0], [0,1], [1,2], [2,3], [3,3] against q n = 1.5
    values, grid = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    # Run
    p = quantile_probabilities(values, grid, q=0.5, epsilon=2.0)
    # Assert: P(c) ∝ exp(epsilon u / 2) = exp(u)
    w = np.exp([-1.5, -0.5, 0.0, -0.5, -1.5])
    np.testing.assert_allclose(p, w / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(quantile_utility(values, grid, 0.5), [-1.5, -0.5, 0, -0.5, -1.5])


@pytest.mark.parametrize("q", [0.01, 0.5, 0.99])
@pytest.mark.parametrize("extra", [1e6, -1e6, 0.3])
def test_neighbouring_tables_change_probabilities_by_at_most_e_to_the_epsilon(q, extra):
    # Setup: neighbours differ by one added row (an outlier or an inlier)
    rng = np.random.default_rng(1)
    d = rng.normal(size=40)
    d_prime = np.append(d, extra)
    grid = quantile_candidates(NUM.columns["x"], public=True)
    eps = 0.7
    # Run
    p, p_prime = (quantile_probabilities(v, grid, q=q, epsilon=eps) for v in (d, d_prime))
    sens = np.abs(quantile_utility(d, grid, q) - quantile_utility(d_prime, grid, q)).max()
    # Assert
    assert sens <= max(q, 1 - q) + 1e-12
    ratio = np.maximum(p / p_prime, p_prime / p).max()
    assert 1 < ratio <= math.exp(eps) * (1 + 1e-9)


def test_large_epsilon_recovers_the_true_quantiles_on_public_bounds():
    # Setup
    x = np.random.default_rng(0).normal(size=5000)
    # Run
    learned, spend = learn_domain(pd.DataFrame({"x": x}), NUM, epsilon=200.0, delta=0.0,
                                  rng=_rng(3))
    # Assert
    lo_true, hi_true = np.quantile(x, [0.01, 0.99])
    assert learned.columns["x"].min == pytest.approx(lo_true, abs=0.05)
    assert learned.columns["x"].max == pytest.approx(hi_true, abs=0.05)
    assert spend.epsilon == 200.0 and spend.delta == 0.0
    assert "1025 points over the schema bounds" in spend.per_column["x"].candidates


def test_large_epsilon_on_the_wide_default_grid_for_a_data_derived_schema():
    # Setup: bounds of a data-derived schema are private, so the wide public grid is used
    income = np.random.default_rng(0).lognormal(10, 0.5, 4000)
    schema = Schema.model_validate({"columns": {"x": {"type": "numeric", "min": 0, "max": 1e6}},
                                    "data_derived": True})
    # Run
    learned, spend = learn_domain(pd.DataFrame({"x": income}), schema, epsilon=200.0,
                                  delta=1e-6, rng=_rng(0))
    # Assert: within two steps of the geometric grid (10**(1/50) ~ 4.7%)
    lo_true, hi_true = np.quantile(income, [0.01, 0.99])
    assert learned.columns["x"].min == pytest.approx(lo_true, rel=0.1)
    assert learned.columns["x"].max == pytest.approx(hi_true, rel=0.1)
    assert learned.columns["x"].max > 1e6 or learned.columns["x"].max in WIDE_GRID
    assert "wide default grid" in spend.per_column["x"].candidates
    assert spend.delta == 0.0 and not learned.data_derived


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("column", ["age", "income"])
def test_tiny_epsilon_gives_noisy_but_valid_bounds(seed, column):
    # Run
    learned, _ = learn_domain(mixed_table(300), MIXED_SCHEMA, epsilon=1e-3, delta=0.0,
                              rng=_rng(seed), columns=[column])
    # Assert
    spec, public = learned.columns[column], MIXED_SCHEMA.columns[column]
    assert public.min <= spec.min < spec.max <= public.max
    if spec.type == "integer":
        assert spec.min == int(spec.min) and spec.max == int(spec.max)


def test_integer_ties_pick_the_value_holding_the_quantile():
    # Setup: 5% of the ages sit at the maximum 60
    ages = np.array([20 + (i % 40) for i in range(950)] + [60] * 50)
    schema = Schema.model_validate({"columns": {"age": {"type": "integer", "min": 0, "max": 120}}})
    # Run
    learned, _ = learn_domain(pd.DataFrame({"age": ages}), schema, epsilon=50.0, delta=0.0,
                              rng=_rng(0))
    # Assert
    assert (learned.columns["age"].min, learned.columns["age"].max) == (20, 60)


def test_rare_category_below_the_threshold_is_dropped_from_a_public_list():
    # Run
    learned, spend = learn_domain(_cats_frame(), CATS, epsilon=2.0, delta=0.0, rng=_rng(0))
    # Assert
    assert learned.columns["c"].categories == ["a", "b", "c"]
    col = spend.per_column["c"]
    assert col.replacement == "a" and col.delta == 0.0 and spend.delta == 0.0
    assert col.candidates == "public category list"


def test_unknown_universe_spends_delta_and_never_invents_a_category():
    # Setup: the list of a data-derived schema is private; "b" is declared but unseen
    frame = pd.DataFrame({"c": ["a"] * 500 + ["c"] * 300 + ["rare"]})
    # Run
    learned, spend = learn_domain(frame, _derived(CATS), epsilon=1.0, delta=1e-6, rng=_rng(0))
    # Assert
    assert learned.columns["c"].categories == ["a", "c"]
    assert spend.delta == 1e-6 and spend.per_column["c"].delta == 1e-6
    assert "stability-based histogram" in spend.per_column["c"].method


@pytest.mark.parametrize("eps,delta", [(1.0, 1e-6), (0.1, 1e-9), (3.0, 0.01)])
def test_threshold_releases_a_new_singleton_with_probability_delta(eps, delta):
    # Run
    t = threshold(eps, delta)
    # Assert: P(1 + Laplace(1/eps) >= t) == delta
    assert stats.laplace(loc=1.0, scale=1 / eps).sf(t) == pytest.approx(delta, rel=1e-9)


def test_unknown_universe_with_nothing_above_the_threshold_is_refused():
    # Setup
    frame = pd.DataFrame({"c": ["a", "b", "c"]})
    # Run / Assert
    with pytest.raises(InputError, match="raise the preprocessing epsilon"):
        learn_domain(frame, _derived(CATS), epsilon=0.5, delta=1e-6, rng=_rng(0))


def test_public_list_with_nothing_above_the_threshold_keeps_the_noisy_argmax():
    # Run
    learned, _ = learn_domain(pd.DataFrame({"c": ["b"] * 3}), CATS, epsilon=0.5, delta=0.0,
                              rng=_rng(0))
    # Assert
    assert len(learned.columns["c"].categories) == 1


def test_budget_split_evenly_and_delta_only_where_spent():
    # Setup: a data-derived mixed schema, all six columns learned
    schema = _derived(MIXED_SCHEMA)
    # Run
    learned, spend = learn_domain(mixed_table(2000), schema, epsilon=6.0, delta=3e-6, rng=_rng(1))
    # Assert
    assert spend.epsilon == pytest.approx(6.0)
    assert {c: s.epsilon for c, s in spend.per_column.items()} == pytest.approx(
        dict.fromkeys(MIXED_SCHEMA.names, 1.0))
    assert {c: s.delta for c, s in spend.per_column.items() if s.delta} == pytest.approx(
        {"sex": 1e-6, "edu": 1e-6, "label": 1e-6})
    assert spend.delta == pytest.approx(3e-6) and not learned.data_derived
    assert spend.as_dict()["per_column"]["age"]["epsilon"] == pytest.approx(1.0)


def test_partly_learned_data_derived_schema_stays_data_derived():
    # Run
    learned, spend = learn_domain(mixed_table(500), _derived(MIXED_SCHEMA), epsilon=1.0,
                                  delta=0.0, rng=_rng(0), columns=["age", "income"])
    # Assert
    assert learned.data_derived and set(spend.per_column) == {"age", "income"}
    assert learned.columns["edu"] == MIXED_SCHEMA.columns["edu"]


def test_same_stream_same_domain_other_stream_other_domain():
    # Run
    runs = [learn_domain(mixed_table(500), MIXED_SCHEMA, epsilon=0.5, delta=0.0,
                         rng=_rng(s), columns=["income"])[0] for s in (7, 7, 8)]
    # Assert
    assert runs[0] == runs[1] != runs[2]


@pytest.mark.parametrize("kwargs,error,match", [
    ({"epsilon": 0.0}, InputError, "positive and finite"),
    ({"epsilon": math.inf}, InputError, "positive and finite"),
    ({"columns": ["nope"]}, UnknownColumnError, "unknown column 'nope'"),
    ({"columns": []}, InputError, "at least one column"),
    ({"quantiles": (0.9, 0.1)}, InputError, "0 < low < high < 1"),
])
def test_bad_arguments_are_refused(kwargs, error, match):
    # Setup
    args = {"epsilon": 1.0, "delta": 0.0, "rng": _rng(0)} | kwargs
    # Run / Assert
    with pytest.raises(error, match=match):
        learn_domain(mixed_table(50), MIXED_SCHEMA, **args)


def test_unknown_universe_needs_a_delta():
    # Run / Assert
    with pytest.raises(InputError, match="needs a delta"):
        learn_domain(_cats_frame(), _derived(CATS), epsilon=1.0, delta=0.0, rng=_rng(0))


def test_project_to_domain_clips_numbers_and_maps_dropped_categories():
    # Setup
    frame = pd.DataFrame({"x": [-9.0, 0.0, 9.0], "c": ["a", "rare", "b"]})
    schema = Schema.model_validate({"columns": NUM.columns | CATS.columns})
    learned, spend = learn_domain(
        pd.concat([_cats_frame().assign(x=np.linspace(-2, 2, 2201))]), schema,
        epsilon=100.0, delta=0.0, rng=_rng(0))
    # Run
    out = project_to_domain(frame, learned, spend)
    # Assert
    assert out["x"].iloc[0] == learned.columns["x"].min and out["x"].iloc[1] == 0.0
    assert out["x"].iloc[2] == learned.columns["x"].max
    assert out["c"].tolist() == ["a", "a", "b"]
    assert list(out["c"].cat.categories) == ["a", "b", "c"]


# --- dp_vae with private preprocessing -------------------------------------------------

TINY = {"epochs": 1, "batch_size": 64, "hidden": 32, "latent_dim": 4}


@pytest.fixture(scope="module")
def learned_fit():
    from governance.generators.vae.dp_vae import DPVAEGenerator

    return DPVAEGenerator(epsilon=1.0, seed=5, preprocessing_epsilon=0.2, **TINY).fit(
        mixed_table(400), MIXED_SCHEMA)


def test_dp_vae_records_preprocessing_and_training_epsilon_separately(learned_fit):
    # Run
    spend = learned_fit.privacy()
    _, domain = learned_fit.domain
    # Assert: epsilon_spent is the total; the training share is the accountant's figure
    training = spend.epsilon_spent - spend.preprocessing_epsilon
    assert spend.preprocessing == "private (DP quantiles / noisy counts)"
    assert spend.preprocessing_epsilon == domain.epsilon == 0.2
    assert 0.7 < training <= 0.8 and spend.epsilon_target == 1.0
    assert spend.delta == 1e-5 and domain.delta == 0.0
    assert set(domain.per_column) == {"age", "income", "hours"}  # public categories kept
    assert any(n.startswith(f"epsilon_spent {spend.epsilon_spent:.6g} = training")
               for n in spend.notes)
    checked = verify_spend(spend, generator=type(learned_fit), epsilon=1.0, delta=1e-5,
                           options={"preprocessing_epsilon": 0.2})
    assert checked.epsilon_spent == spend.epsilon_spent


def test_dp_vae_samples_from_a_learned_domain_fit_the_schema(learned_fit):
    # Run
    rows = learned_fit.sample(300)
    learned, _ = learned_fit.domain
    # Assert
    from governance.datasets.schema import conform

    conform(rows, MIXED_SCHEMA)
    assert rows["income"].between(learned.columns["income"].min,
                                   learned.columns["income"].max).all()
    assert rows["age"].dtype == "int64" and list(rows["sex"].cat.categories) == ["female", "male"]


def test_dp_vae_learns_every_column_of_a_data_derived_schema():
    # Setup
    from governance.datasets.schema import conform, infer_schema
    from governance.generators.vae.dp_vae import DPVAEGenerator

    data = mixed_table(400)
    schema = infer_schema(data)
    # Run
    gen = DPVAEGenerator(epsilon=2.0, seed=1, preprocessing_epsilon=1.0, **TINY).fit(data, schema)
    spend, (_, domain) = gen.privacy(), gen.domain
    # Assert: half the delta went to the stability-based histograms
    assert set(domain.per_column) == set(schema.names)
    assert domain.delta == pytest.approx(5e-6) and spend.delta == pytest.approx(1e-5)
    assert spend.preprocessing.startswith("private (DP quantiles / noisy counts)")
    assert 1.0 < spend.epsilon_spent <= 2.0 + 1e-12
    conform(gen.sample(200), schema)
    # the server recomputes the training share at the training half of delta
    assert spend.accountant_delta == pytest.approx(5e-6)
    checked = verify_spend(spend, generator=DPVAEGenerator, epsilon=2.0, delta=1e-5,
                           options={"preprocessing_epsilon": 1.0})
    assert checked.epsilon_spent == spend.epsilon_spent


def test_dp_vae_control_can_learn_its_domain_too():
    # Setup
    from governance.generators.vae.dp_vae import DPVAEGenerator

    # Run
    spend = DPVAEGenerator(seed=1, preprocessing_epsilon=0.5, **TINY).fit(
        mixed_table(200), MIXED_SCHEMA).privacy()
    # Assert
    assert math.isinf(spend.epsilon_spent) and spend.preprocessing_epsilon == 0.5
    assert spend.preprocessing == "private (DP quantiles / noisy counts)"


@pytest.mark.parametrize("pre,match", [(1.0, "must be below epsilon"),
                                       (3.0, "must be below epsilon"),
                                       (-0.1, "finite number >= 0"),
                                       (math.nan, "finite number >= 0")])
def test_dp_vae_refuses_a_preprocessing_share_that_leaves_no_training_budget(pre, match):
    # Setup
    from governance.generators.vae.dp_vae import DPVAEGenerator

    # Run / Assert
    with pytest.raises(InputError, match=match):
        DPVAEGenerator(epsilon=1.0, preprocessing_epsilon=pre)


def test_dp_vae_refuses_preprocessing_with_nothing_to_learn():
    # Setup
    from governance.generators.vae.dp_vae import DPVAEGenerator

    # Run / Assert
    with pytest.raises(InputError, match="no numeric column"):
        DPVAEGenerator(epsilon=1.0, preprocessing_epsilon=0.1, **TINY).fit(_cats_frame(), CATS)
