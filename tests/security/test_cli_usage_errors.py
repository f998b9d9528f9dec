"""Finding 6f: an unknown subcommand (or a bad option) is a usage error: one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.utils.hostile import assert_one_line_exit_2, run_cli


@pytest.mark.parametrize(("args", "fragment"), [
    (["nosuch"], "nosuch"),
    (["datasets", "frobnicate"], "frobnicate"),
    (["datasets", "add", "x.csv", "--no-such-option"], "--no-such-option"),
])
def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, args, fragment):
    # Run
    proc = run_cli(args, tmp_path / "home")
    # Assert
    line = assert_one_line_exit_2(proc)
    assert fragment in line and "--help" in line
