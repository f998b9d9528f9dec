"""Finding: checkpoints were an HMAC over a private JSON shape that no other tool can read.

Checkpoints are now C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint)
signed with Ed25519 over an RFC 6962 Merkle root. These known-answer tests pin the
format to the reference vectors (Go's ``sumdb/note`` and the C2SP spec for notes, the
Certificate Transparency vectors for the tree) so any standard tool reads our notes.
"""

from __future__ import annotations

import base64

import pytest

from governance.audit.checkpoint import (
    Checkpoint,
    check_log,
    event_leaves,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from governance.audit.merkle import MerkleTree, leaf_hash, root_of, verify_inclusion
from governance.audit.note import (
    EM_DASH,
    generate_signer,
    key_id,
    open_note,
    parse_signer,
    parse_verifier,
    sign_note,
)
from governance.core.errors import InputError, IntegrityError
from governance.services import audit
from governance.services.context import Governance
from governance.store.auditlog import append_event, event_hashes

# golang.org/x/mod/sumdb/note, package documentation and note_test.go.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = GO_TEXT + (f"\n{EM_DASH} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIu"
                     "GUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
# c2sp.org/signed-note test vector.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (f"This is an example message.\n\n{EM_DASH} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1"
             "Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
# RFC 6962 test leaves and the root of every prefix (Certificate Transparency).
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                        "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
CT_PROOFS = {0: ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                 "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
             5: ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                 "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]}


def test_note_known_answer_construct_parse_verify():
    # Setup
    signer, verifier = parse_signer(GO_SKEY), parse_verifier(GO_VKEY)
    # Run
    note = sign_note(GO_TEXT, signer)
    # Assert: byte for byte the reference note; keys round-trip; the id is the spec's.
    assert note == GO_NOTE
    assert signer.text == GO_SKEY and verifier.text == GO_VKEY and signer.verifier == verifier
    assert key_id("PeterNeumann", verifier.public_key).hex() == "c74f20a3"
    assert open_note(GO_NOTE, [verifier]) == GO_TEXT
    assert open_note(SPEC_NOTE, [parse_verifier(SPEC_VKEY)]) == "This is an example message.\n"


@pytest.mark.parametrize(("name", "tamper"), [
    ("text changed", lambda n: n.replace("problem,", "problem;")),
    ("signature bit flipped", lambda n: n.replace("x08go/", "x08gp/")),
    ("blank line removed", lambda n: n.replace(".\n\n" + EM_DASH, ".\n" + EM_DASH)),
    ("control character", lambda n: n.replace("If you", "If\tyou")),
    ("no signature", lambda n: n.split(EM_DASH)[0]),
    ("dash is a hyphen", lambda n: n.replace(EM_DASH, "-")),
    ("signed by another key only", lambda n: sign_note(GO_TEXT, generate_signer("PeterNeumann"))),
])
def test_a_tampered_note_is_rejected(name, tamper):
    # Run / Assert
    with pytest.raises(IntegrityError):
        open_note(tamper(GO_NOTE), [parse_verifier(GO_VKEY)])


def test_unknown_signatures_are_ignored_and_a_known_one_must_verify():
    # Setup: a witness signature from a key the verifier does not know, added after ours.
    witness = generate_signer("witness.example/w1")
    cosigned = GO_NOTE + sign_note(GO_TEXT, witness).split("\n\n", 1)[1]
    # Run / Assert
    assert open_note(cosigned, [parse_verifier(GO_VKEY)]) == GO_TEXT
    assert open_note(cosigned, [witness.verifier]) == GO_TEXT


@pytest.mark.parametrize("text", [
    GO_VKEY.replace("c74f20a3", "c74f20a4"),  # id that does not match
    GO_VKEY.replace("+ARpc", "+ZRpc"),  # not Ed25519
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
    GO_VKEY[:-4],  # truncated key
])
def test_malformed_verifier_keys_are_refused(text):
    with pytest.raises(InputError):
        parse_verifier(text)


def test_merkle_tree_known_answers():
    # Setup
    leaves = [leaf_hash(d) for d in CT_LEAVES]
    # Run / Assert: every prefix's root, and the reference audit paths.
    assert [root_of(leaves[:n]).hex() for n in range(9)] == CT_ROOTS
    tree = MerkleTree(leaves)
    for index, path in CT_PROOFS.items():
        assert [p.hex() for p in tree.inclusion_proof(index)] == path


def test_every_inclusion_proof_verifies_and_no_other_does():
    for size in range(1, 40):
        leaves = [leaf_hash(bytes([i, size])) for i in range(size)]
        tree = MerkleTree(leaves)
        for i in range(size):
            proof = tree.inclusion_proof(i)
            assert verify_inclusion(index=i, size=size, leaf=leaves[i], proof=proof,
                                    root=tree.root)
            other = (i + 1) % size
            assert size == 1 or not verify_inclusion(index=other, size=size, leaf=leaves[i],
                                                     proof=proof, root=tree.root)
            assert not verify_inclusion(index=i, size=size, leaf=leaf_hash(b"forged"),
                                        proof=proof, root=tree.root)
            assert not verify_inclusion(index=i, size=size, leaf=leaves[i], proof=proof[:-1],
                                        root=tree.root) or not proof


def test_checkpoint_note_format_round_trip_and_tamper():
    # Setup
    signer = generate_signer("synth-governance/test")
    leaves = [leaf_hash(d) for d in CT_LEAVES]
    # Run
    note = sign_checkpoint(signer=signer, leaves=leaves)
    cp = open_checkpoint(note, signer.verifier)
    # Assert: origin, size, base64 root, blank line, signature line.
    origin, size, root, blank, sig, end = note.split("\n")
    assert (origin, size, blank, end) == ("synth-governance/test", "8", "", "")
    assert base64.b64decode(root).hex() == CT_ROOTS[8] and sig.startswith(f"{EM_DASH} {origin} ")
    assert cp == Checkpoint(origin, 8, bytes.fromhex(CT_ROOTS[8]))
    assert parse_checkpoint(cp.text) == cp
    with pytest.raises(IntegrityError):
        open_checkpoint(note.replace("\n8\n", "\n9\n"), signer.verifier)
    other = generate_signer("synth-governance/other")
    with pytest.raises(IntegrityError):
        open_checkpoint(sign_checkpoint(signer=other, leaves=leaves), signer.verifier)


def test_checkpoint_detects_truncation_and_rewrite(gov: Governance):
    # Setup: a log of 6 events and its checkpoint.
    for i in range(6):
        with gov.session() as s:
            append_event(session=s, kind="run.requested", actor="a", subject=f"s{i}",
                         payload={"i": i})
    note = audit.write_checkpoint(gov)
    assert audit.verify(gov, checkpoint=note).ok
    # Run: delete the newest event and fix the head, so the chain alone still verifies.
    with gov.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM auditevent WHERE seq=6")
        conn.exec_driver_sql("UPDATE audithead SET seq=5, hash=(SELECT hash FROM auditevent "
                             "WHERE seq=5) WHERE id=1")
    truncated = audit.verify(gov, checkpoint=note)
    # Assert
    assert audit.verify(gov).ok
    assert not truncated.ok and "deleted" in truncated.reason
    # A log as long as the checkpoint's, but with another sixth event: rewritten.
    with gov.session() as s:
        rewritten = event_hashes(s, upto=5) + ["ab" * 32]
    cp = parse_checkpoint(note.split("\n\n")[0] + "\n")
    assert "rewritten" in check_log(cp, event_leaves(rewritten))
