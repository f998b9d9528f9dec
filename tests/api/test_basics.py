from __future__ import annotations

import io

import pytest

from tests.utils.data import MIXED_SCHEMA, mixed_table


def _upload(client, hdr, frame=None, name="mixed", schema_text=None):
    frame = mixed_table(300) if frame is None else frame
    buf = io.BytesIO()
    frame.to_csv(buf, index=False)
    files = {"file": (f"{name}.csv", buf.getvalue(), "text/csv"),
             "schema": ("schema.yaml", schema_text or MIXED_SCHEMA.to_yaml(), "text/yaml")}
    return client.post("/v1/datasets", files=files, data={"name": name}, headers=hdr)


def test_healthz_needs_no_key(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_unauthenticated_requests_get_401_json(client, auth):
    hdr = {"Authorization": auth} if auth else {}
    r = client.get("/v1/datasets", headers=hdr)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated" and r.json()["message"]
    assert r.headers["www-authenticate"] == "Bearer"


def test_register_dataset_and_read_it_back(client, headers):
    r = _upload(client, headers["requester"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["n_rows"] == 300 and len(body["source_sha256"]) == 64
    assert not body["data_derived_schema"]
    got = client.get(f"/v1/datasets/{body['id']}", headers=headers["auditor"]).json()
    assert got["source_sha256"] == body["source_sha256"]
    assert client.get("/v1/datasets", headers=headers["approver"]).json()["count"] == 1


@pytest.mark.parametrize(("role", "status"), [("approver", 403), ("auditor", 403),
                                              ("admin", 201), ("requester", 201)])
def test_only_requesters_and_admins_register(client, headers, role, status):
    assert _upload(client, headers[role]).status_code == status


def test_bad_uploads_are_4xx_with_a_reason(client, headers):
    frame = mixed_table(300).astype({"edu": object})
    frame.loc[0, "edu"] = "phd"
    r = _upload(client, headers["requester"], frame=frame)
    assert r.status_code == 422 and "phd" in r.json()["message"]
    r = _upload(client, headers["requester"], schema_text="columns: {x: [")
    assert r.status_code == 422 and r.json()["code"] == "invalid_schema"
    r = client.post("/v1/datasets", files={"file": ("a.xlsx", b"x")}, headers=headers["requester"])
    assert r.status_code == 422 and ".csv or .parquet" in r.json()["message"]
    r = client.post("/v1/datasets", files={"file": ("a.csv", b"")},
                    data={"infer_schema": "true"}, headers=headers["requester"])
    assert r.status_code == 422 and "empty" in r.json()["message"]


def test_upload_over_the_limit_is_413(client, headers, gov, monkeypatch):
    monkeypatch.setattr(gov.settings, "max_upload_bytes", 1000)
    r = _upload(client, headers["requester"])
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_unknown_objects_are_404_json(client, headers):
    for path in ("/v1/runs/run_nope", "/v1/candidates/cand_nope", "/v1/releases/rel_nope",
                 "/v1/datasets/ds_nope", "/v1/policies/nope"):
        r = client.get(path, headers=headers["admin"])
        assert r.status_code == 404, path
        assert r.json()["code"] == "not_found"


def test_run_body_with_server_owned_fields_is_rejected(client, headers):
    r = client.post("/v1/runs", json={"dataset": "x", "status": "succeeded"},
                    headers=headers["requester"])
    assert r.status_code == 422 and "status" in r.json()["message"]
    r = client.post("/v1/candidates/c/decisions",
                    json={"decision": "approve", "approver": "someone"},
                    headers=headers["approver"])
    assert r.status_code == 422


def test_run_on_unknown_column_or_generator_is_422(client, headers):
    ds = _upload(client, headers["requester"]).json()
    r = client.post("/v1/runs", json={"dataset": ds["id"], "target": "salary"},
                    headers=headers["requester"])
    assert r.status_code == 422 and r.json()["code"] == "unknown_column"
    r = client.post("/v1/runs", json={"dataset": ds["id"], "target": "label",
                                      "generators": ["magic"]}, headers=headers["requester"])
    assert r.status_code == 422 and r.json()["code"] == "unknown_generator"


def test_policies_are_listed_and_served(client, headers):
    names = client.get("/v1/policies", headers=headers["auditor"]).json()["data"]
    assert "default" in names
    pol = client.get("/v1/policies/default", headers=headers["auditor"]).json()
    assert len(pol["sha256"]) == 64 and pol["policy"]["name"]


def test_audit_verify_and_events(client, headers):
    _upload(client, headers["requester"])
    assert client.get("/v1/audit/verify", headers=headers["auditor"]).json()["ok"] is True
    ev = client.get("/v1/audit/events", headers=headers["auditor"]).json()
    kinds = [e["kind"] for e in ev["data"]]
    assert kinds.count("apikey.created") == 6 and "dataset.registered" in kinds
    assert client.get("/v1/audit/events", headers=headers["requester"]).status_code == 403


def test_openapi_is_served(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/runs/{run_id}" in spec["paths"]
