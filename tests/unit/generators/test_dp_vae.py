"""DP-VAE: privacy record, Poisson-only sampling, public-domain preprocessing, control run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from governance.core.errors import BudgetExceededError, InputError
from governance.datasets.schema import Schema, conform
from governance.generators.privacy.verify import verify_spend
from governance.generators.vae.dp_vae import CONTROL_MECHANISM, MECHANISM, DPVAEGenerator
from tests.utils.data import MIXED_SCHEMA, mixed_table

TINY = {"epochs": 1, "batch_size": 64, "hidden": 32, "latent_dim": 4}


@pytest.fixture(scope="module")
def private_fit() -> DPVAEGenerator:
    return DPVAEGenerator(epsilon=1.0, seed=5, **TINY).fit(mixed_table(400), MIXED_SCHEMA)


def test_epsilon_one_reports_the_accountants_spend(private_fit):
    # Run
    spend = private_fit.privacy()
    # Assert
    assert 0.9 < spend.epsilon_spent <= 1.0 and spend.epsilon_target == 1.0
    assert spend.accountant == "prv" and spend.accountant_fallback_reason is None
    assert spend.mechanism == MECHANISM and spend.is_private
    assert spend.steps == 7 and spend.sample_rate == pytest.approx(1 / 7)
    assert spend.noise_multiplier > 0 and spend.max_grad_norm == 1.0
    assert spend.delta == 1e-5 and spend.epochs == 1
    assert spend.preprocessing == "public-domain" and spend.preprocessing_epsilon == 0.0
    # ... and the server recomputes the same figure from the recorded parameters
    checked = verify_spend(spend, generator=DPVAEGenerator, epsilon=1.0, delta=1e-5)
    assert checked.epsilon_spent == spend.epsilon_spent


def test_private_run_differs_from_the_control_only_by_dp():
    # Run
    control = DPVAEGenerator(seed=5, **TINY).fit(mixed_table(400), MIXED_SCHEMA).privacy()
    # Assert
    assert control.epsilon_spent == math.inf and control.mechanism == CONTROL_MECHANISM
    assert control.steps == 7 and control.noise_multiplier is None and not control.is_private


def test_samples_conform_and_repeat(private_fit):
    # Run
    first, second = private_fit.sample(300), private_fit.sample(300)
    # Assert
    conform(first, MIXED_SCHEMA)
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == MIXED_SCHEMA.names
    assert first["age"].dtype == np.int64 and first["income"].dtype == np.float64
    assert list(first["edu"].cat.categories) == ["hs", "college", "grad", "other"]


@pytest.mark.parametrize("sampling", ["uniform", "shuffle", "fixed_batches"])
def test_non_poisson_sampling_is_refused(sampling):
    # Run / Assert
    with pytest.raises(InputError, match="Poisson"):
        DPVAEGenerator(epsilon=1.0, sampling=sampling)


@pytest.mark.parametrize(
    ("options", "match"),
    [({"epsilon": 0.0}, "epsilon"), ({"epochs": 0}, "epochs"), ({"lr": -1.0}, "lr"),
     ({"accountant": "gdp"}, "accountant"), ({"seed": -1}, "seed"), ({"delta": 1.0}, "delta")],
)
def test_bad_options_are_refused(options, match):
    # Run / Assert
    with pytest.raises(InputError, match=match):
        DPVAEGenerator(**options)


def test_data_derived_schema_is_labelled_not_private():
    # Setup
    schema = MIXED_SCHEMA.model_copy(update={"data_derived": True})
    # Run
    spend = DPVAEGenerator(epsilon=1.0, **TINY).fit(mixed_table(400), schema).privacy()
    # Assert
    assert spend.preprocessing == "data-derived schema (NOT private)"
    assert any("not covered by any DP guarantee" in note for note in spend.notes)
    assert spend.epsilon_spent <= 1.0


def _neighbour(kind: str) -> pd.DataFrame:
    base = mixed_table(400)
    row = {"age": 90, "income": 200000.0, "hours": 99.0, "sex": "male", "edu": "grad",
           "label": 1} if kind == "outlier" else \
        {"age": 40, "income": 30000.0, "hours": 40.0, "sex": "female", "edu": "other", "label": 0}
    base = base[base["edu"] != "other"] if kind == "rare" else base
    return conform(pd.concat([base.astype(object), pd.DataFrame([row])]), MIXED_SCHEMA)


@pytest.mark.parametrize("kind", ["outlier", "rare"])
def test_preprocessing_is_identical_on_neighbouring_datasets(kind):
    # Setup: D, and D' = D plus one in-domain extreme row or one row of a category D lacks
    d = _neighbour(kind).iloc[:-1]
    d_prime = _neighbour(kind)
    probe = mixed_table(50, seed=9)
    # Run
    enc = DPVAEGenerator(epsilon=1.0, accountant="rdp", **TINY).fit(d, MIXED_SCHEMA).encoder
    enc_prime = DPVAEGenerator(epsilon=1.0, accountant="rdp", **TINY).fit(
        d_prime, MIXED_SCHEMA).encoder
    # Assert: same blocks, widths and domains, and bit-identical encodings of a probe table
    assert enc.blocks == enc_prime.blocks and enc.width == enc_prime.width
    assert enc.encode(probe).tobytes() == enc_prime.encode(probe).tobytes()
    assert enc.blocks[0].spec.max == 90 and enc.blocks[1].spec.max == 200000


def test_delta_above_one_over_n_is_noted():
    # Setup
    small = mixed_table(400)
    gen = DPVAEGenerator(epsilon=4.0, delta=0.01, accountant="rdp", **TINY)
    # Run
    spend = gen.fit(small, MIXED_SCHEMA).privacy()
    # Assert
    assert any("exceeds 1/(10 n)" in note for note in spend.notes)


def test_unfitted_generator_refuses_to_report():
    # Setup
    gen = DPVAEGenerator(epsilon=1.0)
    # Run / Assert
    with pytest.raises(RuntimeError, match="fit"):
        gen.privacy()
    with pytest.raises(RuntimeError, match="fit"):
        gen.sample(3)


def test_single_categorical_schema_trains():
    # Setup: no numeric columns at all
    schema = Schema.model_validate({"columns": {"c": {"type": "categorical",
                                                      "categories": ["a", "b"]}}})
    data = conform(pd.DataFrame({"c": ["a"] * 30 + ["b"] * 10}), schema)
    # Run
    out = DPVAEGenerator(epsilon=2.0, **TINY).fit(data, schema).sample(20)
    # Assert
    assert set(out["c"]) <= {"a", "b"} and len(out) == 20


def test_prv_failure_during_fit_is_recorded_in_the_privacy_spend(monkeypatch):
    # Setup: PRV raising stands in for Opacus issues 601/604
    from opacus.accountants import PRVAccountant

    def broken(self, delta, **kwargs):
        raise RuntimeError("Discrete mean differs significantly from continuous mean.")

    monkeypatch.setattr(PRVAccountant, "get_epsilon", broken)
    # Run
    spend = DPVAEGenerator(epsilon=1.0, **TINY).fit(mixed_table(400), MIXED_SCHEMA).privacy()
    # Assert
    assert spend.accountant == "rdp" and 0.9 < spend.epsilon_spent <= 1.0
    assert "Discrete mean differs" in spend.accountant_fallback_reason
    assert spend.accountant_fallback_reason in spend.notes


def test_a_spend_above_the_target_is_refused_not_reported(monkeypatch):
    # Setup: the accountant's final figure disagrees with the calibration (numerical slack)
    import governance.generators.vae.dp_vae as dp_vae

    monkeypatch.setattr(dp_vae, "spent_epsilon", lambda **kwargs: 1.0001)
    gen = DPVAEGenerator(epsilon=1.0, accountant="rdp", **TINY)
    # Run / Assert
    with pytest.raises(BudgetExceededError, match="above the target"):
        gen.fit(mixed_table(400), MIXED_SCHEMA)
    with pytest.raises(RuntimeError, match="fit"):
        gen.privacy()
    with pytest.raises(RuntimeError, match="fit"):
        gen.sample(5)  # no rows from a model whose spend was not accounted
