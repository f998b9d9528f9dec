import numpy as np
import pytest

from governance.attacks.stats.multiplicity import (
    bonferroni_adjust,
    bonferroni_alpha,
    bonferroni_reject,
    holm_adjust,
    holm_alphas,
    holm_reject,
)
from governance.core.errors import InputError

TEXTBOOK = [0.01, 0.04, 0.03, 0.005]


def holm_step_down(pvalues, alpha):
    """Holm (1979) as stated: walk the sorted p-values, stop at the first p > alpha/(k-i)."""
    k = len(pvalues)
    reject = [False] * k
    for i, j in enumerate(sorted(range(k), key=lambda j: pvalues[j])):
        if pvalues[j] > alpha / (k - i):
            break
        reject[j] = True
    return reject


def test_textbook_example():
    # Setup: sorted 0.005, 0.01, 0.03, 0.04 against 0.05/4, 0.05/3, 0.05/2, 0.05/1:
    # 0.005 <= 0.0125 and 0.01 <= 0.0167 are rejected, 0.03 > 0.025 stops the walk
    # Run / Assert
    assert holm_reject(TEXTBOOK, 0.05) == [True, False, False, True]
    assert bonferroni_reject(TEXTBOOK, 0.05) == [True, False, False, True]
    assert holm_adjust(TEXTBOOK) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert bonferroni_adjust(TEXTBOOK) == pytest.approx([0.04, 0.16, 0.12, 0.02])
    assert holm_alphas(4, 0.05) == pytest.approx([0.0125, 0.05 / 3, 0.025, 0.05])
    assert bonferroni_alpha(0.05, 4) == 0.0125


def test_holm_rejects_where_bonferroni_cannot():
    # Setup: all three below 0.05 / (3 - i) in turn; only two below 0.05 / 3
    ps = [0.01, 0.015, 0.02]
    # Run / Assert
    assert holm_reject(ps) == [True, True, True]
    assert bonferroni_reject(ps) == [True, True, False]
    assert holm_adjust(ps) == pytest.approx([0.03, 0.03, 0.03])


def test_adjusted_values_are_capped_and_monotone_in_the_raw_order():
    # Run
    adjusted = holm_adjust([0.5, 0.9, 0.2, 0.8])
    # Assert: sorted 0.2*4, max(0.8, 0.5*3), max(1.5->1, 0.8*2), 0.9 -> capped at 1
    assert adjusted == pytest.approx([1.0, 1.0, 0.8, 1.0])
    assert bonferroni_adjust([0.5]) == [0.5]


@pytest.mark.parametrize("seed", range(5))
def test_adjusted_holm_agrees_with_the_step_down_walk(seed):
    # Setup
    rng = np.random.default_rng(seed)
    ps = (rng.random(8) ** 3).tolist()
    for alpha in (0.01, 0.05, 0.1):
        # Run / Assert
        assert holm_reject(ps, alpha) == holm_step_down(ps, alpha)


def test_family_wise_error_under_the_global_null():
    # Setup: 4000 families of five independent uniform p-values
    ps = np.random.default_rng(0).random((4000, 5))
    # Run
    holm = np.mean([any(holm_reject(row.tolist())) for row in ps])
    bonf = np.mean([any(bonferroni_reject(row.tolist())) for row in ps])
    # Assert: both near 1 - 0.99^5 = 0.049 (for the global null they coincide)
    assert holm == bonf
    assert 0.04 <= holm <= 0.06


@pytest.mark.parametrize("call", [
    lambda: holm_adjust([0.1, 1.2]),
    lambda: bonferroni_adjust([-0.1]),
    lambda: holm_reject([0.1], alpha=0.0),
    lambda: bonferroni_alpha(0.05, 0),
    lambda: holm_alphas(0, 0.05),
])
def test_bad_arguments_raise_input_error(call):
    with pytest.raises(InputError):
        call()
