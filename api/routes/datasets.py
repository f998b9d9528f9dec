"""Register and inspect source tables."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from api.deps import MAX_OFFSET, Gov, Reader, Requester
from governance.core.errors import InputError, PayloadTooLargeError
from governance.schemas.datasets import BudgetPublic, DatasetPublic, DatasetsPublic
from governance.services.budget import budget_public
from governance.services.datasets import list_datasets, read_dataset, register_upload

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
_FORM_FIELDS = {"file", "schema", "name", "infer_schema", "split_seed"}


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"upload is larger than the {limit} byte limit; split the "
                                   "file or raise GOVERNANCE_MAX_UPLOAD_BYTES")
    return data


@router.post("", status_code=201, response_model=DatasetPublic)
async def create_dataset(
    request: Request, gov: Gov, key: Requester,
    file: Annotated[UploadFile, File(description="CSV or Parquet table.")],
    schema_file: Annotated[UploadFile | None, File(alias="schema",
                                                    description="Schema YAML.")] = None,
    name: Annotated[str | None, Form(max_length=64)] = None,
    infer_schema: Annotated[bool, Form()] = False,
    split_seed: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
) -> DatasetPublic:
    """Register a table with its public-domain schema."""
    unknown = sorted(set((await request.form()).keys()) - _FORM_FIELDS)
    if unknown:
        raise InputError(f"unknown form field(s) {', '.join(unknown)}: ids, hashes, owner and "
                         f"timestamps are set by the server; send only {sorted(_FORM_FIELDS)}")
    data = await _read_limited(file, gov.settings.max_upload_bytes)
    schema = await _read_limited(schema_file, 1 << 20) if schema_file is not None else None
    return register_upload(gov, data=data, filename=file.filename or "", schema_yaml=schema,
                           infer=infer_schema, name=name, split_seed=split_seed, actor=key.name)


@router.get("", response_model=DatasetsPublic)
def get_datasets(gov: Gov, _key: Reader,
                 limit: Annotated[int, Query(ge=1, le=100)] = 50,
                 offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> DatasetsPublic:
    """List registered datasets (metadata only), oldest first."""
    return list_datasets(gov, offset=offset, limit=limit)


@router.get("/{dataset_id}", response_model=DatasetPublic)
def get_dataset(dataset_id: str, gov: Gov, _key: Reader) -> DatasetPublic:
    """One dataset's record."""
    return read_dataset(gov, dataset_id)


@router.get("/{dataset_id}/budget", response_model=BudgetPublic)
def read_budget(dataset_id: str, gov: Gov, _key: Reader) -> BudgetPublic:
    """A dataset's privacy-budget ledger (basic composition)."""
    return budget_public(gov, dataset_id)
