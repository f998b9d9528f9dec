"""SDV's CTGAN and TVAE as non-private deep baselines (epsilon = inf), on CPU."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from governance.core.errors import InputError
from governance.generators.sdv.baseline import SDVBaseline


class _DeepBaseline(SDVBaseline):
    def __init__(self, *, epsilon: float = math.inf, delta: float = 1e-5, seed: int = 0,
                 epochs: int = 100, batch_size: int = 500) -> None:
        super().__init__(epsilon=epsilon, delta=delta, seed=seed)
        for key, val in (("epochs", epochs), ("batch_size", batch_size)):
            if isinstance(val, bool) or int(val) != val or val < 1:
                raise InputError(f"{key} must be a positive integer, got {val!r}")
        if self.name == "ctgan" and batch_size % 10:
            raise InputError(
                f"ctgan needs batch_size to be a multiple of its pac size 10, got {batch_size}"
            )
        self.epochs, self.batch_size = int(epochs), int(batch_size)

    def _notes(self) -> list[str]:
        return [*super()._notes(), f"trained {self.epochs} epochs, batch size {self.batch_size}"]


class CTGANGenerator(_DeepBaseline):
    """SDV ``CTGANSynthesizer`` (conditional tabular GAN), on CPU.

    Args:
        epsilon: Must be ``math.inf`` (non-private).
        delta: Ignored, recorded as 0.
        seed: Seed of fitting and sampling.
        epochs: Training epochs (SDV's default of 300 is slow on CPU; 100 here).
        batch_size: Batch size, a multiple of 10 (CTGAN's pac size).

    Notes:
        Xu, Skoularidou, Cuesta-Infante & Veeramachaneni (2019), "Modeling Tabular data
        using Conditional GAN".
    """

    name: ClassVar[str] = "ctgan"

    def _make(self, metadata: Any) -> Any:
        # Deferred import: SDV loads torch; only a fit does.
        from sdv.single_table import CTGANSynthesizer

        return CTGANSynthesizer(metadata, epochs=self.epochs, batch_size=self.batch_size,
                                enable_gpu=False)


class TVAEGenerator(_DeepBaseline):
    """SDV ``TVAESynthesizer`` (tabular VAE with mode-specific normalisation), on CPU.

    Args:
        epsilon: Must be ``math.inf`` (non-private).
        delta: Ignored, recorded as 0.
        seed: Seed of fitting and sampling.
        epochs: Training epochs (SDV's default of 300 is slow on CPU; 100 here).
        batch_size: Batch size.

    Notes:
        Xu et al. (2019), as for CTGAN.
    """

    name: ClassVar[str] = "tvae"

    def _make(self, metadata: Any) -> Any:
        # Deferred import: SDV loads torch; only a fit does.
        from sdv.single_table import TVAESynthesizer

        return TVAESynthesizer(metadata, epochs=self.epochs, batch_size=self.batch_size,
                               enable_gpu=False)
