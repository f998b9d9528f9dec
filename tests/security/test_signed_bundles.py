"""Finding: audit bundles did not protect what they carry.

Rewriting ``metrics.json`` and ``lineage.json`` and recomputing their hashes in the
manifest still "verified". Now the manifest is signed with the installation's Ed25519
key, the bundle carries only the release's lineage closure with a Merkle inclusion
proof per event against a signed C2SP checkpoint, and the verifier recomputes the
derived files from those events. A rewrite fails on the signature, and even when
re-signed with the installation's own key it fails on the events.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.deps import get_governance
from api.main import app
from api.ratelimit import RateLimiter, get_rate_limiter
from governance.audit.bundle import sign_manifest, verify_bundle
from governance.audit.chain import event_body, hash_event
from governance.audit.closure import LoggedEvent
from governance.audit.merkle import MerkleTree
from governance.audit.note import Signer, generate_signer, open_note
from governance.core.jsonsafe import canonical_json
from governance.services.auth import principal_named
from governance.services.bundles import export_bundle
from governance.services.releases import record_decision
from governance.services.signing import installation_signer
from governance.store.auditlog import event_hashes, iter_events
from governance.store.db import dispose_engines
from tests.utils.cli import govern
from tests.utils.scenario import World


@pytest.fixture
def released(undecided_world: World, tmp_path: Path) -> Iterator[World]:
    """A clone of the shared world whose candidate two approvers released."""
    w = undecided_world.clone(tmp_path)
    for name in ("appr1", "appr2"):
        with w.gov.session() as s:
            outcome = record_decision(session=s, candidate_id=w.candidates["req"][0],
                                      actor=principal_named(s, name), decision="approve")
    assert outcome.release is not None
    w.releases["req"] = outcome.release.id
    yield w
    dispose_engines()


@pytest.fixture
def bundle(released: World) -> Path:
    return export_bundle(released.gov, released.releases["req"])


def _verify(w: World, path: Path) -> list[str]:
    return verify_bundle(path, installation_signer(w.gov.settings).verifier).problems


def _rehash(path: Path, name: str, data: bytes) -> None:
    """The old attack: rewrite a file and put its new SHA-256 in the manifest."""
    (path / name).write_bytes(data)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _resign(path: Path, signer: Signer) -> None:
    """An insider with the installation's key (but not the log) signs the new manifest."""
    (path / "manifest.sig").write_bytes(sign_manifest((path / "manifest.json").read_bytes(),
                                                      signer))


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / "events.jsonl").read_text().splitlines()]


