"""The machine-readable report: JSON-ready, image-free, and the HTML report's content."""

from __future__ import annotations

import hashlib
import html
import json
import math

import pytest

from governance.report import REPORT_FORMAT, render_run_json, render_run_report

EVIL = "boom <script>alert('x')</script>"


def doc_of(run, candidates, png=None):
    return render_run_json(run=run, candidates=candidates, frontier_png=png)


def test_json_is_strict_json_without_images(run, candidates, png):
    # Setup
    candidates[0]["attack"]["results"]["dcr"]["auc_null_se"] = math.nan
    candidates[0]["fidelity"]["tails"]["quantiles"]["age"]["q01"]["real"] = math.inf

    # Run
    doc = doc_of(run, candidates, png)
    text = json.dumps(doc, allow_nan=False)

    # Assert
    assert doc["format"] == REPORT_FORMAT
    assert "base64" not in text and "data:image" not in text
    assert doc["frontier"]["plot"] == {"embedded": True, "problem": None,
                                       "sha256": hashlib.sha256(png).hexdigest()}
    assert doc["run"]["created_at"] == "2025-01-02T03:04:05+00:00"
    assert doc["candidates"][0]["attack"]["attacks"][0]["auc_null_se"] is None
    tails = doc["candidates"][0]["fidelity"]["entries"]["tails"]
    assert tails["quantiles"]["age"]["q01"]["real"] == "inf"


def test_overview_rows_hold_the_table_figures(run, candidates):
    # Run
    rows = {r["id"]: r for r in doc_of(run, candidates)["overview"]}

    # Assert
    good = rows["cand_good"]
    assert (good["worst_attack_auc"], good["tpr_at_1pct_fpr"], good["epsilon_lb"]) == (
        0.55, 0.02, 0.2)
    assert good["utility_ratio"] == {"value": 0.9, "ci_low": 0.86, "ci_high": 0.94}
    assert good["augmented_lift"] == {"value": 0.02, "ci_low": 0.01, "ci_high": 0.03}
    assert (good["tstr_primary"], good["quality_score"], good["detection_auc"]) == (
        0.72, 0.84, 0.61)
    assert (good["eligible"], good["violations"], good["errors"]) == (True, [], {})
    assert rows["cand_audit"]["failed_privacy_audit"] is True
    assert rows["cand_audit"]["violations"] == ["risk.privacy_audit"]
    assert rows["cand_broken"]["errors"] == {"attack": EVIL}
    assert rows["cand_broken"]["epsilon_spent"] == "inf"
    assert rows["cand_failed"]["errors"] == {"candidate": "fit crashed: <oom>"}
    assert rows["cand_failed"]["status"] == "failed"


def test_html_shows_the_json_content(run, candidates, png):
    # Run
    doc = doc_of(run, candidates, png)
    page = render_run_report(run=run, candidates=candidates, frontier_png=png)

    # Assert
    for detail in doc["candidates"]:
        assert detail["notes"] or detail["id"] in ("cand_failed",)
        for note in detail["notes"]:
            assert html.escape(note) in page
        for v in detail["verdict"]["violations"]:
            assert html.escape(v["message"]) in page
        for line in detail["utility"].get("summary", []):
            assert html.escape(line) in page


def test_json_is_deterministic(run, candidates, build):
    # Run
    first = doc_of(run, candidates)
    second = doc_of(build.run(candidates), candidates)

    # Assert
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)


def test_lift_readings_follow_the_metric_direction(run, candidates):
    # Setup: brier is an error metric, so a positive lift is worse
    lifts = candidates[0]["utility"]["lifts"]
    candidates[0]["utility"]["task"]["metric"] = "brier"
    lifts["augmented"]["brier"] = {"value": 0.02, "ci_low": 0.01, "ci_high": 0.03}
    lifts["tstr"]["brier"] = {"value": -0.02, "ci_low": -0.03, "ci_high": -0.01}

    # Run
    utility = doc_of(run, candidates)["candidates"][0]["utility"]

    # Assert
    assert utility["goal"] == "minimize"
    assert utility["lifts"]["augmented"]["reading"] == "worse than the real-only control"
    assert utility["lifts"]["tstr"]["reading"] == "better than the real-only control"
    assert utility["lifts"]["scarce"]["reading"] == "undefined"  # no brier lift recorded


def test_control_falls_back_to_the_candidates_record(run, candidates):
    # Setup
    del run["control"]

    # Run
    control = doc_of(run, candidates)["control"]

    # Assert
    assert control["source"] == "candidate utility" and control["primary"] == 0.8


@pytest.mark.parametrize(("given", "problem"), [
    (None, "no frontier plot was supplied"),
    (b"not a png", "the supplied frontier plot is not a PNG image; it is not embedded"),
    ("a string", "the supplied frontier plot is not a PNG image; it is not embedded"),
])
def test_frontier_problems_are_recorded(run, candidates, given, problem):
    # Run
    plot = doc_of(run, candidates, given)["frontier"]["plot"]

    # Assert
    assert plot == {"embedded": False, "sha256": None, "problem": problem}


def test_candidates_of_another_run_and_empty_runs_are_noted(run, candidates):
    # Setup
    candidates[1]["run_id"] = "run_other"

    # Run
    notes = doc_of(run, candidates)["notes"]
    empty = doc_of({"id": "run_empty"}, [])

    # Assert
    assert notes == ["candidate(s) cand_audit belong to another run"]
    assert empty["notes"] == ["this run has no candidates to report"]
    assert empty["title"] == "Run report run_empty" and empty["overview"] == []
