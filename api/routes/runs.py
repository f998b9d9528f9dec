"""Frontier runs: submit (202), poll, frontier, plot, cancel."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import select

from api.deps import MAX_OFFSET, Gov, Reader, Requester
from governance.core.errors import NotFoundError
from governance.policy.library import policy_path
from governance.services.context import Governance
from governance.services.runs.execute import RunRequest, execute_run, request_cancel, submit_run
from governance.services.views import run_view
from governance.store.models import ApiKey, Run, loads

router = APIRouter(prefix="/v1/runs", tags=["runs"])
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run")
Epsilon = float | Literal["inf"]


class RunCreate(BaseModel):
    """What a requester may set; status, progress and results are the server's."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(min_length=1, max_length=64, description="Dataset id or name.")
    target: str | None = Field(None, min_length=1, max_length=128)
    policy: str = Field("default", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                        description="Name of a policy file in the policies directory.")
    generators: list[str] = Field(["gaussian_copula", "dp_vae"], min_length=1, max_length=10)
    epsilons: list[Epsilon] = Field([1.0, 4.0, "inf"], min_length=1, max_length=10)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    executor: str = Field("local", max_length=128,
                          description="local, inline, or a Dask scheduler tcp://HOST:PORT.")
    n_synthetic: int | None = Field(None, ge=50, le=1_000_000)


class CancelBody(BaseModel):
    """Cancelling takes no fields; the run's status is the server's to set."""

    model_config = ConfigDict(extra="forbid")


def visible(run: Run, key: ApiKey) -> bool:
    """Requesters see their own runs; approvers, auditors and admins see all."""
    return key.role != "requester" or run.requested_by == key.name


def get_visible_run(gov: Governance, run_id: str, key: ApiKey) -> Run:
    """A run the caller may read (others' runs look absent to requesters)."""
    with gov.session() as s:
        run = s.get(Run, run_id)
    if run is None or not visible(run, key):
        raise NotFoundError(f"no run {run_id!r}")
    return run


def _execute(gov: Governance, run_id: str) -> None:
    # execute_run persists progress on the run row itself; GET /v1/runs/{id} reads it.
    try:
        execute_run(gov, run_id)
    except Exception:  # recorded on the run (status failed, error) by execute_run
        pass


@router.post("", status_code=202)
def create_run(body: RunCreate, gov: Gov, key: Requester, response: Response) -> dict[str, Any]:
    """Validate and queue a run; poll GET /v1/runs/{id} for progress."""
    request = RunRequest(
        dataset=body.dataset, target=body.target, policy=policy_path(body.policy),
        generators=body.generators,
        epsilons=[math.inf if e == "inf" else float(e) for e in body.epsilons],
        seed=body.seed, executor=body.executor, n_synthetic=body.n_synthetic)
    run = submit_run(gov, request, actor=key.name)
    _POOL.submit(_execute, gov, run.id)
    response.headers["Location"] = f"/v1/runs/{run.id}"
    with gov.session() as s:
        return run_view(s, s.get(Run, run.id))


@router.get("")
def list_runs(gov: Gov, key: Reader,
              limit: Annotated[int, Query(ge=1, le=100)] = 50,
              offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> dict[str, Any]:
    """Runs the caller may see, newest first."""
    with gov.session() as s:
        q = select(Run).order_by(Run.created_at.desc())  # type: ignore[attr-defined]
        if key.role == "requester":
            q = q.where(Run.requested_by == key.name)
        rows = s.exec(q.offset(offset).limit(limit)).all()
        return {"data": [run_view(s, r, candidates=False) for r in rows], "count": len(rows)}


@router.get("/{run_id}")
def read_run(run_id: str, gov: Gov, key: Reader) -> dict[str, Any]:
    """A run's status, progress and candidates."""
    run = get_visible_run(gov, run_id, key)
    with gov.session() as s:
        return run_view(s, run)


@router.get("/{run_id}/frontier")
def read_frontier(run_id: str, gov: Gov, key: Reader) -> dict[str, Any]:
    """The Pareto frontier of a finished run."""
    run = get_visible_run(gov, run_id, key)
    return {"run_id": run.id, "status": run.status, "frontier": loads(run.frontier_json)}


@router.get("/{run_id}/frontier.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def read_frontier_png(run_id: str, gov: Gov, key: Reader) -> Response:
    """The frontier plot as PNG."""
    run = get_visible_run(gov, run_id, key)
    if not run.plot_sha256:
        raise NotFoundError(f"run {run_id} has no plot yet (status {run.status})")
    return Response(gov.artifacts.get_bytes(run.plot_sha256, ".png"), media_type="image/png")


@router.get("/{run_id}/report", response_class=Response,
            responses={200: {"content": {"text/html": {}}}})
def read_report(run_id: str, gov: Gov, key: Reader) -> Response:
    """The run's self-contained HTML report."""
    from governance.services.reports import render_html

    get_visible_run(gov, run_id, key)
    return Response(render_html(gov, run_id), media_type="text/html",
                    headers={"Content-Security-Policy": "default-src 'none'; img-src data:; "
                             "style-src 'unsafe-inline'"})


@router.get("/{run_id}/report.json")
def read_report_json(run_id: str, gov: Gov, key: Reader) -> dict[str, Any]:
    """The run's report as JSON."""
    from governance.services.reports import render_json

    get_visible_run(gov, run_id, key)
    return render_json(gov, run_id)


@router.post("/{run_id}/cancel", status_code=202)
def cancel_run(run_id: str, gov: Gov, key: Requester,
               body: CancelBody | None = None) -> dict[str, Any]:
    """Ask a run to stop after the candidate in hand."""
    del body  # accepted only so that server-owned fields in it are refused with 422
    get_visible_run(gov, run_id, key)
    run = request_cancel(gov, run_id)
    return {"id": run.id, "status": run.status}
