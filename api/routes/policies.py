"""Policy files available to runs, and the JSON Schema of the format."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import MAX_OFFSET, Reader
from governance.policy.library import available_policies, policy_path
from governance.policy.loader import load_policy, policy_json_schema

router = APIRouter(prefix="/v1/policies", tags=["policies"])


@router.get("")
def list_policies(_key: Reader, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                  offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> dict[str, Any]:
    """Names of the available policies, sorted."""
    names = available_policies()[offset:offset + limit]
    return {"data": names, "count": len(names)}


@router.get("/schema")
def schema(_key: Reader) -> dict[str, Any]:
    """The policy format as JSON Schema."""
    return policy_json_schema()


@router.get("/{name}")
def read_policy(name: str, _key: Reader) -> dict[str, Any]:
    """One policy: its text, hash and parsed form."""
    loaded = load_policy(policy_path(name))
    return {"name": name, "sha256": loaded.sha256, "text": loaded.text,
            "policy": loaded.policy.model_dump(mode="json")}