def _write_events(path: Path, events: list[dict], proofs: dict[str, list[str]]) -> None:
    _rehash(path, "events.jsonl", b"".join(canonical_json(e) + b"\n" for e in events))
    doc = json.loads((path / "proofs.json").read_text())
    doc["proofs"] = proofs
    _rehash(path, "proofs.json", (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())


def test_an_untouched_bundle_verifies_offline(released: World, bundle: Path):
    # Run
    problems = _verify(released, bundle)
    cli = govern("audit", "verify", "--bundle", str(bundle), "--pubkey",
                 str(bundle / "pubkey.txt"), "--json", home=released.home)
    # Assert
    assert problems == []
    assert cli.code == 0 and json.loads(cli.stdout)["ok"] is True


@pytest.mark.parametrize(("name", "edit"), [
    ("metrics.json", lambda d: d["candidates"][0].update(attack={"worst_auc": 0.5})),
    ("lineage.json", lambda d: d["candidates"][0]["decisions"][0].update(by="mallory")),
])
def test_a_rewritten_derived_file_fails_even_with_recomputed_hashes(released: World,
                                                                    bundle: Path, name, edit):
    # Setup
    doc = json.loads((bundle / name).read_text())
    edit(doc)
    # Run: the old attack, then the same with a manifest re-signed by the real key.
    _rehash(bundle, name, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
    rehashed = _verify(released, bundle)
    _resign(bundle, installation_signer(released.gov.settings))
    resigned = _verify(released, bundle)
    # Assert
    assert any("signature does not verify" in p for p in rehashed)
    assert resigned == [f"{name} is not what the bundle's events say (rewritten or derived "
                        "from other events)"]


def test_removing_an_event_fails(released: World, bundle: Path):
    # Setup: drop the second approval (and its proof) from the bundle.
    events = _events(bundle)
    proofs = json.loads((bundle / "proofs.json").read_text())["proofs"]
    second = [e for e in events if e["kind"] == "decision.recorded"][1]
    kept = [e for e in events if e is not second]
    del proofs[str(second["seq"])]
    # Run
    _write_events(bundle, kept, proofs)
    rehashed = _verify(released, bundle)
    _resign(bundle, installation_signer(released.gov.settings))
    resigned = _verify(released, bundle)
    # Assert
    assert any("signature does not verify" in p for p in rehashed)
    assert any("short of its quorum" in p for p in resigned)
    assert any("lineage.json is not what" in p for p in resigned)


def test_adding_a_forged_event_fails(released: World, bundle: Path):
    # Setup: a third approval by mallory, correctly hashed onto the last event.
    events = _events(bundle)
    last = events[-1]
    payload = {"decision": "approve", "reason": "", "role": "approver", "approvals": 3,
               "quorum": 2, "policy_sha256": "x"}
    body = event_body(seq=last["seq"] + 1, created_at=last["created_at"], kind="decision.recorded",
                      actor="mallory", subject=released.candidates["req"][0], payload=payload)
    forged = {**body, "payload": canonical_json(payload).decode(), "prev_hash": last["hash"],
              "hash": hash_event(last["hash"], body)}
    proofs = json.loads((bundle / "proofs.json").read_text())["proofs"]
    proofs[str(forged["seq"])] = proofs[str(last["seq"])]
    # Run
    _write_events(bundle, [*events, forged], proofs)
    _resign(bundle, installation_signer(released.gov.settings))
    problems = _verify(released, bundle)
    # Assert
    assert f"event {forged['seq']} is not in the log the checkpoint signs (its inclusion " \
           "proof fails)" in problems


def test_adding_a_genuine_event_from_outside_the_closure_fails(released: World, bundle: Path):
    # Setup: the log's first apikey.created event, with a valid inclusion proof.
    events = _events(bundle)
    proofs = json.loads((bundle / "proofs.json").read_text())["proofs"]
    size = json.loads((bundle / "proofs.json").read_text())["tree_size"]
    with released.gov.session() as s:
        outsider = next(LoggedEvent.from_row(e) for e in iter_events(s)
                        if e.kind == "apikey.created")
        tree = MerkleTree([hashlib.sha256(b"\x00" + bytes.fromhex(h)).digest()
                           for h in event_hashes(s, upto=size)])
    proofs[str(outsider.seq)] = [base64.b64encode(p).decode()
                                 for p in tree.inclusion_proof(outsider.seq - 1)]
    merged = sorted([*events, json.loads(outsider.line)], key=lambda e: e["seq"])
    # Run
    _write_events(bundle, merged, proofs)
    _resign(bundle, installation_signer(released.gov.settings))
    problems = _verify(released, bundle)
    # Assert
    assert f"events [{outsider.seq}] are not part of {released.releases['req']}'s lineage " \
           "(added)" in problems
    assert not any("inclusion proof" in p for p in problems)


def test_the_wrong_key_fails(released: World, bundle: Path, tmp_path: Path):
    # Setup
    other = generate_signer("synth-governance/someone-else")
    (tmp_path / "other.pub").write_text(other.verifier.text + "\n")
    # Run
    problems = verify_bundle(bundle, other.verifier).problems
    cli = govern("audit", "verify", "--bundle", str(bundle), "--pubkey",
                 str(tmp_path / "other.pub"), home=released.home)
    # Assert
    assert any("manifest's signature does not verify" in p for p in problems)
    assert any(p.startswith("checkpoint.txt:") for p in problems)
    assert cli.code == 1 and "FAILED" in cli.stderr


def test_a_bundle_carries_the_release_closure_not_the_whole_log(released: World, bundle: Path):
    # Setup
    with released.gov.session() as s:
        log = list(iter_events(s))
    events = _events(bundle)
    proofs = json.loads((bundle / "proofs.json").read_text())
    kinds = {e["kind"] for e in events}
    # Assert
    carried = {e["seq"] for e in events}
    assert proofs["tree_size"] == len(log) and len(events) < len(log)
    assert {e.kind for e in log if e.seq not in carried} == {"apikey.created", "audit.exported"}
    assert {"dataset.registered", "policy.recorded", "run.requested", "budget.reserved",
            "candidate.generated", "decision.recorded", "release.created"} <= kinds
    assert not any(k.startswith(("apikey.", "audit.")) for k in kinds)
    assert sorted(map(int, proofs["proofs"])) == [e["seq"] for e in events]
    checkpoint = (bundle / "checkpoint.txt").read_text().split("\n")
    assert checkpoint[1] == str(len(log)) and checkpoint[3] == ""


def test_the_manifest_and_its_signature_form_a_signed_note(released: World, bundle: Path):
    # Run
    note = (bundle / "manifest.json").read_text() + "\n" + (bundle / "manifest.sig").read_text()
    text = open_note(note, [installation_signer(released.gov.settings).verifier])
    # Assert
    assert json.loads(text)["files"]["metrics.json"]


def test_the_public_key_is_beside_the_bundle_in_the_cli_and_the_api(released: World,
                                                                    bundle: Path):
    # Setup
    cli = govern("audit", "pubkey", home=released.home)
    app.dependency_overrides[get_governance] = lambda: released.gov
    app.dependency_overrides[get_rate_limiter] = lambda: RateLimiter(per_minute=0)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            api = client.get("/v1/audit/pubkey", headers=released.headers["aud"])
            denied = client.get("/v1/audit/pubkey", headers=released.headers["req"])
    finally:
        app.dependency_overrides.clear()
    # Assert
    key = (bundle / "pubkey.txt").read_text().strip()
    assert cli.code == 0 and cli.stdout.strip() == key
    assert api.status_code == 200 and api.json()["verifier_key"] == key
    assert api.json()["algorithm"] == "Ed25519" and denied.status_code == 403
