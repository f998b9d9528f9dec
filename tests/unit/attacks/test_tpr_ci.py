import math

import numpy as np
import pytest
from scipy import stats

from governance.attacks.stats.roc import tpr_at_fpr
from governance.attacks.stats.tpr_ci import clopper_pearson_upper, tpr_ci
from governance.core.errors import InputError


@pytest.mark.parametrize("k, n", [(0, 10), (5, 10), (10, 10), (3, 200)])
def test_interval_is_the_beta_quantiles(k, n):
    # Setup: ten members of which k score above every non-member (threshold 99)
    members = np.r_[np.full(k, 500.0), np.full(n - k, -1.0)]
    # Run
    r = tpr_ci(members, np.arange(100.0), target_fpr=0.01)
    # Assert
    low = stats.beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0
    high = stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    upper = stats.beta.ppf(0.95, k + 1, n - k) if k < n else 1.0
    assert (r.tp, r.n_members, r.fp) == (k, n, 1)
    assert (r.tpr_low, r.tpr_high, r.tpr_upper) == pytest.approx((low, high, upper), abs=1e-12)


@pytest.mark.parametrize("k, n, low, high, upper", [
    # closed forms: k = 0 -> high = 1 - (a/2)^(1/n); k = n -> low = (a/2)^(1/n)
    (0, 10, 0.0, 1 - 0.025 ** 0.1, 1 - 0.05 ** 0.1),
    (10, 10, 0.025 ** 0.1, 1.0, 1.0),
    # k = 5 of 10: symmetric, low = 1 - high
    (5, 10, 1 - 0.8129139715526015, 0.8129139715526015, stats.beta.ppf(0.95, 6, 5)),
])
def test_closed_form_known_answers(k, n, low, high, upper):
    # Setup
    members = np.r_[np.full(k, 500.0), np.full(n - k, -1.0)]
    # Run
    r = tpr_ci(members, np.arange(100.0), target_fpr=0.01)
    # Assert
    assert (r.tpr_low, r.tpr_high, r.tpr_upper) == pytest.approx((low, high, upper), abs=1e-12)


@pytest.mark.parametrize("n", [10, 37])
def test_exact_binomial_coverage(n):
    # Setup: the true coverage sum_k P[Bin(n, p) = k] 1[low(k) <= p <= high(k)]
    intervals, uppers = [], []
    for k in range(n + 1):
        members = np.r_[np.full(k, 500.0), np.full(n - k, -1.0)]
        r = tpr_ci(members, np.arange(100.0), target_fpr=0.01)
        intervals.append((r.tpr_low, r.tpr_high))
        uppers.append(r.tpr_upper)
    ks = np.arange(n + 1)
    for p in np.linspace(0.001, 0.999, 199):
        # Run
        pmf = stats.binom.pmf(ks, n, p)
        two_sided = sum(w for w, (lo, hi) in zip(pmf, intervals, strict=True) if lo <= p <= hi)
        one_sided = sum(w for w, up in zip(pmf, uppers, strict=True) if p <= up)
        # Assert
        assert two_sided >= 0.95 - 1e-9
        assert one_sided >= 0.95 - 1e-9


def test_threshold_is_chosen_on_nonmembers_and_matches_roc_reading():
    # Setup: 1 % of 100 non-members allows one false positive (the non-member 99)
    members = [200, 150, 99, 98.5, 10]
    # Run
    r = tpr_ci(members, np.arange(100.0), target_fpr=0.01)
    # Assert: member iff score > 98 (the second-largest non-member)
    assert (r.threshold, r.tp, r.fp, r.fp_allowed, r.tpr, r.fpr) == (98.0, 4, 1, 1, 0.8, 0.01)
    assert r.tpr == tpr_at_fpr(members, np.arange(100.0), 0.01)[0]


def test_ties_at_the_threshold_keep_empirical_fpr_under_target():
    # Setup: two non-members tie at the top; only one false positive is allowed
    nonmembers = np.r_[[5.0, 5.0], np.arange(98.0) / 100]
    # Run
    r = tpr_ci([6.0, 5.0, 0.995], nonmembers, target_fpr=0.01)
    # Assert: "> 5" admits no non-member; the member tied at 5 is not counted
    assert (r.threshold, r.fp, r.tp) == (5.0, 0, 1)
    assert r.fpr <= 0.01


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_roc_tpr_at_fpr_on_random_scores(seed):
    # Setup
    rng = np.random.default_rng(seed)
    pos, neg = rng.normal(1, 1, 300), rng.normal(0, 1, 2000)
    # Run
    r = tpr_ci(pos, neg, target_fpr=0.001)
    # Assert
    assert r.tpr == tpr_at_fpr(pos, neg, 0.001)[0]
    assert r.fp <= 2


def test_fpr_upper_is_the_order_statistic_quantile():
    # Setup: b = 10 false positives allowed out of 1000; the rule's true FPR is
    # Beta(11, 990) distributed, and its 95 % quantile is the bound
    rng = np.random.default_rng(0)
    # Run
    r = tpr_ci(rng.random(10), rng.random(1000), target_fpr=0.01)
    # Assert
    assert r.fpr_upper == pytest.approx(stats.beta.ppf(0.95, 11, 990), abs=1e-12)


def test_fpr_upper_covers_the_true_fpr_of_the_rule():
    # Setup: uniform non-member scores, so the true FPR of "score > c" is 1 - c
    hits = 0
    for seed in range(400):
        rng = np.random.default_rng(seed)
        # Run
        r = tpr_ci(rng.random(5), rng.random(200), target_fpr=0.05)
        hits += (1 - r.threshold) <= r.fpr_upper
    # Assert
    assert 0.92 <= hits / 400 <= 0.98


def test_clopper_pearson_upper_k_zero_closed_form():
    # Run / Assert: 1 - (1 - c)^(1/n)
    assert clopper_pearson_upper(0, 30, confidence=0.99) == pytest.approx(
        1 - 0.01 ** (1 / 30), abs=1e-12)
    assert math.isclose(clopper_pearson_upper(30, 30), 1.0)


@pytest.mark.parametrize("call", [
    lambda: tpr_ci([1.0], np.arange(50.0), target_fpr=0.01),
    lambda: tpr_ci([1.0], np.arange(50.0), target_fpr=0.0),
    lambda: tpr_ci([], np.arange(50.0), target_fpr=0.1),
    lambda: clopper_pearson_upper(3, 2),
    lambda: clopper_pearson_upper(0, 0),
])
def test_bad_arguments_raise_input_error(call):
    with pytest.raises(InputError):
        call()
