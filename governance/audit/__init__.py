"""The tamper-evident audit log as pure functions: hash chain, event kinds, checkpoints."""

from governance.audit.chain import (
    GENESIS_HASH,
    ChainReport,
    canonical_json,
    check_checkpoint,
    hash_event,
    sign_checkpoint,
    verify_chain,
)
from governance.audit.events import EVENT_KINDS, EventKind

__all__ = [
    "EVENT_KINDS",
    "GENESIS_HASH",
    "EventKind",
    "ChainReport",
    "canonical_json",
    "check_checkpoint",
    "hash_event",
    "sign_checkpoint",
    "verify_chain",
]
