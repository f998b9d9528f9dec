"""Read models shared by the API, the CLI and the console.

Each is built from stored rows by one function (``candidate_public``, ``run_public``,
``DatasetPublic.from_row`` ...), which is also the one place that reads stored JSON
columns back into typed results.
"""

from governance.schemas.audit import (
    EventPublic,
    EventsPublic,
    LineageCandidate,
    LineageEvent,
    LineagePolicy,
    LineagePublic,
    LineageRun,
)
from governance.schemas.common import AttackOutcome, FidelityOutcome, UtilityOutcome
from governance.schemas.datasets import (
    BudgetPublic,
    DatasetGrantPublic,
    DatasetPublic,
    DatasetsPublic,
    SplitInfo,
)
from governance.schemas.keys import ApiKeyCreated, ApiKeyPublic, ApiKeysPublic
from governance.schemas.policies import PoliciesPublic, PolicyPublic
from governance.schemas.releases import DecisionOutcomePublic, DecisionPublic, ReleasePublic
from governance.schemas.runs import (
    CandidateBrief,
    CandidateDetail,
    CandidatePublic,
    CandidateSummary,
    ControlScores,
    FrontierPublic,
    RunOptions,
    RunPublic,
    RunsPublic,
    RunStatusPublic,
    candidate_brief,
    candidate_public,
    run_public,
)

__all__ = [
    "ApiKeyCreated",
    "ApiKeyPublic",
    "ApiKeysPublic",
    "AttackOutcome",
    "BudgetPublic",
    "CandidateBrief",
    "CandidateDetail",
    "CandidatePublic",
    "CandidateSummary",
    "ControlScores",
    "DatasetGrantPublic",
    "DatasetPublic",
    "DatasetsPublic",
    "DecisionOutcomePublic",
    "DecisionPublic",
    "EventPublic",
    "EventsPublic",
    "FidelityOutcome",
    "FrontierPublic",
    "LineageCandidate",
    "LineageEvent",
    "LineagePolicy",
    "LineagePublic",
    "LineageRun",
    "PoliciesPublic",
    "PolicyPublic",
    "ReleasePublic",
    "RunOptions",
    "RunPublic",
    "RunStatusPublic",
    "RunsPublic",
    "SplitInfo",
    "UtilityOutcome",
    "candidate_brief",
    "candidate_public",
    "run_public",
]
