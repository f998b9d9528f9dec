"""How released bytes leave the API (shared by the release and candidate routes)."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from api.errors import error_doc
from governance.services.releases import as_format, format_headers

MEDIA = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv"}

#: OpenAPI responses of the download routes.
DATA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/vnd.apache.parquet": {}, "text/csv": {}},
          "headers": {
              "X-Artifact-SHA256": {"description": "SHA-256 of the released Parquet artifact "
                                    "(the Parquet body hashes to it).",
                                    "schema": {"type": "string"}},
              "X-CSV-Neutralised": {"description": "CSV only: 'formula-prefix', text cells "
                                    "that would start a spreadsheet formula begin with '.",
                                    "schema": {"type": "string"}}}},
    503: error_doc("The stored artifact is missing or altered; nothing was served."),
}


def data_response(release_id: str, artifact_sha256: str, data: bytes, fmt: str) -> Response:
    """Serve a release's bytes as Parquet (hash-identical to the artifact) or CSV.

    CSV cells that would start a spreadsheet formula are prefixed with ``'``, which the
    response says in ``X-CSV-Neutralised: formula-prefix``.
    """
    headers = {"X-Artifact-SHA256": artifact_sha256,
               "Content-Disposition": f'attachment; filename="{release_id}.{fmt}"',
               **format_headers(fmt)}
    return Response(as_format(data, fmt), media_type=MEDIA[fmt], headers=headers)
