"""Run ``govern`` in this process (no interpreter start-up): exit code, stdout, stderr."""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from governance.core.config import get_settings

#: Settings a test run of the CLI must not inherit from the environment.
_CLEARED = ("GOVERNANCE_API_KEY", "GOVERNANCE_CHECKPOINT_KEY", "GOVERNANCE_SIGNING_KEY_FILE",
            "GOVERNANCE_DATABASE_URL")


@dataclass(frozen=True)
class CliResult:
    """What one ``govern`` call did."""

    code: int
    stdout: str
    stderr: str


def govern(*args: str, home: Path, env: Mapping[str, str] | None = None) -> CliResult:
    """Call the CLI's entry point with ``args`` on the service home ``home``."""
    from governance.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for name in _CLEARED:
            mp.delenv(name, raising=False)
        mp.setenv("GOVERNANCE_HOME", str(home))
        mp.setenv("GOVERNANCE_AUDITS_DIR", str(home.parent / "audits"))
        for name, value in (env or {}).items():
            mp.setenv(name, value)
        mp.setattr(sys, "argv", ["govern", *args])
        get_settings.cache_clear()
        try:
            with redirect_stdout(out), redirect_stderr(err):
                main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            get_settings.cache_clear()
    return CliResult(code, out.getvalue(), err.getvalue())


def secret_of(header: Mapping[str, str]) -> str:
    """The API key in an ``Authorization: Bearer`` header."""
    return header["Authorization"].removeprefix("Bearer ")


def key_file(path: Path, header: Mapping[str, str], *, mode: int = 0o600) -> Path:
    """Write the key of ``header`` to ``path`` with ``mode``."""
    path.write_text(secret_of(header) + "\n")
    path.chmod(mode)
    return path
