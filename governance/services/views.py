"""Plain-dict views of stored objects, shared by the CLI (``--json``) and the API."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, select

from governance.store.models import Candidate, Dataset, Decision, Release, Run, loads


def _eps(value: float | None) -> float | str:
    return "inf" if value is None else value


def dataset_view(ds: Dataset) -> dict[str, Any]:
    """A dataset's public record (no data)."""
    return {"id": ds.id, "name": ds.name, "source_sha256": ds.source_sha256,
            "source_filename": ds.source_filename, "artifact_sha256": ds.artifact_sha256,
            "n_rows": ds.n_rows, "schema_sha256": ds.schema_sha256,
            "data_derived_schema": ds.data_derived_schema,
            "split": {"seed": ds.split_seed, "sha256": ds.split_sha256},
            "created_by": ds.created_by, "created_at": ds.created_at}


def candidate_view(c: Candidate, *, full: bool = True) -> dict[str, Any]:
    """A candidate with its privacy, attack, utility and verdict records."""
    doc: dict[str, Any] = {
        "id": c.id, "run_id": c.run_id, "generator": c.generator,
        "epsilon_target": _eps(c.epsilon_target), "epsilon_spent": _eps(c.epsilon_spent),
        "delta": c.delta, "seed": c.seed, "status": c.status, "eligible": c.eligible,
        "artifact_sha256": c.artifact_sha256, "n_rows": c.n_rows,
        "fit_seconds": round(c.fit_seconds, 3), "error": c.error,
    }
    verdict = loads(c.verdict_json) or {}
    attack = loads(c.attack_json) or {}
    utility = loads(c.utility_json) or {}
    doc["summary"] = {
        "worst_attack_auc": attack.get("worst_auc"),
        "worst_epsilon_lb": attack.get("worst_epsilon_lb"),
        "tpr_at_1pct_fpr": attack.get("worst_tpr_at_1pct"),
        "duplicate_rate": attack.get("duplicate_rate"),
        "failed_privacy_audit": attack.get("failed_audit"),
        "utility_ratio": (utility.get("utility_ratio") or {}).get("value"),
        "tstr": ((utility.get("scenarios") or {}).get("tstr") or {}).get("primary"),
        "violations": [v.get("message") for v in verdict.get("violations", [])],
        "clauses": [v.get("clause") for v in verdict.get("violations", [])],
    }
    if full:
        doc.update(privacy=loads(c.privacy_json), attack=attack, utility=utility,
                   fidelity=loads(c.fidelity_json), verdict=verdict)
    return doc


def run_view(session: Session, run: Run, *, candidates: bool = True) -> dict[str, Any]:
    """A run's status, progress, control, frontier and (optionally) its candidates."""
    doc: dict[str, Any] = {
        "id": run.id, "dataset_id": run.dataset_id, "policy_sha256": run.policy_sha256,
        "task": loads(run.task_json), "grid": loads(run.grid_json), "seed": run.seed,
        "status": run.status, "progress": round(run.progress, 4), "message": run.message,
        "requested_by": run.requested_by, "executor": run.executor,
        "control": loads(run.control_json), "frontier": loads(run.frontier_json),
        "plot_sha256": run.plot_sha256, "error": run.error, "created_at": run.created_at,
        "started_at": run.started_at, "finished_at": run.finished_at,
    }
    if candidates:
        cands = session.exec(select(Candidate).where(Candidate.run_id == run.id)
                             .order_by(Candidate.created_at)).all()
        doc["candidates"] = [candidate_view(c, full=False) for c in cands]
    return doc


def decision_view(d: Decision) -> dict[str, Any]:
    """One approval or rejection."""
    return {"id": d.id, "candidate_id": d.candidate_id, "actor": d.actor, "role": d.role,
            "decision": d.decision, "reason": d.reason, "policy_sha256": d.policy_sha256,
            "created_at": d.created_at}


def release_view(r: Release) -> dict[str, Any]:
    """A release's status, pins and audience."""
    return {"id": r.id, "candidate_id": r.candidate_id, "run_id": r.run_id,
            "policy_sha256": r.policy_sha256, "artifact_sha256": r.artifact_sha256,
            "requested_by": r.requested_by, "consumers": json.loads(r.consumers_json),
            "status": r.status, "reason": r.reason, "expires_at": r.expires_at,
            "created_at": r.created_at}
