import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from governance.attacks.stats.roc import (
    clopper_pearson,
    membership_advantage,
    null_auc_se,
    roc_auc,
    roc_points,
    tpr_at_fpr,
)
from governance.core.errors import InputError


def test_auc_hand_case_with_ties():
    # Setup: 3 vs all 4 non-members wins 4 pairs; each 2 ties one and beats three (3.5 each)
    members, nonmembers = [3, 2, 2], [2, 1, 1, 0]
    # Run
    auc = roc_auc(members, nonmembers)
    # Assert
    assert auc == pytest.approx(11 / 12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_matches_sklearn_on_heavily_tied_scores(seed):
    # Setup
    rng = np.random.default_rng(seed)
    pos, neg = rng.integers(0, 4, 57), rng.integers(0, 3, 91)
    y = np.r_[np.ones(pos.size), np.zeros(neg.size)]
    # Run
    auc = roc_auc(pos, neg)
    # Assert
    assert auc == pytest.approx(roc_auc_score(y, np.r_[pos, neg]), abs=1e-12)


@pytest.mark.parametrize("members, nonmembers, expected", [
    ([1.0, 1.0], [0.0], 1.0),
    ([0.0], [1.0, 2.0], 0.0),
    ([5.0, 5.0], [5.0, 5.0, 5.0], 0.5),
])
def test_auc_extremes(members, nonmembers, expected):
    # Run / Assert
    assert roc_auc(members, nonmembers) == expected


def test_null_auc_se_formula():
    # Run / Assert: sqrt((n1 + n2 + 1) / (12 n1 n2))
    assert null_auc_se(2000, 2000) == pytest.approx(math.sqrt(4001 / (12 * 2000 * 2000)))


def test_roc_points_counts_ties_together():
    # Run
    roc = roc_points([3, 2, 2], [2, 1, 1, 0])
    # Assert
    assert roc.thresholds.tolist() == [math.inf, 3, 2, 1, 0]
    assert roc.tp.tolist() == [0, 1, 3, 3, 3]
    assert roc.fp.tolist() == [0, 0, 1, 3, 4]


def test_tpr_at_fpr_hand_case():
    # Setup: FPR <= 1 % of 100 non-members allows one false positive (the non-member 99)
    members = [200, 150, 99, 98.5, 10]
    nonmembers = np.arange(100, dtype=float)
    # Run
    tpr, why = tpr_at_fpr(members, nonmembers, 0.01)
    # Assert: threshold 98.5 catches four members and only the non-member 99
    assert (tpr, why) == (pytest.approx(0.8), None)


@pytest.mark.parametrize("fpr, n_nonmembers, need", [(0.01, 99, 100), (0.001, 999, 1000),
                                                     (0.001, 100, 1000)])
def test_tpr_at_fpr_is_none_when_too_few_nonmembers(fpr, n_nonmembers, need):
    # Setup
    rng = np.random.default_rng(0)
    # Run
    tpr, why = tpr_at_fpr(rng.random(50), rng.random(n_nonmembers), fpr)
    # Assert
    assert tpr is None
    assert f"not enough samples (need >= {need} non-members" in why


def test_tpr_at_fpr_resolves_at_exactly_the_minimum():
    # Setup
    rng = np.random.default_rng(0)
    # Run
    tpr, why = tpr_at_fpr(rng.random(50) + 1.0, rng.random(1000), 0.001)
    # Assert: members all above every non-member
    assert (tpr, why) == (1.0, None)


def test_advantage_hand_case():
    # Run: thresholds >=3: 1/3 - 0; >=2: 1 - 1/4; >=1: 1 - 3/4
    adv = membership_advantage([3, 2, 2], [2, 1, 1, 0])
    # Assert
    assert adv == pytest.approx(0.75)


def test_advantage_is_zero_when_members_score_lower():
    # Run / Assert
    assert membership_advantage([0, 0], [1, 2]) == 0.0


# statsmodels.stats.proportion.proportion_confint(k, n, alpha=0.05, method="beta")
@pytest.mark.parametrize("k, n, low, high", [
    (0, 10, 0.0, 0.30849710781876083),
    (10, 10, 0.6915028921812392, 1.0),
    (5, 10, 0.18708602844739855, 0.8129139715526015),
    (3, 20, 0.0320709371854637, 0.37892682654531396),
    (0, 500, 0.0, 0.007350610051907786),
])
def test_clopper_pearson_known_answers(k, n, low, high):
    # Run
    lo, hi = clopper_pearson(k, n)
    # Assert
    assert lo == pytest.approx(low, abs=1e-12)
    assert hi == pytest.approx(high, abs=1e-12)


def test_clopper_pearson_vectorised_matches_scalar():
    # Run
    lows, highs = clopper_pearson(np.array([0, 5, 10]), 10)
    # Assert
    assert lows.tolist() == pytest.approx([0.0, 0.18708602844739855, 0.6915028921812392])
    assert highs.tolist() == pytest.approx([0.30849710781876083, 0.8129139715526015, 1.0])


@pytest.mark.parametrize("call", [
    lambda: clopper_pearson(11, 10),
    lambda: clopper_pearson(0, 0),
    lambda: clopper_pearson(1, 10, confidence=1.0),
    lambda: roc_auc([], [1.0]),
    lambda: roc_auc([np.nan], [1.0]),
    lambda: tpr_at_fpr([1.0], [0.0], 0.0),
])
def test_bad_arguments_raise_input_error(call):
    # Run / Assert
    with pytest.raises(InputError):
        call()
