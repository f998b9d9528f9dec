"""The report's PNG charts: valid, small, reproducible, and strict about bad input."""

from __future__ import annotations

import struct

import pytest

from governance.core.errors import InputError
from governance.report import confusion_png, lift_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LIFTS = {"tstr": {"value": -0.08, "ci_low": -0.11, "ci_high": -0.05},
         "augmented": {"value": 0.02, "ci_low": 0.01, "ci_high": 0.03},
         "scarce": None,
         "scarce_augmented": {"value": 0.01, "ci_low": None, "ci_high": None}}


def size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    return width, height


@pytest.mark.parametrize("draw", [
    lambda: confusion_png([0, 1], [[84, 56], [40, 120]]),
    lambda: confusion_png(["a", "b", "c", "d", "e", "f"], [[i + j for j in range(6)]
                                                            for i in range(6)]),
    lambda: lift_png(LIFTS, metric="roc_auc"),
    lambda: lift_png({"tstr": LIFTS["tstr"]}, metric="rmse", lower_is_better=True),
], ids=["confusion-2", "confusion-6", "lift-4", "lift-1"])
def test_charts_are_small_reproducible_pngs(draw):
    # Run
    first, second = draw(), draw()

    # Assert
    assert first.startswith(PNG_MAGIC)
    assert first == second
    assert b"Software" not in first and b"Matplotlib" not in first
    width, height = size(first)
    assert 100 < width <= 700 and 80 < height <= 600


def test_charts_change_with_their_data():
    # Run
    base = lift_png(LIFTS, metric="roc_auc")
    moved = lift_png({**LIFTS, "tstr": {"value": 0.05, "ci_low": 0.0, "ci_high": 0.1}},
                     metric="roc_auc")

    # Assert
    assert base != moved
    assert confusion_png([0, 1], [[1, 2], [3, 4]]) != confusion_png([0, 1], [[4, 3], [2, 1]])


def test_lift_chart_grows_with_the_scenarios():
    # Run
    one = lift_png({"tstr": LIFTS["tstr"]}, metric="roc_auc")
    four = lift_png(LIFTS, metric="roc_auc")

    # Assert
    assert size(four)[1] > size(one)[1]


def test_labels_are_drawn_literally():
    # Run: "$" would start matplotlib mathtext, "<" is just text here
    png = confusion_png(["$5 <x>", "$$"], [[1, 0], [0, 1]], title="cost $ <b>")

    # Assert
    assert png.startswith(PNG_MAGIC)


def test_interval_not_containing_its_point_is_drawn_as_recorded():
    # Run: percentile intervals need not contain the point estimate
    png = lift_png({"tstr": {"value": 0.1, "ci_low": 0.12, "ci_high": 0.2}}, metric="auc")

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
