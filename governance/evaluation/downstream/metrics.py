"""The downstream metric registry, default primary metrics and confusion tables.

>>> [m.key for m in metrics_for("regression")]
['mae', 'rmse', 'r2', 'smape']
>>> get_metric("roc_auc").goal.value
'maximize'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from governance.core.errors import InputError
from governance.evaluation.downstream.accuracy import Accuracy
from governance.evaluation.downstream.base import DownstreamMetric, predicted_labels, safe_divide
from governance.evaluation.downstream.calibration import BrierScore, ExpectedCalibrationError
from governance.evaluation.downstream.f1 import MacroF1, MicroF1, RarestClassRecall
from governance.evaluation.downstream.regression import MAE, R2, RMSE, SMAPE
from governance.evaluation.downstream.roc_auc import ROCAUC

TaskKind = str
KINDS: tuple[str, ...] = ("binary", "multiclass", "regression")

_METRICS: dict[str, type[DownstreamMetric]] = {
    m.key: m
    for m in (
        Accuracy, MacroF1, MicroF1, ROCAUC, ExpectedCalibrationError, BrierScore,
        RarestClassRecall, MAE, RMSE, R2, SMAPE,
    )
}

DEFAULT_PRIMARY: dict[str, str] = {"binary": "roc_auc", "multiclass": "macro_f1",
                                   "regression": "r2"}


def metrics_for(kind: str) -> list[type[DownstreamMetric]]:
    """Every metric that applies to a task kind, in reporting order."""
    return [m for m in _METRICS.values() if kind in m.kinds]


def get_metric(key: str) -> type[DownstreamMetric]:
    """Look a metric class up by key.

    Raises:
        InputError: naming the known keys.
    """
    if key not in _METRICS:
        raise InputError(f"unknown metric {key!r}; known metrics: {', '.join(_METRICS)}")
    return _METRICS[key]


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[Any]
) -> dict[str, Any]:
    """Confusion counts as a nested list, rows = true class, columns = predicted class.

    Args:
        y_true: true class codes.
        y_pred: class probabilities ``(n, K)``; the arg-max is the predicted class.
        labels: the K class labels (the schema's categories), in code order.

    Returns:
        ``{"labels": [...], "matrix": [[...], ...]}``.
    """
    k = len(labels)
    pred = predicted_labels(y_pred)
    flat = np.bincount(np.asarray(y_true, dtype=int) * k + pred, minlength=k * k)
    return {"labels": list(labels), "matrix": flat.reshape(k, k).tolist()}


def per_class_precision_recall(
    y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[Any]
) -> dict[str, dict[str, float | int | None]]:
    """Precision, recall and support per class label.

    Precision is None for a class never predicted and recall None for a class absent
    from ``y_true`` (both are 0/0), instead of sklearn's silent 0.
    """
    table = np.asarray(confusion_matrix(y_true, y_pred, labels)["matrix"], dtype=float)
    tp = np.diag(table)
    precision = safe_divide(tp, table.sum(axis=0))
    recall = safe_divide(tp, table.sum(axis=1))
    return {
        str(label): {
            "precision": None if np.isnan(precision[i]) else float(precision[i]),
            "recall": None if np.isnan(recall[i]) else float(recall[i]),
            "support": int(table[i].sum()),
        }
        for i, label in enumerate(labels)
    }
