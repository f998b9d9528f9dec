"""``govern approve``, ``reject`` and ``revoke``: decisions on candidates and releases."""

from __future__ import annotations

from typing import Annotated

import typer

from governance.cli.common import live_key, open_governance
from governance.cli.output import JsonOpt, emit_json, out
from governance.core.types import ReleaseStatus
from governance.schemas.releases import DecisionOutcomePublic, DecisionPublic, ReleasePublic
from governance.services.releases import record_decision, revoke_release

AsApprover = Annotated[str, typer.Option("--as", help="Approver's API key name.")]


def _decide(candidate: str, actor: str, decision: str, reason: str, json_: bool) -> None:
    gov = open_governance()
    with gov.session() as s:
        outcome = record_decision(session=s, candidate_id=candidate, actor=live_key(s, actor),
                                  decision=decision, reason=reason)
        rel = outcome.release or outcome.pending_release
        doc = DecisionOutcomePublic(decision=DecisionPublic.from_row(outcome.decision),
                                    approvals=outcome.approvals, quorum=outcome.quorum,
                                    release=ReleasePublic.from_row(rel) if rel else None)
    if json_:
        emit_json(doc)
    elif doc.release is not None and doc.release.status == ReleaseStatus.ACTIVE:
        out.print(f"{decision}d; quorum reached: release {doc.release.id}")
    else:
        out.print(f"{decision}d ({doc.approvals} of {doc.quorum} approvals)")


def approve(candidate: Annotated[str, typer.Argument()], as_: AsApprover,
            reason: str = "", json_: JsonOpt = False) -> None:
    """Approve a candidate as the named approver."""
    _decide(candidate, as_, "approve", reason, json_)


def reject(candidate: Annotated[str, typer.Argument()], as_: AsApprover,
           reason: str = "", json_: JsonOpt = False) -> None:
    """Reject a candidate as the named approver."""
    _decide(candidate, as_, "reject", reason, json_)


def revoke(release: Annotated[str, typer.Argument()],
           as_: Annotated[str, typer.Option("--as", help="Approver's or admin's key name.")],
           reason: Annotated[str, typer.Option(help="Shown to consumers.")],
           json_: JsonOpt = False) -> None:
    """Revoke a release; later downloads get 410 with the reason."""
    gov = open_governance()
    with gov.session() as s:
        rel = revoke_release(session=s, release_id=release, actor=live_key(s, as_),
                             reason=reason)
        doc = ReleasePublic.from_row(rel)
    emit_json(doc) if json_ else out.print(f"release {release} revoked")


def register(app: typer.Typer) -> None:
    """Add the decision commands to the top-level app."""
    app.command("approve")(approve)
    app.command("reject")(reject)
    app.command("revoke")(revoke)
