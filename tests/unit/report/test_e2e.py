"""Smoke test on real shapes: the runner's evaluator, stored candidates and their views.

Two candidates of a small mixed table go through ``CandidateEvaluator`` (membership
audit, lift, fidelity, policy verdict), are stored on ``Candidate`` rows exactly as the
runner stores them, read back through ``candidate_view`` / ``run_view`` and reported,
with the frontier drawn by ``finish_frontier``.
"""

from __future__ import annotations

import json
import math

import pytest

from governance.generators.fake import FakeGenerator
from governance.policy import parse_policy
from governance.report import render_run_json, render_run_report
from governance.services.datasets import Splits
from governance.services.runs.evaluate import CandidateEvaluator, finish_frontier
from governance.services.views import candidate_view, run_view
from governance.store.models import Candidate, Run
from tests.utils.data import MIXED_SCHEMA, mixed_table

POLICY = "version: 1\nname: report-e2e\nutility:\n  subgroups: [sex]\n"


@pytest.fixture(scope="module")
def real_run():
    # Setup: real splits, a leaky candidate claiming epsilon 1 and an honest stand-in
    train, holdout = mixed_table(300, seed=1), mixed_table(300, seed=2)
    splits = Splits(train=train, holdout=holdout, eval=mixed_table(200, seed=3), split=None)
    loaded = parse_policy(POLICY, source="report-e2e")
    evaluator = CandidateEvaluator(splits=splits, schema=MIXED_SCHEMA,
                                   task={"target": "label"}, policy=loaded, seed=0)
    cands = []
    for cid, rows, eps in (("cand_leaky", train, 1.0),
                           ("cand_fresh", mixed_table(300, seed=9), math.inf)):
        privacy = FakeGenerator(rows=rows, epsilon=eps).fit(train, MIXED_SCHEMA).privacy()
        result = evaluator.evaluate(rows, privacy=privacy.as_dict())
        cands.append(Candidate(
            id=cid, run_id="run_e2e", idempotency_key=cid, generator="fake",
            epsilon_target=None if math.isinf(eps) else eps,
            epsilon_spent=None if math.isinf(eps) else eps, seed=0, status="evaluated",
            n_rows=len(rows), privacy_json=json.dumps(privacy.as_dict()),
            attack_json=json.dumps(result.attack), utility_json=json.dumps(result.utility),
            fidelity_json=json.dumps(result.fidelity), verdict_json=json.dumps(result.verdict),
            eligible=bool(result.verdict["eligible"])))
    control = evaluator.control_dict()
    frontier, png = finish_frontier(cands, control=control, policy=loaded.policy,
                                    title="report e2e")
    run = Run(id="run_e2e", dataset_id="ds_e2e", policy_sha256=loaded.sha256,
              task_json=json.dumps({"target": "label", "kind": "binary", "metric": "roc_auc"}),
              grid_json="[]", seed=0, status="succeeded", requested_by="alice",
              control_json=json.dumps(control), frontier_json=json.dumps(frontier))
    doc = run_view(None, run, candidates=False)  # type: ignore[arg-type]
    return doc, [candidate_view(c) for c in cands], png


def test_report_of_real_records(real_run):
    # Setup
    run, candidates, png = real_run

    # Run
    page = render_run_report(run=run, candidates=candidates, frontier_png=png)
    again = render_run_report(run=run, candidates=candidates, frontier_png=png)
    doc = render_run_json(run=run, candidates=candidates, frontier_png=png)

    # Assert
    assert page == again
    json.dumps(doc, allow_nan=False)
    assert "cand_leaky" in page and "cand_fresh" in page
    leaky, fresh = doc["overview"]
    assert leaky["failed_privacy_audit"] is True and "risk.privacy_audit" in leaky["violations"]
    assert "FAILED PRIVACY AUDIT: the empirical epsilon lower bound" in page
    assert fresh["epsilon_spent"] == "inf" and fresh["failed_privacy_audit"] is False
    assert leaky["worst_attack_auc"] > 0.9 and leaky["errors"] == {}
    assert doc["frontier"]["plot"]["embedded"] and len(doc["frontier"]["points"]) == 2
    assert doc["control"]["primary"] == pytest.approx(run["control"]["primary"])
    details = doc["candidates"][0]
    assert [a["attack"] for a in details["attack"]["attacks"]] == [
        "dcr", "dcr_diff", "nndr", "domias"]
    assert set(details["utility"]["scenarios"]["tstr"]["subgroups"]) == {"sex"}
    assert "<td>sex</td><td>female</td>" in page
    assert "TPR at 0.100% FPR: not enough samples" in page
    assert "n/a (not enough samples)" in page
    assert "membership attacks used a seeded sample of 150 of the 300 train rows" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
