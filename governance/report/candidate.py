"""One candidate's report content: its overview row and its detailed, JSON-ready record.

The input is the candidate's typed read model. A stage that never ran (a failed
generation) is ``{"error": None, "missing": True}`` and a stage that failed keeps its
error text, so the report shows why a figure is absent.
"""

from __future__ import annotations

from typing import Any

from governance.attacks.suite import AuditReport
from governance.core.errors import InputError
from governance.core.jsonsafe import to_jsonable
from governance.core.types import StageError
from governance.evaluation.downstream.metrics import get_metric
from governance.evaluation.fidelity.evaluate import FidelityResult
from governance.evaluation.lift.bootstrap import Interval
from governance.evaluation.lift.results import (
    ModelScores,
    PanelSummary,
    ScenarioScore,
    UtilityResult,
)
from governance.report.notes import candidate_notes
from governance.schemas.runs import CandidatePublic

SCENARIO_ORDER = ("control", "tstr", "augmented", "scarce", "scarce_augmented")
SCENARIO_FIELDS = ("primary", "metrics", "n_train", "n_dropped", "error", "per_class",
                   "confusion", "subgroups")
ATTACK_FIELDS = ("auc", "auc_null_se", "tpr_at_1pct", "tpr_at_01pct", "advantage",
                 "epsilon_estimate", "n_members", "n_nonmembers", "n_synthetic", "duplicate_rate",
                 "exact_match_members", "exact_match_nonmembers", "subsampled", "tpr_notes",
                 "notes", "warnings")
PARTS = ("privacy", "attack", "utility", "fidelity", "verdict")
PRIVACY_FIELDS = ("epsilon_target", "epsilon_spent", "delta", "mechanism", "accountant",
                  "noise_multiplier", "steps", "sample_rate", "max_grad_norm", "epochs",
                  "preprocessing", "preprocessing_epsilon", "accountant_fallback_reason")


def goal_of(metric: str | None) -> str | None:
    """``"maximize"`` or ``"minimize"`` for a known metric key, else ``None``."""
    try:
        return get_metric(str(metric)).goal.value
    except InputError:
        return None


def reading(lift: dict[str, float | None] | None, goal: str | None) -> str:
    """Say plainly whether a lift interval is better, worse or no different from 0."""
    lift = lift or {}
    value, low, high = lift.get("value"), lift.get("ci_low"), lift.get("ci_high")
    if value is None or low is None or high is None:
        return "undefined"
    if goal is None:
        return "direction unknown (unrecognised metric)"
    up, down = low > 0, high < 0
    better, worse = (up, down) if goal == "maximize" else (down, up)
    if better:
        return "better than the real-only control"
    if worse:
        return "worse than the real-only control"
    return "no significant difference from the real-only control"


def _status(part: Any) -> dict[str, Any]:
    return {"error": part.error if isinstance(part, StageError) else None,
            "missing": part is None}


def _privacy(c: CandidatePublic) -> dict[str, Any]:
    out = _status(c.privacy)
    if c.privacy is not None:
        record = c.privacy.as_dict()
        out.update({k: record[k] for k in PRIVACY_FIELDS})
    out["notes"] = list(c.privacy.notes) if c.privacy is not None else []
    return out


def _attack(c: CandidatePublic) -> dict[str, Any]:
    out = _status(c.attack)
    report = c.attack if isinstance(c.attack, AuditReport) else None
    record = report.as_dict() if report is not None else {}
    for key in ("worst_auc", "epsilon_estimate", "epsilon_estimate_detail", "worst_tpr_at_1pct",
                "duplicate_rate",
                "claimed_epsilon", "failed_audit", "sizes", "seconds"):
        out[key] = record.get(key)
    out["reasons"] = list(report.reasons) if report is not None else []
    out["attacks"] = []
    for name, result in (report.results if report is not None else {}).items():
        r = result.as_dict()
        row = {"attack": name, **{k: r[k] for k in ATTACK_FIELDS}}
        row["tpr_ci"], row["fpr_ci"] = r["epsilon_detail"]["tpr_ci"], r["epsilon_detail"][
            "fpr_ci"]
        row.update(_figure_intervals(r))
        out["attacks"].append(row)
    return out


def _figure_intervals(r: dict[str, Any]) -> dict[str, Any]:
    """The 95 % intervals of one attack's AUC (DeLong) and TPRs (Clopper-Pearson)."""
    out: dict[str, Any] = {}
    auc = r.get("auc_ci")
    out["auc_ci"] = None if auc is None else [auc["low"], auc["high"]]
    for key in ("tpr_at_1pct_ci", "tpr_at_01pct_ci"):
        iv = r.get(key)
        out[key] = None if iv is None else {"tpr": iv["tpr"], "ci": [iv["tpr_low"],
                                                                     iv["tpr_high"]]}
    return out


def _interval(iv: Interval | None) -> dict[str, Any] | None:
    return None if iv is None else iv.as_dict()


def _panel(summary: PanelSummary | None) -> dict[str, Any] | None:
    return None if summary is None else summary.as_dict()


