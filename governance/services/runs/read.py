"""Reading runs and candidates as a caller may see them."""

from __future__ import annotations

from sqlmodel import col, select

from governance.core.errors import NotFoundError
from governance.core.types import Principal
from governance.schemas.releases import DecisionPublic, ReleasePublic
from governance.schemas.runs import (
    CandidateDetail,
    FrontierPublic,
    RunPublic,
    RunsPublic,
    candidate_public,
    run_public,
)
from governance.services.context import Governance
from governance.services.permissions import check_run_visible, sees_every_run
from governance.services.releases import get_candidate, release_for_candidate
from governance.store.models import Candidate, Decision, Run


def visible_run(gov: Governance, run_id: str, key: Principal) -> Run:
    """A run the caller may read (others' runs look absent to requesters).

    Raises:
        NotFoundError: no such run, or not visible to the caller.
    """
    with gov.session() as s:
        return check_run_visible(key, s.get(Run, run_id), run_id)


def read_run(gov: Governance, run_id: str, key: Principal) -> RunPublic:
    """A run's status, progress and candidates, if the caller may see it."""
    return run_detail(gov, visible_run(gov, run_id, key).id)


def run_detail(gov: Governance, run_id: str) -> RunPublic:
    """A run's status, progress and candidates (for the local operator's CLI).

    Raises:
        NotFoundError: no such run.
    """
    with gov.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id!r}")
        cands = list(s.exec(select(Candidate).where(Candidate.run_id == run.id)
                            .order_by(col(Candidate.created_at))).all())
    return run_public(run, cands)


def list_runs(gov: Governance, key: Principal, *, offset: int, limit: int) -> RunsPublic:
    """Runs the caller may see, newest first, one page."""
    with gov.session() as s:
        q = select(Run).order_by(col(Run.created_at).desc())
        if not sees_every_run(key):
            q = q.where(Run.requested_by == key.name)
        rows = s.exec(q.offset(offset).limit(limit)).all()
    data = [run_public(r) for r in rows]
    return RunsPublic(data=data, count=len(data))


def read_frontier(gov: Governance, run_id: str, key: Principal) -> FrontierPublic:
    """The Pareto frontier of a run (``None`` until it has finished)."""
    run = run_public(visible_run(gov, run_id, key))
    return FrontierPublic(run_id=run.id, status=run.status, frontier=run.frontier)


def frontier_png(gov: Governance, run_id: str, key: Principal) -> bytes:
    """The frontier plot as PNG bytes.

    Raises:
        NotFoundError: no such run, or no plot yet.
    """
    run = visible_run(gov, run_id, key)
    if not run.plot_sha256:
        raise NotFoundError(f"run {run_id} has no plot yet (status {run.status})")
    return gov.artifacts.get_bytes(run.plot_sha256, ".png")


def read_candidate(gov: Governance, candidate_id: str, key: Principal) -> CandidateDetail:
    """A candidate with its records, decisions and release, if its run is visible."""
    with gov.session() as s:
        cand = get_candidate(s, candidate_id)
    visible_run(gov, cand.run_id, key)
    with gov.session() as s:
        decisions = [DecisionPublic.from_row(d) for d in s.exec(
            select(Decision).where(Decision.candidate_id == cand.id)).all()]
        rel = release_for_candidate(s, cand.id)
    full = candidate_public(cand)
    return CandidateDetail(**dict(full), decisions=decisions,
                           release=ReleasePublic.from_row(rel) if rel else None)
