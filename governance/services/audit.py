"""The audit log as the CLI and API use it: verify, checkpoint, page through events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from governance.audit.bundle import verify_bundle
from governance.audit.chain import ChainReport, check_checkpoint, sign_checkpoint
from governance.core.errors import IntegrityError
from governance.core.types import Record
from governance.schemas.audit import EventPublic, EventsPublic
from governance.services.context import Governance
from governance.store.auditlog import iter_events, verify_log
from governance.store.models import AuditEvent

__all__ = ["ChainReport", "events_page", "verify", "verify_bundle", "write_checkpoint"]


def verify(gov: Governance, *, checkpoint: Any = None) -> ChainReport:
    """Verify the whole chain, and against a signed checkpoint when one is given."""
    with gov.session() as s:
        report = verify_log(s)
        if checkpoint is not None and report.ok:
            reason = check_checkpoint(checkpoint, key=gov.settings.checkpoint_key,
                                      events=list(iter_events(s)))
            if reason:
                report = report.model_copy(update={"ok": False, "reason": reason})
    return report


def write_checkpoint(gov: Governance) -> dict[str, Any]:
    """A signed checkpoint of the log's size and head hash.

    Raises:
        IntegrityError: the log does not verify (a broken log is never checkpointed).
    """
    with gov.session() as s:
        report = verify_log(s)
    if not report.ok:
        raise IntegrityError(f"refusing to checkpoint a broken log: {report.reason}")
    return sign_checkpoint(tree_size=report.head_seq, head_hash=report.head_hash,
                           key=gov.settings.checkpoint_key)


def events_page(gov: Governance, *, after: int, limit: int) -> EventsPublic:
    """Audit events with ``seq > after``, in order, at most ``limit``."""
    with gov.session() as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.seq > after)
                      .order_by(col(AuditEvent.seq)).limit(limit)).all()
    data = [EventPublic.from_row(e) for e in rows]
    return EventsPublic(data=data, count=len(data))


class Health(Record):
    """The service answers and so does its database."""

    status: str


def health(gov: Governance) -> Health:
    """Run ``SELECT 1`` on the database (raises if it does not answer)."""
    with gov.session() as session:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return Health(status="ok")
