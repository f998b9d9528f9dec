"""The package's ``__all__`` lists exactly its public names; registry and doctests work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import governance.generators as generators
from governance.core.errors import UnknownGeneratorError
from governance.generators import (
    available_generators,
    generator_class,
    register_generator,
    unregister_generator,
)
from governance.generators.fake import FakeGenerator


def test_all_matches_public_names():
    # Setup
    public = {name for name in vars(generators) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(generators, name)).__name__ == "module"}
    # Assert
    assert set(generators.__all__) == public - modules
    assert sorted(generators.__all__) == sorted(set(generators.__all__))


@pytest.mark.parametrize(
    ("name", "private"),
    [("gaussian_copula", False), ("ctgan", False), ("tvae", False), ("dp_vae", True)],
)
def test_builtin_generators_resolve_with_their_privacy_flag(name, private):
    # Run
    cls = generator_class(name)
    # Assert
    assert name in available_generators() and cls.name == name
    assert cls.differentially_private is private


def test_unknown_generator_names_the_available_ones():
    # Run / Assert
    with pytest.raises(UnknownGeneratorError, match="dp_vae"):
        generator_class("nope")


def test_register_refuses_overwrite_unless_forced():
    # Setup
    register_generator("fake_for_test", FakeGenerator)
    try:
        # Run / Assert
        with pytest.raises(ValueError, match="already registered"):
            register_generator("fake_for_test", FakeGenerator)
        register_generator("fake_for_test", FakeGenerator, force=True)
        assert generator_class("fake_for_test") is FakeGenerator
    finally:
        unregister_generator("fake_for_test")
    assert "fake_for_test" not in available_generators()


def test_importing_the_package_does_not_import_torch_or_sdv():
    # Setup
    code = ("import sys, governance.generators; "
            "print(any(m in sys.modules for m in ('torch', 'sdv', 'opacus')))")
    # Run
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[3])
    # Assert
    assert out.stdout.strip() == "False"
