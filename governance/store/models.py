"""Every table and every API data model in one module (SQLModel).

Tables follow the ``XBase`` / ``X(table=True)`` / ``XPublic`` pattern. JSON-valued
columns hold canonical JSON text; infinite epsilons are stored as NULL and shown as
``"inf"``. Audit events are append-only: nothing in the code base updates or deletes
them, and the hash chain (``governance.audit.chain``) makes any change visible.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def new_id(prefix: str) -> str:
    """A short random identifier such as ``run_3f9a1c2b7d4e``."""
    return f"{prefix}_{secrets.token_hex(6)}"


def utcnow() -> datetime:
    """Timezone-aware now, in UTC."""
    return datetime.now(UTC)


def loads(text: str | None) -> Any:
    """Parse a JSON column (None stays None)."""
    return None if text is None else json.loads(text)


class Dataset(SQLModel, table=True):
    """A registered source table: its hash, its public schema and its split."""

    id: str = Field(primary_key=True)
    name: str = Field(index=True, unique=True)
    source_sha256: str = Field(index=True)
    source_filename: str
    artifact_sha256: str
    n_rows: int
    schema_yaml: str = Field(sa_column=Column(Text, nullable=False))
    schema_sha256: str
    data_derived_schema: bool = False
    split_seed: int
    split_sha256: str
    # The dataset's privacy budget: the most epsilon all runs on it may spend together
    # (basic composition). Set at registration from the policy, then by its owner or an admin.
    budget_epsilon: float
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)


class DatasetGrant(SQLModel, table=True):
    """Leave for one API key (by name) to see a dataset and run on it; the owner's to give."""

    __table_args__ = (UniqueConstraint("dataset_id", "grantee"),)

    id: str = Field(primary_key=True)
    dataset_id: str = Field(foreign_key="dataset.id", index=True)
    grantee: str = Field(index=True)
    granted_by: str
    created_at: datetime = Field(default_factory=utcnow)


class PolicyVersion(SQLModel, table=True):
    """One exact policy text, keyed by the SHA-256 of its bytes."""

    sha256: str = Field(primary_key=True)
    name: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    source_path: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Run(SQLModel, table=True):
    """One frontier run over a grid of generators and privacy budgets."""

    id: str = Field(primary_key=True)
    dataset_id: str = Field(foreign_key="dataset.id", index=True)
    policy_sha256: str = Field(foreign_key="policyversion.sha256")
    task_json: str = Field(sa_column=Column(Text, nullable=False))
    grid_json: str = Field(sa_column=Column(Text, nullable=False))
    options_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    seed: int
    status: str = "queued"  # queued | running | succeeded | failed | cancelled
    progress: float = 0.0
    message: str = ""
    requested_by: str = Field(index=True)
    executor: str = "local"  # the name of an executor the operator configured
    control_json: str | None = Field(default=None, sa_column=Column(Text))
    frontier_json: str | None = Field(default=None, sa_column=Column(Text))
    plot_sha256: str | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Who executes the run and until when the claim holds (renewed by a heartbeat); a run
    # whose lease expired may be resumed by anyone allowed to (services.runs.leases).
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


class Candidate(SQLModel, table=True):
    """One synthetic dataset: its generator, privacy spend, attacks, utility, verdict."""

    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: str = Field(primary_key=True)
    run_id: str = Field(foreign_key="run.id", index=True)
    idempotency_key: str
    generator: str
    epsilon_target: float | None = None  # None = infinity (non-private)
    epsilon_spent: float | None = None
    delta: float = 0.0
    seed: int
    status: str = "pending"  # pending | failed | evaluated | approved | rejected | released
    artifact_sha256: str | None = None
    n_rows: int = 0
    fit_seconds: float = 0.0
    privacy_json: str | None = Field(default=None, sa_column=Column(Text))
    attack_json: str | None = Field(default=None, sa_column=Column(Text))
    utility_json: str | None = Field(default=None, sa_column=Column(Text))
    fidelity_json: str | None = Field(default=None, sa_column=Column(Text))
    verdict_json: str | None = Field(default=None, sa_column=Column(Text))
    eligible: bool = False
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class Decision(SQLModel, table=True):
    """An approver's approval or rejection of a candidate, under one policy version."""

    __table_args__ = (UniqueConstraint("candidate_id", "actor"),)

    id: str = Field(primary_key=True)
    candidate_id: str = Field(foreign_key="candidate.id", index=True)
    actor: str
    role: str
    decision: str  # approve | reject
    reason: str = ""
    policy_sha256: str
    created_at: datetime = Field(default_factory=utcnow)


class Release(SQLModel, table=True):
    """An approved candidate made available to consumers, pinned to a policy version."""

    id: str = Field(primary_key=True)
    candidate_id: str = Field(foreign_key="candidate.id", unique=True)
    run_id: str = Field(foreign_key="run.id")
    policy_sha256: str
    artifact_sha256: str
    requested_by: str
    consumers_json: str = Field(sa_column=Column(Text, nullable=False))
    status: str = "pending"  # pending | active | rejected | revoked | flagged
    reason: str | None = None
    expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    """An API key; only the SHA-256 of the secret is stored."""

    id: str = Field(primary_key=True)
    name: str = Field(unique=True, index=True)
    role: str
    key_sha256: str = Field(unique=True)
    prefix: str
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class BudgetCharge(SQLModel, table=True):
    """One privacy-budget charge against a source dataset (idempotent per candidate)."""

    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: str = Field(primary_key=True)
    dataset_id: str = Field(foreign_key="dataset.id", index=True)
    idempotency_key: str
    candidate_id: str | None = None
    epsilon: float
    delta: float
    created_at: datetime = Field(default_factory=utcnow)


class BudgetReservation(SQLModel, table=True):
    """Epsilon held for one private candidate of a run, from submission until it settles.

    ``idempotency_key`` is the candidate's; its charge settles the reservation
    (``charged``), and a candidate that fails or a run that ends releases what is still
    ``held``. Only held reservations of runs that have not ended count against the budget.
    """

    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: str = Field(primary_key=True)
    dataset_id: str = Field(foreign_key="dataset.id", index=True)
    run_id: str = Field(index=True)
    idempotency_key: str
    epsilon: float
    status: str = "held"  # held | charged | released
    created_at: datetime = Field(default_factory=utcnow)
    settled_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """One link of the append-only, hash-chained audit log."""

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    created_at: str
    kind: str = Field(index=True)
    actor: str
    subject: str = Field(index=True)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str
    hash: str


class AuditHead(SQLModel, table=True):
    """The single row that serialises appends (locked FOR UPDATE on PostgreSQL)."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = "0" * 64
