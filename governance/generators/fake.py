"""A fake generator for tests and sanity controls: it copies or resamples given rows.

``FakeGenerator(rows=df)`` returns ``df`` verbatim (cycled when more rows are asked
for): handing it the members gives the attack's positive control, handing it fresh
real rows gives the null control.
"""

from __future__ import annotations

import math
from typing import ClassVar, Self

import numpy as np
import pandas as pd

from governance.datasets.schema import Schema
from governance.generators.base import Generator, PrivacySpend


class FakeGenerator(Generator):
    """Return fixed rows (or the training rows when ``rows`` is None)."""

    name: ClassVar[str] = "fake"

    def __init__(
        self, *, rows: pd.DataFrame | None = None, epsilon: float = math.inf,
        delta: float = 0.0, seed: int = 0, claimed_epsilon: float | None = None,
    ) -> None:
        self._rows = rows
        self._epsilon = epsilon if claimed_epsilon is None else claimed_epsilon
        self._delta = delta
        self._seed = seed
        self._fitted: pd.DataFrame | None = None

    def fit(self, data: pd.DataFrame, schema: Schema) -> Self:
        """Remember the rows to hand back."""
        self._fitted = (self._rows if self._rows is not None else data)[schema.names]
        return self

    @property
    def fitted(self) -> bool:
        """Whether ``fit`` has run."""
        return self._fitted is not None

    def _sample(self, n: int) -> pd.DataFrame:
        """Return ``n`` of the remembered rows, in order, cycling if needed."""
        assert self._fitted is not None
        idx = np.arange(n) % len(self._fitted)
        return self._fitted.iloc[idx].reset_index(drop=True)

    def privacy(self) -> PrivacySpend:
        """Claim whatever epsilon the test asked for (this is a fake)."""
        if self._fitted is None:
            raise RuntimeError("call fit() before privacy()")
        return PrivacySpend(
            epsilon_target=self._epsilon, epsilon_spent=self._epsilon, delta=self._delta,
            mechanism="fake (copies rows)",
            reproducible_noise=False if math.isfinite(self._epsilon) else None,
        )
