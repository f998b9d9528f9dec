"""An interval-aware Pareto frontier: a point dominates another only when the intervals separate.

Each candidate carries an interval on both axes: risk (lower is better; the accounted
epsilon with ``lo == hi``, infinite for a non-private candidate, or an attack figure's
confidence interval) and utility (higher is better). Point estimates alone let noise
decide the frontier; here a candidate leaves the frontier only when another one is
better beyond the uncertainty of both.

Definitions (``a`` and ``b`` are points, intervals closed):

* ``a`` **dominates** ``b`` when ``a.risk_hi <= b.risk_lo`` and
  ``a.utility_lo >= b.utility_hi``, with at least one of the two strict. Point
  intervals (``lo == hi``) reduce this to the usual Pareto dominance.
* The **frontier** is the set of usable points no other point dominates.
* Two frontier points are **tied** when their intervals overlap (or touch) on at least
  one axis: the data cannot order them there, so neither can be preferred on that
  axis. Frontier points separated strictly on both axes are a genuine trade-off, not a
  tie. **Tie groups** are the connected components of the tie relation with two or
  more members, so two members of one group need not overlap directly.

A point is unusable, and never on the frontier, when any bound is NaN, a utility bound
is infinite, or ``risk_lo`` is minus infinity. ``risk_hi = +inf`` is allowed.

>>> pts = [IntervalPoint(risk_lo=1.0, risk_hi=1.0, utility_lo=0.60, utility_hi=0.70),
...        IntervalPoint(risk_lo=4.0, risk_hi=4.0, utility_lo=0.65, utility_hi=0.75),
...        IntervalPoint(risk_lo=8.0, risk_hi=8.0, utility_lo=0.50, utility_hi=0.58)]
>>> f = interval_pareto_front(pts)
>>> f.front, f.ties, f.dominators[2]
((0, 1), ((0, 1),), (0, 1))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from governance.core.errors import InputError
from governance.core.types import InfFloat, Record


class IntervalPoint(Record):
    """One candidate's intervals on both axes (risk: lower is better; utility: higher)."""

    risk_lo: InfFloat
    risk_hi: InfFloat
    utility_lo: InfFloat
    utility_hi: InfFloat


class IntervalFrontier(Record):
    """The interval-aware frontier of a list of points, by index into that list.

    Attributes:
        front: indices of the frontier points, ascending.
        ties: tie groups among the frontier points, each ascending, ordered by their
            first index; points in no group are not tied with any other.
        dominators: for every input point, the indices of the points dominating it
            (empty for frontier and unusable points).
        excluded: indices of unusable points (``None`` or NaN / infinite bounds).
    """

    front: tuple[int, ...]
    ties: tuple[tuple[int, ...], ...]
    dominators: tuple[tuple[int, ...], ...]
    excluded: tuple[int, ...]


def _usable(p: IntervalPoint, index: int) -> bool:
    values = (p.risk_lo, p.risk_hi, p.utility_lo, p.utility_hi)
    if any(math.isnan(v) for v in values):
        return False
    if not (math.isfinite(p.utility_lo) and math.isfinite(p.utility_hi)):
        return False
    if p.risk_lo == -math.inf:
        return False
    if p.risk_lo > p.risk_hi or p.utility_lo > p.utility_hi:
        raise InputError(f"point {index}: an interval has lo > hi (risk [{p.risk_lo}, "
                         f"{p.risk_hi}], utility [{p.utility_lo}, {p.utility_hi}])")
    return True


def interval_dominates(a: IntervalPoint, b: IntervalPoint) -> bool:
    """Whether ``a`` dominates ``b`` beyond both intervals (module definitions).

    >>> a = IntervalPoint(risk_lo=0.50, risk_hi=0.52, utility_lo=0.80, utility_hi=0.82)
    >>> b = IntervalPoint(risk_lo=0.51, risk_hi=0.60, utility_lo=0.60, utility_hi=0.70)
    >>> interval_dominates(a, b)  # risk intervals overlap: not separated
    False
    """
    weak = a.risk_hi <= b.risk_lo and a.utility_lo >= b.utility_hi
    return weak and (a.risk_hi < b.risk_lo or a.utility_lo > b.utility_hi)


def _overlap(lo1: float, hi1: float, lo2: float, hi2: float) -> bool:
    return lo1 <= hi2 and lo2 <= hi1


def _tied(a: IntervalPoint, b: IntervalPoint) -> bool:
    return (_overlap(a.risk_lo, a.risk_hi, b.risk_lo, b.risk_hi)
            or _overlap(a.utility_lo, a.utility_hi, b.utility_lo, b.utility_hi))


def _tie_groups(points: dict[int, IntervalPoint], front: list[int]
                ) -> tuple[tuple[int, ...], ...]:
    parent = {i: i for i in front}

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for n, i in enumerate(front):
        for j in front[n + 1:]:
            if _tied(points[i], points[j]):
                parent[max(root(i), root(j))] = min(root(i), root(j))
    groups: dict[int, list[int]] = {}
    for i in front:
        groups.setdefault(root(i), []).append(i)
    return tuple(tuple(g) for _, g in sorted(groups.items()) if len(g) > 1)


def interval_pareto_front(points: Sequence[IntervalPoint | None]) -> IntervalFrontier:
    """The frontier, tie groups and dominators of ``points`` (module definitions).

    Args:
        points: one entry per candidate; ``None`` for a candidate not measured.

    Raises:
        InputError: when an interval has ``lo > hi``.

    Notes:
        Direct O(n^2) comparison, as ``pareto.pareto_front``. Interval dominance for
        multi-objective selection under uncertainty follows the "interval order" of
        Fishburn (1985), "Interval Orders and Interval Graphs", applied per axis.
    """
    good = {i: p for i, p in enumerate(points) if p is not None and _usable(p, i)}
    dominators: list[tuple[int, ...]] = [() for _ in points]
    for i, pi in good.items():
        dominators[i] = tuple(j for j, pj in good.items() if interval_dominates(pj, pi))
    front = [i for i in good if not dominators[i]]
    return IntervalFrontier(
        front=tuple(front), ties=_tie_groups(good, front), dominators=tuple(dominators),
        excluded=tuple(i for i in range(len(points)) if i not in good),
    )
