"""Checkpoints of the audit log in the C2SP tlog-checkpoint format (a signed note).

The note text is three lines: the origin (the installation's key name), the number of
events, and the base64 RFC 6962 Merkle root over the event hashes (``merkle``)::

    synth-governance/3f2a9c1d0b7e4a55
    1042
    0vQp...=

    — synth-governance/3f2a9c1d0b7e4a55 Az3g...=

Kept somewhere the database's operators cannot write, a checkpoint lets a verifier
detect the deletion of the newest events and any rewrite of history up to its size.
Any tool that reads C2SP checkpoints (Go's ``sumdb/note``, the transparency-dev
libraries) can read these with the verifier key ``govern audit pubkey`` prints.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from governance.audit.merkle import MerkleTree, leaf_hash
from governance.audit.note import Signer, Verifier, check_name, open_note, sign_note
from governance.core.errors import InputError, IntegrityError


@dataclass(frozen=True)
class Checkpoint:
    """A log's origin, size and Merkle root."""

    origin: str
    size: int
    root: bytes

    @property
    def text(self) -> str:
        """The checkpoint's note text (what is signed)."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint's note text (extension lines are allowed and ignored).

    Raises:
        IntegrityError: when the text is not a checkpoint.
    """
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise IntegrityError("malformed checkpoint: it needs origin, size and root lines")
    origin, size, root = lines[0], lines[1], lines[2]
    try:
        check_name(origin)
        digest = base64.b64decode(root, validate=True)
    except (InputError, binascii.Error):
        raise IntegrityError("malformed checkpoint: bad origin or root hash") from None
    if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise IntegrityError("malformed checkpoint: the tree size is not a decimal number")
    if len(digest) != 32:
        raise IntegrityError("malformed checkpoint: the root hash is not 32 bytes")
    return Checkpoint(origin, int(size), digest)


def event_leaves(hashes: Iterable[str]) -> list[bytes]:
    """The Merkle leaves of events, from their hex hashes in sequence order."""
    return [leaf_hash(bytes.fromhex(h)) for h in hashes]


def sign_checkpoint(*, signer: Signer, leaves: Sequence[bytes]) -> str:
    """The signed checkpoint of a log with these leaves; the origin is the key's name."""
    cp = Checkpoint(signer.name, len(leaves), MerkleTree(leaves).root)
    return sign_note(cp.text, signer)


def open_checkpoint(note: str | bytes, verifier: Verifier) -> Checkpoint:
    """The checkpoint in a signed note, once its signature checks out.

    Raises:
        IntegrityError: a bad signature, another log's origin, or not a checkpoint.
    """
    cp = parse_checkpoint(open_note(note, [verifier]))
    if cp.origin != verifier.name:
        raise IntegrityError(f"the checkpoint is of log {cp.origin!r}, not {verifier.name!r}")
    return cp


def check_log(cp: Checkpoint, leaves: Sequence[bytes]) -> str | None:
    """Return None when a log with ``leaves`` extends the checkpoint, else the reason."""
    if len(leaves) < cp.size:
        return (f"the log has {len(leaves)} events but the checkpoint saw {cp.size}: "
                "the newest events were deleted")
    if MerkleTree(leaves[:cp.size]).root != cp.root:
        return (f"the log's first {cp.size} events no longer hash to the checkpointed root: "
                "history was rewritten")
    return None


__all__ = ["Checkpoint", "check_log", "event_leaves", "open_checkpoint", "parse_checkpoint",
           "sign_checkpoint"]
