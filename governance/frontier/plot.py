"""Draw the privacy/utility frontier of a run as a reproducible PNG.

The x axis is the risk (worst membership-attack ROC AUC, lower is better) and the y
axis the utility (TSTR primary metric on real eval data, higher is better); see
``governance.frontier.pareto`` for why. The plot shows every candidate (one marker
per generator, filled when the policy found it eligible, hollow when not, with its
spent epsilon written next to it), the Pareto frontier as a step line, the real-only
control as a horizontal line, the random-guess AUC of 0.5 as a vertical line and the
policy's feasible region (risk <= ``max_risk``, utility >= ``min_utility``) shaded.
Candidates that cannot be placed (risk or utility not measured) are listed under the
axes rather than dropped silently.

Rendering uses a private ``Figure`` on the Agg canvas (no pyplot state, no display),
matplotlib's default style whatever the local matplotlibrc says, and no ``Software``
metadata, so the same inputs give the same PNG bytes on the same matplotlib version.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from governance.core.errors import InputError
from governance.frontier.pareto import FrontierPoint, on_frontier

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
RISK_LABEL = "worst membership-attack ROC AUC (lower is safer)"
UTILITY_LABEL = "TSTR primary metric on real eval data (higher is better)"


def plot_frontier(
    points: Sequence[FrontierPoint], *, control_utility: float | None,
    max_risk: float | None = None, min_utility: float | None = None, path: str | Path,
    title: str, risk_label: str = RISK_LABEL, utility_label: str = UTILITY_LABEL,
) -> Path:
    """Plot the candidates and their frontier and write the PNG atomically.

    Args:
        points: the run's candidates.
        control_utility: the real-only control's metric (``None`` if it failed; the plot
            then says so instead of drawing the line).
        max_risk: the policy's ``risk.max_attack_auc``; ``None`` leaves risk unbounded.
        min_utility: the policy's utility floor, ``min_utility_ratio * control_utility``.
        path: where to write the PNG; it must end in ``.png``. Parent folders are made.
        title: the plot title.
        risk_label: x axis label.
        utility_label: y axis label.

    Returns:
        The path written.

    Raises:
        InputError: for a path not ending in ``.png`` or a non-finite limit.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"plot path {str(path)!r} must end in .png; the plot is a PNG image")
    for name, value in (("max_risk", max_risk), ("min_utility", min_utility)):
        if value is not None and not math.isfinite(value):
            raise InputError(f"{name} must be a finite number or None, got {value!r}")
    with matplotlib.style.context("default"):
        figure = _draw(points, control_utility=control_utility, max_risk=max_risk,
                       min_utility=min_utility, title=title, risk_label=risk_label,
                       utility_label=utility_label)
        _write_atomically(figure, path)
    return path


def _placed(p: FrontierPoint) -> bool:
    return all(v is not None and math.isfinite(v) for v in (p.risk, p.utility))


def _epsilon_text(epsilon: float | None) -> str:
    if epsilon is None or math.isnan(epsilon):
        return "ε=?"
    return "ε=∞" if math.isinf(epsilon) else f"ε={epsilon:g}"


def _limits(values: list[float], minimum_span: float = 0.05) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = max((high - low) * 0.08, minimum_span / 2)
    return low - pad, high + pad


def _draw(points: Sequence[FrontierPoint], *, control_utility: float | None,
          max_risk: float | None, min_utility: float | None, title: str, risk_label: str,
          utility_label: str) -> Figure:
    figure = Figure(figsize=(10, 5.5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    placed = [p for p in points if _placed(p)]
    control = control_utility if control_utility is not None and math.isfinite(
        control_utility) else None
    xs = [0.5] + [p.risk for p in placed if p.risk is not None]
    xs += [max_risk] if max_risk is not None else []
    ys = [p.utility for p in placed if p.utility is not None]
    ys += [v for v in (control, min_utility) if v is not None]
    x_low, x_high = _limits(xs)
    y_low, y_high = _limits(ys or [0.0, 1.0])

    if max_risk is not None or min_utility is not None:
        ax.fill_between(
            [x_low, max_risk if max_risk is not None else x_high],
            min_utility if min_utility is not None else y_low, y_high,
            color="tab:green", alpha=0.12, linewidth=0, label="policy's feasible region",
        )
    ax.axvline(0.5, color="0.4", linestyle=":", linewidth=1, label="random guess (AUC 0.5)")
    if control is not None:
        ax.axhline(control, color="0.3", linestyle="--", linewidth=1,
                   label=f"real-only control ({control:.3g})")

    labels = sorted({p.label for p in placed})
    colors = matplotlib.colormaps["tab10"]
    for k, label in enumerate(labels):
        group = [p for p in placed if p.label == label]
        color = colors(k % 10)
        for feasible in (True, False):
            chosen = [p for p in group if p.feasible is feasible]
            if chosen:
                xs, ys = _xy(chosen)
                ax.scatter(xs, ys,
                           marker=_MARKERS[k % len(_MARKERS)], s=55, zorder=3,
                           edgecolors=color, linewidths=1.5,
                           facecolors=color if feasible else "none",
                           label=f"{label}" + ("" if feasible else " (not eligible)"))
        for p in group:
            ax.annotate(_epsilon_text(p.epsilon), (p.risk, p.utility),
                        textcoords="offset points", xytext=(5, 5), fontsize=8)

    front = on_frontier(placed)
    if front:
        xs, ys = _xy(front)
        ax.step(xs, ys, where="post",
                color="black", linewidth=1.2, zorder=2, label="Pareto frontier")

    unplaced = [p.candidate_id for p in points if not _placed(p)]
    notes = []
    if unplaced:
        notes.append(f"not plotted (risk or utility not measured): {', '.join(unplaced)}")
    if control is None:
        notes.append("real-only control not available: no control line")
    if notes:
        figure.text(0.01, 0.01, "\n".join(notes), fontsize=8, color="tab:red", va="bottom")

    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    ax.set_xlabel(risk_label)
    ax.set_ylabel(utility_label)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    figure.tight_layout(rect=(0, 0.05 if notes else 0, 1, 1))
    return figure


def _write_atomically(figure: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            figure.savefig(handle, format="png", metadata={"Software": None})
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _xy(points: Sequence[FrontierPoint]) -> tuple[list[float], list[float]]:
    """Risks and utilities of placed points (both measured, so never ``None``)."""
    return ([float(p.risk) for p in points if p.risk is not None],
            [float(p.utility) for p in points if p.utility is not None])
