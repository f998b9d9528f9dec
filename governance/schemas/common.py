"""Pieces the read models share: typed outcomes of stored JSON columns."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import RootModel, ValidationError

from governance.attacks.suite import AuditReport
from governance.core.types import StageError
from governance.evaluation.fidelity.evaluate import FidelityResult
from governance.evaluation.lift.results import ControlScores, UtilityResult

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


#: What a utility record written before chance correction, the model panel and the
#: validation split reads as: its figures gate nothing, so its clauses are unverifiable.
STALE_UTILITY = ("utility was recorded in an older format (one model, scored on eval, ratio "
                 "not corrected for chance); its figures cannot be gated on - run the "
                 "candidate's frontier again")


def _stale(text: str, marker: str) -> bool:
    """Whether stored JSON is an object with the older format's ``marker`` key."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and marker in data


def read_utility(text: str | None) -> UtilityOutcome | None:
    """A stored utility record (``None`` when nothing was stored).

    A record in the format before the model panel reads as a ``StageError`` saying so.
    """
    if text is None:
        return None
    try:
        return _Utility.model_validate_json(text).root
    except ValidationError:
        if _stale(text, "utility_ratio"):
            return StageError(error=STALE_UTILITY)
        raise


def read_control_json(text: str) -> ControlScores | StageError:
    """A run's stored real-only controls (a ``StageError`` for the one-model format)."""
    try:
        return ControlScores.model_validate_json(text)
    except ValidationError:
        if _stale(text, "primary"):
            return StageError(error="the real-only control was recorded in an older format "
                                    "(one model, scored on eval); run the frontier again")
        raise


def read_fidelity(text: str | None) -> FidelityOutcome | None:
    """A stored fidelity record (``None`` when nothing was stored)."""
    return None if text is None else _Fidelity.model_validate_json(text).root
