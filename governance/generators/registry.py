"""Look up generator backends by name.

>>> from governance.generators import available_generators
>>> "gaussian_copula" in available_generators() and "dp_vae" in available_generators()
True
"""

from __future__ import annotations

import importlib
from typing import Any

from governance.core.errors import UnknownGeneratorError
from governance.generators.base import Generator

# name -> "module:Class" (imported lazily so `govern --help` does not import torch)
_BUILTIN: dict[str, str] = {
    "gaussian_copula": "governance.generators.sdv.copula:GaussianCopulaGenerator",
    "dp_vae": "governance.generators.vae.dp_vae:DPVAEGenerator",
    "ctgan": "governance.generators.sdv.deep:CTGANGenerator",
    "tvae": "governance.generators.sdv.deep:TVAEGenerator",
    "mst": "governance.generators.marginal.mst:MSTGenerator",
    "aim": "governance.generators.marginal.aim:AIMGenerator",
}
_REGISTRY: dict[str, type[Any] | str] = dict(_BUILTIN)


def register_generator(name: str, cls: type[Any], *, force: bool = False) -> None:
    """Register ``cls`` under ``name``; refuses to overwrite unless ``force``."""
    if name in _REGISTRY and not force:
        raise ValueError(f"a generator named {name!r} is already registered")
    _REGISTRY[name] = cls


def unregister_generator(name: str) -> None:
    """Remove a registration (built-ins come back on the next ``reset``)."""
    _REGISTRY.pop(name, None)


def available_generators() -> list[str]:
    """Names that ``create_generator`` accepts."""
    return sorted(_REGISTRY)


def generator_class(name: str) -> type[Any]:
    """Resolve a name to its class.

    Raises:
        UnknownGeneratorError: naming the available generators.
    """
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise UnknownGeneratorError(
            f"unknown generator {name!r}; available: {', '.join(available_generators())}"
        ) from None
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
        _REGISTRY[name] = target
    return target


def create_generator(name: str, **options: Any) -> Generator:
    """Instantiate the generator registered under ``name`` with keyword options."""
    return generator_class(name)(**options)
