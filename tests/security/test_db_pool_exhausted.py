"""Finding 4c: eight server processes exhausted PostgreSQL's connections.

Before: every process could open 15 connections (SQLAlchemy's default pool of 5 plus 10
overflow), eight processes asked for more than the server allowed, and 76 of 400
requests failed with 500 and no audit event. Now the pool is sized from settings
(``GOVERNANCE_DB_POOL_SIZE``, ``GOVERNANCE_DB_POOL_MAX_OVERFLOW``,
``GOVERNANCE_DB_POOL_TIMEOUT_SECONDS``), and a request that gets no connection, because
the pool stayed exhausted or the server refuses more clients, is a 503 with
``Retry-After`` and a JSON ``{code, message}``; nothing is changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from fastapi.testclient import TestClient
from sqlalchemy.pool import NullPool

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.core.config import Settings
from governance.core.errors import ServiceUnavailableError
from governance.services.context import Governance
from governance.store.auditlog import iter_events
from governance.store.db import dispose_engines
from governance.store.models import Candidate, Dataset, PolicyVersion, Release, Run
from tests.conftest import make_settings
from tests.utils.api import make_key
from tests.utils.scenario import loose_policy
from tests.utils.servers import fresh_pg_database


def _settings(tmp_path: Path, url: str | None, **pool: Any) -> Settings:
    return make_settings(tmp_path, url).model_copy(update=pool)


@pytest.fixture
def small_pool(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Governance]:
    """A context whose pool is one connection, waited for 0.2 s (SQLite or PostgreSQL)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    yield Governance.open(_settings(tmp_path, url, db_pool_size=1, db_pool_max_overflow=0,
                                    db_pool_timeout_seconds=0.2))
    dispose_engines()


def _client(gov: Governance) -> TestClient:
    app.dependency_overrides[get_governance] = lambda: gov
    app.dependency_overrides[get_rate_limiter] = lambda: RateLimiter(per_minute=0)
    return TestClient(app, raise_server_exceptions=False)


def _assert_503(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text[:300]
    body = r.json()
    assert set(body) == {"code", "message"} and body["code"] == "service_unavailable"
    assert "Retry" in body["message"]
    assert r.headers["retry-after"] == "5"
    assert "postgresql" not in body["message"] and "QueuePool" not in body["message"]


def test_the_settings_size_each_processs_pool(tmp_path):
    # Run
    gov = Governance.open(_settings(tmp_path, None, db_pool_size=3, db_pool_max_overflow=1,
                                    db_pool_timeout_seconds=2.5))
    pool: Any = gov.engine.pool
    # Assert
    try:
        assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 1, 2.5)
    finally:
        dispose_engines()


@pytest.mark.parametrize("small_pool", ["sqlite", pytest.param(
    "postgres", marks=pytest.mark.postgres)], indirect=True)
def test_an_exhausted_pool_is_503_with_retry_after_and_changes_nothing(small_pool):
    # Setup: a key; then something holds the only connection.
    gov = small_pool
    hdr = make_key(gov, "admin-1", "admin")
    with gov.session() as s:
        events = s.exec(sqlalchemy.text("SELECT count(*) FROM auditevent")).one()[0]
    try:
        with _client(gov) as client:
            held = gov.engine.connect()
            try:
                # Run
                read = client.get("/v1/datasets", headers=hdr)
                write = client.put("/v1/datasets/ds_x/budget", json={"epsilon": 1},
                                   headers=hdr)
            finally:
                held.close()
            after = client.get("/v1/datasets", headers=hdr)
    finally:
        app.dependency_overrides.clear()
    # Assert
    _assert_503(read)
    _assert_503(write)
    assert after.status_code == 200
    with gov.session() as s:
        assert s.exec(sqlalchemy.text("SELECT count(*) FROM auditevent")).one()[0] == events


