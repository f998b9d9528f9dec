"""The tamper-evident audit log as pure functions: hash chain, event kinds, checkpoints."""

from governance.audit.chain import (
    GENESIS_HASH,
    ChainReport,
    check_checkpoint,
    hash_event,
    sign_checkpoint,
    verify_chain,
)
from governance.audit.events import EVENT_KINDS, EventKind
from governance.core.jsonsafe import canonical_json

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
