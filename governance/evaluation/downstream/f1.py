"""F1 scores and per-class recall from weighted confusion counts.

Notes:
    Per class c: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN)
    (van Rijsbergen 1979). Macro F1 is the unweighted mean over the classes that occur
    in the true or the predicted labels, as ``sklearn.metrics.f1_score(average="macro")``
    does; a class that occurs in neither is left out instead of counted as 0. Micro F1
    pools the counts over classes; for single-label classification it equals accuracy.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from governance.evaluation.downstream.accuracy import MAJORITY_RULE, majority_share
from governance.evaluation.downstream.base import (
    DownstreamMetric,
    Goal,
    class_shares,
    one_hot,
    predicted_labels,
    safe_divide,
)


def weighted_counts(
    y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return weighted ``(TP, support, predicted)`` per class, each of shape ``(m, K)``."""
    k = y_pred.shape[1]
    truth = one_hot(np.asarray(y_true, dtype=int), k)
    pred = one_hot(predicted_labels(y_pred), k)
    return weights @ (truth * pred), weights @ truth, weights @ pred


class MacroF1(DownstreamMetric):
    """Unweighted mean of the per-class F1 scores.

    >>> import numpy as np
    >>> p = np.eye(3)[[0, 0, 1, 2]]  # predicts 0, 0, 1, 2
    >>> round(MacroF1.compute(np.array([0, 1, 1, 2]), p), 4)  # F1s 2/3, 2/3, 1
    0.7778
    """

    name: ClassVar[str] = "Macro F1"
    key: ClassVar[str] = "macro_f1"
    goal: ClassVar[Goal] = Goal.MAXIMIZE
    kinds: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass"})
    chance_rule: ClassVar[str | None] = (
        "the larger of a guess at the scored labels' class frequencies (1 / K over the K "
        "classes present, on the guess's expected counts) and always predicting one class "
        "(at best 2q / ((1 + q) K) for the majority share q, e.g. the all-positive F1)")

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """The stronger of the stratified guess and the best constant class, per weight row.

        A guess that says class c with probability p_c (its share) expects ``n p_c**2``
        true positives among ``n p_c`` predictions and ``n p_c`` true rows, an F1 of
        p_c, and a macro F1 of ``1 / K``. Always saying c scores ``2 p_c / (1 + p_c)`` on
        c and 0 elsewhere. The first is never smaller; both are computed and the larger
        kept.

        >>> import numpy as np
        >>> MacroF1.chance(np.array([0, 1, 1, 1]), n_classes=2)
        0.5
        """
        shares = class_shares(y_true, weights, n_classes)
        present = (shares > 0).sum(axis=1)
        stratified = safe_divide(np.ones(len(shares)), present)
        q = shares.max(axis=1)
        constant = safe_divide(2 * q / (1 + q), present)
        return np.maximum(stratified, constant)

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Macro F1 per weight row."""
        tp, support, predicted = weighted_counts(y_true, y_pred, weights)
        present = (support + predicted) > 0
        f1 = safe_divide(2 * tp, support + predicted, empty=0.0)
        return safe_divide((f1 * present).sum(axis=1), present.sum(axis=1))

    @classmethod
    def compute_breakdown(cls, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
        """Score plus per-class precision, recall, F1 and support (lists by class code)."""
        ones = np.ones((1, len(y_true)))
        tp, support, predicted = (a[0] for a in weighted_counts(y_true, y_pred, ones))
        return {
            "score": cls.compute(y_true, y_pred),
            "precision": safe_divide(tp, predicted, empty=0.0).tolist(),
            "recall": safe_divide(tp, support, empty=np.nan).tolist(),
            "f1": safe_divide(2 * tp, support + predicted, empty=0.0).tolist(),
            "support": support.astype(int).tolist(),
        }


class MicroF1(DownstreamMetric):
    """F1 of the counts pooled over classes (equals accuracy for single-label tasks)."""

    name: ClassVar[str] = "Micro F1"
    key: ClassVar[str] = "micro_f1"
    goal: ClassVar[Goal] = Goal.MAXIMIZE
    kinds: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass"})
    chance_rule: ClassVar[str | None] = MAJORITY_RULE

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """The majority class's share per weight row (micro F1 is accuracy here)."""
        return majority_share(y_true, weights, n_classes)

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Micro F1 per weight row."""
        tp, support, predicted = weighted_counts(y_true, y_pred, weights)
        return safe_divide(2 * tp.sum(axis=1), support.sum(axis=1) + predicted.sum(axis=1))


class RarestClassRecall(DownstreamMetric):
    """Recall of the class that is rarest in the true labels (ties: lowest code).

    The rarest class is chosen from the unweighted ``y_true`` so that every bootstrap
    replicate measures the same class. Classes absent from ``y_true`` are ignored.
    """

    name: ClassVar[str] = "Recall of the rarest class"
    key: ClassVar[str] = "rarest_class_recall"
    goal: ClassVar[Goal] = Goal.MAXIMIZE
    kinds: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass"})
    chance_rule: ClassVar[str | None] = (
        "the rarest class's share: the recall of a guess at the class frequencies (always "
        "predicting the rare class would recall all of it and tells nothing)")

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """Share of the rarest class (fixed from the unweighted labels) per weight row."""
        shares = class_shares(y_true, weights, n_classes)
        return shares[:, cls.rarest_class(y_true, shares.shape[1])]

    @staticmethod
    def rarest_class(y_true: np.ndarray, n_classes: int) -> int:
        """Code of the least frequent class among those present in ``y_true``."""
        counts = np.bincount(np.asarray(y_true, dtype=int), minlength=n_classes).astype(float)
        counts[counts == 0] = np.inf
        return int(np.argmin(counts))

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Recall of the rarest class per weight row."""
        c = cls.rarest_class(y_true, y_pred.shape[1])
        is_c = (np.asarray(y_true) == c).astype(float)
        hit = is_c * (predicted_labels(y_pred) == c)
        return safe_divide(weights @ hit, weights @ is_c)
