"""Where candidates are trained: executor objects (inline, a local process pool, Dask).

Workers only *generate*: they receive the train split, the schema and a task, and
return the synthetic frame with its privacy record. Everything that writes state
(artifacts, budget charges, audit events) happens in the coordinating process, so a
worker that dies loses nothing but its own unfinished candidate.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import pandas as pd

from governance.core.errors import InputError
from governance.datasets.schema import conform, schema_from_yaml
from governance.generators.base import PrivacySpend
from governance.generators.registry import create_generator


@dataclass(frozen=True)
class GenerationTask:
    """Everything a worker needs to train one candidate (picklable)."""

    key: str
    generator: str
    epsilon: float
    delta: float
    seed: int
    n_synthetic: int
    schema_yaml: str
    train: pd.DataFrame
    options: dict[str, Any] = field(default_factory=dict)
    threads: int = 1


@dataclass(frozen=True)
class GenerationOutput:
    """A worker's answer: the synthetic rows and privacy record, or an error."""

    key: str
    synthetic: pd.DataFrame | None
    privacy: PrivacySpend | None
    fit_seconds: float
    sample_seconds: float
    error: str | None = None


def generate(task: GenerationTask) -> GenerationOutput:
    """Fit one generator on the train split and sample from it (runs in a worker)."""
    import torch  # here, not at the top: the API process never trains and never loads torch

    torch.set_num_threads(max(1, task.threads))
    start = time.perf_counter()
    try:
        schema = schema_from_yaml(task.schema_yaml, source="the run's schema")
        gen = create_generator(task.generator, epsilon=task.epsilon, delta=task.delta,
                               seed=task.seed, **task.options)
        gen.fit(task.train, schema)
        fit_s = time.perf_counter() - start
        t1 = time.perf_counter()
        synthetic = conform(gen.sample(task.n_synthetic), schema)
        privacy = gen.privacy()
        return GenerationOutput(task.key, synthetic, privacy, fit_s, time.perf_counter() - t1)
    except Exception as exc:  # a failed candidate becomes a row with an error, not a crash
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return GenerationOutput(task.key, None, None, time.perf_counter() - start, 0.0, detail)


def default_workers() -> int:
    """One worker per core."""
    return max(1, os.cpu_count() or 1)


Worker = Callable[[GenerationTask], GenerationOutput]


class Executor(Protocol):
    """Where candidates are trained: anything that turns tasks into outputs.

    Implementations yield outputs as they finish (completion order). They are chosen by
    the service's configuration, never by a requester.
    """

    name: str

    def run(self, tasks: list[GenerationTask], fn: Worker = ...) -> Iterator[GenerationOutput]:
        """Run ``fn`` on every task and yield its outputs as they finish."""
        ...


class InlineExecutor:
    """This process, one task after another (tests, debugging)."""

    name = "inline"

    def run(self, tasks: list[GenerationTask], fn: Worker = generate
            ) -> Iterator[GenerationOutput]:
        """Run each task in turn."""
        for task in tasks:
            yield fn(task)


class LocalPoolExecutor:
    """A pool of spawned processes on this machine, one per core by default."""

    name = "local"

    def __init__(self, *, workers: int | None = None) -> None:
        self.workers = workers

    def run(self, tasks: list[GenerationTask], fn: Worker = generate
            ) -> Iterator[GenerationOutput]:
        """Run the tasks on ``workers`` processes, sharing the cores between them."""
        if not tasks:
            return
        n = min(self.workers or default_workers(), len(tasks))
        if n == 1:
            for task in tasks:
                yield fn(replace(task, threads=default_workers()))
            return
        threads = max(1, default_workers() // n)
        with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
            futures: list[Future[GenerationOutput]] = [
                pool.submit(fn, replace(t, threads=threads)) for t in tasks]
            try:
                for fut in as_completed(futures):
                    yield fut.result()
            finally:
                for fut in futures:
                    fut.cancel()


class DaskExecutor:
    """A Dask distributed scheduler (``tcp://HOST:PORT`` or ``tls://HOST:PORT``)."""

    name = "dask"

    def __init__(self, address: str, *, timeout: str = "10s") -> None:
        self.address, self.timeout = address, timeout

    def run(self, tasks: list[GenerationTask], fn: Worker = generate
            ) -> Iterator[GenerationOutput]:
        """Submit every task to the cluster and yield results as they land."""
        if not tasks:
            return
        # Deferred import: distributed is heavy and starts threads; only Dask runs need it.
        from distributed import Client
        from distributed import as_completed as dask_completed

        try:
            client = Client(self.address, timeout=self.timeout, set_as_default=False)
        except OSError as exc:
            raise InputError(
                f"cannot reach the Dask scheduler at {self.address} ({exc}); start one with "
                "`dask scheduler` and `dask worker ADDRESS`, or use --executor local"
            ) from None
        try:
            futures = [client.submit(fn, t, pure=False, key=f"candidate-{t.key}")
                       for t in tasks]
            # The client is not the default one, so as_completed needs its loop explicitly.
            for fut in dask_completed(futures, loop=client.loop):
                yield fut.result()
        finally:
            client.close()


def make_executor(name: str, *, workers: int | None = None) -> Executor:
    """The executor a configuration name stands for.

    ``"inline"``, ``"local"`` (a process pool) or a Dask scheduler address.

    Raises:
        InputError: a name that is none of these.
    """
    if name == "inline":
        return InlineExecutor()
    if name == "local":
        return LocalPoolExecutor(workers=workers)
    if name.startswith(("tcp://", "tls://")):
        return DaskExecutor(name)
    raise InputError(
        f"unknown executor {name!r}; use 'local', 'inline' or a Dask scheduler address "
        "such as tcp://127.0.0.1:8786"
    )


def run_tasks(tasks: list[GenerationTask], *, executor: str | Executor = "local",
              workers: int | None = None, fn: Worker = generate) -> Iterator[GenerationOutput]:
    """Run tasks on an executor (or the one a name stands for), in completion order."""
    chosen = make_executor(executor, workers=workers) if isinstance(executor, str) else executor
    yield from chosen.run(tasks, fn)
