"""Find policy files by name in the configured policies directory."""

from __future__ import annotations

import re
from pathlib import Path

from governance.core.config import get_settings
from governance.core.errors import NotFoundError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PACKAGED_DEFAULT = Path(__file__).with_name("default.yaml")


def policy_dir() -> Path:
    """The directory policies are read from (``GOVERNANCE_POLICIES_DIR``)."""
    return get_settings().policies_dir


def available_policies() -> list[str]:
    """Names of the policy files present (``default`` is always available)."""
    names = {p.stem for p in policy_dir().glob("*.yaml")} if policy_dir().is_dir() else set()
    return sorted(names | {"default"})


def policy_path(name: str) -> Path:
    """The file of the policy called ``name``.

    Raises:
        NotFoundError: naming the available policies.
    """
    if _NAME.match(name):
        path = policy_dir() / f"{name}.yaml"
        if path.is_file():
            return path
        if name == "default":
            return PACKAGED_DEFAULT
    raise NotFoundError(f"no policy named {name!r}; available: {', '.join(available_policies())}")
