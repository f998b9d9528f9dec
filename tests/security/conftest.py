"""Fixtures of the security regression tests: API clients, keys, real server processes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.core.config import get_settings
from governance.services.context import Governance
from governance.store.db import dispose_engines
from tests.conftest import make_settings
from tests.utils.api import make_key
from tests.utils.scenario import ScenarioBuilder, World, loose_policy
from tests.utils.servers import Servers, api_servers, fresh_pg_database


@pytest.fixture
def client(gov: Governance) -> Iterator[TestClient]:
    """The real app on ``gov``'s home and settings, rate limiting off."""
    app.dependency_overrides[get_governance] = lambda: gov
    app.dependency_overrides[get_settings] = lambda: gov.settings
    app.dependency_overrides[get_rate_limiter] = lambda: RateLimiter(per_minute=0)
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            yield c
    finally:
        app.dependency_overrides.clear()


@pytest.fixture
def headers(gov: Governance) -> dict[str, dict[str, str]]:
    """One key per role, plus a second requester."""
    return {role: make_key(gov, f"{role}-1", role)
            for role in ("requester", "approver", "auditor", "admin")} | {
        "requester2": make_key(gov, "requester-2", "requester")}


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's temporary directory, pointed at an empty folder of this test."""
    folder = tmp_path / "systmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(scope="session")
def undecided_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One finished run under a quorum-of-two policy, nothing decided yet (built once).

    Keys: requester ``req``, approvers ``appr1`` and ``appr2``, auditor ``aud``, admin
    ``adm``. Tests work on ``world.clone(tmp_path)``.
    """
    return (ScenarioBuilder(tmp_path_factory.mktemp("security-world"), rows=400)
            .keys(req="requester", appr1="approver", appr2="approver", aud="auditor",
                  adm="admin")
            .run("req", policy=loose_policy("security", quorum=2, consumers="req"))
            .build())


#: Server processes of the PostgreSQL race tests, and what each may hold: 8 x (2 + 2)
#: connections fit the database's limit with room for the test process's own pool.
PG_SERVERS, PG_POOL, PG_CONNECTION_LIMIT = 8, {"size": 2, "max_overflow": 2}, 48


@dataclass
class ServerWorld:
    """API server processes on one fresh PostgreSQL database, and a context on it."""

    servers: Servers
    gov: Governance
    database_url: str


@pytest.fixture(scope="session")
def pg_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerWorld]:
    """Eight real API processes (uvicorn) on one fresh PostgreSQL database, started once.

    The servers connect as a role that may hold 48 connections (a small server, so the
    shared test server is not crowded), and each process has a pool of 2 + 2 connections.
    Tests share the processes and the database but each makes its own objects (keys,
    datasets, candidates).
    """
    root = tmp_path_factory.mktemp("pg-servers")
    with fresh_pg_database(connection_limit=PG_CONNECTION_LIMIT) as url:
        settings = make_settings(root, url)
        gov = Governance.open(settings)  # migrates, so the servers need not race to
        env = {"GOVERNANCE_DB_POOL_SIZE": str(PG_POOL["size"]),
               "GOVERNANCE_DB_POOL_MAX_OVERFLOW": str(PG_POOL["max_overflow"]),
               "GOVERNANCE_DB_POOL_TIMEOUT_SECONDS": "10"}
        try:
            with api_servers(PG_SERVERS, home=settings.home, database_url=url,
                             env=env) as servers:
                yield ServerWorld(servers=servers, gov=gov, database_url=url)
        finally:
            dispose_engines()
