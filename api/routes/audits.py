"""The audit log (verify, events) and lineage; read-only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import MAX_OFFSET, Auditor, Gov, Reader
from governance.schemas.audit import EventsPublic, LineagePublic
from governance.services import audit
from governance.services.audit import ChainReport, PublicKey
from governance.services.lineage import lineage

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/audit/verify", response_model=ChainReport)
def verify(gov: Gov, _key: Reader) -> ChainReport:
    """Verify the whole hash chain."""
    return audit.verify(gov)


@router.get("/audit/pubkey", response_model=PublicKey)
def pubkey(gov: Gov, _key: Auditor) -> PublicKey:
    """The installation's public audit key, which checkpoints and bundles verify against."""
    return audit.public_key(gov)


@router.get("/audit/events", response_model=EventsPublic)
def events(gov: Gov, _key: Auditor, after: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> EventsPublic:
    """Audit events in order, paged by sequence number."""
    return audit.events_page(gov, after=after, limit=limit)


@router.get("/lineage/{ref}", response_model=LineagePublic)
def read_lineage(ref: str, gov: Gov, _key: Auditor) -> LineagePublic:
    """Trace a release, candidate, run or dataset back to its source."""
    with gov.session() as s:
        return lineage(s, ref)
