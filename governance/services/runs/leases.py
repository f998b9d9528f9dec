"""Run leases: one executor of a run at a time, and no run left ``running`` by a crash.

Whoever executes a run first *claims* it with one conditional UPDATE that succeeds only
while nobody holds a live lease: the run is queued, failed (a retry), or running under a
lease that expired. The database decides the race, so of two resumers exactly one wins
(``claim``); the other is told who holds the run and until when. The holder renews the
lease from a heartbeat thread every third of ``GOVERNANCE_RUN_LEASE_SECONDS``
(``Heartbeat``); if the process dies, the lease runs out and the run becomes resumable
(``POST /v1/runs/{id}/resume``, ``govern resume``, or the API's start-up and periodic
sweep, ``recoverable_runs``).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import col, select

from governance.core.errors import ConflictError, NotFoundError
from governance.core.types import RunStatus
from governance.services.budget import release_reservations
from governance.services.context import Governance
from governance.store.auditlog import append_event
from governance.store.models import Run, utcnow

#: Statuses a run may be claimed from regardless of its lease.
CLAIMABLE = (RunStatus.QUEUED, RunStatus.FAILED)
#: Statuses that mean "someone executes this run" while their lease is live.
HELD = (RunStatus.RUNNING, RunStatus.CANCELLING)


def new_owner() -> str:
    """A lease owner id unique to one execution (host, process and a random part)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def _expired(now: datetime) -> Any:
    return or_(col(Run.lease_expires_at).is_(None), col(Run.lease_expires_at) < now)


def claim(gov: Governance, run_id: str, owner: str) -> bool:
    """Take the run's lease if nobody holds a live one (one atomic conditional UPDATE).

    Returns:
        Whether ``owner`` now holds the lease (the run is then ``running``).
    """
    now = utcnow()
    stmt = (update(Run).where(col(Run.id) == run_id).where(or_(
        col(Run.status).in_([s.value for s in CLAIMABLE]),
        and_(col(Run.status) == RunStatus.RUNNING.value, _expired(now))))
        .values(status=RunStatus.RUNNING.value, lease_owner=owner,
                lease_expires_at=now + _lease(gov)))
    with gov.session() as session:
        return bool(session.exec(stmt).rowcount == 1)


def renew(gov: Governance, run_id: str, owner: str) -> bool:
    """Extend ``owner``'s lease by a full term; False when it is no longer theirs."""
    stmt = (update(Run).where(col(Run.id) == run_id, col(Run.lease_owner) == owner)
            .values(lease_expires_at=utcnow() + _lease(gov)))
    with gov.session() as session:
        return bool(session.exec(stmt).rowcount == 1)


def finish_abandoned_cancel(gov: Governance, run_id: str) -> bool:
    """End a run that was asked to stop and whose executor died (``cancelling``, expired)."""
    now = utcnow()
    stmt = (update(Run).where(col(Run.id) == run_id,
                              col(Run.status) == RunStatus.CANCELLING.value, _expired(now))
            .values(status=RunStatus.CANCELLED.value, finished_at=now, lease_owner=None,
                    lease_expires_at=None, message="cancelled on request"))
    with gov.session() as session:
        done = bool(session.exec(stmt).rowcount == 1)
        if done:
            release_reservations(session, run_id=run_id, reason="the run was cancelled")
            append_event(session=session, kind="run.cancelled", actor="runner", subject=run_id,
                         payload={"after_interruption": True})
    return done


def held_message(run: Run) -> str:
    """Why a run cannot be taken over just now."""
    until = (_aware(run.lease_expires_at).isoformat(timespec="seconds")
             if run.lease_expires_at else "?")
    return (f"run {run.id} is being executed by another process (its lease runs until "
            f"{until} and is renewed while it works); resume it only after that")


def check_resumable(gov: Governance, run_id: str, *, ended_ok: bool = False) -> Run:
    """The run, if a resume may start it now (queued, failed, or its lease expired).

    Args:
        gov: the service context.
        run_id: the run.
        ended_ok: accept a run that has ended (resuming it then only reports it).

    Raises:
        NotFoundError: no such run.
        ConflictError: it has ended (unless ``ended_ok``), or another process holds a
            live lease on it.
    """
    with gov.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id!r}")
    if run.status in (RunStatus.SUCCEEDED, RunStatus.CANCELLED) and not ended_ok:
        raise ConflictError(f"run {run_id} has ended ({run.status}); there is nothing to resume")
    if run.status in HELD and run.lease_expires_at is not None and \
            _aware(run.lease_expires_at) > utcnow():
        raise ConflictError(held_message(run))
    return run


def recoverable_runs(gov: Governance, *, queued: bool = True) -> list[str]:
    """Runs nobody executes: queued ones (if ``queued``) and held ones whose lease expired."""
    now = utcnow()
    statuses = [s.value for s in HELD]
    cond = and_(col(Run.status).in_(statuses), _expired(now))
    if queued:
        cond = or_(cond, col(Run.status) == RunStatus.QUEUED.value)
    with gov.session() as session:
        rows = session.exec(select(Run.id).where(cond).order_by(col(Run.created_at))).all()
    return list(rows)


def _lease(gov: Governance) -> timedelta:
    return timedelta(seconds=gov.settings.run_lease_seconds)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Heartbeat:
    """Renews a lease from a daemon thread while a run executes (a context manager).

    ``lost`` is set when a renewal finds the lease gone (another process took the run
    over after this one stalled past the lease); the executor then stops.
    """

    def __init__(self, gov: Governance, run_id: str, owner: str) -> None:
        self.gov, self.run_id, self.owner = gov, run_id, owner
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _beat(self) -> None:
        interval = max(0.5, self.gov.settings.run_lease_seconds / 3)
        while not self._stop.wait(interval):
            try:
                if not renew(self.gov, self.run_id, self.owner):
                    self.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a missed beat is retried; expiry is the limit
                continue


__all__ = ["Heartbeat", "check_resumable", "claim", "finish_abandoned_cancel",
           "held_message", "new_owner", "recoverable_runs", "renew"]
