"""Policy files available to runs, and the JSON Schema of the format."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Reader
from governance.policy.library import available_policies, policy_path
from governance.policy.loader import load_policy, policy_json_schema

router = APIRouter(prefix="/v1/policies", tags=["policies"])


@router.get("")
def list_policies(_key: Reader) -> dict[str, Any]:
    """Names of the available policies."""
    names = available_policies()
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
