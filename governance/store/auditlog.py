"""Append audit events inside the caller's transaction, in one global order.

``append_event`` locks the audit head row (``SELECT ... FOR UPDATE`` on PostgreSQL;
on SQLite the whole transaction already holds the write lock from ``BEGIN IMMEDIATE``),
takes the next sequence number, chains the hash and moves the head. Because the event
is written in the same transaction as the state change it records, either both land
or neither does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from governance.audit.chain import ChainReport, event_body, hash_event, verify_chain
from governance.audit.events import EVENT_KINDS, EventKind
from governance.core.jsonsafe import canonical_json
from governance.store.models import AuditEvent, AuditHead


def append_event(
    *, session: Session, kind: EventKind | str, actor: str, subject: str, payload: dict[str, Any]
) -> AuditEvent:
    """Append one event to the chain within ``session``'s transaction (caller commits).

    Raises:
        ValueError: for an unknown event kind (a programming error).
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown audit event kind {kind!r}")
    kind = str(EventKind(kind))
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    seq = head.seq + 1
    created_at = datetime.now(UTC).isoformat(timespec="microseconds")
    clean = json.loads(canonical_json(payload))
    body = event_body(seq=seq, created_at=created_at, kind=kind, actor=actor,
                      subject=subject, payload=clean)
    digest = hash_event(head.hash, body)
    ev = AuditEvent(seq=seq, created_at=created_at, kind=kind, actor=actor, subject=subject,
                    payload=canonical_json(clean).decode(), prev_hash=head.hash, hash=digest)
    head.seq, head.hash = seq, digest
    session.add(ev)
    session.add(head)
    session.flush()
    return ev


def iter_events(session: Session, *, batch: int = 5000) -> Iterator[AuditEvent]:
    """Yield every stored event in sequence order, in batches."""
    last = 0
    while True:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(col(AuditEvent.seq))
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify_log(session: Session) -> ChainReport:
    """Verify the whole stored chain and that the head row agrees with its last event."""
    report = verify_chain(iter_events(session))
    if not report.ok:
        return report
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != report.head_seq or head.hash != report.head_hash):
        return report.model_copy(update={
            "ok": False, "first_bad_seq": report.head_seq + 1,
            "reason": f"the head row says {head.seq} events but the chain ends at "
                      f"{report.head_seq}: events were deleted or the head was altered"})
    return report


def events_for(session: Session, subjects: set[str]) -> list[AuditEvent]:
    """Events whose subject is one of ``subjects``, in order."""
    if not subjects:
        return []
    return list(session.exec(
        select(AuditEvent).where(col(AuditEvent.subject).in_(sorted(subjects)))
        .order_by(col(AuditEvent.seq))
    ).all())


def event_hashes(session: Session, *, upto: int) -> list[str]:
    """The hashes of events 1..``upto``, in order (the leaves of checkpoints)."""
    return list(session.exec(
        select(AuditEvent.hash).where(AuditEvent.seq <= upto).order_by(col(AuditEvent.seq))
    ).all())
