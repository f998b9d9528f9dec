"""Audit bundles: everything an auditor needs to check a release offline.

``export_bundle`` writes ``audits/<id>/`` (see ``audits/README.md`` for the format):
the events of the object's lineage closure (not the whole log) with a Merkle
inclusion proof each, a signed checkpoint of the log they belong to, the files
derived from those events (``lineage.json``, ``metrics.json``), the stored records,
the exact policy text, the frontier plot, and a manifest with the SHA-256 of every
file, signed with the installation's Ed25519 key; the public key is written beside
it. ``governance.audit.bundle.verify_bundle`` re-checks all of it without the
database. Bundles are JSON, YAML, text and PNG only, never pickles.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from governance.audit.bundle import BUNDLE_FORMAT, sign_manifest
from governance.audit.checkpoint import event_leaves, parse_checkpoint, sign_checkpoint
from governance.audit.closure import Closure, LoggedEvent, closure_of
from governance.audit.derived import derived_files, pretty
from governance.audit.merkle import MerkleTree
from governance.audit.note import open_note
from governance.core.errors import IntegrityError, NotFoundError
from governance.schemas.runs import candidate_public, run_public
from governance.services.context import Governance
from governance.services.signing import installation_signer
from governance.store.auditlog import append_event, event_hashes, events_for, verify_log
from governance.store.models import Candidate, PolicyVersion, Release, Run


def _run_of(s: Session, ref: str) -> Run:
    """The run behind a release, candidate or run id."""
    rel = s.get(Release, ref)
    cand = s.get(Candidate, rel.candidate_id if rel else ref)
    run = s.get(Run, cand.run_id if cand else ref)
    if run is None:
        raise NotFoundError(f"{ref!r} is not a release, candidate or run id; export one of "
                            "those (a dataset has no bundle of its own)")
    return run


def _closure_events(s: Session, ref: str, run: Run, upto: int) -> tuple[Closure, list[LoggedEvent]]:
    """The closure of ``ref`` and its events up to ``upto``, in log order."""
    cands = [c.id for c in s.exec(select(Candidate).where(Candidate.run_id == run.id)).all()]
    rels = [r.id for r in s.exec(select(Release).where(col(Release.candidate_id).in_(cands)))
            .all()] if cands else []
    subjects = {run.id, run.dataset_id, run.policy_sha256, *cands, *rels}
    pool = [LoggedEvent.from_row(e) for e in events_for(s, subjects) if e.seq <= upto]
    closure = closure_of(ref, pool)
    return closure, [e for e in pool if closure.belongs(e)]


def _records(s: Session, run: Run, closure: Closure) -> dict[str, Any]:
    """The stored records of the closure's run and candidates (signed, not log-derived)."""
    cands = s.exec(select(Candidate).where(Candidate.run_id == run.id)
                   .order_by(col(Candidate.created_at))).all()
    chosen = [c for c in cands if c.id in closure.candidate_ids]
    return {"note": "as stored at export; signed by the installation, not derived from the log",
            "run": run_public(run, list(chosen)),
            "candidates": [candidate_public(c) for c in chosen]}


def export_bundle(gov: Governance, ref: str, *, out_dir: Path | None = None,
                  actor: str = "cli") -> Path:
    """Write the bundle for a release, candidate or run id and log the export.

    Raises:
        NotFoundError: ``ref`` names nothing exportable.
        IntegrityError: the log does not verify (a broken log is never signed).
    """
    signer = installation_signer(gov.settings)
    with gov.session() as s:
        run = _run_of(s, ref)
        pv = s.get(PolicyVersion, run.policy_sha256)
        if pv is None:
            raise NotFoundError(f"policy version {run.policy_sha256[:12]} is not recorded")
        append_event(session=s, kind="audit.exported", actor=actor, subject=ref,
                     payload={"run_id": run.id})
        s.flush()
        report = verify_log(s)
        if not report.ok:
            raise IntegrityError(f"refusing to sign a bundle of a broken log: {report.reason}")
        leaves = event_leaves(event_hashes(s, upto=report.head_seq))
        closure, events = _closure_events(s, ref, run, report.head_seq)
        records = _records(s, run, closure)
    files = _contents(gov, run, pv.text, closure, events, records, leaves)
    files["checkpoint.txt"] = sign_checkpoint(signer=signer, leaves=leaves).encode()
    cp = parse_checkpoint(open_note(files["checkpoint.txt"], [signer.verifier]))
    manifest = pretty({
        "format": BUNDLE_FORMAT, "ref": ref, "kind": closure.kind, "run_id": run.id,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "policy_sha256": run.policy_sha256, "events": len(events),
        "checkpoint": {"origin": cp.origin, "size": cp.size,
                       "root": base64.b64encode(cp.root).decode()},
        "key": {"name": signer.name, "key_id": signer.verifier.key_id.hex()},
        "files": {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())},
    })
    files |= {"manifest.json": manifest, "manifest.sig": sign_manifest(manifest, signer),
              "pubkey.txt": (signer.verifier.text + "\n").encode()}
    target = Path(out_dir) if out_dir else gov.settings.audits_dir / ref
    _write_dir(target, files)
    return target


def _contents(gov: Governance, run: Run, policy: str, closure: Closure,
              events: list[LoggedEvent], records: dict[str, Any],
              leaves: list[bytes]) -> dict[str, bytes]:
    """Every file the manifest lists except the checkpoint."""
    tree = MerkleTree(leaves)
    proofs = {str(e.seq): [base64.b64encode(p).decode() for p in tree.inclusion_proof(e.seq - 1)]
              for e in events}
    files = {
        "policy.yaml": policy.encode(),
        "events.jsonl": b"".join(e.line for e in events),
        "proofs.json": pretty({"tree_size": tree.size, "proofs": proofs}),
        "records.json": pretty(records),
        **derived_files(events, closure),
    }
    if run.plot_sha256:
        files["frontier.png"] = gov.artifacts.get_bytes(run.plot_sha256, ".png")
    return files


def _write_dir(target: Path, files: dict[str, bytes]) -> None:
    """Write into a temporary sibling folder, then swap it in, so no half bundle is seen."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    tmp.chmod(0o755)  # a bundle is for auditors to read; it holds no secret
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


__all__ = ["export_bundle"]
