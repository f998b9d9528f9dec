"""The shape every membership attack shares, after anonymeter's evaluators.

An attack is built from ``ori`` (members: real rows the generator saw), ``syn`` (the
candidate's synthetic rows), ``control`` (non-members: real rows it never saw) and the
schema; it checks them on construction, ``evaluate()`` computes one score per member and
non-member (higher = more likely a member) and returns ``self``, and ``results()``
returns the frozen ``MembershipResult``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar, Self

import numpy as np
import pandas as pd

from governance.attacks.data import AttackData
from governance.attacks.results import MembershipResult, score_membership
from governance.core.errors import ConflictError, InputError
from governance.datasets.schema import Schema


class MembershipAttack(ABC):
    """Base class of the membership attacks.

    Args:
        ori: members, real rows the generator was trained on.
        syn: synthetic rows of the candidate under attack.
        control: non-members, real rows the generator never saw.
        schema: the public-domain schema every frame conforms to.
        reference: further real rows, disjoint from ``ori`` and ``control`` (needed by
            attacks that compare against a real baseline).
        seed: seeds the epsilon estimate's half split and any subsample.
        delta: delta of the epsilon estimate.
        max_rows: attack at most this many members and non-members each (seeded sample,
            recorded in the result's ``subsampled``); ``None`` uses every row.
        warn: also emit sanity warnings as ``UntrustedSignalWarning``.

    Raises:
        InputError: for an invalid option or a missing reference.
        DatasetError: for an empty frame, columns that differ from the schema or values
            outside its public domain.
    """

    name: ClassVar[str]
    needs_reference: ClassVar[bool] = False

    def __init__(
        self, ori: pd.DataFrame, syn: pd.DataFrame, control: pd.DataFrame, schema: Schema,
        *, reference: pd.DataFrame | None = None, seed: int = 0, delta: float = 1e-5,
        max_rows: int | None = None, warn: bool = False,
    ) -> None:
        data = AttackData(members=ori, nonmembers=control, synthetic=syn, schema=schema,
                          reference=reference, max_rows=max_rows, seed=seed)
        self._setup(data, seed=seed, delta=delta, warn=warn)

    @classmethod
    def from_data(
        cls, data: AttackData, *, seed: int = 0, delta: float = 1e-5, warn: bool = False
    ) -> Self:
        """Build the attack on inputs already checked (and caches shared) by ``AttackData``."""
        attack = cls.__new__(cls)
        attack._setup(data, seed=seed, delta=delta, warn=warn)
        return attack

    def _setup(self, data: AttackData, *, seed: int, delta: float, warn: bool) -> None:
        if not (0.0 <= delta < 1.0 and math.isfinite(delta)):
            raise InputError(f"delta must lie in [0, 1), got {delta}")
        if len(data.members) < 2 or len(data.nonmembers) < 2:
            raise InputError(
                f"{self.name} needs at least 2 members and 2 non-members (got "
                f"{len(data.members)} and {len(data.nonmembers)}); pass larger samples"
            )
        if self.needs_reference and data.reference is None:
            raise InputError(
                f"the {self.name} attack needs a real reference sample disjoint from members "
                "and non-members; pass reference= (holdout rows not used as non-members)"
            )
        self.data = data
        self.seed = seed
        self.delta = delta
        self.warn = warn
        self._result: MembershipResult | None = None

    @abstractmethod
    def scores(self) -> np.ndarray:
        """One score per query (members first, then non-members); higher = member."""

    def notes(self) -> tuple[str, ...]:
        """Attack-specific notes recorded in the result."""
        return ()

    def evaluate(self) -> Self:
        """Score every member and non-member and compute the metrics; return ``self``."""
        member, nonmember = self.data.split(np.asarray(self.scores(), dtype=np.float64))
        matched = self.data.exact_match("synthetic")
        m_match, n_match = self.data.split(matched)
        reference = self.data.reference
        self._result = score_membership(
            self.name, member, nonmember, n_synthetic=len(self.data.synthetic),
            duplicate_rate=self.data.duplicate_rate(),
            exact_match_members=float(m_match.mean()),
            exact_match_nonmembers=float(n_match.mean()), delta=self.delta, seed=self.seed,
            subsampled=self.data.subsampled, notes=self.notes(),
            n_reference=None if reference is None else len(reference), warn=self.warn,
        )
        return self

    def results(self) -> MembershipResult:
        """The attack's result.

        Raises:
            ConflictError: if ``evaluate()`` has not run yet.
        """
        if self._result is None:
            raise ConflictError(
                f"the {self.name} attack has not been evaluated yet; call evaluate() before "
                "results()"
            )
        return self._result
