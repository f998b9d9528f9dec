"""Releases: read, download (every attempt logged), revoke."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Approver, Caller, Gov, Reader
from governance.core.errors import NotFoundError
from governance.services.releases import get_release, open_release, revoke_release
from governance.services.views import release_view
from governance.store.models import ApiKey, Release

router = APIRouter(prefix="/v1/releases", tags=["releases"])


class RevokeBody(BaseModel):
    """Why a release is revoked (shown to consumers)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


def _visible(rel: Release, key: ApiKey) -> bool:
    if key.role != "requester":
        return True
    consumers = json.loads(rel.consumers_json)
    return rel.requested_by == key.name or key.name in consumers or "*" in consumers


@router.get("/{release_id}")
def read_release(release_id: str, gov: Gov, key: Reader) -> dict[str, Any]:
    """A release's status, pins and audience."""
    with gov.session() as s:
        rel = get_release(s, release_id)
    if not _visible(rel, key):
        raise NotFoundError(f"no release {release_id!r}")
    return release_view(rel)


@router.get("/{release_id}/data", response_class=Response,
            responses={200: {"content": {"application/vnd.apache.parquet": {}, "text/csv": {}}}})
def download(release_id: str, gov: Gov, key: Caller,
             format: Annotated[Literal["parquet", "csv"], Query()] = "parquet") -> Response:
    """Download a release's data (403 unless approved for this caller; every try is logged)."""
    rel, data = open_release(gov, release_id=release_id, consumer=key, fmt=format)
    return data_response(rel, data, format)


def data_response(rel: Release, data: bytes, format: str) -> Response:
    """Serve a release's bytes as Parquet (hash-identical to the artifact) or CSV."""
    headers = {"X-Artifact-SHA256": rel.artifact_sha256,
               "Content-Disposition": f'attachment; filename="{rel.id}.{format}"'}
    if format == "csv":
        import pandas as pd

        buf = io.StringIO()
        pd.read_parquet(io.BytesIO(data)).to_csv(buf, index=False)
        return Response(buf.getvalue(), media_type="text/csv", headers=headers)
    return Response(data, media_type="application/vnd.apache.parquet", headers=headers)


@router.post("/{release_id}/revoke")
def revoke(release_id: str, body: RevokeBody, gov: Gov, key: Approver) -> dict[str, Any]:
    """Revoke a release; later downloads get 410 with the reason."""
    with gov.session() as s:
        return release_view(revoke_release(session=s, release_id=release_id, actor=key,
                                           reason=body.reason))
