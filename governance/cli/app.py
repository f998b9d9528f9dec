"""The ``govern`` command: a thin layer over the runner, the ledger and the store.

Every command that reports something takes ``--json`` and then prints exactly one
JSON document on stdout; progress and messages go to stderr. Errors the user can fix
print one line and exit 2; ``govern audit verify`` exits 1 when the log was altered.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from governance.cli.output import emit_json, err, fmt, out, progress_bar, table
from governance.core.errors import GovernanceError, InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Privacy-aware governance for synthetic tabular data.")
datasets_app = typer.Typer(no_args_is_help=True, help="Register and list source tables.")
audit_app = typer.Typer(no_args_is_help=True, help="Verify and export the audit log.")
keys_app = typer.Typer(no_args_is_help=True, help="Create and revoke API keys.")
policy_app = typer.Typer(no_args_is_help=True, help="Check policy files.")
app.add_typer(datasets_app, name="datasets")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _gov() -> Any:
    from governance.services.context import Governance

    return Governance.open()


def parse_epsilons(text: str) -> list[float]:
    """Parse ``"1,4,inf"`` into floats.

    Raises:
        InputError: naming the bad item.
    """
    values = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        try:
            value = math.inf if item.lower() in ("inf", "infinity") else float(item)
        except ValueError:
            raise InputError(f"--epsilons: {item!r} is not a number; use e.g. 1,4,inf") from None
        if not value > 0:
            raise InputError(f"--epsilons: {item!r} must be positive (or inf)")
        values.append(value)
    return values


def _key(session: Any, name: str) -> Any:
    from sqlmodel import select

    from governance.core.errors import NotFoundError
    from governance.store.models import ApiKey

    key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None or key.revoked_at is not None:
        raise NotFoundError(f"no live API key named {name!r}; create one with "
                            f"`govern keys create {name} --role approver`")
    return key


# ---------------------------------------------------------------- datasets
@datasets_app.command("add")
def datasets_add(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file.")],
    schema: Annotated[Path | None, typer.Option(help="Schema YAML with public domains.")] = None,
    infer_schema: Annotated[bool, typer.Option(
        "--infer-schema", help="Draft the schema from the data (marked NOT private).")] = False,
    name: Annotated[str | None, typer.Option(help="Dataset name (default: file stem).")] = None,
    split_seed: Annotated[int, typer.Option(help="Seed of the train/holdout/eval split.")] = 0,
    as_: Annotated[str, typer.Option("--as", help="Who registers it.")] = "cli",
    json_: JsonOpt = False,
) -> None:
    """Register a source table; prints its dataset id."""
    from governance.services.datasets import register_dataset
    from governance.services.views import dataset_view

    if schema is not None and infer_schema:
        raise InputError("give either --schema or --infer-schema, not both")
    ds = register_dataset(_gov(), path=file, schema=schema, infer=infer_schema, name=name,
                          split_seed=split_seed, actor=as_)
    if ds.data_derived_schema:
        err.print("[yellow]warning:[/] the schema was inferred from the data: its bounds and "
                  "categories are NOT public, so DP candidates built on it are not private.")
    if json_:
        emit_json(dataset_view(ds))
    else:
        out.print(ds.id)


@datasets_app.command("list")
def datasets_list(json_: JsonOpt = False) -> None:
    """List registered datasets."""
    from sqlmodel import select

    from governance.services.views import dataset_view
    from governance.store.models import Dataset

    gov = _gov()
    with gov.session() as s:
        rows = [dataset_view(d) for d in s.exec(select(Dataset)).all()]
    if json_:
        emit_json(rows)
        return
    out.print(table("datasets", ["id", "name", "rows", "source sha256", "schema"],
                    [[r["id"], r["name"], r["n_rows"], r["source_sha256"][:16],
                      "data-derived" if r["data_derived_schema"] else "public"] for r in rows]))


# ---------------------------------------------------------------- runs
@app.command("run")
def run_cmd(
    dataset: Annotated[str, typer.Argument(help="Dataset id or name.")],
    target: Annotated[str | None, typer.Option(help="Column the downstream model predicts.")] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy YAML.")] = None,
    generators: Annotated[str, typer.Option(help="Comma-separated generators.")] = "gaussian_copula,dp_vae",
    epsilons: Annotated[str, typer.Option(help="Comma-separated budgets; inf = non-private.")] = "1,4,inf",
    seed: Annotated[int, typer.Option(help="Run seed.")] = 0,
    executor: Annotated[str, typer.Option(help="local, inline, or tcp://HOST:PORT (Dask).")] = "local",
    n_synthetic: Annotated[int | None, typer.Option(help="Rows per candidate (default: train size).")] = None,
    as_: Annotated[str, typer.Option("--as", help="Requester name.")] = "cli",
    json_: JsonOpt = False,
) -> None:
    """Run a frontier: generate, attack and evaluate candidates; record everything."""
    run = _run(dataset=dataset, target=target, policy=policy, generators=generators,
               epsilons=epsilons, seed=seed, executor=executor, n_synthetic=n_synthetic,
               actor=as_)
    _report_run(run.id, json_=json_)


@app.command("resume")
def resume_cmd(run_id: Annotated[str, typer.Argument(help="A run that was interrupted.")],
               json_: JsonOpt = False) -> None:
    """Resume an interrupted run: finished candidates are neither retrained nor recharged."""
    from governance.services.runs.execute import execute_run

    gov = _gov()
    with progress_bar(f"run {run_id}") as update:
        execute_run(gov, run_id, progress=update)
    _report_run(run_id, json_=json_)


def _run(*, dataset: str, target: str | None, policy: Path | None, generators: str,
         epsilons: str, seed: int, executor: str, n_synthetic: int | None, actor: str,
         generator_options: dict[str, dict[str, Any]] | None = None) -> Any:
    from governance.services.runs.execute import RunRequest, execute_run, submit_run

    gov = _gov()
    req = RunRequest(dataset=dataset, target=target, policy=policy,
                     generators=[g.strip() for g in generators.split(",") if g.strip()],
                     epsilons=parse_epsilons(epsilons), seed=seed, executor=executor,
                     n_synthetic=n_synthetic, generator_options=generator_options or {})
    run = submit_run(gov, req, actor=actor)
    err.print(f"run {run.id} submitted")
    with progress_bar(f"run {run.id}") as update:
        return execute_run(gov, run.id, progress=update)


def _report_run(run_id: str, *, json_: bool) -> None:
    from governance.services.views import run_view
    from governance.store.models import Run

    gov = _gov()
    with gov.session() as s:
        run = s.get(Run, run_id)
        view = run_view(s, run)
    if json_:
        emit_json(view)
        return
    print_run(view)
    if run.plot_sha256:
        out.print(f"frontier plot: {gov.artifacts.path(run.plot_sha256, '.png')}")


def print_run(view: dict[str, Any]) -> None:
    """Print a run's candidate table and its real-only control."""
    control = view.get("control") or {}
    task = view.get("task") or {}
    pareto = set((view.get("frontier") or {}).get("pareto", []))
    rows = []
    for c in view.get("candidates", []):
        s = c["summary"]
        rows.append([c["id"], c["generator"], c["epsilon_target"], c["epsilon_spent"],
                     s["worst_attack_auc"], s["worst_epsilon_lb"], s["tstr"], s["utility_ratio"],
                     c["id"] in pareto, c["eligible"] if c["status"] != "failed" else "failed",
                     ", ".join(s["clauses"]) or (c["error"] or "")])
    out.print(table(
        f"run {view['id']} — target {task.get('target')} ({task.get('kind')}, "
        f"{task.get('metric')}); real-only control {fmt(control.get('primary'))}",
        ["candidate", "generator", "ε target", "ε spent", "attack AUC", "ε lower bnd",
         "TSTR", "ratio", "Pareto", "eligible", "violated clauses"], rows))
    if rows:
        dup = next((c["summary"]["duplicate_rate"] for c in view["candidates"]
                    if c["summary"]["duplicate_rate"] is not None), None)
        if dup:
            out.print(f"note: {dup:.1%} of the attacked non-member rows have an exact duplicate "
                      "among the members; no membership attack can separate those rows, which "
                      "caps every attack's AUC.")


