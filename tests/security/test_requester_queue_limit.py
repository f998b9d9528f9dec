"""Finding 6g: one run worker is shared by all tenants with no per-requester quota.

A requester may now have at most ``GOVERNANCE_MAX_QUEUED_RUNS_PER_REQUESTER`` runs
queued or running; the next is refused with 429 ``too_many_runs`` naming the setting,
other requesters are unaffected, and a cancelled run frees its place. Concurrent
submissions by one requester are counted one after another (SQLite and PostgreSQL).
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlmodel import select

from governance.core.errors import QuotaExceededError
from governance.store.models import Run
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.hostile import assert_error_body, csv_bytes, upload
from tests.utils.runs import register_people, submit


def test_a_fourth_queued_run_is_429_until_one_ends(client, headers, gov, monkeypatch):
    # Setup: the run worker is busy, so submitted runs stay queued
    monkeypatch.setattr(gov.settings, "executor", "inline")
    assert gov.settings.max_queued_runs_per_requester == 3
    jobs, busy = client.app.state.jobs, threading.Event()
    jobs._pool.submit(busy.wait, 60)
    ids = {}
    for who in ("requester", "requester2"):
        r = upload(client, headers[who], content=csv_bytes(mixed_table(120)),
                   schema=MIXED_SCHEMA.to_yaml(), name=f"people-{who}")
        ids[who] = r.json()["id"]

    def post(who: str):
        return client.post("/v1/runs", json={"dataset": ids[who], "target": "label",
                                             "generators": ["gaussian_copula"],
                                             "epsilons": ["inf"]}, headers=headers[who])

    try:
        # Run
        first = [post("requester") for _ in range(3)]
        refused = post("requester")
        someone_else = post("requester2")
        cancel = client.post(f"/v1/runs/{first[0].json()['id']}/cancel",
                             headers=headers["requester"])
        after_cancel = post("requester")
        # Assert
        assert [r.status_code for r in first] == [202, 202, 202]
        body = assert_error_body(refused, 429)
        assert body["code"] == "too_many_runs"
        assert "GOVERNANCE_MAX_QUEUED_RUNS_PER_REQUESTER=3" in body["message"]
        assert someone_else.status_code == 202
        assert cancel.json()["status"] == "cancelled" and after_cancel.status_code == 202
    finally:
        with gov.session() as s:
            queued = [r.id for r in s.exec(select(Run).where(Run.status == "queued")).all()]
        for run_id in queued:  # nothing left to train once the worker is free
            client.post(f"/v1/runs/{run_id}/cancel", headers=headers["admin"])
        busy.set()


def test_concurrent_submissions_by_one_requester_respect_the_limit(any_gov, tmp_path: Path):
    # Setup
    gov = any_gov
    people = register_people(gov, tmp_path)
    barrier, outcomes = threading.Barrier(8), []

    def one() -> None:
        barrier.wait()
        try:
            submit(gov, people, actor="eve")
            outcomes.append("queued")
        except QuotaExceededError:
            outcomes.append("refused")

    threads = [threading.Thread(target=one) for _ in range(8)]
    # Run
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    # Assert
    assert sorted(outcomes) == ["queued"] * 3 + ["refused"] * 5
    with gov.session() as s:
        assert len(s.exec(select(Run).where(Run.requested_by == "eve")).all()) == 3
