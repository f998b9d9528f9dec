"""Who may do what: the one permission module the API, the CLI and the console share.

Roles are ``requester``, ``approver``, ``auditor`` and ``admin``; an admin may do
everything. Requesters see (and run on) only the datasets they registered or were
granted, their own runs and the releases they requested or consume; approvers, auditors
and admins see every dataset and every run. A dataset's budget and grants are its
owner's (or an admin's) to set. What a caller may not see looks absent (404), never
forbidden; what they may see but not change is forbidden (403).
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


def can_see_dataset(key: Principal, ds: Dataset, *, granted: bool = False) -> bool:
    """Whether ``key`` may read ``ds`` and its budget (``granted``: it holds a grant on it).

    For a requester this is also whether they may start runs on it.
    """
    return sees_every_dataset(key) or ds.created_by == key.name or granted


def can_manage_dataset(key: Principal, ds: Dataset) -> bool:
    """Whether ``key`` may set ``ds``'s budget and grant it: its owner or an admin."""
    return key.role == Role.ADMIN or ds.created_by == key.name


def check_manage_dataset(key: Principal, ds: Dataset) -> Dataset:
    """The dataset, if ``key`` may manage it.

    Raises:
        PermissionDeniedError: the caller sees the dataset but is neither its owner nor an
            admin.
    """
    if not can_manage_dataset(key, ds):
        raise PermissionDeniedError(f"only the owner of dataset {ds.name!r} ({ds.created_by}) "
                                    "or an admin may change its budget or grants")
    return ds


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
