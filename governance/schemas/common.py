"""Pieces the read models share: typed outcomes of stored JSON columns."""

from __future__ import annotations

from typing import TypeVar

from pydantic import RootModel

from governance.attacks.suite import AuditReport
from governance.core.types import StageError
from governance.evaluation.fidelity.evaluate import FidelityResult
from governance.evaluation.lift.results import UtilityResult

T = TypeVar("T")

#: What a candidate's attack, utility and fidelity columns hold: the result or its error.
AttackOutcome = AuditReport | StageError
UtilityOutcome = UtilityResult | StageError
FidelityOutcome = FidelityResult | StageError


class _Attack(RootModel[AttackOutcome]):
    pass


class _Utility(RootModel[UtilityOutcome]):
    pass


class _Fidelity(RootModel[FidelityOutcome]):
    pass


def read_attack(text: str | None) -> AttackOutcome | None:
    """A stored attack record (``None`` when nothing was stored)."""
    return None if text is None else _Attack.model_validate_json(text).root


def read_utility(text: str | None) -> UtilityOutcome | None:
    """A stored utility record (``None`` when nothing was stored)."""
    return None if text is None else _Utility.model_validate_json(text).root


def read_fidelity(text: str | None) -> FidelityOutcome | None:
    """A stored fidelity record (``None`` when nothing was stored)."""
    return None if text is None else _Fidelity.model_validate_json(text).root
