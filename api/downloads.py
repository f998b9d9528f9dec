"""How released bytes leave the API (shared by the release and candidate routes)."""

from __future__ import annotations

from fastapi import Response

from governance.services.releases import as_format

MEDIA = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv"}


def data_response(release_id: str, artifact_sha256: str, data: bytes, fmt: str) -> Response:
    """Serve a release's bytes as Parquet (hash-identical to the artifact) or CSV."""
    headers = {"X-Artifact-SHA256": artifact_sha256,
               "Content-Disposition": f'attachment; filename="{release_id}.{fmt}"'}
    return Response(as_format(data, fmt), media_type=MEDIA[fmt], headers=headers)
