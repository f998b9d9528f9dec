"""Request rate limiting: an in-memory token bucket per API key (per client IP if anonymous).

Every ``/v1`` request takes one token from its caller's bucket. A bucket holds at most
``per_minute`` tokens and refills continuously at ``per_minute / 60`` tokens a second, so
a caller may burst up to a minute's allowance and then proceeds at the steady rate. An
empty bucket answers 429 ``{"code": "rate_limited", ...}`` with ``Retry-After`` (whole
seconds until the next token).

The limit comes from ``Settings.rate_limit_per_minute`` when that field exists, else from
the ``GOVERNANCE_RATE_LIMIT_PER_MINUTE`` environment variable (default 600; ``0`` turns
limiting off). Buckets live in this process only: behind several workers each worker
limits on its own, so the effective limit is ``workers x per_minute``.

Notes:
    The token bucket is the classic traffic-shaping algorithm (Turner, "New directions
    in communications", IEEE Communications Magazine 24(10), 1986).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from api.deps import Gov, resolve_key
from governance.core.errors import AuthenticationError

DEFAULT_PER_MINUTE = 600
ENV_VAR = "GOVERNANCE_RATE_LIMIT_PER_MINUTE"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by client identity; thread-safe.

    Args:
        per_minute: Sustained requests per minute, also the burst size. ``0`` disables.
        clock: Monotonic clock in seconds (inject a fake one in tests).
        max_clients: Buckets kept before full (idle) ones are dropped, bounding memory.

    >>> limiter = RateLimiter(per_minute=2, clock=lambda: 0.0)
    >>> [limiter.take("key_a") for _ in range(3)]
    [None, None, 30.0]
    """

    def __init__(self, *, per_minute: int = DEFAULT_PER_MINUTE,
                 clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000) -> None:
        if per_minute < 0:
            raise ValueError(f"per_minute must be >= 0 (0 disables limiting), not {per_minute}")
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float | None:
        """Take one token for ``client``; return None if allowed, else seconds to wait."""
        if self.per_minute == 0:
            return None
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= self._max_clients:
                    self._prune(now)
                bucket = self._buckets[client] = _Bucket(float(self.per_minute), now)
            bucket.tokens = min(float(self.per_minute),
                                bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / self._rate

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled completely (their state is the default)."""
        full = [c for c, b in self._buckets.items()
                if b.tokens + (now - b.updated) * self._rate >= self.per_minute]
        for client in full:
            del self._buckets[client]


def configured_per_minute(gov: Gov) -> int:
    """The configured limit (``GOVERNANCE_RATE_LIMIT_PER_MINUTE``; 0 turns limiting off)."""
    return int(gov.settings.rate_limit_per_minute)


@lru_cache(maxsize=8)
def _limiter_for(per_minute: int) -> RateLimiter:
    return RateLimiter(per_minute=per_minute)


def get_rate_limiter(per_minute: Annotated[int, Depends(configured_per_minute)]) -> RateLimiter:
    """The process-wide limiter for the configured rate (tests override this dependency)."""
    return _limiter_for(per_minute)


def enforce_rate_limit(request: Request, gov: Gov,
                       limiter: Annotated[RateLimiter, Depends(get_rate_limiter)]) -> None:
    """Charge one request to the caller's bucket; 429 with ``Retry-After`` when empty."""
    try:
        client = f"key:{resolve_key(request, gov).id}"
    except AuthenticationError:
        client = f"ip:{request.client.host if request.client else 'unknown'}"
    wait = limiter.take(client)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(
            429, detail=f"rate limit of {limiter.per_minute} requests per minute exceeded; "
            f"retry after {seconds} s or ask an admin to raise {ENV_VAR}",
            headers={"Retry-After": str(seconds)})