@pytest.mark.postgres
def test_a_server_out_of_connection_slots_is_503(tmp_path):
    # Setup: the database role may hold 3 connections; three are taken elsewhere.
    with fresh_pg_database(connection_limit=3) as url:
        gov = Governance.open(make_settings(tmp_path, url))
        hdr = make_key(gov, "admin-1", "admin")
        gov.engine.dispose()  # the app must open a new connection for the request
        others = sqlalchemy.create_engine(url, poolclass=NullPool)
        taken = [others.connect() for _ in range(3)]
        try:
            with _client(gov) as client:
                # Run
                r = client.get("/v1/datasets", headers=hdr)
        finally:
            app.dependency_overrides.clear()
            for conn in taken:
                conn.close()
            others.dispose()
            dispose_engines()
    # Assert
    _assert_503(r)


# --- eight real server processes -------------------------------------------------------


@pytest.fixture(scope="module")
def denied_release(pg_servers) -> dict[str, Any]:
    """An active release, and a requester key that is not among its consumers."""
    gov: Governance = pg_servers.gov
    hdr = make_key(gov, "pool-outsider", "requester")
    with gov.session() as s:
        s.add(Dataset(id="ds_pool", name="pool-test", source_sha256="0" * 64,
                      source_filename="p.csv", artifact_sha256="0" * 64, n_rows=1,
                      schema_yaml="columns: {}", schema_sha256="0" * 64, split_seed=0,
                      split_sha256="0" * 64, budget_epsilon=10, created_by="pool-owner"))
        s.add(PolicyVersion(sha256="e" * 64, name="pool", text=loose_policy("pool")))
        s.flush()
        s.add(Run(id="run_pool", dataset_id="ds_pool", policy_sha256="e" * 64, task_json="{}",
                  grid_json="[]", seed=0, status="succeeded", requested_by="pool-owner"))
        s.flush()
        s.add(Candidate(id="cand_pool", run_id="run_pool", idempotency_key="run_pool/x/1/0",
                        generator="fake", seed=0, status="released", artifact_sha256="b" * 64))
        s.flush()
        s.add(Release(id="rel_pool", candidate_id="cand_pool", run_id="run_pool",
                      policy_sha256="e" * 64, artifact_sha256="b" * 64,
                      requested_by="pool-owner", consumers_json='["dave"]', status="active"))
    return {"gov": gov, "hdr": hdr, "release": "rel_pool"}


@pytest.mark.postgres
def test_eight_processes_answer_400_concurrent_requests_and_log_each(pg_servers,
                                                                     denied_release):
    # Setup: 400 download attempts by a non-consumer, 100 at a time, over 8 processes;
    # each is refused (403) and logged (access.denied), which needs a connection.
    urls, hdr = pg_servers.servers.urls, denied_release["hdr"]
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)

    def attempt(http: httpx.Client, k: int) -> int | str:
        try:
            return http.get(f"{urls[k % len(urls)]}/v1/releases/rel_pool/data",
                            headers=hdr).status_code
        except httpx.TransportError as exc:  # a dropped connection counts as a failure
            return type(exc).__name__

    # Run
    with httpx.Client(timeout=120, limits=limits) as http, ThreadPoolExecutor(100) as pool:
        codes = list(pool.map(lambda k: attempt(http, k), range(400)))
    with denied_release["gov"].session() as s:
        denied = [e for e in iter_events(s)
                  if e.kind == "access.denied" and e.subject == "rel_pool"]
    # Assert: every request answered as itself, and every one logged.
    assert codes == [403] * 400, ({c: codes.count(c) for c in set(codes)},
                                  pg_servers.servers.tail())
    assert len(denied) == 400
    assert {json.loads(e.payload)["code"] for e in denied} == {"forbidden"}


def test_a_service_call_without_a_connection_raises_service_unavailable(tmp_path):
    # Setup: the CLI and the API share the services, so both see the service's error.
    gov = Governance.open(_settings(tmp_path, None, db_pool_size=1, db_pool_max_overflow=0,
                                    db_pool_timeout_seconds=0.1))
    held = gov.engine.connect()
    # Run
    try:
        with pytest.raises(ServiceUnavailableError) as info, gov.session() as s:
            s.exec(sqlalchemy.text("SELECT 1"))
    finally:
        held.close()
        dispose_engines()
    # Assert
    assert info.value.retry_after == 5 and "GOVERNANCE_DB_POOL_SIZE" in info.value.message
