"""Finding 3b: after a crash runs stayed ``running`` forever, and two resumers both trained.

Runs now hold a lease (owner and expiry on the run row) renewed by a heartbeat while
they execute. A run whose lease expired is resumable (``POST /v1/runs/{id}/resume``,
``govern resume``) and is picked up when the API starts and by its sweeper; of two
concurrent resumers exactly one wins the lease (one conditional UPDATE) and trains,
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.cli.app import main
from governance.core.config import get_settings
from governance.core.errors import ConflictError
from governance.services.context import Governance
from governance.services.runs import execute_run
from governance.services.runs.leases import claim
from governance.store.models import Run, utcnow
from tests.utils.runs import CountingExecutor, events, register_people, submit


def crash(gov: Governance, run_id: str, *, expired: bool = True) -> None:
    """Leave a run as a killed server leaves it: running, under a lease nobody renews."""
    with gov.session() as s:
        run = s.get(Run, run_id)
        assert run is not None
        run.status, run.started_at, run.message = "running", utcnow(), "training"
        run.lease_owner = "dead-host:4242:00000000"
        run.lease_expires_at = utcnow() + timedelta(seconds=-5 if expired else 600)
        s.add(run)


def wait_for(gov: Governance, run_id: str, status: str, timeout: float = 180) -> Run:
    """Poll the run row until it reaches ``status``."""
    deadline = time.monotonic() + timeout
    while True:
        with gov.session() as s:
            run = s.get(Run, run_id)
        assert run is not None
        if run.status == status or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def test_two_concurrent_resumers_train_a_crashed_run_once(any_gov, tmp_path: Path):
    # Setup
    gov = any_gov
    run = submit(gov, register_people(gov, tmp_path))
    crash(gov, run.id)
    counter, barrier = CountingExecutor(), threading.Barrier(2)
    outcomes: list[str] = []

    def resume() -> None:
        barrier.wait()
        try:
            outcomes.append(execute_run(gov, run.id, executor=counter).status)
        except ConflictError as exc:
            outcomes.append("conflict" if "being executed" in exc.message else exc.message)

    threads = [threading.Thread(target=resume) for _ in range(2)]
    # Run
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    # Assert: one trained and finished, the other was refused (or found it finished)
    assert sorted(outcomes) in (["conflict", "succeeded"], ["succeeded", "succeeded"])
    assert len(counter.trained) == 1
    assert len(events(gov, "run.started", run.id)) == 1
    with gov.session() as s:
        done = s.get(Run, run.id)
    assert done.status == "succeeded" and done.lease_owner is None


def test_a_live_lease_is_renewed_and_cannot_be_taken(gov, tmp_path: Path, monkeypatch):
    # Setup: a 2 s lease and a candidate that takes longer than that to train
    monkeypatch.setattr(gov.settings, "run_lease_seconds", 2)
    run = submit(gov, register_people(gov, tmp_path))
    taken: list[bool] = []

    def slow() -> None:
        time.sleep(2.8)
        taken.append(claim(gov, run.id, "intruder:1:1"))

    # Run
    done = execute_run(gov, run.id, executor=CountingExecutor(before=slow))
    # Assert
    assert taken == [False]
    assert done.status == "succeeded" and done.lease_owner is None


def test_resume_from_the_api_waits_for_the_lease_to_expire(client, headers, gov,
                                                          tmp_path: Path):
    # Setup: the requester's run, crashed while its lease is still live
    run = submit(gov, register_people(gov, tmp_path), actor="requester-1")
    crash(gov, run.id, expired=False)
    url = f"/v1/runs/{run.id}/resume"
    # Run
    live = client.post(url, headers=headers["requester"])
    other = client.post(url, headers=headers["requester2"])
    crash(gov, run.id, expired=True)
    resumed = client.post(url, headers=headers["requester"])
    finished = wait_for(gov, run.id, "succeeded")
    again = client.post(url, headers=headers["admin"])
    # Assert
    assert live.status_code == 409 and "being executed" in live.json()["message"]
    assert other.status_code == 404
    assert resumed.status_code == 202 and resumed.json()["id"] == run.id
    assert finished.status == "succeeded" and finished.lease_owner is None
    assert again.status_code == 409 and "has ended" in again.json()["message"]
    (started,) = events(gov, "run.started", run.id)
    assert started == {"resumed": True, "resumed_by": "requester-1"}


def test_the_api_picks_up_interrupted_runs_at_start_and_while_it_runs(gov, tmp_path: Path,
                                                                      monkeypatch):
    # Setup: one run crashed under an expired lease, one queued whose queue died
    monkeypatch.setattr(gov.settings, "run_lease_seconds", 2)
    people = register_people(gov, tmp_path)
    crashed, queued = submit(gov, people).id, submit(gov, people).id
    crash(gov, crashed)
    app.dependency_overrides[get_governance] = lambda: gov
    app.dependency_overrides[get_settings] = lambda: gov.settings
    app.dependency_overrides[get_rate_limiter] = lambda: RateLimiter(per_minute=0)
    try:
        with TestClient(app, raise_server_exceptions=False):
            # Run
            at_start = [wait_for(gov, r, "succeeded").status for r in (crashed, queued)]
            later = submit(gov, people).id
            crash(gov, later)  # a run that dies while this server is up
            swept = wait_for(gov, later, "succeeded").status
    finally:
        app.dependency_overrides.clear()
    # Assert
    assert at_start == ["succeeded", "succeeded"] and swept == "succeeded"
    assert events(gov, "run.started", crashed) == [{"resumed": True, "resumed_by": "runner"}]


def test_govern_resume_refuses_a_run_another_process_executes(gov, tmp_path: Path,
                                                             monkeypatch, capsys):
    # Setup
    run = submit(gov, register_people(gov, tmp_path))
    crash(gov, run.id, expired=False)
    monkeypatch.setattr(sys, "argv", ["govern", "resume", run.id])
    # Run
    with pytest.raises(SystemExit) as caught:
        main()
    # Assert
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert caught.value.code == 2 and len(err) == 1, err
    assert "being executed by another process" in err[0]
    assert events(gov, "run.started", run.id) == []
