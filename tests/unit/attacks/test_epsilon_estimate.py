"""The candidate's empirical epsilon estimate: Bonferroni over attacks, honest name."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from governance.attacks import run_membership_audit
from governance.attacks.results import score_membership
from governance.attacks.suite import AuditReport, candidate_epsilon, empirical_risk_ucb
from governance.datasets.schema import Schema

SCHEMA = Schema.model_validate({"columns": {"x": {"type": "numeric", "min": 0, "max": 1}}})


def _perfect(name: str):
    """An attack that separates 100 members from 100 non-members perfectly."""
    return score_membership(name, np.ones(100), np.zeros(100), n_synthetic=100,
                            duplicate_rate=0.0, exact_match_members=0.0,
                            exact_match_nonmembers=0.0, delta=0.0)


def _ln_ratio(tail: float, n: int) -> float:
    """ln(TPR_lo / FPR_hi) for tp = n of n and fp = 0 of n at one-sided tail ``tail``."""
    low = tail ** (1 / n)  # Clopper-Pearson lower end of n successes out of n
    return math.log(low / (1 - low))


def test_estimate_is_clopper_pearson_at_alpha_over_k_on_fixed_counts():
    # Arrange: two attacks, each 50 of 50 held-out members flagged, 0 of 50 non-members
    results = {"a": _perfect("a"), "b": _perfect("b")}
    assert all((r.epsilon_detail.tp, r.epsilon_detail.fp) == (50, 0) for r in results.values())
    # Run
    est = candidate_epsilon(results, delta=0.0)
    # Assert: each interval at 1 - 0.05 / 2, so each end at tail 0.05 / 4 = 0.0125
    assert est.family_size == 2 and est.correction == "bonferroni"
    assert est.per_attack_confidence == pytest.approx(0.975)
    assert est.epsilon == pytest.approx(_ln_ratio(0.0125, 50), rel=1e-9)
    assert round(est.epsilon, 3) == 2.390
    # the old figure, the max over attacks at 95 % each, was larger (2.570)
    assert max(r.epsilon_estimate for r in results.values()) == pytest.approx(
        _ln_ratio(0.025, 50), rel=1e-9)
    assert est.epsilon < max(r.epsilon_estimate for r in results.values())


@pytest.fixture(scope="module")
def report() -> AuditReport:
    real = pd.DataFrame({"x": [i / 399 for i in range(400)]})
    copied = real[::2]
    return run_membership_audit(members=copied, nonmembers=real[1::2], synthetic=copied,
                                schema=SCHEMA, attacks=("dcr", "nndr"), claimed_epsilon=1.0)


def test_new_records_carry_no_lower_bound_name(report):
    text = report.to_json()
    assert "epsilon_lb" not in text and "lower bound" not in text
    assert report.failed_audit
    assert "empirical epsilon estimate" in report.reasons[0]
    assert "Bonferroni" in report.reasons[0]


def _to_old(value):
    """The record as the previous release stored it (old field names, no detail)."""
    old = {"epsilon_estimate": "epsilon_lb", "epsilon_detail": "epsilon_lb_detail"}
    if isinstance(value, list):
        return [_to_old(v) for v in value]
    if not isinstance(value, dict):
        return value
    new_only = {"epsilon_estimate_detail", "auc_ci", "tpr_at_1pct_ci", "tpr_at_01pct_ci"}
    out = {old.get(k, k): _to_old(v) for k, v in value.items() if k not in new_only}
    if "worst_auc" in out:  # the report itself
        out["worst_epsilon_lb"] = out.pop("epsilon_lb")
    return out


def test_old_records_still_read(report):
    # Arrange
    stored = _to_old(json.loads(report.to_json()))
    assert "worst_epsilon_lb" in stored and "epsilon_lb" in stored["results"]["dcr"]
    # Run
    back = AuditReport.model_validate_json(json.dumps(stored))
    # Assert
    assert back.epsilon_estimate == report.epsilon_estimate
    assert back.epsilon_estimate_detail is None
    dcr = back.results["dcr"]
    assert dcr.epsilon_estimate == report.results["dcr"].epsilon_estimate
    assert dcr.epsilon_detail == report.results["dcr"].epsilon_detail
    assert dcr.auc_ci is None and dcr.tpr_at_1pct_ci is None


def test_empirical_risk_ucb_is_the_worst_upper_bound_at_the_fpr(report):
    # Run
    ucb = empirical_risk_ucb(report.results, 0.01)
    # Assert: 200 non-members resolve 1 % FPR but not 0.1 %; other FPRs have no interval
    uppers = [r.tpr_at_1pct_ci.tpr_upper for r in report.results.values()
              if r.tpr_at_1pct_ci is not None]
    assert len(uppers) == 2 and ucb == max(uppers)
    assert ucb is not None and 0.9 < ucb <= 1.0  # a verbatim copy
    assert empirical_risk_ucb(report.results, 0.001) is None
    assert empirical_risk_ucb(report.results, 0.05) is None
