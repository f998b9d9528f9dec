"""Candidates and the decisions approvers make on them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Approver, Caller, Gov, Reader
from api.downloads import DATA_RESPONSES, data_response
from governance.schemas.releases import DecisionOutcomePublic
from governance.schemas.runs import CandidateDetail
from governance.services.releases import decide_candidate, open_candidate_data
from governance.services.runs.read import read_candidate

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])


class DecisionCreate(BaseModel):
    """An approver's decision; who decided and under which policy is the server's to set."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: str = Field("", max_length=2000)


@router.get("/{candidate_id}", response_model=CandidateDetail)
def get_candidate(candidate_id: str, gov: Gov, key: Reader) -> CandidateDetail:
    """A candidate's privacy, attack, utility, fidelity and verdict records."""
    return read_candidate(gov, candidate_id, key)


@router.get("/{candidate_id}/data", response_class=Response,
            responses=DATA_RESPONSES)
def candidate_data(candidate_id: str, gov: Gov, key: Caller,
                   format: Annotated[Literal["parquet", "csv"], Query()] = "parquet") -> Response:
    """A candidate's data, only through an approved release (403 before; every try logged)."""
    rel, data = open_candidate_data(gov, candidate_id=candidate_id, consumer=key, fmt=format)
    return data_response(rel.id, rel.artifact_sha256, data, format)


@router.post("/{candidate_id}/decisions", status_code=201, response_model=DecisionOutcomePublic)
def decide(candidate_id: str, body: DecisionCreate, gov: Gov,
           key: Approver) -> DecisionOutcomePublic:
    """Approve or reject a candidate; a quorum of approvals creates a release."""
    return decide_candidate(gov, candidate_id=candidate_id, actor=key, decision=body.decision,
                            reason=body.reason)