@app.command("frontier")
def frontier_cmd(run_id: Annotated[str, typer.Argument()], json_: JsonOpt = False) -> None:
    """Show a run's frontier and where its plot is."""
    from governance.core.errors import NotFoundError
    from governance.store.models import Run, loads

    gov = _gov()
    with gov.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id!r}")
    doc = {"run_id": run.id, "status": run.status, "frontier": loads(run.frontier_json),
           "plot_path": str(gov.artifacts.path(run.plot_sha256, ".png")) if run.plot_sha256 else None}
    if json_:
        emit_json(doc)
    else:
        _report_run(run_id, json_=False)


@app.command("report")
def report_cmd(run_id: Annotated[str, typer.Argument()],
               out_file: Annotated[Path | None, typer.Option(
                   "--out", help="HTML file (default: <home>/reports/<run>.html).")] = None,
               json_: JsonOpt = False) -> None:
    """Write a self-contained HTML report of a run (plots inside; no network needed)."""
    from governance.services.reports import render_html, render_json

    gov = _gov()
    if json_:
        emit_json(render_json(gov, run_id))
        return
    html = render_html(gov, run_id)
    path = out_file or gov.settings.home / "reports" / f"{run_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    out.print(f"report: {path}")


# ---------------------------------------------------------------- decisions
def _decide(candidate: str, actor: str, decision: str, reason: str, json_: bool) -> None:
    from governance.services.releases import record_decision
    from governance.services.views import decision_view, release_view

    gov = _gov()
    with gov.session() as s:
        outcome = record_decision(session=s, candidate_id=candidate, actor=_key(s, actor),
                                  decision=decision, reason=reason)
        doc = {"decision": decision_view(outcome.decision), "approvals": outcome.approvals,
               "quorum": outcome.quorum,
               "release": release_view(outcome.release) if outcome.release else None,
               "pending_release": release_view(outcome.pending_release)
               if outcome.pending_release else None}
    if json_:
        emit_json(doc)
    elif doc["release"]:
        out.print(f"{decision}d; quorum reached: release {doc['release']['id']}")
    else:
        out.print(f"{decision}d ({doc['approvals']} of {doc['quorum']} approvals)")


