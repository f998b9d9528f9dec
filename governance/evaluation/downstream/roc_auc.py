"""Area under the ROC curve, binary and one-vs-rest macro, with frequency weights.

Notes:
    The AUC is the Mann-Whitney probability that a random positive scores above a
    random negative, ties counting one half (Hanley & McNeil 1982). With weights it is
    ``sum_g P_g (N_<g + N_g / 2) / (P N)`` over groups g of tied scores, where P_g and N_g
    are the positive and negative weight in the group and N_<g the negative weight
    below it. Multiclass uses one-vs-rest with each class's probability as the score and
    the unweighted mean over classes present in ``y_true`` (Provost & Domingos 2000;
    ``sklearn.metrics.roc_auc_score(multi_class="ovr", average="macro")``).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from governance.evaluation.downstream.base import DownstreamMetric, Goal


def weighted_binary_auc(
    positive: np.ndarray, score: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """AUC of ``score`` for the boolean ``positive`` labels, one value per weight row.

    Returns NaN for a replicate without positive or without negative weight.
    """
    _, group = np.unique(score, return_inverse=True)  # tied scores share a group, in order
    n_groups = int(group.max(initial=-1)) + 1
    reps = len(weights)
    cell = (np.arange(reps)[:, None] * n_groups + group[None, :]).ravel()
    pos_g = np.bincount(cell, weights=(weights * positive).ravel(),
                        minlength=reps * n_groups).reshape(reps, n_groups)
    neg_g = np.bincount(cell, weights=weights.ravel(),
                        minlength=reps * n_groups).reshape(reps, n_groups) - pos_g
    neg_below = np.cumsum(neg_g, axis=1) - neg_g
    num = (pos_g * (neg_below + 0.5 * neg_g)).sum(axis=1)
    den = pos_g.sum(axis=1) * neg_g.sum(axis=1)
    out = np.full(len(weights), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


class ROCAUC(DownstreamMetric):
    """ROC AUC: of the second schema class for binary tasks, OvR macro for multiclass.

    >>> import numpy as np
    >>> p1 = np.array([0.1, 0.4, 0.35, 0.8])
    >>> ROCAUC.compute(np.array([0, 0, 1, 1]), np.c_[1 - p1, p1])
    0.75
    """

    name: ClassVar[str] = "ROC AUC"
    key: ClassVar[str] = "roc_auc"
    goal: ClassVar[Goal] = Goal.MAXIMIZE
    kinds: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass"})
    chance_rule: ClassVar[str | None] = "0.5 (scores that do not depend on the row)"

    @classmethod
    def chance_weighted(
        cls, y_true: np.ndarray, weights: np.ndarray, *, n_classes: int = 0
    ) -> np.ndarray:
        """0.5 on every replicate: uninformative scores rank a positive first half the time."""
        return np.full(len(weights), 0.5)

    @classmethod
    def compute_weighted(
        cls, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """AUC per weight row (NaN when a replicate lacks a class)."""
        y_true = np.asarray(y_true, dtype=int)
        if y_pred.shape[1] == 2:
            return weighted_binary_auc(y_true == 1, y_pred[:, 1], weights)
        present = np.unique(y_true)
        per_class = np.stack(
            [weighted_binary_auc(y_true == c, y_pred[:, c], weights) for c in present], axis=1
        )
        valid = ~np.isnan(per_class)
        total = np.where(valid, per_class, 0.0).sum(axis=1)
        count = valid.sum(axis=1)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
