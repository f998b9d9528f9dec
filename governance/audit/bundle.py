"""Verifying an audit bundle offline: pure functions over the bundle's files.

``governance.services.bundles.export_bundle`` writes ``audits/<id>/`` (format in
``audits/README.md``); ``verify_bundle`` re-checks all of it without the database.
Bundles are JSON and PNG only, never pickles.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

from governance.audit.chain import verify_chain

BUNDLE_FORMAT = "synth-governance-audit-bundle/1"


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
        logged = json.loads(created[0].payload).get("artifact_sha256") if created else None
        if logged != rel["artifact_sha256"]:
            problems.append("the release's artifact hash is not the one its creation event logged")
    return problems