@app.command("approve")
def approve(candidate: Annotated[str, typer.Argument()],
            as_: Annotated[str, typer.Option("--as", help="Approver's API key name.")],
            reason: str = "", json_: JsonOpt = False) -> None:
    """Approve a candidate as the named approver."""
    _decide(candidate, as_, "approve", reason, json_)


@app.command("reject")
def reject(candidate: Annotated[str, typer.Argument()],
           as_: Annotated[str, typer.Option("--as", help="Approver's API key name.")],
           reason: str = "", json_: JsonOpt = False) -> None:
    """Reject a candidate as the named approver."""
    _decide(candidate, as_, "reject", reason, json_)


@app.command("revoke")
def revoke(release: Annotated[str, typer.Argument()],
           as_: Annotated[str, typer.Option("--as", help="Approver's or admin's key name.")],
           reason: Annotated[str, typer.Option(help="Shown to consumers.")],
           json_: JsonOpt = False) -> None:
    """Revoke a release; later downloads get 410 with the reason."""
    from governance.services.releases import revoke_release
    from governance.services.views import release_view

    gov = _gov()
    with gov.session() as s:
        rel = revoke_release(session=s, release_id=release, actor=_key(s, as_), reason=reason)
        doc = release_view(rel)
    emit_json(doc) if json_ else out.print(f"release {release} revoked")


