"""The frontier a run stores: its axes, limits, Pareto set and one row per candidate."""

from __future__ import annotations

from governance.core.types import InfFloat, Record


class FrontierRow(Record):
    """One evaluated candidate on the privacy/utility plane."""

    candidate_id: str
    generator: str
    epsilon: InfFloat
    risk: float | None
    utility: float | None
    feasible: bool
    pareto: bool


class FrontierRecord(Record):
    """A run's frontier: what the axes measure, the policy's limits and every point.

    Attributes:
        axes: what ``risk`` and ``utility`` measure, in words.
        control: where the real-only control sits on the utility axis.
        utility_floor: the policy's minimum utility on the utility axis, if any.
        max_risk: the policy's maximum risk on the risk axis, if any.
        pareto: ids of the candidates on the Pareto frontier.
        points: one row per evaluated candidate.
    """

    axes: dict[str, str]
    control: float | None
    utility_floor: float | None
    max_risk: float | None
    pareto: list[str]
    points: list[FrontierRow]
