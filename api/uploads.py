"""Read a multipart upload within limits, only after the caller is authenticated.

The upload route declares no body parameters, so FastAPI solves its dependencies (the
key, the role, the rate limit) before a single body byte is read: an anonymous or
forbidden upload is refused with its body unread. The body is then read here:

- a ``Content-Length`` over the limit is refused (413) before reading;
- otherwise the bytes are counted as they arrive and reading stops (413) as soon as the
  count passes the limit, so a chunked body cannot spool more than the limit;
- at most two file parts and a handful of small fields are accepted.

The limit is ``GOVERNANCE_MAX_UPLOAD_BYTES`` for the table, plus ``SCHEMA_LIMIT`` for
the schema and ``FORM_OVERHEAD`` for the multipart framing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from governance.core.errors import InputError, PayloadTooLargeError

SCHEMA_LIMIT = 1 << 20
FORM_OVERHEAD = 64 * 1024
FIELDS = frozenset({"file", "schema", "name", "infer_schema", "split_seed", "policy"})
#: The code of a body that does not have the documented shape (as FastAPI's validation).
INVALID_BODY = "invalid_request"


class UploadFields(BaseModel):
    """The text fields of a dataset upload."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None  # the naming rules (length included) are checked by the service
    infer_schema: bool = False
    split_seed: int = Field(0, ge=0, le=2**31 - 1)
    policy: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


#: The request body as OpenAPI documents it (the route reads it itself).
UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "title": "DatasetUpload",
        "properties": {
            "file": {"type": "string", "contentMediaType": "application/octet-stream",
                     "description": "CSV or Parquet table (at most GOVERNANCE_MAX_UPLOAD_BYTES)."},
            "schema": {"type": "string", "contentMediaType": "application/octet-stream",
                       "description": "Schema YAML (at most 1 MiB)."},
            "name": {"type": "string", "maxLength": 64,
                     "description": "Dataset name (default: the file's stem)."},
            "infer_schema": {"type": "boolean", "default": False},
            "split_seed": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1,
                           "default": 0},
            "policy": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                       "description": "Policy whose risk.max_total_epsilon starts the "
                                      "dataset's budget (default: the default policy)."}}}}}}}


@dataclass
class Upload:
    """A parsed upload: the table, the schema's bytes and the text fields."""

    form: FormData
    file: UploadFile
    schema: bytes | None
    fields: UploadFields

    async def close(self) -> None:
        """Close (and so delete) the spooled parts."""
        await self.form.close()


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the upload is larger than the {limit} byte limit; split the file or ask an "
        "operator to raise GOVERNANCE_MAX_UPLOAD_BYTES")


async def read_form(request: Request, *, limit: int) -> FormData:
    """The request's form, read without passing ``limit`` bytes.

    Raises:
        PayloadTooLargeError: the declared or the received body is over ``limit``.
        InputError: a ``Content-Length`` that is not a number.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise InputError(f"Content-Length {declared!r} is not a number of bytes")
        if int(declared) > limit:
            raise _too_large(limit)
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
        return message

    return await Request(request.scope, receive).form(max_files=2, max_fields=8,
                                                      max_part_size=FORM_OVERHEAD)


async def read_upload(request: Request, *, max_upload_bytes: int) -> Upload:
    """Read and check a dataset upload; the caller must ``close()`` it.

    Raises:
        PayloadTooLargeError: the body, the table or the schema is over its limit.
        InputError: unknown or invalid fields, or no table.
    """
    form = await read_form(request, limit=max_upload_bytes + SCHEMA_LIMIT + FORM_OVERHEAD)
    try:
        return await _checked(form, max_upload_bytes)
    except BaseException:
        await form.close()
        raise


async def _checked(form: FormData, max_upload_bytes: int) -> Upload:
    unknown = sorted(set(form.keys()) - FIELDS)
    if unknown:
        raise InputError(f"unknown form field(s) {', '.join(unknown)}: ids, hashes, owner and "
                         f"timestamps are set by the server; send only {sorted(FIELDS)}")
    repeated = sorted({k for k in form if len(form.getlist(k)) > 1})
    if repeated:
        raise InputError(f"form field(s) {', '.join(repeated)} sent more than once")
    table, schema = form.get("file"), form.get("schema")
    if not isinstance(table, UploadFile):
        raise InputError("send the table as a multipart file part named 'file'",
                         code=INVALID_BODY)
    if schema is not None and not isinstance(schema, UploadFile):
        raise InputError("send the schema as a multipart file part named 'schema'",
                         code=INVALID_BODY)
    if (table.size or 0) > max_upload_bytes:
        raise _too_large(max_upload_bytes)
    if schema is not None and (schema.size or 0) > SCHEMA_LIMIT:
        raise PayloadTooLargeError(f"the schema is larger than {SCHEMA_LIMIT} bytes")
    texts = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        fields = UploadFields.model_validate(texts)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
                             for err in exc.errors())
        raise InputError(f"invalid form field(s): {problems}", code=INVALID_BODY) from None
    await table.seek(0)
    return Upload(form=form, file=table,
                  schema=await schema.read() if schema is not None else None, fields=fields)
