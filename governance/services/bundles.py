"""Audit bundles: everything an auditor needs to check a release offline.

``export_bundle`` writes ``audits/<id>/`` (see ``audits/README.md`` for the format):
the exact policy text, the lineage, the metrics, the frontier plot, the audit chain
from its first event up to the head at export time, and a manifest with the SHA-256
of every file. ``verify_bundle`` re-checks all of it without the database. Bundles
are JSON and PNG only, never pickles.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from governance.audit.bundle import BUNDLE_FORMAT
from governance.audit.chain import sign_checkpoint
from governance.core.errors import NotFoundError
from governance.core.jsonsafe import canonical_json, dumps
from governance.schemas.runs import candidate_public, run_public
from governance.services.context import Governance
from governance.services.lineage import lineage
from governance.store.auditlog import append_event, iter_events
from governance.store.models import Candidate, PolicyVersion, Run


def export_bundle(gov: Governance, ref: str, *, out_dir: Path | None = None) -> Path:
    """Write the bundle for a release, candidate or run id and log the export.

    Raises:
        NotFoundError: ``ref`` names nothing exportable.
    """
    with gov.session() as s:
        doc = lineage(s, ref)
        if doc.run is None:
            raise NotFoundError(f"{ref!r} is a dataset; export a release, candidate or run")
        run = s.get(Run, doc.run.id)
        assert run is not None
        pv = s.get(PolicyVersion, run.policy_sha256)
        assert pv is not None
        cands = list(s.exec(select(Candidate).where(Candidate.run_id == run.id)
                            .order_by(col(Candidate.created_at))).all())
        if doc.candidate is not None:
            chosen = next(c for c in cands if c.id == doc.candidate.id)
            metrics: dict[str, Any] = {"candidate": candidate_public(chosen),
                                       "run": run_public(run)}
        else:
            metrics = {"run": run_public(run, cands),
                       "candidates": [candidate_public(c) for c in cands]}
        append_event(session=s, kind="audit.exported", actor="cli", subject=ref,
                     payload={"run_id": run.id})
        s.flush()
        events = [_event_doc(e) for e in iter_events(s)]
    files: dict[str, bytes] = {
        "policy.yaml": pv.text.encode(),
        "lineage.json": _pretty(doc),
        "metrics.json": _pretty(metrics),
        "events.jsonl": b"".join(canonical_json(e) + b"\n" for e in events),
    }
    if run.plot_sha256:
        files["frontier.png"] = gov.artifacts.get_bytes(run.plot_sha256, ".png")
    head = events[-1]
    manifest = {
        "format": BUNDLE_FORMAT, "ref": ref, "run_id": run.id,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "policy_sha256": run.policy_sha256,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "chain": {"events": len(events), "head_seq": head["seq"], "head_hash": head["hash"]},
        "checkpoint": sign_checkpoint(tree_size=head["seq"], head_hash=head["hash"],
                                      key=gov.settings.checkpoint_key),
    }
    files["manifest.json"] = _pretty(manifest)
    target = Path(out_dir) if out_dir else gov.settings.audits_dir / ref
    _write_dir(target, files)
    return target


def _event_doc(e: Any) -> dict[str, Any]:
    return {"seq": e.seq, "created_at": e.created_at, "kind": e.kind, "actor": e.actor,
            "subject": e.subject, "payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash}


def _pretty(obj: Any) -> bytes:
    return (dumps(obj, indent=2) + "\n").encode()


def _write_dir(target: Path, files: dict[str, bytes]) -> None:
    """Write into a temporary sibling folder, then swap it in, so no half bundle is seen."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        os.replace(target, old)
        os.replace(tmp, target)
        for p in old.iterdir():
            p.unlink()
        old.rmdir()
    else:
        os.replace(tmp, target)
