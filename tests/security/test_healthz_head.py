"""Finding 6d: ``HEAD /healthz`` answers 200 (load balancers probe with HEAD)."""

from __future__ import annotations


def test_head_healthz_is_200_without_a_body(client):
    # Run
    r = client.head("/healthz")
    # Assert
    assert r.status_code == 200
    assert r.content == b""
