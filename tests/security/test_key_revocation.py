"""Finding: API keys could be created but neither listed nor revoked, by an admin or the CLI.

Admins now list, create and revoke keys through the API (``GET``/``POST /v1/keys``,
``DELETE /v1/keys/{name}``) and the CLI (``govern keys list|create|revoke``); a revoked
key is refused with 401 from its very next request.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from governance.services.context import Governance
from governance.store.models import AuditEvent
from tests.utils.cli import govern, key_file


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_an_admin_creates_lists_and_revokes_a_key_through_the_api(
        client: TestClient, headers: dict[str, dict[str, str]], gov: Governance):
    # Setup: a new approver key, used once.
    made = client.post("/v1/keys", json={"name": "dora", "role": "approver"},
                       headers=headers["admin"])
    dora = _bearer(made.json()["key"])
    before = client.get("/v1/datasets", headers=dora)
    # Run
    revoked = client.delete("/v1/keys/dora", headers=headers["admin"])
    after = client.get("/v1/datasets", headers=dora)
    listed = client.get("/v1/keys", headers=headers["admin"]).json()
    # Assert
    assert made.status_code == 201 and made.json()["role"] == "approver"
    assert before.status_code == 200
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert after.status_code == 401 and after.json()["code"] == "unauthenticated"
    assert "revoked" in after.json()["message"]
    row = next(k for k in listed["data"] if k["name"] == "dora")
    assert row["revoked_at"] is not None and "key" not in row and "key_sha256" not in row
    with gov.session() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.kind == "apikey.revoked")).one()
    assert event.actor == "admin-1" and json.loads(event.payload) == {"name": "dora"}


@pytest.mark.parametrize("role", ["requester", "approver", "auditor"])
def test_only_admins_manage_keys(client: TestClient, headers: dict[str, dict[str, str]],
                                 role: str):
    # Run
    answers = [client.get("/v1/keys", headers=headers[role]),
               client.post("/v1/keys", json={"name": "x", "role": "admin"},
                           headers=headers[role]),
               client.delete("/v1/keys/admin-1", headers=headers[role])]
    anonymous = client.get("/v1/keys")
    # Assert
    assert [r.status_code for r in answers] == [403, 403, 403]
    assert anonymous.status_code == 401
    assert client.get("/v1/datasets", headers=headers["admin"]).status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("DELETE", "/v1/keys/nobody", None, 404),
    ("POST", "/v1/keys", {"name": "approver-1", "role": "approver"}, 409),
    ("POST", "/v1/keys", {"name": "new", "role": "root"}, 422),
    ("POST", "/v1/keys", {"name": "new", "role": "admin", "secret": "mine"}, 422),
    ("POST", "/v1/keys", {"name": "bad name", "role": "admin"}, 422),
])
def test_bad_key_requests_are_4xx_with_a_message(client: TestClient,
                                                 headers: dict[str, dict[str, str]],
                                                 method, path, body, status):
    # Run
    r = client.request(method, path, json=body, headers=headers["admin"])
    # Assert
    assert r.status_code == status and set(r.json()) >= {"code", "message"}


def test_a_key_revoked_from_the_cli_is_refused_by_the_running_api(
        client: TestClient, headers: dict[str, dict[str, str]], gov: Governance,
        tmp_path: Path):
    # Setup
    admin = key_file(tmp_path / "admin.key", headers["admin"])
    assert client.get("/v1/runs", headers=headers["approver"]).status_code == 200
    # Run
    revoked = govern("keys", "revoke", "approver-1", "--key-file", str(admin),
                     home=gov.settings.home)
    listed = govern("keys", "list", "--key-file", str(admin), "--json", home=gov.settings.home)
    answer = client.get("/v1/runs", headers=headers["approver"])
    # Assert
    assert revoked.code == 0, revoked.stderr
    assert answer.status_code == 401
    states = {k["name"]: k["revoked_at"] is not None for k in json.loads(listed.stdout)["data"]}
    assert states["approver-1"] is True and states["admin-1"] is False
    with gov.session() as s:
        kinds = s.exec(select(AuditEvent.kind).order_by(col(AuditEvent.seq))).all()
    assert kinds.count("apikey.revoked") == 1


def test_the_first_admin_key_needs_no_key_and_the_second_does(tmp_path: Path):
    # Run
    home = tmp_path / "home"
    first = govern("keys", "create", "root", "--role", "admin", "--json", home=home)
    second = govern("keys", "create", "root2", "--role", "admin", home=home)
    # Assert
    assert first.code == 0 and json.loads(first.stdout)["role"] == "admin"
    assert second.code == 2 and "pass --key-file PATH" in second.stderr
