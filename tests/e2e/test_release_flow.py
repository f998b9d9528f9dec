"""Approvals, releases and downloads through the real API on a real DP candidate."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from api.deps import get_governance
from api.main import app
from governance.services.releases import authorize_access
from governance.store.auditlog import verify_log
from governance.store.db import dispose_engines
from governance.store.models import ApiKey, AuditEvent, Run
from tests.utils.scenario import ScenarioBuilder, loose_policy

ROLES = {"bob": "approver", "carol": "approver", "frank": "approver", "dave": "requester",
         "eve": "requester", "erin": "auditor"}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One candidate claiming epsilon 8 (the scenario's stand-in), requested by bob."""
    builder = ScenarioBuilder(tmp_path_factory.mktemp("release"))
    return builder.keys(**ROLES).run("bob", policy=loose_policy("release-test")).build()


@pytest.fixture
def world(template, tmp_path):
    w = template.clone(tmp_path)
    gov = w.gov
    with gov.session() as s:
        run = s.get(Run, w.runs["bob"])
    app.dependency_overrides[get_governance] = lambda: gov
    with TestClient(app, raise_server_exceptions=False) as client:
        yield {"gov": gov, "client": client, "hdr": w.headers, "run": run}
    app.dependency_overrides.clear()
    dispose_engines()


def _accesses(gov):
    with gov.session() as s:
        return [e.kind for e in s.exec(select(AuditEvent).where(
            col(AuditEvent.kind).in_(["access.allowed", "access.denied"]))
            .order_by(col(AuditEvent.seq))).all()]


def test_the_whole_release_flow(world):
    gov, client, hdr, run = world["gov"], world["client"], world["hdr"], world["run"]
    # The run produced one private, evaluated, eligible candidate.
    body = client.get(f"/v1/runs/{run.id}", headers=hdr["erin"]).json()
    (cand,) = body["candidates"]
    assert body["status"] == "succeeded" and cand["eligible"], cand
    assert 0 < cand["epsilon_spent"] <= 8
    cid = cand["id"]

    # Before any approval: 403, logged.
    assert client.get(f"/v1/candidates/{cid}/data", headers=hdr["dave"]).status_code == 403
    # Separation of duties: bob requested the run.
    r = client.post(f"/v1/candidates/{cid}/decisions", json={"decision": "approve"},
                    headers=hdr["bob"])
    assert r.status_code == 403 and "separation of duties" in r.json()["message"]
    # Requesters and auditors cannot decide.
    for who in ("dave", "erin"):
        r = client.post(f"/v1/candidates/{cid}/decisions", json={"decision": "approve"},
                        headers=hdr[who])
        assert r.status_code == 403
    # First approval opens a pending release that serves nothing yet.
    r = client.post(f"/v1/candidates/{cid}/decisions", json={"decision": "approve"},
                    headers=hdr["carol"])
    assert r.status_code == 201 and r.json()["release"]["status"] == "pending"
    rid = r.json()["release"]["id"]
    r = client.get(f"/v1/releases/{rid}/data", headers=hdr["dave"])
    assert r.status_code == 403 and "1 of 2 approvals" in r.json()["message"]
    # The same approver cannot count twice.
    r = client.post(f"/v1/candidates/{cid}/decisions", json={"decision": "approve"},
                    headers=hdr["carol"])
    assert r.status_code == 409
    # Quorum.
    r = client.post(f"/v1/candidates/{cid}/decisions", json={"decision": "approve"},
                    headers=hdr["frank"])
    assert r.status_code == 201 and r.json()["release"]["status"] == "active"

    # The consumer gets bytes whose SHA-256 is the one the audit log recorded.
    r = client.get(f"/v1/releases/{rid}/data", headers=hdr["dave"])
    assert r.status_code == 200
    digest = hashlib.sha256(r.content).hexdigest()
    with gov.session() as s:
        created = s.exec(select(AuditEvent).where(AuditEvent.kind == "release.created")).one()
    logged = json.loads(created.payload)["artifact_sha256"]
    assert digest == logged == r.headers["x-artifact-sha256"]
    assert client.get(f"/v1/releases/{rid}/data?format=csv", headers=hdr["dave"]).status_code == 200
    # Someone else's release: another requester and an auditor are refused.
    assert client.get(f"/v1/releases/{rid}/data", headers=hdr["eve"]).status_code == 403
    assert client.get(f"/v1/releases/{rid}/data", headers=hdr["erin"]).status_code == 403
    assert client.get(f"/v1/releases/{rid}", headers=hdr["eve"]).status_code == 404

    # Revocation: later downloads are 410 with the reason.
    r = client.post(f"/v1/releases/{rid}/revoke", json={"reason": "consent withdrawn"},
                    headers=hdr["carol"])
    assert r.status_code == 200
    r = client.get(f"/v1/releases/{rid}/data", headers=hdr["dave"])
    assert r.status_code == 410 and "consent withdrawn" in r.json()["message"]

    # Every access attempt above is exactly one event; the chain verifies.
    assert _accesses(gov) == ["access.denied", "access.denied", "access.allowed",
                              "access.allowed", "access.denied", "access.denied",
                              "access.denied"]
    with gov.session() as s:
        assert verify_log(s).ok
    lineage = client.get(f"/v1/lineage/{rid}", headers=hdr["erin"]).json()
    assert lineage["candidate"]["epsilon_spent"] == cand["epsilon_spent"]
    assert lineage["dataset"]["source_sha256"] and len(lineage["decisions"]) == 2


def test_expired_release_is_403(world):
    gov, client, hdr = world["gov"], world["client"], world["hdr"]
    run = client.get(f"/v1/runs/{world['run'].id}", headers=hdr["erin"]).json()
    cid = run["candidates"][0]["id"]
    for who in ("carol", "frank"):
        r = client.post(f"/v1/candidates/{cid}/decisions", json={"decision": "approve"},
                        headers=hdr[who])
    rid = r.json()["release"]["id"]
    with gov.session() as s:
        dave = s.exec(select(ApiKey).where(ApiKey.name == "dave")).one()
        with pytest.raises(Exception, match="expired"):
            authorize_access(session=s, release_id=rid, consumer=dave, fmt="parquet",
                             now=datetime.now(UTC) + timedelta(days=31))


def test_rejection_blocks_release(world):
    client, hdr = world["client"], world["hdr"]
    run = client.get(f"/v1/runs/{world['run'].id}", headers=hdr["erin"]).json()
    cid = run["candidates"][0]["id"]
    r = client.post(f"/v1/candidates/{cid}/decisions", json={"decision": "reject",
                                                             "reason": "too close to data"},
                    headers=hdr["carol"])
    assert r.status_code == 201
    r = client.post(f"/v1/candidates/{cid}/decisions", json={"decision": "approve"},
                    headers=hdr["frank"])
    assert r.status_code == 409 and "rejected" in r.json()["message"]
