"""Finding 2a: concurrent approvals raced on PostgreSQL.

Before: approvals arriving together at several server processes each counted the
approvals they could see, so none saw the quorum and the release stayed ``pending`` with
the quorum met; two first approvals both opened a release, and a repeated approval hit
the unique constraint: 500 (``IntegrityError``) instead of 409. Now every decision on a
candidate first locks the candidate's row, so the count and the activation happen under
one lock, and a repeated approval is a 409 naming the decision already made.

Each trial sends 20 approvals from 4 approvers (quorum 3), spread over 8 server
processes, at once, on a fresh candidate.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from governance.services.context import Governance
from governance.store.auditlog import iter_events
from governance.store.models import Candidate, Dataset, Decision, PolicyVersion, Release, Run
from tests.utils.api import make_key
from tests.utils.concurrency import run_together
from tests.utils.scenario import loose_policy

pytestmark = pytest.mark.postgres

QUORUM, APPROVERS, REQUESTS, TRIALS = 3, 4, 20, 20
POLICY = loose_policy("quorum-race", quorum=QUORUM, consumers="quorum-requester")


@pytest.fixture(scope="module")
def world(pg_servers) -> dict[str, Any]:
    """Approver keys, a requester, a dataset and the policy, on the servers' database."""
    gov: Governance = pg_servers.gov
    approvers = [make_key(gov, f"quorum-approver-{i}", "approver") for i in range(APPROVERS)]
    with gov.session() as s:
        s.add(Dataset(id="ds_quorum", name="quorum-race", source_sha256="0" * 64,
                      source_filename="q.csv", artifact_sha256="0" * 64, n_rows=1,
                      schema_yaml="columns: {}", schema_sha256="0" * 64, split_seed=0,
                      split_sha256="0" * 64, budget_epsilon=10, created_by="quorum-requester"))
        s.add(PolicyVersion(sha256="f" * 64, name="quorum-race", text=POLICY))
    return {"gov": gov, "approvers": approvers}


def _candidate(gov: Governance, trial: int) -> str:
    """A fresh evaluated, eligible candidate (the race needs no trained data)."""
    run_id, cand_id = f"run_quorum_{trial}", f"cand_quorum_{trial}"
    with gov.session() as s:
        s.add(Run(id=run_id, dataset_id="ds_quorum", policy_sha256="f" * 64, task_json="{}",
                  grid_json="[]", seed=0, status="succeeded", requested_by="quorum-requester"))
        s.flush()
        s.add(Candidate(id=cand_id, run_id=run_id, idempotency_key=f"{run_id}/fake/1/0",
                        generator="fake", epsilon_target=1.0, seed=0, status="evaluated",
                        eligible=True, artifact_sha256="a" * 64, n_rows=1))
    return cand_id


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for every trial (thread-safe; a connection per concurrent request)."""
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    with httpx.Client(timeout=60, limits=limits) as client:
        yield client


def _approve_all_at_once(http: httpx.Client, urls: list[str], approvers: list[dict[str, str]],
                         cand: str) -> list[tuple[int, int, dict[str, Any]]]:
    """Send REQUESTS approvals together: approver k % 4 to server k % 8."""
    def send(k: int) -> tuple[int, int, dict[str, Any]]:
        url = f"{urls[k % len(urls)]}/v1/candidates/{cand}/decisions"
        r = http.post(url, json={"decision": "approve"}, headers=approvers[k % APPROVERS])
        return k % APPROVERS, r.status_code, r.json()

    return run_together(REQUESTS, send)


@pytest.mark.parametrize("trial", range(TRIALS))
def test_concurrent_approvals_give_exactly_one_release(world, pg_servers, http, trial):
    # Setup
    gov = world["gov"]
    cand = _candidate(gov, trial)
    # Run
    answers = _approve_all_at_once(http, pg_servers.servers.urls, world["approvers"], cand)
    with gov.session() as s:
        releases = s.exec(select(Release).where(Release.candidate_id == cand)).all()
        decisions = s.exec(select(Decision).where(Decision.candidate_id == cand)).all()
        created = [e for e in iter_events(s) if e.kind == "release.created"
                   and json.loads(e.payload)["candidate_id"] == cand]
        status = s.get(Candidate, cand).status
    # Assert: only 201 and 409; the quorum's approvals and no more; one active release.
    codes = sorted(code for _who, code, _body in answers)
    assert set(codes) <= {201, 409}, (answers, pg_servers.servers.tail())
    assert codes.count(201) == QUORUM == len(decisions), answers
    assert [r.status for r in releases] == ["active"] and status == "released"
    assert len(created) == 1 and json.loads(created[0].payload)["candidate_id"] == cand
    for who, code, body in answers:
        assert set(body) >= ({"decision", "approvals"} if code == 201 else {"code", "message"})
        if code == 409 and body["code"] == "already_decided":
            assert body["decision"]["actor"] == f"quorum-approver-{who}"
            assert body["decision"]["decision"] == "approve"
