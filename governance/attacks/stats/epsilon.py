"""One attack's empirical epsilon estimate from membership scores, with exact intervals.

The figure is an *estimate*, not a lower bound on the mechanism's epsilon: the scores
come from one trained model, so members are not independent trials of the mechanism
(only the one-run canary audit, ``one_run_audit``, gives a lower bound). The threshold
is chosen on one half of the data and the counts are read on the other half, so the
choice of threshold cannot overfit the counts; those held-out counts are what
``empirical_epsilon`` combines across attacks.
A null attack (scores independent of membership) yields exactly 0 with high
probability, where picking the threshold and counting on the same scores does not.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import model_validator

from governance.attacks.stats.roc import clopper_pearson, roc_points
from governance.core.errors import InputError
from governance.core.types import InfFloat, Record, rename_keys


def epsilon_from_rates(tpr_low: float, fpr_high: float, *, delta: float) -> float:
    """The epsilon that (TPR, FPR) forces on any (epsilon, delta)-DP mechanism.

    Args:
        tpr_low: pessimistic (lower) end of the true-positive rate.
        fpr_high: pessimistic (upper) end of the false-positive rate.
        delta: the mechanism's delta.

    Returns:
        ``max(ln((tpr_low - delta) / fpr_high), ln((1 - fpr_high - delta) / (1 - tpr_low)),
        0)``, where a term whose argument is not a positive finite number counts as 0.

    Notes:
        Any (epsilon, delta)-DP mechanism satisfies TPR <= e^eps FPR + delta and
        1 - FPR <= e^eps (1 - TPR) + delta (Kairouz et al. 2015); solving for eps gives
        the two terms. Used as in Jagielski et al. (2020), "Auditing Differentially
        Private Machine Learning: How Private is Private SGD?" and Nasr et al. (2021),
        "Adversary Instantiation: Lower Bounds for Differentially Private Machine
        Learning".
    """
    terms = [0.0]
    for num, den in ((tpr_low - delta, fpr_high), (1.0 - fpr_high - delta, 1.0 - tpr_low)):
        if num > 0 and den > 0:
            value = math.log(num / den)
            if math.isfinite(value):
                terms.append(value)
    return max(terms)


class EpsilonAudit(Record):
    """One attack's estimate and everything needed to recompute it by hand."""

    epsilon_estimate: float
    threshold: InfFloat
    tp: int
    fn: int
    fp: int
    tn: int
    tpr_ci: tuple[float, float]
    fpr_ci: tuple[float, float]
    delta: float
    confidence: float
    selection: str

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        return rename_keys(data, {"epsilon_lb": "epsilon_estimate"})


def _best_threshold(pos: np.ndarray, neg: np.ndarray, *, delta: float, confidence: float
                    ) -> tuple[float, str]:
    roc = roc_points(pos, neg)
    tpr_low, _ = clopper_pearson(np.arange(pos.size + 1), pos.size, confidence=confidence)
    _, fpr_high = clopper_pearson(np.arange(neg.size + 1), neg.size, confidence=confidence)
    t_lo, f_hi = np.asarray(tpr_low)[roc.tp], np.asarray(fpr_high)[roc.fp]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where((t_lo - delta > 0) & (f_hi > 0), np.log((t_lo - delta) / f_hi), 0.0)
        b = np.where((1 - f_hi - delta > 0) & (1 - t_lo > 0),
                     np.log((1 - f_hi - delta) / (1 - t_lo)), 0.0)
    bound = np.maximum(np.maximum(a, b), 0.0)
    if bound.max() > 0:
        return float(roc.thresholds[int(bound.argmax())]), "max epsilon bound on selection half"
    gap = roc.tpr - roc.fpr
    return float(roc.thresholds[int(gap.argmax())]), "max TPR-FPR on selection half"


def half_split_epsilon(
    member_scores: np.ndarray,
    nonmember_scores: np.ndarray,
    *,
    delta: float = 1e-5,
    seed: int = 0,
    confidence: float = 0.95,
) -> EpsilonAudit:
    """Estimate, for one attack, how distinguishable members were (not a lower bound).

    Members and non-members are each split in two halves by a seeded permutation. On
    half A the threshold maximising the bound below is chosen (or, if every threshold
    gives 0 there, the one maximising TPR - FPR). On half B the confusion counts at that
    threshold give Clopper-Pearson intervals on TPR and FPR, and the pessimistic ends
    enter ``epsilon_from_rates``.

    Args:
        member_scores: scores of the members, higher means "member".
        nonmember_scores: scores of the non-members.
        delta: the delta of the claimed guarantee.
        seed: seeds the half split.
        confidence: two-sided coverage of each interval.

    Raises:
        InputError: with fewer than two members or two non-members.

    Notes:
        Jagielski et al. (2020), "Auditing Differentially Private Machine Learning: How
        Private is Private SGD?"; Nasr et al. (2021), "Adversary Instantiation: Lower
        Bounds for Differentially Private Machine Learning". Intervals are exact
        (Clopper & Pearson 1934) and two-sided, so each pessimistic end holds with
        probability 1 - (1 - confidence) / 2.
    """
    pos = np.asarray(member_scores, dtype=np.float64).ravel()
    neg = np.asarray(nonmember_scores, dtype=np.float64).ravel()
    if pos.size < 2 or neg.size < 2:
        raise InputError(
            f"the epsilon estimate splits each group in two halves and needs >= 2 members and "
            f">= 2 non-members (got {pos.size} and {neg.size}); pass larger samples"
        )
    if not 0.0 <= delta < 1.0:
        raise InputError(f"delta must lie in [0, 1), got {delta}")
    rng = np.random.default_rng(seed)
    pos, neg = pos[rng.permutation(pos.size)], neg[rng.permutation(neg.size)]
    pa, pb = pos[: pos.size // 2], pos[pos.size // 2 :]
    na, nb = neg[: neg.size // 2], neg[neg.size // 2 :]
    threshold, selection = _best_threshold(pa, na, delta=delta, confidence=confidence)
    tp = int((pb >= threshold).sum())
    fp = int((nb >= threshold).sum())
    tpr_ci = clopper_pearson(tp, pb.size, confidence=confidence)
    fpr_ci = clopper_pearson(fp, nb.size, confidence=confidence)
    eps = epsilon_from_rates(float(tpr_ci[0]), float(fpr_ci[1]), delta=delta)
    return EpsilonAudit(
        epsilon_estimate=eps, threshold=threshold, tp=tp, fn=int(pb.size - tp), fp=fp,
        tn=int(nb.size - fp), tpr_ci=(float(tpr_ci[0]), float(tpr_ci[1])),
        fpr_ci=(float(fpr_ci[0]), float(fpr_ci[1])), delta=delta, confidence=confidence,
        selection=selection,
    )
