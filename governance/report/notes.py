"""Plain notes that say how far each figure of a candidate can be trusted.

Nothing here computes a new statistic: the notes restate what the attack, utility and
fidelity records already hold (duplicate rates, unresolved TPRs, subsample sizes,
missing accountants) in sentences an approver can act on.
"""

from __future__ import annotations

import math

from governance.attacks.matching import auc_ceiling
from governance.attacks.results import HIGH_DUPLICATE_RATE
from governance.attacks.suite import AuditReport
from governance.evaluation.fidelity.evaluate import FidelityResult
from governance.generators.base import PrivacySpend
from governance.schemas.common import AttackOutcome, FidelityOutcome
from governance.schemas.runs import CandidatePublic

READING_GUIDE: tuple[str, ...] = (
    "Attack ROC AUC: 0.5 is a coin toss, 1.0 means every training row is recognised; "
    "the worst (largest) AUC over the attacks is reported.",
    "TPR at 1% / 0.1% FPR: the share of training rows an attack recognises while "
    "wrongly flagging only 1% / 0.1% of unseen rows (Carlini et al. 2022). Resolving a "
    "rate of 1/k needs at least k non-member rows; below that the figure is shown as "
    "n/a rather than guessed.",
    "Empirical epsilon estimate: the largest epsilon the attacks' held-out "
    "true/false-positive rates imply at their pessimistic Clopper-Pearson ends, each "
    "interval at alpha/k for k attacks (Bonferroni, family-wise alpha 0.05). It is an "
    "estimate for this release, not a lower bound on the mechanism's epsilon (one "
    "trained model is not independent trials). An estimate above the accountant's "
    "epsilon is a failed privacy audit; 0 only means these attacks found no evidence "
    "against the claim, not a proof of privacy.",
    "Epsilon spent is the accountant's figure as recorded (shown to 6 significant "
    "digits; the JSON report holds it exactly); the report never computes an epsilon of "
    "its own. Infinity marks a non-private generator.",
    "Utility: a panel of model families (linear, random forest, gradient boosting) is "
    "trained on the named rows and scored on two real splits the generators never saw: "
    "validation, which selects candidates and feeds the policy's gates, and eval, which "
    "only reports, so the reported figure of the chosen candidate is not biased upward by "
    "the choice. Lifts are scenario minus the real-only control with paired percentile "
    "bootstrap intervals (Efron & Tibshirani 1993); an interval that contains 0 is no "
    "evidence of a lift either way.",
    "Utility above chance is (TSTR - chance) / (control - chance): 1 keeps all of the "
    "real-only control's margin over chance, 0 is chance (a coin's ROC AUC of 0.5 scores 0 "
    "here but 0.74 as the raw ratio against a control of 0.675). The raw TSTR / control "
    "ratio is shown beside it and gates nothing; a candidate at or below chance is never "
    "eligible.",
)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def attack_notes(attack: AttackOutcome | None) -> list[str]:
    """Duplicate-rate, unresolved-TPR, subsampling and sanity notes of an attack record."""
    if not isinstance(attack, AuditReport):
        return []
    notes: list[str] = []
    dup = attack.duplicate_rate
    if dup > 0:
        strength = ("weak evidence" if dup >= HIGH_DUPLICATE_RATE
                    else "somewhat weaker evidence")
        notes.append(
            f"{_pct(dup)} of the non-member rows exactly equal a row of the train split. No "
            "attack can tell such a row from a member, so no attack's AUC can exceed "
            f"{auc_ceiling(dup):.3f} (1 - rate / 2) on this data, and the distance "
            "attacks (dcr, dcr_diff, nndr, exact_match) show even less: their AUC, TPR and "
            f"epsilon estimate understate a memorising generator, and a near-chance AUC "
            f"is {strength} of privacy.")
    unresolved: dict[str, list[str]] = {}
    for name, result in attack.results.items():
        for why in result.tpr_notes:
            unresolved.setdefault(why, []).append(name)
    for why, names in unresolved.items():
        notes.append(f"{why} for {', '.join(names)}: the TPR is shown as n/a, not estimated.")
    for name, result in attack.results.items():
        for role, amount in (result.subsampled or {}).items():
            notes.append(f"attack {name} used a seeded subsample of {amount.get('used')} of "
                         f"{amount.get('of')} {role} rows.")
    sizes = attack.sizes or {}
    members, train = sizes.get("members"), sizes.get("train")
    if members is not None and train is not None and members < train:
        notes.append(
            f"membership attacks used a seeded sample of {members} of the {train} "
            f"train rows as members and {sizes.get('nonmembers')} of the "
            f"{sizes.get('holdout')} holdout rows as non-members "
            f"({sizes.get('reference')} further holdout rows as the reference sample).")
    for result in attack.results.values():
        for warning in result.warnings:
            if "not enough samples" not in warning:
                notes.append(f"untrusted signal: {warning}")
    return notes


def fidelity_notes(fidelity: FidelityOutcome | None) -> list[str]:
    """How many rows each fidelity sub-metric used when it used fewer than it had."""
    if not isinstance(fidelity, FidelityResult):
        return []
    totals = {"real": fidelity.n_real, "synthetic": fidelity.n_synthetic}
    notes = []
    for name, entry in fidelity.entries.items():
        parts = []
        for side, total in totals.items():
            n = entry.rows_used.get(side)
            if n is not None and 0 < n < total:
                parts.append(f"{n} of {total} {side} rows")
        if parts:
            notes.append(f"fidelity {name} was computed on a seeded subsample of "
                         f"{' and '.join(parts)}.")
    return notes


def privacy_notes(privacy: PrivacySpend | None) -> list[str]:
    """Notes on how the recorded epsilon may be read."""
    if privacy is None:
        return []
    notes = [f"privacy record: {n}" for n in privacy.notes]
    spent = privacy.epsilon_spent
    if math.isinf(spent):
        notes.append("non-private candidate (epsilon = inf): it carries no differential "
                     "privacy guarantee; only the attacks speak to its risk.")
    elif not privacy.accountant:
        notes.append(f"the privacy record gives epsilon {spent:g} but names no accountant: "
                     "read it as the generator's claim, not an accounted figure.")
    if "NOT private" in privacy.preprocessing:
        notes.append("preprocessing read the private data (data-derived schema): the DP "
                     "guarantee does not hold.")
    if privacy.accountant_fallback_reason:
        notes.append(f"accountant fallback: {privacy.accountant_fallback_reason}")
    return notes


def candidate_notes(candidate: CandidatePublic) -> list[str]:
    """Every trust note of one candidate, in a fixed order (privacy, attack, fidelity)."""
    return (privacy_notes(candidate.privacy) + attack_notes(candidate.attack)
            + fidelity_notes(candidate.fidelity))
