"""The audit log (verify, events) and lineage; read-only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import select

from api.deps import MAX_OFFSET, Auditor, Gov, Reader
from governance.services.lineage import lineage
from governance.store.auditlog import verify_log
from governance.store.models import AuditEvent, loads

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/audit/verify")
def verify(gov: Gov, _key: Reader) -> dict[str, Any]:
    """Verify the whole hash chain."""
    with gov.session() as s:
        return verify_log(s).as_dict()


@router.get("/audit/events")
def events(gov: Gov, _key: Auditor, after: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Audit events in order, paged by sequence number."""
    with gov.session() as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.seq > after)
                      .order_by(AuditEvent.seq).limit(limit)).all()
    data = [{"seq": e.seq, "created_at": e.created_at, "kind": e.kind, "actor": e.actor,
             "subject": e.subject, "payload": loads(e.payload), "prev_hash": e.prev_hash,
             "hash": e.hash} for e in rows]
    return {"data": data, "count": len(data)}


@router.get("/lineage/{ref}")
def read_lineage(ref: str, gov: Gov, _key: Auditor) -> dict[str, Any]:
    """Trace a release, candidate, run or dataset back to its source."""
    with gov.session() as s:
        return lineage(s, ref)
