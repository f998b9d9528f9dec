"""Synthetic data generators behind one protocol and a registry."""

from governance.generators.base import Generator, PrivacySpend
from governance.generators.registry import (
    available_generators,
    create_generator,
    generator_class,
    register_generator,
    unregister_generator,
)

__all__ = [
    "Generator",
    "PrivacySpend",
    "available_generators",
    "create_generator",
    "generator_class",
    "register_generator",
    "unregister_generator",
]
