"""How the CLI talks: one JSON document on stdout with ``--json``, progress on stderr."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from governance.core import jsonsafe
from governance.schemas.runs import ControlScores, RunPublic

err = Console(stderr=True, highlight=False, soft_wrap=True)
# Piped output (CI logs, `| less`) gets a wide console so tables keep one row per candidate.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 180)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def emit_json(doc: Any) -> None:
    """Print exactly one JSON document on stdout (the project's codec: "inf", null NaN)."""
    sys.stdout.write(jsonsafe.dumps(doc, indent=2) + "\n")
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
    if isinstance(value, int | float):
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


def print_run(view: RunPublic) -> None:
    """Print a run's candidate table and its real-only controls."""
    task = view.task
    pareto = set(view.frontier.pareto if view.frontier else [])
    rows = []
    for c in view.candidates or []:
        s = c.summary
        rows.append([c.id, c.generator, c.epsilon_target, c.epsilon_spent, s.worst_attack_auc,
                     s.epsilon_estimate, s.selection_ratio_above_chance, s.ratio_above_chance,
                     s.ratio_raw, c.id in pareto,
                     c.eligible if c.status != "failed" else "failed",
                     ", ".join(s.clauses) or (c.error or "")])
    out.print(table(
        f"run {view.id} — target {task.target} ({task.kind}, {task.metric}); "
        f"real-only control on eval {_controls(view)}",
        ["candidate", "generator", "ε target", "ε spent", "attack AUC", "ε estimate",
         "utility (validation)", "utility (eval)", "raw ratio (eval)", "Pareto", "eligible",
         "violated clauses"], rows))
    rule = next((c.summary.utility_aggregate for c in view.candidates or []
                 if c.summary.utility_aggregate), None)
    if rule is not None:
        out.print(f"utility = (TSTR - chance) / (control - chance), the model panel's {rule}; "
                  "validation selects and gates, eval is reported; raw ratio = TSTR / control "
                  "(never gated)")
    dup = next((c.summary.duplicate_rate for c in view.candidates or []
                if c.summary.duplicate_rate is not None), None)
    if rows and dup:
        out.print(f"note: {dup:.1%} of the attacked non-member rows equal a row of the train "
                  "split; no membership attack can separate those rows, so no attack's AUC "
                  f"can exceed {1 - dup / 2:.3f} (1 - rate / 2).")


def _controls(view: RunPublic) -> str:
    """The real-only control's primary metric per panel model on eval."""
    control = view.control
    if not isinstance(control, ControlScores):
        return fmt(None)
    return ", ".join(f"{m} {fmt(s.primary)}" for m, s in control.eval.items())
