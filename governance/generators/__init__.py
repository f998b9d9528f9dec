"""Synthetic data generators behind one protocol and a registry.

Backends (imported lazily through the registry, so importing this package does not
import torch or SDV): ``gaussian_copula``, ``ctgan`` and ``tvae`` (SDV, non-private
baselines) and ``dp_vae`` (a tabular VAE trained with Opacus DP-SGD). ``accounting``
holds the noise calibration and spent-epsilon helpers they share.
"""

from governance.generators.base import Generator, PrivacySpend
from governance.generators.privacy.accounting import (
    NoiseCalibration,
    calibrate_noise,
    preprocessing_record,
    spent_epsilon,
)
from governance.generators.registry import (
    available_generators,
    create_generator,
    generator_class,
    register_generator,
    unregister_generator,
)

__all__ = [
    "Generator",
    "NoiseCalibration",
    "PrivacySpend",
    "available_generators",
    "calibrate_noise",
    "create_generator",
    "generator_class",
    "preprocessing_record",
    "register_generator",
    "spent_epsilon",
    "unregister_generator",
]
