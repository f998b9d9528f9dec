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
