"""Membership-inference attacks on synthetic data and the statistics of their audit.

Members are real rows the generator saw (train), non-members real rows it never saw
(holdout), and every attack scores each of them so that a higher score means "more
likely a member". All attacks share the one public-domain encoding of
``governance.datasets.encoding`` and report the same metrics (``MembershipResult``):
ROC AUC, TPR at 1 % and 0.1 % FPR, membership advantage, an empirical epsilon lower
bound with Clopper-Pearson intervals, exact-match rates and the real data's own
duplicate rate. ``run_membership_audit`` runs the suite on one candidate.
"""

from governance.attacks.data import AttackData
from governance.attacks.disclosure import DisclosureReport, DisclosureRisk, disclosure_risks
from governance.attacks.matching import duplicate_rate, exact_match_mask, row_keys
from governance.attacks.membership.base import MembershipAttack
from governance.attacks.membership.density import (
    DomiasAttack,
    GaussianKDE,
    density_columns,
    scott_factor,
)
from governance.attacks.membership.distance import (
    DCRAttack,
    DCRDiffAttack,
    ExactMatchAttack,
    NNDRAttack,
)
from governance.attacks.membership.shadow import (
    ShadowAttack,
    ShadowResult,
    ShadowTarget,
    SyntheticFeatures,
    max_resolvable_epsilon,
)
from governance.attacks.neighbors import (
    encode_for_distance,
    iter_product_blocks,
    nearest_distances,
    nearest_neighbours,
)
from governance.attacks.results import MembershipResult, score_membership
from governance.attacks.stats.epsilon import EpsilonAudit, epsilon_from_rates, half_split_epsilon
from governance.attacks.stats.roc import (
    clopper_pearson,
    membership_advantage,
    null_auc_se,
    roc_auc,
    roc_points,
    tpr_at_fpr,
)
from governance.attacks.suite import ATTACKS, AuditReport, run_membership_audit

__all__ = [
    "ATTACKS",
    "AttackData",
    "AuditReport",
    "DCRAttack",
    "DCRDiffAttack",
    "DisclosureReport",
    "DisclosureRisk",
    "DomiasAttack",
    "EpsilonAudit",
    "ExactMatchAttack",
    "GaussianKDE",
    "MembershipAttack",
    "MembershipResult",
    "NNDRAttack",
    "ShadowAttack",
    "ShadowResult",
    "ShadowTarget",
    "SyntheticFeatures",
    "clopper_pearson",
    "density_columns",
    "disclosure_risks",
    "duplicate_rate",
    "half_split_epsilon",
    "encode_for_distance",
    "epsilon_from_rates",
    "exact_match_mask",
    "iter_product_blocks",
    "max_resolvable_epsilon",
    "membership_advantage",
    "nearest_distances",
    "nearest_neighbours",
    "null_auc_se",
    "roc_auc",
    "roc_points",
    "row_keys",
    "run_membership_audit",
    "score_membership",
    "scott_factor",
    "tpr_at_fpr",
]
