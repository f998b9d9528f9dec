"""Run ``govern`` in this process (no interpreter start-up): exit code, stdout, stderr."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.utils.hostile import run_cli


@dataclass(frozen=True)
class CliResult:
    """What one ``govern`` call did."""

    code: int
    stdout: str
    stderr: str


def govern(*args: str, home: Path, env: Mapping[str, str] | None = None) -> CliResult:
    """Call the CLI's entry point with ``args`` on the service home ``home``.

    The environment is the one :func:`tests.utils.hostile.run_cli` builds: no
    ``GOVERNANCE_*`` setting of the caller leaks in (an API key, a database URL).
    """
    proc = run_cli(list(args), home, env=dict(env or {}))
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def secret_of(header: Mapping[str, str]) -> str:
    """The API key in an ``Authorization: Bearer`` header."""
    return header["Authorization"].removeprefix("Bearer ")


def key_file(path: Path, header: Mapping[str, str], *, mode: int = 0o600) -> Path:
    """Write the key of ``header`` to ``path`` with ``mode``."""
    path.write_text(secret_of(header) + "\n")
    path.chmod(mode)
    return path
