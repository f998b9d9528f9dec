"""Finding 1b: how the server talks to a Dask executor.

Dask connections support ``tls://`` with the certificates from settings (distributed's
``Security``), against a real TLS scheduler and worker process; a scheduler that presents
a certificate from another CA is "executor unreachable", and so is a closed port, without
the host or port in the message (the error text was a port scanner). Plain ``tcp://`` to
a host that is not loopback needs ``allow_insecure_executor`` and the run says so.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.core.config import Settings
from governance.core.errors import ExecutorUnavailableError
from governance.services.runs import execute as execute_module
from governance.services.runs import execute_run
from governance.services.runs.executors import GenerationTask, make_executor
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.runs import events, register_people, submit
from tests.utils.workers import EchoExecutor, echo_rows

distributed = pytest.importorskip("distributed")


def _task() -> GenerationTask:
    return GenerationTask(key="t/gaussian_copula/inf/0", generator="gaussian_copula",
                          epsilon=math.inf, delta=1e-6, seed=3, n_synthetic=60,
                          schema_yaml=MIXED_SCHEMA.to_yaml(), train=mixed_table(120, seed=2))


def _write_credentials(sec: object, folder: Path) -> dict[str, Path]:
    """The PEM texts of a ``Security`` as 0600 files, the way an operator keeps them."""
    folder.mkdir()
    files = {}
    for setting, attr in (("executor_tls_ca_file", "tls_ca_file"),
                          ("executor_tls_cert_file", "tls_client_cert"),
                          ("executor_tls_key_file", "tls_client_key")):
        path = folder / f"{attr}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(getattr(sec, attr))
        files[setting] = path
    return files


@pytest.fixture(scope="module")
def tls_cluster() -> Iterator[tuple[str, object]]:
    """A real scheduler and worker process speaking TLS only, on 127.0.0.1."""
    sec = distributed.Security.temporary()
    try:
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None,
                                           protocol="tls", security=sec)
    except Exception as exc:  # noqa: BLE001 - any failure to start means skip, with the cause
        pytest.skip(f"could not start a TLS dask LocalCluster on 127.0.0.1: {exc!r}")
    try:
        yield str(cluster.scheduler_address), sec
    finally:
        cluster.close()


def _settings(tmp_path: Path, address: str, sec: object) -> Settings:
    return Settings(home=tmp_path / "home", environment="test",
                    executors={"secure": address},
                    **_write_credentials(sec, tmp_path / "certs"))


def test_a_tls_executor_trains_with_the_certificates_from_settings(tmp_path, tls_cluster):
    # Setup
    address, sec = tls_cluster
    assert address.startswith("tls://127.0.0.1:")
    settings = _settings(tmp_path, address, sec)
    executor = make_executor(settings.executor_spec("secure"), settings=settings)
    # Run
    (out,) = executor.run([_task()], echo_rows)
    # Assert
    assert out.error is None, out.error
    assert len(out.synthetic) == 60 and out.privacy is not None
    assert executor.security.require_encryption


def test_a_scheduler_with_a_certificate_from_another_ca_is_unreachable(tmp_path, tls_cluster):
    # Setup: credentials from a CA the scheduler's certificate does not chain to
    address, _ = tls_cluster
    settings = _settings(tmp_path, address, distributed.Security.temporary())
    settings.executor_timeout_seconds = 3
    executor = make_executor(settings.executor_spec("secure"), settings=settings)
    # Run
    with pytest.raises(ExecutorUnavailableError) as caught:
        list(executor.run([_task()], echo_rows))
    # Assert
    message = caught.value.message
    assert message.startswith("executor unreachable") and "'secure'" in message
    assert address.rsplit(":", 1)[1] not in message and "127.0.0.1" not in message


@pytest.fixture
def people(gov, tmp_path: Path) -> str:
    return register_people(gov, tmp_path)


def test_a_closed_port_fails_the_run_without_naming_host_or_port(gov, people, monkeypatch):
    # Setup: a loopback port nothing listens on, configured by the operator
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(gov.settings, "executors", {"near": f"tcp://127.0.0.1:{port}"})
    monkeypatch.setattr(gov.settings, "executor_timeout_seconds", 2.0)
    run = submit(gov, people, executor="near")
    # Run
    with pytest.raises(ExecutorUnavailableError):
        execute_run(gov, run.id)
    # Assert
    (failed,) = events(gov, "run.failed", run.id)
    error = failed["error"]
    assert "executor unreachable" in error and "'near'" in error
    assert str(port) not in error and "127.0.0.1" not in error


def test_plain_tcp_to_another_host_is_recorded_as_insecure(gov, people, monkeypatch):
    # Setup: allowed explicitly; the training itself is done inline (no traffic leaves)
    monkeypatch.setattr(gov.settings, "allow_insecure_executor", True)
    monkeypatch.setattr(gov.settings, "executors", {"far": "tcp://203.0.113.7:8786"})
    monkeypatch.setattr(execute_module, "make_executor", lambda spec, **_: EchoExecutor())
    run = submit(gov, people, executor="far")
    # Run
    done = execute_run(gov, run.id)
    # Assert
    assert done.status == "succeeded"
    assert "NOT encrypted" in done.message and "GOVERNANCE_ALLOW_INSECURE_EXECUTOR" in done.message
    (finished,) = events(gov, "run.finished", run.id)
    assert "NOT encrypted" in finished["executor"]
    assert "203.0.113.7" not in done.message + finished["executor"]
