"""Limits: page sizes on every list endpoint, and the per-key request rate limit."""

from __future__ import annotations

import pytest

from api.main import app
from api.ratelimit import DEFAULT_PER_MINUTE, ENV_VAR, RateLimiter, get_rate_limiter

LISTS = {"/v1/datasets": 100, "/v1/runs": 100, "/v1/audit/events": 1000, "/v1/policies": 100}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_every_list_endpoint_is_paged():
    # Setup
    spec = app.openapi()
    # Run
    paged = {p for p, ops in spec["paths"].items()
             if any(q["name"] == "limit" for q in ops.get("get", {}).get("parameters", []))}
    # Assert
    assert paged == set(LISTS)


BAD_PAGING = [(path, query) for path in sorted(LISTS) for query in (
    "limit={over}", "limit=0", "limit=-1", "limit=abc",
    *(f"{cursor}={value}" for value in ("-1", "9223372036854775808")
      for cursor in (["after"] if path == "/v1/audit/events" else ["offset"])))]


@pytest.mark.parametrize(("path", "query"), BAD_PAGING)
def test_out_of_range_paging_is_422(client, headers, path, query):
    # Run
    r = client.get(f"{path}?{query.format(over=LISTS[path] + 1)}", headers=headers["admin"])
    # Assert
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request"


@pytest.mark.parametrize("path", sorted(LISTS))
def test_max_page_size_is_accepted_and_respected(client, headers, path):
    # Run
    r = client.get(f"{path}?limit={LISTS[path]}", headers=headers["admin"])
    one = client.get(f"{path}?limit=1", headers=headers["admin"])
    # Assert
    assert r.status_code == 200 and one.status_code == 200
    assert one.json()["count"] == min(1, r.json()["count"]) == len(one.json()["data"])


@pytest.fixture
def tiny_limit(client):
    clock = FakeClock()
    limiter = RateLimiter(per_minute=3, clock=clock)
    app.dependency_overrides[get_rate_limiter] = lambda: limiter
    return clock


def test_the_fourth_request_in_a_minute_is_429_with_retry_after(client, headers, tiny_limit):
    # Run
    codes = [client.get("/v1/policies", headers=headers["auditor"]).status_code
             for _ in range(4)]
    r = client.get("/v1/policies", headers=headers["auditor"])
    # Assert
    assert codes == [200, 200, 200, 429]
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited" and "3 requests per minute" in r.json()["message"]
    assert r.headers["retry-after"] == "20"  # one token per 20 s at 3/min


def test_buckets_are_per_key_and_refill(client, headers, tiny_limit):
    # Setup
    for _ in range(3):
        client.get("/v1/policies", headers=headers["auditor"])
    # Run
    other_key = client.get("/v1/policies", headers=headers["approver"]).status_code
    throttled = client.get("/v1/policies", headers=headers["auditor"]).status_code
    tiny_limit.now += 20.0
    refilled = client.get("/v1/policies", headers=headers["auditor"]).status_code
    # Assert
    assert (other_key, throttled, refilled) == (200, 429, 200)


def test_anonymous_callers_share_a_per_ip_bucket_and_health_is_unlimited(client, headers,
                                                                         tiny_limit):
    # Run
    anon = [client.get("/v1/runs").status_code for _ in range(4)]
    bogus = client.get("/v1/runs", headers={"Authorization": "Bearer forged"})
    health = [client.get("/healthz").status_code for _ in range(5)]
    # Assert
    assert anon == [401, 401, 401, 429]
    assert bogus.status_code == 429 and bogus.json()["code"] == "rate_limited"
    assert health == [200] * 5


def test_rate_limit_applies_to_writes_too(client, headers, tiny_limit):
    # Run
    codes = [client.post("/v1/runs/run_x/cancel", headers=headers["requester"]).status_code
             for _ in range(4)]
    # Assert
    assert codes == [404, 404, 404, 429]


@pytest.mark.parametrize(("steps", "expected"), [
    ([0, 0, 0], [None, None, 30.0]),       # burst of 2, then 30 s to the next token
    ([0, 0, 15], [None, None, 15.0]),      # half a token refilled after 15 s
    ([0, 0, 30], [None, None, None]),      # a full token after 30 s
    ([0, 0, 600, 0, 0], [None, None, None, None, 30.0]),  # refill caps at the burst size
])
def test_token_bucket_known_answers(steps, expected):
    # Setup
    clock = FakeClock()
    limiter = RateLimiter(per_minute=2, clock=clock)
    # Run
    got = []
    for dt in steps:
        clock.now += dt
        got.append(limiter.take("k"))
    # Assert
    assert got == pytest.approx(expected) if None not in expected else got == expected


def test_zero_disables_and_negative_is_refused():
    # Setup
    limiter = RateLimiter(per_minute=0)
    # Run / Assert
    assert all(limiter.take("k") is None for _ in range(1000))
    with pytest.raises(ValueError, match="per_minute must be >= 0"):
        RateLimiter(per_minute=-1)


def test_full_buckets_are_pruned_past_the_client_cap():
    # Setup
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, clock=clock, max_clients=2)
    limiter.take("a")
    limiter.take("b")
    clock.now += 5.0  # both refilled completely
    # Run
    limiter.take("c")
    # Assert
    assert set(limiter._buckets) == {"c"}


@pytest.mark.parametrize(("env", "expected"), [(None, DEFAULT_PER_MINUTE), ("5", 5), ("0", 0)])
def test_limit_is_read_from_the_environment(monkeypatch, env, expected):
    from governance.core.config import Settings

    # Setup
    if env is None:
        monkeypatch.delenv(ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(ENV_VAR, env)
    # Run / Assert
    assert Settings().rate_limit_per_minute == expected


def test_a_malformed_limit_names_the_variable(monkeypatch):
    from pydantic import ValidationError

    from governance.core.config import Settings

    # Setup
    monkeypatch.setenv(ENV_VAR, "lots")
    # Run / Assert
    with pytest.raises(ValidationError, match="rate_limit_per_minute"):
        Settings()


def test_a_repeated_scalar_query_parameter_is_422(client, headers):
    """Found by schemathesis: ``?after=x&after=1`` was served with the last value."""
    # Run
    r = client.get("/v1/audit/events?after=%7B%7D&after=1", headers=headers["auditor"])
    # Assert
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input" and "more than once" in r.json()["message"]
