"""Accounting: known answers, calibration property, PRV -> RDP fallback, input checks."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opacus.accountants import PRVAccountant, RDPAccountant

from governance.core.errors import GovernanceError, InputError
from governance.datasets.schema import Schema
from governance.generators.privacy import accounting
from governance.generators.privacy.accounting import (
    MAX_PRV_GRID,
    calibrate_noise,
    preprocessing_record,
    prv_grid_size,
    spent_epsilon,
)


def test_rdp_known_answer_from_opacus_example():
    # Setup: Opacus's documented example (noise 1.5, q 0.04, 2250 steps, delta 1e-5)
    # Run
    eps = spent_epsilon(noise_multiplier=1.5, sample_rate=0.04, steps=2250, delta=1e-5,
                        accountant="rdp")
    # Assert
    assert eps == pytest.approx(7.32911, abs=5e-5)


def test_prv_is_tighter_than_rdp_on_the_same_run():
    # Setup / Run
    kwargs = dict(noise_multiplier=1.5, sample_rate=0.04, steps=2250, delta=1e-5)
    prv, rdp = spent_epsilon(**kwargs, accountant="prv"), spent_epsilon(**kwargs, accountant="rdp")
    # Assert: PRV's upper bound is below RDP's bound, but of the same order
    assert 0.6 * rdp < prv < rdp


def test_spent_epsilon_matches_the_opacus_accountant_directly():
    # Setup
    acc = RDPAccountant()
    for _ in range(300):
        acc.step(noise_multiplier=1.1, sample_rate=0.01)
    # Run
    ours = spent_epsilon(noise_multiplier=1.1, sample_rate=0.01, steps=300, delta=1e-6,
                         accountant="rdp")
    # Assert
    assert ours == pytest.approx(acc.get_epsilon(1e-6), rel=1e-12)


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_calibration_meets_the_target_and_reports_the_accountants_figure(accountant):
    # Run
    cal = calibrate_noise(target_epsilon=2.0, delta=1e-5, sample_rate=0.02, steps=500,
                          accountant=accountant)
    # Assert
    assert cal.accountant == accountant and cal.fallback_reason is None
    assert 0.99 * 2.0 <= cal.epsilon_spent <= 2.0
    assert cal.epsilon_spent == spent_epsilon(
        noise_multiplier=cal.noise_multiplier, sample_rate=0.02, steps=500, delta=1e-5,
        accountant=accountant)


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(target=st.floats(0.5, 10.0), rate=st.floats(0.001, 0.1), steps=st.integers(10, 5000))
def test_calibrated_rdp_spend_is_at_most_and_close_to_the_target(target, rate, steps):
    # Run
    cal = calibrate_noise(target_epsilon=target, delta=1e-5, sample_rate=rate, steps=steps,
                          accountant="rdp")
    # Assert
    assert cal.epsilon_spent <= target
    assert cal.epsilon_spent >= 0.8 * target


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(target=st.floats(0.5, 10.0), rate=st.floats(0.001, 0.1), steps=st.integers(10, 1000))
def test_calibrated_prv_spend_is_at_most_and_close_to_the_target(target, rate, steps):
    # Run
    cal = calibrate_noise(target_epsilon=target, delta=1e-5, sample_rate=rate, steps=steps)
    # Assert
    assert cal.epsilon_spent <= target
    assert cal.epsilon_spent >= 0.8 * target
    assert cal.accountant == "prv" or cal.fallback_reason


def test_prv_failure_falls_back_to_rdp_and_says_why(monkeypatch):
    # Setup: the PRV accountant raising is the stand-in for Opacus issue 601
    def broken(self, delta, **kwargs):
        raise RuntimeError("Discrete mean differs significantly from continuous mean.")

    monkeypatch.setattr(PRVAccountant, "get_epsilon", broken)
    # Run
    cal = calibrate_noise(target_epsilon=1.0, delta=1e-5, sample_rate=0.02, steps=500)
    # Assert
    assert cal.accountant == "rdp"
    assert "Discrete mean differs" in cal.fallback_reason and "RDP" in cal.fallback_reason
    assert cal.epsilon_spent == spent_epsilon(
        noise_multiplier=cal.noise_multiplier, sample_rate=0.02, steps=500, delta=1e-5,
        accountant="rdp")


def test_non_finite_prv_value_falls_back(monkeypatch):
    # Setup
    monkeypatch.setattr(PRVAccountant, "get_epsilon", lambda self, delta, **kw: math.inf)
    # Run
    cal = calibrate_noise(target_epsilon=1.0, delta=1e-5, sample_rate=0.02, steps=100)
    # Assert
    assert cal.accountant == "rdp" and "returned inf" in cal.fallback_reason


def test_large_epsilon_triggers_the_grid_guard_without_stubs():
    # Setup: epsilon 1000 needs a PRV grid of millions of points (Opacus hangs for minutes)
    # Run
    cal = calibrate_noise(target_epsilon=1000.0, delta=1e-5, sample_rate=0.02, steps=200)
    # Assert
    assert cal.accountant == "rdp"
    assert "grid" in cal.fallback_reason and "601" in cal.fallback_reason
    assert cal.epsilon_spent <= 1000.0
    assert prv_grid_size(noise_multiplier=cal.noise_multiplier, sample_rate=0.02, steps=200,
                         delta=1e-5) > MAX_PRV_GRID


def test_spent_epsilon_refuses_to_substitute_an_accountant(monkeypatch):
    # Setup
    monkeypatch.setattr(accounting, "MAX_PRV_GRID", 10)
    # Run / Assert: it raises rather than quietly answering with RDP
    with pytest.raises(GovernanceError, match="accountant='rdp'") as info:
        spent_epsilon(noise_multiplier=1.0, sample_rate=0.01, steps=100, delta=1e-5,
                      accountant="prv")
    assert info.value.code == "accountant_failed"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target_epsilon": math.inf}, "epsilon=inf"),
        ({"target_epsilon": 0.0}, "positive finite"),
        ({"delta": 0.0}, "delta"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"steps": 0}, "steps"),
        ({"accountant": "gdp"}, "unknown accountant"),
        ({"target_epsilon": 1e-3, "sample_rate": 1.0, "steps": 5000}, "cannot be met"),
    ],
)
def test_calibration_rejects_bad_input(kwargs, match):
    # Setup
    args = {"target_epsilon": 1.0, "delta": 1e-5, "sample_rate": 0.01, "steps": 100,
            "accountant": "rdp"} | kwargs
    # Run / Assert
    with pytest.raises(InputError, match=match):
        calibrate_noise(**args)


@pytest.mark.parametrize(("derived", "label"), [(False, "public-domain"),
                                                (True, "data-derived schema (NOT private)")])
def test_preprocessing_record_names_data_derived_schemas(derived, label):
    # Setup
    schema = Schema.model_validate(
        {"columns": {"a": {"type": "numeric", "min": 0, "max": 1}}, "data_derived": derived})
    # Run
    prep, notes = preprocessing_record(schema)
    # Assert
    assert prep == label
    assert bool(notes) is derived
