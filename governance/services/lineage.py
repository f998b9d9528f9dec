"""Lineage: from any released file, candidate, run or dataset back to the source.

The answer names every hash an auditor needs to check independently: the source
file's SHA-256, the split's hash, the policy version, the generator with its seed and
accountant-spent epsilon, the artifact's SHA-256, every decision and every access,
and the audit events (with their chain hashes) that record each step.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from governance.core.errors import NotFoundError
from governance.services.views import candidate_view, dataset_view, decision_view, release_view
from governance.store.auditlog import events_for
from governance.store.models import (
    Candidate,
    Dataset,
    Decision,
    PolicyVersion,
    Release,
    Run,
    loads,
)


def lineage(session: Session, ref: str) -> dict[str, Any]:
    """Trace ``ref`` (a release, candidate, run or dataset id) to its source.

    Raises:
        NotFoundError: when ``ref`` is none of these.
    """
    release = session.get(Release, ref)
    cand = session.get(Candidate, release.candidate_id if release else ref)
    run = session.get(Run, cand.run_id if cand else ref)
    ds = session.get(Dataset, run.dataset_id if run else ref)
    if ds is None:
        raise NotFoundError(f"{ref!r} is not a release, candidate, run or dataset id")
    doc: dict[str, Any] = {"ref": ref, "dataset": dataset_view(ds)}
    subjects = {ds.id}
    if run is not None:
        pv = session.get(PolicyVersion, run.policy_sha256)
        doc["run"] = {"id": run.id, "seed": run.seed, "task": loads(run.task_json),
                      "grid": loads(run.grid_json), "requested_by": run.requested_by,
                      "status": run.status, "executor": run.executor}
        doc["policy"] = {"sha256": run.policy_sha256, "name": pv.name if pv else None,
                         "source_path": pv.source_path if pv else None}
        subjects |= {run.id, run.policy_sha256}
    if cand is not None:
        view = candidate_view(cand)
        doc["candidate"] = {k: view[k] for k in (
            "id", "generator", "seed", "epsilon_target", "epsilon_spent", "delta",
            "artifact_sha256", "n_rows", "status", "eligible", "summary")}
        doc["candidate"]["privacy"] = view["privacy"]
        decisions = session.exec(select(Decision).where(Decision.candidate_id == cand.id)
                                 .order_by(Decision.created_at)).all()
        doc["decisions"] = [decision_view(d) for d in decisions]
        subjects.add(cand.id)
    if release is not None:
        doc["release"] = release_view(release)
        subjects.add(release.id)
    events = events_for(session, subjects)
    doc["events"] = [{"seq": e.seq, "kind": e.kind, "actor": e.actor, "subject": e.subject,
                      "created_at": e.created_at, "hash": e.hash, "payload": loads(e.payload)}
                     for e in events]
    doc["access"] = [e for e in doc["events"] if e["kind"].startswith("access.")]
    return doc
