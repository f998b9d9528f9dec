"""TPR at a target FPR, with an exact (Clopper-Pearson) interval on the TPR.

Convention: the threshold is chosen on the **non-members only**. With ``n`` non-members
and a target FPR ``f``, at most ``b = floor(f n)`` false positives are allowed; the
threshold ``c`` is the ``(b + 1)``-th largest non-member score and the attack predicts
"member" for a score **strictly greater** than ``c``. So the empirical FPR is at most
``f`` (fewer than ``b`` when non-members tie at ``c``), and the rule is the most liberal
one with that property. Because ``c`` is a function of the non-members alone, the number
of members above it is, given ``c``, a binomial count over independent members: the
Clopper-Pearson interval on the TPR is exact, with no selection effect from the members.

This is the same operating point as ``roc.tpr_at_fpr`` (the best TPR among thresholds
whose empirical FPR is at most ``f``), stated as a rule on the non-members.

>>> r = tpr_ci([200, 150, 99, 98.5, 10], list(range(100)), target_fpr=0.01)
>>> r.threshold, r.tp, r.fp, r.tpr
(98.0, 4, 1, 0.8)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from governance.attacks.stats.roc import _scores, clopper_pearson, min_nonmembers_for_fpr
from governance.core.errors import InputError
from governance.core.types import Record


class TprAtFpr(Record):
    """The TPR of an attack at a target FPR, with its exact intervals.

    Attributes:
        target_fpr: the FPR the threshold was chosen for.
        threshold: non-member score ``c``; the attack predicts "member" for ``score > c``.
        tp: members scoring above the threshold.
        n_members: number of members.
        fp: non-members scoring above the threshold.
        fp_allowed: ``floor(target_fpr * n_nonmembers)``; ``fp`` is at most this, and
            below it only when non-members tie at the threshold.
        n_nonmembers: number of non-members.
        tpr: ``tp / n_members``.
        fpr: ``fp / n_nonmembers``, the empirical FPR (at most ``target_fpr``).
        tpr_low: lower end of the two-sided Clopper-Pearson interval on the TPR.
        tpr_high: upper end of the two-sided Clopper-Pearson interval on the TPR.
        tpr_upper: one-sided upper confidence bound on the TPR at ``confidence``
            (the figure to use as a pessimistic risk; equal to ``tpr_high`` at
            confidence ``2 * confidence - 1``).
        fpr_upper: one-sided upper confidence bound on the true FPR of the rule, so a
            reader sees how far above the target the operating point may sit. The
            threshold is the ``(fp_allowed + 1)``-th largest of ``n`` non-member scores,
            so for continuous scores the rule's true FPR is Beta(fp_allowed + 1,
            n - fp_allowed) distributed (uniform order statistics, David & Nagaraja
            2003, "Order Statistics"); its ``confidence`` quantile is the bound
            (conservative when scores tie).
        confidence: coverage of each interval / bound.
    """

    target_fpr: float
    threshold: float
    tp: int
    n_members: int
    fp: int
    fp_allowed: int
    n_nonmembers: int
    tpr: float
    fpr: float
    tpr_low: float
    tpr_high: float
    tpr_upper: float
    fpr_upper: float
    confidence: float


def clopper_pearson_upper(k: int, n: int, *, confidence: float = 0.95) -> float:
    """Exact one-sided upper confidence bound for a binomial proportion.

    Returns:
        The ``p`` with ``P[Binomial(n, p) <= k] = 1 - confidence``, i.e.
        ``Beta^{-1}(confidence; k + 1, n - k)``, and 1 when ``k = n``.

    Notes:
        Clopper & Pearson (1934), one-sided form. For ``k = 0`` it is
        ``1 - (1 - confidence)^(1/n)`` (the "rule of three" is its approximation).

    >>> round(clopper_pearson_upper(0, 10), 6) == round(1 - 0.05 ** 0.1, 6)
    True
    """
    if n < 1:
        raise InputError(f"a Clopper-Pearson bound needs n >= 1 trials, got {n}")
    if not 0 <= k <= n:
        raise InputError(f"the success count must lie in [0, {n}], got {k}")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if k == n:
        return 1.0
    return float(stats.beta.ppf(confidence, k + 1, n - k))


def nonmember_threshold(nonmember_scores: np.ndarray, target_fpr: float) -> tuple[float, int]:
    """The threshold of the module's rule and the number of false positives it allows.

    Returns:
        ``(c, b)`` with ``b = floor(target_fpr n)`` and ``c`` the ``(b + 1)``-th largest
        non-member score; "member" means ``score > c``.

    >>> nonmember_threshold([0.1, 0.9, 0.5, 0.7], 0.25)
    (0.7, 1)
    """
    neg = np.sort(np.asarray(nonmember_scores, dtype=np.float64).ravel())[::-1]
    allowed = math.floor(target_fpr * neg.size + 1e-9)
    return float(neg[allowed]), allowed


def tpr_ci(
    member_scores: np.ndarray,
    nonmember_scores: np.ndarray,
    *,
    target_fpr: float,
    confidence: float = 0.95,
) -> TprAtFpr:
    """TPR at ``target_fpr`` with Clopper-Pearson intervals (threshold rule in the module doc).

    Args:
        member_scores: scores of the members, higher means "member".
        nonmember_scores: scores of the non-members.
        target_fpr: the FPR the threshold is chosen for, in (0, 1).
        confidence: coverage of the two-sided interval and of each one-sided bound.

    Raises:
        InputError: on empty or non-finite scores, a target outside (0, 1), or fewer
            than ``ceil(1 / target_fpr)`` non-members (then not even one false
            positive is allowed and the target cannot be resolved; check with
            ``roc.min_nonmembers_for_fpr`` first).

    Notes:
        Intervals of Clopper & Pearson (1934). Reading TPR at a low FPR rather than
        AUC follows Carlini et al. (2022), "Membership Inference Attacks From First
        Principles" (IEEE S&P).
    """
    if not 0.0 < target_fpr < 1.0:
        raise InputError(f"target_fpr must lie strictly between 0 and 1, got {target_fpr}")
    pos, neg = _scores(member_scores, nonmember_scores)
    need = min_nonmembers_for_fpr(target_fpr)
    if neg.size < need:
        raise InputError(
            f"TPR at {target_fpr:.3%} FPR needs >= {need} non-members (have {neg.size}); "
            "pass more non-members or a larger target FPR"
        )
    threshold, allowed = nonmember_threshold(neg, target_fpr)
    tp, fp = int((pos > threshold).sum()), int((neg > threshold).sum())
    low, high = clopper_pearson(tp, pos.size, confidence=confidence)
    return TprAtFpr(
        target_fpr=target_fpr, threshold=threshold, tp=tp, n_members=int(pos.size), fp=fp,
        fp_allowed=allowed, n_nonmembers=int(neg.size), tpr=tp / pos.size, fpr=fp / neg.size,
        tpr_low=float(low), tpr_high=float(high),
        tpr_upper=clopper_pearson_upper(tp, int(pos.size), confidence=confidence),
        fpr_upper=clopper_pearson_upper(allowed, int(neg.size), confidence=confidence),
        confidence=confidence,
    )
