"""Read models of policy files."""

from __future__ import annotations

from governance.core.types import Record
from governance.policy.models import Policy


class PolicyPublic(Record):
    """One policy file: its name, hash, exact text and parsed form."""

    name: str
    sha256: str
    text: str
    policy: Policy


class PoliciesPublic(Record):
    """Names of the available policies."""

    data: list[str]
    count: int
