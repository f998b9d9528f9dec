"""Map domain errors to HTTP status codes in one place; every error body is JSON.

Bodies are ``{"code": ..., "message": ...}``: ``code`` is stable for programs,
``message`` names the problem and the fix for people. Messages never show the server's
file system: core messages name files by what the caller sent, and as a second line of
defence any absolute path left in a message is replaced by ``<server path>``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.security import security_headers
from governance.core import errors as e
from governance.services.context import no_connection_free, unavailable_error

log = logging.getLogger("api")

STATUS: list[tuple[type[e.GovernanceError], int]] = [
    (e.BudgetExceededError, 409),
    (e.PayloadTooLargeError, 413),
    (e.UnknownColumnError, 422),
    (e.UnknownGeneratorError, 422),
    (e.PolicyError, 422),
    (e.SchemaError, 422),
    (e.DatasetError, 422),
    (e.InputError, 422),
    (e.NotFoundError, 404),
    (e.AuthenticationError, 401),
    (e.PermissionDeniedError, 403),
    (e.ReleaseGoneError, 410),
    (e.ConflictError, 409),
    (e.IntegrityError, 500),
    (e.AccountingError, 500),
    (e.ArtifactUnavailableError, 503),
    (e.ConfigurationError, 500),
    (e.ServiceUnavailableError, 503),
    (e.ExecutorUnavailableError, 503),
    (e.QuotaExceededError, 429),
]

#: An absolute POSIX path of two or more segments (API routes such as /v1/... excepted).
_SQLITE_URL = re.compile(r"sqlite:///[^\s'\"]*[^\s'\",;:.)]")
_SERVER_PATH = re.compile(r"(?<![\w.~/-])/(?!v1[/\s'\"]|v1$)[^\s'\"/]+/[^\s'\",;)]*")


def scrub(message: str) -> str:
    """``message`` with any absolute file system path replaced by ``<server path>``.

    >>> scrub("artifact is missing from /srv/gov/artifacts; see /v1/runs/run_1")
    'artifact is missing from <server path>; see /v1/runs/run_1'
    """
    return _SERVER_PATH.sub("<server path>", _SQLITE_URL.sub("sqlite:///<server path>", message))


def status_for(exc: e.GovernanceError) -> int:
    """The HTTP status of a domain error (most specific class first)."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


class ErrorBody(BaseModel):
    """Every error: a stable ``code`` for programs and a ``message`` for people."""

    code: str
    message: str
    problems: list[str] | None = None


def error_doc(description: str) -> dict[str, Any]:
    """An OpenAPI response entry whose body is an ``ErrorBody``."""
    return {"model": ErrorBody, "description": description}


_err = error_doc


#: Errors any authenticated ``/v1`` operation may answer (declared in OpenAPI).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _err("Missing or unknown API key."),
    403: _err("The key's role may not do this."),
    404: _err("No such object, or not visible to this key."),
    422: _err("Invalid request: the message names each problem."),
    429: {**_err("Rate limit exceeded; see Retry-After."),
          "headers": {"Retry-After": {"description": "Seconds to wait.",
                                      "schema": {"type": "integer"}}}},
    503: {**_err("No database connection was free; nothing changed. Retry after Retry-After."),
          "headers": {"Retry-After": {"description": "Seconds to wait.",
                                      "schema": {"type": "integer"}}}},
}


def error_response(status: int, code: str, message: str, *,
                   headers: dict[str, str] | None = None,
                   fields: dict[str, object] | None = None, **extra: object) -> JSONResponse:
    """A JSON error body (the message scrubbed of server paths), plus ``fields`` and ``extra``."""
    message = scrub(message)
    extra = {**(fields or {}), **extra}
    if "problems" in extra and isinstance(extra["problems"], list):
        extra["problems"] = [scrub(str(p)) for p in extra["problems"]]
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status,
                        headers=headers or None)


def _unauthenticated(req: Request) -> bool:
    """A /v1 request without a bearer key whose body failed to parse before auth ran.

    FastAPI parses a JSON body before it solves dependencies, so without this an
    anonymous caller would learn about body validation (422) instead of getting 401.
    """
    if not req.url.path.startswith("/v1") or hasattr(req.state, "auth"):
        return False
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    return scheme.lower() != "bearer" or not value.strip()


def _allowed_methods(req: Request) -> str:
    """Every method the API documents at this path (Starlette names only the first route's)."""
    path, methods = req.url.path, set()
    for template, ops in req.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path):
            methods |= {m.upper() for m in ops}
    return ", ".join(sorted(methods))


def _unavailable(exc: e.ServiceUnavailableError, *,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    return error_response(503, exc.code, exc.message,
                          headers={**(headers or {}), "Retry-After": str(exc.retry_after)})


def _reason(err: Any) -> str:
    """A validation problem in words (an unknown field says so plainly)."""
    if err.get("type") == "extra_forbidden":
        return ("unknown field: this operation does not accept it (the OpenAPI spec lists "
                "the fields it takes)")
    return str(err["msg"])


def _missing_key() -> JSONResponse:
    return error_response(401, e.AuthenticationError.code,
                          "missing API key: send 'Authorization: Bearer <key>'")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(e.GovernanceError)
    async def _domain(_req: Request, exc: e.GovernanceError) -> JSONResponse:
        if isinstance(exc, e.PolicyError):
            return error_response(status_for(exc), exc.code, exc.message, problems=exc.problems)
        if isinstance(exc, e.ServiceUnavailableError):
            return _unavailable(exc)
        return error_response(status_for(exc), exc.code, exc.message, fields=exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(req: Request, exc: RequestValidationError) -> JSONResponse:
        if _unauthenticated(req):
            return _missing_key()
        problems = [
            f"{'.'.join(str(p) for p in err['loc'] if p != 'body') or 'body'}: {_reason(err)}"
            for err in exc.errors()
        ]
        return error_response(422, "invalid_request", "; ".join(problems), problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that cannot be parsed at all (bad JSON, multipart)
            if _unauthenticated(req):
                return _missing_key()
            return error_response(422, "invalid_request",
                                  f"the request body could not be parsed ({exc.detail}); send "
                                  "JSON (or multipart for uploads) as the OpenAPI spec shows")
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
                429: "rate_limited"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(req)
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, exc: Exception) -> JSONResponse:
        if no_connection_free(exc):  # a driver error that escaped the session's translation
            return _unavailable(unavailable_error(), headers=security_headers(req.url.path))
        log.exception("unhandled error")
        # Answered outside the middleware stack, so the security headers are added here.
        return error_response(500, "internal_error",
                              f"internal error ({type(exc).__name__}); it was logged",
                              headers=security_headers(req.url.path))
