"""The package's ``__all__`` lists exactly its public names, and the docstring examples run."""

from __future__ import annotations

import governance.evaluation as utility


def test_all_matches_public_names() -> None:
    # Setup
    public = {name for name in vars(utility) if not name.startswith("_")}
    modules = {name for name in public
               if type(getattr(utility, name)).__name__ == "module"}

    # Assert
    assert set(utility.__all__) == public - modules
    assert sorted(utility.__all__) == sorted(set(utility.__all__))
