"""Small, reproducible PNG charts for the run report: confusion heatmap and lift chart.

Each chart is drawn on a private ``Figure`` with the Agg canvas (no pyplot state, no
display), matplotlib's default style whatever the local matplotlibrc says, a low
resolution (80 dpi) and no ``Software`` metadata, so the same inputs give the same
bytes on the same matplotlib version (as ``governance.frontier.plot`` does).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from governance.core.errors import InputError

DPI = 80
_CHAR_INCHES = 0.062  # rough width of one character at 8 pt
SCENARIO_LABELS = {"tstr": "TSTR (synthetic only)", "augmented": "real + synthetic",
                   "scarce": "scarce real", "scarce_augmented": "scarce real + synthetic"}


def _text(value: Any) -> str:
    """Label text with mathtext switched off (a ``$`` in a label is drawn literally)."""
    return str(value).replace("$", r"\$")


def _figure(*, plot: tuple[float, float], left: float, bottom: float, right: float = 0.2,
            top: float = 0.3) -> Figure:
    """A figure whose plot area and margins are given in inches.

    Fixed margins are much cheaper than ``tight_layout``, which draws the figure once more.
    """
    width, height = left + plot[0] + right, bottom + plot[1] + top
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                           top=1 - top / height)
    return figure


def _point(iv: Mapping[str, Any] | None) -> tuple[float | None, float | None, float | None]:
    """(value, low, high) of an interval, ``None`` for anything not a finite number."""
    def finite(x: Any) -> float | None:
        ok = isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
        return float(x) if ok else None

    iv = iv if isinstance(iv, Mapping) else {}
    return finite(iv.get("value")), finite(iv.get("ci_low")), finite(iv.get("ci_high"))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def confusion_png(
    labels: Sequence[Any], matrix: Sequence[Sequence[float]], *, title: str = "confusion matrix"
) -> bytes:
    """Draw a confusion matrix (rows = true class, columns = predicted) as a heatmap.

    Cells are shaded by their share of the true class (row-normalised recall) and
    labelled with the raw counts, so a rare class's errors stay visible.

    Args:
        labels: the K class labels in code order.
        matrix: K x K counts.
        title: the chart title.

    Returns:
        PNG bytes.

    Raises:
        InputError: if the matrix is not K x K or holds a negative or non-finite count.
    """
    k = len(labels)
    rows = [list(r) for r in matrix]
    if k == 0 or len(rows) != k or any(len(r) != k for r in rows):
        raise InputError(f"a confusion matrix for {k} labels must be {k} x {k}; got "
                         f"{[len(r) for r in rows]} - pass the matrix and labels of one table")
    counts = [[float(x) for x in r] for r in rows]
    if any(not math.isfinite(x) or x < 0 for r in counts for x in r):
        raise InputError("confusion counts must be finite and non-negative")
    shares = [[x / sum(r) if sum(r) else 0.0 for x in r] for r in counts]
    names = [_text(label) for label in labels]
    longest = min(max(len(n) for n in names), 24)
    side = min(1.2 + 0.4 * k, 5.0)
    rotate = k > 4 or longest > 6
    bottom = 0.45 + (longest * _CHAR_INCHES * 0.75 if rotate else 0.15)
    with matplotlib.style.context("default"):
        figure = _figure(plot=(side + 0.35, side), left=0.4 + longest * _CHAR_INCHES,
                         bottom=bottom, right=0.75)
        ax = figure.add_subplot()
        image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{counts[i][j]:g}", ha="center", va="center", fontsize=8,
                        color="white" if shares[i][j] > 0.6 else "black")
        ax.set_xticks(range(k), names, rotation=45 if rotate else 0, fontsize=8,
                      ha="right" if rotate else "center")
        ax.set_yticks(range(k), names, fontsize=8)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
        ax.set_title(_text(title), fontsize=9)
        bar = figure.colorbar(image, ax=ax, fraction=0.08, pad=0.04)
        bar.set_label("share of true class", fontsize=8)
        bar.ax.tick_params(labelsize=7)
        return _png(figure)


def lift_png(
    lifts: Mapping[str, Mapping[str, Any] | None], *, metric: str, lower_is_better: bool = False,
    title: str | None = None,
) -> bytes:
    """Draw each scenario's lift over the real-only control as a point with its interval.

    Args:
        lifts: scenario name -> ``{"value", "ci_low", "ci_high"}``. A scenario without
            a value is labelled "undefined", one without an interval "no interval"; the
            interval is drawn as recorded even when it does not contain the point.
        metric: the metric the lifts are measured in (axis label).
        lower_is_better: the metric is an error (the label then says so).
        title: the chart title; a default naming the metric when ``None``.

    Returns:
        PNG bytes.

    Raises:
        InputError: if ``lifts`` is empty.
    """
    if not lifts:
        raise InputError("lift_png needs at least one scenario's lift")
    names = list(lifts)
    points = [_point(lifts[name]) for name in names]
    ticks = [_text(SCENARIO_LABELS.get(name, name)) + (
        " (undefined)" if p[0] is None else " (no interval)" if None in p else "")
        for name, p in zip(names, points, strict=True)]
    longest = min(max(len(t) for t in ticks), 40)
    with matplotlib.style.context("default"):
        figure = _figure(plot=(3.4, 0.4 * len(names)), left=0.25 + longest * _CHAR_INCHES,
                         bottom=0.5)
        ax = figure.add_subplot()
        ax.axvline(0.0, color="0.4", linestyle="--", linewidth=1)
        for y, (value, low, high) in enumerate(points):
            if value is None:
                continue
            if low is not None and high is not None:  # percentile CIs need not hold the point
                ax.hlines([y], [low], [high], color="tab:blue", linewidth=1.5)
                ax.vlines([low, high], y - 0.12, y + 0.12, color="tab:blue", linewidth=1.5)
            ax.plot([value], [y], "o", markersize=5,
                    color="tab:blue" if low is not None and high is not None else "tab:orange")
        ax.set_yticks(range(len(names)), ticks, fontsize=8)
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.invert_yaxis()
        better = "lower" if lower_is_better else "higher"
        ax.set_xlabel(f"{_text(metric)} lift vs control ({better} is better)", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_title(_text(title or f"lift in {metric} with its bootstrap interval"), fontsize=9)
        return _png(figure)
