"""Utility records in the one-model format read back as errors that gate nothing."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from governance.core.types import StageError
from governance.generators.base import PrivacySpend
from governance.policy import Policy, decide
from governance.schemas.common import STALE_UTILITY, read_control_json, read_utility
from governance.services.runs.evaluate import candidate_facts

# The shape a candidate's utility column held before chance correction and the panel.
OLD_UTILITY = {
    "task": {"target": "label", "kind": "binary", "metric": "roc_auc", "model": "hgb",
             "scarce_fraction": 0.05, "min_scarce_rows": 50},
    "control": {"name": "control", "metrics": {"roc_auc": 0.675}, "primary": 0.675,
                "n_train": 100},
    "scenarios": {}, "lifts": {},
    "utility_ratio": {"value": 0.738, "ci_low": 0.7, "ci_high": 0.77},
    "scarce_gain": {"value": None, "ci_low": None, "ci_high": None},
    "n_eval": 100, "n_boot": 200, "seed": 0, "model": {"name": "hgb"}, "candidate": {},
    "summary": [],
}
OLD_CONTROL = {"name": "control", "metrics": {"roc_auc": 0.675}, "primary": 0.675,
               "n_train": 100}


def test_a_one_model_utility_record_reads_as_a_stage_error_and_gates_nothing():
    # Setup: the audit's released coin, stored with its raw ratio of 0.738.
    stored = json.dumps(OLD_UTILITY)
    privacy = PrivacySpend(epsilon_target=1.0, epsilon_spent=1.0, delta=1e-6, mechanism="m")

    # Run
    utility = read_utility(stored)
    facts = candidate_facts(privacy=privacy, attack=StageError(error="x"), utility=utility,
                            policy=Policy(name="p"))
    verdict = decide(Policy(name="p", utility={"min_utility_ratio": 0.7}), facts)

    # Assert
    assert utility == StageError(error=STALE_UTILITY)
    assert "utility.min_utility_ratio" in verdict.clauses and not verdict.eligible
    ratio = verdict.violations[verdict.clauses.index("utility.min_utility_ratio")]
    assert ratio.unverifiable and "older format" in ratio.message


def test_a_one_model_control_reads_as_a_stage_error():
    # Run
    control = read_control_json(json.dumps(OLD_CONTROL))

    # Assert
    assert isinstance(control, StageError) and "older format" in control.error


@pytest.mark.parametrize("text", ['{"utility": 1}', "[1, 2]"])
def test_other_malformed_records_still_raise(text):
    # Run / Assert
    with pytest.raises(ValidationError):
        read_utility(text)
    with pytest.raises(ValidationError):
        read_control_json(text)
