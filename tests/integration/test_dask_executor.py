"""The Dask executor against real clusters on loopback: same seeds, byte-identical candidates.

DP candidates are compared with ``reproducible_noise`` set (the research-sandbox option):
by default their privacy noise comes from fresh OS entropy and no two fits agree.

Two clusters: a ``distributed.LocalCluster`` (one worker process, one thread) and a
scheduler and worker started as separate processes by the ``dask`` CLI modules, the way
an operator would run them. Both must return exactly the rows the inline executor does.
"""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from governance.core.errors import ExecutorUnavailableError
from governance.services.datasets import register_dataset
from governance.services.runs import RunRequest, execute_run, submit_run
from governance.services.runs.executors import (
    DaskExecutor,
    GenerationOutput,
    GenerationTask,
    run_tasks,
)
from governance.store.artifacts import frame_to_parquet_bytes
from governance.store.models import Candidate
from tests.utils.data import MIXED_SCHEMA, mixed_table

distributed = pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
POLICY = """\
version: 1
name: dask-test
risk: {max_epsilon: 10, max_total_epsilon: 30, max_attack_auc: 1.0, reproducible_noise: true}
utility: {min_utility_ratio: 0.0}
"""


def _tasks() -> list[GenerationTask]:
    train, schema_yaml = mixed_table(300, seed=2), MIXED_SCHEMA.to_yaml()
    return [
        GenerationTask(key="t/gaussian_copula/inf/0", generator="gaussian_copula",
                       epsilon=math.inf, delta=1e-6, seed=3, n_synthetic=200,
                       schema_yaml=schema_yaml, train=train),
        GenerationTask(key="t/dp_vae/2/0", generator="dp_vae", epsilon=2.0, delta=1e-6,
                       seed=3, n_synthetic=200, schema_yaml=schema_yaml, train=train,
                       options={"epochs": 2, "batch_size": 64, "hidden": 32,
                                "reproducible_noise": True}),
    ]


def _by_key(outputs: Iterator[GenerationOutput]) -> dict[str, GenerationOutput]:
    return {out.key: out for out in outputs}


@pytest.fixture(scope="module")
def inline_outputs() -> dict[str, GenerationOutput]:
    return _by_key(run_tasks(_tasks(), executor="inline"))


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[str]:
    """A real LocalCluster: one worker process with one thread, on 127.0.0.1."""
    try:
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
    except Exception as exc:  # noqa: BLE001 - any failure to start means skip, with the cause
        pytest.skip(f"could not start a dask LocalCluster on 127.0.0.1: {exc!r}")
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def cli_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``dask scheduler`` and ``dask worker`` as separate processes on loopback."""
    tmp = tmp_path_factory.mktemp("dask")
    sched_file, logs = tmp / "scheduler.json", tmp
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=(logs / "scheduler.log").open("wb")))
        deadline = time.monotonic() + START_TIMEOUT
        while not sched_file.is_file() and time.monotonic() < deadline:
            if procs[0].poll() is not None:
                break
            time.sleep(0.2)
        if not sched_file.is_file():
            pytest.skip("`dask scheduler` did not start: "
                        + (logs / "scheduler.log").read_text()[-500:])
        address = json.loads(sched_file.read_text())["address"]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--nworkers", "1", "--no-dashboard", "--memory-limit", "0",
             "--local-directory", str(tmp / "worker")],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=(logs / "worker.log").open("wb")))
        with distributed.Client(address, timeout="20s", set_as_default=False) as client:
            try:
                client.wait_for_workers(1, timeout=START_TIMEOUT)
            except TimeoutError:
                log = (logs / "worker.log").read_text()[-500:]
                pytest.skip(f"`dask worker` did not join: {log}")
        yield str(address)
    finally:
        for proc in reversed(procs):
            _stop(proc)


@pytest.mark.parametrize("cluster", ["local_cluster", "cli_cluster"])
def test_dask_outputs_are_byte_identical_to_inline(cluster, inline_outputs, request):
    # Setup
    address = request.getfixturevalue(cluster)
    assert address.startswith("tcp://127.0.0.1:")
    # Run
    outputs = _by_key(run_tasks(_tasks(), executor=DaskExecutor(address)))
    # Assert
    assert outputs.keys() == inline_outputs.keys() == {t.key for t in _tasks()}
    for key, out in outputs.items():
        ref = inline_outputs[key]
        assert out.error is None and ref.error is None, (out.error, ref.error)
        assert frame_to_parquet_bytes(out.synthetic) == frame_to_parquet_bytes(ref.synthetic)
        assert out.privacy == ref.privacy
    assert 0 < outputs["t/dp_vae/2/0"].privacy.epsilon_spent <= 2.0


def test_a_failing_task_comes_back_as_an_error_row(local_cluster):
    # Setup: an option dp_vae does not take
    bad = GenerationTask(key="t/dp_vae/1/0", generator="dp_vae", epsilon=1.0, delta=1e-6,
                         seed=0, n_synthetic=10, schema_yaml=MIXED_SCHEMA.to_yaml(),
                         train=mixed_table(50), options={"sampling": "shuffle"})
    # Run
    (out,) = run_tasks([bad], executor=DaskExecutor(local_cluster))
    # Assert
    assert out.synthetic is None and "Poisson sampling only" in out.error


def test_an_unreachable_scheduler_says_so_without_its_address():
    # Setup: a loopback port nothing listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Run
    with pytest.raises(ExecutorUnavailableError, match="executor unreachable") as caught:
        list(run_tasks(_tasks()[:1], executor=DaskExecutor(f"tcp://127.0.0.1:{port}",
                                                            label="near", timeout=2)))
    # Assert
    assert "'near'" in caught.value.message
    assert str(port) not in caught.value.message and "127.0.0.1" not in caught.value.message


def test_submit_and_execute_a_run_on_the_cluster(gov, tmp_path, local_cluster, monkeypatch):
    # Setup: the operator names the cluster; requests name only that
    monkeypatch.setattr(gov.settings, "executors", {"cluster": local_cluster})
    csv = tmp_path / "people.csv"
    mixed_table(600, seed=3).to_csv(csv, index=False)
    ds = register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="people", actor="owner")
    policy = tmp_path / "dask-test.yaml"
    policy.write_text(POLICY)
    shas = {}
    for executor in ("cluster", "inline"):
        req = RunRequest(dataset=ds.id, target="label", policy=policy, generators=["dp_vae"],
                         epsilons=[8.0], executor=executor, seed=11,
                         generator_options={"dp_vae": {"epochs": 2}})
        # Run
        run = execute_run(gov, submit_run(gov, req, actor="bob").id)
        # Assert
        assert run.status == "succeeded" and run.executor == executor
        with gov.session() as s:
            (cand,) = s.exec(select(Candidate).where(Candidate.run_id == run.id)).all()
        assert cand.status == "evaluated" and 0 < cand.epsilon_spent <= 8
        shas[executor] = cand.artifact_sha256
    assert shas["cluster"] == shas["inline"]
