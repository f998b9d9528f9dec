"""The privacy/utility Pareto frontier of a run: pure functions and the plot.

>>> from governance.frontier import pareto_front
>>> pareto_front([0.51, 0.58, 0.66], [0.61, 0.74, 0.70])
[0, 1]
"""

from governance.frontier.pareto import (
    FrontierPoint,
    frontier_table,
    on_frontier,
    pareto_front,
    utility_floor,
)
from governance.frontier.plot import RISK_LABEL, UTILITY_LABEL, plot_frontier
from governance.frontier.record import FrontierRecord, FrontierRow

__all__ = [
    "RISK_LABEL",
    "UTILITY_LABEL",
    "FrontierPoint",
    "FrontierRecord",
    "FrontierRow",
    "frontier_table",
    "on_frontier",
    "pareto_front",
    "plot_frontier",
    "utility_floor",
]
