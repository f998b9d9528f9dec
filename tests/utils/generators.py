"""A deterministic stand-in for a DP generator, for tests of the governance flows.

Flows such as approval, release, download, re-evaluation and lineage need candidates
that a loose policy accepts. A real DP generator cannot promise that: its noise is drawn
fresh on every run and, on the small test tables, a few epochs of DP-SGD can leave its
rows at chance for some model of the utility panel, which no policy accepts. The
stand-in below carries the target's signal on every run, copies no row and is fast;
its epsilon is *claimed* (it is no privacy mechanism), which is all these flows read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar, Self

import numpy as np
import pandas as pd

from governance.datasets.encoding import PublicEncoder
from governance.datasets.schema import Schema
from governance.generators.base import Generator, PrivacySpend
from governance.generators.privacy.zcdp import cdp_eps, cdp_rho
from governance.generators.registry import register_generator, unregister_generator


class GaussianStandIn(Generator):
    """One multivariate Gaussian over the public encoding of the train rows.

    Numerics are scaled by their public bounds and categories one-hot encoded; the
    Gaussian keeps the columns' linear relations, so every model family learns the target
    from its samples. Decoding takes the arg-max category and clips numerics to the bounds.
    """

    name: ClassVar[str] = "gaussian_standin"
    differentially_private: ClassVar[bool] = True
    accepts_infinite_epsilon: ClassVar[bool] = False
    # Its claim is stated in zCDP terms, so the server's recomputation (privacy.verify)
    # can check the record's arithmetic; that says nothing of a mechanism it lacks.
    accounting: ClassVar[str | None] = "zcdp"
    mechanism: ClassVar[str] = "Gaussian stand-in (claims epsilon; not private)"

    def __init__(self, *, epsilon: float = 1.0, delta: float = 1e-5, seed: int = 0,
                 reproducible_noise: bool = False) -> None:
        self.epsilon, self.delta, self.seed = epsilon, delta, seed
        self.reproducible_noise = reproducible_noise  # it draws no privacy noise at all
        self._encoder: PublicEncoder | None = None
        self._mean: np.ndarray | None = None
        self._cov: np.ndarray | None = None

    def fit(self, data: pd.DataFrame, schema: Schema) -> Self:
        """Estimate the mean and covariance of the encoded rows."""
        self._encoder = PublicEncoder(schema)
        matrix = self._encoder.encode(data[schema.names]).astype(float)
        self._mean, self._cov = matrix.mean(axis=0), np.cov(matrix, rowvar=False)
        return self

    @property
    def fitted(self) -> bool:
        """Whether ``fit`` has run."""
        return self._encoder is not None

    def privacy(self) -> PrivacySpend:
        """The claimed epsilon (this stand-in spends none: it is not private)."""
        if not self.fitted:
            raise RuntimeError("call fit() before privacy()")
        rho = cdp_rho(self.epsilon, self.delta)
        return PrivacySpend(epsilon_target=self.epsilon, epsilon_spent=cdp_eps(rho, self.delta),
                            delta=self.delta, accountant="claimed by a test stand-in",
                            mechanism=self.mechanism, rho=rho,
                            reproducible_noise=self.reproducible_noise)

    def _sample(self, n: int) -> pd.DataFrame:
        assert self._encoder is not None and self._mean is not None and self._cov is not None
        rng = np.random.default_rng(self.seed)
        draws = rng.multivariate_normal(self._mean, self._cov, size=n, method="eigh")
        return self._encoder.decode(draws)


@contextmanager
def stand_in_registered() -> Iterator[str]:
    """Register ``GaussianStandIn`` for the duration of the block; yield its name."""
    register_generator(GaussianStandIn.name, GaussianStandIn, force=True)
    try:
        yield GaussianStandIn.name
    finally:
        unregister_generator(GaussianStandIn.name)


