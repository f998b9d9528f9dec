import math

import numpy as np
import pytest

from governance.attacks.stats.auc_ci import (
    auc_ci,
    auc_ci_bootstrap,
    delong_placements,
    delong_variance,
)
from governance.core.errors import InputError


def brute_force_delong(pos, neg):
    """DeLong's variance from the O(m n) kernel matrix, independent of ranks."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return psi.mean(), v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size


def hanley_mcneil_se(auc, n_pos, n_neg):
    """Hanley & McNeil (1982), Radiology 143:29-36, eq. 1 with Q1, Q2 of eq. 2-3."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)
    return math.sqrt(var / (n_pos * n_neg))


def expit(x):
    return 1 / (1 + math.exp(-x))


def test_delong_hand_case_with_ties():
    # Setup: member placements 1, 7/8, 7/8 (S10 = 1/192); non-member placements 2/3, 1, 1, 1
    # (S01 = 1/36); Var = S10/3 + S01/4 = 5/576
    members, nonmembers = [3, 2, 2], [2, 1, 1, 0]
    # Run
    v10, v01 = delong_placements(members, nonmembers)
    auc, var = delong_variance(members, nonmembers)
    # Assert
    assert v10.tolist() == pytest.approx([1, 7 / 8, 7 / 8])
    assert v01.tolist() == pytest.approx([2 / 3, 1, 1, 1])
    assert auc == pytest.approx(11 / 12)
    assert var == pytest.approx(5 / 576)


def test_logit_and_normal_intervals_hand_case():
    # Setup
    z, auc, se = 1.959963984540054, 11 / 12, math.sqrt(5) / 24
    half = z * se / (auc * (1 - auc))
    # Run
    logit, normal = auc_ci([3, 2, 2], [2, 1, 1, 0]), auc_ci([3, 2, 2], [2, 1, 1, 0],
                                                             scale="normal")
    # Assert
    assert (logit.low, logit.high) == pytest.approx(
        (expit(math.log(11) - half), expit(math.log(11) + half)), abs=1e-12)
    assert (normal.low, normal.high) == pytest.approx((auc - z * se, 1.0), abs=1e-12)
    assert (logit.method, normal.method, logit.se) == ("delong-logit", "delong-normal",
                                                       pytest.approx(se))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_delong_matches_brute_force_placements_on_tied_scores(seed):
    # Setup
    rng = np.random.default_rng(seed)
    pos, neg = rng.integers(0, 6, 73), rng.integers(0, 4, 41)
    # Run
    auc, var = delong_variance(pos, neg)
    # Assert
    want_auc, want_var = brute_force_delong(pos, neg)
    assert auc == pytest.approx(want_auc, abs=1e-12)
    assert var == pytest.approx(want_var, rel=1e-10)


def test_hanley_mcneil_published_ct_ratings():
    # Setup: Hanley & McNeil (1982) Table 1, CT ratings 1..5: 58 normal, 51 abnormal;
    # published AUC 0.893, SE 0.032
    normal = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
    abnormal = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
    # Run
    ci = auc_ci(abnormal, normal)
    # Assert: AUC as published; DeLong's SE within 10 % of Hanley-McNeil's
    assert ci.auc == pytest.approx(0.893, abs=5e-4)
    assert hanley_mcneil_se(ci.auc, 51, 58) == pytest.approx(0.032, abs=5e-4)
    assert ci.se == pytest.approx(hanley_mcneil_se(ci.auc, 51, 58), rel=0.10)


def test_perfect_separation_gives_auc_one_and_upper_one():
    # Run
    ci = auc_ci(np.arange(10.0) + 100, np.arange(20.0))
    boot = auc_ci_bootstrap(np.arange(10.0) + 100, np.arange(20.0), n_boot=200)
    # Assert
    assert (ci.auc, ci.high, ci.low, ci.degenerate) == (1.0, 1.0, 1.0, True)
    assert (boot.auc, boot.high, boot.low) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("scale", ["logit", "normal"])
def test_null_interval_covers_half_about_95_percent(scale):
    # Setup: 400 seeded draws of identical member / non-member distributions
    covered = 0
    for seed in range(400):
        rng = np.random.default_rng(seed)
        # Run
        ci = auc_ci(rng.normal(size=60), rng.normal(size=90), scale=scale)
        covered += ci.low <= 0.5 <= ci.high
    # Assert
    assert 0.92 <= covered / 400 <= 0.98


def test_bootstrap_agrees_with_delong_and_is_reproducible():
    # Setup
    rng = np.random.default_rng(7)
    pos, neg = rng.normal(0.5, 1, 300), rng.normal(0, 1, 400)
    # Run
    boot = auc_ci_bootstrap(pos, neg, n_boot=1000, seed=3)
    again = auc_ci_bootstrap(pos, neg, n_boot=1000, seed=3)
    delong = auc_ci(pos, neg)
    # Assert
    assert boot == again
    assert boot.auc == delong.auc
    assert boot.se == pytest.approx(delong.se, rel=0.15)
    assert (boot.low, boot.high) == pytest.approx((delong.low, delong.high), abs=0.012)
    assert boot.method == "bootstrap-percentile"


def test_bootstrap_resamples_each_group_separately():
    # Setup: one member, many non-members; a pooled bootstrap could draw no member at all
    # Run
    boot = auc_ci_bootstrap([100.0], np.arange(50.0), n_boot=200)
    # Assert: every replicate keeps the single member, which beats all non-members
    assert (boot.low, boot.high, boot.n_members) == (1.0, 1.0, 1)


@pytest.mark.parametrize("call", [
    lambda: auc_ci([], [1.0]),
    lambda: auc_ci([np.inf], [1.0]),
    lambda: auc_ci([1.0], [0.0], confidence=1.0),
    lambda: auc_ci_bootstrap([1.0], [0.0], n_boot=10),
])
def test_bad_arguments_raise_input_error(call):
    with pytest.raises(InputError):
        call()
