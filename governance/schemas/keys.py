"""Read models of API keys (never their secrets, except once at creation)."""

from __future__ import annotations

from datetime import datetime

from governance.core.types import Record
from governance.store.models import ApiKey


class ApiKeyPublic(Record):
    """An API key: its holder's name and role, the secret's first characters, its state."""

    id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, key: ApiKey) -> ApiKeyPublic:
        """The read model of a stored key."""
        return cls(id=key.id, name=key.name, role=key.role, prefix=key.prefix,
                   created_at=key.created_at, revoked_at=key.revoked_at)


class ApiKeysPublic(Record):
    """Every API key, live and revoked, oldest first."""

    data: list[ApiKeyPublic]
    count: int


class ApiKeyCreated(ApiKeyPublic):
    """A new key with its secret, shown this once (only its hash is stored)."""

    key: str
