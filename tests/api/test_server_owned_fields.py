"""Bodies may not set what the server owns: every POST refuses such fields with 422."""

from __future__ import annotations

from typing import Any

import pytest

from api.main import app
from tests.utils.data import MIXED_SCHEMA, mixed_table

SERVER_OWNED = ["id", "status", "approver", "actor", "epsilon", "epsilon_spent",
                "requested_by", "policy_sha256", "progress", "created_at", "created_by"]

# POST operation -> (role that may call it, a body that is valid without the extra field)
POSTS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "/v1/datasets": ("requester", None),  # multipart, built below
    "/v1/runs": ("requester", {"dataset": "ds_x", "target": "label"}),
    "/v1/runs/{run_id}/cancel": ("requester", {}),
    "/v1/runs/{run_id}/resume": ("requester", {}),
    "/v1/candidates/{candidate_id}/decisions": ("approver", {"decision": "approve"}),
    "/v1/releases/{release_id}/revoke": ("approver", {"reason": "consent withdrawn"}),
    "/v1/keys": ("admin", {"name": "new-key", "role": "approver"}),
    "/v1/datasets/{dataset_id}/grants": ("requester", {"grantee": "requester-2"}),
}


def test_every_post_operation_is_covered():
    # Setup
    spec = app.openapi()
    # Run
    posts = {p for p, ops in spec["paths"].items() if "post" in ops}
    # Assert
    assert posts == set(POSTS)


@pytest.mark.parametrize("field", SERVER_OWNED)
@pytest.mark.parametrize("path", sorted(POSTS))
def test_server_owned_field_is_422(client, headers, path, field):
    # Setup
    role, body = POSTS[path]
    url = path.format(run_id="run_x", candidate_id="cand_x", release_id="rel_x",
                      dataset_id="ds_x")
    # Run
    if body is None:
        files = {"file": ("t.csv", mixed_table(100).to_csv(index=False), "text/csv"),
                 "schema": ("schema.yaml", MIXED_SCHEMA.to_yaml(), "text/yaml")}
        r = client.post(url, files=files, data={"name": "t", field: "forged"},
                        headers=headers[role])
    else:
        r = client.post(url, json={**body, field: "forged"}, headers=headers[role])
    # Assert
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("invalid_request", "invalid_input")
    assert field in r.json()["message"]


def test_the_same_upload_without_the_field_is_accepted(client, headers):
    # Setup
    files = {"file": ("t.csv", mixed_table(100).to_csv(index=False), "text/csv"),
             "schema": ("schema.yaml", MIXED_SCHEMA.to_yaml(), "text/yaml")}
    # Run
    r = client.post("/v1/datasets", files=files, data={"name": "t"}, headers=headers["requester"])
    # Assert
    assert r.status_code == 201, r.text
    assert r.json()["created_by"] == "requester-1"
