"""Hand-built run and candidate documents in the shapes of ``governance.services.views``.

They copy the JSON the runner stores (``AuditReport.as_dict``, ``UtilityResult.as_dict``,
``FidelityResult.as_dict``, ``Verdict.as_dict``, ``PrivacySpend.as_dict``), small but
with every feature the report must explain: a failed privacy audit, a duplicate rate,
an unresolved TPR, subsampled attacks and fidelity, subgroups and a negative lift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from governance.report import render_run_report
from governance.report.charts import lift_png

EVIL = "boom <script>alert('x')</script>"


def _iv(value: float | None, low: float | None, high: float | None) -> dict[str, Any]:
    return {"value": value, "ci_low": low, "ci_high": high}


def _scenario(name: str, auc: float, n_train: int, *, subgroups: bool = True) -> dict[str, Any]:
    return {
        "name": name, "metrics": {"accuracy": auc - 0.05, "roc_auc": auc, "brier": 0.2},
        "primary": auc, "n_train": n_train, "n_dropped": 0, "error": None,
        "per_class": {"0": {"precision": 0.7, "recall": 0.6, "support": 140},
                      "1": {"precision": 0.65, "recall": 0.75, "support": 160}},
        "confusion": {"labels": [0, 1], "matrix": [[84, 56], [40, 120]]},
        "subgroups": {"sex": {"groups": {"female": {"value": auc - 0.02, "n": 150},
                                         "male": {"value": auc + 0.02, "n": 150}},
                              "max_gap": 0.04, "best": "male", "worst": "female"}}
        if subgroups else {},
    }


def _attack_result(name: str, auc: float, eps_lb: float) -> dict[str, Any]:
    return {
        "attack": name, "auc": auc, "tpr_at_1pct": 0.02, "tpr_at_01pct": None,
        "tpr_notes": ["TPR at 0.100% FPR: not enough samples (need >= 1000 non-members, "
                      "have 400)"],
        "advantage": 0.04, "epsilon_lb": eps_lb,
        "epsilon_lb_detail": {"epsilon_lb": eps_lb, "tpr_ci": [0.41, 0.52],
                              "fpr_ci": [0.38, 0.49]},
        "n_members": 400, "n_nonmembers": 400, "n_synthetic": 1000, "duplicate_rate": 0.08,
        "exact_match_members": 0.0, "exact_match_nonmembers": 0.0,
        "subsampled": {"members": {"used": 400, "of": 1200}},
        "notes": ["advantage is maximised over thresholds on the same scores (in-sample)"],
        "warnings": [], "auc_null_se": 0.02, "n_reference": 400,
    }


def make_candidate(cid: str, *, eps: float | str = 1.0, eps_lb: float = 0.2,
                   failed_audit: bool = False, aug_lift: tuple[float, float, float] = (
                       -0.03, -0.05, -0.01)) -> dict[str, Any]:
    """A fully evaluated candidate document (``candidate_view(c)``)."""
    violations = []
    if failed_audit:
        violations.append({
            "clause": "risk.privacy_audit", "limit": eps, "observed": eps_lb,
            "message": f"failed privacy audit: the empirical epsilon lower bound {eps_lb:.3g} "
                       f"exceeds the claimed epsilon {eps}; the DP implementation or its "
                       "accounting is broken, do not release", "unverifiable": False})
    attack = {
        "results": {"dcr": _attack_result("dcr", 0.55, eps_lb),
                    "domias": _attack_result("domias", 0.52, eps_lb / 2)},
        "worst_auc": 0.55, "worst_epsilon_lb": eps_lb, "worst_tpr_at_1pct": 0.02,
        "duplicate_rate": 0.08, "claimed_epsilon": eps, "failed_audit": failed_audit,
        "reasons": ([f"failed privacy audit: empirical epsilon lower bound {eps_lb:.3f} (dcr) "
                     f"exceeds the claimed epsilon {eps}"] if failed_audit else []),
        "seconds": 1.5, "sizes": {"members": 400, "nonmembers": 400, "reference": 400,
                                  "train": 1200, "holdout": 800},
    }
    utility = {
        "task": {"target": "label", "kind": "binary", "metric": "roc_auc", "model": "hgb"},
        "control": _scenario("control", 0.80, 1200),
        "scenarios": {"tstr": _scenario("tstr", 0.72, 1000),
                      "augmented": _scenario("augmented", 0.77, 2200),
                      "scarce": _scenario("scarce", 0.70, 60, subgroups=False),
                      "scarce_augmented": _scenario("scarce_augmented", 0.74, 1060,
                                                    subgroups=False)},
        "lifts": {"tstr": {"roc_auc": _iv(-0.08, -0.11, -0.05), "accuracy": _iv(-0.08, -0.1,
                                                                                -0.06)},
                  "augmented": {"roc_auc": _iv(*aug_lift)},
                  "scarce": {"roc_auc": _iv(-0.10, -0.16, -0.04)},
                  "scarce_augmented": {"roc_auc": _iv(None, None, None)}},
        "utility_ratio": _iv(0.9, 0.86, 0.94), "scarce_gain": _iv(0.04, -0.01, 0.09),
        "n_eval": 300, "n_boot": 200, "seed": 0,
        "model": {"name": "hgb", "hyperparameters": {}, "n_threads": 1},
        "candidate": {"n_rows": 1000, "issues": [], "violations": 0, "rows_with_violation": 0},
        "summary": ["augmentation (real train + synthetic) is worse than the real-only "
                    "control: roc_auc lift -0.030 [95% CI -0.050, -0.010]"],
    }
    fidelity = {
        "n_real": 12000, "n_synthetic": 1000, "seed": 0, "max_rows": 5000,
        "max_rows_manifold": 2000,
        "quality": {"name": "quality", "score": 0.84, "column_shapes": 0.9,
                    "column_pair_trends": 0.78, "shapes": {"age": {
                        "metric": "KSComplement", "score": 0.93, "error": None}},
                    "pair_trends": [], "pairs_scored": 0,
                    "rows_used": {"real": 5000, "synthetic": 1000}, "error": None},
        "detection": {"name": "detection", "roc_auc": 0.61, "sdmetrics_score": 0.78,
                      "fold_aucs": [0.6, 0.62], "folds": 2,
                      "rows_used": {"real": 5000, "synthetic": 1000}, "error": None},
        "manifold": {"name": "manifold", "rows_used": {"real": 2000, "synthetic": 1000},
                     "error": "InputError: manifold <failed>"},
        "tails": {"name": "tails", "quantiles": {"age": {"q01": {
            "real": 18.0, "synthetic": 19.0, "difference": 1.0, "scaled_difference": 1 / 73}}},
            "rare_categories": {"edu": {"other": {"real": 0.03, "synthetic": 0.01}}},
            "rare_threshold": 0.05, "rows_used": {"real": 5000, "synthetic": 1000},
            "error": None},
        "constraints": {"name": "constraints", "columns": {"age": {"invalid": 2, "missing": 0}},
                        "missing_columns": [], "extra_columns": [], "n_rows": 1000,
                        "rows_with_violation": 2, "total_violations": 2,
                        "rows_used": {"real": 0, "synthetic": 1000}, "error": None},
    }
    privacy = {"epsilon_target": eps, "epsilon_spent": eps, "delta": 1e-5,
               "mechanism": "dp-sgd", "accountant": "prv", "noise_multiplier": 1.1,
               "steps": 300, "sample_rate": 0.02, "max_grad_norm": 1.0,
               "preprocessing": "public-domain", "preprocessing_epsilon": 0.0, "notes": [],
               "accountant_fallback_reason": None, "epochs": 6}
    return {
        "id": cid, "run_id": "run_test", "generator": "dp_vae", "epsilon_target": eps,
        "epsilon_spent": eps, "delta": 1e-5, "seed": 0, "status": "evaluated",
        "eligible": not violations, "artifact_sha256": "ab" * 32, "n_rows": 1000,
        "fit_seconds": 2.5, "error": None, "summary": {},
        "privacy": privacy, "attack": attack, "utility": utility, "fidelity": fidelity,
        "verdict": {"eligible": not violations, "violations": violations, "notes": [],
                    "policy_sha256": "cd" * 32},
    }


def make_run(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``run_view`` document (with its summary candidate list)."""
    return {
        "id": "run_test", "dataset_id": "ds_test", "policy_sha256": "cd" * 32,
        "task": {"target": "label", "kind": "binary", "metric": "roc_auc", "model": "hgb"},
        "grid": [["dp_vae", "1"], ["dp_vae", "inf"]], "seed": 7, "status": "succeeded",
        "progress": 1.0, "message": "done", "requested_by": "alice", "executor": "local",
        "control": _scenario("control", 0.80, 1200), "plot_sha256": None, "error": None,
        "frontier": {"axes": {"risk": "worst membership-attack ROC AUC",
                              "utility": "TSTR primary metric on real eval"},
                     "control": 0.8, "utility_floor": 0.64, "max_risk": 0.6,
                     "pareto": [candidates[0]["id"]],
                     "points": [{"candidate_id": c["id"], "generator": c["generator"],
                                 "epsilon": c["epsilon_spent"], "risk": 0.55, "utility": 0.72,
                                 "feasible": bool(c.get("eligible")), "pareto": i == 0}
                                for i, c in enumerate(candidates)]},
        "created_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "started_at": datetime(2025, 1, 2, 3, 4, 6, tzinfo=UTC), "finished_at": None,
        "candidates": [{"id": c["id"]} for c in candidates],
    }


