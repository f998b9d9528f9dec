"""Register source tables: hash, validate against the public schema, split, store.

Names follow ``governance.core.names``; a name is unique, and two registrations racing
for one name end with one dataset and a ``ConflictError`` for the other (the database's
unique constraint decides; the loser re-reads and compares). Uploads are staged under
``Settings.uploads_dir`` and removed whatever happens.

A dataset's privacy budget starts at the ``risk.max_total_epsilon`` of the policy it is
registered under (the installation's default policy unless one is named). Its owner
may grant other requesters leave to see it and run on it (``grant_dataset``).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlalchemy import exc as sa_exc
from sqlalchemy import or_
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
from governance.core.types import Principal, Role
from governance.datasets.loader import read_table, sha256_file
from governance.datasets.schema import Schema, conform, infer_schema, load_schema, schema_from_yaml
from governance.datasets.splits import Splits, legacy_split, make_split
from governance.policy.loader import LoadedPolicy
from governance.schemas.datasets import DatasetGrantPublic, DatasetPublic, DatasetsPublic
from governance.services.context import Governance
from governance.services.lineage import emit_dataset_event
from governance.services.permissions import (
    can_see_dataset,
    check_manage_dataset,
    sees_every_dataset,
)
from governance.services.policies import load_named_policy, resolve_policy
from governance.store.auditlog import append_event
from governance.store.models import ApiKey, Dataset, DatasetGrant, new_id


def register_dataset(
    gov: Governance, *, path: str | Path, actor: str, schema: Schema | str | Path | None = None,
    infer: bool = False, name: str | None = None, split_seed: int = 0,
    label: str | None = None, source_filename: str | None = None,
    policy: LoadedPolicy | None = None,
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
        split_seed: seed of the train/holdout/validation/eval split (its fractions come
            from the schema's ``splits:`` section, or the defaults).
        label: how messages name the file (default: its path).
        source_filename: the file name recorded (default: the path's name).
        policy: the policy whose ``risk.max_total_epsilon`` is the starting budget
            (default: the installation's default policy).

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
    split = make_split(len(conformed), seed=split_seed, fractions=schema.splits)
    source_sha = sha256_file(path)
    schema_yaml = schema.to_yaml()
    filename = source_filename or path.name
    policy = policy or resolve_policy(gov, None)
    budget = policy.policy.risk.max_total_epsilon

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
                split_sha256=split.sha256, budget_epsilon=budget, created_by=actor,
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
                                            **split.sizes()},
                                  "budget_epsilon": budget,
                                  "budget_policy": {"name": policy.policy.name,
                                                    "sha256": policy.sha256}})
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
    if ds is None or (viewer is not None and not can_see_dataset(
            viewer, ds, granted=_granted(session, ds.id, viewer.name))):
        names = [d.name for d in session.exec(_visible(select(Dataset), viewer)).all()]
        known = ", ".join(names) if names else "none yet; register one with `govern datasets add`"
        raise NotFoundError(f"no dataset {ref!r}; registered datasets: {known}")
    return ds


def _granted(session: Session, dataset_id: str, grantee: str) -> bool:
    return session.exec(select(DatasetGrant).where(
        DatasetGrant.dataset_id == dataset_id, DatasetGrant.grantee == grantee)).first() is not None


def _visible(query: SelectOfScalar[Dataset], viewer: Principal | None) -> SelectOfScalar[Dataset]:
    if viewer is None or sees_every_dataset(viewer):
        return query
    granted = select(DatasetGrant.dataset_id).where(DatasetGrant.grantee == viewer.name)
    return query.where(or_(col(Dataset.created_by) == viewer.name,
                           col(Dataset.id).in_(granted)))


def grant_dataset(gov: Governance, *, dataset: str, grantee: str,
                  actor: Principal) -> DatasetGrantPublic:
    """Let the requester key ``grantee`` see ``dataset`` and start runs on it.

    Raises:
        NotFoundError: no such dataset, or one the actor may not see.
        PermissionDeniedError: the actor is neither the dataset's owner nor an admin.
        InputError: ``grantee`` names no live requester key.
        ConflictError: ``grantee`` owns the dataset or holds a grant on it already.
    """
    try:
        return _grant(gov, dataset=dataset, grantee=grantee, actor=actor)
    except sa_exc.IntegrityError:  # the same grant, made at the same moment by another caller
        raise ConflictError(f"{grantee!r} already has access to dataset {dataset!r}") from None


def _grant(gov: Governance, *, dataset: str, grantee: str,
           actor: Principal) -> DatasetGrantPublic:
    with gov.session() as s:
        ds = check_manage_dataset(actor, get_dataset(s, dataset, actor))
        key = s.exec(select(ApiKey).where(ApiKey.name == grantee)).first()
        if key is None or key.revoked_at is not None:
            raise InputError(f"no live API key named {grantee!r}; grants name a requester's "
                             "key (see `govern keys create NAME --role requester`)")
        if key.role != Role.REQUESTER:
            raise InputError(f"{grantee!r} is an {key.role} key: approvers, auditors and admins "
                             "already see every dataset, and only requesters start runs")
        if grantee == ds.created_by or _granted(s, ds.id, grantee):
            raise ConflictError(f"{grantee!r} already has access to dataset {ds.name!r}")
        grant = DatasetGrant(id=new_id("grant"), dataset_id=ds.id, grantee=grantee,
                             granted_by=actor.name)
        s.add(grant)
        s.flush()
        append_event(session=s, kind="dataset.granted", actor=actor.name, subject=ds.id,
                     payload={"grantee": grantee, "grantee_role": key.role})
        return DatasetGrantPublic.from_row(grant)


def dataset_schema(ds: Dataset) -> Schema:
    """The schema a dataset was registered with."""
    return schema_from_yaml(ds.schema_yaml, source=f"dataset {ds.id} schema")


def load_splits(gov: Governance, ds: Dataset) -> Splits:
    """Rebuild the four splits from the stored table and check the split hash.

    A dataset registered before the validation split existed stored the hash of a
    three-way split; it keeps its train and holdout rows and its old eval rows are
    divided into validation and eval (``datasets.splits.legacy_split``).
    """
    schema = dataset_schema(ds)
    frame = conform(gov.artifacts.get_frame(ds.artifact_sha256), schema)
    split = make_split(len(frame), seed=ds.split_seed, fractions=schema.splits)
    if split.sha256 != ds.split_sha256 and schema.splits is None:
        split = legacy_split(len(frame), seed=ds.split_seed)
    if split.recorded_sha256 != ds.split_sha256:
        raise IntegrityError(f"dataset {ds.id}: the recomputed split does not match its hash")
    return Splits.of(frame, split)


UPLOAD_SUFFIXES = frozenset({".csv", ".parquet", ".pq"})


def register_upload(
    gov: Governance, *, data: bytes | BinaryIO, filename: str, schema_yaml: bytes | None,
    infer: bool, name: str | None, split_seed: int, actor: str, policy: str | None = None,
) -> DatasetPublic:
    """Register an uploaded table (bytes or a binary file) with a schema, or an inferred one.

    The table is staged in a private folder under ``Settings.uploads_dir`` that is removed
    whatever the outcome; messages name it by the client's file name. ``policy`` names a
    policy of the configured directory whose ``max_total_epsilon`` starts the budget.

    Raises:
        DatasetError: a file that is not .csv or .parquet, or does not fit the schema.
        SchemaError: a schema that is not YAML or not a valid schema.
        InvalidNameError: a file or dataset name that breaks a naming rule.
        InputError: neither a schema nor ``infer``, or ``policy`` names no policy.
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
    try:
        loaded = load_named_policy(gov, policy) if policy is not None else None
    except NotFoundError as exc:  # a form field naming no policy is bad input, not a 404
        raise InputError(exc.message) from None
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
                              source_filename=basename, policy=loaded)
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
