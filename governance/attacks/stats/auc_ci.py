"""Confidence intervals for a membership attack's ROC AUC: DeLong and stratified bootstrap.

Scores are oriented as in ``roc.py``: higher means "more likely a member", ties count
one half. Both intervals are two-sided. The DeLong interval is the default: it is exact
arithmetic on the data (no resampling) and fast. The bootstrap is the alternative when
the asymptotic normal approximation is doubtful (a few dozen records per group).

>>> ci = auc_ci([3, 2, 2], [2, 1, 1, 0])
>>> round(ci.auc, 4), round(ci.se, 4), ci.method
(0.9167, 0.0932, 'delong-logit')
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import stats

from governance.attacks.stats.roc import _scores, roc_auc
from governance.core.errors import InputError
from governance.core.types import Record

#: How the DeLong variance becomes an interval: on the logit scale, or on the AUC scale.
DelongScale = Literal["logit", "normal"]

_BOOT_CHUNK_CELLS = 4_000_000


class AucInterval(Record):
    """An AUC with a two-sided confidence interval and what produced it.

    Attributes:
        auc: the empirical AUC (Mann-Whitney, ties one half).
        low: lower end of the interval.
        high: upper end of the interval.
        se: the standard error behind the interval (DeLong's, or the bootstrap
            replicates' standard deviation).
        confidence: two-sided coverage, e.g. 0.95.
        method: ``"delong-logit"``, ``"delong-normal"`` or ``"bootstrap-percentile"``.
        n_members: number of member scores.
        n_nonmembers: number of non-member scores.
        degenerate: the variance estimate is 0 (perfect separation, or every pair
            tied), so the interval is the single point ``auc``; it reflects no
            sampling uncertainty and should be read with the sample sizes.
    """

    auc: float
    low: float
    high: float
    se: float
    confidence: float
    method: str
    n_members: int
    n_nonmembers: int
    degenerate: bool


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def delong_placements(
    member_scores: np.ndarray, nonmember_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's placement values of every member and every non-member.

    Returns:
        ``(v10, v01)``: ``v10[i]`` is the fraction of non-members a member ``i``
        out-scores (ties one half); ``v01[j]`` is the fraction of members that
        out-score non-member ``j``. Both have mean equal to the AUC.

    Notes:
        DeLong, DeLong & Clarke-Pearson (1988), "Comparing the areas under two or more
        correlated receiver operating characteristic curves: a nonparametric approach",
        Biometrics 44(3). Computed from mid-ranks in O(n log n) as in Sun & Xu (2014),
        "Fast implementation of DeLong's algorithm for comparing the areas under
        correlated receiver operating characteristic curves", IEEE Signal Processing
        Letters 21(11): with ``T`` the mid-ranks in the pooled sample and ``T_x``,
        ``T_y`` those within each group, ``v10 = (T - T_x) / n`` and
        ``v01 = 1 - (T - T_y) / m``.
    """
    pos, neg = _scores(member_scores, nonmember_scores)
    m, n = pos.size, neg.size
    pooled = stats.rankdata(np.concatenate([pos, neg]))
    v10 = (pooled[:m] - stats.rankdata(pos)) / n
    v01 = 1.0 - (pooled[m:] - stats.rankdata(neg)) / m
    return v10, v01


def delong_variance(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> tuple[float, float]:
    """The AUC and DeLong's estimate of its variance.

    Returns:
        ``(auc, var)`` with ``var = S10 / m + S01 / n``, where ``S10`` and ``S01`` are
        the sample variances (denominator ``m - 1``, ``n - 1``) of the placement values
        (DeLong et al. 1988, eq. for the single-curve case). With one member or one
        non-member the corresponding term is 0.

    >>> auc, var = delong_variance([3, 2, 2], [2, 1, 1, 0])
    >>> round(auc * 12, 9), round(var * 576, 9)
    (11.0, 5.0)
    """
    return _delong_moments(*delong_placements(member_scores, nonmember_scores))


def _delong_moments(v10: np.ndarray, v01: np.ndarray) -> tuple[float, float]:
    s10 = float(v10.var(ddof=1)) if v10.size > 1 else 0.0
    s01 = float(v01.var(ddof=1)) if v01.size > 1 else 0.0
    return float(v10.mean()), s10 / v10.size + s01 / v01.size


def _delong_bounds(auc: float, se: float, z: float, scale: DelongScale) -> tuple[float, float]:
    if se == 0.0 or auc in (0.0, 1.0):
        return auc, auc
    if scale == "normal":
        return max(0.0, auc - z * se), min(1.0, auc + z * se)
    centre = math.log(auc / (1.0 - auc))
    half = z * se / (auc * (1.0 - auc))
    return float(stats.logistic.cdf(centre - half)), float(stats.logistic.cdf(centre + half))


def auc_ci(
    member_scores: np.ndarray,
    nonmember_scores: np.ndarray,
    *,
    confidence: float = 0.95,
    scale: DelongScale = "logit",
) -> AucInterval:
    """The AUC with DeLong's two-sided confidence interval.

    Args:
        member_scores: scores of the members, higher means "member".
        nonmember_scores: scores of the non-members.
        confidence: two-sided coverage.
        scale: ``"logit"`` (default) builds ``logit(AUC) +- z SE / (AUC (1 - AUC))``
            and maps it back, so the interval stays inside (0, 1) and is asymmetric near
            the edges; ``"normal"`` is ``AUC +- z SE`` clipped to [0, 1], which is what
            R's pROC ``ci.auc(method = "delong")`` reports.

    Raises:
        InputError: on empty or non-finite scores, or a confidence outside (0, 1).

    Notes:
        Variance of DeLong, DeLong & Clarke-Pearson (1988) via Sun & Xu (2014), see
        ``delong_placements``. The logit transform for an AUC interval is discussed by
        Pepe (2003), "The Statistical Evaluation of Medical Tests for Classification and
        Prediction". When the variance is 0 (complete separation gives
        AUC = 1) the interval is the point and ``degenerate`` is set.

    >>> ci = auc_ci([5, 6, 7], [1, 2, 3])
    >>> (ci.auc, ci.low, ci.high, ci.degenerate)
    (1.0, 1.0, 1.0, True)
    """
    z = _z(confidence)
    v10, v01 = delong_placements(member_scores, nonmember_scores)
    auc, var = _delong_moments(v10, v01)
    se = math.sqrt(max(var, 0.0))
    low, high = _delong_bounds(auc, se, z, scale)
    return AucInterval(
        auc=auc, low=low, high=high, se=se, confidence=confidence, method=f"delong-{scale}",
        n_members=int(v10.size), n_nonmembers=int(v01.size), degenerate=se == 0.0,
    )


def _boot_aucs(pos: np.ndarray, neg: np.ndarray, n_boot: int, rng: np.random.Generator
               ) -> np.ndarray:
    m, n = pos.size, neg.size
    chunk = max(1, _BOOT_CHUNK_CELLS // (m + n))
    out = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        sample = np.concatenate([pos[rng.integers(0, m, (b, m))],
                                 neg[rng.integers(0, n, (b, n))]], axis=1)
        ranks = stats.rankdata(sample, axis=1)
        out[start:start + b] = (ranks[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (m * n)
    return out


def auc_ci_bootstrap(
    member_scores: np.ndarray,
    nonmember_scores: np.ndarray,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> AucInterval:
    """The AUC with a stratified percentile-bootstrap confidence interval.

    Members and non-members are resampled with replacement *separately*, keeping both
    group sizes, so every replicate has the design of the original sample.

    Args:
        member_scores: scores of the members, higher means "member".
        nonmember_scores: scores of the non-members.
        confidence: two-sided coverage.
        n_boot: number of bootstrap replicates (at least 100).
        seed: seeds the resampling; the interval is reproducible from it.

    Raises:
        InputError: on empty or non-finite scores, fewer than 100 replicates, or a
            confidence outside (0, 1).

    Notes:
        Percentile interval of Efron & Tibshirani (1993), "An Introduction to the
        Bootstrap", ch. 13, with stratified resampling as in R's pROC
        ``ci.auc(method = "bootstrap")`` (Robin et al. 2011, BMC Bioinformatics 12:77).
        ``se`` is the standard deviation of the replicates.
    """
    _z(confidence)
    if n_boot < 100:
        raise InputError(f"the bootstrap needs at least 100 replicates, got {n_boot}")
    pos, neg = _scores(member_scores, nonmember_scores)
    aucs = _boot_aucs(pos, neg, n_boot, np.random.default_rng(seed))
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(aucs, [tail, 1.0 - tail])
    se = float(aucs.std(ddof=1))
    return AucInterval(
        auc=roc_auc(pos, neg), low=float(low), high=float(high), se=se, confidence=confidence,
        method="bootstrap-percentile", n_members=int(pos.size), n_nonmembers=int(neg.size),
        degenerate=se == 0.0,
    )