# ---------------------------------------------------------------- audit
@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[Path | None, typer.Option(help="Signed checkpoint file.")] = None,
    bundle: Annotated[Path | None, typer.Option(help="Verify an exported bundle offline.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Verify the hash chain; exit 1 naming the first bad event."""
    from governance.audit.chain import check_checkpoint
    from governance.services.bundles import verify_bundle
    from governance.store.auditlog import iter_events, verify_log

    if bundle is not None:
        problems = verify_bundle(bundle)
        doc: dict[str, Any] = {"ok": not problems, "bundle": str(bundle), "problems": problems}
    else:
        gov = _gov()
        with gov.session() as s:
            doc = verify_log(s).as_dict()
            if checkpoint is not None and doc["ok"]:
                cp = _read_json(checkpoint)
                reason = check_checkpoint(cp, key=gov.settings.checkpoint_key,
                                          events=list(iter_events(s)))
                if reason:
                    doc.update(ok=False, reason=reason)
                doc["checkpoint"] = str(checkpoint)
    if json_:
        emit_json(doc)
    elif doc["ok"]:
        out.print(f"audit log intact: {doc.get('checked', '')} events verified"
                  if bundle is None else f"bundle {bundle} verifies")
    else:
        msg = doc.get("reason") or "; ".join(doc.get("problems", []))
        err.print(f"[red]audit verification FAILED:[/] {msg}")
    raise typer.Exit(0 if doc["ok"] else 1)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read JSON from {path}: {exc}") from None


@audit_app.command("checkpoint")
def audit_checkpoint(out_file: Annotated[Path, typer.Option("--out", help="Where to write it.")],
                     json_: JsonOpt = False) -> None:
    """Write a signed checkpoint of the log's size and head hash (keep it elsewhere)."""
    from governance.audit.chain import sign_checkpoint
    from governance.store.auditlog import verify_log

    gov = _gov()
    with gov.session() as s:
        rep = verify_log(s)
    if not rep.ok:
        raise GovernanceError(f"refusing to checkpoint a broken log: {rep.reason}",
                              code="integrity_error")
    cp = sign_checkpoint(tree_size=rep.head_seq, head_hash=rep.head_hash,
                         key=gov.settings.checkpoint_key)
    out_file.write_text(json.dumps(cp, indent=2) + "\n")
    emit_json(cp) if json_ else out.print(f"checkpoint of {rep.head_seq} events -> {out_file}")


@audit_app.command("export")
def audit_export(ref: Annotated[str, typer.Argument(help="Release or run id.")],
                 out_dir: Annotated[Path | None, typer.Option("--out", help="Bundle folder.")] = None,
                 json_: JsonOpt = False) -> None:
    """Write an audit bundle to audits/<id>/."""
    from governance.services.bundles import export_bundle

    gov = _gov()
    path = export_bundle(gov, ref, out_dir=out_dir)
    emit_json({"bundle": str(path)}) if json_ else out.print(f"audit bundle: {path}")


@app.command("lineage")
def lineage_cmd(ref: Annotated[str, typer.Argument(help="Release, candidate, run or dataset id.")],
                json_: JsonOpt = False) -> None:
    """Trace an object back to its source table, policy and generator."""
    from governance.services.lineage import lineage

    gov = _gov()
    with gov.session() as s:
        doc = lineage(s, ref)
    if json_:
        emit_json(doc)
        return
    ds = doc["dataset"]
    out.print(f"source  {ds['source_filename']} sha256={ds['source_sha256']} ({ds['n_rows']} rows)")
    out.print(f"split   seed={ds['split']['seed']} sha256={ds['split']['sha256']}")
    if "run" in doc:
        out.print(f"policy  {doc['policy']['name']} sha256={doc['policy']['sha256']}")
        out.print(f"run     {doc['run']['id']} seed={doc['run']['seed']} by {doc['run']['requested_by']}")
    if "candidate" in doc:
        c = doc["candidate"]
        out.print(f"cand    {c['id']} {c['generator']} seed={c['seed']} ε spent={fmt(c['epsilon_spent'])} "
                  f"artifact sha256={c['artifact_sha256']}")
        for d in doc["decisions"]:
            out.print(f"        {d['decision']} by {d['actor']} ({d['role']})")
    if "release" in doc:
        out.print(f"release {doc['release']['id']} {doc['release']['status']}")
    out.print(f"events  {len(doc['events'])} ({len(doc['access'])} accesses)")


@app.command("budget")
def budget_cmd(dataset: Annotated[str, typer.Argument()],
               policy: Annotated[Path | None, typer.Option(help="Policy YAML for the limit.")] = None,
               json_: JsonOpt = False) -> None:
    """Show a dataset's privacy-budget ledger."""
    from governance.policy.loader import load_policy
    from governance.services.budget import summarize
    from governance.services.datasets import get_dataset
    from governance.services.runs.execute import default_policy_path

    pol = load_policy(policy or default_policy_path()).policy
    gov = _gov()
    with gov.session() as s:
        ds = get_dataset(s, dataset)
        summ = summarize(s, dataset_id=ds.id)
    doc = {"dataset_id": ds.id, "name": ds.name, "epsilon_spent": summ.epsilon_spent,
           "delta_spent": summ.delta_spent, "charges": summ.charges,
           "composition": summ.composition, "policy": pol.name,
           "max_total_epsilon": pol.risk.max_total_epsilon,
           "epsilon_left": max(0.0, pol.risk.max_total_epsilon - summ.epsilon_spent)}
    if json_:
        emit_json(doc)
    else:
        out.print(f"{ds.name}: ε spent {summ.epsilon_spent:.4g} of {pol.risk.max_total_epsilon:g} "
                  f"({doc['epsilon_left']:.4g} left; {summ.charges} charges; {summ.composition})")


# ---------------------------------------------------------------- keys, policy, serve
@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Argument()],
                role: Annotated[str, typer.Option(help="requester, approver, auditor or admin.")],
                json_: JsonOpt = False) -> None:
    """Create an API key; the secret is printed once and only its hash is stored."""
    from governance.services.auth import create_api_key

    gov = _gov()
    with gov.session() as s:
        key, secret = create_api_key(session=s, name=name, role=role, actor="cli")
    if json_:
        emit_json({"id": key.id, "name": key.name, "role": key.role, "key": secret})
    else:
        err.print(f"API key {name!r} ({role}); store it now, it is not shown again:")
        out.print(secret)


