"""Read models of source tables and their privacy budgets."""

from __future__ import annotations

from datetime import datetime

from governance.core.types import Record
from governance.store.models import Dataset, DatasetGrant


class SplitInfo(Record):
    """The seeded split of a table: its seed and the hash of the exact assignment."""

    seed: int
    sha256: str


class DatasetPublic(Record):
    """A registered table's public record (no data)."""

    id: str
    name: str
    source_sha256: str
    source_filename: str
    artifact_sha256: str
    n_rows: int
    schema_sha256: str
    data_derived_schema: bool
    split: SplitInfo
    budget_epsilon: float
    created_by: str
    created_at: datetime

    @classmethod
    def from_row(cls, ds: Dataset) -> DatasetPublic:
        """The read model of a stored dataset."""
        return cls(id=ds.id, name=ds.name, source_sha256=ds.source_sha256,
                   source_filename=ds.source_filename, artifact_sha256=ds.artifact_sha256,
                   n_rows=ds.n_rows, schema_sha256=ds.schema_sha256,
                   data_derived_schema=ds.data_derived_schema,
                   split=SplitInfo(seed=ds.split_seed, sha256=ds.split_sha256),
                   budget_epsilon=ds.budget_epsilon, created_by=ds.created_by,
                   created_at=ds.created_at)


class DatasetsPublic(Record):
    """A page of datasets."""

    data: list[DatasetPublic]
    count: int


class BudgetPublic(Record):
    """A dataset's privacy budget and ledger under basic composition.

    ``epsilon_left`` is ``epsilon_budget`` minus what was charged and what queued or
    running runs hold (``epsilon_reserved``); a new run's grid must fit in it.
    """

    dataset_id: str
    name: str
    epsilon_budget: float
    epsilon_spent: float
    epsilon_reserved: float
    epsilon_left: float
    delta_spent: float
    charges: int
    reservations: int
    composition: str


class DatasetGrantPublic(Record):
    """Leave for one API key to see a dataset and start runs on it."""

    dataset_id: str
    grantee: str
    granted_by: str
    created_at: datetime

    @classmethod
    def from_row(cls, grant: DatasetGrant) -> DatasetGrantPublic:
        """The read model of a stored grant."""
        return cls(dataset_id=grant.dataset_id, grantee=grant.grantee,
                   granted_by=grant.granted_by, created_at=grant.created_at)
