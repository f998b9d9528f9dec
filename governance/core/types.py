"""Types every layer shares: the immutable result base, stage errors, statuses.

Results stay objects until the store. They subclass ``Record``, are written through
the project's one JSON codec (``Record.to_json``, i.e. ``core.jsonsafe``) and are read
back with ``model_validate_json``; pydantic reads the codec's ``"inf"`` strings back
into float fields as infinity, and NaN (written as ``null``) lives only in fields typed
``float | None``.

>>> class Point(Record):
...     x: float
...     y: float | None = None
>>> p = Point(x=float("inf"))
>>> p.to_json(), Point.model_validate_json(p.to_json()) == p
('{"x": "inf", "y": null}', True)
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, PlainSerializer

from governance.core import jsonsafe


def _inf_text(value: float) -> float | str:
    return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")


#: A float that must be a finite number (pydantic refuses NaN and infinities).
FiniteFloat = Annotated[float, AllowInfNan(False)]
#: A float that may be infinite (an epsilon: infinity is the non-private control); JSON
#: writes ``"inf"`` / ``"-inf"`` and reads them back.
InfFloat = Annotated[float, PlainSerializer(_inf_text, return_type=float | Literal["inf", "-inf"],
                                            when_used="json")]
#: A probability or rate in [0, 1].
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class Record(BaseModel):
    """Base of every stored result: frozen, no unknown fields, one JSON codec."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=False)

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready form (``core.jsonsafe`` rules)."""
        out: dict[str, Any] = jsonsafe.to_jsonable(self)
        return out

    def to_json(self) -> str:
        """JSON text under the codec's rules; ``model_validate_json`` reads it back."""
        return jsonsafe.dumps(self, sort_keys=False)


def rename_keys(data: Any, renames: dict[str, str]) -> Any:
    """``data`` with old field names mapped to new ones, for reading older stored records.

    Non-dicts pass through unchanged; a new name already present wins over the old one.
    """
    if not isinstance(data, dict) or not any(old in data for old in renames):
        return data
    out = dict(data)
    for old, new in renames.items():
        if old in out:
            value = out.pop(old)
            out.setdefault(new, value)
    return out


class StageError(Record):
    """A stage of an evaluation that failed: its message, in place of its result."""

    error: str


class RunStatus(StrEnum):
    """Where a frontier run is."""

    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CandidateStatus(StrEnum):
    """Where a candidate is, from generation to release."""

    PENDING = "pending"
    GENERATED = "generated"
    FAILED = "failed"
    EVALUATED = "evaluated"
    REJECTED = "rejected"
    RELEASED = "released"


class ReleaseStatus(StrEnum):
    """Where a release is: pending its quorum, serving, or stopped."""

    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    REVOKED = "revoked"
    FLAGGED = "flagged"


class Role(StrEnum):
    """The roles an API key can hold."""

    REQUESTER = "requester"
    APPROVER = "approver"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Decision(StrEnum):
    """An approver's decision on a candidate."""

    APPROVE = "approve"
    REJECT = "reject"


class Principal(Record):
    """Who is acting: an API key's id, name and role (never its secret)."""

    id: str
    name: str
    role: Role
