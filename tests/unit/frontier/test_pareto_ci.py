import math

import numpy as np
import pytest

from governance.core.errors import InputError
from governance.frontier.pareto import pareto_front
from governance.frontier.pareto_ci import (
    IntervalPoint,
    interval_dominates,
    interval_pareto_front,
)

INF = math.inf


def pt(risk_lo, risk_hi, utility_lo, utility_hi):
    return IntervalPoint(risk_lo=risk_lo, risk_hi=risk_hi, utility_lo=utility_lo,
                         utility_hi=utility_hi)


# A and B overlap on both axes; C is beaten beyond the intervals by A and B; D is a clear
# trade-off against all; E overlaps A in utility and B in risk, but is below D in both.
A = pt(0.50, 0.54, 0.70, 0.80)
B = pt(0.52, 0.58, 0.75, 0.85)
C = pt(0.60, 0.65, 0.60, 0.68)
D = pt(0.70, 0.75, 0.90, 0.95)
E = pt(0.55, 0.68, 0.66, 0.74)


def test_hand_set_front_ties_and_dominators():
    # Run
    f = interval_pareto_front([A, B, C, D, E])
    # Assert
    assert f.front == (0, 1, 3, 4)
    assert f.ties == ((0, 1, 4),)
    assert f.dominators == ((), (), (0, 1), (), ())
    assert f.excluded == ()


def test_point_estimates_alone_would_drop_a_tied_candidate():
    # Setup: midpoints of the hand set
    mids = [((p.risk_lo + p.risk_hi) / 2, (p.utility_lo + p.utility_hi) / 2)
            for p in (A, B, C, D, E)]
    # Run
    point_front = pareto_front([r for r, _ in mids], [u for _, u in mids])
    # Assert: B beats E on midpoints, but not beyond the intervals
    assert 4 not in point_front
    assert 4 in interval_pareto_front([A, B, C, D, E]).front


def test_weak_separation_with_one_strict_axis_dominates():
    # Setup: touching risk intervals, utility strictly apart
    a, b = pt(0.1, 0.2, 0.8, 0.9), pt(0.2, 0.3, 0.5, 0.7)
    # Run / Assert
    assert interval_dominates(a, b)
    assert not interval_dominates(b, a)
    assert not interval_dominates(a, a)


def test_touching_on_both_axes_is_a_tie_not_dominance():
    # Setup: a.risk_hi == b.risk_lo and a.utility_lo == b.utility_hi: nothing strict
    a, b = pt(0.1, 0.2, 0.7, 0.8), pt(0.2, 0.3, 0.6, 0.7)
    # Run
    f = interval_pareto_front([a, b])
    # Assert
    assert (f.front, f.ties) == ((0, 1), ((0, 1),))


def test_identical_points_are_both_kept_and_tied():
    # Run
    f = interval_pareto_front([pt(1.0, 1.0, 0.7, 0.7), pt(1.0, 1.0, 0.7, 0.7)])
    # Assert
    assert (f.front, f.ties) == ((0, 1), ((0, 1),))


def test_epsilon_axis_with_a_non_private_candidate():
    # Setup: accounted epsilons (exact) and one non-private candidate at infinity
    eps1 = pt(1.0, 1.0, 0.60, 0.70)
    eps4 = pt(4.0, 4.0, 0.72, 0.80)
    nonprivate = pt(INF, INF, 0.74, 0.79)
    # Run
    f = interval_pareto_front([eps1, eps4, nonprivate])
    # Assert: eps4 does not beat the non-private utility beyond the intervals
    # (0.72 < 0.79), so both stay, tied on utility; eps1 is a clear trade-off
    assert f.front == (0, 1, 2)
    assert f.ties == ((1, 2),)
    # Run: a clearly worse non-private candidate is dominated by a finite epsilon
    g = interval_pareto_front([eps4, pt(INF, INF, 0.50, 0.60)])
    # Assert
    assert (g.front, g.dominators) == ((0,), ((), (0,)))


def test_two_infinite_risks_are_ordered_by_utility_alone():
    # Run
    apart = interval_pareto_front([pt(INF, INF, 0.5, 0.6), pt(INF, INF, 0.7, 0.8)])
    overlapping = interval_pareto_front([pt(INF, INF, 0.5, 0.75), pt(INF, INF, 0.7, 0.8)])
    # Assert
    assert (apart.front, apart.dominators[0]) == ((1,), (1,))
    assert (overlapping.front, overlapping.ties) == ((0, 1), ((0, 1),))


def test_unmeasured_points_are_excluded():
    # Setup
    points = [A, None, pt(math.nan, 0.5, 0.7, 0.8), pt(0.1, 0.2, 0.7, INF),
              pt(-INF, 0.1, 0.1, 0.2)]
    # Run
    f = interval_pareto_front(points)
    # Assert
    assert (f.front, f.excluded) == ((0,), (1, 2, 3, 4))


@pytest.mark.parametrize("seed", range(4))
def test_point_intervals_reduce_to_the_plain_frontier(seed):
    # Setup: rounded so that equal coordinates occur
    rng = np.random.default_rng(seed)
    risks, utils = np.round(rng.random(25), 1), np.round(rng.random(25), 1)
    # Run
    f = interval_pareto_front([pt(r, r, u, u) for r, u in zip(risks, utils, strict=True)])
    # Assert
    assert list(f.front) == pareto_front(risks.tolist(), utils.tolist())


def test_empty_input():
    # Run / Assert
    assert interval_pareto_front([]).front == ()


def test_reversed_interval_raises_input_error():
    # Run / Assert
    with pytest.raises(InputError, match="point 1"):
        interval_pareto_front([A, pt(0.6, 0.5, 0.7, 0.8)])
