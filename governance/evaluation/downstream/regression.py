"""Regression metrics over frequency weights: MAE, RMSE, R squared and sMAPE.

Notes:
    R squared is ``1 - SS_res / SS_tot`` with ``SS_tot`` around the (weighted) mean of
    the true values; it is undefined (NaN) when the true values are constant. sMAPE
    convention used here: the mean of ``2 |y - yhat| / (|y| + |yhat|)`` with a term of 0
    when both are 0, so it lies in [0, 2] (Makridakis 1993; the "adjusted" form of
    Flores 1986 divides by the mean of the absolute values, which is the same thing).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from governance.evaluation.downstream.base import DownstreamMetric, Goal, safe_divide

_KINDS = frozenset({"regression"})
_MEDIAN_RULE = "{name} of always predicting the scored labels' median"


def _constant_chance(metric: type[DownstreamMetric], y_true: np.ndarray,
                     weights: np.ndarray) -> np.ndarray:
    """The metric of predicting the (unweighted) median of ``y_true`` on every row."""
    y = np.asarray(y_true, float)
    centre = float(np.median(y)) if len(y) else 0.0
    return metric.compute_weighted(y, np.full(len(y), centre), weights)


def _mean(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    return safe_divide(weights @ values, weights.sum(axis=1))


class MAE(DownstreamMetric):
    """Mean absolute error (lower is better).

    >>> import numpy as np
    >>> MAE.compute(np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 1.0]))
    1.3333333333333333
    """

    name: ClassVar[str] = "Mean absolute error"
    key: ClassVar[str] = "mae"
    goal: ClassVar[Goal] = Goal.MINIMIZE
    max_value: ClassVar[float] = float("inf")
    kinds: ClassVar[frozenset[str]] = _KINDS
    chance_rule: ClassVar[str | None] = _MEDIAN_RULE.format(name="MAE")

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """MAE of the constant median prediction per weight row."""
        return _constant_chance(cls, y_true, weights)

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """MAE per weight row."""
        return _mean(weights, np.abs(np.asarray(y_true, float) - y_pred))


class RMSE(DownstreamMetric):
    """Root mean squared error (lower is better)."""

    name: ClassVar[str] = "Root mean squared error"
    key: ClassVar[str] = "rmse"
    goal: ClassVar[Goal] = Goal.MINIMIZE
    max_value: ClassVar[float] = float("inf")
    kinds: ClassVar[frozenset[str]] = _KINDS
    chance_rule: ClassVar[str | None] = ("RMSE of always predicting the scored labels' mean "
                                         "(their standard deviation)")

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """Weighted standard deviation of the labels per weight row.

        >>> import numpy as np
        >>> RMSE.chance(np.array([1.0, 3.0]))
        1.0
        """
        y = np.asarray(y_true, float)
        shift = y.mean() if len(y) else 0.0
        yc = y - shift
        total = weights.sum(axis=1)
        mean = safe_divide(weights @ yc, total)
        var = safe_divide(weights @ yc**2, total) - mean**2
        return np.sqrt(np.maximum(var, 0.0))

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """RMSE per weight row."""
        return np.sqrt(_mean(weights, (np.asarray(y_true, float) - y_pred) ** 2))


class R2(DownstreamMetric):
    """Coefficient of determination (1 is perfect, 0 is the mean, can be negative)."""

    name: ClassVar[str] = "R squared"
    key: ClassVar[str] = "r2"
    goal: ClassVar[Goal] = Goal.MAXIMIZE
    min_value: ClassVar[float] = float("-inf")
    kinds: ClassVar[frozenset[str]] = _KINDS
    chance_rule: ClassVar[str | None] = "0 (always predicting the scored labels' mean)"

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """0 on every replicate: R squared is already measured above the mean."""
        return np.zeros(len(weights))

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """R squared per weight row (NaN when the weighted truth is constant)."""
        y = np.asarray(y_true, float)
        shift = y.mean() if len(y) else 0.0  # centre first: SS_tot is shift-invariant
        yc, pc = y - shift, np.asarray(y_pred, float) - shift
        total = weights.sum(axis=1)
        ss_res = weights @ (yc - pc) ** 2
        mean = safe_divide(weights @ yc, total)
        ss_tot = weights @ yc**2 - total * mean**2
        ss_tot = np.where(ss_tot <= 1e-12 * np.maximum(weights @ yc**2, 1e-300), 0.0, ss_tot)
        return 1.0 - safe_divide(ss_res, ss_tot)


class SMAPE(DownstreamMetric):
    """Symmetric mean absolute percentage error in [0, 2] (lower is better).

    >>> import numpy as np
    >>> SMAPE.compute(np.array([0.0, 1.0, 2.0]), np.array([0.0, 3.0, 2.0]))
    0.3333333333333333
    """

    name: ClassVar[str] = "Symmetric mean absolute percentage error"
    key: ClassVar[str] = "smape"
    goal: ClassVar[Goal] = Goal.MINIMIZE
    max_value: ClassVar[float] = 2.0
    kinds: ClassVar[frozenset[str]] = _KINDS
    chance_rule: ClassVar[str | None] = _MEDIAN_RULE.format(name="sMAPE")

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """The sMAPE of the constant median prediction per weight row."""
        return _constant_chance(cls, y_true, weights)

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """SMAPE per weight row."""
        y = np.asarray(y_true, float)
        terms = safe_divide(2.0 * np.abs(y - y_pred), np.abs(y) + np.abs(y_pred), empty=0.0)
        return _mean(weights, terms)