@policy_app.command("check")
def policy_check(file: Annotated[Path, typer.Argument()], json_: JsonOpt = False) -> None:
    """Report every problem in a policy file, with YAML line numbers."""
    from governance.policy.loader import check_policy

    problems = check_policy(file)
    if json_:
        emit_json({"file": str(file), "ok": not problems, "problems": problems})
    elif problems:
        for p in problems:
            err.print(p)
    else:
        out.print(f"{file}: ok")
    raise typer.Exit(0 if not problems else 2)


@policy_app.command("reevaluate")
def policy_reevaluate(file: Annotated[Path, typer.Argument(help="The new policy version.")],
                      as_: Annotated[str, typer.Option("--as", help="Who applies it.")] = "cli",
                      json_: JsonOpt = False) -> None:
    """Re-judge open candidates and active releases under a new version of a policy.

    Releases that no longer comply are flagged for review, never revoked.
    """
    from governance.policy.loader import load_policy
    from governance.services.reevaluate import reevaluate

    report = reevaluate(_gov(), policy=load_policy(file), actor=as_)
    doc = report.as_dict()
    if json_:
        emit_json(doc)
    else:
        out.print(f"{len(report.changes)} candidate(s) re-judged, {len(report.flagged)} "
                  f"release(s) flagged for review, {len(report.newly_ineligible)} newly "
                  "ineligible")


@policy_app.command("schema")
def policy_schema() -> None:
    """Print the policy format as JSON Schema (for editors)."""
    from governance.policy.loader import policy_json_schema

    emit_json(policy_json_schema())


@app.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Start the HTTP API (uvicorn)."""
    import uvicorn

    uvicorn.run("api.main:app", host=host, port=port)


@app.command("demo")
def demo(
    generators: Annotated[str, typer.Option(help="Comma-separated generators.")] = "gaussian_copula,dp_vae",
    epsilons: Annotated[str, typer.Option(help="Comma-separated budgets.")] = "1,4,inf",
    rows: Annotated[int | None, typer.Option(help="Use a seeded sample of this many rows.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Run the whole chain on the bundled RAND HIE table and export an audit bundle."""
    from governance.services.demo import run_demo

    doc = run_demo(generators=generators, epsilons=parse_epsilons(epsilons), rows=rows,
                   progress_factory=progress_bar, quiet=json_)
    if json_:
        emit_json(doc)


def main() -> None:
    """Entry point: run the app, turning domain errors into one line and exit code 2."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except GovernanceError as exc:
        err.print(f"[red]error:[/] {exc.message}")
        if "--json" in sys.argv:
            emit_json({"error": {"code": exc.code, "message": exc.message}})
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in standalone_mode=False
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        if os.environ.get("GOVERNANCE_DEBUG"):
            raise
        err.print(f"[red]internal error:[/] {type(exc).__name__}: {exc} (this is a bug; rerun "
                  "with GOVERNANCE_DEBUG=1 for the traceback and report it)")
        sys.exit(1)
