"""Register and inspect source tables."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from sqlmodel import select

from api.deps import MAX_OFFSET, Gov, Reader, Requester
from governance.core.errors import DatasetError, InputError, PayloadTooLargeError, SchemaError
from governance.datasets.schema import parse_schema
from governance.services.budget import summarize
from governance.services.datasets import get_dataset, register_dataset
from governance.services.views import dataset_view
from governance.store.models import Dataset

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
_SUFFIXES = {".csv", ".parquet", ".pq"}
_FORM_FIELDS = {"file", "schema", "name", "infer_schema", "split_seed"}


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"upload is larger than the {limit} byte limit; split the "
                                   "file or raise GOVERNANCE_MAX_UPLOAD_BYTES")
    return data


@router.post("", status_code=201)
async def create_dataset(
    request: Request, gov: Gov, key: Requester,
    file: Annotated[UploadFile, File(description="CSV or Parquet table.")],
    schema_file: Annotated[UploadFile | None, File(alias="schema",
                                                    description="Schema YAML.")] = None,
    name: Annotated[str | None, Form(max_length=64)] = None,
    infer_schema: Annotated[bool, Form()] = False,
    split_seed: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """Register a table with its public-domain schema."""
    import yaml

    unknown = sorted(set((await request.form()).keys()) - _FORM_FIELDS)
    if unknown:
        raise InputError(f"unknown form field(s) {', '.join(unknown)}: ids, hashes, owner and "
                         f"timestamps are set by the server; send only {sorted(_FORM_FIELDS)}")
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in _SUFFIXES:
        raise DatasetError(f"file {file.filename!r} must be a .csv or .parquet file")
    limit = gov.settings.max_upload_bytes
    data = await _read_limited(file, limit)
    parsed = None
    if schema_file is not None:
        raw = await _read_limited(schema_file, 1 << 20)
        try:
            parsed = parse_schema(yaml.safe_load(raw.decode("utf-8")), source="uploaded schema")
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise SchemaError(f"the uploaded schema is not valid YAML: {exc}") from None
    elif not infer_schema:
        raise InputError("send a 'schema' file part, or set infer_schema=true")
    stem = Path(file.filename or "upload").stem
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{stem}{suffix}"
        path.write_bytes(data)
        ds = register_dataset(gov, path=path, schema=parsed, infer=parsed is None,
                              name=name or stem, split_seed=split_seed, actor=key.name)
    return dataset_view(ds)


@router.get("")
def list_datasets(gov: Gov, _key: Reader,
                  limit: Annotated[int, Query(ge=1, le=100)] = 50,
                  offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> dict[str, Any]:
    """List registered datasets (metadata only), oldest first."""
    with gov.session() as s:
        rows = s.exec(select(Dataset).order_by(Dataset.created_at)  # type: ignore[arg-type]
                      .offset(offset).limit(limit)).all()
        return {"data": [dataset_view(d) for d in rows], "count": len(rows)}


@router.get("/{dataset_id}")
def read_dataset(dataset_id: str, gov: Gov, _key: Reader) -> dict[str, Any]:
    """One dataset's record."""
    with gov.session() as s:
        return dataset_view(get_dataset(s, dataset_id))


@router.get("/{dataset_id}/budget")
def read_budget(dataset_id: str, gov: Gov, _key: Reader) -> dict[str, Any]:
    """A dataset's privacy-budget ledger (basic composition)."""
    with gov.session() as s:
        ds = get_dataset(s, dataset_id)
        summ = summarize(s, dataset_id=ds.id)
    return {"dataset_id": ds.id, "epsilon_spent": summ.epsilon_spent,
            "delta_spent": summ.delta_spent, "charges": summ.charges,
            "composition": summ.composition}
