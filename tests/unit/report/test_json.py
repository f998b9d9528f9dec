"""The machine-readable report: JSON-ready, image-free, and the HTML report's content.

Every expected value is read from the run's real records (``real_run``), never typed in.
"""

from __future__ import annotations

import hashlib
import html
import json
import math

import pytest

from governance.attacks.suite import AuditReport
from governance.core.types import StageError
from governance.evaluation.downstream.metrics import get_metric
from governance.evaluation.fidelity.evaluate import FidelityResult
from governance.evaluation.lift.results import UtilityResult
from governance.evaluation.lift.summary import lift_sentence
from governance.policy import Verdict
from governance.report import REPORT_FORMAT, render_run_json, render_run_report
from tests.unit.report.real_run import AUDIT, BROKEN, EVIL, FAILED, GOOD, expected_reading


def doc_of(run, candidates, png=None):
    return render_run_json(run=run, candidates=candidates, frontier_png=png)


def test_json_is_strict_json_without_images(run, candidates, png):
    """NaN and infinity become JSON-safe values.

    The real records hold neither, so an undefined (NaN) null-model SE of the dcr attack
    and an infinite tail quantile, both of which the typed records admit, replace the
    good candidate's real values.
    """
    # Setup
    good = candidates[0]
    assert isinstance(good.attack, AuditReport) and isinstance(good.fidelity, FidelityResult)
    dcr = good.attack.results["dcr"].model_copy(update={"auc_null_se": math.nan})
    tails = good.fidelity.entries["tails"]
    column, quantiles = next(iter(tails.values["quantiles"].items()))
    q = next(iter(quantiles))
    moved = {**tails.values["quantiles"], column: {
        **quantiles, q: {**quantiles[q], "real": math.inf}}}
    candidates[0] = good.model_copy(update={
        "attack": good.attack.model_copy(update={"results": {**good.attack.results,
                                                             "dcr": dcr}}),
        "fidelity": good.fidelity.model_copy(update={"entries": {
            **good.fidelity.entries,
            "tails": tails.model_copy(update={"values": {**tails.values,
                                                         "quantiles": moved}})}})})

    # Run
    doc = doc_of(run, candidates, png)
    text = json.dumps(doc, allow_nan=False)

    # Assert
    assert doc["format"] == REPORT_FORMAT
    assert "base64" not in text and "data:image" not in text
    assert doc["frontier"]["plot"] == {"embedded": True, "problem": None,
                                       "sha256": hashlib.sha256(png).hexdigest()}
    assert doc["frontier"]["plot"]["sha256"] == run.plot_sha256  # the stored plot
    assert doc["run"]["created_at"] == run.created_at.isoformat()
    dcr_row = next(a for a in doc["candidates"][0]["attack"]["attacks"] if a["attack"] == "dcr")
    assert dcr_row["auc_null_se"] is None
    entry = doc["candidates"][0]["fidelity"]["entries"]["tails"]
    assert entry["quantiles"][column][q]["real"] == "inf"


