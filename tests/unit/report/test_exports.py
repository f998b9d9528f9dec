"""The package's ``__all__`` lists exactly its public names, and the docstring examples run."""

from __future__ import annotations

import doctest
import importlib

import pytest

import governance.report as report


def test_all_matches_public_names() -> None:
    # Setup
    public = {name for name in vars(report) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(report, name)).__name__ == "module"}

    # Assert
    assert set(report.__all__) == public - modules
    assert sorted(report.__all__) == sorted(set(report.__all__))


@pytest.mark.parametrize("module", ["values", "markup", "content", "html"])
def test_docstring_examples(module: str) -> None:
    # Run
    result = doctest.testmod(importlib.import_module(f"governance.report.{module}"))

    # Assert
    assert result.attempted > 0 and result.failed == 0
