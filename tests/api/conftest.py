from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.services.context import Governance
from tests.utils.api import make_key


@pytest.fixture
def client(gov: Governance) -> Iterator[TestClient]:
    limiter = RateLimiter()  # a fresh bucket set per test; the default rate
    app.dependency_overrides[get_governance] = lambda: gov
    app.dependency_overrides[get_rate_limiter] = lambda: limiter
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            yield c
    finally:
        app.dependency_overrides.clear()


@pytest.fixture
def headers(gov: Governance) -> dict[str, dict[str, str]]:
    """One key per role, plus a second requester for 'someone else's object' cases."""
    return {role: make_key(gov, f"{role}-1", role)
            for role in ("requester", "approver", "auditor", "admin")} | {
        "requester2": make_key(gov, "requester-2", "requester"),
        "approver2": make_key(gov, "approver-2", "approver")}
