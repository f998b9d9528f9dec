"""TaskSpec: inference from the schema and errors that name the fix."""

from __future__ import annotations

import pytest

from governance.core.errors import InputError, UnknownColumnError
from governance.evaluation import TaskSpec
from tests.utils.data import MIXED_SCHEMA, randhie_schema


@pytest.mark.parametrize(
    ("target", "kind", "metric"),
    [("label", "binary", "roc_auc"), ("edu", "multiclass", "macro_f1"),
     ("income", "regression", "r2"), ("age", "regression", "r2")],
)
def test_kind_and_metric_are_inferred(target: str, kind: str, metric: str) -> None:
    # Run
    task = TaskSpec(target=target).resolve(MIXED_SCHEMA)

    # Assert
    assert (task.kind, task.metric) == (kind, metric)


def test_explicit_choices_are_kept() -> None:
    # Run
    task = TaskSpec(target="label", metric="brier").resolve(MIXED_SCHEMA)

    # Assert
    assert (task.kind, task.metric) == ("binary", "brier")


def test_a_task_recorded_with_one_model_reads_back_without_it() -> None:
    # Setup: runs recorded before the model panel stored the single model family.
    stored = '{"target": "label", "kind": "binary", "metric": "roc_auc", "model": "hgb"}'

    # Run
    task = TaskSpec.model_validate_json(stored)

    # Assert
    assert task == TaskSpec(target="label", kind="binary", metric="roc_auc")
    assert "model" not in task.as_dict()


def test_unknown_target_lists_columns() -> None:
    # Run / Assert
    with pytest.raises(UnknownColumnError, match="age, income, hours, sex, edu, label"):
        TaskSpec(target="salary").resolve(MIXED_SCHEMA)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "mdvis", "kind": "regression", "metric": "roc_auc"},
         "valid metrics: mae, rmse, r2, smape"),
        ({"target": "mdvis", "kind": "ordinal"}, "choose one of binary"),
        ({"target": "mdvis", "scarce_fraction": 1.5}, "strictly between 0 and 1"),
        ({"target": "mdvis", "metric": "auc"}, "known metrics"),
        ({"target": "mdvis", "metric": "ece"}, "'ece' has no chance level"),
    ],
)
def test_invalid_specs_raise_input_error(kwargs: dict, message: str) -> None:
    # Run / Assert
    with pytest.raises(InputError, match=message):
        TaskSpec(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "mdvis", "metric": "macro_f1"}, "valid metrics: mae, rmse, r2, smape"),
        ({"target": "mdvis", "kind": "binary"}, "integer column, which cannot be a binary"),
        ({"target": "idp", "kind": "regression"}, "categorical column"),
    ],
)
def test_resolve_checks_against_schema(kwargs: dict, message: str) -> None:
    # Run / Assert
    with pytest.raises(InputError, match=message):
        TaskSpec(**kwargs).resolve(randhie_schema())


def test_as_dict_round_trips() -> None:
    # Setup
    task = TaskSpec(target="label").resolve(MIXED_SCHEMA)

    # Run / Assert
    assert TaskSpec(**task.as_dict()) == task
