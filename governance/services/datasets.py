"""Register source tables: hash, validate against the public schema, split, store."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from sqlmodel import Session, col, select

from governance.core.errors import (
    ConflictError,
    DatasetError,
    InputError,
    IntegrityError,
    NotFoundError,
    SchemaError,
)
from governance.datasets.loader import read_table, sha256_file
from governance.datasets.schema import Schema, conform, infer_schema, load_schema, schema_from_yaml
from governance.datasets.splits import Splits, make_split
from governance.schemas.datasets import DatasetPublic, DatasetsPublic
from governance.services.context import Governance
from governance.services.lineage import emit_dataset_event
from governance.store.auditlog import append_event
from governance.store.models import Dataset, new_id


def register_dataset(
    gov: Governance, *, path: str | Path, actor: str, schema: Schema | str | Path | None = None,
    infer: bool = False, name: str | None = None, split_seed: int = 0,
) -> Dataset:
    """Register a CSV or Parquet file under a public-domain schema.

    The file is read, checked against the schema (values outside the public domain are
    refused), split with a seeded permutation, and stored as a content-addressed
    Parquet artifact. Registering the same bytes with the same schema and name again
    returns the existing dataset.

    Raises:
        SchemaError: no schema was given and ``infer`` is False, or the schema is invalid.
        DatasetError: the file is unreadable or does not fit the schema.
        ConflictError: ``name`` is taken by a different table.
    """
    path = Path(path)
    frame = read_table(path)
    if schema is None:
        if not infer:
            raise SchemaError(
                "a schema is required: pass --schema FILE with each column's public domain, "
                "or --infer-schema to draft one from the data (marked data-derived, not private)"
            )
        schema = infer_schema(frame)
    elif not isinstance(schema, Schema):
        schema = load_schema(schema)
    conformed = conform(frame, schema)
    split = make_split(len(conformed), seed=split_seed)
    source_sha = sha256_file(path)
    schema_yaml = schema.to_yaml()
    name = name or path.stem
    with gov.session() as session:
        existing = session.exec(select(Dataset).where(Dataset.name == name)).first()
        if existing is not None:
            same = (existing.source_sha256 == source_sha and existing.schema_yaml == schema_yaml
                    and existing.split_seed == split_seed)
            if same:
                return existing
            raise ConflictError(
                f"a different dataset is already registered as {name!r} ({existing.id}); "
                "choose another --name"
            )
        artifact = gov.artifacts.put_frame(conformed)
        ds = Dataset(
            id=new_id("ds"), name=name, source_sha256=source_sha, source_filename=path.name,
            artifact_sha256=artifact, n_rows=len(conformed), schema_yaml=schema_yaml,
            schema_sha256=hashlib.sha256(schema_yaml.encode()).hexdigest(),
            data_derived_schema=schema.data_derived, split_seed=split_seed,
            split_sha256=split.sha256, created_by=actor,
        )
        session.add(ds)
        session.flush()
        append_event(session=session, kind="dataset.registered", actor=actor, subject=ds.id,
                     payload={"name": name, "source_sha256": source_sha,
                              "source_filename": path.name, "artifact_sha256": artifact,
                              "n_rows": len(conformed), "schema_sha256": ds.schema_sha256,
                              "data_derived_schema": schema.data_derived,
                              "split": {"seed": split_seed, "sha256": split.sha256,
                                        "train": len(split.train), "holdout": len(split.holdout),
                                        "eval": len(split.eval)}})
    emit_dataset_event(gov, ds.id)
    return ds


def get_dataset(session: Session, ref: str) -> Dataset:
    """Find a dataset by id or name.

    Raises:
        NotFoundError: naming the registered datasets.
    """
    ds = (session.get(Dataset, ref)
          or session.exec(select(Dataset).where(Dataset.name == ref)).first())
    if ds is None:
        names = [d.name for d in session.exec(select(Dataset)).all()]
        known = ", ".join(names) if names else "none yet; register one with `govern datasets add`"
        raise NotFoundError(f"no dataset {ref!r}; registered datasets: {known}")
    return ds


def dataset_schema(ds: Dataset) -> Schema:
    """The schema a dataset was registered with."""
    return schema_from_yaml(ds.schema_yaml, source=f"dataset {ds.id} schema")


def load_splits(gov: Governance, ds: Dataset) -> Splits:
    """Rebuild the three splits from the stored table and check the split hash."""
    schema = dataset_schema(ds)
    frame = conform(gov.artifacts.get_frame(ds.artifact_sha256), schema)
    split = make_split(len(frame), seed=ds.split_seed)
    if split.sha256 != ds.split_sha256:
        raise IntegrityError(f"dataset {ds.id}: the recomputed split does not match its hash")
    return Splits(train=frame.iloc[split.train].reset_index(drop=True),
                  holdout=frame.iloc[split.holdout].reset_index(drop=True),
                  eval=frame.iloc[split.eval].reset_index(drop=True), split=split)


UPLOAD_SUFFIXES = frozenset({".csv", ".parquet", ".pq"})


def register_upload(
    gov: Governance, *, data: bytes, filename: str, schema_yaml: bytes | None, infer: bool,
    name: str | None, split_seed: int, actor: str,
) -> DatasetPublic:
    """Register an uploaded table (bytes) with an uploaded schema, or an inferred one.

    Raises:
        DatasetError: a file that is not .csv or .parquet, or does not fit the schema.
        SchemaError: a schema that is not YAML or not a valid schema.
        InputError: neither a schema nor ``infer``.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise DatasetError(f"file {filename!r} must be a .csv or .parquet file")
    parsed = None
    if schema_yaml is not None:
        try:
            text = schema_yaml.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SchemaError(f"the uploaded schema is not valid YAML: {exc}") from None
        parsed = schema_from_yaml(text, source="uploaded schema")
    elif not infer:
        raise InputError("send a 'schema' file part, or set infer_schema=true")
    stem = Path(filename or "upload").stem
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{stem}{suffix}"
        path.write_bytes(data)
        ds = register_dataset(gov, path=path, schema=parsed, infer=parsed is None,
                              name=name or stem, split_seed=split_seed, actor=actor)
    return DatasetPublic.from_row(ds)


def list_datasets(gov: Governance, *, offset: int, limit: int | None) -> DatasetsPublic:
    """Registered datasets (metadata only), oldest first, one page (all when no limit)."""
    with gov.session() as s:
        rows = s.exec(select(Dataset).order_by(col(Dataset.created_at))
                      .offset(offset).limit(limit)).all()
    data = [DatasetPublic.from_row(d) for d in rows]
    return DatasetsPublic(data=data, count=len(data))


def read_dataset(gov: Governance, ref: str) -> DatasetPublic:
    """One dataset's record, by id or name."""
    with gov.session() as s:
        return DatasetPublic.from_row(get_dataset(s, ref))
