"""DP marginal generators: the shell MST and AIM share (options, fit, sample, privacy).

A ``MarginalGenerator`` discretises the table by the schema's public domain
(``PublicDiscretizer``), turns ``(epsilon, delta)`` into a zCDP budget with
``cdp_rho``, lets its mechanism (``_run``) spend it through the steps of
``marginal_steps``, and reports ``cdp_eps`` of the rho the mechanism's steps actually
spent. The mechanism's noise and exponential-mechanism draws come from ``noise_rng``
(fresh OS entropy unless ``reproducible_noise``); sampling draws codes from the fitted
graphical model (``marginal_model``, seeded by the public ``seed`` and ``n``: post-
processing) and decodes them to the schema's domain. The mechanisms are
``mst.MSTGenerator`` and ``aim.AIMGenerator``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from governance.core.delta import delta_warning
from governance.core.errors import BudgetExceededError, InputError
from governance.datasets.schema import Schema, conform
from governance.generators.base import Generator, PrivacySpend
from governance.generators.determinism import check_seed, derive_seed
from governance.generators.marginal.discretize import PublicDiscretizer
from governance.generators.marginal.model import sample_records
from governance.generators.marginal.steps import Clique, decompress, mbi_session
from governance.generators.privacy.accounting import preprocessing_record
from governance.generators.privacy.noise import check_flag, noise_notes, noise_rng
from governance.generators.privacy.zcdp import cdp_eps, cdp_rho

ACCOUNTANT = "zCDP (Canonne-Kamath-Steinke 2020 conversion)"


@dataclass(frozen=True)
class MarginalFit:
    """What a mechanism run leaves behind: the model, its compression and its rho ledger.

    ``rho`` maps each step (e.g. ``"one-way"``, ``"selection"``) to the zCDP it spent,
    computed from the noise scales and exponential-mechanism epsilons actually used.
    """

    model: Any
    mappings: dict[str, np.ndarray]
    rho: dict[str, float]
    measured: tuple[Clique, ...]
    notes: tuple[str, ...] = ()


class MarginalGenerator(Generator):
    """Shared shell of the marginal mechanisms: options, fit, sample and the privacy record.

    Subclasses set ``name`` and ``mechanism`` and implement ``_run``. ``epsilon=inf`` is
    refused: a marginal mechanism without noise is not a meaningful non-private control
    (the non-private baselines are ``gaussian_copula``, ``ctgan`` and ``tvae``); the class
    flag ``accepts_infinite_epsilon = False`` lets a grid planner skip infinity for it.
    """

    name: ClassVar[str]
    mechanism: ClassVar[str]
    differentially_private: ClassVar[bool] = True
    accounting: ClassVar[str | None] = "zcdp"
    #: A marginal mechanism has no meaningful non-private mode; the grid skips infinity.
    accepts_infinite_epsilon: ClassVar[bool] = False

    def __init__(self, *, epsilon: float, delta: float, seed: int, bins: int,
                 iters: int, reproducible_noise: bool = False) -> None:
        if not math.isfinite(epsilon):
            raise InputError(
                f"{self.name} is a DP mechanism; use a finite epsilon; the non-private "
                "baselines are gaussian_copula, ctgan, tvae")
        if not epsilon > 0:
            raise InputError(f"epsilon must be a positive finite number, got {epsilon!r}")
        if not 0 < delta < 1:
            raise InputError(f"delta must be in (0, 1), got {delta!r}; use delta << 1/n")
        if isinstance(iters, bool) or int(iters) != iters or not 1 <= iters <= 100_000:
            raise InputError(f"iters must be an integer in [1, 100000], got {iters!r}")
        self.epsilon, self.delta, self.seed = float(epsilon), float(delta), check_seed(seed)
        self.bins, self.iters = PublicDiscretizer.check_bins(bins), int(iters)
        self.reproducible_noise = check_flag(reproducible_noise)
        self.fit_seconds: float | None = None
        self._disc: PublicDiscretizer | None = None
        self._fit: MarginalFit | None = None
        self._spend: PrivacySpend | None = None

    def _run(self, mbi: Any, codes: dict[str, np.ndarray], sizes: dict[str, int],
             rho: float, rng: np.random.Generator) -> MarginalFit:
        raise NotImplementedError

    def fit(self, data: pd.DataFrame, schema: Schema) -> Self:
        """Discretise by the public domain, run the mechanism, record the spend; return self.

        Raises:
            DatasetError: for data that does not fit the schema.
            BudgetExceededError: if the accountant's epsilon exceeds the target.
        """
        start = time.perf_counter()
        data = conform(data, schema)
        disc = PublicDiscretizer(schema, bins=self.bins)
        codes = disc.encode(data)
        # A relative margin of 1e-9 absorbs rounding in the sum of the steps' rho.
        budget = cdp_rho(self.epsilon, self.delta) * (1 - 1e-9)
        rng = noise_rng(self.seed, 1, reproducible=self.reproducible_noise)
        with mbi_session() as mbi:
            fitted = self._run(mbi, codes, disc.sizes, budget, rng)
        self._disc, self._fit = disc, fitted
        self._spend = self._record(schema, disc, fitted, budget, len(data))
        self.fit_seconds = time.perf_counter() - start
        return self

    def _record(self, schema: Schema, disc: PublicDiscretizer, fitted: MarginalFit,
                budget: float, n: int) -> PrivacySpend:
        rho = sum(fitted.rho.values())
        spent = cdp_eps(rho, self.delta)
        if spent > self.epsilon:
            raise BudgetExceededError(
                f"the zCDP accountant reports epsilon {spent:.6g} spent, above the target "
                f"{self.epsilon:g}; this is a bug in {self.name}'s budget split")
        prep, notes = preprocessing_record(schema)
        widths = sorted({len(c) for c in fitted.measured})
        notes += [
            f"rho spent {rho:.6g} of {budget:.6g} (" + ", ".join(
                f"{k} {v:.4g}" for k, v in fitted.rho.items()) + ")",
            f"{len(fitted.measured)} marginals measured (" + ", ".join(
                f"{sum(len(c) == w for c in fitted.measured)} {w}-way" for w in widths) + ")",
            disc.describe(),
            *fitted.notes,
            "privacy unit: one record added or removed (unbounded DP)",
            *noise_notes(self.reproducible_noise),
        ]
        warning = delta_warning(self.delta, n)
        if warning is not None:
            notes.append(warning)
        return PrivacySpend(
            epsilon_target=self.epsilon, epsilon_spent=spent, delta=self.delta,
            mechanism=self.mechanism, accountant=ACCOUNTANT, preprocessing=prep,
            preprocessing_epsilon=0.0, notes=notes, rho=rho,
            reproducible_noise=self.reproducible_noise)

    @property
    def fitted(self) -> bool:
        """Whether ``fit`` has run."""
        return self._fit is not None and self._disc is not None

    def _sample(self, n: int) -> pd.DataFrame:
        """Draw ``n`` rows; the same seed and ``n`` give the same rows on every call."""
        assert self._fit is not None and self._disc is not None
        rng = np.random.default_rng(derive_seed(self.seed, n, 1))
        with mbi_session() as mbi:
            codes = sample_records(mbi, self._fit.model, n, rng)
        for col, mapping in self._fit.mappings.items():
            codes[col] = decompress(codes[col], mapping, rng)
        return self._disc.decode(codes, rng)

    @property
    def discretizer(self) -> PublicDiscretizer:
        """The public-domain grid the last ``fit`` used."""
        if self._disc is None:
            raise RuntimeError("call fit() before reading the discretizer")
        return self._disc

    def privacy(self) -> PrivacySpend:
        """What the mechanism spent, per the zCDP accountant."""
        if self._spend is None:
            raise RuntimeError("call fit() before privacy()")
        return self._spend
