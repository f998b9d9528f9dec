"""An empirical epsilon *estimate* from the confusion counts of ``k`` attacks.

This is **not** a lower bound on the mechanism's epsilon. The counts come from one
trained model, so member and non-member outcomes are not independent trials of the
mechanism (the multi-run construction of Jagielski et al. 2020 and Nasr et al. 2021
needs one training run per trial); the figure says how distinguishable members were
from non-members for this release. For a lower bound, run the one-run canary audit
(``one_run_audit``).

What it guards against is the multiplicity of taking the worst of ``k`` attacks: every
attack's TPR and FPR get two-sided Clopper-Pearson intervals at confidence ``1 - alpha /
k`` (Bonferroni), so each pessimistic end holds with probability ``1 - alpha / (2k)`` and
all ``2k`` ends used hold together with probability ``>= 1 - alpha``.

>>> est = empirical_epsilon([AttackCounts(name="a", tp=100, n_members=100, fp=0,
...                                       n_nonmembers=100)], delta=0.0)
>>> round(est.epsilon, 4), est.worst_attack
(3.2813, 'a')
"""

from __future__ import annotations

from collections.abc import Sequence

from governance.attacks.stats.epsilon import epsilon_from_rates
from governance.attacks.stats.multiplicity import bonferroni_alpha
from governance.attacks.stats.roc import clopper_pearson
from governance.core.errors import InputError
from governance.core.types import Record


class AttackCounts(Record):
    """One attack's confusion counts at a threshold fixed independently of these counts.

    The threshold must not have been tuned on the scores the counts come from (choose
    it on a held-out half, or by a rule fixed in advance); otherwise the intervals are
    optimistic.
    """

    name: str
    tp: int
    n_members: int
    fp: int
    n_nonmembers: int


class AttackEpsilon(Record):
    """One attack's pessimistic rates and the epsilon estimate they give."""

    name: str
    tpr_low: float
    fpr_high: float
    epsilon: float


class EmpiricalEpsilon(Record):
    """The estimate (maximum over attacks) and how it was corrected for multiplicity.

    Attributes:
        epsilon: ``max`` over attacks of each attack's estimate, at least 0.
        worst_attack: name of the attack that gives ``epsilon`` (``None`` when 0).
        attacks: per-attack figures, in input order.
        delta: the delta used in the estimate.
        alpha: family-wise error level across all attacks.
        family_size: ``k``, the number of attacks the correction divides by.
        per_attack_confidence: two-sided coverage of each interval, ``1 - alpha / k``.
        correction: ``"bonferroni"``.
    """

    epsilon: float
    worst_attack: str | None
    attacks: tuple[AttackEpsilon, ...]
    delta: float
    alpha: float
    family_size: int
    per_attack_confidence: float
    correction: str


def _check(c: AttackCounts) -> None:
    if c.n_members < 1 or c.n_nonmembers < 1:
        raise InputError(f"attack {c.name!r}: needs >= 1 member and >= 1 non-member, got "
                         f"{c.n_members} and {c.n_nonmembers}")
    if not (0 <= c.tp <= c.n_members and 0 <= c.fp <= c.n_nonmembers):
        raise InputError(f"attack {c.name!r}: counts out of range (tp={c.tp} of "
                         f"{c.n_members}, fp={c.fp} of {c.n_nonmembers})")


def attack_epsilon(c: AttackCounts, *, delta: float, confidence: float) -> AttackEpsilon:
    """One attack's estimate from two-sided Clopper-Pearson intervals at ``confidence``.

    Returns:
        ``epsilon = max(0, ln((TPR_lo - delta) / FPR_hi),
        ln((1 - FPR_hi - delta) / (1 - TPR_lo)))``, a term counting 0 when its argument
        is not a positive finite number. Both terms use the pessimistic ends (TPR low,
        FPR high): the second is ``(1 - FPR) / (1 - TPR)``, which is smallest when FPR is
        high and TPR low.

    Notes:
        The two inequalities every (epsilon, delta)-DP test satisfies,
        TPR <= e^eps FPR + delta and 1 - FPR <= e^eps (1 - TPR) + delta (Kairouz, Oh &
        Viswanath 2015, "The composition theorem for differential privacy", ICML),
        solved for epsilon; intervals of Clopper & Pearson (1934).
    """
    _check(c)
    tpr_low, _ = clopper_pearson(c.tp, c.n_members, confidence=confidence)
    _, fpr_high = clopper_pearson(c.fp, c.n_nonmembers, confidence=confidence)
    eps = epsilon_from_rates(float(tpr_low), float(fpr_high), delta=delta)
    return AttackEpsilon(name=c.name, tpr_low=float(tpr_low), fpr_high=float(fpr_high),
                         epsilon=eps)


def empirical_epsilon(
    counts: Sequence[AttackCounts],
    *,
    delta: float,
    alpha: float = 0.05,
    family_size: int | None = None,
) -> EmpiricalEpsilon:
    """The empirical epsilon estimate over ``k`` attacks, Bonferroni-corrected.

    Args:
        counts: one entry per attack, at thresholds fixed independently of the counts.
        delta: the delta of the guarantee the estimate is compared with.
        alpha: family-wise error level; each attack's intervals use ``alpha / k``.
        family_size: ``k``; defaults to ``len(counts)``. Pass a larger number when
            more comparisons were made than attacks listed (e.g. thresholds tried).

    Raises:
        InputError: with no attacks, counts out of range, ``family_size`` smaller
            than the number of attacks, alpha outside (0, 1) or delta outside [0, 1).

    Notes:
        Bonferroni rather than Holm, because the maximum needs *simultaneous* bounds
        (see ``multiplicity``).
    """
    if not counts:
        raise InputError("empirical_epsilon needs at least one attack's counts")
    if not 0.0 <= delta < 1.0:
        raise InputError(f"delta must lie in [0, 1), got {delta}")
    k = len(counts) if family_size is None else family_size
    if k < len(counts):
        raise InputError(f"family_size ({k}) cannot be below the number of attacks "
                         f"({len(counts)})")
    confidence = 1.0 - bonferroni_alpha(alpha, k)
    per_attack = tuple(attack_epsilon(c, delta=delta, confidence=confidence) for c in counts)
    worst = max(per_attack, key=lambda a: a.epsilon)
    return EmpiricalEpsilon(
        epsilon=worst.epsilon, worst_attack=worst.name if worst.epsilon > 0 else None,
        attacks=per_attack, delta=delta, alpha=alpha, family_size=k,
        per_attack_confidence=confidence, correction="bonferroni",
    )
