"""Factories for API tests: keys per role and authenticated headers."""

from __future__ import annotations

from governance.services.auth import create_api_key
from governance.services.context import Governance


def make_key(gov: Governance, name: str, role: str) -> dict[str, str]:
    """Create an API key and return the ``Authorization`` header for it."""
    with gov.session() as s:
        _key, secret = create_api_key(session=s, name=name, role=role, actor="test")
    return {"Authorization": f"Bearer {secret}"}
