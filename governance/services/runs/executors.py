"""Where candidates are trained: inline, a local process pool, or a Dask cluster.

Workers only *generate*: they receive the train split, the schema and a task, and
return the synthetic frame with its privacy record. Everything that writes state
(artifacts, budget charges, audit events) happens in the coordinating process, so a
worker that dies loses nothing but its own unfinished candidate.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from governance.core.errors import InputError


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
    privacy: dict[str, Any] | None
    fit_seconds: float
    sample_seconds: float
    error: str | None = None


def generate(task: GenerationTask) -> GenerationOutput:
    """Fit one generator on the train split and sample from it (runs in a worker)."""
    import yaml

    from governance.datasets.schema import conform, parse_schema
    from governance.generators import create_generator

    try:
        import torch

        torch.set_num_threads(max(1, task.threads))
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    start = time.perf_counter()
    try:
        schema = parse_schema(yaml.safe_load(task.schema_yaml))
        gen = create_generator(task.generator, epsilon=task.epsilon, delta=task.delta,
                               seed=task.seed, **task.options)
        gen.fit(task.train, schema)
        fit_s = time.perf_counter() - start
        t1 = time.perf_counter()
        synthetic = conform(gen.sample(task.n_synthetic), schema)
        privacy = gen.privacy().as_dict()
        return GenerationOutput(task.key, synthetic, privacy, fit_s, time.perf_counter() - t1)
    except Exception as exc:  # a failed candidate becomes a row with an error, not a crash
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return GenerationOutput(task.key, None, None, time.perf_counter() - start, 0.0, detail)


def default_workers() -> int:
    """One worker per core."""
    return max(1, os.cpu_count() or 1)


def run_tasks(
    tasks: list[GenerationTask], *, executor: str = "local", workers: int | None = None,
    fn: Callable[[GenerationTask], GenerationOutput] = generate,
) -> Iterator[GenerationOutput]:
    """Run tasks and yield outputs as they finish (in completion order).

    ``executor`` is ``"inline"`` (this process, in order), ``"local"`` (a process pool
    with ``workers`` processes, one per core by default) or ``"tcp://HOST:PORT"``
    (a Dask distributed scheduler).

    Raises:
        InputError: an executor string that is none of these.
    """
    if not tasks:
        return
    if executor == "inline":
        for task in tasks:
            yield fn(task)
        return
    if executor == "local":
        n = min(workers or default_workers(), len(tasks))
        if n == 1:
            for task in tasks:
                yield fn(_with_threads(task, default_workers()))
            return
        threads = max(1, default_workers() // n)
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
            futures: list[Future[GenerationOutput]] = [
                pool.submit(fn, _with_threads(t, threads)) for t in tasks]
            try:
                for fut in as_completed(futures):
                    yield fut.result()
            finally:
                for fut in futures:
                    fut.cancel()
        return
    if executor.startswith(("tcp://", "tls://")):
        yield from _run_dask(tasks, executor, fn)
        return
    raise InputError(
        f"unknown executor {executor!r}; use 'local', 'inline' or a Dask scheduler address "
        "such as tcp://127.0.0.1:8786"
    )


def _with_threads(task: GenerationTask, threads: int) -> GenerationTask:
    from dataclasses import replace

    return replace(task, threads=threads)


def _run_dask(
    tasks: Iterable[GenerationTask], address: str, fn: Callable[[GenerationTask], GenerationOutput]
) -> Iterator[GenerationOutput]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise ImportError("the Dask executor needs dask[distributed]") from exc
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise InputError(
            f"cannot reach the Dask scheduler at {address} ({exc}); start one with "
            "`dask scheduler` and `dask worker ADDRESS`, or use --executor local"
        ) from None
    try:
        futures = [client.submit(fn, t, pure=False, key=f"candidate-{t.key}") for t in tasks]
        # The client is not the default one, so as_completed needs its loop explicitly.
        for fut in dask_completed(futures, loop=client.loop):
            yield fut.result()
    finally:
        client.close()


def finite_or_none(value: float) -> float | None:
    """Store infinity as None."""
    return value if math.isfinite(value) else None
