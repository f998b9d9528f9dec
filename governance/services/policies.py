"""Policy files as the CLI and API see them: find, check, read, describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.policy.library import available_policies, policy_path
from governance.policy.loader import LoadedPolicy, check_policy, load_policy, policy_json_schema
from governance.schemas.policies import PoliciesPublic, PolicyPublic
from governance.services.context import Governance

__all__ = ["check_policy", "list_policies", "load_named_policy", "load_policy", "named_policy",
           "policy_json_schema", "resolve_policy"]


def resolve_policy(gov: Governance, policy: str | Path | None) -> LoadedPolicy:
    """A policy file by path, or the installation's default when ``None``."""
    if policy is None:
        policy = policy_path("default", directory=gov.settings.policies_dir)
    return load_policy(policy)


def list_policies(gov: Governance, *, offset: int, limit: int) -> PoliciesPublic:
    """Names of the policies in the configured directory, sorted, one page."""
    names = available_policies(gov.settings.policies_dir)[offset:offset + limit]
    return PoliciesPublic(data=names, count=len(names))


def load_named_policy(gov: Governance, name: str) -> LoadedPolicy:
    """A policy of the configured directory, its messages naming it, not its server path.

    Raises:
        NotFoundError: no policy of that name.
        PolicyError: the file is not a valid policy.
    """
    return load_policy(policy_path(name, directory=gov.settings.policies_dir),
                       source=f"policy {name!r}")


def named_policy(gov: Governance, name: str) -> PolicyPublic:
    """One policy of the configured directory: text, hash and parsed form.

    Raises:
        NotFoundError: no policy of that name.
        PolicyError: the file is not a valid policy.
    """
    loaded = load_named_policy(gov, name)
    return PolicyPublic(name=name, sha256=loaded.sha256, text=loaded.text, policy=loaded.policy)


def policy_file(gov: Governance, name: str) -> Path:
    """The file of a named policy of the configured directory."""
    return policy_path(name, directory=gov.settings.policies_dir)


def describe_schema() -> dict[str, Any]:
    """The policy format as JSON Schema."""
    return policy_json_schema()
