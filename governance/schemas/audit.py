"""Read models of the audit log and of lineage."""

from __future__ import annotations

from typing import Any

from governance.core.jsonsafe import loads
from governance.core.types import InfFloat, Record
from governance.evaluation.task import TaskSpec
from governance.generators.base import PrivacySpend
from governance.schemas.datasets import DatasetPublic
from governance.schemas.releases import DecisionPublic, ReleasePublic
from governance.schemas.runs import CandidateSummary
from governance.store.models import AuditEvent


class EventPublic(Record):
    """One audit event as stored: its payload parsed, its hashes as they are."""

    seq: int
    created_at: str
    kind: str
    actor: str
    subject: str
    payload: Any
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, e: AuditEvent) -> EventPublic:
        """The read model of a stored event."""
        return cls(seq=e.seq, created_at=e.created_at, kind=e.kind, actor=e.actor,
                   subject=e.subject, payload=loads(e.payload), prev_hash=e.prev_hash,
                   hash=e.hash)


class EventsPublic(Record):
    """A page of audit events, in sequence order."""

    data: list[EventPublic]
    count: int


class LineageEvent(Record):
    """An audit event that records one step of an object's lineage."""

    seq: int
    kind: str
    actor: str
    subject: str
    created_at: str
    hash: str
    payload: Any


class LineageRun(Record):
    """The run a candidate came from."""

    id: str
    seed: int
    task: TaskSpec
    grid: list[tuple[str, InfFloat]]
    requested_by: str
    status: str
    executor: str


class LineagePolicy(Record):
    """The exact policy version a run was made under."""

    sha256: str
    name: str | None
    source_path: str | None


class LineageCandidate(Record):
    """The candidate a release serves: generator, seed, spent epsilon, artifact hash."""

    id: str
    generator: str
    seed: int
    epsilon_target: InfFloat
    epsilon_spent: InfFloat
    delta: float
    artifact_sha256: str | None
    n_rows: int
    status: str
    eligible: bool
    summary: CandidateSummary
    privacy: PrivacySpend | None


class LineagePublic(Record):
    """From a release, candidate, run or dataset back to the source table.

    Parts that do not apply to ``ref`` (a dataset has no run) are ``None``.
    """

    ref: str
    dataset: DatasetPublic
    run: LineageRun | None = None
    policy: LineagePolicy | None = None
    candidate: LineageCandidate | None = None
    decisions: list[DecisionPublic] | None = None
    release: ReleasePublic | None = None
    events: list[LineageEvent]
    access: list[LineageEvent]
