"""Policy files available to runs, and the JSON Schema of the format."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import MAX_OFFSET, Gov, Reader
from governance.schemas.policies import PoliciesPublic, PolicyPublic
from governance.services.policies import describe_schema, list_policies, named_policy

router = APIRouter(prefix="/v1/policies", tags=["policies"])


@router.get("", response_model=PoliciesPublic)
def get_policies(gov: Gov, _key: Reader, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                 offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> PoliciesPublic:
    """Names of the available policies, sorted."""
    return list_policies(gov, offset=offset, limit=limit)


@router.get("/schema", response_model=dict[str, Any])
def schema(_key: Reader) -> dict[str, Any]:
    """The policy format as JSON Schema."""
    return describe_schema()


@router.get("/{name}", response_model=PolicyPublic)
def read_policy(name: str, gov: Gov, _key: Reader) -> PolicyPublic:
    """One policy: its text, hash and parsed form."""
    return named_policy(gov, name)
