"""Finding 2b (access): any requester could spend any tenant's dataset; budgets had no owner.

Before: the run route let a requester name any dataset it could find, the budget came
from the policy the requester named, and nobody owned it. Now a dataset's budget starts
at its registering policy's ``max_total_epsilon`` and only its owner or an admin changes
it or grants other requesters access; someone else's dataset is 404 (absent), a visible
dataset the caller does not own is 403 for these changes, and both are logged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.jobs import get_jobs
from api.main import app
from governance.cli.app import app as cli_app
from governance.services.context import Governance
from governance.store.auditlog import iter_events
from tests.utils.api import RecordingJobs, make_key
from tests.utils.cli import key_file
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.fakes import registered_fake_dp
from tests.utils.hostile import assert_error_body, csv_bytes, upload

RUN = {"target": "label", "generators": ["fake_dp"], "epsilons": [1.0]}


@pytest.fixture
def jobs(client: TestClient) -> Iterator[RecordingJobs]:
    """Runs submitted through the API stay queued (nothing trains); ``fake_dp`` exists."""
    recorder = RecordingJobs()
    app.dependency_overrides[get_jobs] = lambda: recorder
    with registered_fake_dp():
        yield recorder


@pytest.fixture
def world(client: TestClient, headers: dict[str, dict[str, str]], gov: Governance,
          jobs: RecordingJobs) -> dict[str, Any]:
    """``requester`` owns ``people``; ``requester2`` and ``requester3`` are strangers to it."""
    headers = {**headers, "requester3": make_key(gov, "requester-3", "requester")}
    r = upload(client, headers["requester"], content=csv_bytes(mixed_table(120, seed=2)),
               schema=MIXED_SCHEMA.to_yaml(), name="people")
    assert r.status_code == 201, r.text
    return {"client": client, "hdr": headers, "ds": r.json()["id"]}


def _grant(world: dict[str, Any], who: str, grantee: str = "requester-2") -> Any:
    return world["client"].post(f"/v1/datasets/{world['ds']}/grants",
                                json={"grantee": grantee}, headers=world["hdr"][who])


def _events(gov: Governance, kind: str) -> list[tuple[str, dict[str, Any]]]:
    with gov.session() as s:
        return [(e.actor, json.loads(e.payload)) for e in iter_events(s) if e.kind == kind]


def test_a_stranger_cannot_see_or_run_on_a_dataset_until_granted(world, gov):
    # Setup
    client, hdr, ds = world["client"], world["hdr"], world["ds"]

    def probes() -> list[int]:
        return [client.get(f"/v1/datasets/{ds}", headers=hdr["requester2"]).status_code,
                client.get(f"/v1/datasets/{ds}/budget", headers=hdr["requester2"]).status_code,
                client.post("/v1/runs", json={"dataset": ds, **RUN},
                            headers=hdr["requester2"]).status_code]

    # Run
    before = probes()
    granted = _grant(world, "requester")
    after = probes()
    listed = client.get("/v1/datasets", headers=hdr["requester2"]).json()
    stranger = client.get(f"/v1/datasets/{ds}", headers=hdr["requester3"])
    # Assert
    assert before == [404, 404, 404]
    assert granted.status_code == 201, granted.text
    assert granted.json()["grantee"] == "requester-2" and granted.json()["granted_by"] == (
        "requester-1")
    assert after == [200, 200, 202]
    assert [d["id"] for d in listed["data"]] == [ds]
    assert stranger.status_code == 404
    assert _events(gov, "dataset.granted") == [
        ("requester-1", {"grantee": "requester-2", "grantee_role": "requester"})]


@pytest.mark.parametrize(("who", "status"), [
    ("requester", 200), ("admin", 200),   # the owner and an admin
    ("requester2", 403),                  # a grantee sees it but does not own it
    ("requester3", 404),                  # a stranger does not see it
    ("approver", 403), ("auditor", 403),  # roles that may not change datasets
])
def test_only_the_owner_or_an_admin_sets_the_budget(world, gov, who, status):
    # Setup
    assert _grant(world, "requester").status_code == 201
    # Run
    r = world["client"].put(f"/v1/datasets/{world['ds']}/budget", json={"epsilon": 20},
                            headers=world["hdr"][who])
    budget = world["client"].get(f"/v1/datasets/{world['ds']}/budget",
                                 headers=world["hdr"]["admin"]).json()
    # Assert
    if status == 200:
        assert r.status_code == 200 and r.json()["epsilon_budget"] == 20
        assert budget["epsilon_budget"] == 20 and budget["epsilon_left"] == 20
        actor, payload = _events(gov, "budget.set")[-1]
        assert actor in ("requester-1", "admin-1") and payload["epsilon"] == 20
        assert payload["previous"] == 40
    else:
        assert_error_body(r, status)
        assert budget["epsilon_budget"] == 40 and _events(gov, "budget.set") == []


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 201), ("requester2", 403), ("requester3", 404), ("approver", 403),
])
def test_only_the_owner_or_an_admin_grants(world, who, status):
    # Setup: requester-2 already holds a grant; each caller tries to grant requester-3.
    assert _grant(world, "requester").status_code == 201
    # Run
    r = _grant(world, who, grantee="requester-3")
    # Assert
    assert r.status_code == status, r.text
    if status != 201:
        assert_error_body(r, status)


@pytest.mark.parametrize(("grantee", "status", "fragment"), [
    ("requester-2", 409, "already has access"),   # a second grant
    ("requester-1", 409, "already has access"),   # the owner
    ("nobody", 422, "no live API key named 'nobody'"),
    ("approver-1", 422, "only requesters start runs"),
    ("../etc", 422, "grantee"),
])
def test_bad_grants_are_4xx_with_a_message(world, grantee, status, fragment):
    # Setup
    assert _grant(world, "requester").status_code == 201
    # Run
    r = _grant(world, "requester", grantee=grantee)
    # Assert
    assert fragment in assert_error_body(r, status)["message"]


@pytest.mark.parametrize("body", [{"epsilon": -1}, {"epsilon": "inf"}, {"epsilon": 1e300},
                                  {"epsilon": 5, "epsilon_spent": 0}, {}])
def test_bad_budgets_are_422(world, body):
    # Run
    r = world["client"].put(f"/v1/datasets/{world['ds']}/budget", json=body,
                            headers=world["hdr"]["requester"])
    # Assert
    assert_error_body(r, 422)


@pytest.mark.parametrize(("policy", "budget"), [(None, 40), ("strict", 10),
                                                ("research-sandbox", 100)])
def test_the_budget_starts_at_the_registering_policys_limit(client, headers, policy, budget):
    # Run
    extra = {"policy": policy} if policy else {}
    r = client.post("/v1/datasets", headers=headers["requester"], data={"name": "t", **extra},
                    files={"file": ("t.csv", csv_bytes(mixed_table(100)), "text/csv"),
                           "schema": ("s.yaml", MIXED_SCHEMA.to_yaml(), "text/yaml")})
    # Assert
    assert r.status_code == 201, r.text
    assert r.json()["budget_epsilon"] == budget


def test_an_unknown_registering_policy_is_422(client, headers):
    # Run
    r = client.post("/v1/datasets", headers=headers["requester"], data={"policy": "nosuch"},
                    files={"file": ("t.csv", csv_bytes(mixed_table(100)), "text/csv"),
                           "schema": ("s.yaml", MIXED_SCHEMA.to_yaml(), "text/yaml")})
    # Assert
    assert "no policy named 'nosuch'" in assert_error_body(r, 422)["message"]


@pytest.fixture
def cli(gov: Governance) -> Iterator[CliRunner]:
    """The ``govern`` app in this process, on ``gov``'s home (set in the environment)."""
    yield CliRunner()


