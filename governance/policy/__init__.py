"""Policy as code: the YAML format, its loader, and release decisions.

>>> from governance.policy import default_policy
>>> default_policy().policy.risk.max_attack_auc
0.6
"""

from governance.policy.decide import decide
from governance.policy.facts import CandidateFacts, MetricError
from governance.policy.loader import (
    LoadedPolicy,
    check_policy,
    default_policy,
    default_policy_path,
    load_policy,
    parse_policy,
    policy_json_schema,
)
from governance.policy.models import (
    POLICY_FORMAT_VERSION,
    ROLES,
    AccessPolicy,
    ApprovalPolicy,
    DisclosureLimits,
    Policy,
    RiskPolicy,
    TaskSpec,
    TprAtFpr,
    UtilityPolicy,
)
from governance.policy.verdict import PolicyViolation, PolicyViolationError, Verdict

__all__ = [
    "POLICY_FORMAT_VERSION",
    "ROLES",
    "AccessPolicy",
    "ApprovalPolicy",
    "CandidateFacts",
    "DisclosureLimits",
    "LoadedPolicy",
    "MetricError",
    "Policy",
    "PolicyViolation",
    "PolicyViolationError",
    "RiskPolicy",
    "TaskSpec",
    "TprAtFpr",
    "UtilityPolicy",
    "Verdict",
    "check_policy",
    "decide",
    "default_policy",
    "default_policy_path",
    "load_policy",
    "parse_policy",
    "policy_json_schema",
]
