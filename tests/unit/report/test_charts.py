"""The report's PNG charts: valid, small, reproducible, and strict about bad input.

The charts draw the real records' lifts and confusion matrices (``real_run``); only the
edge cases (a six-class matrix, malformed matrices, labels with markup) are written
out here, because the small binary run cannot hold them.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from governance.core.errors import InputError
from governance.evaluation.lift.results import ModelScores, UtilityResult
from governance.report import confusion_png, lift_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    return width, height


@pytest.fixture(scope="module")
def utility(records) -> ModelScores:
    """The good candidate's reported (eval) scores of its gradient-boosting model."""
    result = records.candidates()[0].utility
    assert isinstance(result, UtilityResult)
    return result.eval.models["hgb"]


def lifts_of(utility: ModelScores, metric: str) -> dict[str, Any]:
    """Each scenario's lift on ``metric``, as the report hands it to ``lift_png``."""
    return {name: per_metric[metric].as_dict() for name, per_metric in utility.lifts.items()}


def confusion_of(utility: ModelScores, scenario: str) -> tuple[list[Any], list[list[int]]]:
    scores = utility.control if scenario == "control" else utility.scenarios[scenario]
    assert scores.confusion is not None
    return scores.confusion["labels"], scores.confusion["matrix"]


@pytest.mark.parametrize("draw", [
    lambda u: confusion_png(*confusion_of(u, "tstr")),
    lambda u: confusion_png(["a", "b", "c", "d", "e", "f"], [[i + j for j in range(6)]
                                                              for i in range(6)]),
    lambda u: lift_png(lifts_of(u, "roc_auc"), metric="roc_auc"),
    lambda u: lift_png({"tstr": lifts_of(u, "brier")["tstr"]}, metric="brier",
                       lower_is_better=True),
], ids=["confusion-2", "confusion-6", "lift-4", "lift-1"])
def test_charts_are_small_reproducible_pngs(utility, draw):
    # Run
    first, second = draw(utility), draw(utility)

    # Assert
    assert first.startswith(PNG_MAGIC)
    assert first == second
    assert b"Software" not in first and b"Matplotlib" not in first
    width, height = size(first)
    assert 100 < width <= 700 and 80 < height <= 600


def test_charts_change_with_their_data(utility):
    # Setup
    lifts = lifts_of(utility, "roc_auc")
    labels, matrix = confusion_of(utility, "tstr")
    _, control = confusion_of(utility, "control")
    assert matrix != control

    # Run
    base = lift_png(lifts, metric="roc_auc")
    moved = lift_png(lifts_of(utility, "accuracy"), metric="roc_auc")

    # Assert
    assert lifts != lifts_of(utility, "accuracy") and base != moved
    assert confusion_png(labels, matrix) != confusion_png(labels, control)


def test_lift_chart_grows_with_the_scenarios(utility):
    # Setup
    lifts = lifts_of(utility, "roc_auc")

    # Run
    one = lift_png({"tstr": lifts["tstr"]}, metric="roc_auc")
    four = lift_png(lifts, metric="roc_auc")

    # Assert
    assert len(lifts) == 4 and size(four)[1] > size(one)[1]


def test_missing_and_open_lifts_are_drawn(utility):
    # Setup: a scenario without a lift and one whose interval is undefined
    lifts = lifts_of(utility, "roc_auc")
    lifts["scarce"] = None
    lifts["scarce_augmented"] = {**lifts["scarce_augmented"], "ci_low": None, "ci_high": None}

    # Run
    png = lift_png(lifts, metric="roc_auc")

    # Assert
    assert png.startswith(PNG_MAGIC) and png != lift_png(lifts_of(utility, "roc_auc"),
                                                         metric="roc_auc")


def test_labels_are_drawn_literally():
    # Run: "$" would start matplotlib mathtext, "<" is just text here
    png = confusion_png(["$5 <x>", "$$"], [[1, 0], [0, 1]], title="cost $ <b>")

    # Assert
    assert png.startswith(PNG_MAGIC)


def test_interval_not_containing_its_point_is_drawn_as_recorded(utility):
    # Setup: percentile intervals need not contain the point estimate
    tstr = lifts_of(utility, "roc_auc")["tstr"]
    shifted = {**tstr, "ci_low": tstr["value"] + 0.02, "ci_high": tstr["value"] + 0.1}

    # Run
    png = lift_png({"tstr": shifted}, metric="roc_auc")

    # Assert
    assert png.startswith(PNG_MAGIC)


@pytest.mark.parametrize(("labels", "matrix", "match"), [
    ([0, 1], [[1, 2, 3], [4, 5, 6]], "must be 2 x 2"),
    ([0, 1, 2], [[1, 2], [3, 4]], "must be 3 x 3"),
    ([], [], "must be 0 x 0"),
    ([0, 1], [[1, -2], [3, 4]], "finite and non-negative"),
    ([0, 1], [[1, float("nan")], [3, 4]], "finite and non-negative"),
])
def test_confusion_rejects_malformed_matrices(labels, matrix, match):
    # Run / Assert
    with pytest.raises(InputError, match=match):
        confusion_png(labels, matrix)


def test_lift_chart_needs_a_scenario():
    # Run / Assert
    with pytest.raises(InputError, match="at least one scenario"):
        lift_png({}, metric="roc_auc")