def test_cli_sets_shows_and_grants(world, cli, gov, tmp_path):
    # Setup: each actor's key in a private file.
    keys = {who: str(key_file(tmp_path / f"{who}.key", world["hdr"][who]))
            for who in ("requester", "admin", "requester3")}
    # Run
    set_ = cli.invoke(cli_app, ["budget", "set", "people", "--epsilon", "20",
                                "--key-file", keys["requester"], "--json"])
    shown = cli.invoke(cli_app, ["budget", "show", "people", "--json"])
    granted = cli.invoke(cli_app, ["datasets", "grant", "people", "--to", "requester-3",
                                   "--key-file", keys["admin"]])
    refused = cli.invoke(cli_app, ["budget", "set", "people", "--epsilon", "30",
                                   "--key-file", keys["requester3"]])
    by_name = cli.invoke(cli_app, ["budget", "set", "people", "--epsilon", "30",
                                   "--as", "requester-1"])
    # Assert
    assert set_.exit_code == 0, set_.output
    assert json.loads(set_.stdout)["epsilon_budget"] == 20
    assert json.loads(shown.stdout)["epsilon_left"] == 20
    assert granted.exit_code == 0 and "requester-3 may now see dataset" in granted.stdout
    assert type(refused.exception).__name__ == "PermissionDeniedError"
    assert type(by_name.exception).__name__ == "InputError"  # a name is not a credential
    assert [p["grantee"] for _a, p in _events(gov, "dataset.granted")] == ["requester-3"]
