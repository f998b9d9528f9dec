"""Audit bundles: everything an auditor needs to check a release offline.

``export_bundle`` writes ``audits/<id>/`` (see ``audits/README.md`` for the format):
the exact policy text, the lineage, the metrics, the frontier plot, the audit chain
from its first event up to the head at export time, and a manifest with the SHA-256
of every file. ``verify_bundle`` re-checks all of it without the database. Bundles
are JSON and PNG only, never pickles.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlmodel import select

from governance.audit.chain import canonical_json, sign_checkpoint, verify_chain
from governance.core.errors import NotFoundError
from governance.services.context import Governance
from governance.services.lineage import lineage
from governance.services.views import candidate_view, run_view
from governance.store.auditlog import append_event, iter_events
from governance.store.models import Candidate, PolicyVersion, Run, loads

BUNDLE_FORMAT = "synth-governance-audit-bundle/1"


def export_bundle(gov: Governance, ref: str, *, out_dir: Path | None = None) -> Path:
    """Write the bundle for a release, candidate or run id and log the export.

    Raises:
        NotFoundError: ``ref`` names nothing exportable.
    """
    with gov.session() as s:
        doc = lineage(s, ref)
        if "run" not in doc:
            raise NotFoundError(f"{ref!r} is a dataset; export a release, candidate or run")
        run = s.get(Run, doc["run"]["id"])
        pv = s.get(PolicyVersion, run.policy_sha256)
        if "candidate" in doc:
            metrics: dict[str, Any] = {"candidate": candidate_view(s.get(Candidate,
                                                                         doc["candidate"]["id"]))}
            metrics["run"] = run_view(s, run, candidates=False)
        else:
            metrics = {"run": run_view(s, run)}
            metrics["candidates"] = [candidate_view(c) for c in s.exec(
                select(Candidate).where(Candidate.run_id == run.id)).all()]
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
    from governance.cli.output import jsonable

    return (json.dumps(jsonable(obj), indent=2, sort_keys=True) + "\n").encode()


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


def verify_bundle(path: Path) -> list[str]:
    """Check a bundle offline; return every problem found (empty when it verifies)."""
    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        return [f"cannot read {path / 'manifest.json'}: {exc}"]
    problems = []
    if manifest.get("format") != BUNDLE_FORMAT:
        problems.append(f"unknown bundle format {manifest.get('format')!r}")
    for name, digest in manifest.get("files", {}).items():
        try:
            actual = hashlib.sha256((path / name).read_bytes()).hexdigest()
        except OSError:
            problems.append(f"{name} is listed in the manifest but missing")
            continue
        if actual != digest:
            problems.append(f"{name} does not match its SHA-256 in the manifest (altered)")
    if problems:
        return problems
    events = [SimpleNamespace(**json.loads(line))
              for line in (path / "events.jsonl").read_text().splitlines() if line]
    report = verify_chain(events)
    if not report.ok:
        problems.append(f"audit chain: {report.reason}")
    chain = manifest.get("chain", {})
    if report.ok and (report.head_seq != chain.get("head_seq")
                      or report.head_hash != chain.get("head_hash")):
        problems.append("the chain's head does not match the manifest")
    policy_sha = hashlib.sha256((path / "policy.yaml").read_bytes()).hexdigest()
    if policy_sha != manifest.get("policy_sha256"):
        problems.append("policy.yaml is not the policy version the run used")
    known = {e.hash for e in events}
    lin = json.loads((path / "lineage.json").read_text())
    missing = [e["seq"] for e in lin.get("events", []) if e["hash"] not in known]
    if missing:
        problems.append(f"lineage events {missing[:5]} are not in the chain")
    if lin.get("policy", {}).get("sha256") != manifest.get("policy_sha256"):
        problems.append("lineage names a different policy version than the manifest")
    rel = lin.get("release")
    if rel:
        created = [e for e in events if e.kind == "release.created" and e.subject == rel["id"]]
        if not created or loads(created[0].payload).get("artifact_sha256") != rel["artifact_sha256"]:
            problems.append("the release's artifact hash is not the one its creation event logged")
    return problems
