"""Who may do what: the one permission module the API, the CLI and the console share.

Roles are ``requester``, ``approver``, ``auditor`` and ``admin``; an admin may do
everything. Requesters see only the datasets they registered, their own runs and the
releases they requested or consume; approvers, auditors and admins see every dataset
and every run. What a caller may not see looks absent (404), never forbidden.
"""

from __future__ import annotations

import json

from governance.core.errors import NotFoundError, PermissionDeniedError
from governance.core.types import Principal, Role
from governance.store.models import Dataset, Release, Run

#: Roles allowed each action (admins are always allowed).
READ = frozenset({Role.REQUESTER, Role.APPROVER, Role.AUDITOR})
REGISTER_DATASETS = frozenset({Role.REQUESTER})
SUBMIT_RUNS = frozenset({Role.REQUESTER})
DECIDE = frozenset({Role.APPROVER})
READ_AUDIT = frozenset({Role.AUDITOR})
MANAGE_KEYS: frozenset[Role] = frozenset()  # admins only


def allowed(key: Principal, roles: frozenset[Role]) -> bool:
    """Whether the key's role is one of ``roles`` (or admin)."""
    return key.role == Role.ADMIN or key.role in roles


def require_role(key: Principal, roles: frozenset[Role]) -> Principal:
    """Return the key if its role may act.

    Raises:
        PermissionDeniedError: naming the roles that may.
    """
    if not allowed(key, roles):
        names = ", ".join(sorted({*map(str, roles), Role.ADMIN.value}))
        raise PermissionDeniedError(f"role {str(key.role)!r} may not do this; it needs one of: "
                                    f"{names}")
    return key


def sees_every_dataset(key: Principal) -> bool:
    """Approvers, auditors and admins see every dataset; requesters only their own."""
    return key.role != Role.REQUESTER


def can_see_dataset(key: Principal, ds: Dataset) -> bool:
    """Whether ``key`` may read ``ds`` (and its budget ledger)."""
    return sees_every_dataset(key) or ds.created_by == key.name


def sees_every_run(key: Principal) -> bool:
    """Approvers, auditors and admins see every run; requesters only their own."""
    return key.role != Role.REQUESTER


def can_see_run(key: Principal, run: Run) -> bool:
    """Whether ``key`` may read ``run``."""
    return sees_every_run(key) or run.requested_by == key.name


def check_run_visible(key: Principal, run: Run | None, run_id: str) -> Run:
    """The run, or a 404 that does not reveal whether someone else's run exists.

    Raises:
        NotFoundError: no such run, or not the caller's.
    """
    if run is None or not can_see_run(key, run):
        raise NotFoundError(f"no run {run_id!r}")
    return run


def can_see_release(key: Principal, rel: Release) -> bool:
    """Requesters see releases they requested or are consumers of; other roles see all."""
    if key.role != Role.REQUESTER:
        return True
    consumers = json.loads(rel.consumers_json)
    return rel.requested_by == key.name or key.name in consumers or "*" in consumers
