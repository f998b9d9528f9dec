"""Light worker functions for executor tests (importable by a Dask worker in a second).

They stand in for ``generate`` where a test is about transport, not training: no torch,
no SDV, just rows drawn from the task's own train split and a non-private record.
"""

from __future__ import annotations

import math
import pathlib

from governance.datasets.schema import conform, schema_from_yaml
from governance.generators.base import PrivacySpend
from governance.services.runs.executors import GenerationOutput, GenerationTask


def echo_rows(task: GenerationTask) -> GenerationOutput:
    """The first ``n_synthetic`` train rows (cycled) and a non-private privacy record."""
    schema = schema_from_yaml(task.schema_yaml, source="the task's schema")
    rows = task.train.iloc[[i % len(task.train) for i in range(task.n_synthetic)]]
    record = PrivacySpend(epsilon_target=math.inf, epsilon_spent=math.inf, delta=0.0,
                          mechanism="none (test echo)")
    return GenerationOutput(task.key, conform(rows.reset_index(drop=True), schema), record,
                            0.0, 0.0)


class EchoExecutor:
    """In-process executor that answers every task with ``echo_rows`` (no training)."""

    name = "echo"

    def run(self, tasks: list[GenerationTask], fn: object = None) -> list[GenerationOutput]:
        """Echo rows for every task."""
        return [echo_rows(task) for task in tasks]


class Tripwire:
    """Unpickling this creates a file: proof that a reply was unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Rebuild by touching the marker file."""
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def answer_with_tripwire(task: GenerationTask, marker: str) -> Tripwire:
    """A worker function whose result can only travel as a pickle."""
    return Tripwire(marker)
