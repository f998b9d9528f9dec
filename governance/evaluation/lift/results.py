"""Immutable results of a lift evaluation (``Record`` models: one codec, typed read-back)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from governance.core.types import Record
from governance.evaluation.lift.bootstrap import Interval
from governance.evaluation.task import TaskSpec


class ScenarioScore(Record):
    """One downstream model trained on one scenario's rows and scored on real eval.

    Attributes:
        name: ``control``, ``tstr``, ``augmented``, ``scarce`` or ``scarce_augmented``.
        metrics: every metric of the task kind (None where undefined).
        primary: the task's primary metric.
        n_train: training rows the model used.
        n_dropped: training rows left out because their target was unusable.
        error: why the model could not be trained (it was then scored as a constant
            predictor, i.e. at chance); None when it trained normally.
        per_class: precision, recall and support per class (classification).
        confusion: ``{"labels", "matrix"}`` with rows = true class (classification).
        subgroups: per requested column, the primary metric per group and the max gap.
    """

    name: str
    metrics: dict[str, float | None]
    primary: float | None
    n_train: int
    error: str | None = None
    per_class: dict[str, Any] | None = None
    confusion: dict[str, Any] | None = None
    subgroups: dict[str, Any] = Field(default_factory=dict)
    n_dropped: int = 0


class UtilityResult(Record):
    """Downstream utility of one synthetic candidate against the real-only control.

    Attributes:
        task: the resolved task.
        control: the real-only control (same object for every candidate of a run).
        scenarios: ``tstr``, ``augmented``, ``scarce``, ``scarce_augmented``.
        lifts: per scenario, per metric, ``scenario - control`` with a paired 95%
            bootstrap percentile interval.
        utility_ratio: TSTR primary metric over the control's (for an error metric,
            control over TSTR), with its paired interval.
        scarce_gain: ``scarce_augmented - scarce`` on the primary metric.
        n_eval: real eval rows every model was scored on.
        n_boot: bootstrap replicates.
        seed: seed of the models, the scarce subset and the bootstrap plan.
        model: model family and its fixed hyperparameters.
        candidate: rows of the synthetic candidate and problems found in it.
        summary: plain-language findings; negative or insignificant lifts are stated.
    """

    task: TaskSpec
    control: ScenarioScore
    scenarios: dict[str, ScenarioScore]
    lifts: dict[str, dict[str, Interval]]
    utility_ratio: Interval
    scarce_gain: Interval
    n_eval: int
    n_boot: int
    seed: int
    model: dict[str, Any]
    candidate: dict[str, Any]
    summary: tuple[str, ...]
