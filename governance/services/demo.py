"""``govern demo``: the whole chain on the RAND Health Insurance Experiment table.

Registers the table shipped inside statsmodels under its public-domain schema, with
the demo's binary target ``any_visit = mdvis > 0`` (see ``datasets.bundled``), runs a
frontier, then walks the governance steps with clearly named demo keys: two approvers
approve the best eligible candidate (if the policy finds one), a consumer downloads it,
and an audit bundle is exported under ``audits/``. The caller shows what happens
through two callbacks (``say`` for a line, ``progress`` for the run); nothing here prints.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from governance.core.types import Principal
from governance.datasets.bundled import DEMO_SCHEMA_PATH, DEMO_TARGET, write_demo_table
from governance.schemas.runs import CandidateSummary, RunPublic, candidate_public, run_public
from governance.services.auth import create_api_key, principal
from governance.services.bundles import export_bundle
from governance.services.context import Governance
from governance.services.datasets import register_dataset
from governance.services.releases import open_release, record_decision
from governance.services.runs.execute import Progress, execute_run
from governance.services.runs.submit import RunRequest, submit_run
from governance.store.auditlog import verify_log
from governance.store.models import ApiKey, Candidate

DEMO_KEYS = (("demo-approver-1", "approver"), ("demo-approver-2", "approver"),
             ("demo-consumer", "requester"))
ProgressFactory = Callable[[str], AbstractContextManager[Progress | None]]


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo did: the run, the plot, the release and the bundle."""

    dataset_id: str
    run: RunPublic
    plot: Path | None
    release_id: str | None
    download: dict[str, Any] | None
    bundle: Path
    audit_chain_ok: bool
    audit_events: int

    def as_dict(self) -> dict[str, Any]:
        """The summary ``govern demo --json`` prints."""
        return {"dataset_id": self.dataset_id, "run_id": self.run.id,
                "plot": str(self.plot) if self.plot else None, "bundle": str(self.bundle),
                "release_id": self.release_id, "download": self.download,
                "audit_chain_ok": self.audit_chain_ok, "audit_events": self.audit_events,
                "run": self.run.as_dict()}


def _demo_key(session: Session, name: str, role: str) -> Principal:
    key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    return principal(key or create_api_key(session=session, name=name, role=role,
                                           actor="demo")[0])


def _no_progress(_description: str) -> AbstractContextManager[Progress | None]:
    return nullcontext(None)


def run_demo(
    gov: Governance, *, generators: str = "gaussian_copula,dp_vae",
    epsilons: Sequence[float] = (1.0, 4.0, math.inf), rows: int | None = None,
    executor: str = "local", generator_options: dict[str, dict[str, Any]] | None = None,
    progress: ProgressFactory = _no_progress, say: Callable[[str], None] = lambda _line: None,
) -> DemoOutcome:
    """Run the demo and return what it did (paths, run, release, verification)."""
    name = "randhie-demo" if rows is None else f"randhie-demo-{rows}"
    path = write_demo_table(gov.settings.home / "demo" / f"{name}.csv", rows=rows)
    ds = register_dataset(gov, path=path, schema=DEMO_SCHEMA_PATH, name=name,
                          actor="demo-owner")
    say(f"dataset {ds.id}: {ds.n_rows} rows of RAND HIE, sha256 {ds.source_sha256[:16]}…")
    request = RunRequest(dataset=ds.id, target=DEMO_TARGET,
                         generators=[g for g in generators.split(",") if g],
                         epsilons=list(epsilons), seed=0, executor=executor,
                         generator_options=generator_options or {})
    run = submit_run(gov, request, actor="demo-requester")
    with progress(f"run {run.id}") as update:
        run = execute_run(gov, run.id, progress=update)
    with gov.session() as s:
        cands = list(s.exec(select(Candidate).where(Candidate.run_id == run.id)
                            .order_by(col(Candidate.created_at))).all())
        view = run_public(run, cands)
    plot = gov.artifacts.path(run.plot_sha256, ".png") if run.plot_sha256 else None
    release_id, download = _approve_best(gov, run.id, say)
    bundle = export_bundle(gov, release_id or run.id)
    with gov.session() as s:
        chain = verify_log(s)
    return DemoOutcome(dataset_id=ds.id, run=view, plot=plot, release_id=release_id,
                       download=download, bundle=bundle, audit_chain_ok=chain.ok,
                       audit_events=chain.checked)


def _approve_best(gov: Governance, run_id: str,
                  say: Callable[[str], None]) -> tuple[str | None, dict[str, Any] | None]:
    """Approve the eligible candidate with the best utility on validation, as two approvers.

    The choice reads the validation figure, never the reported eval one, so the released
    candidate's reported figure carries no winner's curse.
    """
    with gov.session() as s:
        keys = {n: _demo_key(s, n, r) for n, r in DEMO_KEYS}
        cands = s.exec(select(Candidate).where(Candidate.run_id == run_id,
                                               Candidate.eligible == True)).all()  # noqa: E712
        if not cands:
            say("no candidate meets the policy, so nothing can be approved or released; "
                "see the violations column")
            return None, None
        best = max(cands, key=lambda c: _selection(candidate_public(c).summary))
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


def _selection(summary: CandidateSummary) -> float:
    """What selection ranks by: the panel's utility above chance on validation."""
    value = summary.selection_ratio_above_chance
    return -math.inf if value is None else value
