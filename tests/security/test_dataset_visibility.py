"""Finding 6e: a requester sees only the datasets (and budgets) they registered.

Approvers, auditors and admins see every dataset. Someone else's dataset looks absent
(404), like someone else's run.
"""

from __future__ import annotations

import pytest

from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.hostile import assert_error_body, csv_bytes, upload


@pytest.fixture
def two_datasets(client, headers) -> dict[str, str]:
    ids = {}
    for who, name in (("requester", "mine"), ("requester2", "theirs")):
        r = upload(client, headers[who], content=csv_bytes(mixed_table(100, seed=len(ids))),
                   schema=MIXED_SCHEMA.to_yaml(), name=name)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return ids


def test_requesters_list_only_their_own_datasets(client, headers, two_datasets):
    # Run
    mine = client.get("/v1/datasets", headers=headers["requester"]).json()
    # Assert
    assert [d["id"] for d in mine["data"]] == [two_datasets["mine"]] and mine["count"] == 1


@pytest.mark.parametrize("suffix", ["", "/budget"])
def test_someone_elses_dataset_and_budget_look_absent(client, headers, two_datasets, suffix):
    # Run
    by_id = client.get(f"/v1/datasets/{two_datasets['theirs']}{suffix}",
                       headers=headers["requester"])
    by_name = client.get(f"/v1/datasets/theirs{suffix}", headers=headers["requester"])
    own = client.get(f"/v1/datasets/{two_datasets['mine']}{suffix}",
                     headers=headers["requester"])
    # Assert
    for r in (by_id, by_name):
        body = assert_error_body(r, 404)
        assert "theirs" not in body["message"] or "no dataset" in body["message"]
        assert two_datasets["mine"] not in body["message"]
    assert own.status_code == 200


def test_a_requester_cannot_start_a_run_on_someone_elses_dataset(client, headers, two_datasets):
    # Run
    r = client.post("/v1/runs", json={"dataset": two_datasets["theirs"], "target": "label"},
                    headers=headers["requester"])
    # Assert
    assert_error_body(r, 404)


@pytest.mark.parametrize("role", ["approver", "auditor", "admin"])
def test_other_roles_see_every_dataset(client, headers, two_datasets, role):
    # Run
    listed = client.get("/v1/datasets", headers=headers[role]).json()
    # Assert
    assert {d["id"] for d in listed["data"]} == set(two_datasets.values())
    for ds in two_datasets.values():
        assert client.get(f"/v1/datasets/{ds}/budget", headers=headers[role]).status_code == 200
