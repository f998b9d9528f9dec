"""The scarce subset: size, stratification, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from governance.evaluation.lift.sampling import scarce_indices


def test_size_is_fraction_with_a_floor() -> None:
    # Setup
    y = np.r_[np.zeros(900), np.ones(100)].astype(int)

    # Run
    small = scarce_indices(y, fraction=0.05, min_rows=80, seed=0, regression=False)
    large = scarce_indices(y, fraction=0.2, min_rows=80, seed=0, regression=False)

    # Assert
    assert len(small) == 80
    assert len(large) == 200
    assert len(np.unique(small)) == 80


def test_classes_keep_their_share_and_rare_classes_survive() -> None:
    # Setup: class 2 has 3 rows out of 1000.
    y = np.r_[np.zeros(797), np.ones(200), np.full(3, 2)].astype(int)

    # Run
    idx = scarce_indices(y, fraction=0.05, min_rows=50, seed=1, regression=False)

    # Assert
    counts = np.bincount(y[idx], minlength=3)
    assert counts.sum() == 50
    assert counts[2] >= 1
    assert counts[1] == pytest.approx(10, abs=1)


def test_regression_strata_span_the_range() -> None:
    # Setup
    y = np.arange(1000, dtype=float)

    # Run
    idx = scarce_indices(y, fraction=0.05, min_rows=10, seed=2, regression=True)

    # Assert: 50 rows, 10 from each quintile.
    assert np.array_equal(np.bincount((y[idx] // 200).astype(int)), [10] * 5)


def test_same_seed_same_subset_and_whole_when_small() -> None:
    # Setup
    y = np.random.default_rng(0).integers(0, 2, 500)

    # Run
    a = scarce_indices(y, fraction=0.1, min_rows=20, seed=3, regression=False)
    b = scarce_indices(y, fraction=0.1, min_rows=20, seed=3, regression=False)
    c = scarce_indices(y, fraction=0.1, min_rows=20, seed=4, regression=False)
    whole = scarce_indices(y[:30], fraction=0.1, min_rows=50, seed=3, regression=False)

    # Assert
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.array_equal(whole, np.arange(30))
