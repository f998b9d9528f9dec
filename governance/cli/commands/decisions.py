"""``govern approve``, ``reject`` and ``revoke``: decisions on candidates and releases.

Each acts as the holder of the caller's API key (``--key-file`` or
``GOVERNANCE_API_KEY``), checked by the permission module the API uses; a name given
with ``--as`` is refused, since a name is not a credential.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from governance.cli.common import AsRefused, KeyFileOpt, acting_key, open_governance, refuse_as
from governance.cli.output import JsonOpt, emit_json, out
from governance.core.types import ReleaseStatus
from governance.schemas.releases import DecisionOutcomePublic, DecisionPublic, ReleasePublic
from governance.services import permissions
from governance.services.releases import record_decision, revoke_release


def _decide(candidate: str, key_file: Path | None, decision: str, reason: str,
            json_: bool) -> None:
    gov = open_governance()
    with gov.session() as s:
        actor = acting_key(s, key_file, permissions.DECIDE)
        outcome = record_decision(session=s, candidate_id=candidate, actor=actor,
                                  decision=decision, reason=reason)
        rel = outcome.release or outcome.pending_release
        doc = DecisionOutcomePublic(decision=DecisionPublic.from_row(outcome.decision),
                                    approvals=outcome.approvals, quorum=outcome.quorum,
                                    release=ReleasePublic.from_row(rel) if rel else None)
    if json_:
        emit_json(doc)
    elif doc.release is not None and doc.release.status == ReleaseStatus.ACTIVE:
        out.print(f"{decision}d as {actor.name}; quorum reached: release {doc.release.id}")
    else:
        out.print(f"{decision}d as {actor.name} ({doc.approvals} of {doc.quorum} approvals)")


def approve(candidate: Annotated[str, typer.Argument()], key_file: KeyFileOpt = None,
            reason: str = "", as_: AsRefused = None, json_: JsonOpt = False) -> None:
    """Approve a candidate as the holder of your API key."""
    refuse_as(as_)
    _decide(candidate, key_file, "approve", reason, json_)


def reject(candidate: Annotated[str, typer.Argument()], key_file: KeyFileOpt = None,
           reason: str = "", as_: AsRefused = None, json_: JsonOpt = False) -> None:
    """Reject a candidate as the holder of your API key."""
    refuse_as(as_)
    _decide(candidate, key_file, "reject", reason, json_)


def revoke(release: Annotated[str, typer.Argument()],
           reason: Annotated[str, typer.Option(help="Shown to consumers.")],
           key_file: KeyFileOpt = None, as_: AsRefused = None, json_: JsonOpt = False) -> None:
    """Revoke a release as the holder of your API key; later downloads get 410."""
    refuse_as(as_)
    gov = open_governance()
    with gov.session() as s:
        actor = acting_key(s, key_file, permissions.DECIDE)
        rel = revoke_release(session=s, release_id=release, actor=actor, reason=reason)
        doc = ReleasePublic.from_row(rel)
    emit_json(doc) if json_ else out.print(f"release {release} revoked by {actor.name}")


def register(app: typer.Typer) -> None:
    """Add the decision commands to the top-level app."""
    app.command("approve")(approve)
    app.command("reject")(reject)
    app.command("revoke")(revoke)
