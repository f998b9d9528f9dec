"""The store and the audit chain on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from governance.core.errors import IntegrityError, NotFoundError
from governance.services.budget import charge, summarize
from governance.store.artifacts import ArtifactStore
from governance.store.auditlog import append_event, verify_log
from governance.store.db import MIGRATIONS_DIR, make_engine, migrate
from governance.store.models import Dataset


def _append(gov, n, actor="t"):
    for i in range(n):
        with gov.session() as s:
            append_event(session=s, kind="run.requested", actor=actor, subject=f"x{i}",
                         payload={"i": i})


def test_migration_creates_schema_and_head(any_gov):
    with any_gov.session() as s:
        tables = {r[0] for r in s.exec(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
            if any_gov.engine.dialect.name == "postgresql" else
            "SELECT name FROM sqlite_master WHERE type='table'"))}
    assert {"dataset", "run", "candidate", "auditevent", "audithead", "alembic_version"} <= tables


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_migrations_match_the_models_and_keep_old_datasets(backend, tmp_path, request):
    # Setup: a database at revision 0001 holding one dataset (no budget column yet).
    url = (request.getfixturevalue("pg_url") if backend == "postgres"
           else f"sqlite:///{tmp_path / 'old.db'}")
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text(
            "INSERT INTO dataset (id, name, source_sha256, source_filename, artifact_sha256, "
            "n_rows, schema_yaml, schema_sha256, data_derived_schema, split_seed, "
            "split_sha256, created_by, created_at) VALUES ('ds_old', 'old', 'a', 'f', 'b', 1, "
            "'x', 'c', false, 0, 'd', 'owner', '2026-01-01 00:00:00')"))
    try:
        # Run
        migrate(engine)
        with engine.connect() as conn:
            budget = conn.execute(text("SELECT budget_epsilon FROM dataset")).scalar_one()
            drift = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True}), SQLModel.metadata)
    finally:
        engine.dispose()
    # Assert: old datasets get the bundled default policy's limit; no drift from the models.
    assert budget == 40.0
    assert drift == []


def test_appends_chain_and_verify(any_gov):
    _append(any_gov, 5)
    with any_gov.session() as s:
        report = verify_log(s)
    assert report.ok and report.checked == 5


def test_event_rolls_back_with_its_transaction(any_gov):
    with pytest.raises(RuntimeError), any_gov.session() as s:
        append_event(session=s, kind="run.requested", actor="t", subject="x", payload={})
        raise RuntimeError("the state change failed")
    with any_gov.session() as s:
        assert verify_log(s).checked == 0


@pytest.mark.parametrize("sql", [
    "UPDATE auditevent SET payload='{\"i\":99}' WHERE seq=3",
    "UPDATE auditevent SET actor='mallory' WHERE seq=3",
    "DELETE FROM auditevent WHERE seq=3",
    "DELETE FROM auditevent WHERE seq=5",
])
def test_tampering_is_detected(any_gov, sql):
    _append(any_gov, 5)
    with any_gov.engine.begin() as conn:
        conn.exec_driver_sql(sql)
    with any_gov.session() as s:
        report = verify_log(s)
    assert not report.ok
    assert report.first_bad_seq == (5 if sql.endswith('seq=5') else 3)


def test_concurrent_writers_get_a_gapless_order(any_gov):
    # Setup: 4 threads x 25 appends, each its own transaction.
    errors = []

    def worker(k):
        try:
            _append(any_gov, 25, actor=f"w{k}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    # Run
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Assert
    assert not errors
    with any_gov.session() as s:
        seqs = [e.seq for e in s.exec(text("SELECT seq FROM auditevent ORDER BY seq"))]
        report = verify_log(s)
    assert seqs == list(range(1, 101))
    assert report.ok


def test_budget_charges_are_idempotent(any_gov):
    with any_gov.session() as s:
        s.add(Dataset(id="ds_1", name="d", source_sha256="a", source_filename="f",
                      artifact_sha256="b", n_rows=1, schema_yaml="x", schema_sha256="c",
                      split_seed=0, split_sha256="d", budget_epsilon=10, created_by="t"))
    for _ in range(3):
        with any_gov.session() as s:
            charge(session=s, dataset_id="ds_1", key="run1/dp/1", candidate_id=None,
                   epsilon=0.9, delta=1e-6)
    with any_gov.session() as s:
        charge(session=s, dataset_id="ds_1", key="run1/dp/4", candidate_id=None, epsilon=3.5,
               delta=1e-6)
        summary = summarize(s, dataset_id="ds_1")
    assert summary.charges == 2 and summary.epsilon_spent == pytest.approx(4.4)
    assert summary.epsilon_left == pytest.approx(5.6)


def test_artifacts_are_content_addressed_atomic_and_checked(tmp_path):
    store = ArtifactStore(tmp_path)
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    sha = store.put_frame(frame)
    assert store.put_frame(frame.copy()) == sha  # same content, same name
    pd.testing.assert_frame_equal(store.get_frame(sha), frame)
    assert not list(tmp_path.rglob("*.tmp"))
    path = store.path(sha)
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(IntegrityError, match="altered"):
        store.get_frame(sha)
    with pytest.raises(NotFoundError):
        store.get_frame("0" * 64)
