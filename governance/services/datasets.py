"""Register source tables: hash, validate against the public schema, split, store.

Names follow ``governance.core.names``; a name is unique, and two registrations racing
for one name end with one dataset and a ``ConflictError`` for the other (the database's
unique constraint decides; the loser re-reads and compares). Uploads are staged under
``Settings.uploads_dir`` and removed whatever happens.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlalchemy import exc as sa_exc
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from governance.core.errors import (
    ConflictError,
    DatasetError,
    InputError,
    IntegrityError,
    NotFoundError,
    PayloadTooLargeError,
    SchemaError,
)
from governance.core.names import check_name
from governance.core.types import Principal
from governance.datasets.loader import read_table, sha256_file
from governance.datasets.schema import Schema, conform, infer_schema, load_schema, schema_from_yaml
from governance.datasets.splits import Splits, make_split
from governance.schemas.datasets import DatasetPublic, DatasetsPublic
from governance.services.context import Governance
from governance.services.lineage import emit_dataset_event
from governance.services.permissions import can_see_dataset, sees_every_dataset
from governance.store.auditlog import append_event
from governance.store.models import Dataset, new_id


def register_dataset(
    gov: Governance, *, path: str | Path, actor: str, schema: Schema | str | Path | None = None,
    infer: bool = False, name: str | None = None, split_seed: int = 0,
    label: str | None = None, source_filename: str | None = None,
) -> Dataset:
    """Register a CSV or Parquet file under a public-domain schema.

    The file is read, checked against the schema (values outside the public domain are
    refused), split with a seeded permutation, and stored as a content-addressed
    Parquet artifact. Registering the same bytes with the same schema and name again
    returns the existing dataset.

    Args:
        gov: the service context.
        path: the file.
        actor: who registers it.
        schema: the schema (or its file); None with ``infer`` drafts one from the data.
        infer: draft the schema from the data (marked data-derived).
        name: the dataset's name (default: the file's stem).
        split_seed: seed of the train/holdout/eval split.
        label: how messages name the file (default: its path).
        source_filename: the file name recorded (default: the path's name).

    Raises:
        SchemaError: no schema was given and ``infer`` is False, or the schema is invalid.
        DatasetError: the file is unreadable or does not fit the schema.
        InvalidNameError: the name breaks a naming rule.
        PayloadTooLargeError: more columns than ``GOVERNANCE_MAX_COLUMNS``.
        ConflictError: ``name`` is taken by a different table.
    """
    path = Path(path)
    name = check_name(name or path.stem, what="dataset name")
    limits = gov.settings
    frame = read_table(path, label=label, max_columns=limits.max_columns,
                       max_line_bytes=limits.max_csv_line_bytes)
    if schema is None:
        if not infer:
            raise SchemaError(
                "a schema is required: pass --schema FILE with each column's public domain, "
                "or --infer-schema to draft one from the data (marked data-derived, not private)"
            )
        schema = infer_schema(frame)
    elif not isinstance(schema, Schema):
        schema = load_schema(schema)
    _check_width(schema, limits.max_columns)
    conformed = conform(frame, schema)
    split = make_split(len(conformed), seed=split_seed)
    source_sha = sha256_file(path)
    schema_yaml = schema.to_yaml()
    filename = source_filename or path.name

    def same(existing: Dataset) -> bool:
        return (existing.source_sha256 == source_sha and existing.schema_yaml == schema_yaml
                and existing.split_seed == split_seed)

    try:
        with gov.session() as session:
            existing = _named(session, name)
            if existing is not None:
                if same(existing):
                    return existing
                raise _taken(name)
            artifact = gov.artifacts.put_frame(conformed)
            ds = Dataset(
                id=new_id("ds"), name=name, source_sha256=source_sha, source_filename=filename,
                artifact_sha256=artifact, n_rows=len(conformed), schema_yaml=schema_yaml,
                schema_sha256=hashlib.sha256(schema_yaml.encode()).hexdigest(),
                data_derived_schema=schema.data_derived, split_seed=split_seed,
                split_sha256=split.sha256, created_by=actor,
            )
            session.add(ds)
            session.flush()
            append_event(session=session, kind="dataset.registered", actor=actor,
                         subject=ds.id,
                         payload={"name": name, "source_sha256": source_sha,
                                  "source_filename": filename, "artifact_sha256": artifact,
                                  "n_rows": len(conformed), "schema_sha256": ds.schema_sha256,
                                  "data_derived_schema": schema.data_derived,
                                  "split": {"seed": split_seed, "sha256": split.sha256,
                                            "train": len(split.train),
                                            "holdout": len(split.holdout),
                                            "eval": len(split.eval)}})
    except sa_exc.IntegrityError:
        # Another registration took the name between our look-up and our insert.
        with gov.session() as session:
            winner = _named(session, name)
        if winner is not None and same(winner):
            return winner
        raise _taken(name) from None
    emit_dataset_event(gov, ds.id)
    return ds


def _named(session: Session, name: str) -> Dataset | None:
    return session.exec(select(Dataset).where(Dataset.name == name)).first()


def _taken(name: str) -> ConflictError:
    return ConflictError(f"a different dataset is already registered as {name!r}; "
                         "choose another name")


def _check_width(schema: Schema, max_columns: int) -> None:
    if len(schema.columns) > max_columns:
        raise PayloadTooLargeError(
            f"the schema has {len(schema.columns)} columns, more than the limit of "
            f"{max_columns} (GOVERNANCE_MAX_COLUMNS)", code="too_many_columns")


def get_dataset(session: Session, ref: str, viewer: Principal | None = None) -> Dataset:
    """Find a dataset by id or name (one ``viewer`` may see, when given).

    Raises:
        NotFoundError: naming the registered datasets the viewer may see.
    """
    ds = session.get(Dataset, ref) or _named(session, ref)
    if ds is None or (viewer is not None and not can_see_dataset(viewer, ds)):
        names = [d.name for d in session.exec(_visible(select(Dataset), viewer)).all()]
        known = ", ".join(names) if names else "none yet; register one with `govern datasets add`"
        raise NotFoundError(f"no dataset {ref!r}; registered datasets: {known}")
    return ds


def _visible(query: SelectOfScalar[Dataset], viewer: Principal | None) -> SelectOfScalar[Dataset]:
    if viewer is None or sees_every_dataset(viewer):
        return query
    return query.where(Dataset.created_by == viewer.name)


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
    gov: Governance, *, data: bytes | BinaryIO, filename: str, schema_yaml: bytes | None,
    infer: bool, name: str | None, split_seed: int, actor: str,
) -> DatasetPublic:
    """Register an uploaded table (bytes or a binary file) with a schema, or an inferred one.

    The table is staged in a private folder under ``Settings.uploads_dir`` that is removed
    whatever the outcome; messages name it by the client's file name.

    Raises:
        DatasetError: a file that is not .csv or .parquet, or does not fit the schema.
        SchemaError: a schema that is not YAML or not a valid schema.
        InvalidNameError: a file or dataset name that breaks a naming rule.
        InputError: neither a schema nor ``infer``.
    """
    basename = check_name(PurePosixPath((filename or "").replace("\\", "/")).name or "upload",
                          what="file name", max_length=255)
    suffix = Path(basename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise DatasetError(f"file {basename!r} must be a .csv or .parquet file")
    parsed = None
    if schema_yaml is not None:
        try:
            text = schema_yaml.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SchemaError(f"the uploaded schema is not UTF-8 text (byte {exc.start}); save "
                              "it as UTF-8") from None
        parsed = schema_from_yaml(text, source="uploaded schema")
    elif not infer:
        raise InputError("send a 'schema' file part, or set infer_schema=true")
    name = check_name(name or Path(basename).stem, what="dataset name")
    gov.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=gov.settings.uploads_dir, prefix="upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        with open(path, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                shutil.copyfileobj(data, fh)
        ds = register_dataset(gov, path=path, schema=parsed, infer=parsed is None, name=name,
                              split_seed=split_seed, actor=actor, label=basename,
                              source_filename=basename)
    return DatasetPublic.from_row(ds)


def list_datasets(gov: Governance, *, offset: int, limit: int | None,
                  viewer: Principal | None = None) -> DatasetsPublic:
    """Datasets the viewer may see (metadata only), oldest first, one page (all: no limit)."""
    with gov.session() as s:
        rows = s.exec(_visible(select(Dataset), viewer).order_by(col(Dataset.created_at))
                      .offset(offset).limit(limit)).all()
    data = [DatasetPublic.from_row(d) for d in rows]
    return DatasetsPublic(data=data, count=len(data))


def read_dataset(gov: Governance, ref: str, viewer: Principal | None = None) -> DatasetPublic:
    """One dataset's record, by id or name (404 when the viewer may not see it)."""
    with gov.session() as s:
        return DatasetPublic.from_row(get_dataset(s, ref, viewer))
