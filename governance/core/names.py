"""Naming rules for the names people give objects (datasets) and the files they upload.

A name is shown in tables, logs, audit bundles and file listings and is stored in every
database the service supports, so it must be printable text that cannot pretend to be
something else. The rules, each refused with a message that names it:

- 1 to ``max_length`` characters (64 for dataset names);
- printable: no control characters (NUL, newline, tab, ...), no format characters (bidi
  overrides such as U+202E, zero-width characters), no line or paragraph separators;
- no path separators (``/`` or a backslash), and not ``.`` or ``..``;
- no leading or trailing whitespace.

>>> check_name("patients-2024", what="dataset name")
'patients-2024'
>>> try:
...     check_name("a/b", what="dataset name")
... except InvalidNameError as exc:
...     print(exc.code)
invalid_name
"""

from __future__ import annotations

import unicodedata

from governance.core.errors import InvalidNameError

#: Longest dataset name.
MAX_NAME_LENGTH = 64

_SEPARATORS = ("/", "\\")


def _describe(char: str) -> str:
    fallback = "control character" if unicodedata.category(char) == "Cc" else "unnamed"
    name = unicodedata.name(char, fallback)
    return f"U+{ord(char):04X} ({name})"


def check_name(name: str, *, what: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """Return ``name`` if it follows the naming rules.

    Args:
        name: the candidate name.
        what: how messages call it, e.g. "dataset name".
        max_length: the most characters allowed.

    Raises:
        InvalidNameError: naming the rule the name breaks.
    """
    if not name:
        raise InvalidNameError(f"{what} is empty; give 1 to {max_length} printable characters")
    if len(name) > max_length:
        raise InvalidNameError(f"{what} is {len(name)} characters long; the limit is "
                               f"{max_length} characters")
    hidden = next((c for c in name if not c.isprintable()), None)
    if hidden is not None:
        raise InvalidNameError(
            f"{what} {name!r} contains the invisible or control character {_describe(hidden)}; "
            "names must be printable text (no control, bidi or zero-width characters)")
    separator = next((s for s in _SEPARATORS if s in name), None)
    if separator is not None:
        raise InvalidNameError(f"{what} {name!r} contains a path separator ({separator!r}); "
                               "names may not contain '/' or a backslash")
    if name in (".", ".."):
        raise InvalidNameError(f"{what} may not be '.' or '..'")
    if name != name.strip():
        raise InvalidNameError(f"{what} {name!r} begins or ends with whitespace; remove it")
    return name
