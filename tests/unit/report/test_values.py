"""Known answers for the report's readers and formats, and its defensive rendering."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import numpy as np
import pytest

from governance.report import render_run_json, render_run_report
from governance.report.candidate import goal_of, reading
from governance.report.markup import esc, fmt, fmt_ci, fmt_eps, fmt_pct, tag
from governance.report.values import error_of, number, plain


@pytest.mark.parametrize(("value", "expected"), [
    ("inf", math.inf), ("-inf", -math.inf), (None, None), (math.nan, None), (True, None),
    (np.float32(0.5), 0.5), (np.int64(3), 3.0), ("0.3", None), ([1], None), (2, 2.0),
])
def test_number(value, expected):
    # Assert
    assert number(value) == expected


def test_plain_makes_strict_json():
    # Setup
    value = {1: (np.float64(math.inf), np.nan, np.bool_(True)), "a": np.arange(2),
             "t": datetime(2025, 1, 2, tzinfo=UTC), "d": date(2025, 1, 3), "b": b"xyz",
             "o": object}

    # Run
    out = plain(value)

    # Assert
    assert out == {"1": ["inf", None, True], "a": [0, 1], "t": "2025-01-02T00:00:00+00:00",
                   "d": "2025-01-03", "b": "<3 bytes>", "o": "<class 'object'>"}
    json.dumps(out, allow_nan=False)


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ({"error": None, "x": 1}, None), ({"error": ""}, None),
    ({"error": "boom"}, "boom"), ("text", "unreadable record of type str"),
    ([1], "unreadable record of type list"),
])
def test_error_of(value, expected):
    # Assert
    assert error_of(value) == expected


@pytest.mark.parametrize(("lift", "goal", "expected"), [
    ({"value": 0.02, "ci_low": 0.01, "ci_high": 0.03}, "maximize", "better"),
    ({"value": -0.02, "ci_low": -0.03, "ci_high": -0.01}, "maximize", "worse"),
    ({"value": 0.01, "ci_low": -0.01, "ci_high": 0.03}, "maximize", "no significant"),
    ({"value": 0.0, "ci_low": 0.0, "ci_high": 0.0}, "maximize", "no significant"),
    ({"value": 0.02, "ci_low": 0.01, "ci_high": 0.03}, "minimize", "worse"),
    ({"value": -0.02, "ci_low": -0.03, "ci_high": -0.01}, "minimize", "better"),
    ({"value": 0.02, "ci_low": None, "ci_high": 0.03}, "maximize", "undefined"),
    (None, "maximize", "undefined"),
    ({"value": 0.02, "ci_low": 0.01, "ci_high": 0.03}, None, "direction unknown"),
])
def test_reading_states_the_lift_plainly(lift, goal, expected):
    # Assert
    assert reading(lift, goal).startswith(expected)


@pytest.mark.parametrize(("metric", "goal"), [
    ("roc_auc", "maximize"), ("brier", "minimize"), ("rmse", "minimize"), ("nope", None),
    (None, None),
])
def test_goal_of(metric, goal):
    # Assert
    assert goal_of(metric) == goal


@pytest.mark.parametrize(("call", "expected"), [
    (lambda: fmt(0.12345), "0.123"), (lambda: fmt(1e-5), "1e-05"), (lambda: fmt(0.0), "0.000"),
    (lambda: fmt(None), "\u2014"), (lambda: fmt("inf"), "\u221e"), (lambda: fmt(False), "no"),
    (lambda: fmt("<x>"), "&lt;x&gt;"), (lambda: fmt_eps(0.99987654), "0.999877"),
    (lambda: fmt_eps("inf"), "\u221e"), (lambda: fmt_eps(8), "8"),
    (lambda: fmt_pct(0.0812), "8.1%"),
    (lambda: fmt_ci({"value": 0.9, "ci_low": 0.86, "ci_high": 0.94}), "0.900 [0.860, 0.940]"),
    (lambda: fmt_ci({"value": 0.02, "ci_low": -0.01, "ci_high": 0.05}, signed=True),
     "+0.020 [-0.010, +0.050]"),
    (lambda: fmt_ci({"value": 0.9, "ci_low": None, "ci_high": None}), "0.900 (no interval)"),
    (lambda: fmt_ci(None), "\u2014"),
    (lambda: tag("a", "<b>", href='#"x"'), '<a href="#&quot;x&quot;">&lt;b&gt;</a>'),
    (lambda: esc(tag("b", "ok")), "<b>ok</b>"),
])
def test_formats(call, expected):
    # Assert
    assert call() == expected


BAD_PARTS = {
    "privacy": [{"notes": "not a list", "epsilon_spent": "abc", "accountant": None}],
    "attack": [{"results": {"dcr": None, "x": "y"}, "worst_auc": "high", "sizes": [1]},
               {"results": "nope", "reasons": "r", "failed_audit": True}],
    "utility": [{"scenarios": {"tstr": "x"}, "lifts": {"tstr": 5}, "task": "y"},
                {"scenarios": [], "lifts": {"tstr": {"roc_auc": "bad"}}, "summary": "s"},
                {"control": {"confusion": {"labels": [0, 1], "matrix": [[1]]}},
                 "scenarios": {"tstr": {"confusion": {"labels": [0], "matrix": "m"}}}}],
    "fidelity": [{"quality": {"error": "<e>"}, "tails": {"quantiles": {"age": 3}}},
                 {"n_real": "many", "manifold": [], "detection": {"fold_aucs": "x"}}],
    "verdict": [{"violations": ["oops", None], "notes": "n", "eligible": "maybe"}],
}
CASES = [(part, bad) for part, values in BAD_PARTS.items()
         for bad in [None, {}, {"error": "<x>"}, "garbage", [1, 2], *values]]


@pytest.mark.parametrize(("part", "bad"), CASES,
                         ids=[f"{p}-{i}" for i, (p, _) in enumerate(CASES)])
def test_any_part_may_be_missing_wrong_or_an_error(part, bad):
    # Setup
    candidate = {"id": "cand_x", part: bad}
    run = {"id": "run_x", "control": "broken", "frontier": {"points": "no"}, "task": 3}

    # Run
    page = render_run_report(run=run, candidates=[candidate], frontier_png=None)
    doc = render_run_json(run=run, candidates=[candidate])

    # Assert
    assert "cand_x" in page and "<x>" not in page and "<e>" not in page
    json.dumps(doc, allow_nan=False)
    if isinstance(bad, dict) and bad.get("error"):
        assert "&lt;x&gt;" in page and doc["overview"][0]["errors"] == {part: "<x>"}
