"""What several command groups share: the service context, key lookup, epsilon parsing."""

from __future__ import annotations

import math

from sqlmodel import Session

from governance.core.errors import InputError
from governance.core.types import Principal
from governance.services.auth import principal_named
from governance.services.context import Governance


def open_governance() -> Governance:
    """The service context the environment's settings point at."""
    return Governance.open()


def parse_epsilons(text: str) -> list[float]:
    """Parse ``"1,4,inf"`` into floats.

    Raises:
        InputError: naming the bad item.

    >>> parse_epsilons("1, 4,inf")
    [1.0, 4.0, inf]
    """
    values = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        try:
            value = math.inf if item.lower() in ("inf", "infinity") else float(item)
        except ValueError:
            raise InputError(f"--epsilons: {item!r} is not a number; use e.g. 1,4,inf") from None
        if not value > 0:
            raise InputError(f"--epsilons: {item!r} must be positive (or inf)")
        values.append(value)
    return values


def live_key(session: Session, name: str) -> Principal:
    """The live API key called ``name``, as the principal a CLI decision acts as.

    Raises:
        NotFoundError: no such key, or it was revoked.
    """
    return principal_named(session, name)
