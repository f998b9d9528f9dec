"""Read source tables (CSV or Parquet) with errors a data owner can act on."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from governance.core.errors import DatasetError

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file.

    Raises:
        DatasetError: when the file is missing, empty, of an unknown type or malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"file {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise DatasetError(f"file {str(path)!r} is empty; it needs a header row and data rows")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
        elif suffix in {".csv", ".txt", ""}:
            frame = pd.read_csv(path, skipinitialspace=True)
        else:
            raise DatasetError(
                f"file {str(path)!r} has suffix {suffix!r}; give a .csv or .parquet file"
            )
    except DatasetError:
        raise
    except pd.errors.EmptyDataError:
        raise DatasetError(f"file {str(path)!r} has no columns; is it really a CSV?") from None
    except pd.errors.ParserError as exc:
        first = str(exc).splitlines()[0]
        raise DatasetError(
            f"file {str(path)!r} is not a well-formed CSV ({first}); check the quoting and "
            "that every row has as many fields as the header"
        ) from None
    except (UnicodeDecodeError, OSError, ValueError) as exc:
        raise DatasetError(f"file {str(path)!r} could not be read: {exc}") from None
    if frame.empty:
        raise DatasetError(f"file {str(path)!r} has a header but no data rows")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed:")]
    if unnamed:
        raise DatasetError(
            f"file {str(path)!r} has column(s) without a header name ({', '.join(unnamed)}); "
            "every column needs a name in the header row"
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
