"""The downstream metric interface, in the style of ``sdmetrics/base.py``.

A metric is a class with the attributes ``name``, ``key``, ``goal``, ``min_value``,
``max_value`` and the task ``kinds`` it applies to. ``compute()`` returns a float,
``compute_breakdown()`` a dict that includes ``"score"`` and ``normalize()`` maps a raw
value to 0..1 (1 is best). The frontier reads ``goal`` to know which way is better.

Every metric is implemented once, over *frequency weights*: ``compute_weighted`` takes a
matrix of row weights (one row of weights per replicate) and returns one value per
replicate. ``compute`` is the single replicate with all weights 1, and the paired
bootstrap (``bootstrap.py``) passes resampling counts, so a bootstrap replicate is
exactly the metric on the resampled rows without copying them.

``chance_weighted`` gives, per replicate, what a predictor that learnt nothing reaches
on the same labels (``chance_rule`` says which predictor): the floor that utility is
measured above. A metric without a meaningful floor has ``chance_rule = None`` and
returns NaN.

Classification metrics take ``y_true`` as integer class codes (positions in the
schema's category list) and ``y_pred`` as an ``(n, K)`` matrix of class probabilities
over all K schema classes. Regression metrics take two float vectors.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

import numpy as np

from governance.core.errors import InputError


class Goal(Enum):
    """Which direction of a metric is better."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


class DownstreamMetric:
    """Base class of the downstream (train-on-X, score-on-real-eval) metrics."""

    name: ClassVar[str] = ""
    key: ClassVar[str] = ""
    goal: ClassVar[Goal] = Goal.MAXIMIZE
    min_value: ClassVar[float] = 0.0
    max_value: ClassVar[float] = 1.0
    kinds: ClassVar[frozenset[str]] = frozenset()
    chance_rule: ClassVar[str | None] = None

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """The chance level on the labels of each weight row (NaN when there is none).

        Args:
            y_true: true values (class codes or numbers) of the scored rows.
            weights: frequency weights, shape ``(m, n)``.
            n_classes: K, the schema's class count (classification).
        """
        return np.full(len(weights), np.nan)

    @classmethod
    def chance(cls, y_true: np.ndarray, *, n_classes: int = 0) -> float:
        """The chance level on ``y_true`` itself (NaN when the metric has none)."""
        y_true = np.asarray(y_true)
        return float(cls.chance_weighted(y_true, np.ones((1, len(y_true))),
                                         n_classes=n_classes)[0])

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Return one value per row of ``weights`` (shape ``(m, n)``); NaN when undefined."""
        raise NotImplementedError

    @classmethod
    def compute(
        cls, y_true: np.ndarray, y_pred: np.ndarray, *, weights: np.ndarray | None = None
    ) -> float:
        """Compute the metric, optionally with one vector of frequency weights.

        Args:
            y_true: true values (class codes or numbers).
            y_pred: class probabilities ``(n, K)`` or predicted numbers.
            weights: optional non-negative frequency weight per row.

        Returns:
            The metric value; NaN when it is undefined (e.g. ROC AUC with one class).
        """
        y_true = np.asarray(y_true)
        w = np.ones((1, len(y_true))) if weights is None else np.asarray(weights, float)[None, :]
        return float(cls.compute_weighted(y_true, np.asarray(y_pred, dtype=float), w)[0])

    @classmethod
    def compute_breakdown(cls, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
        """Return ``{"score": value}``; subclasses add their parts."""
        return {"score": cls.compute(y_true, y_pred)}

    @classmethod
    def normalize(cls, raw_score: float) -> float:
        """Map a raw value to 0..1 where 1 is best (``sdmetrics.base.BaseMetric.normalize``).

        Raises:
            InputError: if the value lies outside ``[min_value, max_value]``.
        """
        lo, hi = float(cls.min_value), float(cls.max_value)
        if not lo <= raw_score <= hi:
            raise InputError(
                f"{cls.name} value {raw_score} is outside its range [{lo}, {hi}]; "
                "pass a value computed by this metric"
            )
        if np.isfinite(lo) and np.isfinite(hi):
            score = (raw_score - lo) / (hi - lo)
        elif np.isfinite(hi):
            score = float(np.exp(raw_score - hi))
        elif np.isfinite(lo):
            score = 1.0 - float(np.exp(lo - raw_score))
        else:
            score = 1.0 / (1.0 + float(np.exp(-raw_score)))
        return 1.0 - score if cls.goal is Goal.MINIMIZE else score


def one_hot(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Return an ``(n, n_classes)`` float indicator matrix of integer codes."""
    out = np.zeros((len(codes), n_classes))
    out[np.arange(len(codes)), codes] = 1.0
    return out


def class_shares(y_true: np.ndarray, weights: np.ndarray, n_classes: int) -> np.ndarray:
    """Weighted share of each class per weight row, shape ``(m, K)``."""
    k = max(n_classes, int(np.max(y_true, initial=-1)) + 1)
    counts = weights @ one_hot(np.asarray(y_true, dtype=int), k)
    return safe_divide(counts, counts.sum(axis=1, keepdims=True))


def predicted_labels(proba: np.ndarray) -> np.ndarray:
    """Arg-max class of each probability row (ties go to the lowest code)."""
    return np.asarray(proba).argmax(axis=1)


def safe_divide(num: np.ndarray, den: np.ndarray, *, empty: float = np.nan) -> np.ndarray:
    """Element-wise ``num / den`` with ``empty`` where ``den`` is 0."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    out = np.full(np.broadcast(num, den).shape, empty)
    np.divide(num, den, out=out, where=den != 0)
    return out
