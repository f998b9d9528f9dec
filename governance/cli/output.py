"""How the CLI talks: one JSON document on stdout with ``--json``, progress on stderr."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

err = Console(stderr=True, highlight=False, soft_wrap=True)
# Piped output (CI logs, `| less`) gets a wide console so tables keep one row per candidate.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 180)


def jsonable(obj: Any) -> Any:
    """Make values JSON-safe: infinities as "inf", datetimes as ISO strings."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "inf" if obj > 0 else ("-inf" if obj < 0 else None)
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return obj


def emit_json(doc: Any) -> None:
    """Print exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(jsonable(doc), indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[float, str], None]]:
    """A progress bar on stderr; yields ``update(fraction, message)``."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                  TextColumn("{task.fields[msg]}"), console=err, transient=False) as bar:
        task = bar.add_task(description, total=1.0, msg="")

        def update(fraction: float, message: str) -> None:
            bar.update(task, completed=min(1.0, max(0.0, fraction)), msg=message)

        yield update


def fmt(value: Any, digits: int = 3) -> str:
    """Format a number (or None / inf) for a table cell."""
    if value is None:
        return "–"
    if value == "inf" or (isinstance(value, float) and math.isinf(value)):
        return "∞"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return str(value)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A rich table with the given header and stringified rows."""
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*[fmt(v) for v in r])
    return t
