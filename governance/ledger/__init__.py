"""The tamper-evident audit log: hash chain, appends, checkpoints."""

from governance.ledger.chain import (
    GENESIS_HASH,
    ChainReport,
    canonical_json,
    check_checkpoint,
    hash_event,
    sign_checkpoint,
    verify_chain,
)
from governance.ledger.events import EVENT_KINDS, append_event, iter_events, verify_log
from governance.ledger.openlineage import emit_dataset_event, emit_run_event

__all__ = [
    "EVENT_KINDS",
    "GENESIS_HASH",
    "ChainReport",
    "append_event",
    "canonical_json",
    "check_checkpoint",
    "emit_dataset_event",
    "emit_run_event",
    "hash_event",
    "iter_events",
    "sign_checkpoint",
    "verify_chain",
    "verify_log",
]
