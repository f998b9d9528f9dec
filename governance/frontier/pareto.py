"""The privacy/utility Pareto frontier of a run's candidates, as pure functions.

Axes (a design choice shared with ``plot.py``):

* **risk** is the worst membership-attack ROC AUC across the attacks run on a
  candidate (0.5 = random guessing); lower is better. Epsilon is *not* the risk axis:
  it is a claim, while the AUC is measured, and it is infinite for non-private
  candidates.
* **utility** is the TSTR primary metric (train on synthetic, test on real ``eval``),
  higher is better. The real-only control is a reference line, not a point; the
  policy's utility floor is ``min_utility_ratio * control`` (see ``utility_floor``).

A metric where lower is better (an error) must be negated or normalised before it is
used as the utility axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeGuard

from governance.core.errors import InputError
from governance.core.jsonsafe import to_jsonable
from governance.core.types import InfFloat, Record


class FrontierPoint(Record):
    """One candidate on the privacy/utility plane.

    Attributes:
        candidate_id: the candidate's identifier.
        label: generator name; points with the same label share a plot marker.
        risk: worst membership-attack ROC AUC, ``None`` if not measured.
        utility: TSTR primary metric on real eval data, ``None`` if not measured.
        epsilon: accountant-spent epsilon (``math.inf`` for non-private candidates).
        feasible: whether the policy's verdict found the candidate eligible.
    """

    candidate_id: str
    label: str
    risk: InfFloat | None
    utility: InfFloat | None
    epsilon: InfFloat | None
    feasible: bool


def _usable(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def pareto_front(risks: Sequence[float | None], utilities: Sequence[float | None]) -> list[int]:
    """Indices of the non-dominated points, minimising risk and maximising utility.

    Point ``j`` dominates point ``i`` when ``risk[j] <= risk[i]`` and
    ``utility[j] >= utility[i]`` with at least one inequality strict. Identical points
    do not dominate each other, so both stay on the frontier. A point whose risk or
    utility is ``None``, NaN or infinite was not measured properly and is never on the
    frontier.

    Args:
        risks: one risk per point (lower is better).
        utilities: one utility per point (higher is better).

    Returns:
        Ascending indices of the frontier points.

    Raises:
        InputError: when the two sequences differ in length.

    Notes:
        The direct O(n^2) definition (Pareto optimality for two objectives); a run has
        tens of candidates, so clarity wins over the O(n log n) sweep.

    >>> pareto_front([0.5, 0.6, 0.7, 0.6], [0.70, 0.80, 0.75, 0.80])
    [0, 1, 3]
    >>> pareto_front([0.55, float("nan"), 0.52, None], [0.9, 0.99, 0.9, 0.99])
    [2]
    >>> pareto_front([], [])
    []
    """
    if len(risks) != len(utilities):
        raise InputError(
            f"pareto_front got {len(risks)} risks but {len(utilities)} utilities; pass one "
            "risk and one utility per candidate (None when not measured)"
        )
    valid = [
        (i, float(r), float(u)) for i, (r, u) in enumerate(zip(risks, utilities, strict=True))
        if _usable(r) and _usable(u)
    ]
    return [
        i for i, ri, ui in valid
        if not any(rj <= ri and uj >= ui and (rj < ri or uj > ui) for _, rj, uj in valid)
    ]


def on_frontier(points: Sequence[FrontierPoint]) -> list[FrontierPoint]:
    """The frontier points, ordered by increasing risk (then utility, then id)."""
    idx = pareto_front([p.risk for p in points], [p.utility for p in points])
    return sorted((points[i] for i in idx),
                  key=lambda p: (p.risk or 0.0, p.utility or 0.0, p.candidate_id))


def utility_floor(control_utility: float | None, min_utility_ratio: float) -> float | None:
    """The utility a candidate needs: ``min_utility_ratio`` times the control's metric.

    >>> round(utility_floor(0.85, 0.8), 6)
    0.68
    >>> utility_floor(None, 0.8) is None
    True
    """
    if not _usable(control_utility):
        return None
    return control_utility * min_utility_ratio


def frontier_table(points: Sequence[FrontierPoint]) -> list[dict[str, Any]]:
    """JSON-ready rows, one per point in input order, with an ``on_frontier`` flag.

    >>> rows = frontier_table([
    ...     FrontierPoint(candidate_id="c1", label="dpsgd", risk=0.52, utility=0.70,
    ...                   epsilon=1.0, feasible=True),
    ...     FrontierPoint(candidate_id="c2", label="ctgan", risk=0.71, utility=0.82,
    ...                   epsilon=math.inf, feasible=False),
    ...     FrontierPoint(candidate_id="c3", label="dpsgd", risk=0.56, utility=0.66,
    ...                   epsilon=4.0, feasible=True),
    ... ])
    >>> [(r["candidate_id"], r["epsilon"], r["on_frontier"]) for r in rows]
    [('c1', 1.0, True), ('c2', 'inf', True), ('c3', 4.0, False)]
    """
    front = set(pareto_front([p.risk for p in points], [p.utility for p in points]))
    return [
        {
            "candidate_id": p.candidate_id, "label": p.label,
            "epsilon": to_jsonable(p.epsilon), "risk": to_jsonable(p.risk),
            "utility": to_jsonable(p.utility), "feasible": p.feasible, "on_frontier": i in front,
        }
        for i, p in enumerate(points)
    ]
