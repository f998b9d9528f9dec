"""Finding 6g: a CSV line longer than the limit is refused before pandas reads the file.

Before: a 1 GiB one-line CSV registered through the CLI peaked at 3.3 GB of memory. The
tests use a few-MB line and a small limit (``GOVERNANCE_MAX_CSV_LINE_BYTES``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import governance.datasets.loader as loader
from governance.core.errors import DatasetError
from governance.services.datasets import register_dataset
from tests.utils.hostile import assert_one_line_exit_2, run_cli

LIMIT = 64 * 1024


@pytest.fixture
def one_line_csv(tmp_path: Path) -> Path:
    """A header, then one 4 MB line."""
    path = tmp_path / "long.csv"
    path.write_bytes(b"a,b\n" + b"1" * (4 << 20) + b",2\n")
    return path


def test_the_cli_refuses_a_giant_line_with_exit_2(tmp_path: Path, one_line_csv: Path):
    # Run
    proc = run_cli(["datasets", "add", str(one_line_csv), "--infer-schema"], tmp_path / "home",
                   env={"GOVERNANCE_MAX_CSV_LINE_BYTES": str(LIMIT)})
    # Assert
    line = assert_one_line_exit_2(proc)
    assert "line 2" in line and str(LIMIT) in line and "GOVERNANCE_MAX_CSV_LINE_BYTES" in line


def test_the_line_is_refused_before_pandas_parses_anything(gov, one_line_csv, monkeypatch):
    # Setup: a parse would be a failure of the early check.
    monkeypatch.setattr(gov.settings, "max_csv_line_bytes", LIMIT)

    def no_parse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("pandas was asked to parse the file")

    monkeypatch.setattr(loader.pd, "read_csv", no_parse)
    # Run / Assert
    with pytest.raises(DatasetError, match=r"longer than the limit of 65536 bytes"):
        register_dataset(gov, path=one_line_csv, infer=True, actor="t")
