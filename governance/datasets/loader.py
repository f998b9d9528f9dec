"""Read source tables (CSV or Parquet) with errors a data owner can act on.

Reading is bounded before any parser runs: a CSV line longer than ``max_line_bytes``
(a one-line gigabyte would otherwise be materialised several times over) and a table
wider than ``max_columns`` are refused from the file's first bytes (the CSV header, the
Parquet footer). Messages name the file by ``label`` (what the caller calls it, e.g. an
upload's own file name), never by a server path.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from governance.core.errors import DatasetError, PayloadTooLargeError

_CHUNK = 1 << 20
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
CSV_SUFFIXES = frozenset({".csv", ".txt", ""})


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def check_line_lengths(path: Path, *, label: str, max_line_bytes: int) -> None:
    """Refuse a file with a line longer than ``max_line_bytes``, reading 1 MiB at a time.

    Raises:
        DatasetError: naming the first line over the limit.
    """
    lines_before, current = 0, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            parts = chunk.split(b"\n")
            lengths = [current + len(parts[0]), *map(len, parts[1:])]
            if max(lengths) > max_line_bytes:
                index = next(i for i, n in enumerate(lengths) if n > max_line_bytes)
                raise DatasetError(
                    f"file {label!r}: line {lines_before + index + 1} is longer than the limit "
                    f"of {max_line_bytes} bytes (GOVERNANCE_MAX_CSV_LINE_BYTES); a CSV holds "
                    "one record per line, so check the line endings and the quoting")
            lines_before += len(parts) - 1
            current = lengths[-1]


def _too_wide(label: str, n: int, max_columns: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"file {label!r} has {n} columns, more than the limit of {max_columns} "
        "(GOVERNANCE_MAX_COLUMNS); drop columns or ask an operator to raise the limit",
        code="too_many_columns")


def _csv_header_width(path: Path) -> int:
    with open(path, "rb") as fh:
        header = fh.readline().decode("utf-8-sig", errors="replace")
    return len(next(csv.reader([header]), []))


def _clean(exc: BaseException, path: Path, label: str) -> str:
    """The first line of an error's text with the file's path replaced by its label."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for form in {str(path), str(path.resolve()), path.as_posix()}:
        text = text.replace(form, label)
    return text


def read_table(path: str | Path, *, label: str | None = None, max_columns: int | None = None,
               max_line_bytes: int | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file.

    Args:
        path: the file.
        label: how messages name the file (default: the path as given).
        max_columns: refuse tables with more columns (before parsing them).
        max_line_bytes: refuse CSV files with a longer line (before parsing them).

    Raises:
        DatasetError: when the file is missing, empty, of an unknown type, malformed or
            has a line over the limit.
        PayloadTooLargeError: more columns than ``max_columns`` (code ``too_many_columns``).
    """
    path = Path(path)
    label = str(path) if label is None else label
    if not path.is_file():
        raise DatasetError(f"file {label!r} does not exist")
    if path.stat().st_size == 0:
        raise DatasetError(f"file {label!r} is empty; it needs a header row and data rows")
    suffix = path.suffix.lower()
    if suffix not in PARQUET_SUFFIXES | CSV_SUFFIXES:
        raise DatasetError(f"file {label!r} has suffix {suffix!r}; give a .csv or .parquet file")
    try:
        if suffix in PARQUET_SUFFIXES:
            width = len(pq.read_schema(path).names)
            if max_columns is not None and width > max_columns:
                raise _too_wide(label, width, max_columns)
            frame = pd.read_parquet(path)
        else:
            if max_line_bytes is not None:
                check_line_lengths(path, label=label, max_line_bytes=max_line_bytes)
            width = _csv_header_width(path)
            if max_columns is not None and width > max_columns:
                raise _too_wide(label, width, max_columns)
            frame = pd.read_csv(path, skipinitialspace=True, encoding="utf-8-sig")
    except (DatasetError, PayloadTooLargeError):
        raise
    except pd.errors.EmptyDataError:
        raise DatasetError(f"file {label!r} has no columns; is it really a CSV?") from None
    except pd.errors.ParserError as exc:
        raise DatasetError(
            f"file {label!r} is not a well-formed CSV ({_clean(exc, path, label)}); check the "
            "quoting and that every row has as many fields as the header"
        ) from None
    except (UnicodeDecodeError, OSError, ValueError, TypeError, pa.ArrowException) as exc:
        raise DatasetError(f"file {label!r} could not be read: {_clean(exc, path, label)}"
                           ) from None
    if frame.empty:
        raise DatasetError(f"file {label!r} has a header but no data rows")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed:")]
    if unnamed:
        raise DatasetError(
            f"file {label!r} has column(s) without a header name ({', '.join(unnamed)}); "
            "every column needs a name in the header row"
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
