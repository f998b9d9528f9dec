"""``govern demo``: the whole chain on the RAND Health Insurance Experiment table.

Registers the table shipped inside statsmodels under its public-domain schema, with
the demo's binary target ``any_visit = mdvis > 0`` (see ``datasets.bundled``), runs a
frontier, prints the candidate table, then walks the governance steps with clearly
named demo keys: two approvers approve the best eligible candidate (if the policy finds
one), a consumer downloads it, and an audit bundle is exported under ``audits/``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlmodel import select

from governance.datasets.bundled import DEMO_SCHEMA_PATH, DEMO_TARGET, write_demo_table
from governance.services.bundles import export_bundle
from governance.services.context import Governance
from governance.services.datasets import register_dataset
from governance.services.releases import open_release, record_decision
from governance.services.runs.execute import RunRequest, execute_run, submit_run
from governance.services.views import run_view
from governance.store.auditlog import verify_log
from governance.store.models import ApiKey, Candidate, loads

DEMO_KEYS = (("demo-approver-1", "approver"), ("demo-approver-2", "approver"),
             ("demo-consumer", "requester"))


def _demo_key(session: Any, name: str, role: str) -> ApiKey:
    from governance.services.auth import create_api_key

    key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    return key or create_api_key(session=session, name=name, role=role, actor="demo")[0]


def run_demo(
    *, generators: str = "gaussian_copula,dp_vae", epsilons: Sequence[float] = (1.0, 4.0, math.inf),
    rows: int | None = None, executor: str = "local",
    generator_options: dict[str, dict[str, Any]] | None = None,
    progress_factory: Callable[[str], AbstractContextManager[Callable[[float, str], None]]],
    quiet: bool = False, gov: Governance | None = None,
) -> dict[str, Any]:
    """Run the demo and return a summary (paths, run, release, verification)."""
    from governance.cli.app import print_run
    from governance.cli.output import err, out

    gov = gov or Governance.open()
    name = "randhie-demo" if rows is None else f"randhie-demo-{rows}"
    path = write_demo_table(gov.settings.home / "demo" / f"{name}.csv", rows=rows)
    ds = register_dataset(gov, path=path, schema=DEMO_SCHEMA_PATH, name=name,
                          actor="demo-owner")
    say = (lambda *a, **k: None) if quiet else err.print
    say(f"dataset {ds.id}: {ds.n_rows} rows of RAND HIE, sha256 {ds.source_sha256[:16]}…")
    request = RunRequest(dataset=ds.id, target=DEMO_TARGET,
                         generators=[g for g in generators.split(",") if g],
                         epsilons=list(epsilons), seed=0, executor=executor,
                         generator_options=generator_options or {})
    run = submit_run(gov, request, actor="demo-requester")
    with progress_factory(f"run {run.id}") as update:
        run = execute_run(gov, run.id, progress=update)
    with gov.session() as s:
        view = run_view(s, run)
    if not quiet:
        print_run(view)
    plot = gov.artifacts.path(run.plot_sha256, ".png") if run.plot_sha256 else None
    release_id, download = _approve_best(gov, run.id, say)
    bundle = export_bundle(gov, release_id or run.id)
    with gov.session() as s:
        chain = verify_log(s)
    summary = {"dataset_id": ds.id, "run_id": run.id, "plot": str(plot) if plot else None,
               "bundle": str(bundle), "release_id": release_id, "download": download,
               "audit_chain_ok": chain.ok, "audit_events": chain.checked, "run": view}
    if not quiet:
        out.print(f"frontier plot: {plot}")
        out.print(f"audit bundle:  {bundle}")
        out.print(f"audit log:     {'intact' if chain.ok else 'BROKEN'} ({chain.checked} events)")
    return summary


def _approve_best(gov: Governance, run_id: str,
                  say: Callable[..., None]) -> tuple[str | None, dict[str, Any] | None]:
    """Approve the eligible candidate with the best TSTR score, as two demo approvers."""
    with gov.session() as s:
        keys = {n: _demo_key(s, n, r) for n, r in DEMO_KEYS}
        cands = s.exec(select(Candidate).where(Candidate.run_id == run_id,
                                               Candidate.eligible == True)).all()  # noqa: E712
        if not cands:
            say("no candidate meets the policy, so nothing can be approved or released; "
                "see the violations column")
            return None, None
        best = max(cands, key=lambda c: (((loads(c.utility_json) or {}).get("scenarios") or {})
                                         .get("tstr") or {}).get("primary") or -1)
        outcome = None
        for name in ("demo-approver-1", "demo-approver-2"):
            outcome = record_decision(session=s, candidate_id=best.id, actor=keys[name],
                                      decision="approve", reason="demo")
            if outcome.release is not None:
                break
        assert outcome is not None
        if outcome.release is None:
            say(f"candidate {best.id} approved {outcome.approvals}/{outcome.quorum}; "
                "the policy's quorum needs more approvers")
            return None, None
        release = outcome.release
    _rel, data = open_release(gov, release_id=release.id, consumer=keys["demo-consumer"])
    digest = hashlib.sha256(data).hexdigest()
    say(f"released candidate {best.id} as {release.id}; demo-consumer downloaded "
        f"{len(data)} bytes with sha256 {digest[:16]}… (matches the audit log: "
        f"{digest == release.artifact_sha256})")
    return release.id, {"bytes": len(data), "sha256": digest,
                        "matches_audit_log": digest == release.artifact_sha256}
