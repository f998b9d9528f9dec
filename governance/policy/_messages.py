"""Turn pydantic validation errors into messages that name the problem and the fix.

Each message says what the field expects, derived from the model itself (type and
``Field`` bounds), so the wording can never drift from the validation: for example
``expected an integer >= 1, got 'two'``. Unknown keys get a difflib suggestion from
the field names at that level, or the section they belong to if they are misplaced.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

_ERRORS_WITH_OWN_TEXT = {"value_error", "assertion_error"}


def render_loc(loc: Sequence[str | int]) -> str:
    """Dotted path with list indices in brackets, e.g. ``access.formats[1]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def message_for(model: type[BaseModel], error: ErrorDetails) -> str:
    """The human message for one pydantic error on ``model`` (without the path)."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key(model, loc)
    if kind in _ERRORS_WITH_OWN_TEXT:
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    expected = expectation(model, loc)
    if kind == "missing":
        return f"required key missing; add it ({expected})" if expected else "required key missing"
    if expected is None:
        return f"{error['msg']}, got {show(error.get('input'))}"
    got = error.get("input")
    hint = _did_you_mean(model, loc, got) if kind == "literal_error" else ""
    return f"expected {expected}, got {show(got)}{hint}"


def show(value: Any) -> str:
    """A short YAML-flavoured rendering of an offending input value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, float):
        return format(value, "g")
    return repr(value)


def expectation(model: type[BaseModel], loc: Sequence[str | int]) -> str | None:
    """Describe what the field at ``loc`` accepts, or ``None`` if ``loc`` is unknown."""
    found = _annotation_at(model, loc)
    return None if found is None else _describe(*found)


def _annotation_at(
    model: type[BaseModel], loc: Sequence[str | int]
) -> tuple[Any, list[Any]] | None:
    """The annotation and constraints of the field (or list item) at ``loc``."""
    field: FieldInfo | None = None
    current: type[BaseModel] | None = model
    item = False
    for part in loc:
        if isinstance(part, int):
            item = True
            continue
        if current is None or part not in current.model_fields:
            return None
        field, item = current.model_fields[part], False
        current = _model_in(field.annotation)
    if field is None:
        return None
    if item:
        inner = get_args(_strip_none(field.annotation)[0])
        return (inner[0], []) if inner else None
    return field.annotation, field.metadata


def _did_you_mean(model: type[BaseModel], loc: Sequence[str | int], value: Any) -> str:
    found = _annotation_at(model, loc)
    if found is None or not isinstance(value, str):
        return ""
    inner, _ = _strip_none(found[0])
    if get_origin(inner) is not Literal:
        return ""
    choices = [c for c in get_args(inner) if isinstance(c, str)]
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown_key(model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    key, parent = str(loc[-1]), _model_at(model, loc[:-1])
    if parent is None:
        return "unknown key"
    names = list(parent.model_fields)
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    home = _section_holding(model, key)
    if home:
        return f"unknown key here; {key!r} belongs under {home!r}"
    return f"unknown key; the keys allowed here are {', '.join(names)}"


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or isinstance(part, int) or part not in current.model_fields:
            return None
        current = _model_in(current.model_fields[part].annotation)
    return current


def _section_holding(model: type[BaseModel], key: str, prefix: str = "") -> str | None:
    for name, field in model.model_fields.items():
        sub = _model_in(field.annotation)
        if sub is None:
            continue
        path = f"{prefix}.{name}" if prefix else name
        if key in sub.model_fields:
            return path
        deeper = _section_holding(sub, key, path)
        if deeper:
            return deeper
    return None


def _strip_none(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(get_args(annotation))
    return annotation, False


def _model_in(annotation: Any) -> type[BaseModel] | None:
    inner, _ = _strip_none(annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return inner
    return None


def _describe(annotation: Any, metadata: list[Any]) -> str:
    inner, nullable = _strip_none(annotation)
    origin = get_origin(inner)
    non_empty = any(isinstance(m, at.MinLen) and m.min_length >= 1 for m in metadata)
    if inner is bool:
        text = "true or false"
    elif inner is int:
        text = "an integer" + _bounds(metadata)
    elif inner is float:
        finite = any(getattr(m, "allow_inf_nan", True) is False for m in metadata)
        text = ("a finite number" if finite else "a number") + _bounds(metadata)
    elif inner is str:
        text = "non-empty text" if non_empty else "text"
        pattern = next((m.pattern for m in metadata if hasattr(m, "pattern")), None)
        text += f" matching {pattern}" if pattern else ""
    elif origin is Literal:
        choices = get_args(inner)
        text = repr(choices[0]) if len(choices) == 1 else "one of " + ", ".join(map(repr, choices))
    elif origin is tuple:
        item = get_args(inner)[0]
        what = "text values" if item is str else f"values from {_describe(item, [])}"
        text = ("a non-empty list of " if non_empty else "a list of ") + what
    elif isinstance(inner, type) and issubclass(inner, BaseModel):
        text = f"a mapping with keys {', '.join(inner.model_fields)}"
    else:
        text = str(inner)
    return text + (" or null" if nullable else "")


def _bounds(metadata: list[Any]) -> str:
    low: tuple[str, Any] | None = next(
        (("[", m.ge) for m in metadata if isinstance(m, at.Ge)), None)
    low = low or next((("(", m.gt) for m in metadata if isinstance(m, at.Gt)), None)
    high: tuple[Any, str] | None = next(
        ((m.le, "]") for m in metadata if isinstance(m, at.Le)), None)
    high = high or next(((m.lt, ")") for m in metadata if isinstance(m, at.Lt)), None)
    if low and high:
        return f" in {low[0]}{low[1]:g}, {high[0]:g}{high[1]}"
    if low:
        return f" {'>=' if low[0] == '[' else '>'} {low[1]:g}"
    if high:
        return f" {'<=' if high[1] == ']' else '<'} {high[0]:g}"
    return ""
