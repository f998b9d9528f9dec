"""Immutable results of a lift evaluation, JSON-ready through ``as_dict()``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from governance.evaluation.lift.bootstrap import Interval
from governance.evaluation.task import TaskSpec


def json_ready(value: Any) -> Any:
    """Turn numpy scalars into Python numbers and NaN/inf into None, recursively."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Interval):
        return json_ready(value.as_dict())
    return value


@dataclass(frozen=True)
class ScenarioScore:
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
    subgroups: dict[str, Any] = field(default_factory=dict)
    n_dropped: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return json_ready({
            "name": self.name, "metrics": self.metrics, "primary": self.primary,
            "n_train": self.n_train, "n_dropped": self.n_dropped, "error": self.error,
            "per_class": self.per_class, "confusion": self.confusion, "subgroups": self.subgroups,
        })


@dataclass(frozen=True)
class UtilityResult:
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

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (no NaN or infinity: undefined values are None)."""
        return json_ready({
            "task": self.task.as_dict(),
            "control": self.control.as_dict(),
            "scenarios": {k: v.as_dict() for k, v in self.scenarios.items()},
            "lifts": {s: {m: i.as_dict() for m, i in d.items()} for s, d in self.lifts.items()},
            "utility_ratio": self.utility_ratio.as_dict(),
            "scarce_gain": self.scarce_gain.as_dict(),
            "n_eval": self.n_eval, "n_boot": self.n_boot, "seed": self.seed,
            "model": self.model, "candidate": self.candidate, "summary": list(self.summary),
        })
