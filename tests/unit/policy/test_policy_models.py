import pytest
from pydantic import ValidationError

from governance.policy import AccessPolicy, Policy


def test_minimal_policy_gets_the_documented_defaults():
    # Run
    policy = Policy(name="minimal")

    # Assert
    assert policy.version == 1
    assert (policy.risk.max_epsilon, policy.risk.max_delta) == (8.0, 1e-5)
    assert (policy.risk.max_total_epsilon, policy.risk.max_attack_auc) == (40.0, 0.6)
    assert policy.risk.max_tpr_at_fpr is None and policy.risk.max_disclosure_risk is None
    assert policy.risk.audit_depth == "standard"
    assert policy.utility.min_utility_ratio == 0.8 and policy.utility.subgroups == ()
    assert policy.task is None
    assert (policy.approvals.quorum, policy.approvals.roles) == (2, ("approver",))
    assert policy.approvals.separation_of_duties is True
    assert policy.access.formats == ("parquet", "csv")
    assert policy.access.expires_after_days == 90


def test_policies_are_frozen_and_hashable():
    # Setup
    policy = Policy(name="p")

    # Run / Assert
    with pytest.raises(ValidationError):
        policy.risk.max_epsilon = 100  # type: ignore[misc]
    assert hash(policy) == hash(Policy(name="p"))


@pytest.mark.parametrize(
    ("consumers", "who", "allowed"),
    [(("*",), "anyone", True), (("alice",), "alice", True), (("alice",), "bob", False),
     ((), "alice", False)],
)
def test_access_allows(consumers, who, allowed):
    # Run / Assert
    assert AccessPolicy(consumers=consumers).allows(who) is allowed


@pytest.mark.parametrize(
    "section",
    [{"risk": {"max_epsilon_lb_ratio": -1}}, {"approvals": {"roles": []}},
     {"access": {"formats": []}}, {"approvals": {"quorum": 1.5}},
     {"risk": {"max_delta": 1.0}}, {"risk": {"max_tpr_at_fpr": {"fpr": 0, "tpr": 0.1}}},
     {"risk": {"max_disclosure_risk": {"inference": 1.5}}}, {"name": "has space"},
     {"risk": {"audit_depth": "deep"}}, {"task": {"target": "y", "kind": "ranking"}}],
)
def test_out_of_range_values_are_refused(section):
    # Run / Assert
    with pytest.raises(ValidationError):
        Policy.model_validate({"name": "p", **section})
