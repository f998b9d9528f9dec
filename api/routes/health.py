"""Liveness outside /v1 (GET, and HEAD for load balancers)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Gov
from governance.services.audit import Health, health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(gov: Gov) -> Health:
    """Report that the service and its database answer."""
    return health(gov)


@router.head("/healthz", response_model=Health)
def healthz_head(gov: Gov) -> Health:
    """As GET /healthz, without the body (load balancers probe with HEAD)."""
    return health(gov)
