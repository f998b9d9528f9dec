"""Per-candidate evaluation inside a run: attacks, utility, fidelity, policy verdict.

Each part that fails becomes a ``StageError`` instead of crashing the run; the verdict
then counts the clauses it could not verify as violations, so a broken metric can never
make a candidate look safe.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from governance.attacks.disclosure import disclosure_risks
from governance.attacks.matching import auc_ceiling, duplicate_rate
from governance.attacks.membership.shadow import ShadowAttack
from governance.attacks.suite import AuditReport, empirical_risk_ucb, run_membership_audit
from governance.core.types import StageError
from governance.datasets.schema import Schema
from governance.datasets.splits import Splits
from governance.evaluation.fidelity.evaluate import evaluate_fidelity
from governance.evaluation.lift.evaluator import LiftEvaluator
from governance.evaluation.lift.results import ControlScores, UtilityResult
from governance.evaluation.lift.subgroups import worst_gap
from governance.evaluation.task import TaskSpec
from governance.generators.base import Generator, PrivacySpend
from governance.policy.decide import decide
from governance.policy.facts import CandidateFacts
from governance.policy.loader import LoadedPolicy
from governance.policy.models import Policy
from governance.schemas.common import AttackOutcome, FidelityOutcome, UtilityOutcome

GeneratorFactory = Callable[[int], Generator]


def stage_error(exc: BaseException) -> StageError:
    """The one-line record of a stage that raised."""
    return StageError(error=traceback.format_exception_only(type(exc), exc)[-1].strip())


@dataclass(frozen=True)
class Evaluation:
    """Everything recorded for one candidate after generation."""

    attack: AttackOutcome
    utility: UtilityOutcome
    fidelity: FidelityOutcome
    verdict: Any  # governance.policy.verdict.Verdict
    seconds: dict[str, float]

    def attack_summary(self) -> dict[str, Any]:
        """The attack figures the ``candidate.evaluated`` event carries."""
        if isinstance(self.attack, StageError):
            return {"error": self.attack.error}
        a = self.attack
        return {"worst_auc": a.worst_auc, "epsilon_estimate": a.epsilon_estimate,
                "worst_tpr_at_1pct": a.worst_tpr_at_1pct, "duplicate_rate": a.duplicate_rate,
                "auc_ceiling": auc_ceiling(a.duplicate_rate), "failed_audit": a.failed_audit}

    def utility_summary(self, metric: str | None) -> dict[str, Any]:
        """The utility figures the ``candidate.evaluated`` event carries."""
        if isinstance(self.utility, StageError):
            return {"error": self.utility.error}
        u = self.utility
        return {"primary_metric": metric, "aggregate": u.aggregate,
                "validation": u.selection.as_dict(), "eval": u.reported.as_dict(),
                "summary": list(u.summary)}


class CandidateEvaluator:
    """Holds one run's fixed evaluation sets, the attack samples and the real-only control."""

    def __init__(self, *, splits: Splits, schema: Schema, task: TaskSpec,
                 policy: LoadedPolicy, seed: int, attack_cap: int = 5000) -> None:
        self.schema, self.loaded, self.policy, self.seed = schema, policy, policy.policy, seed
        self.task = task
        rng = np.random.default_rng(seed)
        holdout = splits.holdout.iloc[rng.permutation(len(splits.holdout))].reset_index(drop=True)
        n = int(min(attack_cap, len(holdout) // 2, len(splits.train)))
        members = splits.train.iloc[np.sort(rng.choice(len(splits.train), n, replace=False))]
        self.members = members.reset_index(drop=True)
        self.nonmembers = holdout.iloc[:n].reset_index(drop=True)
        self.reference = holdout.iloc[n:].reset_index(drop=True)
        self.attack_sizes = {"members": n, "nonmembers": n, "reference": len(self.reference),
                             "train": len(splits.train), "holdout": len(splits.holdout)}
        # Against the whole train split, not the member sample: a non-member equal to any
        # train row is indistinguishable from a member (the sample understated this).
        self.duplicate_rate = duplicate_rate(self.nonmembers, splits.train, schema)
        self.lift = LiftEvaluator(train=splits.train, validation=splits.validation,
                                  eval=splits.eval, schema=schema, task=self.task, seed=seed,
                                  subgroups=tuple(self.policy.utility.subgroups),
                                  aggregate=self.policy.utility.aggregate)
        self.control: ControlScores = self.lift.prepare().control()  # once per run

    def evaluate(self, synthetic: pd.DataFrame, *, privacy: PrivacySpend,
                 generator_factory: GeneratorFactory | None = None) -> Evaluation:
        """Attack, score and judge one candidate.

        ``generator_factory(seed)`` returns a fresh, unfitted generator with the
        candidate's settings; the shadow-model attack needs it when the policy asks for
        ``audit_depth: shadow``.
        """
        seconds: dict[str, float] = {}
        t = time.perf_counter()
        attack = self._attack(synthetic, privacy, generator_factory)
        seconds["attack"] = time.perf_counter() - t
        t = time.perf_counter()
        utility: UtilityOutcome
        try:
            utility = self.lift.evaluate(synthetic)
        except Exception as exc:  # a failed stage is recorded, never fatal
            utility = stage_error(exc)
        seconds["utility"] = time.perf_counter() - t
        t = time.perf_counter()
        fidelity: FidelityOutcome
        try:
            real = self.reference if len(self.reference) >= 50 else self.nonmembers
            fidelity = evaluate_fidelity(real=real, synthetic=synthetic, schema=self.schema,
                                         seed=self.seed)
        except Exception as exc:  # a failed stage is recorded, never fatal
            fidelity = stage_error(exc)
        seconds["fidelity"] = time.perf_counter() - t
        facts = candidate_facts(privacy=privacy, attack=attack, utility=utility,
                                policy=self.policy)
        return Evaluation(attack, utility, fidelity, decide(self.loaded, facts), seconds)

    def _attack(self, synthetic: pd.DataFrame, privacy: PrivacySpend,
                generator_factory: GeneratorFactory | None) -> AttackOutcome:
        try:
            shadow = None
            if self.policy.risk.audit_depth == "shadow" and generator_factory is not None:
                shadow = ShadowAttack(self.members, synthetic, self.nonmembers, self.schema,
                                      generator_factory=generator_factory,
                                      reference=self.reference, seed=self.seed)
            report = run_membership_audit(
                members=self.members, nonmembers=self.nonmembers, synthetic=synthetic,
                schema=self.schema, reference=self.reference if len(self.reference) else None,
                seed=self.seed, delta=privacy.delta or 1e-5,
                claimed_epsilon=privacy.epsilon_spent, shadow=shadow)
        except Exception as exc:  # a failed stage is recorded, never fatal
            return stage_error(exc)
        limit = self.policy.risk.max_tpr_at_fpr
        fpr = RISK_FPR if limit is None else limit.fpr
        extra: dict[str, Any] = {"sizes": self.attack_sizes,
                                 "duplicate_rate": self.duplicate_rate,
                                 "empirical_risk_fpr": fpr,
                                 "empirical_risk_ucb": empirical_risk_ucb(report.results, fpr)}
        if self.policy.risk.max_disclosure_risk is not None:
            try:
                d = disclosure_risks(ori=self.members, syn=synthetic, control=self.nonmembers,
                                     schema=self.schema, seed=self.seed)
                extra.update(disclosure=d.summary(), disclosure_detail=d)
            except ImportError as exc:  # the optional extra is missing: the clause fails
                extra.update(disclosure_detail=stage_error(exc))
        return report.model_copy(update=extra)


_TPR_FIELDS = {0.01: "tpr_at_1pct", 0.001: "tpr_at_01pct"}
RISK_FPR = 0.01  # the FPR of ``empirical_risk_ucb`` when the policy names none


def worst_tpr(attack: AuditReport, fpr: float) -> float | None:
    """The largest TPR at ``fpr`` over the attacks; None if no attack could resolve it.

    Only the FPRs every attack reports (1% and 0.1%) can be read; any other FPR in a
    policy is unverifiable and so fails its clause.
    """
    field = _TPR_FIELDS.get(fpr)
    if field is None:
        return None
    found = [v for r in attack.results.values() if (v := getattr(r, field)) is not None]
    return max(found) if found else None


def utility_facts(utility: UtilityResult, policy: Policy) -> dict[str, Any]:
    """The validation figures per panel model that the policy's utility clauses read.

    Eval figures are reported, never gated: selecting on them would bias the reported
    figure of the chosen candidate upward (winner's curse).
    """
    val, metric = utility.validation, utility.task.metric or ""
    panel = val.panel[policy.utility.aggregate].ratio_above_chance
    lifts = {m: s.lifts.get("augmented", {}).get(metric) for m, s in val.models.items()}
    return {
        "ratio_above_chance": {m: s.ratio_above_chance.value for m, s in val.models.items()},
        "ratio_above_chance_ci": (panel.ci_low, panel.ci_high),
        "lift": {m: None if iv is None else iv.value for m, iv in lifts.items()},
        "subgroup_gap": {m: worst_gap(s.scenarios["tstr"]) for m, s in val.models.items()},
    }


def candidate_facts(*, privacy: PrivacySpend, attack: AttackOutcome, utility: UtilityOutcome,
                    policy: Policy) -> CandidateFacts:
    """Collect the figures the policy judges from a candidate's typed records."""
    errors = [f"{part}: {rec.error}" for part, rec in (("attack", attack), ("utility", utility))
              if isinstance(rec, StageError)]
    facts: dict[str, Any] = {}
    if isinstance(attack, AuditReport):
        tpr = None
        if policy.risk.max_tpr_at_fpr is not None:
            fpr = policy.risk.max_tpr_at_fpr.fpr
            tpr = {fpr: worst_tpr(attack, fpr)}
        facts.update(worst_attack_auc=attack.worst_auc, tpr_at_fpr=tpr,
                     epsilon_estimate=attack.epsilon_estimate,
                     failed_privacy_audit=attack.failed_audit,
                     disclosure=attack.disclosure)
    if isinstance(utility, UtilityResult):
        facts.update(utility_facts(utility, policy))
    return CandidateFacts(
        generator=privacy.mechanism, epsilon_spent=privacy.epsilon_spent,
        delta=privacy.delta or 0.0,
        preprocessing_private="NOT private" not in privacy.preprocessing,
        reproducible_noise=privacy.reproducible_noise,
        errors=errors, **facts)
