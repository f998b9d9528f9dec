"""Pure statistics of a membership attack's scores: ROC AUC, TPR at low FPR, advantage.

Every function takes the scores of the members (positives) and of the non-members
(negatives), oriented so that a *higher* score means "more likely a member", and
predicts "member" for a score ``>= threshold``. Nothing here draws random numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from governance.core.errors import InputError


def _scores(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> tuple[np.ndarray, ...]:
    pos = np.asarray(member_scores, dtype=np.float64).ravel()
    neg = np.asarray(nonmember_scores, dtype=np.float64).ravel()
    if pos.size == 0 or neg.size == 0:
        raise InputError(
            f"need at least one member and one non-member score (got {pos.size} and "
            f"{neg.size}); pass non-empty member and non-member samples"
        )
    if not (np.isfinite(pos).all() and np.isfinite(neg).all()):
        raise InputError("attack scores must be finite; map undefined scores to a finite value")
    return pos, neg


def roc_auc(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    """Area under the ROC curve, ties counted as one half.

    Returns:
        P(score of a random member > score of a random non-member) + 0.5 P(tie), which is
        what ``sklearn.metrics.roc_auc_score`` computes.

    Notes:
        Computed from the Mann-Whitney U statistic with mid-ranks for ties
        (Mann & Whitney 1947; Hanley & McNeil 1982): AUC = U / (n_pos n_neg).
    """
    pos, neg = _scores(member_scores, nonmember_scores)
    ranks = stats.rankdata(np.concatenate([pos, neg]))
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))


def null_auc_se(n_members: int, n_nonmembers: int) -> float:
    """Standard error of the AUC of an attack that cannot tell the groups apart.

    Notes:
        Under the null hypothesis of identical score distributions (no ties),
        Var(U) = n1 n2 (n1 + n2 + 1) / 12 (Mann & Whitney 1947), hence
        SE(AUC) = sqrt((n1 + n2 + 1) / (12 n1 n2)).
    """
    return math.sqrt((n_members + n_nonmembers + 1) / (12.0 * n_members * n_nonmembers))


@dataclass(frozen=True)
class RocPoints:
    """The empirical ROC curve: one point per distinct threshold, plus (0, 0)."""

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_members: int
    n_nonmembers: int

    @property
    def tpr(self) -> np.ndarray:
        """True-positive rates, non-decreasing."""
        return self.tp / self.n_members

    @property
    def fpr(self) -> np.ndarray:
        """False-positive rates, non-decreasing."""
        return self.fp / self.n_nonmembers


def roc_points(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> RocPoints:
    """Counts of true and false positives at every distinct score threshold.

    The first point is the threshold ``+inf`` (nobody predicted a member); each further
    point predicts "member" for scores ``>=`` a distinct observed score, from high to low.
    """
    pos, neg = _scores(member_scores, nonmember_scores)
    scores = np.concatenate([pos, neg])
    is_pos = np.concatenate([np.ones(pos.size, bool), np.zeros(neg.size, bool)])
    order = np.argsort(-scores, kind="stable")
    scores, is_pos = scores[order], is_pos[order]
    last_of_run = np.r_[scores[1:] != scores[:-1], True]
    tp = np.cumsum(is_pos)[last_of_run]
    fp = np.cumsum(~is_pos)[last_of_run]
    return RocPoints(
        thresholds=np.r_[np.inf, scores[last_of_run]],
        tp=np.r_[0, tp].astype(np.int64),
        fp=np.r_[0, fp].astype(np.int64),
        n_members=int(pos.size),
        n_nonmembers=int(neg.size),
    )


def min_nonmembers_for_fpr(fpr: float) -> int:
    """Fewest non-members for which one false positive is allowed at ``fpr``."""
    return math.ceil(1.0 / fpr - 1e-9)


def tpr_at_fpr(
    member_scores: np.ndarray, nonmember_scores: np.ndarray, fpr: float
) -> tuple[float | None, str | None]:
    """The highest TPR of any threshold whose FPR is at most ``fpr``.

    Returns:
        ``(tpr, None)``, or ``(None, reason)`` when there are too few non-members to
        allow even one false positive at that rate (fewer than ``1 / fpr``).

    Notes:
        No interpolation between ROC points: only thresholds that were actually
        achievable count, so the value is the conservative step-function reading
        recommended by Carlini et al. (2022), "Membership Inference Attacks From First
        Principles".
    """
    if not 0.0 < fpr < 1.0:
        raise InputError(f"fpr must lie strictly between 0 and 1, got {fpr}")
    roc = roc_points(member_scores, nonmember_scores)
    need = min_nonmembers_for_fpr(fpr)
    if roc.n_nonmembers < need:
        return None, (
            f"TPR at {fpr:.3%} FPR: not enough samples (need >= {need} non-members, "
            f"have {roc.n_nonmembers})"
        )
    ok = roc.fp <= fpr * roc.n_nonmembers + 1e-9
    return float(roc.tpr[ok].max()), None


def membership_advantage(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    """The best TPR - FPR over all thresholds (0 for an attack no better than chance).

    Notes:
        Membership advantage of Yeom et al. (2018), "Privacy Risk in Machine Learning:
        Analyzing the Connection to Overfitting"; equal to the Kolmogorov-Smirnov
        distance between the two score distributions in the member direction. It is
        maximised on the same scores it is reported on, so it is an in-sample figure.
    """
    roc = roc_points(member_scores, nonmember_scores)
    return float(max(0.0, (roc.tpr - roc.fpr).max()))


def clopper_pearson(
    k: int | np.ndarray, n: int, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray] | tuple[float, float]:
    """Exact two-sided binomial confidence interval for ``k`` successes in ``n`` trials.

    Args:
        k: success count(s), ``0 <= k <= n``; an array gives arrays back.
        n: number of trials, at least 1.
        confidence: two-sided coverage, e.g. 0.95 puts 2.5 % in each tail.

    Returns:
        ``(low, high)``; ``low = 0`` when ``k = 0`` and ``high = 1`` when ``k = n``.

    Notes:
        Clopper & Pearson (1934): low = Beta^{-1}(a/2; k, n - k + 1),
        high = Beta^{-1}(1 - a/2; k + 1, n - k), as statsmodels'
        ``proportion_confint(method="beta")``.
    """
    if n < 1:
        raise InputError(f"a Clopper-Pearson interval needs n >= 1 trials, got {n}")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    kk = np.asarray(k, dtype=np.float64)
    if (kk < 0).any() or (kk > n).any():
        raise InputError(f"success counts must lie in [0, {n}]")
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(kk > 0, stats.beta.ppf(alpha / 2, kk, n - kk + 1), 0.0)
        high = np.where(kk < n, stats.beta.ppf(1 - alpha / 2, kk + 1, n - kk), 1.0)
    if np.ndim(k) == 0:
        return float(low), float(high)
    return low, high
