import types

import governance.frontier as frontier_pkg


def test_all_matches_the_public_names():
    # Setup
    public = {name for name, value in vars(frontier_pkg).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}

    # Assert
    assert set(frontier_pkg.__all__) == public
