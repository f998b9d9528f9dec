"""``govern run``, ``resume``, ``frontier`` and ``report``: frontier runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from governance.cli.common import open_governance, parse_epsilons
from governance.cli.output import JsonOpt, emit_json, err, out, print_run, progress_bar
from governance.schemas.runs import FrontierPublic
from governance.services.reports import render_html, render_json
from governance.services.runs.execute import execute_run
from governance.services.runs.leases import check_resumable
from governance.services.runs.read import run_detail
from governance.services.runs.submit import RunRequest, submit_run


def run_cmd(
    dataset: Annotated[str, typer.Argument(help="Dataset id or name.")],
    target: Annotated[str | None,
                      typer.Option(help="Column the downstream model predicts.")] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy YAML.")] = None,
    generators: Annotated[str, typer.Option(help="Comma-separated generators.")] = (
        "gaussian_copula,dp_vae"),
    epsilons: Annotated[str, typer.Option(
        help="Comma-separated budgets; inf = non-private.")] = "1,4,inf",
    seed: Annotated[int, typer.Option(help="Run seed.")] = 0,
    executor: Annotated[str | None, typer.Option(
        help="Name of an executor the operator configured (local, inline, or one in "
             "GOVERNANCE_EXECUTORS); default GOVERNANCE_EXECUTOR.")] = None,
    n_synthetic: Annotated[int | None, typer.Option(
        help="Rows per candidate (default: train size).")] = None,
    as_: Annotated[str, typer.Option("--as", help="Requester name.")] = "cli",
    json_: JsonOpt = False,
) -> None:
    """Run a frontier: generate, attack and evaluate candidates; record everything."""
    gov = open_governance()
    req = RunRequest(dataset=dataset, target=target, policy=policy,
                     generators=[g.strip() for g in generators.split(",") if g.strip()],
                     epsilons=parse_epsilons(epsilons), seed=seed, executor=executor,
                     n_synthetic=n_synthetic)
    run = submit_run(gov, req, actor=as_)
    err.print(f"run {run.id} submitted")
    with progress_bar(f"run {run.id}") as update:
        execute_run(gov, run.id, progress=update)
    report_run(run.id, json_=json_)


def resume_cmd(run_id: Annotated[str, typer.Argument(help="A run that was interrupted.")],
               json_: JsonOpt = False) -> None:
    """Resume an interrupted run: finished candidates are neither retrained nor recharged."""
    gov = open_governance()
    check_resumable(gov, run_id, ended_ok=True)  # refused at once when another process holds it
    with progress_bar(f"run {run_id}") as update:
        execute_run(gov, run_id, progress=update)
    report_run(run_id, json_=json_)


def report_run(run_id: str, *, json_: bool) -> None:
    """Print a run's table (or its JSON document) and where its plot is."""
    gov = open_governance()
    view = run_detail(gov, run_id)
    if json_:
        emit_json(view)
        return
    print_run(view)
    if view.plot_sha256:
        out.print(f"frontier plot: {gov.artifacts.path(view.plot_sha256, '.png')}")


def frontier_cmd(run_id: Annotated[str, typer.Argument()], json_: JsonOpt = False) -> None:
    """Show a run's frontier and where its plot is."""
    if not json_:
        report_run(run_id, json_=False)
        return
    gov = open_governance()
    view = run_detail(gov, run_id)
    doc: dict[str, Any] = FrontierPublic(run_id=view.id, status=view.status,
                                         frontier=view.frontier).as_dict()
    doc["plot_path"] = (str(gov.artifacts.path(view.plot_sha256, ".png"))
                        if view.plot_sha256 else None)
    emit_json(doc)


def report_cmd(run_id: Annotated[str, typer.Argument()],
               out_file: Annotated[Path | None, typer.Option(
                   "--out", help="HTML file (default: <home>/reports/<run>.html).")] = None,
               json_: JsonOpt = False) -> None:
    """Write a self-contained HTML report of a run (plots inside; no network needed)."""
    gov = open_governance()
    if json_:
        emit_json(render_json(gov, run_id))
        return
    html = render_html(gov, run_id)
    path = out_file or gov.settings.home / "reports" / f"{run_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    out.print(f"report: {path}")


def register(app: typer.Typer) -> None:
    """Add the run commands to the top-level app."""
    app.command("run")(run_cmd)
    app.command("resume")(resume_cmd)
    app.command("frontier")(frontier_cmd)
    app.command("report")(report_cmd)
