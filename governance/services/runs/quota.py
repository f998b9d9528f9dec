"""A per-requester limit on runs waiting or executing: one run worker serves every tenant.

``check_queue_quota`` counts the requester's queued, running and cancelling runs inside
the submitting transaction. On PostgreSQL it first takes a transaction-scoped advisory
lock keyed by the requester, so concurrent submissions by one requester are counted one
after another; SQLite's ``BEGIN IMMEDIATE`` serialises them already.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from governance.core.errors import QuotaExceededError
from governance.core.types import RunStatus
from governance.store.models import Run

#: Statuses that occupy the shared run worker (or wait for it).
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.CANCELLING)


def _lock_key(actor: str) -> int:
    """A signed 64-bit advisory-lock key for a requester (stable across processes)."""
    return int.from_bytes(hashlib.sha256(f"run-quota:{actor}".encode()).digest()[:8], "big",
                          signed=True)


def check_queue_quota(session: Session, *, actor: str, limit: int) -> None:
    """Refuse a new run when ``actor`` already has ``limit`` runs queued or running.

    Raises:
        QuotaExceededError: naming the limit and its setting.
    """
    if session.get_bind().dialect.name == "postgresql":
        lock = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_lock_key(actor))
        session.connection().execute(lock)
    active = session.exec(select(func.count()).select_from(Run).where(
        col(Run.requested_by) == actor, col(Run.status).in_([s.value for s in ACTIVE]))).one()
    if active >= limit:
        raise QuotaExceededError(
            f"{actor} already has {active} run(s) queued or running, the most one requester "
            f"may have at once (GOVERNANCE_MAX_QUEUED_RUNS_PER_REQUESTER={limit}); wait for "
            "one to finish, or cancel one")


__all__ = ["ACTIVE", "check_queue_quota"]
