import math

import numpy as np
import pytest

from governance.attacks.stats.epsilon import epsilon_from_rates, half_split_epsilon
from governance.core.errors import InputError


@pytest.mark.parametrize("tpr_low, fpr_high, delta, expected", [
    (0.5, 0.1, 0.0, math.log(5.0)),              # ln(0.5/0.1) beats ln(0.9/0.5)
    (0.5, 0.1, 0.1, math.log(4.0)),              # ln(0.4/0.1) beats ln(0.8/0.5)
    (0.99, 0.5, 0.0, math.log(0.5 / 0.01)),      # the second term wins
    (0.05, 0.1, 0.1, 0.0),                       # both arguments <= 0 or below 1
    (0.3, 0.0, 0.0, math.log(1.0 / 0.7)),        # first term undefined (FPR 0) counts as 0
    (0.2, 0.9, 0.2, 0.0),                        # 1 - FPR - delta <= 0
])
def test_epsilon_from_rates_hand_computed(tpr_low, fpr_high, delta, expected):
    # Run
    eps = epsilon_from_rates(tpr_low, fpr_high, delta=delta)
    # Assert
    assert eps == pytest.approx(expected, abs=1e-12)


def test_perfect_separation_gives_the_hand_computed_bound():
    # Setup: 200 members at 1, 200 non-members at 0; each half has 100 of each
    members, nonmembers = np.ones(200), np.zeros(200)
    tpr_low = 0.025 ** (1 / 100)  # Clopper-Pearson lower end for 100/100
    fpr_high = 1 - 0.025 ** (1 / 100)  # upper end for 0/100
    # Run
    audit = half_split_epsilon(members, nonmembers, delta=1e-5, seed=3)
    # Assert
    assert (audit.tp, audit.fn, audit.fp, audit.tn) == (100, 0, 0, 100)
    assert audit.threshold == 1.0
    assert audit.tpr_ci == pytest.approx((tpr_low, 1.0))
    assert audit.fpr_ci == pytest.approx((0.0, fpr_high))
    assert audit.epsilon_estimate == pytest.approx(math.log((tpr_low - 1e-5) / fpr_high))
    assert audit.epsilon_estimate == pytest.approx(3.2813, abs=1e-4)


def test_counts_are_read_on_the_other_half():
    # Setup: odd sizes, so halves differ in size
    rng = np.random.default_rng(0)
    members, nonmembers = rng.normal(1, 1, 301), rng.normal(0, 1, 199)
    # Run
    audit = half_split_epsilon(members, nonmembers, seed=0)
    # Assert: half B holds 151 members and 100 non-members
    assert audit.tp + audit.fn == 151
    assert audit.fp + audit.tn == 100
    assert audit.as_dict()["tpr_ci"] == list(audit.tpr_ci)


@pytest.mark.parametrize("seed", range(20))
def test_null_scores_give_exactly_zero(seed):
    # Setup: scores independent of membership
    rng = np.random.default_rng(seed)
    members, nonmembers = rng.random(2000), rng.random(2000)
    # Run
    audit = half_split_epsilon(members, nonmembers, seed=seed)
    # Assert
    assert audit.epsilon_estimate == 0.0


@pytest.mark.parametrize("members, nonmembers, delta", [
    ([1.0], [0.0, 1.0], 1e-5),
    ([1.0, 2.0], [0.0, 1.0], 1.0),
])
def test_bad_input_raises(members, nonmembers, delta):
    # Run / Assert
    with pytest.raises(InputError):
        half_split_epsilon(members, nonmembers, delta=delta)
