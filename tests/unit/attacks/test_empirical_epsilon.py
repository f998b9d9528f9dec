import math

import pytest
from scipy import stats

from governance.attacks.stats.empirical_epsilon import (
    AttackCounts,
    attack_epsilon,
    empirical_epsilon,
)
from governance.core.errors import InputError


def perfect(name, n=100):
    return AttackCounts(name=name, tp=n, n_members=n, fp=0, n_nonmembers=n)


@pytest.mark.parametrize("k, per_end", [(1, 0.025), (4, 0.00625)])
def test_perfect_attack_closed_form(k, per_end):
    # Setup: tp = n gives TPR_lo = (a/2)^(1/n); fp = 0 gives FPR_hi = 1 - (a/2)^(1/n),
    # with a = 0.05 / k; both terms equal ln(t / (1 - t))
    t = per_end ** (1 / 100)
    # Run
    est = empirical_epsilon([perfect(f"a{i}") for i in range(k)], delta=0.0, alpha=0.05)
    # Assert
    assert est.epsilon == pytest.approx(math.log(t / (1 - t)), abs=1e-10)
    assert est.per_attack_confidence == pytest.approx(1 - 0.05 / k)
    assert (est.family_size, est.correction, est.worst_attack) == (k, "bonferroni", "a0")


def test_known_values_for_k_1_and_4():
    # Run / Assert: logit(0.025^0.01) and logit(0.00625^0.01)
    assert empirical_epsilon([perfect("a")], delta=0.0).epsilon == pytest.approx(3.28135, abs=1e-5)
    assert empirical_epsilon([perfect(str(i)) for i in range(4)], delta=0.0).epsilon == \
        pytest.approx(2.95533, abs=1e-5)


def test_second_term_uses_pessimistic_ends():
    # Setup: every member caught, half the non-members flagged: the complement ratio
    # (1 - FPR_hi) / (1 - TPR_lo) is the larger term
    counts = AttackCounts(name="a", tp=200, n_members=200, fp=100, n_nonmembers=200)
    tpr_lo = stats.beta.ppf(0.025, 200, 1)
    fpr_hi = stats.beta.ppf(0.975, 101, 100)
    # Run
    est = attack_epsilon(counts, delta=1e-5, confidence=0.95)
    # Assert
    assert (est.tpr_low, est.fpr_high) == pytest.approx((tpr_lo, fpr_hi), abs=1e-12)
    assert est.epsilon == pytest.approx(math.log((1 - fpr_hi - 1e-5) / (1 - tpr_lo)), abs=1e-12)
    assert est.epsilon > math.log((tpr_lo - 1e-5) / fpr_hi)


def test_correction_lowers_the_worst_of_five():
    # Setup: five attacks with the same counts; the uncorrected max is any one at 95 %
    one = AttackCounts(name="x", tp=60, n_members=100, fp=20, n_nonmembers=100)
    uncorrected = attack_epsilon(one, delta=1e-5, confidence=0.95).epsilon
    # Run
    corrected = empirical_epsilon([one.model_copy(update={"name": str(i)}) for i in range(5)],
                                  delta=1e-5).epsilon
    # Assert
    assert 0 < corrected < uncorrected


def test_family_size_counts_comparisons_beyond_the_attacks_listed():
    # Run
    listed = empirical_epsilon([perfect("a")], delta=0.0)
    wider = empirical_epsilon([perfect("a")], delta=0.0, family_size=4)
    # Assert
    assert wider.epsilon == pytest.approx(2.95533, abs=1e-5)
    assert wider.epsilon < listed.epsilon


def test_chance_attack_gives_zero_and_no_worst():
    # Run
    est = empirical_epsilon([AttackCounts(name="n", tp=50, n_members=100, fp=50,
                                          n_nonmembers=100)], delta=1e-5)
    # Assert
    assert (est.epsilon, est.worst_attack) == (0.0, None)


def test_delta_lowers_the_estimate():
    # Run
    eps = [empirical_epsilon([perfect("a")], delta=d).epsilon for d in (0.0, 0.01, 0.1)]
    # Assert
    assert eps == sorted(eps, reverse=True) and len(set(eps)) == 3


@pytest.mark.parametrize("call", [
    lambda: empirical_epsilon([], delta=0.0),
    lambda: empirical_epsilon([perfect("a")], delta=1.0),
    lambda: empirical_epsilon([perfect("a"), perfect("b")], delta=0.0, family_size=1),
    lambda: empirical_epsilon([perfect("a")], delta=0.0, alpha=0.0),
    lambda: empirical_epsilon([AttackCounts(name="a", tp=5, n_members=4, fp=0,
                                            n_nonmembers=4)], delta=0.0),
    lambda: empirical_epsilon([AttackCounts(name="a", tp=0, n_members=0, fp=0,
                                            n_nonmembers=4)], delta=0.0),
])
def test_bad_arguments_raise_input_error(call):
    with pytest.raises(InputError):
        call()
