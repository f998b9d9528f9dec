"""Fixtures of the security regression tests: an API client on an isolated home, keys."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.core.config import get_settings
from governance.services.context import Governance
from tests.utils.api import make_key
from tests.utils.scenario import ScenarioBuilder, World, loose_policy


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
