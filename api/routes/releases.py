"""Releases: read, download (every attempt logged), revoke."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Approver, Caller, Gov, Reader
from api.downloads import DATA_RESPONSES, data_response
from governance.schemas.releases import ReleasePublic
from governance.services.releases import open_release, read_release, revoke

router = APIRouter(prefix="/v1/releases", tags=["releases"])


class RevokeBody(BaseModel):
    """Why a release is revoked (shown to consumers)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


@router.get("/{release_id}", response_model=ReleasePublic)
def get_release(release_id: str, gov: Gov, key: Reader) -> ReleasePublic:
    """A release's status, pins and audience."""
    return read_release(gov, release_id, key)


@router.get("/{release_id}/data", response_class=Response,
            responses=DATA_RESPONSES)
def download(release_id: str, gov: Gov, key: Caller,
             format: Annotated[Literal["parquet", "csv"], Query()] = "parquet") -> Response:
    """Download a release's data (403 unless approved for this caller; every try is logged)."""
    rel, data = open_release(gov, release_id=release_id, consumer=key, fmt=format)
    return data_response(rel.id, rel.artifact_sha256, data, format)


@router.post("/{release_id}/revoke", response_model=ReleasePublic)
def revoke_release(release_id: str, body: RevokeBody, gov: Gov, key: Approver) -> ReleasePublic:
    """Revoke a release; later downloads get 410 with the reason."""
    return revoke(gov, release_id=release_id, actor=key, reason=body.reason)
