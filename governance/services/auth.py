"""API keys: created once, stored as SHA-256, mapped to one role each."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlmodel import Session, select

from governance.core.errors import AuthenticationError, ConflictError, InputError, NotFoundError
from governance.core.types import Principal, Role
from governance.store.auditlog import append_event
from governance.store.models import ApiKey, new_id, utcnow

ROLES = tuple(r.value for r in Role)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(*, session: Session, name: str, role: str, actor: str) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret (shown once, never stored).

    Raises:
        InputError: unknown role or a name with unsafe characters.
        ConflictError: a key with that name exists.
    """
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if not _NAME.match(name):
        raise InputError(
            f"key name {name!r} is not allowed; use 1-64 letters, digits, '_', '.', '@' or '-'"
        )
    if session.exec(select(ApiKey).where(ApiKey.name == name)).first() is not None:
        raise ConflictError(f"an API key named {name!r} already exists; pick another name")
    secret = f"gov_{secrets.token_urlsafe(32)}"
    key = ApiKey(id=new_id("key"), name=name, role=role, key_sha256=_digest(secret),
                 prefix=secret[:10])
    session.add(key)
    session.flush()
    append_event(session=session, kind="apikey.created", actor=actor, subject=key.id,
                 payload={"name": name, "role": role, "prefix": key.prefix})
    return key, secret


def principal(key: ApiKey) -> Principal:
    """The acting identity of a stored key."""
    return Principal(id=key.id, name=key.name, role=Role(key.role))


def principal_named(session: Session, name: str) -> Principal:
    """The live key called ``name``, as a principal (the CLI acts as one).

    Raises:
        NotFoundError: no such key, or it was revoked.
    """
    key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None or key.revoked_at is not None:
        raise NotFoundError(f"no live API key named {name!r}; create one with "
                            f"`govern keys create {name} --role approver`")
    return principal(key)


def authenticate(*, session: Session, secret: str | None) -> Principal:
    """Return the live key matching ``secret``.

    Raises:
        AuthenticationError: no secret, or one that matches no live key.
    """
    if not secret:
        raise AuthenticationError(
            "missing API key: send 'Authorization: Bearer <key>' (create one with "
            "`govern keys create NAME --role ROLE`)"
        )
    key = session.exec(select(ApiKey).where(ApiKey.key_sha256 == _digest(secret))).first()
    if key is None or not hmac.compare_digest(key.key_sha256, _digest(secret)):
        raise AuthenticationError("unknown API key")
    if key.revoked_at is not None:
        raise AuthenticationError(f"API key {key.name!r} was revoked")
    return principal(key)


def revoke_api_key(*, session: Session, name: str, actor: str) -> ApiKey:
    """Revoke a key by name (it stops authenticating at once)."""
    key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None:
        raise NotFoundError(f"no API key named {name!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        append_event(session=session, kind="apikey.revoked", actor=actor, subject=key.id,
                     payload={"name": name})
    return key