def _model(scores: ModelScores, selection: ModelScores | None, metric: str | None,
           goal: str | None, estimator: Any) -> dict[str, Any]:
    """One panel model's reported (eval) figures, with the validation figure beside them."""
    scenarios: dict[str, ScenarioScore] = {"control": scores.control, **scores.scenarios}
    order = [s for s in SCENARIO_ORDER if s in scenarios] + [
        s for s in scenarios if s not in SCENARIO_ORDER]
    out: dict[str, Any] = {
        "estimator": estimator, "ratio_raw": scores.ratio_raw.as_dict(),
        "ratio_above_chance": scores.ratio_above_chance.as_dict(),
        "selection_ratio_above_chance": _interval(
            selection.ratio_above_chance if selection else None),
        "scarce_gain": scores.scarce_gain.as_dict(), "scenarios": {}, "lifts": {}}
    for name in order:
        s = scenarios[name].as_dict()
        out["scenarios"][name] = {k: s[k] for k in SCENARIO_FIELDS}
        if name in scores.lifts:
            per_metric = {m: iv.as_dict() for m, iv in scores.lifts[name].items()}
            out["lifts"][name] = {"metrics": per_metric,
                                  "primary": per_metric.get(str(metric)),
                                  "reading": reading(per_metric.get(str(metric)), goal)}
    return out


def _utility(c: CandidatePublic, metric: str | None) -> dict[str, Any]:
    out = _status(c.utility)
    u = c.utility if isinstance(c.utility, UtilityResult) else None
    metric = (u.task.metric if u is not None else None) or metric
    goal = goal_of(metric)
    out.update(metric=metric, goal=goal, chance_rule=u.chance_rule if u else None,
               aggregate=u.aggregate if u else None, n_boot=u.n_boot if u else None,
               panel=u.models if u else {}, candidate=u.candidate if u else None,
               splits={s.split: {"n_rows": s.n_rows, "chance": s.chance}
                       for s in ((u.validation, u.eval) if u else ())},
               selection=_panel(u.selection if u else None),
               reported=_panel(u.reported if u else None),
               summary=list(u.summary) if u else [])
    out["models"] = {} if u is None else {
        m: _model(s, u.validation.models.get(m), metric, goal, u.models.get(m, {}).get(
            "estimator")) for m, s in u.eval.models.items()}
    return out


def _fidelity(c: CandidatePublic) -> dict[str, Any]:
    out = _status(c.fidelity)
    f = c.fidelity if isinstance(c.fidelity, FidelityResult) else None
    for key in ("n_real", "n_synthetic", "max_rows", "max_rows_manifold"):
        out[key] = getattr(f, key) if f is not None else None
    out["entries"] = {k: e.as_dict() for k, e in f.entries.items()} if f is not None else {}
    return out


def _verdict(c: CandidatePublic) -> dict[str, Any]:
    out = _status(c.verdict)
    v = c.verdict
    out["eligible"] = v.eligible if v is not None else c.eligible
    out["violations"] = [x.as_dict() for x in v.violations] if v is not None else []
    out["notes"] = list(v.notes) if v is not None else []
    out["policy_sha256"] = v.policy_sha256 if v is not None else None
    return out


def candidate_detail(c: CandidatePublic, *, metric: str | None) -> dict[str, Any]:
    """The JSON-ready detail record of one candidate.

    Args:
        c: the candidate's read model (a failed stage is a ``StageError``; a stage that
            never ran is ``None``, shown as missing).
        metric: the run's primary metric, used when the utility record lacks its task.
    """
    detail: dict[str, Any] = {k: getattr(c, k) for k in (
        "id", "run_id", "generator", "status", "epsilon_target", "epsilon_spent", "delta",
        "seed", "n_rows", "artifact_sha256", "fit_seconds", "error")}
    detail.update(privacy=_privacy(c), attack=_attack(c), utility=_utility(c, metric),
                  fidelity=_fidelity(c), verdict=_verdict(c), notes=candidate_notes(c))
    out: dict[str, Any] = to_jsonable(detail)
    return out


def overview_row(detail: dict[str, Any]) -> dict[str, Any]:
    """The candidate table's row, read from a ``candidate_detail`` record."""
    attack, utility = detail["attack"], detail["utility"]
    fidelity, verdict = detail["fidelity"], detail["verdict"]
    entries = fidelity.get("entries", {})
    errors = {part: detail[part]["error"] for part in PARTS if detail[part]["error"]}
    if detail.get("error"):
        errors["candidate"] = detail["error"]
    return {
        "id": detail.get("id"), "generator": detail.get("generator"),
        "status": detail.get("status"), "epsilon_target": detail.get("epsilon_target"),
        "epsilon_spent": detail.get("epsilon_spent"),
        "worst_attack_auc": attack.get("worst_auc"),
        "tpr_at_1pct_fpr": attack.get("worst_tpr_at_1pct"),
        "tpr_at_1pct_fpr_unresolved": any(
            "1.000% FPR: not enough samples" in str(n)
            for a in attack.get("attacks", []) for n in a.get("tpr_notes") or []),
        "epsilon_estimate": attack.get("epsilon_estimate"),
        "failed_privacy_audit": attack.get("failed_audit"),
        "selection_ratio_above_chance": (utility.get("selection") or {}).get(
            "ratio_above_chance"),
        "ratio_above_chance": (utility.get("reported") or {}).get("ratio_above_chance"),
        "ratio_raw": (utility.get("reported") or {}).get("ratio_raw"),
        "augmented_lift": (utility.get("reported") or {}).get("lift"),
        "aggregate": utility.get("aggregate"),
        "metric": utility.get("metric"),
        "quality_score": entries.get("quality", {}).get("score"),
        "detection_auc": entries.get("detection", {}).get("roc_auc"),
        "eligible": verdict.get("eligible"),
        "violations": [v.get("clause") for v in verdict.get("violations", [])],
        "errors": errors,
    }
