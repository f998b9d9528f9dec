"""One candidate's report content: its overview row and its detailed, JSON-ready record.

Every part (privacy, attack, utility, fidelity, verdict) is read defensively: a part
that is missing becomes ``{"error": None, "missing": True}`` and a part recorded as
``{"error": ...}`` keeps its error text, so the report shows why a figure is absent.
"""

from __future__ import annotations

from typing import Any

from governance.core.errors import InputError
from governance.report.notes import candidate_notes
from governance.report.values import as_dict, as_list, dig, error_of, interval, plain

SCENARIO_ORDER = ("control", "tstr", "augmented", "scarce", "scarce_augmented")
ATTACK_FIELDS = ("auc", "auc_null_se", "tpr_at_1pct", "tpr_at_01pct", "advantage",
                 "epsilon_lb", "n_members", "n_nonmembers", "n_synthetic", "duplicate_rate",
                 "exact_match_members", "exact_match_nonmembers", "subsampled", "tpr_notes",
                 "notes", "warnings")
PARTS = ("privacy", "attack", "utility", "fidelity", "verdict")
PRIVACY_FIELDS = ("epsilon_target", "epsilon_spent", "delta", "mechanism", "accountant",
                  "noise_multiplier", "steps", "sample_rate", "max_grad_norm", "epochs",
                  "preprocessing", "preprocessing_epsilon", "accountant_fallback_reason")


def goal_of(metric: str | None) -> str | None:
    """``"maximize"`` or ``"minimize"`` for a known metric key, else ``None``."""
    from governance.evaluation import get_metric

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


def _part(doc: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    raw = doc.get(key)
    status = {"error": error_of(raw), "missing": raw is None or raw == {}}
    return as_dict(raw), status


def _privacy(doc: dict[str, Any]) -> dict[str, Any]:
    raw, out = _part(doc, "privacy")
    out.update({k: raw.get(k) for k in PRIVACY_FIELDS if k in raw})
    out["notes"] = as_list(raw.get("notes"))
    return out


def _attack(doc: dict[str, Any]) -> dict[str, Any]:
    raw, out = _part(doc, "attack")
    for key in ("worst_auc", "worst_epsilon_lb", "worst_tpr_at_1pct", "duplicate_rate",
                "claimed_epsilon", "failed_audit", "sizes", "seconds"):
        out[key] = raw.get(key)
    out["reasons"] = as_list(raw.get("reasons"))
    out["attacks"] = []
    for name, result in as_dict(raw.get("results")).items():
        r = as_dict(result)
        row = {"attack": str(name), **{k: r.get(k) for k in ATTACK_FIELDS}}
        detail = as_dict(r.get("epsilon_lb_detail"))
        row["tpr_ci"], row["fpr_ci"] = detail.get("tpr_ci"), detail.get("fpr_ci")
        out["attacks"].append(row)
    return out


def _utility(doc: dict[str, Any], metric: str | None) -> dict[str, Any]:
    raw, out = _part(doc, "utility")
    metric = dig(raw, "task", "metric") or metric
    goal = goal_of(metric)
    scenarios = {"control": raw.get("control"), **as_dict(raw.get("scenarios"))}
    lifts = as_dict(raw.get("lifts"))
    out.update(metric=metric, goal=goal, n_eval=raw.get("n_eval"), n_boot=raw.get("n_boot"),
               model=raw.get("model"), candidate=raw.get("candidate"),
               utility_ratio=interval(raw.get("utility_ratio")),
               scarce_gain=interval(raw.get("scarce_gain")),
               summary=[str(s) for s in as_list(raw.get("summary"))])
    order = [s for s in SCENARIO_ORDER if s in scenarios] + [
        s for s in scenarios if s not in SCENARIO_ORDER]
    out["scenarios"] = {}
    for name in order:
        s = as_dict(scenarios[name])
        out["scenarios"][name] = {
            "primary": s.get("primary"), "metrics": as_dict(s.get("metrics")),
            "n_train": s.get("n_train"), "n_dropped": s.get("n_dropped"),
            "error": s.get("error"), "per_class": s.get("per_class"),
            "confusion": s.get("confusion"), "subgroups": as_dict(s.get("subgroups")),
        }
    out["lifts"] = {}
    for name in order:
        if name in lifts:
            per_metric = {str(m): interval(iv) for m, iv in as_dict(lifts[name]).items()}
            out["lifts"][name] = {"metrics": per_metric,
                                  "primary": per_metric.get(str(metric)),
                                  "reading": reading(per_metric.get(str(metric)), goal)}
    return out


def _fidelity(doc: dict[str, Any]) -> dict[str, Any]:
    raw, out = _part(doc, "fidelity")
    for key in ("n_real", "n_synthetic", "max_rows", "max_rows_manifold"):
        out[key] = raw.get(key)
    out["entries"] = {k: v for k, v in raw.items() if isinstance(v, dict)}
    return out


def _verdict(doc: dict[str, Any]) -> dict[str, Any]:
    raw, out = _part(doc, "verdict")
    out["eligible"] = raw.get("eligible", doc.get("eligible"))
    out["violations"] = [as_dict(v) for v in as_list(raw.get("violations"))]
    out["notes"] = as_list(raw.get("notes"))
    out["policy_sha256"] = raw.get("policy_sha256")
    return out


def candidate_detail(doc: Any, *, metric: str | None) -> dict[str, Any]:
    """The JSON-ready detail record of one candidate document.

    Args:
        doc: a ``candidate_view(c)`` document (any part may be missing or an error).
        metric: the run's primary metric, used when the utility record lacks its task.
    """
    doc = as_dict(doc)
    detail = {k: doc.get(k) for k in ("id", "run_id", "generator", "status", "epsilon_target",
                                      "epsilon_spent", "delta", "seed", "n_rows",
                                      "artifact_sha256", "fit_seconds", "error")}
    detail.update(privacy=_privacy(doc), attack=_attack(doc), utility=_utility(doc, metric),
                  fidelity=_fidelity(doc), verdict=_verdict(doc), notes=candidate_notes(doc))
    return plain(detail)  # type: ignore[no-any-return]


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
            for a in attack.get("attacks", []) for n in as_list(a.get("tpr_notes"))),
        "epsilon_lb": attack.get("worst_epsilon_lb"),
        "failed_privacy_audit": attack.get("failed_audit"),
        "tstr_primary": dig(utility, "scenarios", "tstr", "primary"),
        "utility_ratio": utility.get("utility_ratio"),
        "augmented_lift": dig(utility, "lifts", "augmented", "primary"),
        "metric": utility.get("metric"),
        "quality_score": dig(entries, "quality", "score"),
        "detection_auc": dig(entries, "detection", "roc_auc"),
        "eligible": verdict.get("eligible"),
        "violations": [v.get("clause") for v in verdict.get("violations", [])],
        "errors": errors,
    }
