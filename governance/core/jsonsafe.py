r"""The one JSON codec: how results, records and audit payloads become JSON.

JSON has no NaN and no infinity, so every value goes through ``to_jsonable`` first,
under these rules:

* ``+inf`` and ``-inf`` become the strings ``"inf"`` and ``"-inf"`` (an epsilon of
  infinity is the non-private control, and must survive a round trip);
* NaN ("not measured", "undefined") becomes ``null`` in records, and the string
  ``"nan"`` in audit-chain payloads, whose hash format fixed that spelling before this
  module existed (``canonical_json``);
* NumPy scalars and arrays become Python numbers and lists; tuples and sets become
  lists (sets sorted); mapping keys become strings; dates and times ISO 8601 strings;
  enums their values; pydantic models and dataclasses their fields;
* anything else is refused with ``TypeError``: nothing is silently stringified.

Reading back is the job of the typed models (``model_validate_json``): pydantic reads
``"inf"`` into a float field as infinity.

>>> to_jsonable({"eps": float("inf"), "auc": float("nan"), "n": (1, 2)})
{'eps': 'inf', 'auc': None, 'n': [1, 2]}
>>> canonical_json({"b": float("nan"), "a": [True, None, "é"]})
b'{"a":[true,null,"\xc3\xa9"],"b":"nan"}'
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

NanRule = Literal["null", "string"]


def _float(value: float, nan: NanRule) -> float | str | None:
    if math.isnan(value):
        return None if nan == "null" else "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def to_jsonable(value: Any, *, nan: NanRule = "null") -> Any:
    """A copy of ``value`` that ``json.dumps(..., allow_nan=False)`` accepts.

    Args:
        value: results, records or payloads (see the module docstring for the rules).
        nan: ``"null"`` (records, the default) or ``"string"`` (audit payloads).

    Raises:
        TypeError: for a value of a type the rules do not cover.
    """
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _float(float(value), nan)
    if isinstance(value, np.generic):
        return to_jsonable(value.item(), nan=nan)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, nan=nan) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v, nan=nan) for v in value]
    if isinstance(value, set | frozenset):
        return [to_jsonable(v, nan=nan) for v in sorted(value)]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist(), nan=nan)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, nan=nan)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="python"), nan=nan)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)},
                           nan=nan)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable under the project's "
                    "codec; convert it to numbers, strings, lists or mappings first")


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = True) -> str:
    """Serialise ``value`` under the record rules (NaN as ``null``)."""
    return json.dumps(to_jsonable(value), indent=indent, sort_keys=sort_keys, allow_nan=False)


def loads(text: str | bytes | None) -> Any:
    """Parse JSON text (``None`` stays ``None``)."""
    return None if text is None else json.loads(text)


def canonical_json(value: Any) -> bytes:
    """Canonical JSON of an audit payload: sorted keys, no spaces, UTF-8, NaN as ``"nan"``.

    This is the byte format the audit chain hashes; it must never change.
    """
    return json.dumps(to_jsonable(value, nan="string"), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode("utf-8")


class NonCanonicalJSONError(ValueError):
    """JSON text that parses, but is not the one canonical encoding of its value."""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise NonCanonicalJSONError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NonCanonicalJSONError(f"number {text} overflows to infinity")
    return value


def _no_constant(name: str) -> Any:
    raise NonCanonicalJSONError(f"non-finite constant {name} (not JSON)")


def strict_loads(text: str | bytes) -> Any:
    """Parse JSON that a second reader cannot read differently.

    Refuses duplicate object keys (readers disagree on which one wins), the non-JSON
    constants ``NaN``/``Infinity`` and numbers too large for a double.

    Raises:
        NonCanonicalJSONError: for each of those (a ``ValueError``).
        ValueError: for text that is not JSON at all.

    >>> strict_loads('{"a":1}')
    {'a': 1}
    >>> strict_loads('{"a":1,"a":2}')
    Traceback (most recent call last):
    ...
    governance.core.jsonsafe.NonCanonicalJSONError: duplicate key 'a'
    """
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant,
                      parse_float=_finite)


def canonical_text(text: str) -> Any:
    """The value of ``text`` if ``text`` is exactly its canonical JSON, else raise.

    Canonical JSON is what ``canonical_json`` writes: sorted keys, no whitespace, UTF-8
    characters unescaped, numbers as Python writes them. A value has exactly one
    canonical text, so a stored text that passes cannot have been re-encoded.

    Raises:
        NonCanonicalJSONError: naming what is wrong (duplicate key, NaN, re-encoding).
        ValueError: for text that is not JSON.

    >>> canonical_text('{"a":1,"b":[true,null]}')
    {'a': 1, 'b': [True, None]}
    >>> canonical_text('{"b":1,"a":2}')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    governance.core.jsonsafe.NonCanonicalJSONError: not canonical JSON (spacing, key order, ...
    """
    value = json.loads(text)
    try:
        if _CANONICAL.encode(value) == text:  # the common case: one C-speed round trip
            return value
    except ValueError:
        pass
    value = strict_loads(text)  # names a duplicate key or a non-finite number
    raise NonCanonicalJSONError("not canonical JSON (spacing, key order, number or escape "
                                "spelling differ from the canonical encoding)")