def test_overview_rows_hold_the_table_figures(run, candidates):
    # Setup
    good, audit, broken, _ = candidates
    attack, utility, fidelity = good.attack, good.utility, good.fidelity
    assert isinstance(attack, AuditReport) and isinstance(utility, UtilityResult)
    assert isinstance(fidelity, FidelityResult)
    assert audit.verdict is not None and broken.verdict is not None

    # Run
    rows = {r["id"]: r for r in doc_of(run, candidates)["overview"]}

    # Assert
    row = rows[GOOD]
    assert (row["worst_attack_auc"], row["tpr_at_1pct_fpr"], row["epsilon_estimate"]) == (
        attack.worst_auc, attack.worst_tpr_at_1pct, attack.epsilon_estimate)
    assert row["tpr_at_1pct_fpr_unresolved"] is False
    # Selection figure from validation, reported figures from eval, under the run's rule.
    assert row["selection_ratio_above_chance"] == \
        utility.validation.panel["min"].ratio_above_chance.as_dict()
    assert row["ratio_above_chance"] == utility.eval.panel["min"].ratio_above_chance.as_dict()
    assert row["ratio_raw"] == utility.eval.panel["min"].ratio_raw.as_dict()
    assert row["augmented_lift"] == utility.eval.panel["min"].lift.as_dict()
    assert row["selection_ratio_above_chance"] != row["ratio_above_chance"]
    assert (row["aggregate"], row["metric"]) == ("min", utility.task.metric)
    assert (row["quality_score"], row["detection_auc"]) == (
        fidelity.value("quality", "score"), fidelity.value("detection", "roc_auc"))
    assert (row["epsilon_spent"], row["eligible"], row["violations"], row["errors"]) == (
        good.epsilon_spent, True, [], {})
    assert rows[AUDIT]["failed_privacy_audit"] is True
    assert rows[AUDIT]["violations"] == list(audit.verdict.clauses)
    assert "risk.privacy_audit" in rows[AUDIT]["violations"]
    assert rows[BROKEN]["errors"] == {"attack": EVIL}
    assert rows[BROKEN]["violations"] == list(broken.verdict.clauses)
    assert rows[BROKEN]["worst_attack_auc"] is None
    assert rows[FAILED]["errors"] == {"candidate": "fit crashed: <oom>"}
    assert (rows[FAILED]["status"], rows[FAILED]["epsilon_spent"]) == ("failed", "inf")
    assert rows[FAILED]["eligible"] is False  # the stored row's flag; it has no verdict


def test_unresolved_tpr_at_1pct_is_flagged(run, candidates, capped):
    # Setup: the good candidate's audit under an attack cap of 60 rows (see ``capped``)
    assert capped.worst_tpr_at_1pct is None
    candidates[0] = candidates[0].model_copy(update={"attack": capped})

    # Run
    row = doc_of(run, candidates)["overview"][0]

    # Assert
    assert row["tpr_at_1pct_fpr"] is None and row["tpr_at_1pct_fpr_unresolved"] is True


def test_html_shows_the_json_content(run, candidates, png):
    # Run
    doc = doc_of(run, candidates, png)
    page = render_run_report(run=run, candidates=candidates, frontier_png=png)

    # Assert
    for detail in doc["candidates"]:
        assert detail["notes"] or detail["id"] == FAILED
        for note in detail["notes"]:
            assert html.escape(note) in page
        for v in detail["verdict"]["violations"]:
            assert html.escape(v["message"]) in page
        for line in detail["utility"].get("summary", []):
            assert html.escape(line) in page


def test_json_is_deterministic(run, candidates, records):
    # Run: the second report reads the stored rows back afresh
    first = doc_of(run, candidates)
    second = doc_of(records.run(), records.candidates())

    # Assert
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)


@pytest.mark.parametrize("metric", ["roc_auc", "brier", "ece"])
def test_lift_readings_follow_the_metric_direction(run, candidates, metric):
    """Each lift is read as the evaluator's own summary sentence reads it.

    A record holds the lifts of every metric of the task kind; naming another primary
    metric in its task (as a run with that metric would) makes the report read those.
    ``brier`` and ``ece`` are error metrics: there a negative lift is the better one.
    Each of these metrics has at least one significant lift in the records (checked
    last), so the test cannot pass on "no significant difference" alone.
    """
    # Setup
    utilities = {}
    for i, c in enumerate(candidates[:2]):
        assert isinstance(c.utility, UtilityResult)
        task = c.utility.task.model_copy(update={"metric": metric})
        candidates[i] = c.model_copy(update={"utility": c.utility.model_copy(
            update={"task": task})})
        utilities[c.id] = c.utility

    # Run
    details = doc_of(run, candidates)["candidates"][:2]

    # Assert
    readings = []
    for detail in details:
        utility = detail["utility"]
        assert utility["metric"] == metric
        assert utility["goal"] == get_metric(metric).goal.value
        for model, scores in utilities[detail["id"]].eval.models.items():
            lifts = scores.lifts
            shown = utility["models"][model]["lifts"]
            assert list(shown) == list(lifts)
            for scenario, lift in shown.items():
                assert lift["primary"] == lifts[scenario][metric].as_dict()
                assert lift["reading"] == expected_reading(scenario, metric,
                                                           lifts[scenario][metric])
                readings.append(lift["reading"])
    assert any(r != "no significant difference from the real-only control" for r in readings)


