"""Run the membership-attack suite on one candidate and judge it against its claim.

``run_membership_audit`` checks the inputs once, shares the expensive nearest-neighbour
searches between attacks, and reports the worst case over attacks. The candidate's
empirical epsilon estimate is ``empirical_epsilon`` over the attacks' held-out counts:
Clopper-Pearson intervals at ``alpha / k`` for ``k`` attacks (Bonferroni), so the worst
of ``k`` attacks is not read at 95 % each. It is an estimate, not a lower bound on the
mechanism's epsilon; an estimate above the claimed epsilon is a failed privacy audit.
"""

from __future__ import annotations

import math
import time
from typing import Any

import pandas as pd
from pydantic import model_validator

from governance.attacks.data import AttackData
from governance.attacks.disclosure import DisclosureReport
from governance.attacks.membership.base import MembershipAttack
from governance.attacks.membership.density import DomiasAttack
from governance.attacks.membership.distance import (
    DCRAttack,
    DCRDiffAttack,
    ExactMatchAttack,
    NNDRAttack,
)
from governance.attacks.membership.shadow import ShadowAttack, ShadowResult
from governance.attacks.results import MembershipResult
from governance.attacks.stats.empirical_epsilon import (
    AttackCounts,
    EmpiricalEpsilon,
    empirical_epsilon,
)
from governance.core.errors import InputError
from governance.core.types import InfFloat, Record, StageError, rename_keys
from governance.datasets.schema import Schema

ATTACKS: dict[str, type[MembershipAttack]] = {
    cls.name: cls
    for cls in (DCRAttack, DCRDiffAttack, NNDRAttack, ExactMatchAttack, DomiasAttack)
}
DEFAULT_ATTACKS = ("dcr", "dcr_diff", "nndr", "domias")
ALPHA = 0.05  # family-wise error level of the epsilon estimate across the attacks


class AuditReport(Record):
    """The suite's results and the worst case over its attacks.

    A run adds what it measured around the suite: ``disclosure`` (the risks a policy's
    ``max_disclosure_risk`` judges) with ``disclosure_detail`` (anonymeter's figures, or
    the error that stopped them), and ``sizes`` (the attacked samples and the splits).
    """

    results: dict[str, MembershipResult]
    worst_auc: float
    epsilon_estimate: float
    epsilon_estimate_detail: EmpiricalEpsilon | None = None
    worst_tpr_at_1pct: float | None
    duplicate_rate: float
    claimed_epsilon: InfFloat
    failed_audit: bool
    reasons: tuple[str, ...]
    seconds: float
    shadow: ShadowResult | None = None
    disclosure: dict[str, float] | None = None
    disclosure_detail: DisclosureReport | StageError | None = None
    sizes: dict[str, int] | None = None
    empirical_risk_ucb: float | None = None
    empirical_risk_fpr: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        return rename_keys(data, {"worst_epsilon_lb": "epsilon_estimate"})


