r"""The audit log's hash chain: pure functions over canonical JSON.

Every event is hashed together with the hash of the event before it, so altering,
deleting, inserting or reordering any stored event breaks every hash after it.
A bare chain cannot detect the deletion of its newest events (the shorter chain is
still a valid chain) nor a wholesale rewrite; signed checkpoints (``audit.checkpoint``:
the tree size and Merkle root of the event hashes, signed with the installation's
Ed25519 key) close both gaps.

Hash of event ``n``::

    SHA-256( b"governance.audit.event.v1\x00" || prev_hash_bytes || canonical_json(body) )

where ``body`` holds ``seq``, ``created_at``, ``kind``, ``actor``, ``subject`` and
``payload``, and the genesis ``prev_hash`` is 32 zero bytes. The domain prefix keeps
event hashes from ever colliding with Merkle tree nodes or any other SHA-256 use.

A stored payload must be exactly ``canonical_json`` of its value: the verifier refuses
any other text for the same value (a duplicate key, spacing, key order, ``NaN``, a
character written as an escape), so one hashed event has one stored form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from governance.core.jsonsafe import NonCanonicalJSONError, canonical_json, canonical_text
from governance.core.types import Record

_loads = json.loads
_enc = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False).encode  # canonical_json of a parsed value

EVENT_DOMAIN = b"governance.audit.event.v1\x00"
GENESIS_HASH = "0" * 64


class EventLike(Protocol):
    """What ``verify_chain`` needs of a stored event (read-only)."""

    @property
    def seq(self) -> int: ...  # noqa: D102
    @property
    def created_at(self) -> str: ...  # noqa: D102
    @property
    def kind(self) -> str: ...  # noqa: D102
    @property
    def actor(self) -> str: ...  # noqa: D102
    @property
    def subject(self) -> str: ...  # noqa: D102
    @property
    def payload(self) -> str: ...  # noqa: D102
    @property
    def prev_hash(self) -> str: ...  # noqa: D102
    @property
    def hash(self) -> str: ...  # noqa: D102


def event_body(
    *, seq: int, created_at: str, kind: str, actor: str, subject: str, payload: Any
) -> dict[str, Any]:
    """The hashed content of one event (``payload`` as a JSON value, not text)."""
    return {
        "seq": seq, "created_at": created_at, "kind": kind, "actor": actor,
        "subject": subject, "payload": payload,
    }


def hash_event(prev_hash: str, body: Mapping[str, Any]) -> str:
    """Chain one event onto ``prev_hash``.

    >>> h = hash_event(GENESIS_HASH, event_body(seq=1, created_at="t", kind="k",
    ...                actor="a", subject="s", payload={}))
    >>> len(h), h == hash_event(GENESIS_HASH, dict(event_body(seq=1, created_at="t",
    ...                kind="k", actor="a", subject="s", payload={})))
    (64, True)
    """
    return hashlib.sha256(
        EVENT_DOMAIN + bytes.fromhex(prev_hash) + canonical_json(body)
    ).hexdigest()


class ChainReport(Record):
    """Outcome of verifying a chain; ``first_bad_seq`` is None when it is intact."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None


def verify_chain(events: Iterable[EventLike]) -> ChainReport:
    """Recompute every hash in order and report the first event that does not fit.

    Events must come ordered by ``seq``; the chain must start at 1 with no gaps.

    Notes:
        Speed: each event is first checked on a fast path: ``json.loads`` and the C
        encoder confirm that the stored payload is the canonical text of its value,
        then the body is hashed around that text as it is. Only when that fails does
        ``check_event`` run, which gives the verdict and the reason.
    """
    prev, prev_bytes, expected_seq, checked = GENESIS_HASH, bytes(32), 1, 0
    for ev in events:
        digest = _fast_digest(ev, expected_seq, prev, prev_bytes)
        if digest is None:
            bad = _check_one(ev, expected_seq, prev)
            if bad is not None:
                first_bad = expected_seq if ev.seq != expected_seq else ev.seq
                return ChainReport(ok=False, checked=checked, head_seq=expected_seq - 1,
                                   head_hash=prev, first_bad_seq=first_bad, reason=bad)
            prev_bytes = bytes.fromhex(ev.hash)
        else:
            prev_bytes = digest
        prev, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
    return ChainReport(ok=True, checked=checked, head_seq=expected_seq - 1, head_hash=prev)


_BODY = ('{"actor":%s,"created_at":%s,"kind":%s,"payload":%s,"seq":%d,"subject":%s}')


def _fast_digest(ev: EventLike, expected_seq: int, prev: str, prev_bytes: bytes) -> bytes | None:
    """The event's digest when it verifies on the fast path, else None (not a verdict)."""
    seq, payload = ev.seq, ev.payload
    if (type(seq) is not int or seq != expected_seq or ev.prev_hash != prev
            or type(payload) is not str):
        return None
    fields = (ev.actor, ev.created_at, ev.kind, ev.subject)
    if not all(type(f) is str for f in fields):
        return None
    try:  # the stored text must be the one canonical encoding of its own value
        if _canonical(_loads(payload)) != payload:
            return None
    except ValueError:
        return None
    text = _BODY % (_enc(ev.actor), _enc(ev.created_at), _enc(ev.kind), payload, seq,
                    _enc(ev.subject))
    h = hashlib.sha256(EVENT_DOMAIN + prev_bytes + text.encode("utf-8"))
    return h.digest() if h.hexdigest() == ev.hash else None


def _check_one(ev: EventLike, expected_seq: int, prev: str) -> str | None:
    if ev.seq != expected_seq:
        return (f"event {expected_seq} is missing or out of place: found event {ev.seq} "
                "(deletion, insertion or reorder)")
    if ev.prev_hash != prev:
        return f"event {ev.seq} does not point at the hash of event {ev.seq - 1}"
    return check_event(ev)


def check_event(ev: EventLike) -> str | None:
    """Whether one event's content matches its own hash, given its ``prev_hash``.

    The stored payload must be byte for byte the canonical JSON of its value: a
    re-encoded payload (duplicate key, spacing, key order, ``NaN``, escaped characters)
    is refused even when its value is unchanged, so no two texts can stand for one
    hashed event. Returns None when the event is sound, else the reason.
    """
    seq = ev.seq
    if not isinstance(ev.payload, str):
        return f"event {seq} has a payload that is not JSON text (altered)"
    try:
        payload = canonical_text(ev.payload)
    except NonCanonicalJSONError as exc:
        return f"event {seq} has a payload that is not canonical JSON: {exc} (altered)"
    except ValueError:
        return f"event {seq} has a payload that is not valid JSON (altered)"
    body = event_body(seq=seq, created_at=ev.created_at, kind=ev.kind, actor=ev.actor,
                      subject=ev.subject, payload=payload)
    try:
        recomputed = hash_event(ev.prev_hash, body)
    except (TypeError, ValueError):
        return f"event {seq} has a malformed hash field"
    if recomputed != ev.hash:  # public values: no need for a constant-time compare
        return f"event {seq} was altered: its content no longer matches its hash"
    return None
