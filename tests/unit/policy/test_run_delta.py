"""delta sized to the table: runs train with min(risk.max_delta, 1/(10 n)) and say why."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from governance.core.delta import delta_warning, run_delta
from governance.generators.base import PrivacySpend
from governance.policy import default_policy_path
from governance.policy.loader import load_policy, parse_policy
from governance.services.runs import execute
from governance.services.runs.executors import GenerationOutput


@pytest.mark.parametrize(("n", "expected"), [(1000, 1e-5), (100_000, 1e-6), (10, 1e-5)])
def test_default_delta_is_min_of_1e5_and_a_tenth_of_one_over_n(n, expected):
    assert run_delta(1e-5, n) == pytest.approx(expected, rel=1e-12)


def test_the_warning_says_why_only_above_a_tenth_of_one_over_n():
    assert delta_warning(1e-4, 1000) is None
    warning = delta_warning(2e-4, 1000)
    assert warning is not None
    assert "1/(10 n) = 0.0001" in warning and "in the clear" in warning


def _ctx(policy: Any, n_train: int) -> Any:
    """The parts of a run's context the delta rule reads."""
    return execute._Context(gov=None, run=None, progress=None,  # type: ignore[arg-type]
                            dataset=SimpleNamespace(data_derived_schema=False),
                            policy=policy, splits=SimpleNamespace(train=range(n_train)))


def _output(delta: float) -> GenerationOutput:
    spend = PrivacySpend(epsilon_target=2.0, epsilon_spent=2.0, delta=delta,
                         mechanism="m", accountant="a")
    return GenerationOutput(key="k", synthetic=pd.DataFrame({"a": [1]}), privacy=spend,
                            fit_seconds=0.0, sample_seconds=0.0)


def test_the_default_policy_trains_with_min_of_1e5_and_a_tenth_of_one_over_n():
    default = load_policy(default_policy_path())
    assert execute._delta(_ctx(default, 1000)) == pytest.approx(1e-5)
    assert execute._delta(_ctx(default, 100_000)) == pytest.approx(1e-6)
    assert _ctx(default, 1000).delta_note is None


def test_a_policy_delta_above_a_tenth_of_one_over_n_is_capped_and_noted():
    # Setup
    text = default_policy_path().read_text().replace("max_delta: 1.0e-5", "max_delta: 1.0e-2")
    ctx = _ctx(parse_policy(text), 200)
    # Run
    delta = execute._delta(ctx)
    privacy = execute._privacy_of(ctx, _output(delta), 2.0)
    # Assert: trained with 1/(10 n); the note says why, and lands in the privacy notes.
    assert delta == pytest.approx(5e-4)
    assert ctx.delta_note is not None and "exceeds 1/(10 n)" in ctx.delta_note
    assert privacy is not None and ctx.delta_note in privacy.notes
