"""Defensive readers for the run and candidate documents a report is built from.

The documents come from ``governance.services.views`` (``run_view``, ``candidate_view``), were
stored as JSON and may be incomplete: any part can be missing, of the wrong type, or an
``{"error": "..."}`` record. These helpers never raise on such input; they return
``None``, an empty container, or the error text, so a report always renders.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np

Json = Any


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping (as a dict), else an empty dict."""
    return dict(value) if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list or tuple (as a list), else an empty list."""
    return list(value) if isinstance(value, list | tuple) else []


def error_of(value: Any) -> str | None:
    """The error text of a part: its truthy ``error`` field, or a note on a wrong type.

    ``None`` (a part that is simply absent) has no error; the caller says "not recorded".
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return f"unreadable record of type {type(value).__name__}"
    err = value.get("error")
    return None if err in (None, "", False) else str(err)


def number(value: Any) -> float | None:
    """A real number from a recorded value: ``"inf"`` is infinity, junk is ``None``.

    >>> number("inf"), number(None), number("x"), number(2)
    (inf, None, None, 2.0)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() in ("inf", "+inf", "infinity"):
            return math.inf
        if value.strip().lower() in ("-inf", "-infinity"):
            return -math.inf
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        out = float(value)
        return None if math.isnan(out) else out
    return None


def interval(value: Any) -> dict[str, float | None] | None:
    """A ``{"value", "ci_low", "ci_high"}`` interval, or ``None`` if absent."""
    if not isinstance(value, Mapping) or "value" not in value:
        return None
    return {k: number(value.get(k)) for k in ("value", "ci_low", "ci_high")}


def dig(value: Any, *keys: str) -> Any:
    """Follow ``keys`` through nested mappings; ``None`` at the first gap.

    >>> dig({"a": {"b": 1}}, "a", "b"), dig({"a": 3}, "a", "b")
    (1, None)
    """
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def plain(value: Any) -> Json:
    """A JSON-ready copy: numpy to Python, NaN to ``None``, infinities to ``"inf"``.

    Datetimes become ISO 8601 strings, tuples lists, mapping keys strings, bytes their
    length, and anything else its ``str()``; ``json.dumps(..., allow_nan=False)``
    accepts the result.
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        out = float(value)
        if math.isnan(out):
            return None
        if math.isinf(out):
            return "inf" if out > 0 else "-inf"
        return out
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    return str(value)
