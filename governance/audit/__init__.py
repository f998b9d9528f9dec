"""The tamper-evident audit log as pure functions: hash chain, checkpoints, bundles."""

from governance.audit.chain import GENESIS_HASH, ChainReport, check_event, hash_event, verify_chain
from governance.audit.checkpoint import Checkpoint, check_log, open_checkpoint, sign_checkpoint
from governance.audit.events import EVENT_KINDS, EventKind
from governance.audit.note import Signer, Verifier, open_note, sign_note
from governance.core.jsonsafe import canonical_json

__all__ = [
    "EVENT_KINDS",
    "GENESIS_HASH",
    "ChainReport",
    "Checkpoint",
    "EventKind",
    "Signer",
    "Verifier",
    "canonical_json",
    "check_event",
    "check_log",
    "hash_event",
    "open_checkpoint",
    "open_note",
    "sign_checkpoint",
    "sign_note",
    "verify_chain",
]
