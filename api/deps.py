"""Request dependencies: the service context, the caller's API key, role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header

from governance.auth import authenticate
from governance.config import Settings, get_settings
from governance.context import Governance
from governance.errors import PermissionDeniedError
from governance.store.models import ApiKey


def get_governance(settings: Annotated[Settings, Depends(get_settings)]) -> Governance:
    """The service context (tests override ``get_settings`` or this dependency)."""
    return Governance.open(settings)


Gov = Annotated[Governance, Depends(get_governance)]


def current_key(gov: Gov, authorization: Annotated[str | None, Header()] = None) -> ApiKey:
    """The caller's API key from ``Authorization: Bearer <key>``."""
    secret = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        secret = value.strip() if scheme.lower() == "bearer" else None
    with gov.session() as session:
        return authenticate(session=session, secret=secret)


Caller = Annotated[ApiKey, Depends(current_key)]


def require(*roles: str) -> Callable[[ApiKey], ApiKey]:
    """A dependency that admits only keys holding one of ``roles`` (admin always)."""

    def check(key: Caller) -> ApiKey:
        if key.role != "admin" and key.role not in roles:
            raise PermissionDeniedError(
                f"role {key.role!r} may not do this; it needs one of: "
                f"{', '.join(sorted({*roles, 'admin'}))}"
            )
        return key

    return check


Reader = Annotated[ApiKey, Depends(require("requester", "approver", "auditor"))]
Requester = Annotated[ApiKey, Depends(require("requester"))]
Approver = Annotated[ApiKey, Depends(require("approver"))]
Auditor = Annotated[ApiKey, Depends(require("auditor"))]