def run_membership_audit(
    *,
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    reference: pd.DataFrame | None = None,
    seed: int = 0,
    attacks: tuple[str, ...] = DEFAULT_ATTACKS,
    delta: float = 1e-5,
    claimed_epsilon: float = math.inf,
    warn: bool = False,
    shadow: ShadowAttack | None = None,
) -> AuditReport:
    """Attack one synthetic candidate with every requested membership attack.

    Args:
        members: a sample of the train split (rows the generator saw).
        nonmembers: a same-size sample of the holdout split.
        synthetic: the candidate's rows.
        schema: the public-domain schema.
        reference: further holdout rows, disjoint from ``nonmembers``; attacks that need
            one (``dcr_diff``, ``domias``) are skipped, with a reason, without it.
        seed: seeds the epsilon estimate's half splits.
        attacks: names from ``ATTACKS``.
        delta: delta of the claimed guarantee and of the epsilon estimate.
        claimed_epsilon: the epsilon the candidate's accountant reported.
        warn: also emit sanity warnings as ``UntrustedSignalWarning``.
        shadow: an unevaluated ``ShadowAttack`` on the same candidate (policies with
            ``risk.audit_depth: shadow``); its two readings join ``results`` as
            ``"shadow"`` (over targets) and ``"shadow_runs"`` (held-out shadow runs), so
            the worst-case figures and the audit verdict include them.

    Returns:
        The report; ``failed_audit`` is True when the empirical epsilon estimate
        (Bonferroni-corrected across the attacks, family-wise alpha ``ALPHA``) exceeds
        ``claimed_epsilon``.

    Raises:
        InputError: for an unknown attack name or an invalid option.
        DatasetError: for frames that do not fit the schema.

    >>> from governance.datasets.schema import Schema
    >>> schema = Schema.model_validate(
    ...     {"columns": {"x": {"type": "numeric", "min": 0, "max": 1}}})
    >>> real = pd.DataFrame({"x": [i / 399 for i in range(400)]})
    >>> copied = real[::2]  # a "generator" that publishes its training rows
    >>> report = run_membership_audit(members=copied, nonmembers=real[1::2],
    ...     synthetic=copied, schema=schema, attacks=("dcr",), claimed_epsilon=1.0)
    >>> report.worst_auc, report.failed_audit
    (1.0, True)
    """
    started = time.perf_counter()
    unknown = [a for a in attacks if a not in ATTACKS]
    if unknown or not attacks:
        raise InputError(
            f"unknown attack(s) {unknown or '(none given)'}; choose from {sorted(ATTACKS)}"
        )
    if math.isnan(claimed_epsilon) or claimed_epsilon < 0:
        raise InputError(f"claimed_epsilon must be >= 0 (or inf), got {claimed_epsilon}")
    data = AttackData(members=members, nonmembers=nonmembers, synthetic=synthetic,
                      schema=schema, reference=reference, seed=seed)
    reasons: list[str] = []
    if "nndr" in attacks:
        data.nearest("synthetic", 2)  # one k=2 search serves dcr, dcr_diff and nndr
    results: dict[str, MembershipResult] = {}
    for name in dict.fromkeys(attacks):
        cls = ATTACKS[name]
        if cls.needs_reference and reference is None:
            reasons.append(f"{name} skipped: it needs a real reference sample (reference=)")
            continue
        results[name] = cls.from_data(data, seed=seed, delta=delta, warn=warn).evaluate().results()
    shadow_result = None
    if shadow is not None:
        shadow_result = shadow.evaluate().results()
        results["shadow"] = shadow_result.candidate
        results["shadow_runs"] = shadow_result.shadow_runs
    report = _report(results, data.duplicate_rate(), claimed_epsilon, reasons, started, delta)
    return report.model_copy(update={"shadow": shadow_result})


_TPR_CI_FIELDS = {0.01: "tpr_at_1pct_ci", 0.001: "tpr_at_01pct_ci"}


def empirical_risk_ucb(results: dict[str, MembershipResult], fpr: float) -> float | None:
    """The worst attack's one-sided 95 % upper confidence bound on its TPR at ``fpr``.

    Only the FPRs every attack records an interval for (1 % and 0.1 %) can be read;
    ``None`` for any other FPR, or when no attack could resolve ``fpr``.
    """
    field = _TPR_CI_FIELDS.get(fpr)
    if field is None:
        return None
    found = [ci.tpr_upper for r in results.values() if (ci := getattr(r, field)) is not None]
    return max(found) if found else None


def candidate_epsilon(results: dict[str, MembershipResult], *, delta: float,
                      alpha: float = ALPHA) -> EmpiricalEpsilon:
    """The candidate's empirical epsilon estimate over its attacks' held-out counts.

    Each attack contributes the confusion counts its half-split threshold gives on the
    held-out half; ``empirical_epsilon`` reads them at ``1 - alpha / k`` (Bonferroni).
    """
    counts = [AttackCounts(name=n, tp=r.epsilon_detail.tp,
                           n_members=r.epsilon_detail.tp + r.epsilon_detail.fn,
                           fp=r.epsilon_detail.fp,
                           n_nonmembers=r.epsilon_detail.fp + r.epsilon_detail.tn)
              for n, r in results.items()]
    return empirical_epsilon(counts, delta=delta, alpha=alpha)


def _report(
    results: dict[str, MembershipResult], duplicate_rate: float, claimed: float,
    reasons: list[str], started: float, delta: float,
) -> AuditReport:
    if not results:
        raise InputError("no attack could run; pass reference= or choose attacks that need none")
    worst_auc = max(r.auc for r in results.values())
    est = candidate_epsilon(results, delta=delta)
    tprs = [r.tpr_at_1pct for r in results.values() if r.tpr_at_1pct is not None]
    failed = est.epsilon > claimed
    if failed:
        who = [a.name for a in est.attacks if a.epsilon > claimed]
        reasons.insert(0, f"failed privacy audit: empirical epsilon estimate {est.epsilon:.3f} "
                          f"({', '.join(who)}; Clopper-Pearson at alpha/k = {ALPHA:g}/"
                          f"{est.family_size}, Bonferroni) exceeds the claimed epsilon "
                          f"{claimed:g}")
    for r in results.values():
        reasons.extend(r.warnings)
    return AuditReport(
        results=results, worst_auc=worst_auc, epsilon_estimate=est.epsilon,
        epsilon_estimate_detail=est,
        worst_tpr_at_1pct=max(tprs) if tprs else None, duplicate_rate=duplicate_rate,
        claimed_epsilon=claimed, failed_audit=failed, reasons=tuple(reasons),
        seconds=time.perf_counter() - started,
    )
