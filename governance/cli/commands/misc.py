"""``govern budget``, ``keys``, ``policy``, ``serve`` and ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from governance.cli.common import (
    AsRefused,
    KeyFileOpt,
    acting_key,
    open_governance,
    parse_epsilons,
    refuse_as,
)
from governance.cli.output import JsonOpt, emit_json, err, out, print_run, progress_bar
from governance.core.types import Role
from governance.schemas.datasets import BudgetPublic
from governance.schemas.keys import ApiKeyCreated, ApiKeyPublic, ApiKeysPublic
from governance.services import permissions
from governance.services.auth import (
    create_api_key,
    has_live_admin,
    list_api_keys,
    revoke_api_key,
)
from governance.services.budget import budget_public, set_budget
from governance.services.demo import run_demo
from governance.services.policies import (
    check_policy,
    describe_schema,
    load_policy,
)
from governance.services.reevaluate import reevaluate

budget_app = typer.Typer(no_args_is_help=True, help="Show and set datasets' privacy budgets.")
keys_app = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")
policy_app = typer.Typer(no_args_is_help=True, help="Check policy files.")


def _print_budget(doc: BudgetPublic, json_: bool) -> None:
    if json_:
        emit_json(doc)
    else:
        out.print(f"{doc.name}: ε spent {doc.epsilon_spent:.4g} and reserved "
                  f"{doc.epsilon_reserved:.4g} of {doc.epsilon_budget:g} "
                  f"({doc.epsilon_left:.4g} left; {doc.charges} charges; {doc.composition})")


@budget_app.command("show")
def budget_show(dataset: Annotated[str, typer.Argument(help="Dataset id or name.")],
                json_: JsonOpt = False) -> None:
    """Show a dataset's privacy budget: spent, reserved by queued runs, and left."""
    _print_budget(budget_public(open_governance(), dataset), json_)


@budget_app.command("set")
def budget_set(dataset: Annotated[str, typer.Argument(help="Dataset id or name.")],
               epsilon: Annotated[float, typer.Option(help="The dataset's total epsilon.")],
               key_file: KeyFileOpt = None, as_: AsRefused = None,
               json_: JsonOpt = False) -> None:
    """Set a dataset's privacy budget (its owner or an admin), as an API key's holder."""
    refuse_as(as_)
    gov = open_governance()
    with gov.session() as s:
        actor = acting_key(s, key_file, permissions.REGISTER_DATASETS)
    _print_budget(set_budget(gov, dataset=dataset, epsilon=epsilon, actor=actor), json_)


def _admin_or_bootstrap(s: Session, key_file: Path | None, role: str) -> str:
    """Who creates a key: an admin key's holder, or nobody yet for the very first admin."""
    if role == Role.ADMIN.value and not has_live_admin(session=s):
        return "bootstrap"
    return acting_key(s, key_file, permissions.MANAGE_KEYS).name


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Argument()],
                role: Annotated[str, typer.Option(help="requester, approver, auditor or admin.")],
                key_file: KeyFileOpt = None, json_: JsonOpt = False) -> None:
    """Create an API key (as an admin; the first admin key needs none).

    The secret is printed once and only its hash is stored.
    """
    gov = open_governance()
    with gov.session() as s:
        actor = _admin_or_bootstrap(s, key_file, role)
        key, secret = create_api_key(session=s, name=name, role=role, actor=actor)
    if json_:
        emit_json(ApiKeyCreated(**ApiKeyPublic.from_row(key).model_dump(), key=secret))
    else:
        err.print(f"API key {name!r} ({role}); store it now, it is not shown again:",
                  markup=False)
        out.print(secret, markup=False)


@keys_app.command("list")
def keys_list(key_file: KeyFileOpt = None, json_: JsonOpt = False) -> None:
    """List every API key, live and revoked (as an admin)."""
    gov = open_governance()
    with gov.session() as s:
        acting_key(s, key_file, permissions.MANAGE_KEYS)
        rows = [ApiKeyPublic.from_row(k) for k in list_api_keys(session=s)]
    if json_:
        emit_json(ApiKeysPublic(data=rows, count=len(rows)))
        return
    for k in rows:
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "live"
        out.print(f"{k.name:<24} {k.role:<10} {k.prefix}...  {state}", markup=False)


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument()], key_file: KeyFileOpt = None,
                json_: JsonOpt = False) -> None:
    """Revoke an API key (as an admin); it gets 401 from its next request on."""
    gov = open_governance()
    with gov.session() as s:
        actor = acting_key(s, key_file, permissions.MANAGE_KEYS)
        doc = ApiKeyPublic.from_row(revoke_api_key(session=s, name=name, actor=actor.name))
    emit_json(doc) if json_ else out.print(f"API key {name!r} revoked", markup=False)


@policy_app.command("check")
def policy_check(file: Annotated[Path, typer.Argument()], json_: JsonOpt = False) -> None:
    """Report every problem in a policy file, with YAML line numbers."""
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
                      key_file: KeyFileOpt = None, as_: AsRefused = None,
                      json_: JsonOpt = False) -> None:
    """Re-judge open candidates and active releases under a new version of a policy.

    Acts as the holder of your API key (approver or admin). Releases that no longer
    comply are flagged for review, never revoked.
    """
    refuse_as(as_)
    gov = open_governance()
    with gov.session() as s:
        actor = acting_key(s, key_file, permissions.DECIDE)
    report = reevaluate(gov, policy=load_policy(file), actor=actor.name)
    if json_:
        emit_json(report.as_dict())
    else:
        out.print(f"{len(report.changes)} candidate(s) re-judged, {len(report.flagged)} "
                  f"release(s) flagged for review, {len(report.newly_ineligible)} newly "
                  "ineligible")


@policy_app.command("schema")
def policy_schema() -> None:
    """Print the policy format as JSON Schema (for editors)."""
    emit_json(describe_schema())


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Start the HTTP API (uvicorn)."""
    import uvicorn  # only this command needs the server

    uvicorn.run("api.main:app", host=host, port=port)


def demo(
    generators: Annotated[str, typer.Option(help="Comma-separated generators.")] = (
        "gaussian_copula,dp_vae"),
    epsilons: Annotated[str, typer.Option(help="Comma-separated budgets.")] = "1,4,inf",
    rows: Annotated[int | None, typer.Option(help="Use a seeded sample of this many rows.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Run the whole chain on the bundled RAND HIE table and export an audit bundle."""
    outcome = run_demo(open_governance(), generators=generators,
                       epsilons=parse_epsilons(epsilons), rows=rows, progress=progress_bar,
                       say=(lambda _line: None) if json_ else err.print)
    if json_:
        emit_json(outcome.as_dict())
        return
    print_run(outcome.run)
    out.print(f"frontier plot: {outcome.plot}")
    out.print(f"audit bundle:  {outcome.bundle}")
    out.print(f"audit log:     {'intact' if outcome.audit_chain_ok else 'BROKEN'} "
              f"({outcome.audit_events} events)")


def register(app: typer.Typer) -> None:
    """Add these commands and groups to the top-level app."""
    app.add_typer(budget_app, name="budget")
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.add_typer(keys_app, name="keys")
    app.add_typer(policy_app, name="policy")
