"""Register and inspect source tables; their owners set budgets and grant access."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import MAX_OFFSET, Gov, Reader, Requester
from api.errors import error_doc
from api.uploads import UPLOAD_BODY, read_upload
from governance.schemas.datasets import (
    BudgetPublic,
    DatasetGrantPublic,
    DatasetPublic,
    DatasetsPublic,
)
from governance.services.budget import budget_public, set_budget
from governance.services.datasets import (
    grant_dataset,
    list_datasets,
    read_dataset,
    register_upload,
)

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


class BudgetUpdate(BaseModel):
    """A dataset's new privacy budget; what was spent or reserved is the server's."""

    model_config = ConfigDict(extra="forbid")

    epsilon: float = Field(ge=0, le=1e6, allow_inf_nan=False,
                           description="Total epsilon all runs on the dataset may spend.")


class GrantCreate(BaseModel):
    """Whom to let see the dataset and start runs on it (a requester's key name)."""

    model_config = ConfigDict(extra="forbid")

    grantee: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$",
                         description="The requester key's name.")


@router.post("", status_code=201, response_model=DatasetPublic, openapi_extra=UPLOAD_BODY,
             responses={413: error_doc("The upload (or its width) is over a limit.")})
async def create_dataset(request: Request, gov: Gov, key: Requester) -> DatasetPublic:
    """Register a table with its public-domain schema."""
    # The key was checked before any body byte was read; the body is read within the
    # limit and parsed in a worker thread, so the event loop keeps serving others.
    upload = await read_upload(request, max_upload_bytes=gov.settings.max_upload_bytes)
    try:
        return await run_in_threadpool(
            register_upload, gov, data=upload.file.file, filename=upload.file.filename or "",
            schema_yaml=upload.schema, infer=upload.fields.infer_schema,
            name=upload.fields.name, split_seed=upload.fields.split_seed, actor=key.name,
            policy=upload.fields.policy)
    finally:
        await upload.close()


@router.get("", response_model=DatasetsPublic)
def get_datasets(gov: Gov, key: Reader,
                 limit: Annotated[int, Query(ge=1, le=100)] = 50,
                 offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> DatasetsPublic:
    """List the datasets the caller may see (metadata only), oldest first."""
    return list_datasets(gov, offset=offset, limit=limit, viewer=key)


@router.get("/{dataset_id}", response_model=DatasetPublic)
def get_dataset(dataset_id: str, gov: Gov, key: Reader) -> DatasetPublic:
    """One dataset's record."""
    return read_dataset(gov, dataset_id, key)


@router.get("/{dataset_id}/budget", response_model=BudgetPublic)
def read_budget(dataset_id: str, gov: Gov, key: Reader) -> BudgetPublic:
    """A dataset's privacy budget: spent, reserved and left (basic composition)."""
    return budget_public(gov, dataset_id, key)


@router.put("/{dataset_id}/budget", response_model=BudgetPublic,
            responses={409: error_doc("The budget would be below what is spent and reserved.")})
def update_budget(dataset_id: str, body: BudgetUpdate, gov: Gov, key: Requester) -> BudgetPublic:
    """Set a dataset's privacy budget (its owner or an admin)."""
    return set_budget(gov, dataset=dataset_id, epsilon=body.epsilon, actor=key)


@router.post("/{dataset_id}/grants", status_code=201, response_model=DatasetGrantPublic,
             responses={409: error_doc("The key already has access.")})
def create_grant(dataset_id: str, body: GrantCreate, gov: Gov,
                 key: Requester) -> DatasetGrantPublic:
    """Let a requester's key see the dataset and run on it (its owner or an admin)."""
    return grant_dataset(gov, dataset=dataset_id, grantee=body.grantee, actor=key)
