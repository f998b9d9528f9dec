"""The four real splits in the store: registration, fractions from the schema, old datasets."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from governance.core.errors import IntegrityError
from governance.datasets.schema import Schema
from governance.datasets.splits import legacy_split
from governance.services.datasets import load_splits, register_dataset
from governance.store.models import AuditEvent, Dataset
from tests.utils.data import MIXED_SCHEMA, mixed_table


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "people.csv"
    mixed_table(400, seed=4).to_csv(path, index=False)
    return path


def test_registration_records_four_disjoint_splits(gov, csv):
    # Run
    ds = register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="people", actor="owner")
    splits = load_splits(gov, ds)

    # Assert
    assert splits.split is not None and splits.split.sha256 == ds.split_sha256
    sizes = {n: len(getattr(splits, n)) for n in ("train", "holdout", "validation", "eval")}
    assert sizes == {"train": 200, "holdout": 80, "validation": 60, "eval": 60}
    with gov.session() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.kind == "dataset.registered")).one()
    payload = json.loads(event.payload)
    assert payload["split"] == {"seed": 0, "sha256": ds.split_sha256, **sizes}


def test_schema_sets_the_fractions(gov, csv):
    # Setup
    schema = Schema.model_validate({**MIXED_SCHEMA.model_dump(),
                                    "splits": {"holdout": 0.25, "validation": 0.1, "eval": 0.1}})

    # Run
    ds = register_dataset(gov, path=csv, schema=schema, name="people", actor="owner")
    splits = load_splits(gov, ds)

    # Assert
    assert (len(splits.train), len(splits.holdout), len(splits.validation),
            len(splits.eval)) == (220, 100, 40, 40)


def test_dataset_registered_with_the_old_three_way_split_still_loads(gov, csv):
    # Setup: rewrite the stored hash as registration stored it before validation existed.
    ds = register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="people", actor="owner")
    old = legacy_split(400, seed=ds.split_seed)
    with gov.session() as s:
        row = s.get(Dataset, ds.id)
        row.split_sha256 = old.legacy_sha256
        s.add(row)
        s.commit()
        s.refresh(row)
        ds = row

    # Run
    splits = load_splits(gov, ds)

    # Assert: train and holdout are the recorded ones; the old eval is shared out.
    assert splits.split is not None and splits.split.legacy_sha256 == ds.split_sha256
    assert (len(splits.train), len(splits.holdout), len(splits.validation),
            len(splits.eval)) == (200, 100, 50, 50)


def test_a_split_hash_that_matches_neither_layout_is_refused(gov, csv):
    # Setup
    ds = register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="people", actor="owner")
    with gov.session() as s:
        row = s.get(Dataset, ds.id)
        row.split_sha256 = "0" * 64
        s.add(row)
        s.commit()
        s.refresh(row)
        ds = row

    # Run / Assert
    with pytest.raises(IntegrityError, match="does not match its hash"):
        load_splits(gov, ds)
