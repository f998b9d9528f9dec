"""The audit log as the CLI and API use it: verify, checkpoint, page through events."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, col, select

from governance.audit.bundle import BundleReport, verify_bundle
from governance.audit.chain import ChainReport
from governance.audit.checkpoint import (
    check_log,
    event_leaves,
    open_checkpoint,
    sign_checkpoint,
)
from governance.audit.note import Verifier
from governance.core.config import Settings
from governance.core.errors import IntegrityError
from governance.core.types import Record
from governance.schemas.audit import EventPublic, EventsPublic
from governance.services.context import Governance
from governance.services.signing import installation_signer, installation_verifier
from governance.store.auditlog import event_hashes, verify_log
from governance.store.models import AuditEvent

__all__ = ["BundleReport", "ChainReport", "PublicKey", "check_bundle", "events_page",
           "public_key", "verify", "write_checkpoint"]


def verify(gov: Governance, *, checkpoint: str | bytes | None = None,
           verifier: Verifier | None = None) -> ChainReport:
    """Verify the whole chain, and against a signed checkpoint when one is given.

    The checkpoint's signature is checked with ``verifier`` (default: this
    installation's key); then the first ``size`` events must hash to its root.
    """
    with gov.session() as s:
        report = verify_log(s)
        if checkpoint is None or not report.ok:
            return report
        reason = _against(s, report, checkpoint, verifier or installation_verifier(gov.settings))
    if reason:
        report = report.model_copy(update={"ok": False, "reason": reason})
    return report


def _against(s: Session, report: ChainReport, note: str | bytes, verifier: Verifier) -> str | None:
    try:
        cp = open_checkpoint(note, verifier)
    except IntegrityError as exc:
        return f"the checkpoint does not verify: {exc.message}"
    return check_log(cp, event_leaves(event_hashes(s, upto=report.head_seq)))


def write_checkpoint(gov: Governance) -> str:
    """A signed checkpoint (C2SP signed note) of the log's size and Merkle root.

    Raises:
        IntegrityError: the log does not verify (a broken log is never checkpointed).
    """
    signer = installation_signer(gov.settings)
    with gov.session() as s:
        report = verify_log(s)
        if not report.ok:
            raise IntegrityError(f"refusing to checkpoint a broken log: {report.reason}")
        leaves = event_leaves(event_hashes(s, upto=report.head_seq))
    return sign_checkpoint(signer=signer, leaves=leaves)


class PublicKey(Record):
    """The installation's audit-signing public key, as a note verifier key."""

    name: str
    key_id: str
    algorithm: str
    verifier_key: str


def public_key(gov: Governance) -> PublicKey:
    """The installation's public key (the key pair is created on first use)."""
    v = installation_signer(gov.settings).verifier
    return PublicKey(name=v.name, key_id=v.key_id.hex(), algorithm="Ed25519",
                     verifier_key=v.text)


def check_bundle(settings: Settings, path: Path, *, verifier: Verifier | None = None
                 ) -> BundleReport:
    """Verify an exported bundle against ``verifier`` or this installation's key.

    Needs no database: an auditor's machine passes the signer's public key.
    """
    return verify_bundle(path, verifier or installation_verifier(settings))


def events_page(gov: Governance, *, after: int, limit: int) -> EventsPublic:
    """Audit events with ``seq > after``, in order, at most ``limit``."""
    with gov.session() as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.seq > after)
                      .order_by(col(AuditEvent.seq)).limit(limit)).all()
    data = [EventPublic.from_row(e) for e in rows]
    return EventsPublic(data=data, count=len(data))


class Health(Record):
    """The service answers and so does its database."""

    status: str


def health(gov: Governance) -> Health:
    """Run ``SELECT 1`` on the database (raises if it does not answer)."""
    with gov.session() as session:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return Health(status="ok")
