"""The kinds of events the audit log records (the audit bundle documents each)."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """Every kind of audit event; ``append_event`` refuses any other string."""

    DATASET_REGISTERED = "dataset.registered"
    POLICY_RECORDED = "policy.recorded"
    RUN_REQUESTED = "run.requested"
    RUN_STARTED = "run.started"
    RUN_FINISHED = "run.finished"
    RUN_FAILED = "run.failed"
    RUN_CANCELLED = "run.cancelled"
    BUDGET_CHARGED = "budget.charged"
    BUDGET_SET = "budget.set"  # a dataset's budget set by its owner or an admin
    BUDGET_RESERVED = "budget.reserved"  # a run's grid held at submission
    BUDGET_RELEASED = "budget.released"  # what a failed or ended candidate did not spend
    DATASET_GRANTED = "dataset.granted"
    CANDIDATE_GENERATED = "candidate.generated"
    CANDIDATE_FAILED = "candidate.failed"
    CANDIDATE_EVALUATED = "candidate.evaluated"
    CANDIDATE_AUDIT_FAILED = "candidate.audit_failed"
    DECISION_RECORDED = "decision.recorded"
    RELEASE_CREATED = "release.created"
    RELEASE_REVOKED = "release.revoked"
    RELEASE_FLAGGED = "release.flagged"
    ACCESS_ALLOWED = "access.allowed"
    ACCESS_DENIED = "access.denied"
    ACCESS_FAILED = "access.failed"  # allowed, but the stored artifact could not be served
    APIKEY_CREATED = "apikey.created"
    APIKEY_REVOKED = "apikey.revoked"
    AUDIT_EXPORTED = "audit.exported"
    POLICY_REEVALUATED = "policy.reevaluated"


#: The values of ``EventKind``, for membership tests on plain strings.
EVENT_KINDS: frozenset[str] = frozenset(k.value for k in EventKind)
