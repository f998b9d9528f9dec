"""Every endpoint x every role x own/someone else's object: the expected status, 100%.

The world is built once per module from real objects: requester ``req-a`` and requester
``req-b`` each registered a dataset and ran a real run (the scenario's stand-in, inline), and
approver ``appr`` approved each candidate into an active release whose consumers are only
its requester. "Own" objects are req-a's; "other" objects are req-b's (whose release
excludes req-a). A requester sees only the datasets they registered.

Mutating operations are aimed so that being *allowed* is visible without changing the
world: deciding on an already released candidate (409), revoking with a blank reason
(422), cancelling or resuming a finished run (409), starting a run on a dataset that does
not exist (404), creating an API key under a taken name (409), revoking a key that does
not exist (404), setting a dataset's budget to the value it has (200), granting a
dataset to a key that does not exist (422). The role gate answers 401/403 before any of
those; a requester's own dataset may be changed, someone else's looks absent (404).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.core.config import get_settings
from governance.services.context import Governance
from governance.services.datasets import register_dataset
from governance.store.db import dispose_engines
from governance.store.models import Candidate, Release
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.scenario import ScenarioBuilder, loose_policy

ROLES = ("requester", "approver", "auditor", "admin", "anonymous")
UPLOAD_CSV = mixed_table(80, seed=11).to_csv(index=False).encode()

# Shorthands for the expectation rows: status per role in ROLES order.
ALL_READ = (200, 200, 200, 200, 401)
AUDIT_ONLY = (403, 403, 200, 200, 401)
ADMIN_ONLY = (403, 403, 403, 200, 401)

# (method, path template, target, body, expected statuses in ROLES order)
# target: "own" fills ids with req-a's objects, "other" with req-b's, None needs no object.
TABLE: list[tuple[str, str, str | None, str | None, tuple[int, ...]]] = [
    ("GET", "/healthz", None, None, (200, 200, 200, 200, 200)),
    ("HEAD", "/healthz", None, None, (200, 200, 200, 200, 200)),
    ("POST", "/v1/datasets", None, "upload", (201, 403, 403, 201, 401)),
    ("GET", "/v1/datasets", None, None, ALL_READ),
    ("POST", "/v1/runs", None, "run", (404, 403, 403, 404, 401)),
    ("GET", "/v1/runs", None, None, ALL_READ),
    ("GET", "/v1/audit/verify", None, None, ALL_READ),
    ("GET", "/v1/audit/events", None, None, AUDIT_ONLY),
    ("GET", "/v1/audit/pubkey", None, None, AUDIT_ONLY),
    ("GET", "/v1/keys", None, None, ADMIN_ONLY),
    # Creating a key under a taken name (409) and revoking one that does not exist (404)
    # show that an admin is allowed without changing the world.
    ("POST", "/v1/keys", None, "key", (403, 403, 403, 409, 401)),
    ("DELETE", "/v1/keys/{name}", None, None, (403, 403, 403, 404, 401)),
    ("GET", "/v1/policies", None, None, ALL_READ),
    ("GET", "/v1/policies/schema", None, None, ALL_READ),
    ("GET", "/v1/policies/{name}", None, None, ALL_READ),
]
for _target, _meta, _data in (("own", 200, 200), ("other", 404, 403)):
    TABLE += [
        ("GET", "/v1/datasets/{dataset_id}", _target, None, (_meta, 200, 200, 200, 401)),
        ("GET", "/v1/datasets/{dataset_id}/budget", _target, None, (_meta, 200, 200, 200, 401)),
        ("PUT", "/v1/datasets/{dataset_id}/budget", _target, "budget",
         (200 if _target == "own" else 404, 403, 403, 200, 401)),
        ("POST", "/v1/datasets/{dataset_id}/grants", _target, "grant",
         (422 if _target == "own" else 404, 403, 403, 422, 401)),
        ("GET", "/v1/runs/{run_id}", _target, None, (_meta, 200, 200, 200, 401)),
        ("GET", "/v1/runs/{run_id}/frontier", _target, None, (_meta, 200, 200, 200, 401)),
        ("GET", "/v1/runs/{run_id}/frontier.png", _target, None, (_meta, 200, 200, 200, 401)),
        ("GET", "/v1/runs/{run_id}/report", _target, None, (_meta, 200, 200, 200, 401)),
        ("GET", "/v1/runs/{run_id}/report.json", _target, None, (_meta, 200, 200, 200, 401)),
        ("POST", "/v1/runs/{run_id}/cancel", _target, None,
         (409 if _target == "own" else 404, 403, 403, 409, 401)),
        ("POST", "/v1/runs/{run_id}/resume", _target, None,
         (409 if _target == "own" else 404, 403, 403, 409, 401)),
        ("GET", "/v1/candidates/{candidate_id}", _target, None, (_meta, 200, 200, 200, 401)),
        ("GET", "/v1/candidates/{candidate_id}/data", _target, None, (_data, 403, 403, 200, 401)),
        ("POST", "/v1/candidates/{candidate_id}/decisions", _target, "decision",
         (403, 409, 403, 403, 401)),
        ("GET", "/v1/releases/{release_id}", _target, None, (_meta, 200, 200, 200, 401)),
        ("GET", "/v1/releases/{release_id}/data", _target, None, (_data, 403, 403, 200, 401)),
        ("POST", "/v1/releases/{release_id}/revoke", _target, "revoke", (403, 422, 403, 422, 401)),
        ("GET", "/v1/lineage/{ref}", _target, None, AUDIT_ONLY),
    ]
CELLS = [(m, p, t, b, role, exp[i]) for m, p, t, b, exp in TABLE for i, role in enumerate(ROLES)]


def _ids(cell: tuple[Any, ...]) -> str:
    method, path, target, _b, role, status = cell
    return f"{method} {path} [{target or '-'}] {role}->{status}"


def _objects(gov: Governance, requester: str, root: Path) -> dict[str, str]:
    csv = root / f"{requester}.csv"
    mixed_table(100, seed=len(requester)).to_csv(csv, index=False)
    ds = register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name=f"data-{requester}",
                          actor=requester)
    with gov.session() as s:
        rel = s.exec(select(Release).where(Release.requested_by == requester)).one()
        cand = s.get(Candidate, rel.candidate_id)
        assert cand is not None
        return {"run_id": rel.run_id, "candidate_id": cand.id, "release_id": rel.id,
                "ref": rel.id, "dataset_id": ds.id}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("authz")
    builder = ScenarioBuilder(root, rows=400).keys(
        **{"req-a": "requester", "req-b": "requester", "appr": "approver", "aud": "auditor",
           "adm": "admin"})
    for who in ("req-a", "req-b"):
        builder.run(who, policy=loose_policy(f"authz-{who}", quorum=1, consumers=who))
        builder.approve(who, "appr")
    built = builder.build()
    gov = Governance.open(built.gov.settings)
    hdr = {"requester": built.headers["req-a"], "requester_b": built.headers["req-b"],
           "approver": built.headers["appr"], "auditor": built.headers["aud"],
           "admin": built.headers["adm"], "anonymous": {}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GOVERNANCE_HOME", str(gov.settings.home))
        mp.setenv("GOVERNANCE_POLICIES_DIR", str(gov.settings.policies_dir))
        get_settings.cache_clear()
        app.dependency_overrides[get_governance] = lambda: gov
        app.dependency_overrides[get_rate_limiter] = lambda: RateLimiter(per_minute=0)
        try:
            with TestClient(app, raise_server_exceptions=False) as client:
                yield {"client": client, "hdr": hdr, "dataset_id": built.dataset_id,
                       "own": _objects(gov, "req-a", root), "other": _objects(gov, "req-b", root)}
        finally:
            app.dependency_overrides.clear()
            get_settings.cache_clear()
            dispose_engines()


def _request(world: dict[str, Any], method: str, path: str, target: str | None,
             body: str | None, role: str):
    ids = {"dataset_id": world["dataset_id"], "name": "default", **world[target or "own"]}
    url = path.format(**ids)
    kwargs: dict[str, Any] = {"headers": world["hdr"][role]}
    if body == "upload":
        kwargs["files"] = {"file": ("authz.csv", UPLOAD_CSV, "text/csv"),
                           "schema": ("schema.yaml", MIXED_SCHEMA.to_yaml(), "text/yaml")}
        kwargs["data"] = {"name": "authz-upload"}
    elif body == "run":
        kwargs["json"] = {"dataset": "ds_does_not_exist", "target": "label",
                          "generators": ["dp_vae"], "epsilons": [1.0]}
    elif body == "decision":
        kwargs["json"] = {"decision": "approve"}
    elif body == "revoke":
        kwargs["json"] = {"reason": "   "}
    elif body == "key":
        kwargs["json"] = {"name": "appr", "role": "approver"}
    elif body == "budget":  # the budget it has: allowed, and nothing changes
        kwargs["json"] = {"epsilon": 40}
    elif body == "grant":
        kwargs["json"] = {"grantee": "no-such-key"}
    return world["client"].request(method, url, **kwargs)


def test_table_covers_every_operation_in_the_openapi_spec():
    # Setup
    spec = app.openapi()
    # Run
    in_spec = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    in_table = {(m, p) for m, p, *_ in TABLE}
    # Assert
    assert in_spec == in_table, {"missing rows": in_spec - in_table, "stale": in_table - in_spec}
    assert len(CELLS) == len(TABLE) * len(ROLES) == 51 * 5


@pytest.mark.parametrize(("method", "path", "target", "body", "role", "expected"), CELLS,
                         ids=[_ids(c) for c in CELLS])
def test_status_matches_the_matrix(world, method, path, target, body, role, expected):
    # Run
    r = _request(world, method, path, target, body, role)
    # Assert
    assert r.status_code == expected, r.text[:300]
    if r.status_code >= 400:
        assert set(r.json()) >= {"code", "message"}


def test_the_table_encodes_the_rules():
    # Setup
    by_role = {role: [(m, p, t, exp[i]) for m, p, t, _b, exp in TABLE]
               for i, role in enumerate(ROLES)}
    # Assert: auditors never change anything.
    assert all(s == 403 for m, p, _t, s in by_role["auditor"] if m not in ("GET", "HEAD"))
    # Anonymous callers get 401 under /v1; /healthz answers everyone.
    assert all(s == 401 for _m, p, _t, s in by_role["anonymous"] if p.startswith("/v1"))
    assert all(exp == (200,) * 5 for _m, p, _t, _b, exp in TABLE if p == "/healthz")
    # Someone else's release: 404 for metadata, 403 for data, never 200.
    other = [(p, s) for m, p, t, s in by_role["requester"] if t == "other"]
    assert all(s != 200 for _p, s in other)
    assert all(s == 403 for p, s in other if p.endswith("/data"))
    assert all(s == 404 for p, s in other if p in (
        "/v1/releases/{release_id}", "/v1/candidates/{candidate_id}", "/v1/runs/{run_id}",
        "/v1/datasets/{dataset_id}", "/v1/datasets/{dataset_id}/budget"))


def test_requesters_list_only_their_own_runs(world):
    # Run
    mine = world["client"].get("/v1/runs", headers=world["hdr"]["requester"]).json()
    everyone = world["client"].get("/v1/runs", headers=world["hdr"]["auditor"]).json()
    # Assert
    assert [r["id"] for r in mine["data"]] == [world["own"]["run_id"]]
    assert {r["id"] for r in everyone["data"]} == {world["own"]["run_id"],
                                                   world["other"]["run_id"]}


def test_requesters_list_only_their_own_datasets(world):
    # Run
    mine = world["client"].get("/v1/datasets", headers=world["hdr"]["requester"]).json()
    everyone = world["client"].get("/v1/datasets", headers=world["hdr"]["approver"]).json()
    # Assert
    assert world["own"]["dataset_id"] in {d["id"] for d in mine["data"]}
    assert {d["created_by"] for d in mine["data"]} == {"req-a"}
    assert {world["own"]["dataset_id"], world["other"]["dataset_id"],
            world["dataset_id"]} <= {d["id"] for d in everyone["data"]}


def test_the_release_consumer_of_other_release_can_read_their_own(world):
    # Setup: req-b is the consumer of the "other" release.
    client, hdr, rid = world["client"], world["hdr"], world["other"]["release_id"]
    # Run
    meta = client.get(f"/v1/releases/{rid}", headers=hdr["requester_b"])
    data = client.get(f"/v1/releases/{rid}/data", headers=hdr["requester_b"])
    # Assert
    assert meta.status_code == 200 and data.status_code == 200
    assert data.headers["x-artifact-sha256"] == meta.json()["artifact_sha256"]
