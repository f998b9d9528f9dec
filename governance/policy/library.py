"""Find policy files by name in a policies directory (the caller says which)."""

from __future__ import annotations

import re
from pathlib import Path

from governance.core.errors import NotFoundError
from governance.policy.loader import default_policy_path

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def available_policies(directory: Path) -> list[str]:
    """Names of the policy files in ``directory`` (``default`` is always available)."""
    names = {p.stem for p in directory.glob("*.yaml")} if directory.is_dir() else set()
    return sorted(names | {"default"})


def policy_path(name: str, *, directory: Path) -> Path:
    """The file of the policy called ``name``: ``directory/<name>.yaml``.

    ``default`` falls back to the copy shipped inside the package.

    Raises:
        NotFoundError: naming the available policies.
    """
    if _NAME.match(name):
        path = directory / f"{name}.yaml"
        if path.is_file():
            return path
        if name == "default":
            return default_policy_path()
    raise NotFoundError(f"no policy named {name!r}; available: "
                        f"{', '.join(available_policies(directory))}")
