"""Frontier runs: submit (202), poll, frontier, plot, report, cancel, resume."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from api.deps import MAX_OFFSET, Gov, Jobs, Reader, Requester
from governance.schemas.runs import FrontierPublic, RunPublic, RunsPublic, RunStatusPublic
from governance.services.datasets import read_dataset
from governance.services.policies import load_named_policy
from governance.services.reports import render_html, render_json
from governance.services.runs import read as runs
from governance.services.runs.execute import request_cancel
from governance.services.runs.leases import check_resumable
from governance.services.runs.submit import RunRequest, submit_run

router = APIRouter(prefix="/v1/runs", tags=["runs"])
Epsilon = float | Literal["inf"]
_REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


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
    n_synthetic: int | None = Field(None, ge=50, le=1_000_000)
    # Not a request field: declared (and hidden from the spec) only to refuse it clearly.
    executor: SkipJsonSchema[object] = Field(None, exclude=True)

    @field_validator("executor", mode="before")
    @classmethod
    def _refuse_executor(cls, value: object) -> object:
        raise PydanticCustomError(
            "executor_not_a_request_field",
            "where runs train is server configuration, not a request field: the operator "
            "sets GOVERNANCE_EXECUTOR (and GOVERNANCE_EXECUTORS); remove 'executor' from the "
            "body")


class CancelBody(BaseModel):
    """Cancelling takes no fields; the run's status is the server's to set."""

    model_config = ConfigDict(extra="forbid")


class ResumeBody(BaseModel):
    """Resuming takes no fields; the executor and the lease are the server's."""

    model_config = ConfigDict(extra="forbid")


@router.post("", status_code=202, response_model=RunPublic)
def create_run(body: RunCreate, gov: Gov, key: Requester, jobs: Jobs,
               response: Response) -> RunPublic:
    """Validate and queue a run; poll GET /v1/runs/{id} for progress."""
    read_dataset(gov, body.dataset, key)  # someone else's dataset looks absent (404)
    request = RunRequest(
        dataset=body.dataset, target=body.target, policy=load_named_policy(gov, body.policy),
        generators=body.generators,
        epsilons=[math.inf if e == "inf" else float(e) for e in body.epsilons],
        seed=body.seed, n_synthetic=body.n_synthetic)
    run = submit_run(gov, request, actor=key.name)
    jobs.submit(gov, run.id)
    response.headers["Location"] = f"/v1/runs/{run.id}"
    return runs.read_run(gov, run.id, key)


@router.get("", response_model=RunsPublic)
def list_runs(gov: Gov, key: Reader,
              limit: Annotated[int, Query(ge=1, le=100)] = 50,
              offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> RunsPublic:
    """Runs the caller may see, newest first."""
    return runs.list_runs(gov, key, offset=offset, limit=limit)


@router.get("/{run_id}", response_model=RunPublic)
def read_run(run_id: str, gov: Gov, key: Reader) -> RunPublic:
    """A run's status, progress and candidates."""
    return runs.read_run(gov, run_id, key)


@router.get("/{run_id}/frontier", response_model=FrontierPublic)
def read_frontier(run_id: str, gov: Gov, key: Reader) -> FrontierPublic:
    """The Pareto frontier of a finished run."""
    return runs.read_frontier(gov, run_id, key)


@router.get("/{run_id}/frontier.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def read_frontier_png(run_id: str, gov: Gov, key: Reader) -> Response:
    """The frontier plot as PNG."""
    return Response(runs.frontier_png(gov, run_id, key), media_type="image/png")


@router.get("/{run_id}/report", response_class=Response,
            responses={200: {"content": {"text/html": {}}}})
def read_report(run_id: str, gov: Gov, key: Reader) -> Response:
    """The run's self-contained HTML report."""
    runs.visible_run(gov, run_id, key)
    return Response(render_html(gov, run_id), media_type="text/html",
                    headers={"Content-Security-Policy": _REPORT_CSP})


@router.get("/{run_id}/report.json")
def read_report_json(run_id: str, gov: Gov, key: Reader) -> dict[str, object]:
    """The run's report as JSON."""
    runs.visible_run(gov, run_id, key)
    return render_json(gov, run_id)


@router.post("/{run_id}/cancel", status_code=202, response_model=RunStatusPublic)
def cancel_run(run_id: str, gov: Gov, key: Requester,
               body: CancelBody | None = None) -> RunStatusPublic:
    """Cancel a queued run at once, or stop a running one after the candidate in hand."""
    del body  # accepted only so that server-owned fields in it are refused with 422
    runs.visible_run(gov, run_id, key)
    run = request_cancel(gov, run_id)
    return RunStatusPublic(id=run.id, status=run.status)


@router.post("/{run_id}/resume", status_code=202, response_model=RunStatusPublic)
def resume_run(run_id: str, gov: Gov, key: Requester, jobs: Jobs,
               body: ResumeBody | None = None) -> RunStatusPublic:
    """Resume a run nobody is executing (queued, failed, or its lease expired)."""
    del body  # accepted only so that server-owned fields in it are refused with 422
    runs.visible_run(gov, run_id, key)
    run = check_resumable(gov, run_id)
    jobs.submit(gov, run.id, resumed_by=key.name)
    return RunStatusPublic(id=run.id, status=run.status)
