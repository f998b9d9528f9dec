"""Plain notes that say how far each figure of a candidate can be trusted.

Nothing here computes a new statistic: the notes restate what the attack, utility and
fidelity records already hold (duplicate rates, unresolved TPRs, subsample sizes,
missing accountants) in sentences an approver can act on.
"""

from __future__ import annotations

import math
from typing import Any

from governance.attacks.results import HIGH_DUPLICATE_RATE
from governance.report.values import as_dict, as_list, error_of, number

READING_GUIDE: tuple[str, ...] = (
    "Attack ROC AUC: 0.5 is a coin toss, 1.0 means every training row is recognised; "
    "the worst (largest) AUC over the attacks is reported.",
    "TPR at 1% / 0.1% FPR: the share of training rows an attack recognises while "
    "wrongly flagging only 1% / 0.1% of unseen rows (Carlini et al. 2022). Resolving a "
    "rate of 1/k needs at least k non-member rows; below that the figure is shown as "
    "n/a rather than guessed.",
    "Empirical epsilon lower bound: the smallest epsilon consistent with an attack's "
    "true/false-positive rates at 95% Clopper-Pearson confidence (Jagielski et al. "
    "2020). A bound above the accountant's epsilon is a failed privacy audit; a bound of "
    "0 only means these attacks found no evidence against the claim, not a proof of "
    "privacy.",
    "Epsilon spent is the accountant's figure as recorded (shown to 6 significant "
    "digits; the JSON report holds it exactly); the report never computes an epsilon of "
    "its own. Infinity marks a non-private generator.",
    "Utility: every model is trained on the named rows and scored on the same real "
    "eval split. Lifts are scenario minus the real-only control with paired percentile "
    "bootstrap intervals (Efron & Tibshirani 1993); the utility ratio is TSTR over the "
    "control. An interval that contains 0 is no evidence of a lift either way.",
)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def attack_notes(attack: Any) -> list[str]:
    """Duplicate-rate, unresolved-TPR, subsampling and sanity notes of an attack record."""
    if error_of(attack) is not None or not isinstance(attack, dict):
        return []
    notes: list[str] = []
    results = as_dict(attack.get("results"))
    dup = number(attack.get("duplicate_rate"))
    if dup is not None and dup > 0:
        strength = ("weak evidence" if dup >= HIGH_DUPLICATE_RATE
                    else "somewhat weaker evidence")
        notes.append(
            f"{_pct(dup)} of the non-member rows exactly duplicate a member row in the real "
            "data. No attack can tell such a pair apart, so this caps what the distance "
            "attacks (dcr, dcr_diff, nndr, exact_match) can show: their AUC, TPR and "
            f"epsilon lower bound understate a memorising generator, and a near-chance AUC "
            f"is {strength} of privacy.")
    unresolved: dict[str, list[str]] = {}
    for name, result in results.items():
        for why in as_list(as_dict(result).get("tpr_notes")):
            unresolved.setdefault(str(why), []).append(str(name))
    for why, names in unresolved.items():
        notes.append(f"{why} for {', '.join(names)}: the TPR is shown as n/a, not estimated.")
    for name, result in results.items():
        cut = as_dict(as_dict(result).get("subsampled"))
        for role, amount in cut.items():
            a = as_dict(amount)
            notes.append(f"attack {name} used a seeded subsample of {a.get('used')} of "
                         f"{a.get('of')} {role} rows.")
    sizes = as_dict(attack.get("sizes"))
    members, train = number(sizes.get("members")), number(sizes.get("train"))
    if members is not None and train is not None and members < train:
        notes.append(
            f"membership attacks used a seeded sample of {int(members)} of the {int(train)} "
            f"train rows as members and {sizes.get('nonmembers')} of the "
            f"{sizes.get('holdout')} holdout rows as non-members "
            f"({sizes.get('reference')} further holdout rows as the reference sample).")
    for name, result in results.items():
        for warning in as_list(as_dict(result).get("warnings")):
            if "not enough samples" not in str(warning):
                notes.append(f"untrusted signal: {warning}")
    return notes


def fidelity_notes(fidelity: Any) -> list[str]:
    """How many rows each fidelity sub-metric used when it used fewer than it had."""
    if error_of(fidelity) is not None or not isinstance(fidelity, dict):
        return []
    totals = {"real": number(fidelity.get("n_real")),
              "synthetic": number(fidelity.get("n_synthetic"))}
    notes = []
    for name, entry in fidelity.items():
        used = as_dict(as_dict(entry).get("rows_used"))
        parts = []
        for side, total in totals.items():
            n = number(used.get(side))
            if n is not None and total is not None and 0 < n < total:
                parts.append(f"{int(n)} of {int(total)} {side} rows")
        if parts:
            notes.append(f"fidelity {name} was computed on a seeded subsample of "
                         f"{' and '.join(parts)}.")
    return notes


def privacy_notes(privacy: Any) -> list[str]:
    """Notes on how the recorded epsilon may be read."""
    if error_of(privacy) is not None or not isinstance(privacy, dict):
        return []
    notes = [f"privacy record: {n}" for n in as_list(privacy.get("notes"))]
    spent = number(privacy.get("epsilon_spent"))
    if spent is not None and math.isinf(spent):
        notes.append("non-private candidate (epsilon = inf): it carries no differential "
                     "privacy guarantee; only the attacks speak to its risk.")
    elif spent is not None and not privacy.get("accountant"):
        notes.append(f"the privacy record gives epsilon {spent:g} but names no accountant: "
                     "read it as the generator's claim, not an accounted figure.")
    if "NOT private" in str(privacy.get("preprocessing", "")):
        notes.append("preprocessing read the private data (data-derived schema): the DP "
                     "guarantee does not hold.")
    if privacy.get("accountant_fallback_reason"):
        notes.append(f"accountant fallback: {privacy['accountant_fallback_reason']}")
    return notes


def candidate_notes(candidate: dict[str, Any]) -> list[str]:
    """Every trust note of one candidate, in a fixed order (privacy, attack, fidelity)."""
    return (privacy_notes(candidate.get("privacy")) + attack_notes(candidate.get("attack"))
            + fidelity_notes(candidate.get("fidelity")))
