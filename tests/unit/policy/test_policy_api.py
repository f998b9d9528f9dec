import types

import governance.policy as policy_pkg


def test_all_matches_the_public_names():
    # Setup
    public = {name for name, value in vars(policy_pkg).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}

    # Assert
    assert set(policy_pkg.__all__) == public
    assert sorted(policy_pkg.__all__) == sorted(set(policy_pkg.__all__))
