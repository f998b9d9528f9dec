"""Every error is JSON {code, message}: unknown routes, wrong methods, malformed bodies."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/nope", "/v1/nope", "/v1/runs/a/b/c", "/v2/runs"])
def test_unknown_route_is_404_json(client, headers, path):
    # Run
    r = client.get(path, headers=headers["admin"])
    # Assert
    assert r.status_code == 404
    assert r.json()["code"] == "not_found" and r.json()["message"]


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("DELETE", "/v1/runs", "GET, POST"), ("PUT", "/v1/releases/rel_x", "GET"),
    ("PATCH", "/healthz", "GET, HEAD"), ("DELETE", "/v1/releases/rel_x/revoke", "POST"),
])
def test_wrong_method_is_405_json_with_allow(client, headers, method, path, allow):
    # Run
    r = client.request(method, path, headers=headers["admin"])
    # Assert
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed" and r.json()["message"]
    assert r.headers["allow"] == allow


@pytest.mark.parametrize("content", [b"{", b"[]", b"null", b"\xff\xfe", b'{"decision": 1}'])
def test_malformed_bodies_are_422_json(client, headers, content):
    # Run
    r = client.post("/v1/candidates/cand_x/decisions", content=content,
                    headers={**headers["approver"], "Content-Type": "application/json"})
    # Assert
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request" and r.json()["message"]


@pytest.mark.parametrize("auth", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}])
def test_anonymous_malformed_body_is_still_401(client, auth):
    # Run
    r = client.post("/v1/runs", content=b"{not json",
                    headers={**auth, "Content-Type": "application/json"})
    # Assert
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("path", "query"), [("/v1/runs", "limt=5"), ("/v1/policies", "x=1"),
                                             ("/v1/audit/events", "offset=3")])
def test_unknown_query_parameters_are_422(client, headers, path, query):
    # Run
    r = client.get(f"{path}?{query}", headers=headers["admin"])
    # Assert
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input" and query.split("=")[0] in r.json()["message"]


def test_unknown_query_parameter_from_anonymous_is_still_401(client):
    # Run / Assert
    assert client.get("/v1/runs?limt=5").status_code == 401


@pytest.mark.parametrize("content", [b"\xff\xfe", b"--x\r\nbroken"])
def test_unparseable_bodies_are_422_not_400(client, headers, content):
    # Run
    r = client.post("/v1/datasets", content=content, headers={
        **headers["requester"], "Content-Type": "multipart/form-data; boundary=x"})
    # Assert
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request"
