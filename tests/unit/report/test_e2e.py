"""Smoke test on the real run: evaluator, stored rows, read models and the report agree.

The records come from ``real_run.build_records``: two candidates of a small mixed table
went through ``CandidateEvaluator`` (membership audit, lift, fidelity, policy verdict),
were stored on ``Candidate`` rows as the runner stores them, with the frontier drawn by
``finish_frontier``, and are read back through ``candidate_public`` / ``run_public``.
"""

from __future__ import annotations

import json

import pytest

from governance.attacks.suite import DEFAULT_ATTACKS, AuditReport
from governance.report import render_run_json, render_run_report
from governance.schemas.runs import candidate_public
from tests.unit.report.real_run import AUDIT, GOOD


@pytest.mark.parametrize("cid", [GOOD, AUDIT])
def test_stored_rows_read_back_as_evaluated(records, cid):
    # Setup
    result = records.evaluations[cid]

    # Run
    read = candidate_public(records.rows[cid])

    # Assert
    for part in ("attack", "utility", "fidelity", "verdict"):
        assert getattr(read, part).as_dict() == getattr(result, part).as_dict()
    assert read.eligible is result.verdict.eligible


def test_report_of_real_records(records, run, candidates, png):
    # Run
    page = render_run_report(run=run, candidates=candidates, frontier_png=png)
    again = render_run_report(run=records.run(), candidates=records.candidates(),
                              frontier_png=png)
    doc = render_run_json(run=run, candidates=candidates, frontier_png=png)

    # Assert
    assert page == again
    json.dumps(doc, allow_nan=False)
    assert all(c.id in page for c in candidates)
    rows = {r["id"]: r for r in doc["overview"]}
    leaky, fresh = rows[AUDIT], rows[GOOD]
    assert leaky["failed_privacy_audit"] is True and "risk.privacy_audit" in leaky["violations"]
    assert "FAILED PRIVACY AUDIT: the empirical epsilon estimate" in page
    max_auc = records.loaded.policy.risk.max_attack_auc
    assert leaky["worst_attack_auc"] > 0.9 and leaky["errors"] == {}  # it copies its rows
    assert fresh["worst_attack_auc"] < max_auc and fresh["eligible"] is True
    assert fresh["failed_privacy_audit"] is False and fresh["errors"] == {}
    frontier = doc["frontier"]
    # The audit candidate copies train: each TSTR model is its control, utility exactly 1.
    points = {p["candidate_id"]: p for p in frontier["points"]}
    assert frontier["plot"]["embedded"] and GOOD in frontier["pareto"]
    assert points[AUDIT]["utility"] == pytest.approx(1.0)
    assert points[GOOD]["utility"] == pytest.approx(fresh["selection_ratio_above_chance"]["value"])
    assert len(frontier["points"]) == sum(c.status != "failed" for c in candidates)
    control = records.evaluator.control
    for m, score in control.eval.items():
        assert doc["control"]["models"][m]["primary"] == pytest.approx(score.primary)
        assert doc["control"]["models"][m]["validation_primary"] == pytest.approx(
            control.validation[m].primary)
    details = doc["candidates"][0]
    assert [a["attack"] for a in details["attack"]["attacks"]] == list(DEFAULT_ATTACKS)
    for row in details["attack"]["attacks"]:  # every AUC carries its DeLong interval
        low, high = row["auc_ci"]
        assert low <= row["auc"] <= high
    assert "AUC 95% CI (DeLong)" in page
    first = candidates[0]
    assert isinstance(first.attack, AuditReport)
    worst = max(first.attack.results.values(), key=lambda r: r.auc)
    assert worst.auc_ci is not None
    assert first.summary.worst_attack_auc_ci == (worst.auc_ci.low, worst.auc_ci.high)
    fpr = records.loaded.policy.risk.max_tpr_at_fpr
    assert first.attack.empirical_risk_fpr == (0.01 if fpr is None else fpr.fpr)
    assert first.summary.empirical_risk_ucb is not None
    assert first.summary.empirical_risk_ucb == first.attack.empirical_risk_ucb
    assert first.summary.empirical_risk_ucb >= max(
        r.tpr_at_1pct_ci.tpr for r in first.attack.results.values()
        if r.tpr_at_1pct_ci is not None)
    subgroups = set(records.loaded.policy.utility.subgroups)
    for model in details["utility"]["models"].values():
        assert set(model["scenarios"]["tstr"]["subgroups"]) == subgroups == {"sex"}
    assert "<td>sex</td><td>female</td>" in page
    assert "TPR at 0.100% FPR: not enough samples" in page and "n/a (not enough samples)" in page
    sizes = records.evaluator.attack_sizes
    assert f"membership attacks used a seeded sample of {sizes['members']} of the " \
           f"{sizes['train']} train rows" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
