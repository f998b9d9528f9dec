"""The OpenAPI document and the Swagger UI, each served only when the settings allow it.

``/openapi.json`` is served unless ``GOVERNANCE_OPENAPI_ENABLED=false``; ``/docs`` only
in the development environment unless ``GOVERNANCE_DOCS_ENABLED`` says otherwise (and
never without the OpenAPI document). The page loads Swagger UI's script and stylesheet
from ``/docs/assets/`` (vendored in ``api/static/swagger-ui`` with their licence), so it
works without network access, and its Content Security Policy admits only those files
and the page's own inline start-up script (by hash).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from api.deps import Config
from governance.core.errors import NotFoundError

router = APIRouter(include_in_schema=False)

ASSETS_DIR = Path(__file__).with_name("static") / "swagger-ui"
#: The files ``/docs/assets/`` serves, and their media types (nothing else is reachable).
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
          "favicon-32x32.png": "image/png", "LICENSE": "text/plain", "NOTICE": "text/plain"}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _off(what: str, setting: str) -> NotFoundError:
    return NotFoundError(f"{what} is not served by this instance ({setting})")


@router.get("/openapi.json")
def openapi(request: Request, settings: Config) -> JSONResponse:
    """The OpenAPI document (unless ``GOVERNANCE_OPENAPI_ENABLED=false``)."""
    if not settings.openapi_enabled:
        raise _off("the OpenAPI document", "GOVERNANCE_OPENAPI_ENABLED=false")
    spec: dict[str, Any] = request.app.openapi()
    return JSONResponse(spec)


@router.get("/docs")
def docs(request: Request, settings: Config) -> HTMLResponse:
    """The Swagger UI, with its assets served locally."""
    if not settings.serve_docs:
        raise _off("/docs", "set GOVERNANCE_DOCS_ENABLED=true, or run in development")
    page = get_swagger_ui_html(
        openapi_url="/openapi.json", title=f"{request.app.title} - API docs",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon-32x32.png",
        # No calls to swagger.io's online validator: the page stays on this server.
        swagger_ui_parameters={"validatorUrl": None})
    body = bytes(page.body).decode("utf-8")
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(body))
    csp = (f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
    return HTMLResponse(body, headers={"Content-Security-Policy": csp})


@router.get("/docs/assets/{name}")
def docs_asset(name: str, settings: Config) -> FileResponse:
    """One of the Swagger UI files (a fixed list)."""
    if not settings.serve_docs or name not in ASSETS:
        raise NotFoundError(f"no docs asset {name!r}")
    return FileResponse(ASSETS_DIR / name, media_type=ASSETS[name],
                        headers={"Cache-Control": "public, max-age=86400"})
