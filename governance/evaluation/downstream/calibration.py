"""Probability quality: expected calibration error and the Brier score.

Notes:
    Expected calibration error (Naeini, Cooper & Hauskrecht 2015; Guo et al. 2017):
    rows are put into M = 15 equal-width bins by their top-class probability, bin m being
    ((m-1)/M, m/M] (a probability of exactly 0 goes to the first bin), and
    ``ECE = sum_m (n_m / n) |acc_m - conf_m|``, i.e. ``|sum of hits - sum of confidences|``
    per bin over n. ECE has no chance level (a constant prediction of the class shares
    is perfectly calibrated), so it cannot be a task's primary metric. Brier score
    (Brier 1950), convention used here: the mean over the K classes of the squared error
    between the probability vector and the one-hot truth, averaged over rows, so it lies
    in [0, 1]. For K = 2 this equals the usual binary
    ``mean((p_1 - y)^2)``; Brier's original sum over classes is K times this value.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from governance.evaluation.downstream.base import (
    DownstreamMetric,
    Goal,
    class_shares,
    one_hot,
    predicted_labels,
    safe_divide,
)

ECE_BINS = 15


def calibration_bins(confidence: np.ndarray, n_bins: int = ECE_BINS) -> np.ndarray:
    """Bin index of each top-class probability in equal-width right-closed bins."""
    idx = np.ceil(np.asarray(confidence, float) * n_bins).astype(int) - 1
    return np.clip(idx, 0, n_bins - 1)


class ExpectedCalibrationError(DownstreamMetric):
    """Gap between confidence and accuracy, 15 equal-width bins (lower is better).

    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.9, 0.1], [0.3, 0.7]])
    >>> round(ExpectedCalibrationError.compute(np.array([0, 1, 1]), p), 4)  # 2/3*.4 + 1/3*.3
    0.3667
    """

    name: ClassVar[str] = "Expected calibration error"
    key: ClassVar[str] = "ece"
    goal: ClassVar[Goal] = Goal.MINIMIZE
    kinds: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass"})
    n_bins: ClassVar[int] = ECE_BINS

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """ECE per weight row."""
        confidence = y_pred.max(axis=1)
        hits = (predicted_labels(y_pred) == np.asarray(y_true)).astype(float)
        bins = one_hot(calibration_bins(confidence, cls.n_bins), cls.n_bins)
        gap = np.abs(weights @ (bins * hits[:, None]) - weights @ (bins * confidence[:, None]))
        return safe_divide(gap.sum(axis=1), weights.sum(axis=1))


class BrierScore(DownstreamMetric):
    """Mean over classes and rows of the squared probability error (lower is better).

    >>> import numpy as np
    >>> BrierScore.compute(np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]]))
    0.1
    """

    name: ClassVar[str] = "Brier score"
    key: ClassVar[str] = "brier"
    goal: ClassVar[Goal] = Goal.MINIMIZE
    kinds: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass"})
    chance_rule: ClassVar[str | None] = ("Brier score of always predicting the scored labels' "
                                         "class shares, (1 - sum of squared shares) / K")

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """Brier score of the class-share prediction per weight row.

        >>> import numpy as np
        >>> BrierScore.chance(np.array([0, 1, 1, 1]), n_classes=2)  # (1 - 1/16 - 9/16) / 2
        0.1875
        """
        shares = class_shares(y_true, weights, n_classes)
        return (1.0 - (shares**2).sum(axis=1)) / shares.shape[1]

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Brier score per weight row."""
        truth = one_hot(np.asarray(y_true, dtype=int), y_pred.shape[1])
        per_row = ((y_pred - truth) ** 2).mean(axis=1)
        return safe_divide(weights @ per_row, weights.sum(axis=1))
