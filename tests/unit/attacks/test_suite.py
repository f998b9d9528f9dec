import inspect
import json
import math

import pytest

import governance.attacks as attacks
from governance.attacks import ATTACKS, run_membership_audit
from governance.core.errors import InputError
from tests.utils.data import MIXED_SCHEMA, mixed_table


@pytest.fixture(scope="module")
def rows():
    table = mixed_table(3200, seed=21)
    return {"members": table[:1000], "nonmembers": table[1000:2000],
            "fresh": table[2000:2800], "reference": table[2800:]}


def test_copy_fails_a_claimed_epsilon(rows):
    # Run
    report = run_membership_audit(
        members=rows["members"], nonmembers=rows["nonmembers"], synthetic=rows["members"],
        schema=MIXED_SCHEMA, reference=rows["reference"], claimed_epsilon=1.0)
    # Assert
    assert set(report.results) == {"dcr", "dcr_diff", "nndr", "domias"}
    assert report.worst_auc == pytest.approx(1.0)
    assert report.epsilon_estimate_detail is not None
    assert report.epsilon_estimate == report.epsilon_estimate_detail.epsilon
    assert report.epsilon_estimate_detail.family_size == 4
    assert report.epsilon_estimate > 2.0
    assert report.failed_audit
    assert report.reasons[0].startswith("failed privacy audit")
    # sanity control: a verbatim copy is recognised, and the interval says so
    for result in report.results.values():
        assert result.auc_ci is not None
        assert result.auc_ci.auc == pytest.approx(result.auc)
        assert 0.5 < result.auc_ci.low <= result.auc <= result.auc_ci.high
        ci = result.tpr_at_1pct_ci
        assert ci is not None and ci.tpr_low <= ci.tpr <= ci.tpr_high
    dcr = report.results["dcr"]
    assert dcr.auc == pytest.approx(1.0) and dcr.auc_ci is not None
    assert dcr.auc_ci.low > 0.9
    assert dcr.tpr_at_1pct_ci is not None and dcr.tpr_at_1pct_ci.tpr_low > 0.5


def test_null_passes_any_claim(rows):
    # Run
    report = run_membership_audit(
        members=rows["members"], nonmembers=rows["nonmembers"], synthetic=rows["fresh"],
        schema=MIXED_SCHEMA, reference=rows["reference"], claimed_epsilon=0.0, seed=4)
    # Assert
    assert report.epsilon_estimate == 0.0
    assert not report.failed_audit
    assert report.duplicate_rate == 0.0
    # sanity control: on fresh real data every attack's AUC interval covers chance
    for result in report.results.values():
        assert result.auc_ci is not None
        assert result.auc_ci.low < 0.5 < result.auc_ci.high, result.attack
        assert result.tpr_at_1pct_ci is not None and result.tpr_at_1pct_ci.tpr_low < 0.05


def test_infinite_claim_never_fails(rows):
    # Run
    report = run_membership_audit(
        members=rows["members"], nonmembers=rows["nonmembers"], synthetic=rows["members"],
        schema=MIXED_SCHEMA, attacks=("dcr",))
    # Assert
    assert not report.failed_audit
    assert report.as_dict()["claimed_epsilon"] == "inf"


def test_attacks_needing_a_reference_are_skipped_with_a_reason(rows):
    # Run
    report = run_membership_audit(
        members=rows["members"], nonmembers=rows["nonmembers"], synthetic=rows["fresh"],
        schema=MIXED_SCHEMA)
    # Assert
    assert set(report.results) == {"dcr", "nndr"}
    assert any(r.startswith("dcr_diff skipped") for r in report.reasons)
    assert any(r.startswith("domias skipped") for r in report.reasons)


def test_as_dict_is_strict_json(rows):
    # Setup
    report = run_membership_audit(
        members=rows["members"][:150], nonmembers=rows["nonmembers"][:150],
        synthetic=rows["fresh"], schema=MIXED_SCHEMA, attacks=("dcr", "exact_match"))
    # Run
    text = json.dumps(report.as_dict(), allow_nan=False)
    # Assert: TPR at 0.1 % cannot be resolved with 150 non-members and is null
    data = json.loads(text)
    assert data["results"]["dcr"]["tpr_at_01pct"] is None
    assert data["results"]["exact_match"]["exact_match_members"] == 0.0


@pytest.mark.parametrize("kwargs", [{"attacks": ("dcr", "nope")}, {"attacks": ()},
                                    {"claimed_epsilon": -1.0},
                                    {"claimed_epsilon": math.nan}])
def test_bad_arguments_raise(rows, kwargs):
    # Run / Assert
    with pytest.raises(InputError):
        run_membership_audit(members=rows["members"], nonmembers=rows["nonmembers"],
                             synthetic=rows["fresh"], schema=MIXED_SCHEMA, **kwargs)


def test_only_reference_attacks_without_reference_raises(rows):
    # Run / Assert
    with pytest.raises(InputError, match="no attack could run"):
        run_membership_audit(members=rows["members"], nonmembers=rows["nonmembers"],
                             synthetic=rows["fresh"], schema=MIXED_SCHEMA, attacks=("domias",))


def test_registry_names_match_attack_names():
    # Run / Assert
    assert all(cls.name == name for name, cls in ATTACKS.items())


def test_all_matches_public_names():
    # Setup
    public = {n for n, v in vars(attacks).items()
              if not n.startswith("_") and not inspect.ismodule(v)}
    # Run / Assert
    assert sorted(attacks.__all__) == sorted(public)
