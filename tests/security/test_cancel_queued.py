"""Finding 3a: cancelling a queued run was lost.

Five runs cancelled while queued all started anyway, and one charged epsilon 5: the
cancel set ``cancelling`` and the worker that picked the run up overwrote it with
``running``. A cancel before start now ends the run there and then; the worker finds
nothing to do, nothing trains and nothing is charged.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from governance.core.errors import ConflictError
from governance.services.runs import execute_run, request_cancel
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.hostile import csv_bytes, upload
from tests.utils.runs import (
    CountingExecutor,
    charges,
    events,
    loose_policy,
    register_people,
    submit,
)


def test_cancelled_queued_runs_never_train_or_charge(gov, tmp_path: Path, monkeypatch):
    # Setup: five queued DP runs
    monkeypatch.setattr(gov.settings, "max_queued_runs_per_requester", 10)
    people, policy = register_people(gov, tmp_path), loose_policy(tmp_path)
    runs = [submit(gov, people, policy=policy, generators=["dp_vae"], epsilons=[5.0]).id
            for _ in range(5)]
    counter = CountingExecutor()
    # Run: cancel each, then let a worker pick each up, as the API's queue does
    cancelled = [request_cancel(gov, run_id) for run_id in runs]
    finished = [execute_run(gov, run_id, executor=counter) for run_id in runs]
    # Assert
    assert [r.status for r in cancelled] == ["cancelled"] * 5
    assert [r.status for r in finished] == ["cancelled"] * 5
    assert counter.trained == [] and charges(gov) == []
    assert events(gov, "run.started") == []
    assert [e["before_start"] for e in events(gov, "run.cancelled")] == [True] * 5
    with pytest.raises(ConflictError, match="only queued or running runs"):
        request_cancel(gov, runs[0])


def test_cancelling_queued_runs_through_the_api(client, headers, gov, monkeypatch):
    # Setup: the run worker is busy, so the next five runs stay queued
    monkeypatch.setattr(gov.settings, "executor", "inline")
    monkeypatch.setattr(gov.settings, "max_queued_runs_per_requester", 10)
    ds = upload(client, headers["requester"], content=csv_bytes(mixed_table(150)),
                schema=MIXED_SCHEMA.to_yaml(), name="people").json()
    jobs, busy = client.app.state.jobs, threading.Event()
    jobs._pool.submit(busy.wait, 60)
    body = {"dataset": ds["id"], "target": "label", "generators": ["dp_vae"], "epsilons": [5.0]}
    ids = []
    for _ in range(5):
        r = client.post("/v1/runs", json=body, headers=headers["requester"])
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    # Run
    answers = [client.post(f"/v1/runs/{i}/cancel", headers=headers["requester"]) for i in ids]
    busy.set()
    jobs._pool.submit(lambda: None).result(timeout=120)  # the queue has drained
    # Assert
    assert [(a.status_code, a.json()["status"]) for a in answers] == [(202, "cancelled")] * 5
    for run_id in ids:
        run = client.get(f"/v1/runs/{run_id}", headers=headers["requester"]).json()
        assert run["status"] == "cancelled" and run["started_at"] is None
        assert run["candidates"] == []
    assert charges(gov) == [] and events(gov, "run.started") == []
