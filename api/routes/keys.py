"""API keys: create, list and revoke (admins only)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Admin, Gov
from governance.schemas.keys import ApiKeyCreated, ApiKeyPublic, ApiKeysPublic
from governance.services.auth import ROLES, all_keys, issue_key, revoke_key

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyBody(BaseModel):
    """A new key's holder and role."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=32, description=f"One of: {', '.join(ROLES)}.")


@router.get("", response_model=ApiKeysPublic)
def list_keys(gov: Gov, _key: Admin) -> ApiKeysPublic:
    """Every API key, live and revoked (never a secret)."""
    return all_keys(gov)


@router.post("", status_code=201, response_model=ApiKeyCreated)
def create_key(body: KeyBody, gov: Gov, key: Admin) -> ApiKeyCreated:
    """Create an API key; its secret is in this answer only."""
    return issue_key(gov, name=body.name, role=body.role, actor=key.name)


@router.delete("/{name}", response_model=ApiKeyPublic)
def delete_key(name: str, gov: Gov, key: Admin) -> ApiKeyPublic:
    """Revoke an API key: it is refused (401) from its next request on."""
    return revoke_key(gov, name=name, actor=key.name)
