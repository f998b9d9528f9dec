"""Candidates and the decisions approvers make on them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import select

from api.deps import Approver, Caller, Gov, Reader
from api.routes.releases import data_response
from api.routes.runs import get_visible_run
from governance.services.releases import (
    get_candidate,
    open_candidate_data,
    record_decision,
    release_for_candidate,
)
from governance.services.views import candidate_view, decision_view, release_view
from governance.store.models import Decision

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])


class DecisionCreate(BaseModel):
    """An approver's decision; who decided and under which policy is the server's to set."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: str = Field("", max_length=2000)


@router.get("/{candidate_id}")
def read_candidate(candidate_id: str, gov: Gov, key: Reader) -> dict[str, Any]:
    """A candidate's privacy, attack, utility, fidelity and verdict records."""
    with gov.session() as s:
        cand = get_candidate(s, candidate_id)
    get_visible_run(gov, cand.run_id, key)
    with gov.session() as s:
        doc = candidate_view(cand)
        doc["decisions"] = [decision_view(d) for d in s.exec(
            select(Decision).where(Decision.candidate_id == cand.id)).all()]
        rel = release_for_candidate(s, cand.id)
        doc["release"] = release_view(rel) if rel else None
        return doc


@router.get("/{candidate_id}/data", response_class=Response,
            responses={200: {"content": {"application/vnd.apache.parquet": {}, "text/csv": {}}}})
def candidate_data(candidate_id: str, gov: Gov, key: Caller,
                   format: Annotated[Literal["parquet", "csv"], Query()] = "parquet") -> Response:
    """A candidate's data, only through an approved release (403 before; every try logged)."""
    rel, data = open_candidate_data(gov, candidate_id=candidate_id, consumer=key, fmt=format)
    return data_response(rel, data, format)


@router.post("/{candidate_id}/decisions", status_code=201)
def decide(candidate_id: str, body: DecisionCreate, gov: Gov, key: Approver) -> dict[str, Any]:
    """Approve or reject a candidate; a quorum of approvals creates a release."""
    with gov.session() as s:
        outcome = record_decision(session=s, candidate_id=candidate_id, actor=key,
                                  decision=body.decision, reason=body.reason)
        rel = outcome.release or outcome.pending_release
        return {"decision": decision_view(outcome.decision), "approvals": outcome.approvals,
                "quorum": outcome.quorum, "release": release_view(rel) if rel else None}
