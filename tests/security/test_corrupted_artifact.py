"""Finding 5: a corrupted (or missing) artifact is checked before the access is logged.

Before: the download was logged ``access.allowed`` and then failed with a 500 whose body
named the server's artifact path. Now the hash is verified first; the attempt is logged
``access.failed`` and answered 503 with a message that names no path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.store.db import dispose_engines
from governance.store.models import AuditEvent, Release
from tests.utils.hostile import ABSOLUTE_PATH
from tests.utils.scenario import ScenarioBuilder, World, loose_policy


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> World:
    return (ScenarioBuilder(tmp_path_factory.mktemp("corrupt"), rows=400)
            .keys(req="requester", appr="approver", aud="auditor")
            .run("req", policy=loose_policy("corrupt", quorum=1, consumers="req"))
            .approve("req", "appr").build())


@pytest.fixture
def world(built: World, tmp_path: Path) -> Iterator[dict[str, Any]]:
    w = built.clone(tmp_path)
    app.dependency_overrides[get_governance] = lambda: w.gov
    app.dependency_overrides[get_rate_limiter] = lambda: RateLimiter(per_minute=0)
    with w.gov.session() as s:
        rel = s.get(Release, w.releases["req"])
        assert rel is not None
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield {"client": client, "world": w, "release": rel,
                   "artifact": w.gov.artifacts.path(rel.artifact_sha256)}
    finally:
        app.dependency_overrides.clear()
        dispose_engines()


def _access_events(w: World, subject: str) -> list[tuple[str, dict[str, Any]]]:
    with w.gov.session() as s:
        rows = s.exec(select(AuditEvent).where(col(AuditEvent.kind).startswith("access."),
                                               AuditEvent.subject == subject)
                      .order_by(col(AuditEvent.seq))).all()
    return [(e.kind, json.loads(e.payload)) for e in rows]


@pytest.mark.parametrize("damage", ["flip", "delete"])
@pytest.mark.parametrize("route", ["release", "candidate"])
def test_a_damaged_artifact_is_503_and_logged_access_failed(world, damage, route):
    # Setup
    w, rel, artifact = world["world"], world["release"], world["artifact"]
    if damage == "flip":
        data = bytearray(artifact.read_bytes())
        data[len(data) // 2] ^= 0xFF
        artifact.write_bytes(bytes(data))
    else:
        artifact.unlink()
    url = (f"/v1/releases/{rel.id}/data" if route == "release"
           else f"/v1/candidates/{rel.candidate_id}/data")
    # Run
    r = world["client"].get(url, headers=w.headers["req"])
    # Assert: 503 with a clear message naming neither the file nor its folder.
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["code"] == "artifact_unavailable" and rel.id in body["message"]
    assert not ABSOLUTE_PATH.search(body["message"]), body["message"]
    assert str(w.home) not in r.text
    # ... and the attempt is on the record as failed, never as allowed.
    events = _access_events(w, rel.id)
    assert [kind for kind, _ in events] == ["access.failed"]
    assert events[0][1]["artifact_sha256"] == rel.artifact_sha256
    verify = world["client"].get("/v1/audit/verify", headers=w.headers["aud"]).json()
    assert verify["ok"] is True

