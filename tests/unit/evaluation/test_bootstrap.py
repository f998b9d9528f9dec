"""The paired bootstrap plan and percentile intervals."""

from __future__ import annotations

import numpy as np
import pytest

from governance.core.errors import InputError
from governance.evaluation import (
    MAE,
    Accuracy,
    Goal,
    Interval,
    PairedBootstrap,
    percentile_interval,
)


def test_plan_is_deterministic_and_resamples_n_rows() -> None:
    # Setup
    plan = PairedBootstrap(50, n_boot=30, seed=7)

    # Run
    first = np.vstack(list(plan.weights()))
    second = np.vstack(list(plan.weights()))

    # Assert
    assert first.shape == (30, 50)
    assert np.array_equal(first, second)
    assert np.all(first.sum(axis=1) == 50)
    assert not np.array_equal(first[0], first[1])


def test_chunking_does_not_change_the_replicates() -> None:
    # Setup: chunks of 2 replicates vs one chunk. The chunk layout is part of the plan,
    # so compare a metric computed chunk-wise with the same weights computed at once.
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 40), rng.dirichlet(np.ones(2), 40)
    plan = PairedBootstrap(40, n_boot=12, seed=3, max_cells=80)

    # Run
    chunked = plan.replicates(Accuracy, y, p)
    at_once = Accuracy.compute_weighted(y, p, np.vstack(list(plan.weights())))

    # Assert
    assert np.array_equal(chunked, at_once)
    assert len(chunked) == 12


def test_percentile_interval_known_answer() -> None:
    # Setup: replicates 0..100, 95% -> 2.5th and 97.5th percentiles (linear interpolation).
    reps = np.arange(101, dtype=float)

    # Run
    iv = percentile_interval(50.0, reps)

    # Assert
    assert (iv.value, iv.n_valid) == (50.0, 101)
    assert (iv.ci_low, iv.ci_high) == pytest.approx((2.5, 97.5))


def test_percentile_interval_drops_undefined_replicates() -> None:
    # Setup
    reps = np.r_[np.arange(11, dtype=float), [np.nan, np.nan]]

    # Run
    iv = percentile_interval(5.0, reps, level=0.8)

    # Assert
    assert iv.n_valid == 11
    assert (iv.ci_low, iv.ci_high) == pytest.approx((1.0, 9.0))


def test_paired_difference_of_identical_predictions_is_exactly_zero() -> None:
    # Setup
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 2, 100), rng.dirichlet(np.ones(2), 100)
    plan = PairedBootstrap(100, n_boot=50, seed=0)
    reps = plan.replicates(Accuracy, y, p)

    # Run
    diff = plan.difference(0.7, reps, 0.7, reps)

    # Assert
    assert (diff.value, diff.ci_low, diff.ci_high) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("goal", "cand", "ctrl", "expected"),
    [(Goal.MAXIMIZE, 0.4, 0.8, 0.5), (Goal.MINIMIZE, 4.0, 2.0, 0.5),
     (Goal.MAXIMIZE, 0.4, -0.1, None)],
)
def test_ratio_orientation(goal: Goal, cand: float, ctrl: float, expected) -> None:
    # Setup: constant replicates, so the interval collapses on the value.
    plan = PairedBootstrap(10, n_boot=10, seed=0)
    ones = np.ones(10)

    # Run
    iv = plan.ratio(goal, cand, cand * ones, ctrl, ctrl * ones)

    # Assert
    assert iv.value == (pytest.approx(expected) if expected is not None else None)


def test_interval_contains_and_dict() -> None:
    # Setup
    iv = Interval(value=0.1, ci_low=-0.2, ci_high=0.3, n_valid=100)

    # Run / Assert
    assert iv.contains(0.0) and not iv.contains(0.31)
    assert iv.as_dict() == {"value": 0.1, "ci_low": -0.2, "ci_high": 0.3}
    assert not Interval(value=None, ci_low=None, ci_high=None).contains(0.0)


@pytest.mark.parametrize(("n", "n_boot", "level"), [(0, 100, 0.95), (10, 5, 0.95),
                                                    (10, 100, 1.5)])
def test_invalid_plans(n: int, n_boot: int, level: float) -> None:
    # Run / Assert
    with pytest.raises(InputError):
        PairedBootstrap(n, n_boot=n_boot, seed=0, level=level)


def test_bootstrap_interval_covers_known_mean_error() -> None:
    # Setup: MAE of N(0,1) errors is sqrt(2/pi) ~ 0.798; with 2000 rows the interval
    # should contain it (deterministic seeds).
    rng = np.random.default_rng(5)
    y = rng.normal(size=2000)
    plan = PairedBootstrap(2000, n_boot=200, seed=1)

    # Run
    iv = percentile_interval(MAE.compute(y, np.zeros(2000)),
                             plan.replicates(MAE, y, np.zeros(2000)))

    # Assert
    assert iv.contains(np.sqrt(2 / np.pi))
    assert iv.ci_high - iv.ci_low < 0.07
