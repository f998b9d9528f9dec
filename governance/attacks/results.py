"""The result of one membership attack, and the one function that scores an attack.

``score_membership`` turns member and non-member scores into every reported metric, so
all attacks report the same figures computed the same way; its sanity checks (in the
spirit of anonymeter's ``EvaluationResults._sanity_check``) become strings in
``notes`` and ``warnings`` rather than Python warnings unless ``warn=True``.
"""

from __future__ import annotations

import warnings as pywarnings
from typing import Any

import numpy as np
from pydantic import model_validator

from governance.attacks.stats.auc_ci import AucInterval, auc_ci
from governance.attacks.stats.epsilon import EpsilonAudit, half_split_epsilon
from governance.attacks.stats.roc import (
    membership_advantage,
    min_nonmembers_for_fpr,
    null_auc_se,
    roc_auc,
    tpr_at_fpr,
)
from governance.attacks.stats.tpr_ci import TprAtFpr, tpr_ci
from governance.core.errors import UntrustedSignalWarning
from governance.core.types import Record, rename_keys

HIGH_DUPLICATE_RATE = 0.05
NOISE_SE = 2.0
CONFIDENCE = 0.95  # two-sided coverage of the AUC and TPR intervals


class MembershipResult(Record):
    """Every figure one membership attack reports (see ``score_membership``).

    ``auc_ci`` is DeLong's 95 % interval on ``auc``; ``tpr_at_1pct_ci`` and
    ``tpr_at_01pct_ci`` are the Clopper-Pearson intervals of the TPR at 1 % and 0.1 % FPR
    (``None`` where the FPR cannot be resolved), each with its own point ``tpr``: its
    threshold is strict (``score > c``), so with scores tied across the threshold it can
    sit below ``tpr_at_1pct``, which counts ties as flagged. Records stored before the
    intervals existed read with them ``None``.
    """

    attack: str
    auc: float
    tpr_at_1pct: float | None
    tpr_at_01pct: float | None
    tpr_notes: tuple[str, ...]
    advantage: float
    epsilon_estimate: float
    epsilon_detail: EpsilonAudit
    n_members: int
    n_nonmembers: int
    n_synthetic: int
    duplicate_rate: float
    exact_match_members: float
    exact_match_nonmembers: float
    subsampled: dict[str, Any] | None
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    auc_null_se: float
    n_reference: int | None = None
    auc_ci: AucInterval | None = None
    tpr_at_1pct_ci: TprAtFpr | None = None
    tpr_at_01pct_ci: TprAtFpr | None = None

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        return rename_keys(data, {"epsilon_lb": "epsilon_estimate",
                                  "epsilon_lb_detail": "epsilon_detail"})

    @property
    def trusted(self) -> bool:
        """False when a sanity check flagged the signal (see ``warnings``)."""
        return not self.warnings


def score_membership(
    attack: str,
    member_scores: np.ndarray,
    nonmember_scores: np.ndarray,
    *,
    n_synthetic: int,
    duplicate_rate: float,
    exact_match_members: float,
    exact_match_nonmembers: float,
    delta: float = 1e-5,
    seed: int = 0,
    subsampled: dict[str, Any] | None = None,
    notes: tuple[str, ...] = (),
    n_reference: int | None = None,
    warn: bool = False,
) -> MembershipResult:
    """Compute AUC, TPR at 1 % and 0.1 % FPR, advantage and the attack's epsilon estimate.

    Args:
        attack: the attack's name.
        member_scores: higher means "more likely a member".
        nonmember_scores: scores of the non-members.
        n_synthetic: synthetic rows attacked.
        duplicate_rate: fraction of non-members that exactly duplicate a member.
        exact_match_members: fraction of members with an exact copy in the synthetic data.
        exact_match_nonmembers: the same for non-members.
        delta: delta of the epsilon estimate.
        seed: seeds the half split of the epsilon estimate.
        subsampled: what was subsampled and how much, or ``None``.
        notes: attack-specific notes to keep.
        n_reference: rows of the real reference sample, for attacks that use one.
        warn: also emit every sanity warning as ``UntrustedSignalWarning``.
    """
    pos = np.asarray(member_scores, dtype=np.float64)
    neg = np.asarray(nonmember_scores, dtype=np.float64)
    auc = roc_auc(pos, neg)
    se = null_auc_se(pos.size, neg.size)
    tpr1, why1 = tpr_at_fpr(pos, neg, 0.01)
    tpr01, why01 = tpr_at_fpr(pos, neg, 0.001)
    tpr_notes = tuple(w for w in (why1, why01) if w)
    audit = half_split_epsilon(pos, neg, delta=delta, seed=seed)
    all_notes = list(notes)
    alerts = [f"{attack}: {w}; the metric could not be resolved" for w in tpr_notes]
    near_chance = abs(auc - 0.5) < NOISE_SE * se
    if near_chance and duplicate_rate >= HIGH_DUPLICATE_RATE:
        alerts.append(
            f"{attack}: AUC {auc:.3f} is within noise of 0.5 (2 SE = {NOISE_SE * se:.3f}) while "
            f"{duplicate_rate:.1%} of non-members exactly duplicate a member; such rows cannot "
            "be told apart by any attack, so a chance-level AUC is weak evidence of privacy"
        )
    elif near_chance:
        all_notes.append(
            f"AUC {auc:.3f} is within noise of 0.5 (2 SE = {NOISE_SE * se:.3f}): no evidence "
            "of membership leakage from this attack"
        )
    elif auc < 0.5:
        all_notes.append(
            f"AUC {auc:.3f} is significantly below 0.5: non-members look more member-like "
            "than members to this attack"
        )
    all_notes.append(
        "advantage is maximised over thresholds on the same scores (in-sample); the "
        "epsilon estimate picks its threshold on one half and counts on the other"
    )
    if warn:
        for alert in alerts:
            pywarnings.warn(alert, UntrustedSignalWarning, stacklevel=2)
    return MembershipResult(
        attack=attack, auc=auc, tpr_at_1pct=tpr1, tpr_at_01pct=tpr01, tpr_notes=tpr_notes,
        advantage=membership_advantage(pos, neg), epsilon_estimate=audit.epsilon_estimate,
        epsilon_detail=audit, n_members=int(pos.size),
        n_nonmembers=int(neg.size), n_synthetic=int(n_synthetic),
        duplicate_rate=float(duplicate_rate), exact_match_members=float(exact_match_members),
        exact_match_nonmembers=float(exact_match_nonmembers), subsampled=subsampled,
        notes=tuple(all_notes), warnings=tuple(alerts), auc_null_se=se,
        n_reference=n_reference, auc_ci=auc_ci(pos, neg, confidence=CONFIDENCE),
        tpr_at_1pct_ci=_tpr_interval(pos, neg, 0.01),
        tpr_at_01pct_ci=_tpr_interval(pos, neg, 0.001),
    )


def _tpr_interval(pos: np.ndarray, neg: np.ndarray, fpr: float) -> TprAtFpr | None:
    """TPR at ``fpr`` with its Clopper-Pearson interval, or ``None`` when unresolvable."""
    if neg.size < min_nonmembers_for_fpr(fpr):
        return None
    return tpr_ci(pos, neg, target_fpr=fpr, confidence=CONFIDENCE)
