"""Build a run's report from the store (shared by ``govern report`` and the API)."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from governance.core.errors import NotFoundError
from governance.report import render_run_json, render_run_report
from governance.schemas.runs import candidate_public, run_public
from governance.services.context import Governance
from governance.store.models import Candidate, Run


def run_report_inputs(gov: Governance, run_id: str) -> dict[str, Any]:
    """The run, its full candidates and the plot bytes of a run.

    Raises:
        NotFoundError: no such run.
    """
    with gov.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id!r}")
        cands = list(s.exec(select(Candidate).where(Candidate.run_id == run.id)
                            .order_by(col(Candidate.created_at))).all())
    png = gov.artifacts.get_bytes(run.plot_sha256, ".png") if run.plot_sha256 else None
    return {"run": run_public(run, cands), "candidates": [candidate_public(c) for c in cands],
            "frontier_png": png}


def render_html(gov: Governance, run_id: str) -> str:
    """The self-contained HTML report of a run."""
    return render_run_report(**run_report_inputs(gov, run_id))


def render_json(gov: Governance, run_id: str) -> dict[str, Any]:
    """The machine-readable report of a run."""
    return render_run_json(**run_report_inputs(gov, run_id))
