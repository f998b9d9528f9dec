"""Read models of approvals, releases and decision outcomes."""

from __future__ import annotations

import json
from datetime import datetime

from governance.core.types import Record, ReleaseStatus
from governance.store.models import Decision, Release


class DecisionPublic(Record):
    """One approval or rejection, under one policy version."""

    id: str
    candidate_id: str
    actor: str
    role: str
    decision: str
    reason: str
    policy_sha256: str
    created_at: datetime

    @classmethod
    def from_row(cls, d: Decision) -> DecisionPublic:
        """The read model of a stored decision."""
        return cls(id=d.id, candidate_id=d.candidate_id, actor=d.actor, role=d.role,
                   decision=d.decision, reason=d.reason, policy_sha256=d.policy_sha256,
                   created_at=d.created_at)


class ReleasePublic(Record):
    """A release's status, pins and audience."""

    id: str
    candidate_id: str
    run_id: str
    policy_sha256: str
    artifact_sha256: str
    requested_by: str
    consumers: list[str]
    status: ReleaseStatus
    reason: str | None
    expires_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, r: Release) -> ReleasePublic:
        """The read model of a stored release."""
        return cls(id=r.id, candidate_id=r.candidate_id, run_id=r.run_id,
                   policy_sha256=r.policy_sha256, artifact_sha256=r.artifact_sha256,
                   requested_by=r.requested_by, consumers=json.loads(r.consumers_json),
                   status=ReleaseStatus(r.status), reason=r.reason, expires_at=r.expires_at,
                   created_at=r.created_at)


class DecisionOutcomePublic(Record):
    """A recorded decision, the approval count, and the release it opened or activated."""

    decision: DecisionPublic
    approvals: int
    quorum: int
    release: ReleasePublic | None