def test_the_expected_readings_are_the_records_own_words(candidates):
    """``expected_reading`` reads the sentence the evaluator wrote into each record."""
    # Setup
    for c in candidates[:2]:
        assert isinstance(c.utility, UtilityResult)
        metric = c.utility.task.metric
        assert metric is not None

        # Run / Assert
        for model, scores in c.utility.eval.models.items():
            for scenario, lifts in scores.lifts.items():
                sentence = lift_sentence(scenario, metric, get_metric(metric).goal,
                                         lifts[metric], 0.95, model=model)
                assert sentence in c.utility.summary


@pytest.mark.parametrize(("error", "missing"), [
    (None, True),
    ("ValueError: <no rows>", False),
], ids=["never-fitted", "failed"])
def test_a_run_without_its_control_says_so(run, candidates, error, missing):
    """A run stores no control until it is fitted; ``RunPublic`` holds a failed fit as a
    ``StageError``, whose text the report keeps (regression: it was overwritten by the
    absent score's own ``error`` field)."""
    # Setup
    run = run.model_copy(update={"control": None if error is None else StageError(error=error)})

    # Run
    doc = doc_of(run, candidates)

    # Assert
    assert (doc["control"]["missing"], doc["control"]["error"]) == (missing, error)
    assert doc["control"]["models"] == {} and doc["control"]["source"] == "run"


@pytest.mark.parametrize(("given", "problem"), [
    (None, "no frontier plot was supplied"),
    (b"not a png", "the supplied frontier plot is not a PNG image; it is not embedded"),
], ids=["none", "not-png"])
def test_frontier_problems_are_recorded(run, candidates, given, problem):
    # Run
    frontier = doc_of(run, candidates, given)["frontier"]

    # Assert
    assert frontier["plot"] == {"embedded": False, "sha256": None, "problem": problem}
    assert frontier["points"] == run.as_dict()["frontier"]["points"]  # the table stays


def test_frontier_holds_the_stored_points(run, candidates, png):
    # Run
    frontier = doc_of(run, candidates, png)["frontier"]

    # Assert
    assert run.frontier is not None
    stored = run.frontier.as_dict()
    assert {k: frontier[k] for k in stored} == stored
    assert [p["candidate_id"] for p in frontier["points"]] == [
        c.id for c in candidates if c.status != "failed"]


def test_candidates_of_another_run_and_empty_runs_are_noted(run, candidates):
    # Setup
    candidates[1] = candidates[1].model_copy(update={"run_id": "run_other"})
    empty = run.model_copy(update={"id": "run_empty", "candidates": [], "frontier": None})

    # Run
    notes = doc_of(run, candidates)["notes"]
    doc = doc_of(empty, [])

    # Assert
    assert notes == [f"candidate(s) {candidates[1].id} belong to another run"]
    assert doc["notes"] == ["this run has no candidates to report"]
    assert doc["title"] == "Run report run_empty" and doc["overview"] == []
    assert doc["frontier"]["missing"] is True


def test_verdict_of_an_unverifiable_clause_is_marked(run, candidates):
    # Setup
    broken = candidates[2]
    assert isinstance(broken.verdict, Verdict)

    # Run
    verdict = doc_of(run, candidates)["candidates"][2]["verdict"]

    # Assert
    assert verdict["violations"] == [v.as_dict() for v in broken.verdict.violations]
    assert verdict["violations"] and all(v["unverifiable"] for v in verdict["violations"])
    assert all(v["observed"] is None for v in verdict["violations"])
    assert verdict["policy_sha256"] == run.policy_sha256
