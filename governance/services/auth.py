"""API keys: created once, stored as SHA-256, mapped to one role each."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path

from sqlmodel import Session, col, select

from governance.core.errors import AuthenticationError, ConflictError, InputError, NotFoundError
from governance.core.types import Principal, Role
from governance.schemas.keys import ApiKeyCreated, ApiKeyPublic, ApiKeysPublic
from governance.services.context import Governance
from governance.store.auditlog import append_event
from governance.store.models import ApiKey, new_id, utcnow
from governance.store.private import read_private

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
    """The live key called ``name``, as a principal (for services and tests, not the CLI).

    Raises:
        NotFoundError: no such key, or it was revoked.
    """
    key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None or key.revoked_at is not None:
        raise NotFoundError(f"no live API key named {name!r}; create one with "
                            f"`govern keys create {name} --role approver`")
    return principal(key)


def read_key_file(path: Path) -> str:
    """The API key in a file that only its owner may read (first non-blank line).

    Raises:
        InputError: the file is missing, a symbolic link, readable by others, or empty.
    """
    raw = read_private(path, what="the API key file")
    lines = [line.strip() for line in raw.decode("utf-8", "replace").splitlines()]
    secret = next((line for line in lines if line), "")
    if not secret:
        raise InputError(f"the API key file {path} is empty")
    return secret


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


def list_api_keys(*, session: Session) -> list[ApiKey]:
    """Every key, live and revoked, oldest first."""
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.created_at),
                                                     col(ApiKey.name))).all())


def has_live_admin(*, session: Session) -> bool:
    """Whether any admin key is live (until one is, the CLI may create the first)."""
    return session.exec(select(ApiKey).where(ApiKey.role == Role.ADMIN.value,
                                             col(ApiKey.revoked_at).is_(None))).first() is not None


def revoke_api_key(*, session: Session, name: str, actor: str) -> ApiKey:
    """Revoke a key by name (it stops authenticating at once; revoking twice is a no-op).

    Raises:
        NotFoundError: no key has this name.
    """
    key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None:
        raise NotFoundError(f"no API key named {name!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        append_event(session=session, kind="apikey.revoked", actor=actor, subject=key.id,
                     payload={"name": name})
    return key


def issue_key(gov: Governance, *, name: str, role: str, actor: str) -> ApiKeyCreated:
    """Create a key and return it with its secret (shown this once)."""
    with gov.session() as s:
        key, secret = create_api_key(session=s, name=name, role=role, actor=actor)
        return ApiKeyCreated(**ApiKeyPublic.from_row(key).model_dump(), key=secret)


def all_keys(gov: Governance) -> ApiKeysPublic:
    """Every key, live and revoked, oldest first (never their secrets)."""
    with gov.session() as s:
        rows = [ApiKeyPublic.from_row(k) for k in list_api_keys(session=s)]
    return ApiKeysPublic(data=rows, count=len(rows))


def revoke_key(gov: Governance, *, name: str, actor: str) -> ApiKeyPublic:
    """Revoke the key called ``name``; it is refused (401) from its next request on."""
    with gov.session() as s:
        return ApiKeyPublic.from_row(revoke_api_key(session=s, name=name, actor=actor))
