"""Where candidates are trained: executor objects (inline, a local process pool, Dask).

Workers only *generate*: they receive the train split, the schema and a task, and
return the synthetic frame with its privacy record. Everything that writes state
(artifacts, budget charges, audit events) happens in the coordinating process, so a
worker that dies loses nothing but its own unfinished candidate.

Executors are server configuration (``Settings.executor_spec``), never a request field.
Nothing a worker returns is trusted: remote replies are plain data checked by
``decode_reply``, and the coordinating process re-derives every privacy figure
(``governance.generators.privacy.verify``) before it charges or shows it.
"""

from __future__ import annotations

import io
import math
import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import pandas as pd

from governance.core.config import Settings
from governance.core.errors import ExecutorUnavailableError, InputError
from governance.core.executor_config import ExecutorSpec, executor_spec
from governance.datasets.schema import conform, schema_from_yaml
from governance.generators.base import PrivacySpend
from governance.generators.registry import create_generator
from governance.store.artifacts import frame_to_parquet_bytes


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
    """A Dask distributed scheduler the operator configured (``tls://`` or ``tcp://``).

    Replies come back as plain data only: the task runs ``plain_reply`` on the worker, which
    answers with a msgpack-encoded mapping of strings, numbers and Parquet bytes, and the
    client refuses to deserialize anything else (``deserializers=("msgpack", "error")``),
    so a worker cannot hand this process a pickle as a result. ``decode_reply`` then checks
    the reply's shape strictly. Connection failures say "executor unreachable" and never
    echo the address.
    """

    name = "dask"

    def __init__(self, address: str, *, label: str = "dask", security: Any = None,
                 timeout: float = 10.0) -> None:
        self.address, self.label, self.security = address, label, security
        self.timeout = timeout

    def run(self, tasks: list[GenerationTask], fn: Worker = generate
            ) -> Iterator[GenerationOutput]:
        """Submit every task to the cluster and yield checked replies as they land."""
        if not tasks:
            return
        # Deferred import: distributed is heavy and starts threads; only Dask runs need it.
        from distributed import as_completed as dask_completed

        client = self._connect()
        try:
            by_key = {f"candidate-{t.key}": t for t in tasks}
            futures = [client.submit(plain_reply, fn, t, pure=False, key=key)
                       for key, t in by_key.items()]
            # The client is not the default one, so as_completed needs its loop explicitly.
            for fut in dask_completed(futures, loop=client.loop):
                yield self._reply(fut, by_key[str(fut.key)])
        finally:
            client.close()

    def _connect(self) -> Any:
        from distributed import Client

        try:
            return Client(self.address, security=self.security, timeout=self.timeout,
                          set_as_default=False, deserializers=PLAIN_DESERIALIZERS)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorUnavailableError(
                f"executor unreachable: the server could not connect to executor "
                f"{self.label!r} ({type(exc).__name__}); the operator should check that it "
                "runs and that its TLS settings match") from None

    def _reply(self, fut: Any, task: GenerationTask) -> GenerationOutput:
        """A future's result, decoded; any failure becomes an error row, not an exception."""
        if fut.status != "finished":
            return _failed(task, f"the executor did not complete the task ({fut.status})")
        try:
            payload = fut.result(timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - a lost or refused reply fails one candidate
            return _failed(task, f"the executor's reply could not be read "
                                 f"({type(exc).__name__})")
        return decode_reply(payload, task)


#: What the API process agrees to deserialize from a Dask worker: msgpack and error text.
PLAIN_DESERIALIZERS = ("msgpack", "error")
#: Longest error text kept from a worker's reply.
MAX_ERROR_CHARS = 2000
_REPLY_KEYS = frozenset({"key", "synthetic", "privacy", "fit_seconds", "sample_seconds",
                         "error"})


def encode_reply(out: GenerationOutput) -> dict[str, Any]:
    """A worker's answer as plain data: strings, numbers and Parquet bytes."""
    return {
        "key": out.key,
        "synthetic": None if out.synthetic is None else frame_to_parquet_bytes(out.synthetic),
        "privacy": None if out.privacy is None else out.privacy.to_json(),
        "fit_seconds": float(out.fit_seconds), "sample_seconds": float(out.sample_seconds),
        "error": out.error,
    }


def plain_reply(fn: Worker, task: GenerationTask) -> Any:
    """Run ``fn`` on a Dask worker and wrap its answer as msgpack (never a pickle)."""
    from distributed.protocol.serialize import Serialized, serialize

    try:
        reply = encode_reply(fn(task))
    except Exception as exc:  # noqa: BLE001 - the reply must stay plain data
        reply = encode_reply(_failed(task, f"{type(exc).__name__}: {exc}"))
    return Serialized(*serialize(reply, serializers=("msgpack",)))


def decode_reply(payload: object, task: GenerationTask) -> GenerationOutput:
    """Check a plain reply against the task it answers and build the output.

    The reply must be a mapping with exactly the fields ``encode_reply`` writes, of the
    right types, for this task's key; the rows must be Parquet with the task's row count
    whose values fit the schema's public domain. Anything else becomes an error row (the
    candidate fails; nothing is stored).
    """
    try:
        return _decode(payload, task)
    except (TypeError, ValueError, KeyError, OSError) as exc:
        return _failed(task, f"the executor's reply was rejected: {exc}")


def _decode(payload: object, task: GenerationTask) -> GenerationOutput:
    if not isinstance(payload, dict) or set(payload) != _REPLY_KEYS:
        raise ValueError("it is not a reply of the expected shape")
    if payload["key"] != task.key:
        raise ValueError("it answers another task")
    seconds = [payload["fit_seconds"], payload["sample_seconds"]]
    if not all(type(v) in (int, float) and math.isfinite(v) and v >= 0 for v in seconds):
        raise ValueError("its timings are not non-negative numbers")
    error = payload["error"]
    if error is not None:
        if not isinstance(error, str):
            raise ValueError("its error is not text")
        return _failed(task, error, fit_seconds=float(seconds[0]))
    rows, privacy = payload["synthetic"], payload["privacy"]
    if not isinstance(rows, bytes) or not isinstance(privacy, str):
        raise ValueError("it holds neither rows and a privacy record nor an error")
    schema = schema_from_yaml(task.schema_yaml, source="the run's schema")
    frame = conform(_parquet_frame(rows, n_rows=task.n_synthetic), schema)
    record = PrivacySpend.model_validate_json(privacy)
    return GenerationOutput(task.key, frame, record, float(seconds[0]), float(seconds[1]))


def _parquet_frame(data: bytes, *, n_rows: int) -> pd.DataFrame:
    """Read Parquet rows after checking the row count in its footer (bounded work)."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    if meta.num_rows != n_rows:
        raise ValueError(f"it holds {meta.num_rows} rows, not the {n_rows} asked for")
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


def check_output(out: object, task: GenerationTask) -> GenerationOutput:
    """Any executor's answer for ``task``, checked as strictly as a remote reply.

    It must be a ``GenerationOutput`` for this task's key holding either an error, or the
    task's number of rows that fit the schema's public domain plus a privacy record that
    validates; anything else becomes an error row.
    """
    if not isinstance(out, GenerationOutput) or out.key != task.key:
        return _failed(task, "the executor's reply was rejected: it answers another task")
    try:
        if not all(isinstance(v, int | float) and math.isfinite(v) and v >= 0
                   for v in (out.fit_seconds, out.sample_seconds)):
            raise ValueError("its timings are not non-negative numbers")
        if out.error is not None:
            return _failed(task, str(out.error), fit_seconds=float(out.fit_seconds))
        if not isinstance(out.synthetic, pd.DataFrame) or len(out.synthetic) != task.n_synthetic:
            raise ValueError(f"it does not hold the {task.n_synthetic} rows asked for")
        if not isinstance(out.privacy, PrivacySpend):
            raise ValueError("it holds no privacy record")
        privacy = PrivacySpend.model_validate_json(out.privacy.to_json())
        schema = schema_from_yaml(task.schema_yaml, source="the run's schema")
        return replace(out, synthetic=conform(out.synthetic, schema), privacy=privacy)
    except (TypeError, ValueError) as exc:
        return _failed(task, f"the executor's reply was rejected: {exc}")


def failed_output(task: GenerationTask, error: str, *,
                  fit_seconds: float = 0.0) -> GenerationOutput:
    """An error row for ``task`` (the message cut to ``MAX_ERROR_CHARS``)."""
    return GenerationOutput(task.key, None, None, fit_seconds, 0.0, error[:MAX_ERROR_CHARS])


_failed = failed_output


def dask_security(settings: Settings) -> Any:
    """The ``distributed.Security`` built from the TLS settings (client certificate, CA)."""
    from distributed import Security

    return Security(tls_ca_file=str(settings.executor_tls_ca_file),
                    tls_client_cert=str(settings.executor_tls_cert_file),
                    tls_client_key=str(settings.executor_tls_key_file),
                    require_encryption=True)


def make_executor(spec: ExecutorSpec, *, settings: Settings | None = None,
                  workers: int | None = None) -> Executor:
    """The executor a configured spec stands for (``Settings.executor_spec``).

    Raises:
        InputError: a TLS executor without the TLS settings.
    """
    if spec.kind == "inline":
        return InlineExecutor()
    if spec.kind == "local":
        return LocalPoolExecutor(workers=workers)
    assert spec.address is not None
    security = None
    if spec.transport == "tls":
        if settings is None or settings.executor_tls_ca_file is None:
            raise InputError(f"executor {spec.name!r} uses TLS but no certificates are set "
                             "(GOVERNANCE_EXECUTOR_TLS_CA_FILE, _CERT_FILE, _KEY_FILE)")
        security = dask_security(settings)
    timeout = settings.executor_timeout_seconds if settings is not None else 10.0
    return DaskExecutor(spec.address, label=spec.name, security=security, timeout=timeout)


def run_tasks(tasks: list[GenerationTask], *, executor: str | Executor = "local",
              workers: int | None = None, fn: Worker = generate) -> Iterator[GenerationOutput]:
    """Run tasks on an executor (or a built-in one by name), in completion order."""
    chosen = (make_executor(executor_spec(executor, {}), workers=workers)
              if isinstance(executor, str) else executor)
    yield from chosen.run(tasks, fn)
