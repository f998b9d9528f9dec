"""Build a run's report from the store (shared by ``govern report`` and the API)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from governance.core.errors import NotFoundError
from governance.services.context import Governance
from governance.services.views import candidate_view, run_view
from governance.store.models import Candidate, Run


def run_report_inputs(gov: Governance, run_id: str) -> dict[str, Any]:
    """The run view, full candidate views and plot bytes of a run.

    Raises:
        NotFoundError: no such run.
    """
    with gov.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id!r}")
        view = run_view(s, run)
        cands = [candidate_view(c) for c in s.exec(
            select(Candidate).where(Candidate.run_id == run.id).order_by(Candidate.created_at))]
    png = gov.artifacts.get_bytes(run.plot_sha256, ".png") if run.plot_sha256 else None
    return {"run": view, "candidates": cands, "frontier_png": png}


def render_html(gov: Governance, run_id: str) -> str:
    """The self-contained HTML report of a run."""
    from governance.report import render_run_report

    return render_run_report(**run_report_inputs(gov, run_id))


def render_json(gov: Governance, run_id: str) -> dict[str, Any]:
    """The machine-readable report of a run."""
    from governance.report import render_run_json

    return render_run_json(**run_report_inputs(gov, run_id))
