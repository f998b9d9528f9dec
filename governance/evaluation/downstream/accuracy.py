"""Accuracy of the arg-max class."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from governance.evaluation.downstream.base import (
    DownstreamMetric,
    Goal,
    class_shares,
    predicted_labels,
    safe_divide,
)

MAJORITY_RULE = ("the majority class's share of the scored labels (always predicting the "
                 "most frequent class; a guess at the class frequencies scores less, "
                 "the sum of squared shares)")


def majority_share(y_true: np.ndarray, weights: np.ndarray, n_classes: int) -> np.ndarray:
    """Accuracy of always predicting the most frequent class, per weight row."""
    return class_shares(y_true, weights, n_classes).max(axis=1)


class Accuracy(DownstreamMetric):
    """Fraction of eval rows whose arg-max predicted class is the true class.

    >>> import numpy as np
    >>> Accuracy.compute(np.array([0, 1, 1]), np.array([[.9, .1], [.2, .8], [.6, .4]]))
    0.6666666666666666
    """

    name: ClassVar[str] = "Accuracy"
    key: ClassVar[str] = "accuracy"
    goal: ClassVar[Goal] = Goal.MAXIMIZE
    min_value: ClassVar[float] = 0.0
    max_value: ClassVar[float] = 1.0
    kinds: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass"})
    chance_rule: ClassVar[str | None] = MAJORITY_RULE

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """The majority class's share per weight row.

        >>> import numpy as np
        >>> Accuracy.chance(np.array([0, 1, 1, 1]), n_classes=2)
        0.75
        """
        return majority_share(y_true, weights, n_classes)

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Weighted share of correct rows, one value per weight row."""
        correct = (predicted_labels(y_pred) == y_true).astype(float)
        return safe_divide(weights @ correct, weights.sum(axis=1))
