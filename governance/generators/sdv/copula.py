"""SDV's Gaussian copula as a non-private baseline (epsilon = inf)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from governance.core.errors import InputError
from governance.generators.sdv.baseline import SDVBaseline

DISTRIBUTIONS = ("norm", "beta", "truncnorm", "uniform", "gamma", "gaussian_kde")


class GaussianCopulaGenerator(SDVBaseline):
    """SDV ``GaussianCopulaSynthesizer``: per-column marginals joined by a Gaussian copula.

    Args:
        epsilon: Must be ``math.inf`` (non-private).
        delta: Ignored, recorded as 0.
        seed: Seed of fitting and sampling.
        default_distribution: Marginal family for numeric columns (SDV's default is
            ``"beta"``).

    Notes:
        Patki, Wedge & Veeramachaneni (2016), "The Synthetic Data Vault".

    >>> import pandas as pd
    >>> from governance.datasets.schema import Schema, conform
    >>> schema = Schema.model_validate({"columns": {
    ...     "age": {"type": "integer", "min": 0, "max": 100},
    ...     "smoker": {"type": "categorical", "categories": ["no", "yes"]}}})
    >>> data = conform(pd.DataFrame({"age": range(20, 80), "smoker": ["no", "yes"] * 30}), schema)
    >>> gen = GaussianCopulaGenerator(seed=1).fit(data, schema)
    >>> gen.sample(3).dtypes.astype(str).tolist(), gen.privacy().is_private
    (['int64', 'category'], False)
    """

    name: ClassVar[str] = "gaussian_copula"

    def __init__(self, *, epsilon: float = math.inf, delta: float = 1e-5, seed: int = 0,
                 default_distribution: str = "beta") -> None:
        super().__init__(epsilon=epsilon, delta=delta, seed=seed)
        if default_distribution not in DISTRIBUTIONS:
            raise InputError(
                f"unknown default_distribution {default_distribution!r}; use one of "
                f"{', '.join(DISTRIBUTIONS)}"
            )
        self.default_distribution = default_distribution

    def _make(self, metadata: Any) -> Any:
        # Deferred import: SDV loads torch; only a fit does.
        from sdv.single_table import GaussianCopulaSynthesizer

        return GaussianCopulaSynthesizer(metadata, default_distribution=self.default_distribution)
