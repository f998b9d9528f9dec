import math

import pytest

from governance.core.errors import InputError
from governance.frontier import (
    FrontierPoint,
    frontier_table,
    on_frontier,
    pareto_front,
    utility_floor,
)

NAN = math.nan


def _pt(cid, label, risk, utility, epsilon, feasible):
    return FrontierPoint(candidate_id=cid, label=label, risk=risk, utility=utility,
                         epsilon=epsilon, feasible=feasible)


@pytest.mark.parametrize(
    ("risks", "utilities", "expected"),
    [
        ([], [], []),
        ([0.6], [0.7], [0]),
        # a chain where each step buys utility with risk: all on the frontier
        ([0.50, 0.55, 0.60], [0.60, 0.70, 0.80], [0, 1, 2]),
        # more risk for less utility is dominated
        ([0.50, 0.60], [0.80, 0.70], [0]),
        # same risk, lower utility: dominated (one strict inequality suffices)
        ([0.55, 0.55], [0.70, 0.75], [1]),
        # same utility, higher risk: dominated
        ([0.55, 0.60], [0.70, 0.70], [0]),
        # identical points do not dominate each other
        ([0.55, 0.55, 0.70], [0.70, 0.70, 0.60], [0, 1]),
        # NaN, None and infinities are never on the frontier, nor do they dominate
        ([0.9, NAN, 0.5, None, math.inf], [0.8, 0.99, 0.7, 0.99, 0.99], [0, 2]),
        ([0.5, 0.6], [NAN, None], []),
        # a hand-checked mixed case
        ([0.52, 0.58, 0.51, 0.66, 0.58, 0.70], [0.61, 0.74, 0.55, 0.70, 0.74, 0.80],
         [0, 1, 2, 4, 5]),
    ],
    ids=["empty", "single", "chain", "dominated", "tie-risk", "tie-utility", "identical",
         "nan-none-inf", "all-missing", "mixed"],
)
def test_pareto_front_known_answers(risks, utilities, expected):
    # Run / Assert
    assert pareto_front(risks, utilities) == expected


def test_pareto_front_matches_brute_force_on_random_points():
    # Setup
    import numpy as np

    rng = np.random.default_rng(3)
    risks = np.round(rng.uniform(0.5, 0.8, 60), 2).tolist()
    utilities = np.round(rng.uniform(0.4, 0.9, 60), 2).tolist()

    # Run
    front = pareto_front(risks, utilities)

    # Assert: nothing on the front is dominated; everything off it is.
    def dominated(i):
        return any(risks[j] <= risks[i] and utilities[j] >= utilities[i]
                   and (risks[j], utilities[j]) != (risks[i], utilities[i]) for j in range(60))

    assert front and all(not dominated(i) for i in front)
    assert all(dominated(i) for i in set(range(60)) - set(front))


def test_pareto_front_refuses_mismatched_lengths():
    # Run / Assert
    with pytest.raises(InputError, match="one risk and one utility per candidate"):
        pareto_front([0.5, 0.6], [0.7])


def test_on_frontier_sorts_by_risk():
    # Setup
    points = [_pt("b", "g", 0.60, 0.80, 8.0, False),
              _pt("a", "g", 0.52, 0.70, 1.0, True),
              _pt("c", "g", 0.65, 0.75, 8.0, False)]

    # Run / Assert
    assert [p.candidate_id for p in on_frontier(points)] == ["a", "b"]


def test_frontier_table_rows_are_json_ready():
    # Setup
    points = [_pt("a", "dpsgd", 0.52, 0.70, 1.0, True),
              _pt("b", "ctgan", None, 0.9, math.inf, False),
              _pt("c", "dpsgd", 0.60, NAN, None, False)]

    # Run
    rows = frontier_table(points)

    # Assert
    assert rows == [
        {"candidate_id": "a", "label": "dpsgd", "epsilon": 1.0, "risk": 0.52, "utility": 0.70,
         "feasible": True, "on_frontier": True},
        {"candidate_id": "b", "label": "ctgan", "epsilon": "inf", "risk": None, "utility": 0.9,
         "feasible": False, "on_frontier": False},
        {"candidate_id": "c", "label": "dpsgd", "epsilon": None, "risk": 0.60, "utility": None,
         "feasible": False, "on_frontier": False},
    ]


@pytest.mark.parametrize(("control", "ratio", "expected"),
                         [(0.85, 0.8, 0.68), (0.5, 1.0, 0.5), (None, 0.8, None), (NAN, 0.8, None)])
def test_utility_floor(control, ratio, expected):
    # Run
    floor = utility_floor(control, ratio)

    # Assert
    if expected is None:
        assert floor is None
    else:
        assert floor == pytest.approx(expected)
