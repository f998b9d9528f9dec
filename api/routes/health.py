"""Liveness outside /v1."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import Gov

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(gov: Gov) -> dict[str, str]:
    """Report that the service and its database answer."""
    with gov.session() as session:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok"}
