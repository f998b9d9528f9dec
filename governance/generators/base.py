"""The generator base class and the privacy record every candidate carries."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar, Self

import pandas as pd

from governance.core.errors import InputError
from governance.core.types import InfFloat, Record
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
    ``reproducible_noise`` says where the privacy noise came from: ``False`` fresh
    operating-system entropy that nothing stores (``privacy.noise``), ``True`` the logged
    seed (research sandboxes: not DP against anyone who can read the log), ``None`` not
    recorded (no noise was drawn, or the record predates the field, when DP noise was
    always seeded from the logged seed).
    ``accountant_delta`` is the delta the DP-SGD accountant's figure is for (None: ``delta``)
    and ``rho`` the zCDP a marginal mechanism spent: with the other mechanism parameters
    they let the server recompute ``epsilon_spent`` (``privacy.verify``).
    """

    epsilon_target: InfFloat
    epsilon_spent: InfFloat
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
    reproducible_noise: bool | None = None
    accountant_delta: float | None = None
    rho: float | None = None

    @property
    def is_private(self) -> bool:
        """Whether a finite epsilon was spent."""
        return math.isfinite(self.epsilon_spent)


class Generator(ABC):
    """A synthesizer fitted on the train split only.

    Subclasses declare their flags as class attributes, take their options as
    keyword-only constructor arguments (``epsilon``, ``delta``, ``seed`` and their own),
    are deterministic given the seed except for their privacy noise (DP generators draw
    it from fresh OS entropy, ``privacy.noise``, unless their ``reproducible_noise``
    option is set), never read anything but the frame passed to
    ``fit``, and implement ``fit``, ``privacy``, ``fitted`` and ``_sample``. The public
    ``sample`` owns the checks every generator shares. ``governance.generators.testing.
    check_generator`` is the executable form of this contract.

    Attributes:
        name: the registry name.
        differentially_private: whether the generator takes a finite epsilon.
        accepts_infinite_epsilon: whether a DP generator also runs without noise (its
            non-private control); the run grid skips infinity for those that do not.
        accounting: how the server re-derives a DP record's epsilon from its mechanism
            parameters (``"dp-sgd"``, ``"zcdp"``; None: it cannot, and finite-epsilon
            candidates of the generator are refused); see ``privacy.verify``.
    """

    name: ClassVar[str]
    differentially_private: ClassVar[bool] = False
    accepts_infinite_epsilon: ClassVar[bool] = True
    accounting: ClassVar[str | None] = None
    seed: int
    #: DP generators: seed the privacy noise from ``seed`` (research sandboxes only).
    reproducible_noise: bool = False

    @abstractmethod
    def fit(self, data: pd.DataFrame, schema: Schema) -> Self:
        """Train on ``data`` (conformed to ``schema``); return self."""

    @property
    @abstractmethod
    def fitted(self) -> bool:
        """Whether ``fit`` has run."""

    @abstractmethod
    def privacy(self) -> PrivacySpend:
        """Report the privacy spend; raises if ``fit`` has not run."""

    @abstractmethod
    def _sample(self, n: int) -> pd.DataFrame:
        """Draw ``n`` rows (``n`` already checked) in the schema's order and domain."""

    def sample(self, n: int) -> pd.DataFrame:
        """Draw ``n`` synthetic rows; the same seed and ``n`` give the same rows every call.

        Raises:
            RuntimeError: ``fit`` has not run.
            InputError: ``n`` is not a positive integer.
        """
        if not self.fitted:
            raise RuntimeError("call fit() before sample()")
        if isinstance(n, bool) or not isinstance(n, int | float) or int(n) != n or n < 1:
            raise InputError(f"n must be a positive integer, got {n!r}")
        return self._sample(int(n))
