"""A bundle's derived files, computed from its events alone.

``lineage.json`` and ``metrics.json`` say nothing that the carried events do not say:
the exporter writes ``derived_files(events, closure)`` and the verifier recomputes it
from the events it checked against the signed checkpoint and compares the bytes. Each
fact cites the sequence number of the event that records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from governance.audit.closure import Closure, LoggedEvent
from governance.core.jsonsafe import dumps

LINEAGE_FORMAT = "synth-governance-lineage/2"
METRICS_FORMAT = "synth-governance-metrics/2"


def _fact(ev: LoggedEvent | None, *, facts: bool = True) -> dict[str, Any] | None:
    """Who recorded what and when, with the event that proves it."""
    if ev is None:
        return None
    out: dict[str, Any] = {"event": ev.seq, "at": ev.created_at, "by": ev.actor}
    if facts:
        out["facts"] = ev.data
    return out


class _Index:
    """The closure's events by (kind, subject), in log order."""

    def __init__(self, events: Sequence[LoggedEvent]) -> None:
        self.events = list(events)

    def all(self, kind: str, subject: str) -> list[LoggedEvent]:
        return [e for e in self.events if e.kind == kind and e.subject == subject]

    def one(self, kind: str, subject: str) -> LoggedEvent | None:
        found = self.all(kind, subject)
        return found[-1] if found else None

    def prefix(self, prefix: str, subject: str) -> list[LoggedEvent]:
        return [e for e in self.events if e.kind.startswith(prefix) and e.subject == subject]

    def charges(self, cid: str) -> list[LoggedEvent]:
        return [e for e in self.events
                if e.kind == "budget.charged" and e.field("candidate_id") == cid]


def _release(ix: _Index, rid: str) -> dict[str, Any]:
    return {"id": rid, "created": _fact(ix.one("release.created", rid)),
            "revoked": _fact(ix.one("release.revoked", rid)),
            "flagged": [_fact(e) for e in ix.all("release.flagged", rid)],
            "access": [{"kind": e.kind, **(_fact(e) or {})} for e in ix.prefix("access.", rid)]}


def _candidate_lineage(ix: _Index, cid: str, releases: Sequence[str]) -> dict[str, Any]:
    made = ix.one("candidate.generated", cid) or ix.one("candidate.failed", cid)
    return {
        "id": cid,
        "created": {"kind": made.kind, **(_fact(made) or {})} if made else None,
        "evaluated": _fact(ix.one("candidate.evaluated", cid), facts=False),
        "charges": [_fact(e) for e in ix.charges(cid)],
        "decisions": [_fact(e) for e in ix.all("decision.recorded", cid)],
        "reevaluations": [_fact(e) for e in ix.all("policy.reevaluated", cid)],
        "access": [{"kind": e.kind, **(_fact(e) or {})} for e in ix.prefix("access.", cid)],
        "releases": [_release(ix, rid) for rid in releases],
    }


def _releases_of(ix: _Index, closure: Closure, cid: str) -> list[str]:
    return sorted(rid for rid in closure.release_ids
                  if (ev := ix.one("release.created", rid)) is not None
                  and ev.field("candidate_id") == cid)


def derive_lineage(events: Sequence[LoggedEvent], closure: Closure) -> dict[str, Any]:
    """From the source table through policy, run and candidates to releases and accesses."""
    ix = _Index(events)
    run = _fact(ix.one("run.requested", closure.run_id)) or {}
    ends = [e for e in ix.prefix("run.", closure.run_id)
            if e.kind in ("run.finished", "run.failed", "run.cancelled")]
    return {
        "format": LINEAGE_FORMAT, "ref": closure.ref, "kind": closure.kind,
        "dataset": {"id": closure.dataset_id,
                    **(_fact(ix.one("dataset.registered", closure.dataset_id)) or {})},
        "policy": {"sha256": closure.policy_sha256,
                   **(_fact(ix.one("policy.recorded", closure.policy_sha256)) or {})},
        "run": {"id": closure.run_id, **run,
                "started": [_fact(e, facts=False) for e in ix.all("run.started", closure.run_id)],
                "ended": {"kind": ends[-1].kind, **(_fact(ends[-1]) or {})} if ends else None},
        "candidates": [_candidate_lineage(ix, cid, _releases_of(ix, closure, cid))
                       for cid in sorted(closure.candidate_ids)],
        "events": [{"seq": e.seq, "kind": e.kind, "subject": e.subject, "actor": e.actor,
                    "created_at": e.created_at, "hash": e.hash} for e in events],
    }


def derive_metrics(events: Sequence[LoggedEvent], closure: Closure) -> dict[str, Any]:
    """The figures the log records: privacy spend, attacks, utility and verdict."""
    ix = _Index(events)
    requested = ix.one("run.requested", closure.run_id)
    finished = ix.one("run.finished", closure.run_id)
    candidates = []
    for cid in sorted(closure.candidate_ids):
        made = ix.one("candidate.generated", cid)
        evaluated = ix.one("candidate.evaluated", cid)
        charges = ix.charges(cid)
        candidates.append({
            "id": cid,
            "generator": made.field("generator") if made else None,
            "seed": made.field("seed") if made else None,
            "artifact_sha256": made.field("artifact_sha256") if made else None,
            "privacy": made.field("privacy") if made else None,
            "epsilon_charged": sum(float(e.field("epsilon") or 0) for e in charges)
            if charges else None,
            "attack": evaluated.field("attack") if evaluated else None,
            "utility": evaluated.field("utility") if evaluated else None,
            "verdict": evaluated.field("verdict") if evaluated else None,
            "events": [e.seq for e in (made, evaluated, *charges) if e is not None],
        })
    return {
        "format": METRICS_FORMAT, "ref": closure.ref,
        "run": {"id": closure.run_id,
                "task": requested.field("task") if requested else None,
                "grid": requested.field("grid") if requested else None,
                "control": finished.field("control") if finished else None,
                "pareto": finished.field("pareto") if finished else None},
        "candidates": candidates,
    }


def pretty(doc: Any) -> bytes:
    """The bytes a derived file is written as (and compared as)."""
    return (dumps(doc, indent=2) + "\n").encode()


def derived_files(events: Sequence[LoggedEvent], closure: Closure) -> dict[str, bytes]:
    """``lineage.json`` and ``metrics.json`` of a bundle, as bytes."""
    return {"lineage.json": pretty(derive_lineage(events, closure)),
            "metrics.json": pretty(derive_metrics(events, closure))}


__all__ = ["LINEAGE_FORMAT", "METRICS_FORMAT", "derive_lineage", "derive_metrics",
           "derived_files", "pretty"]
