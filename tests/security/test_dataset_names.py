"""Finding 4: dataset names are validated, and a duplicate-name race is a 409, not a 500.

Before: on PostgreSQL a NUL byte in a name (or an id in a path) raised inside the driver
(500), and concurrent registrations of one name all passed the "is it taken?" check and
all but one then hit the unique constraint (500).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import select

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.services.context import Governance
from governance.services.datasets import register_dataset
from governance.store.db import dispose_engines
from governance.store.models import Dataset
from tests.conftest import make_settings
from tests.utils.api import make_key
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.hostile import assert_error_body, csv_bytes, upload

BAD_NAMES = [
    ("nul\x00byte", "U+0000"),
    ("../../etc/passwd", "path separator"),
    ("a/b", "path separator"),
    ("a\\b", "path separator"),
    ("\u202egnp.exe", "U+202E"),
    ("zero\u200bwidth", "U+200B"),
    ("line\nbreak", "U+000A"),
    ("x" * 65, "64 characters"),
    (" padded", "whitespace"),
    ("..", "'.' or '..'"),
]


@pytest.mark.parametrize(("name", "rule"), BAD_NAMES, ids=[repr(n)[:20] for n, _ in BAD_NAMES])
def test_a_bad_dataset_name_is_422_naming_the_rule(client, headers, name, rule):
    # Run
    r = upload(client, headers["requester"], content=csv_bytes(mixed_table(100)),
               schema=MIXED_SCHEMA.to_yaml(), name=name)
    # Assert
    body = assert_error_body(r, 422)
    assert body["code"] == "invalid_name" and rule in body["message"], body


def test_a_bad_name_from_the_file_name_is_422_too(client, headers):
    # Run: no name field, so the name defaults to the file's stem.
    r = upload(client, headers["requester"], content=csv_bytes(mixed_table(100)),
               filename="\u202egnp.csv", schema=MIXED_SCHEMA.to_yaml())
    # Assert
    body = assert_error_body(r, 422)
    assert body["code"] == "invalid_name" and "U+202E" in body["message"]


@pytest.fixture
def pg_client(pg_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    gov = Governance.open(make_settings(tmp_path, pg_url))
    hdr = make_key(gov, "admin-1", "admin")
    app.dependency_overrides[get_governance] = lambda: gov
    app.dependency_overrides[get_rate_limiter] = lambda: RateLimiter(per_minute=0)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, hdr
    finally:
        app.dependency_overrides.clear()
        dispose_engines()


@pytest.mark.postgres
def test_nul_bytes_are_4xx_on_postgres(pg_client):
    # Setup
    client, hdr = pg_client
    # Run
    named = upload(client, hdr, content=csv_bytes(mixed_table(100)),
                   schema=MIXED_SCHEMA.to_yaml(), name="nul\x00byte")
    looked_up = [client.get(path, headers=hdr) for path in (
        "/v1/datasets/ds%00x", "/v1/datasets/ds%00x/budget", "/v1/runs/run%00x",
        "/v1/releases/rel%00x", "/v1/candidates/c%00x")]
    # Assert
    assert assert_error_body(named, 422)["code"] == "invalid_name"
    for r in looked_up:
        assert_error_body(r, 404, 422)


def _register_concurrently(gov: Governance, files: list[Path], *,
                           hold_inserts: bool) -> list[tuple[str, str]]:
    """Register each file as "shared" from its own thread; return (outcome, detail) each."""
    n = len(files)
    start, inserts, local = threading.Barrier(n), threading.Barrier(n, timeout=30), \
        threading.local()

    def hold(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Every thread has checked that the name is free before any inserts it.
        if statement.lstrip().upper().startswith("INSERT INTO DATASET") and not getattr(
                local, "held", False):
            local.held = True
            try:
                inserts.wait()
            except threading.BrokenBarrierError:
                pass

    results: list[tuple[str, str]] = [("none", "")] * n

    def work(i: int) -> None:
        start.wait()
        try:
            ds = register_dataset(gov, path=files[i], schema=MIXED_SCHEMA, name="shared",
                                  actor=f"requester-{i}")
            results[i] = ("ok", ds.id)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            results[i] = (type(exc).__name__, str(exc))

    if hold_inserts:
        event.listen(gov.engine, "before_cursor_execute", hold)
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
    finally:
        if hold_inserts:
            event.remove(gov.engine, "before_cursor_execute", hold)
    return results


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_eight_concurrent_registrations_of_one_name_give_one_winner_and_409s(
        backend, tmp_path, request):
    # Setup: eight different tables, one name. On PostgreSQL the inserts are held until
    # every thread has looked the name up (SQLite serialises writers by itself).
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    gov = Governance.open(make_settings(tmp_path, url))
    files = []
    for i in range(8):
        files.append(tmp_path / f"t{i}.csv")
        files[-1].write_bytes(csv_bytes(mixed_table(100, seed=i)))
    try:
        # Run
        results = _register_concurrently(gov, files, hold_inserts=backend == "postgres")
        with gov.session() as s:
            stored = s.exec(select(Dataset).where(Dataset.name == "shared")).all()
    finally:
        dispose_engines()
    # Assert
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["ConflictError"] * 7 + ["ok"], results
    assert all("already registered as 'shared'" in detail
               for kind, detail in results if kind == "ConflictError")
    assert len(stored) == 1 and stored[0].id == next(d for k, d in results if k == "ok")


@pytest.mark.postgres
def test_eight_server_processes_registering_one_name_give_one_201_and_409s(pg_servers):
    # Setup: eight requesters, each with a different table, one name, one process each.
    gov: Governance = pg_servers.gov
    urls = pg_servers.servers.urls
    hdrs = [make_key(gov, f"names-requester-{i}", "requester") for i in range(len(urls))]
    bodies = [csv_bytes(mixed_table(100, seed=20 + i)) for i in range(len(urls))]
    start, answers = threading.Barrier(len(urls)), [None] * len(urls)

    def register(i: int) -> None:
        with httpx.Client(timeout=120) as client:
            start.wait()
            answers[i] = client.post(
                f"{urls[i]}/v1/datasets", headers=hdrs[i], data={"name": "shared-by-8"},
                files={"file": ("t.csv", bodies[i], "text/csv"),
                       "schema": ("s.yaml", MIXED_SCHEMA.to_yaml(), "text/yaml")})

    # Run
    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(urls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    with gov.session() as s:
        stored = s.exec(select(Dataset).where(Dataset.name == "shared-by-8")).all()
    # Assert
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * (len(urls) - 1), [a.text for a in answers]
    assert len(stored) == 1
    winner = next(a for a in answers if a.status_code == 201)
    assert winner.json()["id"] == stored[0].id
    for a in answers:
        if a.status_code == 409:
            assert "already registered as 'shared-by-8'" in assert_error_body(a, 409)["message"]