def make_candidates() -> list[dict[str, Any]]:
    """Four candidates: eligible, failed audit, attack error, generation failure."""
    good = make_candidate("cand_good", aug_lift=(0.02, 0.01, 0.03))
    audit = make_candidate("cand_audit", eps=1.0, eps_lb=3.2, failed_audit=True)
    broken = make_candidate("cand_broken", eps="inf")
    broken["attack"] = {"error": EVIL}
    broken["verdict"] = {"eligible": False, "notes": [], "violations": [{
        "clause": "risk.max_attack_auc", "limit": 0.6, "observed": None, "unverifiable": True,
        "message": f"cannot be verified because its metric failed: attack: {EVIL}; an "
                   "unverifiable clause never passes"}]}
    failed = {"id": "cand_failed", "run_id": "run_test", "generator": "ctgan",
              "epsilon_target": "inf", "epsilon_spent": "inf", "status": "failed",
              "error": "fit crashed: <oom>", "privacy": None, "attack": {}, "utility": {},
              "fidelity": None, "verdict": {}}
    return [good, audit, broken, failed]


@pytest.fixture
def candidates() -> list[dict[str, Any]]:
    """Fresh documents of the four candidates (a test may change them)."""
    return make_candidates()


@pytest.fixture
def run(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    return make_run(candidates)


@pytest.fixture(scope="session")
def png() -> bytes:
    """A real, small PNG to stand in for the frontier plot."""
    return lift_png({"tstr": _iv(0.1, 0.0, 0.2)}, metric="roc_auc")


@pytest.fixture(scope="session")
def page(png: bytes) -> str:
    """The report of the standard run, rendered once for the tests that only read it."""
    cands = make_candidates()
    return render_run_report(run=make_run(cands), candidates=cands, frontier_png=png)


@pytest.fixture(scope="session")
def build() -> Any:
    """The document factories: ``build.candidate(id, ...)`` and ``build.run(candidates)``."""
    return type("Build", (), {"candidate": staticmethod(make_candidate),
                              "run": staticmethod(make_run)})
