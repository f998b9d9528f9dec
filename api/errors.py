"""Map domain errors to HTTP status codes in one place; every error body is JSON.

Bodies are ``{"code": ..., "message": ...}``: ``code`` is stable for programs,
``message`` names the problem and the fix for people.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from governance import errors as e

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
]


def status_for(exc: e.GovernanceError) -> int:
    """The HTTP status of a domain error (most specific class first)."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_response(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    """A JSON error body."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status,
                        headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(e.GovernanceError)
    async def _domain(_req: Request, exc: e.GovernanceError) -> JSONResponse:
        extra = {"problems": exc.problems} if isinstance(exc, e.PolicyError) else {}
        return error_response(status_for(exc), exc.code, exc.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in err['loc'] if p != 'body') or 'body'}: {err['msg']}"
            for err in exc.errors()
        ]
        return error_response(422, "invalid_request", "; ".join(problems), problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
                429: "rate_limited"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error",
                              f"internal error ({type(exc).__name__}); it was logged")
