import math
from itertools import accumulate

import numpy as np
import pytest

from governance.attacks.stats.one_run_audit import (
    count_guesses,
    one_run_epsilon_lb,
    one_run_p_value,
)
from governance.core.errors import InputError


def log_binom_pmf(k, r, q):
    return (math.lgamma(r + 1) - math.lgamma(k + 1) - math.lgamma(r - k + 1)
            + k * math.log(q) + (r - k) * math.log1p(-q))


def brute_force_p_value(m, r, v, eps, delta):
    """The theorem's right-hand side by explicit sums, max over all i in 1..m."""
    q = math.exp(eps) / (1 + math.exp(eps))
    pmf = [math.exp(log_binom_pmf(k, r, q)) for k in range(r + 1)]
    sf = list(accumulate(reversed(pmf)))[::-1]  # sf[t] = P[Binomial(r, q) >= t]

    tail = sf[v]
    alpha = max((sf[max(v - i, 0)] - tail) / i for i in range(1, m + 1))
    return min(1.0, tail + 2 * m * delta * alpha)


@pytest.mark.parametrize("r", [10, 50, 100, 1000])
def test_all_correct_pure_dp_closed_form(r):
    # Setup: with delta = 0 and v = r the p-value is q^r, so eps = logit(0.05^(1/r))
    q = 0.05 ** (1 / r)
    # Run
    audit = one_run_epsilon_lb(1000, r, r, delta=0.0, confidence=0.95)
    # Assert
    assert audit.epsilon_lb == pytest.approx(math.log(q / (1 - q)), abs=1e-9)


def test_all_correct_worked_values():
    # Setup: m = 1000 canaries, all r guesses right, 95 % confidence; eps = 0: 2^-r
    # Run
    bounds = {r: one_run_epsilon_lb(1000, r, r).epsilon_lb for r in (10, 100, 1000)}
    # Assert: logit(0.05^(1/r)) to 4 decimals
    assert bounds == {10: pytest.approx(1.0519, abs=1e-4), 100: pytest.approx(3.4930, abs=1e-4),
                      1000: pytest.approx(5.8091, abs=1e-4)}
    assert one_run_p_value(1000, 10, 10, epsilon=0.0) == 2.0 ** -10


@pytest.mark.parametrize("m, r, v, eps, delta", [
    (1000, 100, 100, 2.0, 1e-5),
    (1000, 100, 80, 1.0, 1e-5),
    (1000, 300, 200, 0.5, 1e-3),
    (50, 20, 15, 0.3, 0.01),
    (200, 40, 0, 0.2, 0.01),
    (1000, 500, 260, 0.0, 1e-5),
])
def test_p_value_matches_brute_force_sums(m, r, v, eps, delta):
    # Run / Assert
    assert one_run_p_value(m, r, v, epsilon=eps, delta=delta) == pytest.approx(
        brute_force_p_value(m, r, v, eps, delta), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("m, r, v, delta", [
    (1000, 100, 100, 1e-5), (1000, 200, 170, 1e-5), (1000, 1000, 700, 0.0),
])
def test_bound_is_where_the_p_value_crosses_the_level(m, r, v, delta):
    # Run
    eps = one_run_epsilon_lb(m, r, v, delta=delta, confidence=0.95).epsilon_lb
    # Assert: epsilons just below are rejected, just above are not
    assert brute_force_p_value(m, r, v, eps - 1e-6, delta) < 0.05
    assert brute_force_p_value(m, r, v, eps + 1e-6, delta) >= 0.05


def test_bound_grows_with_correct_guesses_and_shrinks_with_delta():
    # Run
    all_right = [one_run_epsilon_lb(1000, r, r, delta=1e-5).epsilon_lb
                 for r in (10, 20, 50, 100, 200, 500, 1000)]
    by_v = [one_run_epsilon_lb(1000, 200, v, delta=1e-5).epsilon_lb for v in (140, 160, 180, 200)]
    pure, approx = (one_run_epsilon_lb(1000, 100, 100, delta=d).epsilon_lb for d in (0.0, 1e-4))
    # Assert
    assert all_right == sorted(all_right) and len(set(all_right)) == len(all_right)
    assert by_v == sorted(by_v) and len(set(by_v)) == len(by_v)
    assert approx < pure


def test_chance_level_guesses_give_zero():
    # Run
    audit = one_run_epsilon_lb(1000, 200, 100, delta=1e-5)
    # Assert
    assert audit.epsilon_lb == 0.0
    assert audit.p_value_at_zero > 0.05


def test_type_one_error_on_randomized_response_at_the_true_epsilon():
    # Setup: an eps-DP randomised response on each canary's bit; the best guesser is right
    # w.p. e^eps / (1 + e^eps) independently, so the bound may exceed eps in <= 5 % of runs
    eps, r = 1.0, 200
    q = math.exp(eps) / (1 + math.exp(eps))
    draws = [int(np.random.default_rng(seed).binomial(r, q)) for seed in range(400)]
    # Run
    bound = {v: one_run_epsilon_lb(r, r, v, delta=0.0).epsilon_lb for v in set(draws)}
    exceed = sum(bound[v] > eps for v in draws)
    # Assert
    assert exceed / 400 <= 0.07


def test_count_guesses_top_and_bottom():
    # Setup: canaries 0..9, included are the even ones; scores favour canary index
    included = np.arange(10) % 2 == 0
    scores = np.array([9, 1, 8, 2, 7, 3, 6, 4, 5, 0.0])
    # Run
    r, v = count_guesses(scores, included, k_in=3, k_out=3)
    # Assert: top three 0, 2, 4 (in: right); bottom three 9, 1, 3 (out: right)
    assert (r, v) == (6, 6)
    assert count_guesses(scores, included, k_in=0, k_out=0) == (0, 0)


@pytest.mark.parametrize("call", [
    lambda: one_run_p_value(10, 11, 5, epsilon=1.0),
    lambda: one_run_p_value(10, 5, 6, epsilon=1.0),
    lambda: one_run_p_value(10, 5, 5, epsilon=-1.0),
    lambda: one_run_epsilon_lb(10, 5, 5, delta=2.0),
    lambda: one_run_epsilon_lb(10, 5, 5, confidence=1.0),
    lambda: count_guesses(np.zeros(3), np.zeros(4), k_in=1, k_out=1),
    lambda: count_guesses(np.zeros(3), np.zeros(3), k_in=2, k_out=2),
])
def test_bad_arguments_raise_input_error(call):
    with pytest.raises(InputError):
        call()
