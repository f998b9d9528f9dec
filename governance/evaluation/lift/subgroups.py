"""The primary metric within each group of a categorical column, and the largest gap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from governance.evaluation.downstream.base import DownstreamMetric
from governance.evaluation.lift.results import ScenarioScore


def subgroup_scores(
    metric: type[DownstreamMetric],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    labels: Sequence[Any],
) -> dict[str, Any]:
    """Score ``metric`` on the eval rows of each group.

    Args:
        metric: the metric class (usually the task's primary metric).
        y_true: true values of the eval rows.
        y_pred: predictions of the eval rows.
        groups: integer group code per row (the schema's category position; -1 unknown).
        labels: the group labels in code order.

    Returns:
        ``{"groups": {label: {"value", "n"}}, "max_gap": float | None, "best", "worst"}``;
        a group with no rows, or where the metric is undefined (e.g. ROC AUC with a
        single class), has value None and is left out of the gap.
    """
    out: dict[str, dict[str, Any]] = {}
    for code, label in enumerate(labels):
        rows = np.flatnonzero(groups == code)
        value = metric.compute(y_true[rows], y_pred[rows]) if len(rows) else float("nan")
        out[str(label)] = {"value": None if np.isnan(value) else value, "n": int(len(rows))}
    defined = {k: v["value"] for k, v in out.items() if v["value"] is not None}
    if len(defined) < 2:
        return {"groups": out, "max_gap": None, "best": None, "worst": None}
    sign = 1.0 if metric.goal.value == "maximize" else -1.0
    best = max(defined, key=lambda k: sign * defined[k])
    worst = min(defined, key=lambda k: sign * defined[k])
    return {"groups": out, "max_gap": abs(defined[best] - defined[worst]),
            "best": best, "worst": worst}


def worst_gap(score: ScenarioScore) -> float | None:
    """The largest subgroup gap of one model over its subgroup columns (None: none defined)."""
    gaps = [g.get("max_gap") for g in score.subgroups.values() if isinstance(g, dict)]
    found = [float(g) for g in gaps if isinstance(g, int | float) and np.isfinite(g)]
    return max(found) if found else None
