"""Request dependencies: the service context, the caller's API key, role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.jobs import RunJobs, get_jobs
from governance.core.config import Settings, get_settings
from governance.core.errors import AuthenticationError, InputError
from governance.core.types import Principal, Role
from governance.services import permissions
from governance.services.auth import authenticate
from governance.services.context import Governance
from governance.services.permissions import require_role

#: Largest offset or sequence number a list endpoint accepts (a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1


Config = Annotated[Settings, Depends(get_settings)]


def get_governance(settings: Config) -> Governance:
    """The service context (tests override ``get_settings`` or this dependency)."""
    return Governance.open(settings)


Gov = Annotated[Governance, Depends(get_governance)]


def resolve_key(request: Request, gov: Governance) -> Principal:
    """Authenticate ``Authorization: Bearer <key>`` once per request (cached on its state).

    Raises:
        AuthenticationError: no bearer key, or one that matches no live key.
    """
    cached = getattr(request.state, "auth", None)
    if cached is None:
        secret = None
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            secret = value.strip()
        try:
            with gov.session() as session:
                cached = authenticate(session=session, secret=secret)
        except AuthenticationError as exc:
            cached = exc
        request.state.auth = cached
    if isinstance(cached, AuthenticationError):
        raise cached
    return cached


_bearer = HTTPBearer(auto_error=False, description="An API key from `govern keys create`.")


def current_key(request: Request, gov: Gov,
                _doc: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                ) -> Principal:
    """The caller's API key from ``Authorization: Bearer <key>``.

    ``_doc`` only declares the bearer scheme in OpenAPI; ``resolve_key`` reads the header.
    """
    return resolve_key(request, gov)


Caller = Annotated[Principal, Depends(current_key)]


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request, _key: Caller) -> None:
    """Refuse undeclared or repeated query parameters (a typo must not pass silently).

    Also refuses path parameters holding control or invisible characters (a NUL byte in
    an id would otherwise reach the database driver): no id or name contains one.

    Raises:
        InputError: a parameter the OpenAPI spec does not list for this operation, or a
            path parameter that is not printable text.
    """
    hidden = sorted(k for k, v in request.path_params.items() if not str(v).isprintable())
    if hidden:
        raise InputError(f"path parameter(s) {', '.join(hidden)} contain control or invisible "
                         "characters; ids and names are printable text")
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = _query_names(dependant)
    unknown = sorted(set(request.query_params.keys()) - declared)
    if unknown:
        raise InputError(f"unknown query parameter(s) {', '.join(map(repr, unknown))}; this "
                         f"operation takes: {', '.join(sorted(declared)) or 'none'}")
    repeated = sorted({k for k in request.query_params if len(request.query_params.getlist(k)) > 1})
    if repeated:
        raise InputError(f"query parameter(s) {', '.join(map(repr, repeated))} given more than "
                         "once; each takes a single value")


def require(roles: frozenset[Role]) -> Callable[[Principal], Principal]:
    """A dependency that admits only keys holding one of ``roles`` (admin always)."""

    def check(key: Caller) -> Principal:
        return require_role(key, roles)

    return check


Reader = Annotated[Principal, Depends(require(permissions.READ))]
Requester = Annotated[Principal, Depends(require(permissions.SUBMIT_RUNS))]
Approver = Annotated[Principal, Depends(require(permissions.DECIDE))]
Auditor = Annotated[Principal, Depends(require(permissions.READ_AUDIT))]
Admin = Annotated[Principal, Depends(require(permissions.MANAGE_KEYS))]
Jobs = Annotated[RunJobs, Depends(get_jobs)]
