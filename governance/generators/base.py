"""The generator protocol and the privacy record every candidate carries."""

from __future__ import annotations

import math
from typing import ClassVar, Protocol, runtime_checkable

import pandas as pd

from governance.core.types import Record
from governance.datasets.schema import Schema


class PrivacySpend(Record):
    """What a fitted generator spent, as its accountant computed it.

    ``epsilon_spent`` is ``math.inf`` for non-private generators and otherwise exactly
    the accountant's figure; nothing here is estimated or rounded up by hand. It is the
    candidate's *total*: when part of the budget paid for learning the domain privately,
    ``preprocessing_epsilon`` is that part (already included) and the notes give the
    training figure.
    ``accountant_fallback_reason`` says why a DP generator used a fallback accountant
    (e.g. PRV failed, so RDP was used); ``epochs`` is the number of passes trained.
    """

    epsilon_target: float
    epsilon_spent: float
    delta: float
    mechanism: str
    accountant: str | None = None
    noise_multiplier: float | None = None
    steps: int | None = None
    sample_rate: float | None = None
    max_grad_norm: float | None = None
    preprocessing: str = "public-domain"
    preprocessing_epsilon: float = 0.0
    notes: tuple[str, ...] = ()
    accountant_fallback_reason: str | None = None
    epochs: int | None = None

    @property
    def is_private(self) -> bool:
        """Whether a finite epsilon was spent."""
        return math.isfinite(self.epsilon_spent)


@runtime_checkable
class Generator(Protocol):
    """A synthesizer fitted on the train split only.

    Implementations take their options as keyword-only constructor arguments
    (``epsilon``, ``delta``, ``seed`` and their own), are deterministic given the
    seed, and never read anything but the frame passed to ``fit``.
    """

    name: ClassVar[str]

    def fit(self, data: pd.DataFrame, schema: Schema) -> Generator:
        """Train on ``data`` (conformed to ``schema``); return self."""
        ...

    def sample(self, n: int) -> pd.DataFrame:
        """Draw ``n`` synthetic rows in the schema's column order and domain."""
        ...

    def privacy(self) -> PrivacySpend:
        """Report the privacy spend; raises if ``fit`` has not run."""
        ...
