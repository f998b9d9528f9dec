"""Audit bundles: the files, their signed manifest, and verifying them offline.

``governance.services.bundles.export_bundle`` writes ``audits/<id>/`` (format in
``audits/README.md``); ``verify_bundle`` re-checks all of it without the database,
against a public key the auditor trusts. Bundles are JSON, YAML, text and PNG only,
never pickles.

What a bundle that verifies proves: the installation's key signed its manifest (so no
file was changed after export), its checkpoint commits to a log of ``N`` events that
contains every carried event at its place (Merkle inclusion proofs), every event
matches its own hash, the events are the whole closure of the exported object with
approvals that add up, ``lineage.json`` and ``metrics.json`` are exactly what those
events say, and ``policy.yaml`` and ``frontier.png`` are the versions they name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from governance.audit.chain import check_event
from governance.audit.checkpoint import Checkpoint, open_checkpoint
from governance.audit.closure import Closure, LoggedEvent, closure_of, missing_events
from governance.audit.derived import derived_files
from governance.audit.merkle import leaf_hash, verify_inclusion
from governance.audit.note import Signer, Verifier, open_note, signature_line
from governance.core.errors import IntegrityError
from governance.core.jsonsafe import NonCanonicalJSONError, canonical_text, strict_loads
from governance.core.types import Record

BUNDLE_FORMAT = "synth-governance-audit-bundle/2"
#: Files every bundle has (``frontier.png`` only when the run made a plot).
REQUIRED = ("checkpoint.txt", "events.jsonl", "proofs.json", "lineage.json", "metrics.json",
            "records.json", "policy.yaml")
#: Files outside the manifest: the manifest, its signature, the public key (for people).
UNLISTED = ("manifest.json", "manifest.sig", "pubkey.txt")


class BundleReport(Record):
    """Outcome of verifying a bundle: ``problems`` is empty when it verifies."""

    ok: bool
    bundle: str
    key: str
    ref: str | None = None
    events: int = 0
    tree_size: int | None = None
    problems: list[str]


def sign_manifest(manifest: bytes, signer: Signer) -> bytes:
    """``manifest.sig``: the note signature line(s) of ``manifest.json``.

    ``manifest.json``, a blank line and ``manifest.sig`` form a C2SP signed note.
    """
    return signature_line(manifest.decode("utf-8"), signer).encode("utf-8")


def _read(path: Path, name: str, problems: list[str]) -> bytes | None:
    try:
        return (path / name).read_bytes()
    except OSError:
        problems.append(f"{name} is missing")
        return None


def _manifest(path: Path, verifier: Verifier, problems: list[str]) -> dict[str, Any] | None:
    raw, sig = _read(path, "manifest.json", problems), _read(path, "manifest.sig", problems)
    if raw is None:
        return None
    try:
        open_note(raw + b"\n" + (sig or b""), [verifier])
    except IntegrityError as exc:
        problems.append(f"the manifest's signature does not verify with key {verifier.name} "
                        f"({exc.message})")
    try:
        doc = strict_loads(raw)
    except ValueError as exc:
        problems.append(f"manifest.json is not valid JSON ({exc})")
        return None
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
        problems.append(f"unknown bundle format (this verifier reads {BUNDLE_FORMAT})")
        return None
    return doc


def _files(path: Path, manifest: dict[str, Any], problems: list[str]) -> dict[str, bytes]:
    raw = manifest.get("files")
    listed: dict[str, Any] = raw if isinstance(raw, dict) else {}
    files: dict[str, bytes] = {}
    for name, digest in sorted(listed.items()):
        if name in UNLISTED or "/" in name or name.startswith("."):
            problems.append(f"the manifest lists {name!r}, which no bundle file may be called")
            continue
        data = _read(path, name, problems)
        if data is None:
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            problems.append(f"{name} does not match its SHA-256 in the manifest (altered)")
        files[name] = data
    for name in REQUIRED:
        if name not in listed:
            problems.append(f"the manifest does not list {name}")
    extra = sorted(p.name for p in path.iterdir()
                   if p.name not in listed and p.name not in UNLISTED)
    if extra:
        problems.append(f"files not in the manifest: {', '.join(extra)} (added)")
    return files


def _events(data: bytes, problems: list[str]) -> list[LoggedEvent]:
    events: list[LoggedEvent] = []
    for n, line in enumerate(data.decode("utf-8", "replace").split("\n")[:-1], 1):
        try:
            ev = LoggedEvent.from_doc(canonical_text(line))
        except (NonCanonicalJSONError, IntegrityError) as exc:
            problems.append(f"events.jsonl line {n}: {exc}")
            continue
        except ValueError:
            problems.append(f"events.jsonl line {n} is not JSON")
            continue
        bad = check_event(ev)
        if bad:
            problems.append(bad)
        if events and ev.seq <= events[-1].seq:
            problems.append(f"events.jsonl line {n}: event {ev.seq} is out of order")
        events.append(ev)
    if not data.endswith(b"\n") and data:
        problems.append("events.jsonl does not end with a newline (truncated)")
    return events


def _inclusion(events: Sequence[LoggedEvent], proofs_raw: bytes, cp: Checkpoint,
               problems: list[str]) -> None:
    try:
        doc = strict_loads(proofs_raw)
    except ValueError:
        doc = None
    proofs = doc.get("proofs") if isinstance(doc, dict) else None
    if not isinstance(proofs, dict) or doc is None or doc.get("tree_size") != cp.size:
        problems.append("proofs.json is malformed or not for the checkpoint's tree size")
        return
    for ev in events:
        try:
            path = [base64.b64decode(p, validate=True) for p in proofs[str(ev.seq)]]
            leaf = leaf_hash(bytes.fromhex(ev.hash))
        except (KeyError, TypeError, ValueError, binascii.Error):
            problems.append(f"event {ev.seq} has no usable inclusion proof")
            continue
        if not verify_inclusion(index=ev.seq - 1, size=cp.size, leaf=leaf, proof=path,
                                root=cp.root):
            problems.append(f"event {ev.seq} is not in the log the checkpoint signs "
                            "(its inclusion proof fails)")
    extra = set(proofs) - {str(e.seq) for e in events}
    if extra:
        problems.append(f"proofs.json has proofs for events the bundle does not carry: "
                        f"{sorted(extra)[:5]} (an event was removed)")


def _closure(ref: str, events: Sequence[LoggedEvent], problems: list[str]) -> Closure | None:
    try:
        closure = closure_of(ref, events)
    except IntegrityError as exc:
        problems.append(f"the events do not prove {ref!r}: {exc.message}")
        return None
    stray = [e.seq for e in events if not closure.belongs(e)]
    if stray:
        problems.append(f"events {stray[:5]} are not part of {ref}'s lineage (added)")
    problems += missing_events(closure, events)
    return closure


def _pins(files: dict[str, bytes], manifest: dict[str, Any], events: Sequence[LoggedEvent],
          closure: Closure, problems: list[str]) -> None:
    """policy.yaml and frontier.png are the versions the events name."""
    if "policy.yaml" in files:
        sha = hashlib.sha256(files["policy.yaml"]).hexdigest()
        if sha != closure.policy_sha256 or sha != manifest.get("policy_sha256"):
            problems.append("policy.yaml is not the policy version the run used")
    finished = [e for e in events if e.kind == "run.finished" and e.subject == closure.run_id]
    plot = finished[-1].field("plot_sha256") if finished else None
    png = files.get("frontier.png")
    if (png is None) != (plot is None) or (
            png is not None and hashlib.sha256(png).hexdigest() != plot):
        problems.append("frontier.png is not the plot run.finished recorded")


def verify_bundle(path: Path, verifier: Verifier) -> BundleReport:
    """Check a bundle offline against a trusted public key; report every problem found."""
    path, problems = Path(path), list[str]()
    report = {"bundle": str(path), "key": verifier.text}
    manifest = _manifest(path, verifier, problems)
    if manifest is None:
        return BundleReport(ok=False, problems=problems, **report)
    ref = str(manifest.get("ref"))
    files = _files(path, manifest, problems)
    cp = None
    if "checkpoint.txt" in files:
        try:
            cp = open_checkpoint(files["checkpoint.txt"], verifier)
        except IntegrityError as exc:
            problems.append(f"checkpoint.txt: {exc.message}")
        else:
            if manifest.get("checkpoint") != {"origin": cp.origin, "size": cp.size,
                                              "root": base64.b64encode(cp.root).decode()}:
                problems.append("the manifest names another checkpoint than checkpoint.txt")
    events = _events(files.get("events.jsonl", b""), problems)
    if cp is not None:
        if any(not 1 <= e.seq <= cp.size for e in events):
            problems.append(f"the bundle carries events outside the checkpoint's {cp.size}")
        _inclusion(events, files.get("proofs.json", b""), cp, problems)
    closure = _closure(ref, events, problems) if events else None
    if closure is not None:
        for name, data in derived_files(events, closure).items():
            if files.get(name) != data:
                problems.append(f"{name} is not what the bundle's events say (rewritten or "
                                "derived from other events)")
        _pins(files, manifest, events, closure, problems)
    elif not events:
        problems.append("the bundle carries no events")
    return BundleReport(ok=not problems, problems=problems, ref=ref, events=len(events),
                        tree_size=cp.size if cp else None, **report)


__all__ = ["BUNDLE_FORMAT", "BundleReport", "sign_manifest", "verify_bundle"]
