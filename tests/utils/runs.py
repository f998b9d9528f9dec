"""Helpers for run tests: a registered table, audit events by kind, executors that count."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from governance.services.context import Governance
from governance.services.datasets import register_dataset
from governance.services.runs import RunRequest, submit_run
from governance.services.runs.executors import (
    GenerationOutput,
    GenerationTask,
    InlineExecutor,
    generate,
)
from governance.store.models import AuditEvent, BudgetCharge, Run
from tests.utils.data import MIXED_SCHEMA, mixed_table

#: A policy that lets small grids run (budget 30) and accepts any candidate.
LOOSE_POLICY = """\
version: 1
name: loose-runs
risk: {max_epsilon: 10, max_total_epsilon: 30, max_attack_auc: 1.0}
utility: {min_utility_ratio: 0.0}
"""


def register_people(gov: Governance, folder: Path, *, rows: int = 200, actor: str = "bob",
                    name: str = "people") -> str:
    """Register the mixed test table and return its id."""
    csv = folder / f"{name}.csv"
    mixed_table(rows, seed=3).to_csv(csv, index=False)
    return register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name=name, actor=actor).id


def loose_policy(folder: Path) -> Path:
    """``LOOSE_POLICY`` written to a file."""
    path = folder / "loose-runs.yaml"
    path.write_text(LOOSE_POLICY)
    return path


def submit(gov: Governance, dataset: str, *, actor: str = "bob", policy: Path | None = None,
           generators: Sequence[str] = ("gaussian_copula",),
           epsilons: Sequence[float] = (math.inf,), **options: Any) -> Run:
    """Submit a small run (inline executor unless ``executor`` is given)."""
    request = RunRequest(dataset=dataset, target="label", policy=policy,
                         generators=list(generators), epsilons=list(epsilons),
                         executor=options.pop("executor", "inline"), **options)
    return submit_run(gov, request, actor=actor)


def events(gov: Governance, kind: str, subject: str | None = None) -> list[dict[str, Any]]:
    """Payloads of the audit events of one kind (for one subject), in order."""
    query = select(AuditEvent).where(AuditEvent.kind == kind)
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    with gov.session() as s:
        rows = s.exec(query.order_by(col(AuditEvent.seq))).all()
    return [json.loads(r.payload) for r in rows]


def charges(gov: Governance) -> list[BudgetCharge]:
    """Every budget charge recorded."""
    with gov.session() as s:
        return list(s.exec(select(BudgetCharge)).all())


class CountingExecutor(InlineExecutor):
    """Inline training that counts the tasks it was handed (thread-safe)."""

    name = "counting"

    def __init__(self, *, before: Callable[[], None] | None = None) -> None:
        self.trained: list[str] = []
        self._lock = threading.Lock()
        self._before = before

    def run(self, tasks: list[GenerationTask], fn: Callable[[GenerationTask], GenerationOutput]
            = generate) -> Iterator[GenerationOutput]:
        """Record each task, then train it inline."""
        for task in tasks:
            with self._lock:
                self.trained.append(task.key)
            if self._before is not None:
                self._before()
            yield fn(task)
