"""Per-candidate evaluation inside a run: attacks, utility, fidelity, policy verdict.

Each part that fails becomes an entry with an ``error`` field instead of crashing the
run; the verdict then counts the clauses it could not verify as violations, so a
broken metric can never make a candidate look safe.
"""

from __future__ import annotations

import math
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance.datasets.schema import Schema
from governance.policy.decide import CandidateFacts, decide
from governance.policy.loader import LoadedPolicy
from governance.policy.models import Policy
from governance.services.datasets import Splits
from governance.store.models import Candidate, loads


@dataclass(frozen=True)
class Evaluation:
    """Everything recorded for one candidate after generation."""

    attack: dict[str, Any]
    attack_summary: dict[str, Any]
    utility: dict[str, Any]
    utility_summary: dict[str, Any]
    fidelity: dict[str, Any]
    verdict: dict[str, Any]
    seconds: dict[str, float]


def _error(exc: BaseException) -> dict[str, Any]:
    return {"error": traceback.format_exception_only(type(exc), exc)[-1].strip()}


class CandidateEvaluator:
    """Holds one run's fixed evaluation sets, the attack samples and the real-only control."""

    def __init__(self, *, splits: Splits, schema: Schema, task: dict[str, Any],
                 policy: LoadedPolicy, seed: int, attack_cap: int = 5000) -> None:
        from governance.evaluation import LiftEvaluator, TaskSpec

        self.schema, self.loaded, self.policy, self.seed = schema, policy, policy.policy, seed
        self.task = TaskSpec(**task)
        rng = np.random.default_rng(seed)
        holdout = splits.holdout.iloc[rng.permutation(len(splits.holdout))].reset_index(drop=True)
        n = int(min(attack_cap, len(holdout) // 2, len(splits.train)))
        self.members = splits.train.iloc[np.sort(rng.choice(len(splits.train), n, replace=False))]
        self.members = self.members.reset_index(drop=True)
        self.nonmembers = holdout.iloc[:n].reset_index(drop=True)
        self.reference = holdout.iloc[n:].reset_index(drop=True)
        self.attack_sizes = {"members": n, "nonmembers": n, "reference": len(self.reference),
                             "train": len(splits.train), "holdout": len(splits.holdout)}
        self.lift = LiftEvaluator(train=splits.train, eval=splits.eval, schema=schema,
                                  task=self.task, seed=seed,
                                  subgroups=tuple(self.policy.utility.subgroups))
        self._control = self.lift.prepare().control()  # both real-only models, once per run

    def _disclosure(self, synthetic: pd.DataFrame) -> dict[str, Any]:
        """anonymeter's risks, or an error entry (the policy clause then fails)."""
        from governance.attacks import disclosure_risks

        try:
            d = disclosure_risks(ori=self.members, syn=synthetic, control=self.nonmembers,
                                 schema=self.schema, seed=self.seed)
        except ImportError as exc:
            return {"disclosure_detail": _error(exc)}
        return {"disclosure": d.summary(), "disclosure_detail": d.as_dict()}

    def control_dict(self) -> dict[str, Any]:
        """The real-only control, JSON-ready."""
        return self._control.as_dict()

    def evaluate(self, synthetic: pd.DataFrame, *, privacy: dict[str, Any],
                 generator_factory: Callable[[int], Any] | None = None) -> Evaluation:
        """Attack, score and judge one candidate.

        ``generator_factory(seed)`` returns a fresh, unfitted generator with the
        candidate's settings; the shadow-model attack needs it when the policy asks for
        ``audit_depth: shadow``.
        """
        from governance.attacks import run_membership_audit
        from governance.evaluation import evaluate_fidelity

        eps = privacy.get("epsilon_spent")
        claimed = math.inf if eps in (None, "inf") else float(eps)
        seconds: dict[str, float] = {}
        t = time.perf_counter()
        try:
            shadow = None
            if self.policy.risk.audit_depth == "shadow" and generator_factory is not None:
                from governance.attacks import ShadowAttack

                shadow = ShadowAttack(self.members, synthetic, self.nonmembers, self.schema,
                                      generator_factory=generator_factory,
                                      reference=self.reference, seed=self.seed)
            report = run_membership_audit(
                members=self.members, nonmembers=self.nonmembers, synthetic=synthetic,
                schema=self.schema, reference=self.reference if len(self.reference) else None,
                seed=self.seed, delta=float(privacy.get("delta") or 0.0) or 1e-5,
                claimed_epsilon=claimed, shadow=shadow)
            attack = report.as_dict()
            if self.policy.risk.max_disclosure_risk is not None:
                attack.update(self._disclosure(synthetic))
            attack["sizes"] = self.attack_sizes
            summary = {k: attack.get(k) for k in (
                "worst_auc", "worst_epsilon_lb", "worst_tpr_at_1pct", "duplicate_rate",
                "failed_audit")}
        except Exception as exc:
            attack, summary = _error(exc), _error(exc)
        seconds["attack"] = time.perf_counter() - t
        t = time.perf_counter()
        try:
            utility = self.lift.evaluate(synthetic).as_dict()
            usum = {"utility_ratio": utility.get("utility_ratio"),
                    "primary_metric": self.task.metric, "summary": utility.get("summary")}
        except Exception as exc:
            utility, usum = _error(exc), _error(exc)
        seconds["utility"] = time.perf_counter() - t
        t = time.perf_counter()
        try:
            fidelity = evaluate_fidelity(real=self.reference if len(self.reference) >= 50
                                         else self.nonmembers, synthetic=synthetic,
                                         schema=self.schema, seed=self.seed).as_dict()
        except Exception as exc:
            fidelity = _error(exc)
        seconds["fidelity"] = time.perf_counter() - t
        facts = candidate_facts(privacy=privacy, attack=attack, utility=utility,
                                policy=self.policy)
        verdict = decide(self.loaded, facts).as_dict()
        return Evaluation(attack, summary, utility, usum, fidelity, verdict, seconds)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    if value == "inf":
        return math.inf
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _spent(value: Any) -> float:
    spent = _num(value)
    return math.inf if spent is None else spent


_TPR_FIELDS = {0.01: "tpr_at_1pct", 0.001: "tpr_at_01pct"}


def worst_tpr(attack: dict[str, Any], fpr: float) -> float | None:
    """The largest TPR at ``fpr`` over the attacks; None if no attack could resolve it.

    Only the FPRs every attack reports (1% and 0.1%) can be read; any other FPR in a
    policy is unverifiable and so fails its clause.
    """
    field = _TPR_FIELDS.get(fpr)
    if field is None:
        return None
    values = [_num(r.get(field)) for r in (attack.get("results") or {}).values()]
    found = [v for v in values if v is not None]
    return max(found) if found else None


def worst_subgroup_gap(utility: dict[str, Any]) -> float | None:
    """The largest subgroup gap of the TSTR model over the policy's subgroup columns."""
    tstr = (utility.get("scenarios") or {}).get("tstr") or {}
    gaps = [_num(g.get("max_gap")) for g in (tstr.get("subgroups") or {}).values()
            if isinstance(g, dict)]
    found = [g for g in gaps if g is not None]
    return max(found) if found else None


def candidate_facts(*, privacy: dict[str, Any], attack: dict[str, Any],
                    utility: dict[str, Any], policy: Policy) -> CandidateFacts:
    """Collect the figures the policy judges, from the recorded JSON."""
    errors = [f"{part}: {d['error']}" for part, d in (("attack", attack), ("utility", utility))
              if "error" in d]
    ratio = utility.get("utility_ratio") or {}
    lifts = utility.get("lifts") or {}
    aug = (lifts.get("augmented") or {}).get(utility.get("task", {}).get("metric", ""), {})
    tpr = None
    if policy.risk.max_tpr_at_fpr is not None and "error" not in attack:
        fpr = policy.risk.max_tpr_at_fpr.fpr
        tpr = {fpr: worst_tpr(attack, fpr)}
    private_pre = "NOT private" not in str(privacy.get("preprocessing", ""))
    return CandidateFacts(
        generator=str(privacy.get("mechanism", "")),
        epsilon_spent=_spent(privacy.get("epsilon_spent")),
        delta=_num(privacy.get("delta")) or 0.0,
        worst_attack_auc=_num(attack.get("worst_auc")),
        tpr_at_fpr=tpr,
        epsilon_lb=_num(attack.get("worst_epsilon_lb")),
        failed_privacy_audit=bool(attack.get("failed_audit")),
        disclosure=attack.get("disclosure"),
        utility_ratio=_num(ratio.get("value")),
        utility_ratio_ci=(ratio.get("ci_low"), ratio.get("ci_high")) if ratio else None,
        lift=_num(aug.get("value")),
        subgroup_gap=worst_subgroup_gap(utility),
        preprocessing_private=private_pre,
        errors=errors,
    )


def finish_frontier(cands: list[Candidate], *, control: dict[str, Any], policy: Policy,
                    title: str) -> tuple[dict[str, Any], bytes]:
    """The Pareto set over (worst attack AUC, TSTR primary metric) and its plot."""
    from governance.frontier import FrontierPoint, pareto_front, plot_frontier

    points: list[FrontierPoint] = []
    for c in cands:
        if c.status == "failed":
            continue
        attack, utility = loads(c.attack_json) or {}, loads(c.utility_json) or {}
        tstr = ((utility.get("scenarios") or {}).get("tstr") or {}).get("primary")
        verdict = loads(c.verdict_json) or {}
        eps = math.inf if c.epsilon_spent is None else c.epsilon_spent
        points.append(FrontierPoint(
            candidate_id=c.id, label=c.generator, risk=_num(attack.get("worst_auc")),
            utility=_num(tstr), epsilon=eps, feasible=bool(verdict.get("eligible"))))
    front = pareto_front([p.risk for p in points], [p.utility for p in points])
    control_primary = _num(control.get("primary"))
    floor = (policy.utility.min_utility_ratio * control_primary
             if control_primary is not None else None)
    with tempfile.TemporaryDirectory() as tmp:
        path = plot_frontier(points, control_utility=control_primary,
                             max_risk=policy.risk.max_attack_auc, min_utility=floor,
                             path=Path(tmp) / "frontier.png", title=title)
        png = Path(path).read_bytes()
    table = [{"candidate_id": p.candidate_id, "generator": p.label,
              "epsilon": p.epsilon if math.isfinite(p.epsilon) else "inf", "risk": p.risk,
              "utility": p.utility, "feasible": p.feasible, "pareto": i in front}
             for i, p in enumerate(points)]
    return {"axes": {"risk": "worst membership-attack ROC AUC",
                     "utility": "TSTR primary metric on real eval"},
            "control": control_primary, "utility_floor": floor,
            "max_risk": policy.risk.max_attack_auc,
            "pareto": [points[i].candidate_id for i in front], "points": table}, png
